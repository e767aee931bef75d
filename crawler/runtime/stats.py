"""The crawl's stats collector (``STATS_CLASS``): Scrapy's in-memory collector, at full speed.

Since Scrapy 2.13 ``StatsCollector`` defines ``__getattribute__`` to wrap its methods in a
warning about the deprecated ``spider`` argument.  That hook runs on every attribute read of
the collector, its own ``self._stats`` included, and raises and catches an AttributeError for
each: an ``inc_value`` costs 2.9 µs instead of 0.14 µs (measured here), and a crawl makes
15–30 stats calls per page.  This collector reads its attributes the plain way; it behaves
like ``MemoryStatsCollector`` in all else (a caller still passing ``spider=`` loses only
the deprecation warning).
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class MeetingStatsCollector(MemoryStatsCollector):
    __getattribute__ = object.__getattribute__
