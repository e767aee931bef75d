"""营口市站前区人民政府 — 政府会议 category of the Epoint info-disclosure platform."""

from crawler.cms.base import MeetingSpider
from crawler.cms.epoint import EpointList


class ZhanqianSpider(MeetingSpider):
    name = "zhanqian"
    allowed_domains = ["www.ykzq.gov.cn"]
    start_urls = ["http://www.ykzq.gov.cn/govxxgk/zqqrmzf/openlist.html?categorynum=001003005"]
    generations = (EpointList(),)
