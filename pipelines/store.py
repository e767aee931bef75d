"""Write every finished meeting to the store (ITEM_PIPELINES 500), in short batches.

Items are committed in one transaction per batch: every ``STORE_BATCH_SIZE`` items or
``STORE_BATCH_SECONDS`` seconds, whichever comes first, and when the spider closes; the
crawlers of one process share the batch (crawler/store/writer.py).  A commit per item cost
more CPU than parsing the page.  A crash loses at most the open batch, which
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
from crawler.store import FAILED, check_storable, get_store, store_enabled
from crawler.store.writer import BatchWriter, Entry

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.store = None
        self.writer: BatchWriter | None = None
        self.run_id = None
        self.counts: Counter = Counter()
        # Meetings in the open batch: id() of each scraped item → (the item, which keeps
        # that id from being reused, its entry in the batch).
        self.pending: dict[int, tuple[object, Entry]] = {}

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
        self.writer = BatchWriter.of(self.store, self.crawler.settings)
        self.writer.open(self)
        self.run_id = self.store.start_run(self.crawler.spider.name)
        logger.info("store: %r, run %s", self.store, self.run_id)

    def process_item(self, item):
        reason = check_storable(ItemAdapter(item))
        if reason:
            self.crawler.stats.inc_value(f"store/dropped/{reason}")
            raise DropItem(f"cannot be stored ({reason}): {ItemAdapter(item).get('url')}")
        # A shallow copy: the fields are plain values and lists.
        entry = Entry(dict(ItemAdapter(item).items()), [], id(item), self._stored, self._not_stored)
        self.pending[id(item)] = (item, entry)
        self.writer.add(entry)
        return item

    def item_scraped(self, item, response, spider):
        # The URLs that redirected to this article: remember them with it.
        aliases = [u for u in response.meta.get("redirect_urls", ()) if u != response.url]
        if not aliases:
            return
        held = self.pending.get(id(item))
        if held is not None and held[0] is item:
            held[1].aliases.extend(aliases)
        elif self.store is not None:  # already committed with its batch
            fields = dict(ItemAdapter(item).items())
            ((outcome, result),) = self.store.upsert_each([(fields, aliases)])
            self._report(fields, outcome, result, count=False)

    def _stored(self, entry, outcome, result):
        self.pending.pop(entry.key, None)
        self._report(entry.fields, outcome, result)

    def _report(self, fields, outcome, result, count=True):
        if outcome == FAILED:
            self.crawler.stats.inc_value("store/failed")
            logger.error("store: could not store %s: %s", fields.get("url"), result,
                         extra={"spider": self.crawler.spider})
        elif count:
            self.counts[outcome] += 1
            self.crawler.stats.inc_value(f"store/{outcome}")

    def _not_stored(self, entry, error):
        # Not the database refusing a meeting (that is FAILED): a fault of the writer itself.
        self.pending.pop(entry.key, None)
        self.crawler.stats.inc_value("store/flush_errors")
        self.crawler.stats.inc_value("store/failed")
        logger.error("store: could not store %s: the batch failed: %s: %s", entry.fields.get("url"),
                     type(error).__name__, error, extra={"spider": self.crawler.spider})

    def close_spider(self):
        if self.writer is not None:
            self.writer.close(self)

    def spider_closed(self, spider, reason):
        # Runs after CoreStats recorded finish_reason/finish_time; before the engine stops.
        if self.store is None or self.run_id is None:
            return
        stats = dict(self.crawler.stats.get_stats())
        self.store.finish_run(self.run_id, reason, stats, self.counts)
