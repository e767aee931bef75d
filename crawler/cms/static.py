"""Static list pages (the TRS-era generation): entries in the HTML, a pager to the next page.

The pager is read in any of the forms these sites print: TRS's ``createPageHTML(count, current,
"index", "html")`` script (no link in the HTML: page N is ``index_N.html``), a ``下一页`` link
with a real ``href``, or a ``下一页`` element naming its target in ``tagname``.  A portal on
this generation configures where its entries are (``list_items``, ``list_date``); the article
templates below are those these sites are known to use.
"""

from __future__ import annotations

import re

from .base import ArticleSelectors, Entry
from .generation import Generation

_CREATE_PAGE_RE = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"']([^\"']+)[\"']\s*,\s*[\"']([^\"']+)[\"']")
_NEXT_TEXT = "下一页"
_NEXT_HREF = f'//a[normalize-space()="{_NEXT_TEXT}" or normalize-space(@title)="{_NEXT_TEXT}"]'


def next_page_href(response) -> str | None:
    """The next listing page as the pager names it, or None on the last page."""
    m = _CREATE_PAGE_RE.search(response.text)
    if m:
        count, current, stem, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        return f"{stem}_{current + 1}.{ext}" if current + 1 < count else None
    for a in response.xpath(_NEXT_HREF):
        href = (a.attrib.get("href") or "").strip()
        if href and not href.startswith(("javascript:", "#")):
            return href
        target = (a.attrib.get("tagname") or "").strip()
        if target and not target.startswith(("javascript:", "#")):
            return target
    return None


class StaticList(Generation):
    name = "static"
    list_items = "ul.news-list > li"  # CSS of one entry node; its first `a` is the article link
    list_date = "span.date::text"  # CSS (relative to the entry) of the printed date
    looks_for = "entries in the page's HTML"
    articles = (
        # The 2017 TRS template (yingkou): a table layout, GBK pages.
        ArticleSelectors(
            title="td#ivs_title",
            header=("td.detail_info",),
            body="td#Zoom p",
            breadcrumb="div.position",
            attachments=("td#Zoom a", "#appendix a"),
        ),
        # The county CMS template (beipiao, 2021).
        ArticleSelectors(
            title="div.article h1.article-title",
            header=("div.article-info",),
            body="div#zoom p",
            breadcrumb="div.location",
            attachments=("div#zoom a",),
        ),
    )

    def __init__(self, **config):
        super().__init__(**config)
        self.looks_for = f"entries `{self.list_items}` with a link"

    def recognise(self, response) -> bool:
        return bool(response.css(self.list_items).css("a[href]"))

    def start(self, spider, response):
        return self.page(spider, response)

    def page(self, spider, response):
        yield from spider.follow_entries(response, self.entries(response))
        href = next_page_href(response)
        if href:
            yield self.request(spider, response.urljoin(href), "page")

    def entries(self, response):
        for node in response.css(self.list_items):
            link = node.css("a[href]")[:1]
            if link:
                # @title holds the full title; the anchor text is often cut with "...".
                title = link.attrib.get("title") or link.xpath("string()").get()
                yield Entry(url=link.attrib["href"], title=title, date=node.css(self.list_date).get())
