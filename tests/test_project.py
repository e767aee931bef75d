"""The project as users call it: the spider list, the mirror setting."""

import logging
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import scrapy
from scrapy.utils.test import get_crawler

from scrapy.exceptions import IgnoreRequest

from crawler.runtime.middlewares import HostPolicyMiddleware
from spiders.laishan import LaishanSpider

ROOT = Path(__file__).resolve().parent.parent


def test_scrapy_list_prints_the_five_portals():
    out = subprocess.run([str(Path(sys.executable).parent / "scrapy"), "list"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ["beipiao", "jining", "laishan", "yingkou", "zhanqian"]


def mirror_for(origin, render=None):
    crawler = get_crawler(LaishanSpider, {"PORTAL_MIRROR": origin, "SPLASH_URL": "http://127.0.0.1:8050"})
    crawler.spider = LaishanSpider.from_crawler(crawler)
    crawler.spider.render = render
    mw = HostPolicyMiddleware.from_crawler(crawler)
    mw.spider_opened(crawler.spider)
    return mw


def test_mirror_sends_portal_requests_to_the_mirror_and_keeps_their_url():
    mw = mirror_for("http://127.0.0.1:8601/")
    request = scrapy.Request("http://www.ytlaishan.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=46",
                             method="POST", body=b"col=1")
    assert mw.process_request(request) is None
    assert request.meta["proxy"] == "http://127.0.0.1:8601"
    assert (request.url, request.method, request.body) == (
        "http://www.ytlaishan.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=46", "POST", b"col=1")


@pytest.mark.parametrize("url", [
    "http://www.ytlaishan.gov.cn:80/col/col53951/index.html",
    "http://www.ytlaishan.gov.cn:6379/robots.txt",
    "https://www.ytlaishan.gov.cn/art/2024/1/2/art_1.html",
    "http://news.www.ytlaishan.gov.cn/a.html",
])
def test_mirror_takes_portal_hosts_on_any_port_scheme_or_subdomain(url):
    mw = mirror_for("http://127.0.0.1:8601")
    request = scrapy.Request(url, dont_filter=True)
    assert mw.process_request(request) is None
    assert request.meta["proxy"] == "http://127.0.0.1:8601"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8050/render.html", "http://169.254.169.254/latest/",
                                 "http://ytlaishan.gov.cn.evil.example/", "http://127.0.0.2:6379/robots.txt"])
def test_mirror_mode_drops_every_other_host_even_dont_filter(url):
    mw = mirror_for("http://127.0.0.1:8601")
    request = scrapy.Request(url, dont_filter=True, meta={"allow_offsite": True})
    with pytest.raises(IgnoreRequest):
        mw.process_request(request)
    assert "proxy" not in request.meta


def test_splash_url_is_a_service_not_a_portal_when_rendering():
    mw = mirror_for("http://127.0.0.1:8601", render="splash")
    request = scrapy.Request("http://127.0.0.1:8050/render.html")
    assert mw.process_request(request) is None
    assert "proxy" not in request.meta


@pytest.mark.parametrize("origin", ["127.0.0.1:8601", "ftp://x", "http://"])
def test_mirror_rejects_what_is_not_an_origin(origin):
    with pytest.raises(ValueError, match="PORTAL_MIRROR"):
        mirror_for(origin)


def test_stats_collector_keeps_scrapys_behaviour():
    """The project's STATS_CLASS (crawler/stats.py) skips Scrapy's per-attribute hook; every
    method must still do what MemoryStatsCollector does, ``spider=`` included."""
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.misc import load_object
    from scrapy.utils.project import get_project_settings

    cls = load_object(get_project_settings()["STATS_CLASS"])
    assert cls is not MemoryStatsCollector and issubclass(cls, MemoryStatsCollector)
    results = []
    for collector_cls in (MemoryStatsCollector, cls):
        crawler = get_crawler(LaishanSpider)
        stats = collector_cls(crawler)
        spider = LaishanSpider()
        stats.open_spider()
        stats.inc_value("a")
        stats.inc_value("a", 2)
        stats.inc_value("b", 1, start=10)
        stats.max_value("m", 3)
        stats.max_value("m", 1)
        stats.min_value("n", 3)
        stats.min_value("n", 1)
        stats.set_value("s", "x")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scrapy.exceptions.ScrapyDeprecationWarning)
            stats.inc_value("a", spider=spider)  # the old signature still works
        crawler.spider = spider
        stats.close_spider(reason="finished")
        results.append((stats.get_stats(), stats.get_value("a"), stats.spider_stats))
    assert results[0] == results[1]
    assert results[1][0] == {"a": 4, "b": 11, "m": 3, "n": 1, "s": "x"}


@pytest.mark.parametrize("handler_level, shown", [(logging.INFO, False), (logging.DEBUG, True)])
def test_per_item_debug_messages_are_built_only_when_a_handler_shows_them(handler_level, shown):
    """LOG_FORMATTER (crawler/runtime/logformatter.py) skips "Crawled"/"Scraped from" when no handler
    on their loggers' way would keep a DEBUG record, and is Scrapy's formatter otherwise."""
    from scrapy.http import HtmlResponse
    from scrapy.logformatter import LogFormatter
    from scrapy.utils.misc import load_object
    from scrapy.utils.project import get_project_settings

    cls = load_object(get_project_settings()["LOG_FORMATTER"])
    request = scrapy.Request("http://www.ytlaishan.gov.cn/art/2022/8/3/art_1.html")
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    item, spider = {"title": "t"}, LaishanSpider()
    saved = {}
    try:
        for name in ("scrapy.core.engine", "scrapy.core.scraper"):
            logger = logging.getLogger(name)
            saved[name] = (logger.propagate, list(logger.handlers), logger.level)
            logger.propagate, logger.handlers = False, [logging.NullHandler(handler_level)]
            logger.setLevel(logging.DEBUG)  # the handler decides
        formatter = cls()
        crawled = formatter.crawled(request, response, spider)
        scraped = formatter.scraped(item, response, spider)
    finally:
        for name, (propagate, handlers, level) in saved.items():
            logger = logging.getLogger(name)
            logger.propagate, logger.handlers = propagate, handlers
            logger.setLevel(level)
    if shown:
        assert crawled == LogFormatter().crawled(request, response, spider)
        assert scraped == LogFormatter().scraped(item, response, spider)
    else:
        assert crawled is None and scraped is None
