"""crawlall over several processes: the portals split between crawl processes, one a core.

One Python process runs Scrapy on one core, and a hundred portals at their polite pace ask for
more than a core can parse and store (bench/many.py).  ``crawlall`` then starts
``CRAWLALL_PROCESSES`` shard processes (``scrapy crawlall --only SOME --shard-report FD``),
each crawling its share of the portals with the parent's settings, and stays the one that
holds the lock, draws the progress display, prints the summary, records it and alerts.

A shard writes JSON lines to the pipe it was given: ``{"progress": {portal: stats}}`` every
``CRAWLALL_PROGRESS_INTERVAL`` when the parent draws a display, and ``{"final": {portal:
stats}, "bootstrap_failed": bool}`` once its crawls are over.  A shard that ends without its
final line (killed, crashed) leaves its portals without stats: the summary fails each of them
("its crawl process ended without a report") and the run, never silently fine.

``CRAWLALL_PROCESSES`` 0 (the default) picks one process per ``CRAWLALL_PORTALS_PER_PROCESS``
portals, at most one per core: the five portals of the project run in one process, as before;
a hundred on two cores in two.  Shards parse pages in their own process (``PARSE_PROCESSES``
0 unless set on the command line): with a shard per core, a parser worker per shard would add
only the cost of sending it the pages.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from datetime import datetime
from typing import Any

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

logger = logging.getLogger(__name__)

CMDLINE = SETTINGS_PRIORITIES["cmdline"]
_DATES = ("start_time", "finish_time")


def process_count(settings, portals: int) -> int:
    """How many crawl processes for ``portals`` portals (``CRAWLALL_PROCESSES``, 0: automatic)."""
    wanted = settings.getint("CRAWLALL_PROCESSES", 0)
    if wanted <= 0:
        per = max(1, settings.getint("CRAWLALL_PORTALS_PER_PROCESS", 20))
        wanted = min(os.cpu_count() or 1, portals // per)
    return max(1, min(wanted, portals))


def split(names: list[str], parts: int) -> list[list[str]]:
    """Portals dealt out in turn, so that each share holds every kind of portal."""
    return [names[i::parts] for i in range(parts) if names[i::parts]]


def passed_settings(settings) -> list[str]:
    """``-s NAME=VALUE`` for every setting given on the parent's command line (or set there by
    crawlall itself), so that a shard crawls exactly as the parent would have."""
    args: list[str] = []
    for name in sorted(settings):
        if (settings.getpriority(name) or 0) < CMDLINE:
            continue
        value = settings[name]
        if isinstance(value, BaseSettings):
            value = value.copy_to_dict()
        if isinstance(value, (dict, list, tuple)):
            value = json.dumps(value, ensure_ascii=False, default=str)
        args += ["-s", f"{name}={value}"]
    return args


def shard_command(settings, names: list[str], spargs: dict[str, str], report_fd: int, progress: bool) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy.cmdline", "crawlall", "--only", ",".join(names),
           "--shard-report", str(report_fd), "--no-progress"]
    if progress:
        cmd += ["--shard-progress"]
    cmd += passed_settings(settings)
    if (settings.getpriority("PARSE_PROCESSES") or 0) < CMDLINE:
        cmd += ["-s", "PARSE_PROCESSES=0"]
    for key, value in spargs.items():
        cmd += ["-a", f"{key}={value}"]
    return cmd


def _revived(stats: dict) -> dict:
    for key in _DATES:
        if isinstance(stats.get(key), str):
            try:
                stats[key] = datetime.fromisoformat(stats[key])
            except ValueError:
                pass
    return stats


# -- in the shard


class ShardReport:
    """The shard's side: snapshots while its crawlers run, their final stats at the end."""

    def __init__(self, fd: int, crawlers: list, progress_interval: float | None):
        self.out = os.fdopen(fd, "w", encoding="utf-8", closefd=True)
        self.crawlers = crawlers
        self.interval = progress_interval
        self._call = None

    def _stats(self) -> dict[str, dict]:
        out = {}
        for crawler in self.crawlers:
            try:
                stats = crawler.stats.get_stats() if crawler.stats else {}
            except (AttributeError, RuntimeError):
                stats = {}
            out[crawler.spidercls.name] = stats
        return out

    def _send(self, message: dict) -> None:
        try:
            # default=str: the stats' datetimes go as ISO text, revived by the parent.
            self.out.write(json.dumps(message, ensure_ascii=False, default=str) + "\n")
            self.out.flush()
        except (OSError, ValueError):  # the parent is gone: crawl on, report nothing
            pass

    def start(self) -> None:
        if self.interval:
            from twisted.internet import task

            self._call = task.LoopingCall(lambda: self._send({"progress": self._stats()}))
            self._call.start(self.interval, now=False)

    def finish(self, bootstrap_failed: bool) -> None:
        if self._call is not None and self._call.running:
            self._call.stop()
        self._send({"final": self._stats(), "bootstrap_failed": bool(bootstrap_failed)})
        try:
            self.out.close()
        except OSError:
            pass


