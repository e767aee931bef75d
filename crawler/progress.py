"""Live progress of a crawlall run on a terminal: one line, rewritten in place.

Only when the stream is a TTY; under cron (no TTY) nothing is drawn and the log lines
(Scrapy's LogStats every minute, the summary at the end) are all there is.  Log records
printed to the console while the line is up clear it first (a filter on Scrapy's root
handler), and it is redrawn on the next tick.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from typing import TextIO

CLEAR = "\r\x1b[K"


def is_tty(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _ClearLineFilter(logging.Filter):
    def __init__(self, progress: "Progress"):
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress.clear()
        return True


class Progress:
    """Draw ``name pages/items`` of each crawler every ``interval`` seconds on the reactor."""

    def __init__(self, crawlers: list, stream: TextIO | None = None, interval: float = 0.5):
        self.crawlers = crawlers
        self.stream = stream or sys.stderr
        self.interval = interval
        self.started = time.monotonic()
        self._call = None
        self._shown = False
        self._filter = _ClearLineFilter(self)
        self._handler: logging.Handler | None = None

    def line(self) -> str:
        parts = []
        for crawler in self.crawlers:
            stats = crawler.stats.get_stats() if crawler.stats else {}
            name = crawler.spider.name if crawler.spider else crawler.spidercls.name
            done = "finish_reason" in stats
            mark = (" ok" if stats["finish_reason"] == "finished" else " !") if done else ""
            parts.append(f"{name} {stats.get('response_received_count', 0)}p/"
                         f"{stats.get('item_scraped_count', 0)}i{mark}")
        elapsed = int(time.monotonic() - self.started)
        text = f"[{elapsed // 60}:{elapsed % 60:02d}] " + " | ".join(parts)
        width = shutil.get_terminal_size((120, 20)).columns - 1
        return text[:width]

    def draw(self) -> None:
        try:
            self.stream.write(CLEAR + self.line())
            self.stream.flush()
            self._shown = True
        except (OSError, ValueError):  # terminal gone: stop drawing, keep crawling
            self.stop()

    def clear(self) -> None:
        if self._shown:
            try:
                self.stream.write(CLEAR)
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self._shown = False

    def start(self) -> None:
        from scrapy.utils.log import get_scrapy_root_handler
        from twisted.internet import task

        self._handler = get_scrapy_root_handler()
        if self._handler is not None:
            self._handler.addFilter(self._filter)
        self._call = task.LoopingCall(self.draw)
        self._call.start(self.interval, now=False)

    def stop(self) -> None:
        if self._call is not None and self._call.running:
            self._call.stop()
        self._call = None
        if self._handler is not None:
            self._handler.removeFilter(self._filter)
            self._handler = None
        self.clear()
