"""The base of every portal spider: listing entries → article requests → one raw item.

A portal spider says *where* things are (hosts, entry URLs, selectors, its pager); what the
text means is decided once, in ``crawler.extract`` and the processing pipelines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timezone, timedelta
from typing import Iterable
from urllib.parse import urlsplit, urlunsplit

import scrapy
from lxml import etree
from parsel.csstranslator import css2xpath
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.ops import ledger

from crawler.runtime import pages, parsepool
from crawler.cms import fallback
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
    ``published``, ``source`` and ``author`` are regions holding only that field's value, where
    a page prints it without a label or outside the labelled node (iqilu 2020:
    ``来源：<span>…</span>``); ``body`` selects the paragraph nodes; ``attachments`` the anchors
    that may link files.  Meta tags (``ArticleTitle``, ``PubDate``, ``ContentSource``) fill what
    the visible page leaves empty.
    """

    title: str
    body: str
    header: tuple[str, ...] = ()
    published: str | None = None
    source: str | None = None
    author: str | None = None
    breadcrumb: str | None = None
    attachments: tuple[str, ...] = ()


class MeetingSpider(scrapy.Spider):
    """Shared behaviour of all portal spiders.

    A portal spider sets ``name``, ``allowed_domains``, its default ``start_urls`` and the
    CMS ``generations`` (``crawler/cms/generation.py``) its listing URLs may serve.  Each start
    URL's page is recognised as one of them, which then walks the listing and calls
    :meth:`follow_entries`; article pages are read with the templates of the generations.

    ``-a start=URL[,URL…]`` (or the ``PORTAL_START_URLS`` setting, ``{name: [URL, …]}``)
    replaces the default start URLs: any listing URL of the portal, on any generation it serves.
    """

    generations: tuple = ()
    # Article templates of this portal that its generations do not know, tried first.
    article: ArticleSelectors | None = None
    # Hosts that serve copies of the portal's pages (mirrors), mapped to the portal host:
    # items always carry the portal URL.
    alias_hosts: dict[str, str] = {}
    # Extra (reason, pattern) rules for titles this portal lists but are not meetings.
    skip_titles: tuple[tuple[str, re.Pattern], ...] = ()
    # Rendering (`-a render=splash`, crawler/runtime/splash.py): whether articles need rendering too.
    render_articles = False
    render: str | None = None
    # Worker processes that parse article pages (PARSE_PROCESSES; None: parse here), and the
    # item pipelines they run after the parse.
    parser_pool = None
    parser_pipelines: tuple[str, ...] = ()
    _walks = None

    def __init__(self, *args, full: str | None = None, render: str | None = None, start: str | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        # `-a full=1`: re-fetch everything (read by the incremental middleware).
        self.full = str(full).lower() in ("1", "true", "yes", "on") if full is not None else False
        if start:
            self.start_urls = start_url_list(start)
        names = [g.name for g in self.generations]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: two generations share a name: {names}")
        self._templates: dict[str | None, tuple[ArticleSelectors, ...]] = {}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        if not kwargs.get("start"):
            configured = start_urls_setting(crawler.settings).get(spider.name)
            if configured:
                spider.start_urls = start_url_list(configured)
        # `-a render=splash` or RENDER=splash: listings through Splash.  Settings are not
        # frozen yet, so the Splash components are added to this crawl only.
        if kwargs.get("render") is not None or crawler.settings.get("RENDER"):
            from crawler.runtime import splash

            spider.render = splash.render_mode(kwargs.get("render"), crawler.settings)
            if spider.render:
                splash.enable(crawler.settings)
        # PARSE_PROCESSES: article pages parsed in worker processes, with the item pipelines
        # that are pure transforms; not for a spider that parses its articles its own way.
        if type(spider).article_fields is MeetingSpider.article_fields:
            spider.parser_pool = parsepool.for_crawler(crawler)
            if spider.parser_pool is not None:
                spider.parser_pipelines = parsepool.move_parser_pipelines(crawler.settings)
        return spider

    # --- requests ------------------------------------------------------------------------

    async def start(self):
        for url in self.start_urls:
            yield self.listing_request(url)

    @property
    def render_wait_for(self) -> str | None:
        """What a rendered start page waits for: the readiness of any generation's listing."""
        waits = [g.render_wait_for for g in self.generations if g.render_wait_for]
        return ", ".join(waits) or None

    # --- listings ------------------------------------------------------------------------

    def generation(self, name: str):
        for g in self.generations:
            if g.name == name:
                return g
        raise KeyError(f"{self.name} has no generation {name!r}")

    def recognise(self, response):
        """The first of this portal's generations that recognises ``response``, or None."""
        # A page with text: a TextResponse, or scrapy-splash's rendered responses, which are not.
        if not isinstance(getattr(response, "text", None), str):
            return None
        for g in self.generations:
            if g.recognise(response):
                return g
        return None

    def parse(self, response):
        """A start URL's page: recognise its generation, then let it walk the listing."""
        generation = self.recognise(response)
        if generation is None:
            looked = "; ".join(f"{g.name}: {g.looks_for}" for g in self.generations)
            self.listing_unrecognised(f"{response.url} (HTTP {response.status}) matched no generation; "
                                      f"looked for {looked}")
            return
        stats = self.crawler.stats
        stats.inc_value(f"listing/generation/{generation.name}")
        parameters = generation.parameters(response)
        if parameters:
            stats.set_value("listing/parameters", json.dumps(parameters, ensure_ascii=False))
        title = text.collapse(response.xpath("//head/title/text()").get() or "")
        if title:
            stats.set_value("listing/page_title", title)
        self.logger.info("%s serves a %s listing %s", response.url, generation.name, parameters or "")
        # The start page's own entries, like those of later pages, are read with this
        # generation's article templates first.
        response.meta["generation"] = generation.name
        yield from generation.start(self, response) or ()

    def listing_unrecognised(self, detail: str) -> None:
        """A start URL serves no listing this spider can read (``detail`` says what was looked
        for): never a silent empty crawl, health fails the run with ``listing_unrecognised``.
        Also for a generation that learns it only from a follow-up (a shell page's scripts)."""
        self.crawler.stats.inc_value("listing/unrecognised")
        self.crawler.stats.set_value("listing/unrecognised_detail", detail)
        self.logger.error("listing_unrecognised: %s", detail)

    def parse_listing(self, response):
        """A later listing request: the step its generation named when it made it."""
        generation = self.generation(response.meta["generation"])
        yield from getattr(generation, response.meta["step"])(self, response) or ()

    def listing_request(self, url, callback=None, *, base: str | None = None, **kwargs) -> scrapy.Request | None:
        """A request for a listing page (or API page) at ``url``, resolved against ``base``
        when page data gave it; None, counted as ``listing/bad_links``, when it cannot be
        requested (``links.absolute_url``)."""
        absolute = links.absolute_url(base or "", url)
        if absolute is None:
            self._bad_link("listing", url, base)
            return None
        meta = {"role": "listing", **kwargs.pop("meta", {})}
        kwargs.setdefault("errback", self.request_failed)
        if self.render and kwargs.get("method", "GET") == "GET" and "body" not in kwargs:
            from crawler.runtime import splash

            return splash.listing_request(self, absolute, callback or self.parse, meta,
                                          wait_for=self.render_wait_for, **kwargs)
        return scrapy.Request(absolute, callback=callback or self.parse, meta=meta, **kwargs)

    def follow_page(self, response, entries: Iterable[Entry], next_request, expected: int | None = None):
        """One page of a paged listing: its article requests, then ``next_request()`` unless
        the walk stops here (nothing new, ``LISTING_MAX_PAGES``; ``crawler/cms/walk.py``)."""
        if self._walks is None:
            from .walk import ListingWalks

            self._walks = ListingWalks(self)
        return self._walks.follow_page(response, entries, next_request, expected)

    def follow_entries(self, response, entries: Iterable[Entry], count_empty: bool = True):
        """Article requests for the meeting entries of a listing; the others are counted.
        ``count_empty``: a page without entries counts as ``listing/empty_pages`` (a changed
        layout); not for a later page of a walk (``follow_page``)."""
        stats = self.crawler.stats
        count = 0
        for entry in entries:
            count += 1
            title = text.collapse(entry.title if isinstance(entry.title, str) else None)
            # Judged as the article will be: a mirror lists `區(qū)政府第十次常務(wù)會議`.
            judged = text.to_simplified(title)
            reason = meeting.classify_title(judged) or self._skip_reason(judged)
            if reason:
                stats.inc_value(f"listing/skipped/{reason}")
                self.logger.debug("skipped %s (%s): %s", entry.url, reason, title)
                continue
            url = links.absolute_url(response.url, entry.url)
            if url is None:
                self._bad_link("article", entry.url, response.url)
                continue
            stats.inc_value("listing/meetings")
            meta = {"role": "article", "listing_title": title, "listing_date": entry.date}
            if response.meta.get("generation"):
                meta["generation"] = response.meta["generation"]
            if self.render and self.render_articles:
                from crawler.runtime import splash

                yield splash.page_request(self, url, self.parse_meeting, meta, errback=self.request_failed)
                continue
            yield scrapy.Request(url, callback=self.parse_meeting, errback=self.request_failed, meta=meta)
        stats.inc_value("listing/pages")
        stats.inc_value("listing/entries", count)
        if count == 0 and count_empty:
            # A listing page with no entries is how a changed layout shows itself.
            stats.inc_value("listing/empty_pages")
            self.logger.warning("listing page with no entries: %s", response.url)

    def _bad_link(self, kind: str, href, base: str | None) -> None:
        self.crawler.stats.inc_value("listing/bad_links")
        self.logger.info("dropped a %s link that cannot be requested: %r (on %s)", kind, href, base)

    def request_failed(self, failure):
        """Errback of every listing and article request: note why it came to nothing
        (``crawler/ops/ledger.py``), then let Scrapy log and count the failure as it would."""
        ledger.request_failed(self.crawler, failure)
        return failure

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
        """Parse one article page into a :class:`MeetingItem` for the item pipelines.

        With ``PARSE_PROCESSES`` > 0 the page is parsed in a parser worker
        (``crawler/runtime/parsepool.py``), which also runs the leading item pipelines that are pure
        transforms (``runs_in_parser``), and this returns a coroutine that Scrapy awaits.
        Items, drops and stats are the same either way.
        """
        if not isinstance(response, scrapy.http.HtmlResponse):
            return self._drop(response, "not_html")
        if self.parser_pool is not None:
            return self._parse_meeting_in_pool(response)
        fields = self.article_fields(response, self.templates(response.meta.get("generation")))
        reason = missing_reason(fields)
        # A redesigned template: read the page generically, and say so (health warns).
        if reason and (rescued := fallback.recover(fields, response, self.portal_url(response.url))):
            self.crawler.stats.inc_value("article/fallback")
            fields, reason = rescued, None
        if reason:
            return self._drop(response, reason)
        return self._parsed(raw_item(self.name, self.portal_url(response.url), fields))

    async def _parse_meeting_in_pool(self, response):
        args = (self.templates(response.meta.get("generation")), self.parser_pipelines, self.name,
                response.url, response.body, response.encoding, self.portal_url(response.url))
        self.crawler.stats.inc_value("parse_pool/pages")
        try:
            reason, fields, stats_calls = await maybe_deferred_to_future(self.parser_pool.call(parse_page, *args))
        except parsepool.WorkerLost:
            # The worker died with this page in hand (killed, out of memory): parse it here.
            self.crawler.stats.inc_value("parse_pool/parsed_in_crawler")
            reason, fields, stats_calls = parse_page(*args)
        parsepool.replay(stats_calls, self.crawler.stats)
        if reason:
            return self._drop(response, reason)
        return self._parsed(MeetingItem(fields))

    def _parsed(self, item: MeetingItem) -> MeetingItem:
        self.crawler.stats.inc_value("article/parsed")
        return item

    def _drop(self, response, reason: str):
        self.crawler.stats.inc_value(f"article/dropped/{reason}")
        self.logger.warning("not a meeting article (%s): %s", reason, response.url)
        return None

    def templates(self, generation: str | None = None) -> tuple[ArticleSelectors, ...]:
        """Article templates to try, the portal's own first, then those of the generation whose
        listing linked the page, then the others (a migrated site keeps old pages in new lists)."""
        found = self._templates.get(generation)
        if found is None:
            ordered = sorted(self.generations, key=lambda g: g.name != generation)
            found = tuple(dict.fromkeys(
                ([self.article] if self.article else []) + [t for g in ordered for t in g.articles]))
            self._templates[generation] = found
        return found

    def article_fields(self, response, templates: tuple[ArticleSelectors, ...] | None = None) -> dict:
        """The fields an article page prints, as printed, read with the first template that fits."""
        return read_article(templates or self.templates(), response, self.portal_url(response.url))


def start_url_list(value) -> list[str]:
    """``URL[,URL…]`` (or a list of them) as a list; a start URL must be absolute http(s)."""
    urls = [u.strip() for u in (value.split(",") if isinstance(value, str) else value) if u and u.strip()]
    for url in urls:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ValueError(f"start URL {url!r} is not an absolute http(s) URL")
    return urls


def start_urls_setting(settings) -> dict:
    """``PORTAL_START_URLS``: a dict, or its JSON on the command line (``-s PORTAL_START_URLS='{…}'``)."""
    value = settings.get("PORTAL_START_URLS") or {}
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value)


