"""Write every finished meeting to the store (ITEM_PIPELINES 500), one transaction each.

Counts ``store/new``, ``store/updated`` (content changed, earlier version kept as a
revision), ``store/moved`` (same content at a new URL) and ``store/unchanged``, and records
the run (spider, start, end, finish reason, counts, stats) in the ``runs`` table.
Disabled when ``MEETINGS_DB`` is empty.
"""

from __future__ import annotations

import logging
from collections import Counter

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.store import get_store, store_enabled

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.store = None
        self.run_id = None
        self.counts: Counter = Counter()

    @classmethod
    def from_crawler(cls, crawler):
        if not store_enabled(crawler.settings):
            raise NotConfigured("MEETINGS_DB is empty")
        pipe = cls(crawler)
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self):
        self.store = get_store(self.crawler)
        self.run_id = self.store.start_run(self.crawler.spider.name)
        logger.info("store: %r, run %s", self.store, self.run_id)

    def process_item(self, item):
        # A shallow copy: the fields are plain values and lists (asdict() recursed into every
        # list element, ~0.3 ms an item).
        outcome, meeting_id = self.store.upsert(dict(ItemAdapter(item).items()))
        self.counts[outcome] += 1
        self.crawler.stats.inc_value(f"store/{outcome}")
        if outcome != "unchanged":
            logger.debug("store: %s %s (meeting %s)", outcome, ItemAdapter(item).get("url"), meeting_id)
        return item

    def spider_closed(self, spider, reason):
        # Runs after CoreStats recorded finish_reason/finish_time; before the engine stops.
        if self.store is None or self.run_id is None:
            return
        stats = dict(self.crawler.stats.get_stats())
        self.store.finish_run(self.run_id, reason, stats, self.counts)
