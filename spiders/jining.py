"""齐鲁网济宁频道 — 济宁要闻 channel (`/jnyaowen/`), static `.shtml` pages."""

import re

from crawler.cms.base import ArticleSelectors, Entry, MeetingSpider

# County-level places of Jining: their news is listed in the channel but is not about
# meetings of the city government.
_LOCAL_AREAS = "任城|兖州|曲阜|邹城|微山|鱼台|金乡|嘉祥|汶上|泗水|梁山|高新区|太白湖|经开区|北湖"


class JiningSpider(MeetingSpider):
    name = "jining"
    allowed_domains = ["jining.iqilu.com", "jining.mirror.example"]
    start_urls = ["http://jining.iqilu.com/jnyaowen/"]
    # A third-party mirror serves the same pages in Traditional characters with pinyin.
    alias_hosts = {"jining.mirror.example": "jining.iqilu.com"}
    skip_titles = (("local_news", re.compile(rf"^(?:济宁)?(?:{_LOCAL_AREAS})")),)
    article = ArticleSelectors(
        title="div.article-main h1",
        header=("div.article-main div.info span.source",),
        published="div.article-main div.info span.time",
        body="div#context p",
        breadcrumb="div.crumbs",
        attachments=("div#context a",),
    )

    def parse(self, response):
        entries = (
            Entry(url=li.css("a::attr(href)").get(), title=li.css("a::attr(title)").get() or li.css("a::text").get(),
                  date=li.css("span.time::text").get())
            for li in response.css("ul.news-list.type-a > li")
            if li.css("a::attr(href)")
        )
        yield from self.follow_entries(response, entries)
        next_page = response.xpath('//div[@id="pages"]//a[normalize-space()="下一页"]/@href').get()
        if next_page:
            yield self.listing_request(response.urljoin(next_page))
