"""A page's parsed tree is freed by reference counting once its callback is done
(crawler/runtime/pages.py): no response is left in a reference cycle for the collector."""

import asyncio
import gc

import scrapy

from crawler.cms.base import parse_page
from crawler.cms.static import StaticList
from crawler.runtime.pages import ReleasePageMiddleware
from tests.snapshots import HTML_TYPES, expected_cases


def a_page():
    portal, _, page, url = next(iter(expected_cases()))
    return portal, url, page.read_bytes()


def garbage_after(work) -> int:
    """Objects only the cyclic collector could free, left by ``work()`` (run once before,
    so that what a first call builds to keep, its caches, is not counted)."""
    work()
    gc.collect()
    gc.disable()
    try:
        work()
        return gc.collect()
    finally:
        gc.enable()


def test_a_response_read_through_its_selector_is_left_in_a_cycle_without_the_middleware():
    portal, url, body = a_page()

    def read():
        response = scrapy.http.HtmlResponse(url=url, body=body, headers={"Content-Type": HTML_TYPES[portal]})
        response.css("title::text").get()

    assert garbage_after(read) > 10  # Scrapy's Selector keeps its response: the cycle this fixes


def test_the_middleware_frees_the_page_once_its_output_is_taken():
    portal, url, body = a_page()

    async def callback_output(response):
        yield {"title": response.css("title::text").get()}

    def crawl_one():
        response = scrapy.http.HtmlResponse(url=url, body=body, headers={"Content-Type": HTML_TYPES[portal]})

        async def take():
            return [obj async for obj in ReleasePageMiddleware().process_spider_output(
                response, callback_output(response))]

        items = asyncio.run(take())
        assert items and items[0]["title"]

    assert garbage_after(crawl_one) == 0


def test_the_parser_frees_the_page_it_parsed():
    portal, url, body = a_page()
    templates = tuple(t for g in [StaticList] for t in g.articles)

    def parse():
        reason, fields, _ = parse_page(templates, (), portal, url, body, "utf-8", url)
        assert reason or fields

    assert garbage_after(parse) == 0
