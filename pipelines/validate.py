"""Check an item against the contract: drop what is no meeting record, count what is missing,
bound what is too long."""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler.items import LIST_FIELDS

logger = logging.getLogger(__name__)

# Without these an item is no record of a meeting.
REQUIRED = ("portal", "url", "title", "published_at", "body")
# Fields every meeting report should yield; a miss is counted, so health checks can tell
# a portal whose layout drifted.
EXPECTED = ("meeting_date", "meeting_kind", "source", "chair", "category")

# Bounds on field sizes, in characters (VALIDATE_MAX_CHARS overrides some or all).  Far past
# any real meeting record (titles run to ~60 characters, bodies to ~20,000): what passes them
# is a page that dumped something else into the field.  A longer value is cut, a list past
# "list_items" loses its tail, each counted as validate/truncated/<field> and logged; the
# record is kept.  "url" is not cut (it is the record's address): an item with a longer
# URL is dropped (validate/dropped/url_too_long).
MAX_CHARS = {
    "title": 2000,
    "body": 200_000,
    "text": 1000,         # every other text field: source, chair, category …
    "list_item": 2000,    # one entry of a list field (an attachment's name and its URL each)
    "list_items": 500,    # entries per list field
    "url": 8000,
}


class ValidatePipeline:
    def __init__(self, stats, limits=None):
        self.stats = stats
        self.limits = {**MAX_CHARS, **(limits or {})}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats, crawler.settings.getdict("VALIDATE_MAX_CHARS"))

    def process_item(self, item):
        adapter = ItemAdapter(item)
        missing = [name for name in REQUIRED if not adapter.get(name)]
        if missing:
            for name in missing:
                self.stats.inc_value(f"validate/dropped/missing_{name}")
            raise DropItem(f"missing required field(s) {', '.join(missing)}: {adapter.get('url')}")
        if len(adapter["url"]) > self.limits["url"]:
            self.stats.inc_value("validate/dropped/url_too_long")
            raise DropItem(f"URL of {len(adapter['url'])} characters: {adapter['url'][:200]}…")
        self._bound(adapter)
        for name in EXPECTED:
            if adapter.get(name) in (None, "", []):
                self.stats.inc_value(f"validate/missing/{name}")
        self.stats.inc_value("validate/ok")
        return item

    def _bound(self, adapter) -> None:
        limits = self.limits
        for name, value in list(adapter.items()):
            if name in ("url", "portal"):
                continue
            if isinstance(value, str):
                limit = limits.get(name, limits["text"])
                if len(value) > limit:
                    adapter[name] = value[:limit]
                    self._truncated(adapter, name, len(value), limit)
            elif name in LIST_FIELDS and isinstance(value, (list, tuple)):
                cut, size = False, len(value)
                if len(value) > limits["list_items"]:
                    value, cut = list(value[: limits["list_items"]]), True
                entries = []
                for entry in value:
                    if isinstance(entry, str) and len(entry) > limits["list_item"]:
                        entry, cut = entry[: limits["list_item"]], True
                    elif isinstance(entry, dict):
                        long = {k: v[: limits["list_item"]] for k, v in entry.items()
                                if isinstance(v, str) and len(v) > limits["list_item"]}
                        if long:
                            entry, cut = {**entry, **long}, True
                    entries.append(entry)
                if cut:
                    adapter[name] = entries
                    self._truncated(adapter, name, size, limits["list_items"])

    def _truncated(self, adapter, name, size, limit):
        self.stats.inc_value(f"validate/truncated/{name}")
        logger.warning("%s: %s cut to its bound (%d; limit %d, VALIDATE_MAX_CHARS)", adapter.get("url"), name, size, limit)
