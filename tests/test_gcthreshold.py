"""The GC threshold extension (crawler/runtime/gcthreshold.py) on real crawlers' signals: set while
crawls run, Python's own restored after the last one, off with 0."""

from __future__ import annotations

import gc

import pytest
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.runtime.gcthreshold import GcThreshold
from spiders.laishan import LaishanSpider


@pytest.fixture
def python_default():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield (700, 10, 10)
    gc.set_threshold(*saved)


def opened(crawler):
    crawler.spider = LaishanSpider()
    crawler.signals.send_catch_log(signals.spider_opened, spider=crawler.spider)


def closed(crawler):
    crawler.signals.send_catch_log(signals.spider_closed, spider=crawler.spider, reason="finished")


def test_threshold_while_crawls_run_then_restored(python_default):
    first, second = (get_crawler(settings_dict={"GC_GEN0_THRESHOLD": 5000}) for _ in range(2))
    extensions = [GcThreshold.from_crawler(c) for c in (first, second)]  # noqa: F841 (kept alive)
    opened(first)
    assert gc.get_threshold() == (5000, 10, 10)
    opened(second)  # crawlall: crawls side by side
    closed(first)
    assert gc.get_threshold() == (5000, 10, 10)
    closed(second)
    assert gc.get_threshold() == python_default


def test_zero_leaves_pythons_threshold(python_default):
    with pytest.raises(NotConfigured):
        GcThreshold.from_crawler(get_crawler(settings_dict={"GC_GEN0_THRESHOLD": 0}))
    assert gc.get_threshold() == python_default
