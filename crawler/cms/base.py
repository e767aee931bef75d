"""The base of every portal spider: listing entries → article requests → one raw item.

A portal spider says *where* things are (hosts, entry URLs, selectors, its pager); what the
text means is decided once, in ``crawler.extract`` and the processing pipelines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone, timedelta
from typing import Iterable
from urllib.parse import urljoin, urlsplit, urlunsplit

import scrapy

from crawler.extract import links, meeting, text
from crawler.items import MeetingItem

BEIJING = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Entry:
    """One entry of a listing: where it links, its full title, its date as printed."""

    url: str
    title: str
    date: str | None = None


@dataclass(frozen=True)
class ArticleSelectors:
    """CSS selectors of an article page's regions.

    ``header`` regions hold ``label:value`` lines (来源, 作者, 发布时间, 索引号 …);
    ``published`` is a region holding only the publication time, where a page prints it
    without a label; ``body`` selects the paragraph nodes; ``attachments`` the anchors that
    may link files.  Meta tags (``ArticleTitle``, ``PubDate``, ``ContentSource``) fill what
    the visible page leaves empty.
    """

    title: str
    body: str
    header: tuple[str, ...] = ()
    published: str | None = None
    breadcrumb: str | None = None
    attachments: tuple[str, ...] = ()


class MeetingSpider(scrapy.Spider):
    """Shared behaviour of all portal spiders.

    Subclasses set ``name``, ``allowed_domains``, ``start_urls``, ``article`` (an
    :class:`ArticleSelectors`) and implement ``parse`` for their listing, calling
    :meth:`follow_entries` with the entries of each listing response.
    """

    article: ArticleSelectors
    # Hosts that serve copies of the portal's pages (mirrors), mapped to the portal host:
    # items always carry the portal URL.
    alias_hosts: dict[str, str] = {}
    # Extra (reason, pattern) rules for titles this portal lists but are not meetings.
    skip_titles: tuple[tuple[str, re.Pattern], ...] = ()

    def __init__(self, *args, full: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # `-a full=1`: re-fetch everything (read by the incremental middleware).
        self.full = str(full).lower() in ("1", "true", "yes", "on") if full is not None else False

    # --- requests ------------------------------------------------------------------------

    async def start(self):
        for url in self.start_urls:
            yield self.listing_request(url)

    def listing_request(self, url: str, callback=None, **kwargs) -> scrapy.Request:
        meta = {"role": "listing", **kwargs.pop("meta", {})}
        return scrapy.Request(url, callback=callback or self.parse, meta=meta, **kwargs)

    def follow_entries(self, response, entries: Iterable[Entry]):
        """Article requests for the meeting entries of a listing; the others are counted."""
        stats = self.crawler.stats
        count = 0
        for entry in entries:
            count += 1
            title = text.collapse(entry.title)
            reason = meeting.classify_title(title) or self._skip_reason(title)
            if reason:
                stats.inc_value(f"listing/skipped/{reason}")
                self.logger.debug("skipped %s (%s): %s", entry.url, reason, title)
                continue
            stats.inc_value("listing/meetings")
            yield scrapy.Request(
                urljoin(response.url, entry.url),
                callback=self.parse_meeting,
                meta={"role": "article", "listing_title": title, "listing_date": entry.date},
            )
        stats.inc_value("listing/pages")
        stats.inc_value("listing/entries", count)
        if count == 0:
            # A listing page with no entries is how a changed layout shows itself.
            stats.inc_value("listing/empty_pages")
            self.logger.warning("listing page with no entries: %s", response.url)

    def _skip_reason(self, title: str) -> str | None:
        for reason, pattern in self.skip_titles:
            if pattern.search(title):
                return reason
        return None

    # --- articles ------------------------------------------------------------------------

    def portal_url(self, url: str) -> str:
        """The URL on the real portal of a page served by a mirror host."""
        parts = urlsplit(url)
        real = self.alias_hosts.get(parts.hostname or "")
        return urlunsplit(parts._replace(netloc=real)) if real else url

    def parse_meeting(self, response):
        """Parse one article page into a raw :class:`MeetingItem` (the pipelines finish it)."""
        stats = self.crawler.stats
        if not isinstance(response, scrapy.http.TextResponse):
            return self._drop(response, "not_html")
        fields = self.article_fields(response)
        if not fields.get("title"):
            return self._drop(response, "no_title")
        if not fields.get("body"):
            return self._drop(response, "empty_body")
        stats.inc_value("article/parsed")
        return MeetingItem(
            portal=self.name,
            url=self.portal_url(response.url),
            crawled_at=datetime.now(BEIJING).isoformat(timespec="seconds"),
            **fields,
        )

    def _drop(self, response, reason: str):
        self.crawler.stats.inc_value(f"article/dropped/{reason}")
        self.logger.warning("not a meeting article (%s): %s", reason, response.url)
        return None

    def article_fields(self, response) -> dict:
        """The fields an article page prints, as printed, from the ``article`` selectors."""
        sel = self.article
        meta = _meta_tags(response)
        title = text.collapse(response.css(sel.title).xpath("string()").get()) or meta.get("ArticleTitle")
        # Labels are matched in Simplified script: mirrors serve `來源` or `發(fā)布時間`.
        header_texts = [
            text.to_simplified(node.xpath("string()").get()) for css in sel.header for node in response.css(css)
        ]
        labelled = text.labelled_fields(header_texts)
        published = None
        if sel.published:
            published = text.collapse(response.css(sel.published).xpath("string()").get())
        published = published or labelled.pop("published_at", None) or meta.get("PubDate")
        labelled.pop("published_at", None)
        crumbs = text.breadcrumb(response.css(sel.breadcrumb).xpath("string()").get()) if sel.breadcrumb else []
        paragraphs = text.paragraphs(response.css(sel.body))
        anchors = [a for css in sel.attachments for a in response.css(css)]
        base = self.portal_url(response.url)
        return {
            "title": title,
            "published_at": published,
            "source": labelled.get("source") or meta.get("ContentSource"),
            "author": labelled.get("author"),
            "publisher": labelled.get("publisher"),
            "index_number": labelled.get("index_number"),
            "written_date": labelled.get("written_date"),
            "category": labelled.get("category") or text.category_from(crumbs),
            "breadcrumb": crumbs,
            "body": "\n".join(paragraphs),
            "attachments": links.attachments(anchors, base),
        }


def _meta_tags(response) -> dict[str, str]:
    tags = {}
    for node in response.xpath("//head/meta[@name][@content]"):
        tags.setdefault(node.attrib["name"], node.attrib["content"].strip())
    return {name: value for name, value in tags.items() if value}
