"""iqilu 齐鲁网 city channels: static ``.shtml`` lists, ``list_<catid>_<n>.shtml`` pages.

The 2017 template lists a channel in ``ul.news-list.type-a`` (the sidebars, 热点推荐 and
排行榜, are lists too) with a ``下一页`` link in ``#pages``; its articles put the body in
``#context``.
"""

from __future__ import annotations

from .base import ArticleSelectors
from .static import StaticList


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