def missing_reason(fields: dict) -> str | None:
    """Why a page's fields make no meeting record (it is dropped), or None."""
    if not fields.get("title"):
        return "no_title"
    if not fields.get("body"):
        return "empty_body"
    return None


def raw_item(portal: str, page_url: str, fields: dict) -> MeetingItem:
    return MeetingItem(portal=portal, url=page_url,
                       crawled_at=datetime.now(BEIJING).isoformat(timespec="seconds"), **fields)


def parse_page(templates: tuple[ArticleSelectors, ...], pipelines: tuple[str, ...], portal: str, url: str,
               body: bytes, encoding: str, page_url: str):
    """What a parser worker does with an article page: ``(drop reason, None, [])``, or
    ``(None, item fields, stats calls)`` after the item pipelines ``pipelines``."""
    response = scrapy.http.HtmlResponse(url=url, body=body, encoding=encoding)
    try:
        fields = read_article(templates, response, page_url)
        reason = missing_reason(fields)
        rescued = fallback.recover(fields, response, page_url) if reason else None
    finally:
        pages.release(response)
    if rescued:
        fields, reason = rescued, None
    if reason:
        return reason, None, []
    item, stats_calls = parsepool.run_pipelines(pipelines, raw_item(portal, page_url, fields))
    if rescued:
        stats_calls = [("inc_value", "article/fallback", 1), *stats_calls]
    return None, dict(item), stats_calls


