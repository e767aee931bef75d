"""Parse article pages in worker processes, so that the crawl's one core only crawls.

Scrapy runs a crawl on one core; parsing an article page (an lxml DOM, the selectors, text
and field extraction) costs about a third of what Scrapy itself spends per page.
``PARSE_PROCESSES = N`` starts N worker processes that take that part: a spider sends a
pure function and its arguments (``crawler.cms.base.parse_page`` with the page's URL,
bytes and encoding) and gets a Deferred of the result.  The leading item pipelines that are
pure transforms (``runs_in_parser = True``: normalize, meeting fields, fingerprint) run there too, right
after the parse; their stats calls are replayed into the crawl's stats.  Everything with
state (drops, validation, dedupe, the store) stays in the crawl process, so a crawl yields
the same items and stats with or without workers.

Workers are child processes (``crawler/runtime/parseworker.py``) spoken to over their stdin/stdout
through the reactor (``reactor.spawnProcess``): length-prefixed pickle frames, no threads.  The standard
``ProcessPoolExecutor`` was measured first: its feeder and manager threads contend with
the reactor for the GIL and cost the crawl process 0.13 ms per page, three times these
pipes (0.04 ms) and a third of what moving the parse out saves.

One pool serves every crawl of a process (``crawlall`` runs its spiders side by side); it
starts its workers when the first article request is scheduled, not before (an incremental
run that fetches no article starts none), and stops them when the last crawl using it closes.  A worker
ignores SIGINT and SIGTERM, so Ctrl-C or a service stop lets Scrapy finish its pages
gracefully, and it exits when its stdin closes, so a crawler killed with SIGKILL leaves
none behind.  A worker that dies fails its pages with :class:`WorkerLost` (the spider
parses them in the crawl process, ``parse_pool/parsed_in_crawler``); the next page starts
a new one, up to ``PARSE_PROCESS_RESTARTS`` times, after which the pool parses nothing
more and every page is parsed in the crawl process (``parse_pool/disabled``).  A worker that
answers nothing for ``PARSE_TIMEOUT`` seconds is stuck on the page in hand (a pathological
page, catastrophic regex backtracking): that page fails with :class:`ParseTimeout` (a spider
error, ``parse_pool/timeouts``) and the worker is killed, so one page cannot hang a crawl, as
it would in the crawl process.

Stats: ``parse_pool/processes`` (at once), ``parse_pool/started``, ``parse_pool/pages``,
``parse_pool/workers_lost``, ``parse_pool/parsed_in_crawler``,
``parse_pool/worker_max_rss_mb`` and ``parse_pool/worker_cpu_seconds`` (the workers' own
figures, sent as they exit).
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import time
from pathlib import Path

from scrapy import signals
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, protocol, task

from crawler.runtime.parseworker import EXIT, HEADER, frame

logger = logging.getLogger(__name__)

_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])


class WorkerLost(RuntimeError):
    """The worker process parsing a page ended before it answered."""


class ParseTimeout(RuntimeError):
    """A page kept its worker busy past ``PARSE_TIMEOUT``: the page is dropped, the worker killed."""


class _PipeWriter:
    """The write end of a worker's stdin, written at once.

    Twisted's process transport buffers every write and writes it on the next reactor turn,
    registering and unregistering the pipe with the event loop each time: 65 µs of CPU per
    25 KB page against 12 µs for writing it straight away (measured here).  The pipe is
    enlarged (1 MiB, Linux) so that a page goes in whole; what does not fit waits in a
    buffer written when the pipe drains, in order (the reactor's ``addWriter``).
    """

    PIPE_SIZE = 1 << 20

    def __init__(self, reactor, fd: int):
        self.reactor, self.fd = reactor, fd
        self.backlog = bytearray()
        self.closing = False
        os.set_blocking(fd, False)
        try:
            import fcntl

            fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), self.PIPE_SIZE)
        except (ImportError, OSError):  # not Linux, or over /proc/sys/fs/pipe-max-size
            pass

    def fileno(self) -> int:
        return self.fd

    def logPrefix(self) -> str:
        return "parser worker stdin"

    def write(self, data: bytes) -> None:
        if self.fd < 0:
            return  # the worker is gone; its pages fail with WorkerLost
        if self.backlog:
            self.backlog += data
            return
        written = self._write(data)
        if written is not None and written < len(data):
            self.backlog += memoryview(data)[written:]
            self.reactor.addWriter(self)

    def _write(self, data) -> int | None:
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0
        except OSError:  # EPIPE: the worker died; processEnded follows
            self.abort()
            return None

    def doWrite(self):
        written = self._write(self.backlog)
        if written is None:
            return None
        del self.backlog[:written]
        if not self.backlog:
            self.reactor.removeWriter(self)
            if self.closing:
                self._close()
        return None

    def connectionLost(self, reason) -> None:
        self.abort()

    def close(self) -> None:
        """Close once everything written has gone into the pipe: the worker reads EOF."""
        self.closing = True
        if not self.backlog:
            self._close()

    def abort(self) -> None:
        if self.backlog:
            self.reactor.removeWriter(self)
            self.backlog.clear()
        self._close()

    def _close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class _Worker(protocol.ProcessProtocol):
    def __init__(self, pool: ParserPool, number: int):
        self.pool, self.number = pool, number
        self.pending: dict[int, defer.Deferred] = {}
        self.buffer = bytearray()
        self.ended = defer.Deferred()
        self.stdin: _PipeWriter | None = None
        # When the worker last made progress: an answer, or a task given to an idle worker.
        self.progress_at = time.monotonic()

    def send(self, task_id: int, fn, args) -> defer.Deferred:
        data = frame(task_id, (fn, args))  # raises here, in the caller, if it cannot be pickled
        if not self.pending:
            self.progress_at = time.monotonic()
        d = self.pending[task_id] = defer.Deferred()
        self.stdin.write(data)
        return d

    def stuck_on(self, timeout: float) -> int | None:
        """The task this worker has been busy with for more than ``timeout`` seconds (it
        answers in order, so the oldest pending one), or None."""
        if self.pending and time.monotonic() - self.progress_at > timeout:
            return next(iter(self.pending))
        return None

    def outReceived(self, data: bytes):
        self.buffer += data
        while len(self.buffer) >= HEADER.size:
            size, task_id = HEADER.unpack_from(self.buffer)
            end = HEADER.size + size
            if len(self.buffer) < end:
                return
            try:
                ok, value = pickle.loads(memoryview(self.buffer)[HEADER.size:end])
            except Exception as exc:  # noqa: BLE001 - e.g. an exception class this process lacks
                ok, value = False, RuntimeError(f"unreadable answer from parser worker {self.number}: {exc!r}")
            del self.buffer[:end]
            if task_id == EXIT:
                self.pool.worker_exited(value)
                continue
            self.progress_at = time.monotonic()
            d = self.pending.pop(task_id, None)
            if d is None:
                continue
            if ok:
                d.callback(value)
            else:
                d.errback(value)

    def errReceived(self, data: bytes):
        for line in data.decode("utf-8", "replace").splitlines():
            logger.warning("parser worker %d: %s", self.number, line)

    def processEnded(self, reason):
        self.stdin.abort()
        pending, self.pending = self.pending, {}
        self.pool.worker_ended(self, reason, len(pending))
        for d in pending.values():
            d.errback(WorkerLost(f"parser worker {self.number} ended: {reason.value}"))
        self.ended.callback(None)


class ParserPool:
    def __init__(self, reactor, processes: int, restarts: int, timeout: float = 0):
        self.reactor = reactor
        self.processes = processes
        self.restarts_left = restarts
        self.timeout = timeout
        self.watchdog = None
        # The stats of the crawls using the pool: a lost worker concerns all of them.
        self.stats: list = []
        self.users = 0  # crawls holding the pool; the last to close stops it
        self.workers: list[_Worker] = []
        self.next_id = 0
        self.started = 0
        self.stopping = False
        self.disabled = False

    def warm(self) -> None:
        """Start the workers now, ahead of the first page (they take ~0.5 s to import)."""
        self._worker()

    def call(self, fn, *args) -> defer.Deferred:
        """Run ``fn(*args)`` in a worker: a Deferred of its result, or of its exception (with
        the worker's traceback as a note), or of :class:`WorkerLost`."""
        worker = self._worker()
        if worker is None:
            return defer.maybeDeferred(fn, *args)
        self.next_id += 1
        return worker.send(self.next_id, fn, args)

    def _worker(self) -> _Worker | None:
        if self.stopping:
            return None
        while not self.disabled and len(self.workers) < self.processes:
            self._spawn()
        if not self.workers:
            return None
        return min(self.workers, key=lambda w: len(w.pending))

    def _spawn(self):
        if self.started >= self.processes:
            if self.restarts_left <= 0:
                self.disabled = True
                self._inc("parse_pool/disabled")
                logger.error("parser workers keep ending; parsing in the crawl process from now on")
                return
            self.restarts_left -= 1
        self.started += 1
        worker = _Worker(self, self.started)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (_PROJECT_ROOT, os.environ.get("PYTHONPATH")) if p))
        # stdin: a pipe of our own (see _PipeWriter); the read end goes to the child as its fd 0.
        read_fd, write_fd = os.pipe()
        worker.stdin = _PipeWriter(self.reactor, write_fd)
        try:
            self.reactor.spawnProcess(worker, sys.executable, [sys.executable, "-m", "crawler.runtime.parseworker"],
                                      env=env, path=_PROJECT_ROOT, childFDs={0: read_fd, 1: "r", 2: "r"})
        except BaseException:
            worker.stdin.abort()
            raise
        finally:
            os.close(read_fd)
        self.workers.append(worker)
        self._inc("parse_pool/started")
        self._max("parse_pool/processes", len(self.workers))
        if self.timeout > 0 and self.watchdog is None:
            self.watchdog = task.LoopingCall(self._check_progress)
            self.watchdog.clock = self.reactor
            self.watchdog.start(min(5.0, self.timeout / 4), now=False)

    def _check_progress(self):
        for worker in self.workers:
            task_id = worker.stuck_on(self.timeout)
            if task_id is None:
                continue
            # Fail that page alone (parsing it in the crawl process would hang the crawl),
            # then kill the worker: its other pages are parsed in the crawl process.
            self._inc("parse_pool/timeouts")
            worker.pending.pop(task_id).errback(ParseTimeout(
                f"a page kept parser worker {worker.number} busy for more than {self.timeout:g} s "
                f"(PARSE_TIMEOUT); the page is dropped and the worker killed"))
            worker.transport.signalProcess("KILL")

    def worker_ended(self, worker: _Worker, reason, in_hand: int):
        if worker in self.workers:
            self.workers.remove(worker)
        if in_hand or not self.stopping:
            # Nothing is lost (its pages are parsed in the crawl process), but a worker killed
            # by the OOM killer or a hung page is worth an operator's look.
            self._inc("parse_pool/workers_lost")
            logger.warning("parser worker %d ended with %d page(s) in hand: %s",
                           worker.number, in_hand, reason.value)

    def worker_exited(self, usage: dict):
        self._max("parse_pool/worker_max_rss_mb", round(usage["max_rss_mb"], 1))
        for stats in self.stats:
            cpu = stats.get_value("parse_pool/worker_cpu_seconds", 0.0) + usage["cpu_seconds"]
            stats.set_value("parse_pool/worker_cpu_seconds", round(cpu, 3))

    def stop(self) -> defer.Deferred:
        """Close the workers' stdin; fires once every worker has exited."""
        self.stopping = True
        if self.watchdog is not None and self.watchdog.running:
            self.watchdog.stop()
        ended = []
        for worker in self.workers:
            worker.stdin.close()
            ended.append(worker.ended)
        return defer.DeferredList(ended)

    def _inc(self, key: str, n: int = 1):
        for stats in self.stats:
            stats.inc_value(key, n)

    def _max(self, key: str, value):
        for stats in self.stats:
            stats.max_value(key, value)


