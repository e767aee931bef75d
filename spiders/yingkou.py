"""营口市人民政府 — 政府会议 column of the 2017 TRS-era static site (GBK pages)."""

import re

from crawler.cms.base import ArticleSelectors
from crawler.cms.static import StaticListSpider

# createPageHTML(<page count>, <0-based current page>, "index", "html") writes the pager at
# run time; the HTML holds no link to the next page.
_PAGER_RE = re.compile(r"createPageHTML\((\d+),\s*(\d+)")


class YingkouSpider(StaticListSpider):
    name = "yingkou"
    allowed_domains = ["www.yingkou.gov.cn"]
    start_urls = ["http://www.yingkou.gov.cn/xxgk/zfhy/"]
    list_items = "div.list_con ul li"
    list_date = "span.date::text"
    article = ArticleSelectors(
        title="td#ivs_title",
        header=("td.detail_info",),
        body="td#Zoom p",
        breadcrumb="div.position",
        attachments=("td#Zoom a", "#appendix a"),
    )

    def next_page_url(self, response):
        m = _PAGER_RE.search(response.text)
        if m:
            count, current = int(m.group(1)), int(m.group(2))
            if current + 1 < count:
                return f"index_{current + 1}.html"
        return None
