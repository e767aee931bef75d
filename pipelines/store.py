"""Write every finished meeting to the store (ITEM_PIPELINES 500), in short batches.

Items are committed in one transaction per batch: every ``STORE_BATCH_SIZE`` items or
``STORE_BATCH_SECONDS`` seconds, whichever comes first, and when the spider closes.  A commit
per item cost more CPU than parsing the page.  A crash loses at most the open batch, which
is not lost data: an article counts as seen only once its record is committed, so the next
run fetches those articles again.

Counts ``store/new``, ``store/updated`` (content changed, earlier version kept as a
revision), ``store/moved`` (same content at a new URL) and ``store/unchanged``, and records
the run (spider, start, end, finish reason, counts, stats) in the ``runs`` table.
Disabled when ``MEETINGS_DB`` is empty.

One item never costs the others: an item the store could not hold the same way on SQLite
and PostgreSQL (a number past INTEGER, U+0000, a lone surrogate) is dropped before the feed
sees it (``store/dropped/<reason>``); a batch the database refuses is stored item by item,
and an item refused alone is logged at ERROR and counted (``store/failed``), which fails the
run's health check, while the rest commits.  The flush timer never dies of an error.
"""

from __future__ import annotations

import logging
from collections import Counter

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from twisted.internet import task

from crawler.store import FAILED, check_storable, get_store, store_enabled

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.store = None
        self.run_id = None
        self.counts: Counter = Counter()
        self.batch_size = max(1, crawler.settings.getint("STORE_BATCH_SIZE", 100))
        self.batch_seconds = crawler.settings.getfloat("STORE_BATCH_SECONDS", 1.0)
        # The open batch: id() of each scraped item → (the item, which keeps that id from
        # being reused, a copy of its fields, the URLs that redirected to it).
        self.pending: dict[int, tuple[object, dict, list[str]]] = {}
        self.timer = None

    @classmethod
    def from_crawler(cls, crawler):
        if not store_enabled(crawler.settings):
            raise NotConfigured("MEETINGS_DB is empty")
        pipe = cls(crawler)
        crawler.signals.connect(pipe.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self):
        self.store = get_store(self.crawler)
        self.run_id = self.store.start_run(self.crawler.spider.name)
        logger.info("store: %r, run %s", self.store, self.run_id)
        if self.batch_seconds > 0:
            self.timer = task.LoopingCall(self._timed_flush)
            self.timer.start(self.batch_seconds, now=False)

    def process_item(self, item):
        reason = check_storable(ItemAdapter(item))
        if reason:
            self.crawler.stats.inc_value(f"store/dropped/{reason}")
            raise DropItem(f"cannot be stored ({reason}): {ItemAdapter(item).get('url')}")
        # A shallow copy: the fields are plain values and lists.
        self.pending[id(item)] = (item, dict(ItemAdapter(item).items()), [])
        if len(self.pending) >= self.batch_size:
            self.flush()
        return item

    def item_scraped(self, item, response, spider):
        # The URLs that redirected to this article: remember them with it.
        aliases = [u for u in response.meta.get("redirect_urls", ()) if u != response.url]
        if not aliases:
            return
        entry = self.pending.get(id(item))
        if entry is not None and entry[0] is item:
            entry[2].extend(aliases)
        elif self.store is not None:  # already committed with its batch
            self._store([(dict(ItemAdapter(item).items()), aliases)], count=False)

    def flush(self):
        if not self.pending:
            return
        entries = [(fields, aliases) for _, fields, aliases in self.pending.values()]
        self.pending.clear()
        self._store(entries)

    def _store(self, entries, count=True):
        for (fields, _), (outcome, result) in zip(entries, self.store.upsert_each(entries)):
            if outcome == FAILED:
                self.crawler.stats.inc_value("store/failed")
                logger.error("store: could not store %s: %s", fields.get("url"), result,
                             extra={"spider": self.crawler.spider})
                continue
            if count:
                self.counts[outcome] += 1
                self.crawler.stats.inc_value(f"store/{outcome}")

    def _timed_flush(self):
        # An exception would stop the LoopingCall for the rest of the crawl.
        try:
            self.flush()
        except Exception:
            self.crawler.stats.inc_value("store/flush_errors")
            logger.exception("store: flush failed", extra={"spider": self.crawler.spider})

    def close_spider(self):
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        if self.store is not None:
            self.flush()

    def spider_closed(self, spider, reason):
        # Runs after CoreStats recorded finish_reason/finish_time; before the engine stops.
        if self.store is None or self.run_id is None:
            return
        stats = dict(self.crawler.stats.get_stats())
        self.store.finish_run(self.run_id, reason, stats, self.counts)
