"""`scrapy alert-test`: send a test message to every ``ALERT_URLS`` service (or ``--url``).

For checking a new URL before cron relies on it: it says per service whether the message got
through and exits 0 only when every one did (1 otherwise, 2 when there is no URL at all).
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from datetime import datetime, timezone

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False  # no crawl: no Scrapy banner, problems on stderr

    def syntax(self) -> str:
        return "[--url URL ...]"

    def short_desc(self) -> str:
        return "Send a test alert to ALERT_URLS (mail, DingTalk, WeCom, Feishu, Slack, webhooks)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--url", dest="urls", action="append", default=[], metavar="URL",
                            help="send to this apprise URL instead of ALERT_URLS (repeatable)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        from crawler.ops.alerts import alert_urls, deliver

        if args:
            raise UsageError("alert-test takes no positional arguments (use --url URL)")
        urls = alert_urls({"ALERT_URLS": opts.urls}) if opts.urls else alert_urls(self.settings)
        if not urls:
            raise UsageError("no alert URL: set ALERT_URLS (setting or environment variable) or give --url")
        # The services' own errors (apprise's log) next to ours, on stderr.
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s [%(name)s] %(message)s")
        host = socket.gethostname()
        when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        title = f"meetings crawlall on {host}: test alert"
        body = (f"A test message from `scrapy alert-test` on {host}, {when}.\n"
                "crawlall sends its failures, new warnings and recoveries here.")
        results = deliver(urls, title, body, timeout=self.settings.getfloat("ALERT_TIMEOUT", 30))
        for url, ok in results:
            sys.stdout.write(f"{'sent' if ok else 'FAILED'}  {url}\n")
        self.exitcode = 0 if all(ok for _, ok in results) else 1