def fits(sel: ArticleSelectors, response) -> bool:
    """Whether a template finds a title and a body on the page."""
    return bool(_nodes(response, sel.title)) and bool(_nodes(response, sel.body))


def read_article(templates: tuple[ArticleSelectors, ...], response, page_url: str) -> dict:
    """The fields of an article page, read with the first template that fits it (else the first
    template, whose missing title or body then names the drop)."""
    # A template whose selectors name a class or id the page never carries cannot fit: one
    # pass over the page's class and id attributes spares each such template its XPaths,
    # which scan the whole page (trying templates cost as much as reading the page).
    present = _classes_and_ids(response) if len(templates) > 1 else None
    for sel in templates:
        if present is not None and not (_may_match(sel.title, present) and _may_match(sel.body, present)):
            continue
        if fits(sel, response):
            return article_fields(sel, response, page_url)
    return article_fields(templates[0], response, page_url)


_CLASS_ATTRS = etree.XPath("//@class")
_ID_ATTRS = etree.XPath("//@id")


def _classes_and_ids(response) -> tuple[set[str], set[str]]:
    root = response.selector.root
    return {c for value in _CLASS_ATTRS(root) for c in value.split()}, set(_ID_ATTRS(root))


@lru_cache(maxsize=None)
def _required(css: str) -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """Per alternative of a selector group, the classes and ids an element of the page must
    carry for it to match: those of its compound selectors, not those under ``:not()``."""
    from cssselect import parse
    from cssselect.parser import Class, CombinedSelector, Hash

    def walk(tree, classes: set, ids: set) -> None:
        if isinstance(tree, CombinedSelector):
            walk(tree.selector, classes, ids)
            walk(tree.subselector, classes, ids)
            return
        if isinstance(tree, Class):
            classes.add(tree.class_name)
        elif isinstance(tree, Hash):
            ids.add(tree.id)
        # The subject of a class, an id, an attribute, a pseudo-class or a :not() (whose
        # negated part, its subselector, is not walked).
        inner = getattr(tree, "selector", None)
        if inner is not None:
            walk(inner, classes, ids)

    out = []
    for alternative in parse(css):
        classes, ids = set(), set()
        walk(alternative.parsed_tree, classes, ids)
        out.append((frozenset(classes), frozenset(ids)))
    return tuple(out)


