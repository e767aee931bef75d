"""Check an item against the contract: drop what is no meeting record, count what is missing."""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

logger = logging.getLogger(__name__)

# Without these an item is no record of a meeting.
REQUIRED = ("portal", "url", "title", "published_at", "body")
# Fields every meeting report should yield; a miss is counted, so health checks can tell
# a portal whose layout drifted.
EXPECTED = ("meeting_date", "meeting_kind", "source", "chair", "category")


class ValidatePipeline:
    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item):
        adapter = ItemAdapter(item)
        missing = [name for name in REQUIRED if not adapter.get(name)]
        if missing:
            for name in missing:
                self.stats.inc_value(f"validate/dropped/missing_{name}")
            raise DropItem(f"missing required field(s) {', '.join(missing)}: {adapter.get('url')}")
        for name in EXPECTED:
            if adapter.get(name) in (None, "", []):
                self.stats.inc_value(f"validate/missing/{name}")
        self.stats.inc_value("validate/ok")
        return item
