"""Run a spider's article callback and the processing pipelines on a page given as bytes.

This is what ``scrapy parse`` does for one URL, without a download: the benchmark of parse
cost and the tests of the snapshot pages use it, with the spider and pipelines unchanged.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Request
from scrapy.settings import Settings
from scrapy.responsetypes import responsetypes
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.project import get_project_settings

# The pipelines that turn a raw item into the contract (no store, no dedupe).
PROCESSING_PIPELINES = (
    "pipelines.normalize.NormalizePipeline",
    "pipelines.meeting.MeetingFieldsPipeline",
    "pipelines.fingerprint.FingerprintPipeline",
    "pipelines.validate.ValidatePipeline",
)


class OfflineParser:
    """One spider with its crawler, stats and processing pipelines, fed pages directly."""

    def __init__(self, spider_name: str, settings: dict | None = None):
        project = get_project_settings()
        spider_cls = SpiderLoader.from_settings(project).load(spider_name)
        # The callback and pipelines run here, in this process, as they are called.
        project.setdict({"PARSE_PROCESSES": 0, **(settings or {})}, priority="cmdline")
        # No engine and no reactor: only what the callback and pipelines use (stats,
        # settings, the spider) is built.
        self.crawler = Crawler(spider_cls, project)
        self.crawler.stats = load_object(project["STATS_CLASS"])(self.crawler)
        self.spider = spider_cls.from_crawler(self.crawler)
        self.crawler.spider = self.spider
        self.pipelines = [build_from_crawler(load_object(path), self.crawler) for path in PROCESSING_PIPELINES]

    @property
    def stats(self):
        return self.crawler.stats

    @staticmethod
    def response(url: str, body: bytes, headers: dict | None = None, request: Request | None = None):
        """The response Scrapy would build for these bytes and headers."""
        headers = headers or {}
        cls = responsetypes.from_args(headers=headers, url=url, body=body)
        return cls(url=url, body=body, headers=headers, request=request or Request(url))

    def parse(self, response):
        """The finished item for an article response, or None when it was dropped."""
        item = self.spider.parse_meeting(response)
        if item is None:
            return None
        try:
            for pipeline in self.pipelines:
                item = pipeline.process_item(item)
        except DropItem:
            return None
        return item
