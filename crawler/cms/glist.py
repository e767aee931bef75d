"""The province platform of Liaoning's counties and cities (beipiao today): ``…/glist.html`` lists.

Known from the platform's sites (bp.gov.cn, chaoyang.gov.cn, lnjp.gov.cn, dandong.gov.cn): a
column lists at ``…/glist.html`` under the site's own paths, one ``<li><a href>title</a> … date
…</li>`` row per entry, the date printed anywhere in the row outside the link; the next page
is the ``下一页`` link, a plain ``href`` on some pages and only a ``tagname`` attribute on
others (``static.next_page_href`` reads both).  Article pages print a ``发布时间：`` line
beside a ``【字体：大 中 小】`` control.  Dated rows are on many list pages, so a page is taken
for the platform's when it also is a ``glist`` page or pages with ``tagname`` links.

Not known: the article page's layout.  The template below is the replica's invention
(``docs/replica.md``, "glist"): replace it when a real page is seen.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from crawler.extract import dates, text

from .base import ArticleSelectors, Entry
from .generation import Generation
from .static import next_page_href


class Glist(Generation):
    name = "glist"
    # Dated rows are on many a list page: the platform's are at …/glist.html or page with
    # `tagname` links.  Before the generic static list, after the generations with a script.
    recognition_order = 85
    # CSS of a candidate row; rows are those holding a link and, outside it, a printed date,
    # so the site's menus (links without dates) are not entries.
    rows = "li"
    looks_for = "`li` rows holding a link and a printed date, on a `…/glist.html` page or with a `tagname` pager"
    articles = (
        # Invented (no real article page of the platform was found): title, an info line with
        # 发布时间/来源 and the 【字体】 control, the body, a location trail.
        ArticleSelectors(
            title="div.detail h1.detail-title",
            header=("div.detail div.detail-info",),
            body="div.detail div.detail-content p",
            breadcrumb="div.position",
            attachments=("div.detail div.detail-content a",),
        ),
    )

    def recognise(self, response) -> bool:
        if next(iter(self.entries(response)), None) is None:
            return False
        page = urlsplit(response.url).path.rsplit("/", 1)[-1]
        return page.startswith("glist") or bool(response.xpath("//a[@tagname]"))

    def parameters(self, response) -> dict:
        return {"rows": self.rows, "next_page": next_page_href(response)}

    def start(self, spider, response):
        return self.page(spider, response)

    def page(self, spider, response):
        yield from spider.follow_entries(response, self.entries(response))
        href = next_page_href(response)
        if href:
            yield self.request(spider, response.urljoin(href), "page")

    def entries(self, response):
        for row in response.css(self.rows):
            if row.xpath(".//li"):
                continue  # a menu holding rows, not a row
            link = next((a for a in row.css("a[href]")
                         if not a.attrib["href"].strip().startswith(("javascript:", "#"))), None)
            if link is None:
                continue
            date = dates.printed_date(" ".join(row.xpath(".//text()[not(ancestor::a)]").getall()))
            if date is None:
                continue
            # @title holds the full title where the anchor text is cut with "...".
            title = link.attrib.get("title") or link.xpath("string()").get()
            yield Entry(url=link.attrib["href"].strip(), title=text.collapse(title), date=date)