# -- in the parent


class _Stats:
    def __init__(self):
        self.latest: dict[str, Any] = {}

    def get_stats(self) -> dict:
        return self.latest


class ShardedCrawler:
    """What the progress display reads of a crawler, for a portal crawled in a shard."""

    def __init__(self, name: str):
        self.spider = None
        self.spidercls = type("Portal", (), {"name": name})
        self.stats = _Stats()


def run_shards(settings, groups: list[list[str]], spargs: dict[str, str], crawlers: dict[str, ShardedCrawler],
               display=None) -> tuple[dict[str, dict], bool]:
    """Run one shard per group on this process's reactor until all have ended, keeping
    ``crawlers`` (by portal) up to date for ``display``; the final stats of each portal whose
    shard reported, and whether any shard failed to bootstrap or ended without a report."""
    from twisted.internet import protocol, reactor

    final: dict[str, dict] = {}
    failed = [False]
    running = [len(groups)]

    class Shard(protocol.ProcessProtocol):
        def __init__(self, names):
            self.names = names
            self.buffer = b""
            self.reported = False

        def childDataReceived(self, fd, data):
            if fd == 2:  # its console, through ours (above the display when one is drawn)
                sys.stderr.write(data.decode("utf-8", "replace"))
                sys.stderr.flush()
                return
            self.buffer += data
            *lines, self.buffer = self.buffer.split(b"\n")
            for line in lines:
                self.line(line)

        def line(self, raw: bytes):
            try:
                message = json.loads(raw)
            except ValueError:
                logger.error("crawlall: a shard wrote a line that is no report: %r", raw[:200])
                return
            for name, stats in (message.get("progress") or {}).items():
                if name in crawlers:
                    crawlers[name].stats.latest = _revived(stats)
            if "final" in message:
                self.reported = True
                failed[0] = failed[0] or bool(message.get("bootstrap_failed"))
                for name, stats in message["final"].items():
                    final[name] = _revived(stats)
                    if name in crawlers:
                        crawlers[name].stats.latest = final[name]

        def processEnded(self, reason):
            code = getattr(reason.value, "exitCode", None)
            if not self.reported:
                failed[0] = True
                logger.error("crawlall: the crawl process of %s ended without its report (exit %s)",
                             ", ".join(self.names), code)
            running[0] -= 1
            if running[0] == 0 and reactor.running:
                reactor.stop()

    report_fd = 3
    shards = []
    for names in groups:
        cmd = shard_command(settings, names, spargs, report_fd, progress=display is not None)
        fds = {0: 0, 1: 1, 2: "r" if display is not None else 2, report_fd: "r"}
        shards.append(Shard(names))
        reactor.spawnProcess(shards[-1], cmd[0], cmd, env=dict(os.environ), childFDs=fds)
    logger.info("crawlall: %d portal(s) in %d crawl processes", sum(map(len, groups)), len(groups))

    def on_signal(signum, _frame):
        # Ctrl-C reaches the shards from the terminal themselves (one process group), and
        # Scrapy's second signal would kill them uncleanly: only a signal sent to this process
        # alone (a TERM from a supervisor) is passed on.  Either way the shards close their
        # crawls and report, and this process waits for them, holding the lock till then.
        logger.warning("crawlall: signal %d, the crawl processes are closing their crawls", signum)
        if signum == signal.SIGTERM:
            for shard in shards:
                try:
                    shard.transport.signalProcess("TERM")
                except Exception:  # noqa: BLE001 - already ended
                    pass

    def take_signals():
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)

    reactor.callWhenRunning(take_signals)  # after the reactor's own handlers (SIGCHLD reaps shards)
    if display is not None:
        display.start()
    try:
        reactor.run()
    finally:
        if display is not None:
            display.stop()
    return final, failed[0]
