"""营口市人民政府 — 政府会议 column of the 2017 TRS-era static site (GBK pages)."""

import re

from crawler.cms.base import ArticleSelectors, Entry, MeetingSpider

# createPageHTML(<page count>, <0-based current page>, "index", "html") writes the pager.
_PAGER_RE = re.compile(r"createPageHTML\((\d+),\s*(\d+)")


class YingkouSpider(MeetingSpider):
    name = "yingkou"
    allowed_domains = ["www.yingkou.gov.cn"]
    start_urls = ["http://www.yingkou.gov.cn/xxgk/zfhy/"]
    article = ArticleSelectors(
        title="td#ivs_title",
        header=("td.detail_info",),
        body="td#Zoom p",
        breadcrumb="div.position",
        attachments=("td#Zoom a", "#appendix a"),
    )

    def parse(self, response):
        entries = (
            Entry(url=li.css("a::attr(href)").get(), title=li.css("a::attr(title)").get() or li.css("a::text").get(),
                  date=li.css("span.date::text").get())
            for li in response.css("div.list_con ul li")
            if li.css("a::attr(href)")
        )
        yield from self.follow_entries(response, entries)
        m = _PAGER_RE.search(response.text)
        if m:
            count, current = int(m.group(1)), int(m.group(2))
            if current + 1 < count:
                yield self.listing_request(response.urljoin(f"index_{current + 1}.html"))
