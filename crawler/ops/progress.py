"""What a person at a terminal sees while ``scrapy crawlall`` or ``scrapy crawl`` runs.

When stderr is a terminal, a live display (rich) instead of Scrapy's INFO log: one line per
portal with its listing pages, articles fetched of those found so far, items, errors and
elapsed time, and its verdict when it closes; the full log goes to the log file, and errors
still print, above the display.  ``-L INFO`` (any level below WARNING)
or ``--verbose`` brings the log lines back instead, and ``--no-progress`` /
``CRAWLALL_PROGRESS=False`` turns the display off.  Under cron, systemd or a pipe (no
terminal) nothing here runs: plain log lines, as before.

The display is drawn on the reactor (a ``LoopingCall``), never from another thread, so it
reads the stats the crawl writes without locking.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from crawler.ops.health import articles_fetched

CMDLINE_PRIORITY = 40  # scrapy.settings.SETTINGS_PRIORITIES["cmdline"]: -L, -s


def is_tty(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def wants_display(settings, no_progress: bool = False, verbose: bool = False,
                  stream: TextIO | None = None) -> bool:
    """A live display, not log lines, on this console?  Only on a terminal, and only when the
    console would show no more than warnings (the display is the INFO log's stand-in)."""
    if no_progress or verbose or not settings.getbool("CRAWLALL_PROGRESS", True) or not is_tty(stream):
        return False
    if not settings.getbool("LOG_ENABLED", True) or settings.get("LOG_FILE"):
        return True  # nothing logs to the console anyway
    if (settings.getpriority("LOG_LEVEL") or 0) >= CMDLINE_PRIORITY:
        return _level(settings.get("LOG_LEVEL")) >= logging.WARNING
    return True


def quiet_console(settings) -> None:
    """Before Scrapy builds its console handler: errors only — the display and the summary
    after it show the rest (dropped items, health warnings), the log file has it all at INFO.
    An explicit ``-L``/``-s LOG_LEVEL`` stands."""
    if (settings.getpriority("LOG_LEVEL") or 0) < CMDLINE_PRIORITY:
        # cmdline priority: the project's LOG_LEVEL (settings/base.py) would win over less.
        settings.set("LOG_LEVEL", "ERROR", priority="cmdline")


def _level(value) -> int:
    if isinstance(value, int):
        return value
    level = logging.getLevelName(str(value or "INFO").upper())
    return level if isinstance(level, int) else logging.INFO


class _ErrorsBySpider(logging.Handler):
    """ERROR/CRITICAL records per spider while the crawl runs (the health check counts them
    the same way at the end): a record without a spider counts for every open one."""

    def __init__(self, crawlers):
        super().__init__(level=logging.ERROR)
        self.crawlers = crawlers
        self.counts: dict[int, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        spider = getattr(record, "spider", None)
        for crawler in self.crawlers:
            if crawler.spider is not None and (spider is None or spider is crawler.spider):
                if "finish_reason" not in _stats(crawler):
                    self.counts[id(crawler)] = self.counts.get(id(crawler), 0) + 1


class ProgressDisplay:
    """A rich live display of ``crawlers``, refreshed every ``interval`` seconds."""

    def __init__(self, crawlers: list, title: str = "", stream: TextIO | None = None, interval: float = 0.5):
        from rich.console import Console

        self.crawlers = crawlers
        self.title = title
        self.stream = stream or sys.stderr
        self.interval = interval
        self.console = Console(file=self.stream, highlight=False)
        self.started = time.monotonic()
        self._progress = None
        self._tasks: dict[int, int] = {}
        self._call = None
        self._errors = _ErrorsBySpider(crawlers)
        self._handler: logging.Handler | None = None
        self._handler_stream = None

    # -- what is shown

    def _build(self):
        from rich.progress import BarColumn, Progress, TextColumn

        title = self.title

        class _Titled(Progress):
            def get_renderables(self):
                if title:
                    yield title
                yield from super().get_renderables()

        width = max([len(self._name(c)) for c in self.crawlers] + [6])
        return _Titled(
            TextColumn(f"{{task.description:<{width}}}"),
            BarColumn(bar_width=16),
            TextColumn("{task.fields[pages]:>3} listing pages"),
            TextColumn("{task.fields[articles]:>11} articles"),
            TextColumn("{task.fields[items]:>5} items"),
            TextColumn("{task.fields[errors]:>3} errors"),
            TextColumn("{task.fields[elapsed]:>5}"),
            TextColumn("{task.fields[status]}"),
            console=self.console, auto_refresh=False, redirect_stdout=False, redirect_stderr=True,
        )

    @staticmethod
    def _name(crawler) -> str:
        return crawler.spider.name if crawler.spider else crawler.spidercls.name

    def update(self) -> None:
        for crawler in self.crawlers:
            stats = _stats(crawler)
            task = self._tasks[id(crawler)]
            found = max(0, int(stats.get("listing/meetings", 0)) - int(stats.get("incremental/skipped_articles", 0)))
            fetched = articles_fetched(stats)
            reason = stats.get("finish_reason")
            if reason is None:
                status = "[dim]crawling[/]" if stats.get("start_time") else "[dim]waiting[/]"
                errors = self._errors.counts.get(id(crawler), 0)
            else:
                status = _verdict(stats, reason)
                errors = stats.get("health/errors", self._errors.counts.get(id(crawler), 0))
            # Found articles are known only as the listing is read: the bar is of those.
            total = max(found, fetched) or None
            if reason is not None and total is None:
                total, fetched = 1, 1  # nothing to fetch: a full bar, not an empty one
            self._progress.update(task, completed=fetched, total=total,
                                  pages=int(stats.get("listing/pages", 0)), articles=f"{articles_fetched(stats)}/{found if found or reason else '?'}",
                                  items=int(stats.get("item_scraped_count", 0)), errors=int(errors),
                                  elapsed=_elapsed(stats), status=status)

    def draw(self) -> None:
        try:
            self.update()
            self._progress.refresh()
        except (OSError, ValueError):  # terminal gone: stop drawing, keep crawling
            self.stop()

    # -- life cycle

    def start(self) -> None:
        from scrapy.utils.log import get_scrapy_root_handler
        from twisted.internet import task

        self._progress = self._build()
        for crawler in self.crawlers:
            self._tasks[id(crawler)] = self._progress.add_task(
                self._name(crawler), total=None, pages=0, articles="0/?", items=0, errors=0, elapsed="",
                status="[dim]waiting[/]")
        logging.getLogger().addHandler(self._errors)
        self._progress.start()
        # Scrapy's console handler writes to the sys.stderr it was made with; through rich's
        # proxy its warnings print above the display instead of through it.
        handler = get_scrapy_root_handler()
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            self._handler, self._handler_stream = handler, handler.stream
            handler.setStream(sys.stderr)
        self._call = task.LoopingCall(self.draw)
        self._call.start(self.interval, now=True)

    def stop(self) -> None:
        if self._call is not None and self._call.running:
            self._call.stop()
        self._call = None
        if self._progress is None:
            return
        try:
            self.update()
            self._progress.refresh()
        except (OSError, ValueError):
            pass
        if self._handler is not None:
            self._handler.setStream(self._handler_stream)
            self._handler = None
        self._progress.stop()
        self._progress = None
        logging.getLogger().removeHandler(self._errors)


def _stats(crawler) -> dict:
    try:  # a crawler has stats from the moment its crawl starts
        return crawler.stats.get_stats()
    except (RuntimeError, AttributeError):
        return {}


def _elapsed(stats) -> str:
    from datetime import datetime, timezone

    start = stats.get("start_time")
    if not isinstance(start, datetime):
        return ""
    end = stats.get("finish_time")
    end = end if isinstance(end, datetime) else datetime.now(start.tzinfo or timezone.utc)
    seconds = max(0, int((end - start).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _verdict(stats, reason) -> str:
    status = stats.get("health/status") or ("ok" if reason == "finished" else "fail")
    checks = ", ".join(stats.get("health/failed_checks") or [])
    if status == "fail":
        return f"[bold red]FAIL[/] {checks or reason}"
    if status == "warn":
        return "[yellow]warn[/]"
    return "[green]ok[/]"
