"""北票市人民政府 — 政策解读 column (`/html/BPSZF/zcjd/`), a static list with a plain pager."""

from crawler.cms.base import ArticleSelectors
from crawler.cms.static import StaticListSpider


class BeipiaoSpider(StaticListSpider):
    name = "beipiao"
    allowed_domains = ["www.bp.gov.cn"]
    start_urls = ["http://www.bp.gov.cn/html/BPSZF/zcjd/index.html"]
    list_items = "ul.news-list > li"
    list_date = "span.date::text"
    # On the last page 下一页 is a disabled <span>, not a link.
    next_page_xpath = '//div[@class="pagination"]/a[contains(@class, "page-next")]/@href'
    article = ArticleSelectors(
        title="div.article h1.article-title",
        header=("div.article-info",),
        body="div#zoom p",
        breadcrumb="div.location",
        attachments=("div#zoom a",),
    )
