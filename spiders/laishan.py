"""烟台市莱山区人民政府 — 区政府会议: the classic JCMS column (archive) or today's JPAAS site."""

from crawler.cms.base import MeetingSpider
from crawler.cms.jcms import JcmsColumn
from crawler.cms.jpaas import Jpaas


class LaishanSpider(MeetingSpider):
    name = "laishan"
    allowed_domains = ["www.ytlaishan.gov.cn"]
    start_urls = ["http://www.ytlaishan.gov.cn/col/col53951/index.html"]
    generations = (JcmsColumn(), Jpaas())
