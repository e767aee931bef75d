"""What came of every listing and article request: each one followed to its end.

A meeting the listing named can be lost before any callback sees it: a page cancelled for
its size, a gzip bomb ignored while decompressing, a redirect off the portal filtered, a
download that failed after its retries, an HTTP error.  Scrapy logs some of these, counts
some, and says nothing of others.  The ledger gives each request with ``meta["role"]``
(``listing``/``entry`` pages, ``article`` pages) a ticket when the spider yields it
(``meta["ledger"]``, kept by retries and redirects) and closes the ticket with what came of
it:

* ``arrived``: a response reached the spider callback (parsed or dropped there, with a reason);
* ``duplicate``: the dupefilter dropped it (the same URL was requested in this run) — no loss;
* a loss, with its cause: the errback's failure (``http_404``, ``download_timeout``,
  ``download_cancelled`` (over ``DOWNLOAD_MAXSIZE``), ``decompressed_maxsize`` (a
  decompression bomb), ``redirect_max``, ``robots``, ``blocked_address`` (the host policy's
  loopback/private/link-local check) …), or ``offsite_redirect`` /
  ``offsite_link`` when the offsite check filtered it before the download;
* ``unanswered``: still open when the spider closed (a run that did not finish, or a request
  handed to another worker's shared queue) — counted apart, not as a loss.

On ``spider_closed`` (before the health check and the store, which records the run) the
stats get ``ledger/<kind>/requested|arrived|duplicate|unanswered`` and
``ledger/<kind>/lost/<cause>``, and ``listing/walk_complete``: whether this run walked its
listing to the end and dealt with every article it named (finished, no listing page lost, no
walk stopped by ``crawler/cms/walk.py``, no short, empty or unparsable listing page, no
article lost but to the portal's own refusal: ``http_4xx``, ``robots``, ``offsite_link``).  The next run's incremental middleware stops at
known listing pages only after a complete walk.

Components (settings/base.py): ``LedgerExtension`` (EXTENSIONS), ``LedgerSpiderMiddleware``
(SPIDER_MIDDLEWARES, outermost: it sees what the incremental middleware let through), and
``MeetingSpider.request_failed``, the errback of every listing and article request.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections import Counter
from typing import Any, Mapping

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.url import url_is_from_any_domain

logger = logging.getLogger(__name__)

KINDS = {"listing": "listing", "entry": "listing", "article": "article"}
ARRIVED, DUPLICATE, UNANSWERED = "arrived", "duplicate", "unanswered"
# Losses where the portal itself said no: a warning.  Every other loss fails the run.
PORTAL_REFUSALS = re.compile(r"^(?:http_4\d\d|robots|offsite_link)$")


class Ticket:
    __slots__ = ("kind", "url", "outcome")

    def __init__(self, kind: str, url: str):
        self.kind, self.url, self.outcome = kind, url, None


class Ledger:
    """The tickets of one crawler's run."""

    _by_crawler: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __init__(self, crawler):
        self.crawler = crawler
        self.tickets: dict[int, Ticket] = {}

    @classmethod
    def of(cls, crawler) -> Ledger:
        ledger = cls._by_crawler.get(crawler)
        if ledger is None:
            ledger = cls._by_crawler[crawler] = cls(crawler)
        return ledger

    def _ticket(self, request) -> Ticket | None:
        try:
            return self.tickets.get(request.meta.get("ledger"))
        except AttributeError:
            return None

    def open(self, request) -> None:
        kind = KINDS.get(request.meta.get("role"))
        if kind is None or "ledger" in request.meta:
            return
        number = len(self.tickets) + 1
        request.meta["ledger"] = number
        self.tickets[number] = Ticket(kind, request.url)
        self.crawler.stats.inc_value(f"ledger/{kind}/requested")

    def close(self, request, outcome: str) -> None:
        ticket = self._ticket(request)
        if ticket is not None and (ticket.outcome is None or outcome == ARRIVED):
            ticket.outcome = outcome

    def tally(self, reason: str | None) -> dict[str, Any]:
        out: Counter = Counter()
        for t in self.tickets.values():
            outcome = t.outcome or UNANSWERED
            if outcome in (ARRIVED, DUPLICATE, UNANSWERED):
                out[f"ledger/{t.kind}/{outcome}"] += 1
            else:
                out[f"ledger/{t.kind}/lost/{outcome}"] += 1
        return dict(out)


