"""北票市人民政府 — 政策解读 column (`/html/BPSZF/zcjd/`), a static list with a plain pager."""

from crawler.cms.base import ArticleSelectors, Entry, MeetingSpider


class BeipiaoSpider(MeetingSpider):
    name = "beipiao"
    allowed_domains = ["www.bp.gov.cn"]
    start_urls = ["http://www.bp.gov.cn/html/BPSZF/zcjd/index.html"]
    article = ArticleSelectors(
        title="div.article h1.article-title",
        header=("div.article-info",),
        body="div#zoom p",
        breadcrumb="div.location",
        attachments=("div#zoom a",),
    )

    def parse(self, response):
        entries = (
            Entry(url=li.css("a::attr(href)").get(), title=li.css("a::attr(title)").get() or li.css("a::text").get(),
                  date=li.css("span.date::text").get())
            for li in response.css("ul.news-list > li")
            if li.css("a::attr(href)")
        )
        yield from self.follow_entries(response, entries)
        next_page = response.css("div.pagination a.page-next::attr(href)").get()
        if next_page:
            yield self.listing_request(response.urljoin(next_page))
