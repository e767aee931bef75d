"""Incremental crawling: a daily run fetches only what is new (spider middleware).

Requests carry ``meta["role"]``: ``"listing"`` (a listing page, a dataproxy POST group, an
API page) or ``"article"``.

* An article request whose URL the store has finished with (a stored meeting, the address
  that redirected to one, an in-run duplicate of one) and seen within
  ``INCREMENTAL_REFRESH_DAYS`` is dropped
  (``incremental/skipped_articles``).
* The output of a listing response is buffered; if it holds article requests and every one
  of them was dropped that way, the listing is known territory: its ``role == "listing"``
  follow-up requests (next page, …) are dropped too (``incremental/stopped_listings``).
  Only when the previous run of the spider walked its listing to the end
  (``listing/walk_complete`` in its stored stats, ``crawler/ops/ledger.py``): after a killed or
  interrupted run, a listing page that failed after its retries or was cancelled for its
  size, a Hanweb group cut short, a walk stopped by ``crawler/cms/walk.py`` (nothing new,
  ``LISTING_MAX_PAGES``), older listing pages may hold articles that run never reached, so
  the whole listing is walked once more (stored articles are still skipped) —
  ``incremental/listing_stop_disabled``.  A run recorded before the key existed counts as
  incomplete: one full walk after the upgrade.
* A listing callback that raises part-way through its page loses nothing it yielded
  before: those requests go on, the listing is not stopped, and the exception is raised
  again for Scrapy to log and count.
* An article response that yields no item (an error page served with 200, a truncated
  body) is not recorded: the next run fetches it again.  Marking it as done would hide a
  meeting for ``INCREMENTAL_REFRESH_DAYS`` after one bad response; non-meeting entries are
  already left out by title in the listing, so this costs little.

What counts as "known" is read from the store, which commits items in short batches, one
transaction each: an article is seen only after its record is committed, so a crash never
makes a later run skip something that was never stored.

Off with ``-a full=1`` (spider argument) or ``INCREMENTAL_ENABLED = False``; both give a
complete re-crawl (which still updates the store).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured

from crawler.store import get_store, store_enabled, utcnow

logger = logging.getLogger(__name__)

TRUE = {"1", "true", "yes", "on", "y"}


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in TRUE
    return bool(value)


def role_of(obj) -> str | None:
    try:
        return obj.meta.get("role")
    except AttributeError:
        return None


class IncrementalMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.refresh_days = crawler.settings.getfloat("INCREMENTAL_REFRESH_DAYS", 30)
        self._active: bool | None = None
        self._may_stop: bool | None = None
        self.started = utcnow()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("INCREMENTAL_ENABLED", True):
            raise NotConfigured("INCREMENTAL_ENABLED is off")
        if not store_enabled(crawler.settings):
            raise NotConfigured("MEETINGS_DB is empty")
        return cls(crawler)

    # -- state

    @property
    def active(self) -> bool:
        if self._active is None:
            spider = self.crawler.spider
            self._active = not _truthy(getattr(spider, "full", False))
        return self._active

    @property
    def may_stop_listings(self) -> bool:
        """Stop at known listing pages only if the previous run walked its listings to the
        end (``listing/walk_complete``, set by ``crawler/ops/ledger.py``)."""
        if self._may_stop is None:
            name = getattr(self.crawler.spider, "name", "")
            last = self.store.last_run(name, before=self.started)
            stats = (last or {}).get("stats") or {}
            stats = json.loads(stats) if isinstance(stats, str) else stats
            self._may_stop = bool(
                last and last.get("finish_reason") == "finished" and stats.get("listing/walk_complete") is True
            )
            if not self._may_stop:
                self.crawler.stats.set_value("incremental/listing_stop_disabled", 1)
                logger.info(
                    "incremental: the previous %s run %s; walking every listing page "
                    "this time (stored articles are still skipped)",
                    name,
                    "is unknown" if not last
                    else "did not finish" if last.get("finish_reason") != "finished"
                    else "did not walk its listing to the end",
                )
        return self._may_stop

    def spider_opened(self, spider):
        if self.active:
            self.may_stop_listings  # noqa: B018  (decide and log up front)
            logger.info(
                "incremental: skipping stored articles seen in the last %g days "
                "(-a full=1 for a complete crawl)",
                self.refresh_days,
            )
        else:
            logger.info("incremental: full crawl requested, nothing skipped")

    @property
    def store(self):
        return get_store(self.crawler)

    def _known(self, requests: list[Request]) -> set[str]:
        return self.store.fresh_urls([r.url for r in requests], self.refresh_days)

    def _skip(self, request: Request) -> None:
        self.crawler.stats.inc_value("incremental/skipped_articles")
        logger.debug("incremental: skipping stored %s", request.url)

    # -- hooks

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for obj in start:
            if (
                self.active
                and isinstance(obj, Request)
                and role_of(obj) == "article"
                and self._known([obj])
            ):
                self._skip(obj)
                continue
            yield obj

    async def process_spider_output(self, response, result) -> AsyncIterator[Any]:
        if not self.active:
            async for obj in result:
                yield obj
            return
        role = role_of(response)
        if role == "listing":
            async for obj in self._listing(response, result):
                yield obj
        else:
            async for obj in self._other(response, result):
                yield obj

    async def _listing(self, response, result):
        buffered, error = [], None
        try:
            async for obj in result:
                buffered.append(obj)
        except Exception as exc:  # noqa: BLE001 — re-raised below, after what came before it
            error = exc
        articles = [o for o in buffered if isinstance(o, Request) and role_of(o) == "article"]
        known = self._known(articles)
        stop = (
            error is None
            and bool(articles)
            and all(a.url in known for a in articles)
            and self.may_stop_listings
        )
        if stop:
            followups = sum(
                1 for o in buffered if isinstance(o, Request) and role_of(o) == "listing"
            )
            self.crawler.stats.inc_value("incremental/stopped_listings")
            if followups:
                self.crawler.stats.inc_value("incremental/dropped_listing_requests", followups)
            logger.info(
                "incremental: all %d articles of %s are stored; not following its %d "
                "listing request(s)",
                len(articles),
                response.url,
                followups,
            )
        for obj in buffered:
            if isinstance(obj, Request):
                r = role_of(obj)
                if r == "article" and obj.url in known:
                    self._skip(obj)
                    continue
                if stop and r == "listing":
                    continue
            yield obj
        if error is not None:
            raise error

    async def _other(self, response, result):
        async for obj in result:
            if isinstance(obj, Request) and role_of(obj) == "article" and self._known([obj]):
                self._skip(obj)
                continue
            yield obj