# One pool per process, shared by its crawls.
_shared: dict[str, ParserPool | None] = {"pool": None}


def for_crawler(crawler) -> ParserPool | None:
    """The process's pool for this crawl (``PARSE_PROCESSES`` > 0), released when it closes."""
    processes = crawler.settings.getint("PARSE_PROCESSES", 0)
    if processes <= 0:
        return None
    from twisted.internet import reactor

    pool = _shared["pool"]
    if pool is None or pool.stopping:
        pool = ParserPool(reactor, processes, crawler.settings.getint("PARSE_PROCESS_RESTARTS", 3),
                          crawler.settings.getfloat("PARSE_TIMEOUT", 60))
        _shared["pool"] = pool
    pool.users += 1

    def opened(spider):
        pool.stats.append(crawler.stats)

    warmed: list = []

    def scheduled(request, spider):
        # The first article request that got past the incremental filter: pages will come,
        # so the workers start now, while it downloads, instead of at its response.
        if request.meta.get("role") == "article" and not warmed:
            warmed.append(True)
            # Disconnected on the next reactor turn: pydispatch iterates the live list of
            # receivers, so removing one while the signal is sent skips the receiver after it
            # (crawler/ops/ledger.py's). weak=False as connected: pydispatch finds a strong
            # receiver only that way.
            reactor.callLater(0, crawler.signals.disconnect, scheduled, signal=signals.request_scheduled,
                              weak=False)
            pool.warm()

    async def release(spider):
        pool.users -= 1
        if pool.users > 0:
            if crawler.stats in pool.stats:
                pool.stats.remove(crawler.stats)
            return
        # The last crawl keeps its stats open for the workers' exit figures.
        if _shared["pool"] is pool:
            _shared["pool"] = None
        await maybe_deferred_to_future(pool.stop())

    crawler.signals.connect(opened, signal=signals.spider_opened, weak=False)
    crawler.signals.connect(scheduled, signal=signals.request_scheduled, weak=False)
    crawler.signals.connect(release, signal=signals.spider_closed, weak=False)
    return pool