def cause_of(failure) -> str:
    """A short name for why a request failed: ``http_<status>``, or what Scrapy raised
    (``DownloadTimeoutError`` → ``download_timeout``), with the ``IgnoreRequest`` cases told
    apart."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, IgnoreRequest):
        text = str(exc).lower()
        if "decompress" in text or "maxsize" in type(exc.__cause__).__name__.lower():
            return "decompressed_maxsize"
        if "robots.txt" in text:
            return "robots"
        if "redirect" in text:
            return "redirect_max"
        if "offsite" in text:
            return "offsite_redirect"
        if "resolves to" in text:  # crawler/runtime/middlewares.py: a loopback/private/link-local address
            return "blocked_address"
        return "ignored"
    name = re.sub(r"(?:Error|Exception)$", "", type(exc).__name__) or type(exc).__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def request_failed(crawler, failure) -> None:
    """The errback's share: close the request's ticket with the failure's cause."""
    request = getattr(failure, "request", None)
    if request is not None:
        Ledger.of(crawler).close(request, cause_of(failure))


# --- what the stats say ---------------------------------------------------------------------------


def lost(stats: Mapping[str, Any], kind: str) -> dict[str, int]:
    prefix = f"ledger/{kind}/lost/"
    return {k[len(prefix):]: int(v) for k, v in sorted(stats.items()) if k.startswith(prefix) and v}


def incomplete_causes(stats: Mapping[str, Any]) -> dict[str, int]:
    """Why this run's walk did not deal with everything its listing holds (empty when it
    did): listing pages lost or cut short, walks stopped, and article requests lost for a
    cause the crawler can outlive (not a portal's refusal: a 404 would otherwise keep every
    later run walking the whole listing)."""
    causes = {f"lost:{c}": n for c, n in lost(stats, "listing").items()}
    causes.update({f"article_lost:{c}": n for c, n in lost(stats, "article").items() if not PORTAL_REFUSALS.match(c)})
    for key, value in stats.items():
        if key.startswith("listing/stopped/") and value:
            causes[f"stopped:{key[len('listing/stopped/'):]}"] = int(value)
    for key, name in (("listing/short_pages", "short_pages"), ("listing/empty_pages", "empty_pages"),
                      ("listing/layout_errors", "layout_errors"), ("listing/callback_errors", "callback_errors")):
        if stats.get(key):
            causes[name] = int(stats[key])
    return causes


def format_counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


# --- components ------------------------------------------------------------------------------------


class LedgerExtension:
    """Signals: the dupefilter's and the offsite check's drops; the tally on close."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.ledger = Ledger.of(crawler)
        self._offsite = None

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _on_site(self, request, spider) -> bool:
        """The offsite check's verdict (Scrapy's ``OffsiteMiddleware.should_follow``, or any
        downloader middleware offering it), which filters at ``request_scheduled``."""
        if request.dont_filter or request.meta.get("allow_offsite"):
            return True
        if self._offsite is None:
            engine = getattr(self.crawler, "engine", None)
            mws = getattr(getattr(getattr(engine, "downloader", None), "middleware", None), "middlewares", ())
            self._offsite = next((mw for mw in mws if hasattr(mw, "should_follow")), False)
        if self._offsite:
            return bool(self._offsite.should_follow(request, spider))
        domains = getattr(spider, "allowed_domains", None)
        return not domains or url_is_from_any_domain(request.url, domains)

    def request_scheduled(self, request, spider):
        ticket = self.ledger._ticket(request)
        if ticket is not None and ticket.outcome is None and not self._on_site(request, spider):
            self.ledger.close(request, "offsite_redirect" if request.meta.get("redirect_urls") else "offsite_link")

    def request_dropped(self, request, spider):
        self.ledger.close(request, DUPLICATE)

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats
        for key, value in self.ledger.tally(reason).items():
            stats.set_value(key, value)
        causes = incomplete_causes(stats.get_stats())
        complete = reason == "finished" and not causes
        stats.set_value("listing/walk_complete", complete)
        if not complete:
            logger.info("listing walk of %s incomplete (%s): the next run walks every listing page",
                        spider.name, format_counts(causes) or f"finish reason {reason}", extra={"spider": spider})
        for kind in ("listing", "article"):
            if lost(stats.get_stats(), kind):
                logger.warning("%s %s request(s) came to nothing: %s", spider.name, kind,
                               format_counts(lost(stats.get_stats(), kind)), extra={"spider": spider})


class LedgerSpiderMiddleware:
    """Opens a ticket for every role request the spider yields and closes the ticket of every
    response that reaches its callback.  Outermost (lowest order), so requests the
    incremental middleware skipped never get one."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.ledger = Ledger.of(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _track(self, obj):
        if hasattr(obj, "meta") and hasattr(obj, "dont_filter"):
            self.ledger.open(obj)
        return obj

    async def process_start(self, start):
        async for obj in start:
            yield self._track(obj)

    async def process_spider_output(self, response, result):
        self.ledger.close(response.request, ARRIVED)
        async for obj in result:
            yield self._track(obj)

    def process_spider_exception(self, response, exception):
        self.ledger.close(response.request, ARRIVED)
        if KINDS.get(response.meta.get("role")) == "listing":
            # A listing callback that raised read only part of its page.
            self.crawler.stats.inc_value("listing/callback_errors")
        return None
