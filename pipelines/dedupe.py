"""Drop a meeting already taken in this run (ITEM_PIPELINES 400).

The key is that of SCHEMA.md (``crawler.store.dedupe_key``): ``(portal, index_number)``
where the portal prints one, else ``(portal, published date, title)``; never the URL alone.
Across runs the store (pipeline 500) decides whether a meeting is new, updated or unchanged.
"""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler.store import get_store, item_key, store_enabled

logger = logging.getLogger(__name__)


class DedupePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.seen: dict[tuple[str, str], str] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        self.seen.clear()

    def process_item(self, item):
        adapter = ItemAdapter(item)
        key = item_key(adapter)
        url = adapter.get("url")
        first_url = self.seen.get(key)
        if first_url is None:
            self.seen[key] = url
            return item
        self.crawler.stats.inc_value("dedupe/duplicate_in_run")
        logger.info("dedupe: %s repeats %s (key %r), dropped", url, first_url, key)
        if url and url != first_url and store_enabled(self.crawler.settings):
            # So that incremental runs need not fetch this second address again.
            get_store(self.crawler).mark_url(url, key[0], "duplicate")
        raise DropItem(f"duplicate in this run of {first_url} (key {key!r})")