# --- item pipelines that run next to the parse -----------------------------------------------


def move_parser_pipelines(settings) -> tuple[str, ...]:
    """Take the leading run of ``ITEM_PIPELINES`` (in their order) whose classes say
    ``runs_in_parser = True`` out of this crawl's pipelines, and return their paths: the
    parser runs them on each item right after the parse.  Running the first pipelines of
    the chain before the item enters the rest is what the chain does anyway, so items and
    stats are the same; the crawl process no longer spends its one core on them."""
    from scrapy.utils.conf import build_component_list
    from scrapy.utils.misc import load_object

    moved = []  # as ITEM_PIPELINES names them: paths, or classes
    for component in build_component_list(settings.getwithbase("ITEM_PIPELINES")):
        if not getattr(load_object(component), "runs_in_parser", False):
            break
        moved.append(component)
    if not moved:
        return ()
    pipelines = {**settings.getdict("ITEM_PIPELINES"), **dict.fromkeys(moved, None)}
    # At the setting's own priority, so that an ITEM_PIPELINES given with -s is edited too.
    settings.set("ITEM_PIPELINES", pipelines, priority=settings.getpriority("ITEM_PIPELINES") or "project")
    paths = tuple(c if isinstance(c, str) else f"{c.__module__}.{c.__qualname__}" for c in moved)
    logger.info("item pipelines run by the parser, next to the parse: %s", ", ".join(paths))
    return paths