def _may_match(css: str, present: tuple[set[str], set[str]]) -> bool:
    classes, ids = present
    return any(c <= classes and i <= ids for c, i in _required(css))


def article_fields(sel: ArticleSelectors, response, page_url: str) -> dict:
    """The fields an article page prints, as printed; ``page_url`` is its portal URL, against
    which attachment links are resolved."""
    meta = _MetaTags(response)
    title = text.collapse(_first_text(response, sel.title)) or meta.get("ArticleTitle")
    # Labels are matched in Simplified script: mirrors serve `來源` or `發(fā)布時間`.
    header_texts = [t for css in sel.header for t in _texts(response, css)]
    header_texts = text.to_simplified("\x00".join(header_texts)).split("\x00") if header_texts else []
    labelled = text.labelled_fields(header_texts)
    published = text.collapse(_first_text(response, sel.published)) if sel.published else None
    published = published or labelled.pop("published_at", None) or meta.get("PubDate")
    labelled.pop("published_at", None)
    source = text.collapse(_first_text(response, sel.source)) if sel.source else None
    author = text.collapse(_first_text(response, sel.author)) if sel.author else None
    crumbs = text.breadcrumb(_first_text(response, sel.breadcrumb)) if sel.breadcrumb else []
    paragraphs = [p for p in map(text.collapse, _texts(response, sel.body)) if p]
    anchors = [a for css in sel.attachments for a in _nodes(response, css)]
    return page_fields(title, published, labelled, meta.get("ContentSource"), paragraphs, anchors, page_url,
                       crumbs=crumbs, source=source, author=author)


