"""Scrapy extension for the benchmark: write the final stats as JSON to ``BENCH_STATS_FILE``.

    scrapy crawl laishan -s EXTENSIONS='{"bench.statsdump.StatsDump": 0}' -s BENCH_STATS_FILE=/tmp/s.json
"""

from __future__ import annotations

import json

from scrapy import signals
from scrapy.exceptions import NotConfigured


class StatsDump:
    def __init__(self, crawler, path: str):
        self.crawler, self.path = crawler, path

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("BENCH_STATS_FILE")
        if not path:
            raise NotConfigured
        ext = cls(crawler, path)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def closed(self, spider, reason):
        stats = {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in self.crawler.stats.get_stats().items()}
        stats["finish_reason"] = reason
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump(stats, f, ensure_ascii=False, indent=1, sort_keys=True)
