"""营口市人民政府 — the 政府会议 column of the 2017 TRS-era static site (GBK pages), and any
column of today's Epoint WebBuilder site (``/dynamic/zw/openlist.html?categorynum=…``)."""

from crawler.cms.base import MeetingSpider
from crawler.cms.epoint import EpointList
from crawler.cms.static import StaticList


class YingkouSpider(MeetingSpider):
    name = "yingkou"
    allowed_domains = ["www.yingkou.gov.cn"]
    start_urls = ["http://www.yingkou.gov.cn/xxgk/zfhy/"]
    generations = (StaticList(list_items="div.list_con ul li", list_date="span.date::text"), EpointList())
