"""Scrapy extension for the benchmark: write the final stats as JSON to ``BENCH_STATS_FILE``,
with the crawl process's own CPU seconds and peak RSS (``bench/crawl_*``).

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
        # engine_stopped: after every spider_closed handler, the parser workers' figures too
        # (CoreStats has recorded finish_reason by then).
        crawler.signals.connect(ext.write, signal=signals.engine_stopped)
        return ext

    def write(self):
        import resource

        stats = {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in self.crawler.stats.get_stats().items()}
        # The crawl process alone (the parser workers report their own figures in the stats).
        usage = resource.getrusage(resource.RUSAGE_SELF)
        stats["bench/crawl_cpu_seconds"] = usage.ru_utime + usage.ru_stime
        stats["bench/crawl_max_rss_mb"] = usage.ru_maxrss / 1024
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump(stats, f, ensure_ascii=False, indent=1, sort_keys=True)
