"""`scrapy crawl`, as Scrapy's, with crawlall's progress display and summary on a terminal.

Under cron, systemd or a pipe it is Scrapy's command unchanged.  On a terminal (unless
``--verbose``, ``-L`` below WARNING, ``--no-progress`` or ``CRAWLALL_PROGRESS=False``) the log
goes to ``CRAWL_LOG_FILE`` through Scrapy's own ``LOG_FILE`` (unless ``--logfile`` names one),
stderr shows the live display (crawler/ops/progress.py) and stdout the portal's summary row.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from scrapy.commands.crawl import Command as ScrapyCrawlCommand


class Command(ScrapyCrawlCommand):
    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--no-progress", action="store_true",
                            help="no live progress display even on a terminal")
        parser.add_argument("--verbose", action="store_true",
                            help="on a terminal too, the log lines instead of the progress display")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        from crawler.ops.progress import wants_display

        self.display = len(args) == 1 and wants_display(self.settings, opts.no_progress, opts.verbose)
        self.log_file = self.settings.get("LOG_FILE")
        if self.display and not self.log_file and self.settings.getbool("LOG_ENABLED", True):
            from crawler.commands.crawlall import _project_path

            pattern = self.settings.get("CRAWL_LOG_FILE") or ""
            if pattern:
                path = _project_path(datetime.now().strftime(pattern.replace("{spider}", args[0])))
                path.parent.mkdir(parents=True, exist_ok=True)
                # Before Scrapy builds its log handler: the whole log, banner included, to the file.
                self.settings.set("LOG_FILE", str(path), priority="cmdline")
                self.log_file = str(path)
            else:
                from crawler.ops.progress import quiet_console

                quiet_console(self.settings)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not getattr(self, "display", False):
            return super().run(args, opts)
        from crawler.commands.crawlall import _shown_path
        from crawler.ops.progress import ProgressDisplay
        from crawler.ops.summary import format_table, portal_summary

        crawler = self.crawler_process.create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        log = f" · full log: {_shown_path(self.log_file)}" if self.log_file else ""
        display = ProgressDisplay([crawler], f"crawl {args[0]}{log}", sys.stderr,
                                  interval=self.settings.getfloat("CRAWLALL_PROGRESS_INTERVAL", 0.5))
        display.start()
        try:
            self.crawler_process.start()
        finally:
            display.stop()
        try:
            stats = crawler.stats.get_stats()
        except RuntimeError:  # the crawl never started: Scrapy logged why
            stats = {}
        row = portal_summary(args[0], stats, stats.get("finish_reason"))
        sys.stdout.write(f"\n{format_table([row], total=False)}\n")
        if self.log_file:
            sys.stdout.write(f"full log: {_shown_path(self.log_file)}\n")
        sys.stdout.flush()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
