"""烟台市莱山区人民政府 — 区政府会议 column on Hanweb JCMS."""

from crawler.cms.base import MeetingSpider
from crawler.cms.jcms import JcmsColumn


class LaishanSpider(MeetingSpider):
    name = "laishan"
    allowed_domains = ["www.ytlaishan.gov.cn"]
    start_urls = ["http://www.ytlaishan.gov.cn/col/col53951/index.html"]
    generations = (JcmsColumn(),)