class RecordingStats:
    """The stats API for pipelines run by a parser: the calls are recorded and replayed
    into the crawl's stats (:func:`replay`)."""

    def __init__(self):
        self.calls: list[tuple[str, str, object]] = []

    def inc_value(self, key, count=1, start=0):
        self.calls.append(("inc_value", key, count))

    def set_value(self, key, value):
        self.calls.append(("set_value", key, value))

    def max_value(self, key, value):
        self.calls.append(("max_value", key, value))

    def min_value(self, key, value):
        self.calls.append(("min_value", key, value))


def replay(calls, stats) -> None:
    for method, key, value in calls:
        getattr(stats, method)(key, value)


class _ParserCrawler:
    """What a pipeline run by a parser gets as its crawler: the stats, nothing else (no
    settings, signals or engine: such a pipeline is a pure function of the item)."""

    def __init__(self, stats):
        self.stats = stats


_pipelines: dict[tuple[str, ...], tuple[RecordingStats, list]] = {}


def run_pipelines(paths: tuple[str, ...], item):
    """``item`` through the pipelines ``paths``, built once per process: the item and the
    stats calls they made."""
    if paths not in _pipelines:
        from scrapy.utils.misc import build_from_crawler, load_object

        stats = RecordingStats()
        _pipelines[paths] = (stats, [build_from_crawler(load_object(p), _ParserCrawler(stats)) for p in paths])
    stats, pipelines = _pipelines[paths]
    stats.calls = []
    for pipeline in pipelines:
        item = pipeline.process_item(item)
    return item, stats.calls