def page_fields(title, published, labelled: dict, meta_source, paragraphs, anchors, page_url: str, *,
                crumbs=(), source=None, author=None) -> dict:
    """The raw item fields of an article page, from what was read off it (by a template's
    selectors or by the generic fallback): one shape for every way a page is read."""
    crumbs = list(crumbs)
    return {
        "title": title,
        "published_at": published,
        "source": source or labelled.get("source") or meta_source,
        "author": author or labelled.get("author"),
        "publisher": labelled.get("publisher"),
        "index_number": labelled.get("index_number"),
        "written_date": labelled.get("written_date"),
        "category": labelled.get("category") or text.category_from(crumbs),
        "breadcrumb": crumbs,
        "body": "\n".join(paragraphs),
        "attachments": links.attachments(anchors, page_url),
    }


# Nodes are found with XPaths compiled once and read as lxml elements: building a parsel
# Selector per node costs more than the rest of the parse (the budget is ~2 ms a page).
@lru_cache(maxsize=None)
def _xpath(css: str) -> etree.XPath:
    return etree.XPath(css2xpath(css))


_STRING = etree.XPath("string()")
# Text of <script>/<style> is code, never page text; string() would take it.
_VISIBLE_TEXT = etree.XPath("descendant::text()[not(ancestor::script or ancestor::style)]")


def _string(node) -> str:
    # lxml's tag-filtered iter finds script/style in C: cheaper than an XPath per node.
    if next(node.iter("script", "style"), None) is None:
        return _STRING(node)
    return "".join(_VISIBLE_TEXT(node))


def _nodes(response, css: str) -> list:
    return _xpath(css)(response.selector.root)


def _texts(response, css: str) -> list[str]:
    """``string()`` of every node matched, without script/style text: its text nodes joined
    with no separator."""
    return [_string(node) for node in _nodes(response, css)]


def _first_text(response, css: str) -> str | None:
    nodes = _nodes(response, css)
    return _string(nodes[0]) if nodes else None


class _MetaTags:
    """``<meta name content>`` of the head, read only when a visible field is missing."""

    def __init__(self, response):
        self._response = response
        self._tags = None

    def get(self, name: str) -> str | None:
        if self._tags is None:
            self._tags = {}
            for node in self._response.selector.root.xpath("//head/meta[@name][@content]"):
                self._tags.setdefault(node.get("name"), node.get("content").strip())
        return self._tags.get(name) or None
