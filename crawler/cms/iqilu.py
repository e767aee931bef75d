"""iqilu 齐鲁网 city channels: static ``.shtml`` lists, ``list_<catid>_<n>.shtml`` pages.

Two templates, told apart by what a listing page serves:

* 2017: the channel lists in ``ul.news-list.type-a`` (the sidebars, 热点推荐 and 排行榜, are
  lists too) with a ``下一页`` link in ``#pages``; articles put the body in ``#context``.
* 2020 (jining and news.iqilu.com today): the links sit under ``div.mod-list``, and articles
  take either URL shape, ``/<channel>/<YYYY>/<MMDD>/<id>.shtml`` or
  ``/<channel>/<YYYYMMDD>/<id>.shtml``, on the same list.  A row may link its article twice
  (a thumbnail, then the title).  Articles: title ``div.section-cnt-tit > h1``, time
  ``p.time``, source and author in the ``span`` after their labels, body ``div.article-main``.

The 2017 list sits inside a ``div.mod-list`` as well, so a spider names ``Iqilu2017`` first:
its test, ``ul.news-list.type-a``, is the narrower one.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from crawler.extract import dates, text

from .base import ArticleSelectors, Entry
from .static import StaticList

# Both article URL shapes of the 2020 template: `/<YYYY>/<MMDD>/<id>.shtml`, `/<YYYYMMDD>/<id>.shtml`.
_ARTICLE_PATH_RE = re.compile(r"/(?:\d{4}/\d{4}|\d{8})/\d+\.shtml$")


class Iqilu2017(StaticList):
    name = "iqilu2017"
    recognition_order = 80
    list_items = "ul.news-list.type-a > li"
    list_date = "span.time::text"
    articles = (
        ArticleSelectors(
            title="div.article-main h1",
            header=("div.article-main div.info span.source",),
            published="div.article-main div.info span.time",
            body="div#context p",
            breadcrumb="div.crumbs",
            attachments=("div#context a",),
        ),
    )


class Iqilu2020(StaticList):
    name = "iqilu2020"
    recognition_order = 81  # the 2017 lists are inside a div.mod-list too: after Iqilu2017
    list_items = "div.mod-list"  # CSS of the list's container; its article links are the entries
    articles = (
        ArticleSelectors(
            title="div.section-cnt-tit > h1",
            published="p.time",
            source="p.resource > span",
            author="p.author > span",
            body="div.article-main p",
            attachments=("div.article-main a",),
        ),
    )

    def __init__(self, **config):
        super().__init__(**config)
        self.looks_for = (f"links to `/<channel>/<YYYY>/<MMDD>/<id>.shtml` or `/<channel>/<YYYYMMDD>/<id>.shtml` "
                          f"articles under `{self.list_items}`")

    def recognise(self, response) -> bool:
        return next(iter(self.entries(response)), None) is not None

    def entries(self, response, css: str | None = None):
        found: dict[str, list] = {}  # URL → [title, date], in the order the page first links it
        for a in response.css(css or self.list_items).css("a[href]"):
            href = a.attrib["href"].strip()
            if not _ARTICLE_PATH_RE.search(urlsplit(response.urljoin(href)).path):
                continue
            url = response.urljoin(href)
            # A thumbnail link has no text: the title comes from the row's titled link.
            title = text.collapse(a.attrib.get("title") or a.xpath("string()").get())
            entry = found.setdefault(url, ["", None])
            entry[0] = entry[0] or title
            if entry[1] is None:
                # The row's date, outside its links (a title may hold a date of its own).
                entry[1] = dates.printed_date(" ".join(a.xpath("ancestor::li[1]//text()[not(ancestor::a)]").getall()))
        for url, (title, date) in found.items():
            yield Entry(url=url, title=title, date=date)
