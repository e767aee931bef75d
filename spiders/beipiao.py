"""北票市人民政府 — 政策解读 column (`/html/BPSZF/zcjd/`), a static list with a plain pager; today's
columns are on the province platform's `…/glist.html` lists (`-a start=<the column's glist URL>`)."""

from crawler.cms.base import MeetingSpider
from crawler.cms.glist import Glist
from crawler.cms.static import StaticList


class BeipiaoSpider(MeetingSpider):
    name = "beipiao"
    allowed_domains = ["www.bp.gov.cn"]
    start_urls = ["http://www.bp.gov.cn/html/BPSZF/zcjd/index.html"]
    generations = (StaticList(list_items="ul.news-list > li", list_date="span.date::text"), Glist())
