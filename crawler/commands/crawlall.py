"""`scrapy crawlall`: every portal spider in one process — the daily cron job."""

from __future__ import annotations

import argparse

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Run every portal spider (or --only some) in one process"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--only", metavar="NAMES", help="comma-separated spider names (default: all)")
        parser.add_argument("-a", dest="spargs", action="append", default=[], metavar="NAME=VALUE",
                            help="spider argument for every spider (e.g. -a full=1)")
        parser.add_argument("--replica", action="store_true",
                            help="crawl an offline replica of the portals served in this process")
        parser.add_argument("--replica-articles", type=int, default=60, metavar="N",
                            help="meeting articles per portal in the replica (default: 60)")
        parser.add_argument("--replica-seed", type=int, default=1, metavar="S")

    def spider_names(self, only: str | None) -> list[str]:
        available = sorted(self.crawler_process.spider_loader.list())
        if not only:
            return available
        names = [n.strip() for n in only.split(",") if n.strip()]
        unknown = sorted(set(names) - set(available))
        if unknown:
            raise UsageError(f"unknown spider(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return names

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("crawlall takes no positional arguments")
        spargs = dict(arg.split("=", 1) for arg in opts.spargs if "=" in arg)
        names = self.spider_names(opts.only)
        if opts.replica:
            self._serve_replica(opts.replica_articles, opts.replica_seed)
        crawlers = []
        for name in names:
            crawler = self.crawler_process.create_crawler(name)
            crawlers.append(crawler)
            self.crawler_process.crawl(crawler, **spargs)
        self.crawler_process.start()
        failed = [c.spider.name if c.spider else "?" for c in crawlers if _finish_reason(c) != "finished"]
        if self.crawler_process.bootstrap_failed or failed:
            self.exitcode = 1

    def _serve_replica(self, articles: int, seed: int) -> None:
        # The replica listens on the reactor the crawl runs on: one process, no network.
        from crawler.replica import build_site, listen

        port = listen(build_site(articles=articles, seed=seed), port=0).getHost().port
        self.settings.set("PORTAL_MIRROR", f"http://127.0.0.1:{port}", priority="cmdline")
        # A local server needs no politeness delays.
        self.settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        self.settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")


def _finish_reason(crawler) -> str | None:
    return crawler.stats.get_value("finish_reason") if crawler.stats else None
