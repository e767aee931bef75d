"""Health checks on every spider's close: a changed portal layout must fail loudly.

A broken spider that quietly returns nothing is the worst failure of a daily crawler, so each
run is judged from its own stats (``crawler/cms/base.py`` and the pipelines keep them) and the
stored run history.  Checks (``check`` names appear in the output and in the stored run):

=================  =====  ================================================================
check              level  when
=================  =====  ================================================================
``finish_reason``  fail   the spider did not finish normally (time limit, shutdown, error)
``listing_none``   fail   not one listing page was parsed
``listing_unrecognised`` fail  a start URL served a page of none of the spider's CMS
                          generations (``listing/unrecognised``); the message names what was
                          looked for
``listing_empty``  fail   a listing page parsed zero entries (``listing/empty_pages``): the
                          list container moved, i.e. the layout changed
``listing_layout`` fail   the listing's pager/datastore configuration was not found
                          (``listing/layout_errors``)
``listing_incomplete`` fail  a listing request came to nothing (failed after retries, cancelled
                          for its size, a bomb, filtered): the pages after it were not reached;
                   warn   the walk stopped on a page that brought nothing new or at
                          ``LISTING_MAX_PAGES``, or a page held fewer entries than the portal
                          promised (a Hanweb group cut short).  Either way the next run walks
                          the whole listing (``crawler/ops/ledger.py``, ``crawler/cms/walk.py``)
``articles_lost``  fail   article requests the listing made that no page came of, by cause
                          (``decompressed_maxsize``, ``download_cancelled``,
                          ``offsite_redirect``, ``download_timeout`` …);
                   warn   when the portal itself refused them (``http_4xx``, ``robots``, a
                          listing link to another host: ``offsite_link``)
``coverage:F``     fail   key field F (title, published_at, body, meeting_date) present in
                          fewer than ``HEALTH_MIN_COVERAGE[F]`` of the article pages fetched;
                          only a warning while fewer than ``HEALTH_MIN_ARTICLES`` were fetched
``errors``         fail   ERROR/CRITICAL log lines, spider exceptions, downloads that failed
                          after all retries
``http_errors``    warn   HTTP error responses ignored (404 …)
``fallback``       warn   article pages read generically because the portal's selectors found
                          no title or body (``article/fallback``): the template changed, the
                          data still flows, the spider's ``ArticleSelectors`` need updating
``charset``        warn   pages with bytes that decode in no candidate charset, replaced by U+FFFD
``stale``          warn   no new record for ``HEALTH_STALE_DAYS`` days (run history)
=================  =====  ================================================================

A quiet day — the listing parses, incremental crawling finds nothing new, zero articles are
fetched — is healthy: coverage needs articles, and only an empty *listing* fails.

The verdict goes into the crawler stats before the store pipeline records the run:
``health/status`` (``ok`` | ``warn`` | ``fail``), ``health/failures`` and ``health/warnings``
(lists of ``"check: message"``), ``health/failed_checks``, ``health/errors``.

Why an in-project extension rather than spidermon: the checks are a dozen lines over stats
the spiders already keep; spidermon would add a dependency tree, run its monitors through
unittest and report through its own actions, while crawlall needs the verdict as data (exit
status, summary table, the runs table) — and ``scrapy crawl`` gets the same checks for free.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from scrapy import signals
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)

OK, WARN, FAIL = "ok", "warn", "fail"

DEFAULT_MIN_COVERAGE = {"title": 0.95, "published_at": 0.95, "body": 0.95, "meeting_date": 0.8}

# Stats that say a key field is missing on an article page, per field.
_MISSING_STATS = {
    "title": ("article/dropped/no_title", "validate/dropped/missing_title"),
    "body": ("article/dropped/empty_body", "validate/dropped/missing_body"),
    "published_at": ("validate/dropped/missing_published_at",),
    "meeting_date": ("validate/missing/meeting_date",),
}


@dataclass
class HealthReport:
    status: str = OK
    failures: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    errors: int = 0

    def fail(self, check: str, message: str) -> None:
        self.failures.append((check, message))
        self.status = FAIL

    def warn(self, check: str, message: str) -> None:
        self.warnings.append((check, message))
        if self.status == OK:
            self.status = WARN

    @property
    def failed_checks(self) -> list[str]:
        return [c for c, _ in self.failures]

    def as_stats(self) -> dict[str, Any]:
        return {
            "health/status": self.status,
            "health/failures": [f"{c}: {m}" for c, m in self.failures],
            "health/warnings": [f"{c}: {m}" for c, m in self.warnings],
            "health/failed_checks": self.failed_checks,
            "health/errors": self.errors,
        }


def articles_fetched(stats: Mapping[str, Any]) -> int:
    """Article pages that reached ``parse_meeting``: parsed, or dropped there with a reason."""
    return int(stats.get("article/parsed", 0)) + sum(
        int(v) for k, v in stats.items() if k.startswith("article/dropped/")
    )


def error_count(stats: Mapping[str, Any]) -> int:
    return int(stats.get("log_count/ERROR", 0)) + int(stats.get("log_count/CRITICAL", 0))


def coverage(stats: Mapping[str, Any], fields=tuple(_MISSING_STATS)) -> dict[str, float]:
    """Share of fetched article pages that yielded each key field ({} when none fetched)."""
    fetched = articles_fetched(stats)
    if not fetched:
        return {}
    out = {}
    for name in fields:
        missing = sum(int(stats.get(k, 0)) for k in _MISSING_STATS.get(name, (f"validate/missing/{name}",)))
        out[name] = max(0.0, 1.0 - missing / fetched)
    return out


def evaluate(
    stats: Mapping[str, Any],
    reason: str | None,
    *,
    min_coverage: Mapping[str, float] | None = None,
    min_articles: int = 5,
    stale_days: float = 0,
    require_listing: bool = True,
    history: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    errors: int | None = None,
    portal: str | None = None,
) -> HealthReport:
    """Judge one spider run from its stats, finish reason and (optional) run history
    (``Store.portal_history``: ``first_run``, ``last_new``).  ``errors``: ERROR/CRITICAL
    records of this spider (default: ``log_count/ERROR`` + ``CRITICAL``, which in a process
    running several crawlers counts every crawler's records)."""
    report = HealthReport()
    if reason != "finished":
        report.fail("finish_reason", f"the spider closed with reason {reason!r}, not 'finished'")

    pages = int(stats.get("listing/pages", 0))
    empty = int(stats.get("listing/empty_pages", 0))
    layout = int(stats.get("listing/layout_errors", 0))
    unrecognised = int(stats.get("listing/unrecognised", 0))
    if unrecognised:
        report.fail("listing_unrecognised", f"{unrecognised} start URL(s) served no listing this spider can read: "
                    f"{stats.get('listing/unrecognised_detail', '')}")
    elif pages == 0 and reason == "finished" and require_listing:
        report.fail("listing_none", "no listing page was parsed (entry page moved or blocked?)")
    if empty:
        report.fail("listing_empty", f"{empty} of {pages} listing page(s) parsed zero entries: layout changed?")
    if layout:
        report.fail("listing_layout", f"{layout} listing page(s) without the expected pager/datastore: layout changed?")

    from crawler.ops import ledger

    listing_lost = ledger.lost(stats, "listing")
    stops = {c: n for c, n in ledger.incomplete_causes(stats).items()
             if c.startswith("stopped:") or c == "short_pages"}
    if listing_lost:
        report.fail("listing_incomplete",
                    f"{sum(listing_lost.values())} listing request(s) came to nothing "
                    f"({ledger.format_counts(listing_lost)}): later listing pages were not reached; "
                    "the next run walks the whole listing")
    elif stops:
        report.warn("listing_incomplete",
                    f"listing walk incomplete ({ledger.format_counts(stops)}); the next run walks the whole listing")
    articles_lost = ledger.lost(stats, "article")
    if articles_lost:
        requested = int(stats.get("ledger/article/requested", 0))
        msg = (f"{sum(articles_lost.values())} of {requested} article request(s) came to nothing: "
               f"{ledger.format_counts(articles_lost)}")
        if all(ledger.PORTAL_REFUSALS.match(c) for c in articles_lost):
            report.warn("articles_lost", msg)
        else:
            report.fail("articles_lost", msg)

    fetched = articles_fetched(stats)
    thresholds = dict(DEFAULT_MIN_COVERAGE if min_coverage is None else min_coverage)
    for name, share in coverage(stats, tuple(thresholds)).items():
        need = float(thresholds[name])
        if share + 1e-9 < need:
            msg = f"{name} on {share:.0%} of {fetched} article page(s), below {need:.0%}"
            if fetched >= min_articles:
                report.fail(f"coverage:{name}", msg)
            else:
                report.warn(f"coverage:{name}", msg + f" (too few pages to fail: < {min_articles})")

    report.errors = error_count(stats) if errors is None else int(errors)
    exceptions = sum(int(v) for k, v in stats.items() if k.startswith("spider_exceptions/") and k.count("/") == 1)
    gave_up = int(stats.get("retry/max_reached", 0))
    if report.errors or exceptions or gave_up:
        parts = []
        if report.errors:
            parts.append(f"{report.errors} ERROR log line(s)")
        if exceptions:
            parts.append(f"{exceptions} spider exception(s)")
        if gave_up:
            parts.append(f"{gave_up} download(s) failed after retries")
        report.fail("errors", ", ".join(parts))

    fallback = int(stats.get("article/fallback", 0))
    if fallback:
        report.warn("fallback", f"{fallback} of {fetched} article page(s) of {portal or 'this portal'} read without "
                                f"its selectors (article template changed?): update its ArticleSelectors")

    http_errors = int(stats.get("httperror/response_ignored_count", 0))
    if http_errors:
        report.warn("http_errors", f"{http_errors} HTTP error response(s) ignored")

    bad_bytes = int(stats.get("charset/bad_bytes", 0))
    if bad_bytes:
        report.warn("charset", f"{bad_bytes} undecodable byte(s) on {int(stats.get('charset/bad_pages', 0))} "
                               "page(s), replaced by U+FFFD (charset/bad_bytes)")

    if stale_days and stale_days > 0 and history is not None and not int(stats.get("store/new", 0)):
        now = now or datetime.now(timezone.utc)
        limit = timedelta(days=stale_days)
        last_new, first_run = history.get("last_new"), history.get("first_run")
        if last_new is not None and now - last_new > limit:
            report.warn("stale", f"no new record for {(now - last_new).days} days "
                                 f"(last {last_new:%Y-%m-%d}; limit HEALTH_STALE_DAYS={stale_days:g})")
        elif last_new is None and first_run is not None and now - first_run > limit:
            report.warn("stale", f"no new record since runs began on {first_run:%Y-%m-%d} "
                                 f"(limit HEALTH_STALE_DAYS={stale_days:g})")
    return report


def settings_kwargs(settings) -> dict[str, Any]:
    return {
        "min_coverage": settings.getdict("HEALTH_MIN_COVERAGE", DEFAULT_MIN_COVERAGE),
        "min_articles": settings.getint("HEALTH_MIN_ARTICLES", 5),
        "stale_days": settings.getfloat("HEALTH_STALE_DAYS", 0),
        "require_listing": settings.getbool("HEALTH_REQUIRE_LISTING", True),
    }


class _SpiderErrorCounter(logging.Handler):
    """Counts ERROR/CRITICAL records of one spider.  Scrapy's ``log_count/*`` handler counts
    every record in the process, so with several crawlers in one process (crawlall) one
    spider's error would fail them all.  Records carrying ``spider`` (Scrapy's core, the
    retry middleware, ``spider.logger``) go to their spider; records without it (a module
    logger, Twisted) count against every spider open at the time: an error is never lost."""

    def __init__(self, crawler):
        super().__init__(level=logging.ERROR)
        self.crawler = crawler
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        spider = getattr(record, "spider", None)
        if spider is None or spider is self.crawler.spider:
            self.count += 1


class HealthCheckExtension:
    """Scrapy extension (``EXTENSIONS``): evaluate on ``spider_closed``, put the verdict in
    the stats, log it (failures at ERROR)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.kwargs = settings_kwargs(crawler.settings)
        self.counter = _SpiderErrorCounter(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("HEALTH_ENABLED", True):
            raise NotConfigured("HEALTH_ENABLED is off")
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider):
        logging.getLogger().addHandler(self.counter)

    def history(self, spider, stats) -> dict[str, Any] | None:
        if not self.kwargs["stale_days"]:
            return None
        from crawler.store import get_store, store_enabled

        if not store_enabled(self.crawler.settings):
            return None
        started = stats.get("start_time")
        if isinstance(started, datetime) and started.tzinfo is None:
            started = started.replace(tzinfo=timezone.utc)
        try:
            return get_store(self.crawler).portal_history(spider.name, before=started)
        except Exception as e:  # noqa: BLE001 — a store problem must not hide the other checks
            logger.warning("health: run history of %s unavailable: %s", spider.name, e)
            return None

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats
        logging.getLogger().removeHandler(self.counter)
        snapshot = dict(stats.get_stats())
        report = evaluate(snapshot, reason, history=self.history(spider, snapshot),
                          errors=self.counter.count, portal=spider.name, **self.kwargs)
        for key, value in report.as_stats().items():
            stats.set_value(key, value)
        extra = {"spider": spider}
        for check, message in report.failures:
            logger.error("HEALTH FAIL %s [%s]: %s", spider.name, check, message, extra=extra)
        for check, message in report.warnings:
            logger.warning("health warning %s [%s]: %s", spider.name, check, message, extra=extra)
        if report.status == OK:
            logger.info("health ok: %s", spider.name, extra=extra)
