"""Parser worker processes (crawler/runtime/parsepool.py): the same items and stats as parsing in the
crawl process, no page lost when a worker dies, no worker left when the crawl dies, and a
worker protocol that fails one task, never the worker, on bad input."""

from __future__ import annotations

import json
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.runtime import parsepool, parseworker
from crawler.replica import build_site
from crawler.replica.compare import mismatches
from crawler.replica.process import running_replica

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
ARTICLES, SEED = 60, 11


def crawl_cmd(name: str, origin: str, out: Path, db: str, **settings) -> list[str]:
    cmd = [SCRAPY, "crawl", name, "-O", str(out), "-s", f"PORTAL_MIRROR={origin}", "-s", f"MEETINGS_DB={db}",
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def items_of(out: Path) -> dict[str, dict]:
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {i["url"]: {k: v for k, v in i.items() if k != "crawled_at"} for i in items}


def run_stats(db: str) -> dict:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as con:
        (stats,) = con.execute("select stats from runs order by id desc limit 1").fetchone()
    return json.loads(stats)


def children(pid: int) -> list[int]:
    """PIDs of the parser workers started by process ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"crawler.runtime.parseworker" in cmdline:
            found.append(int(entry.name))
    return found


def ignores(pid: int, signum: int) -> bool:
    """The kernel's word that process ``pid`` ignores ``signum`` (its SigIgn mask)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")), 16)
    return bool(mask & (1 << (signum - 1)))


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --- crawls ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def replica():
    with running_replica(articles=ARTICLES, seed=SEED) as origin:
        yield origin, build_site(articles=ARTICLES, seed=SEED)


def test_items_and_stats_are_the_same_with_or_without_parser_workers(replica, tmp_path):
    origin, site = replica
    results = {}
    for processes in (0, 1):
        out, db = tmp_path / f"{processes}.jsonl", f"sqlite:///{tmp_path}/{processes}.db"
        done = subprocess.run(crawl_cmd("jining", origin, out, db, PARSE_PROCESSES=processes),
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        results[processes] = items_of(out), run_stats(db), done.stderr
    (items0, stats0, _), (items1, stats1, log1) = results[0], results[1]

    expected = {e["url"]: e for e in site.expected_items("jining")}
    assert set(items1) == set(expected)
    assert {u: mismatches(i, expected[u]) for u, i in items1.items() if mismatches(i, expected[u])} == {}
    assert items1 == items0
    same = ("article/", "normalize/", "validate/", "store/", "listing/", "item_scraped_count")
    pick = lambda s: {k: v for k, v in s.items() if k.startswith(same)}  # noqa: E731
    assert pick(stats1) == pick(stats0) and stats1["validate/ok"] == len(expected)
    assert stats1["parse_pool/pages"] == stats1["article/parsed"] and "parse_pool/pages" not in stats0
    # The transforms left the crawl's pipelines for the worker; validation and the store stayed.
    assert "item pipelines run by the parser, next to the parse: pipelines.normalize.NormalizePipeline, " \
           "pipelines.meeting.MeetingFieldsPipeline" in log1
    assert stats1["parse_pool/started"] == 1

    # The next run finds nothing new, fetches no article and starts no worker.
    db = f"sqlite:///{tmp_path}/1.db"
    done = subprocess.run(crawl_cmd("jining", origin, tmp_path / "again.jsonl", db, PARSE_PROCESSES=1),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    again = run_stats(db)
    assert again.get("article/parsed", 0) == 0 and "parse_pool/started" not in again


@pytest.fixture
def slow_replica():
    # 40 ms a response: the crawl lasts long enough to act on its worker mid-crawl.
    with running_replica(articles=ARTICLES, seed=SEED, latency_ms=40) as origin:
        yield origin, build_site(articles=ARTICLES, seed=SEED)


def wait_for_worker(proc: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        found = children(proc.pid)
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError("no parser worker started")


def test_worker_ignores_sigint_and_its_death_loses_no_page(slow_replica, tmp_path):
    origin, site = slow_replica
    out, db = tmp_path / "out.jsonl", f"sqlite:///{tmp_path}/m.db"
    proc = subprocess.Popen(crawl_cmd("laishan", origin, out, db, CONCURRENT_REQUESTS_PER_DOMAIN=4),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    worker = wait_for_worker(proc)
    # Ctrl-C meant for the crawl reaches its whole process group: the worker carries on.  It
    # ignores SIGINT and SIGTERM from the first line it runs, before its imports (~0.5 s).
    deadline = time.time() + 10
    while not (ignores(worker, signal.SIGINT) and ignores(worker, signal.SIGTERM)) and time.time() < deadline:
        time.sleep(0.005)
    os.kill(worker, signal.SIGINT)
    time.sleep(0.3)
    assert alive(worker)
    os.kill(worker, signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]

    expected = {e["url"]: e for e in site.expected_items("laishan")}
    items = items_of(out)
    assert set(items) == set(expected), "pages lost with the worker"
    assert {u: mismatches(i, expected[u]) for u, i in items.items() if mismatches(i, expected[u])} == {}
    stats = run_stats(db)
    assert stats["parse_pool/workers_lost"] == 1
    assert stats["parse_pool/started"] == 2  # a new worker took over
    assert stats["store/new"] == len(expected)
    assert "parser worker 1 ended with" in err


def test_crawl_killed_leaves_no_parser_worker(slow_replica, tmp_path):
    origin, _ = slow_replica
    proc = subprocess.Popen(crawl_cmd("laishan", origin, tmp_path / "out.jsonl", f"sqlite:///{tmp_path}/m.db"),
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    worker = wait_for_worker(proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    deadline = time.time() + 10
    while alive(worker) and time.time() < deadline:
        time.sleep(0.05)
    assert not alive(worker), "the parser worker outlived its crawl"


def test_parse_page_runs_the_moved_pipelines_and_replays_their_stats():
    """What a worker does with the Traditional mirror snapshot: the item the crawl process
    would make, and the normalize pipeline's count, replayed into the crawl's stats."""
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    from crawler.cms.base import parse_page
    from crawler.runtime.offline import OfflineParser
    from spiders.jining import JiningSpider
    from tests.snapshots import HTML_TYPES, expected_cases

    (case,) = [c for c in expected_cases() if c[1].stem.endswith("-mirror")]
    portal, _, page, url = case
    body = page.read_bytes()
    in_process = OfflineParser(portal)
    want = dict(in_process.parse(in_process.response(url, body, {"Content-Type": HTML_TYPES[portal]})))
    encoding = in_process.response(url, body, {"Content-Type": HTML_TYPES[portal]}).encoding
    moved = ("pipelines.normalize.NormalizePipeline", "pipelines.meeting.MeetingFieldsPipeline",
             "pipelines.fingerprint.FingerprintPipeline")

    reason, fields, calls = parse_page(JiningSpider().templates(), moved, "jining", url, body, encoding,
                                       JiningSpider().portal_url(url))
    assert reason is None
    ignore = ("crawled_at",)  # the time
    assert {k: v for k, v in fields.items() if k not in ignore} == {k: v for k, v in want.items() if k not in ignore}
    assert fields["fingerprint"]
    assert fields["language"] == "zh-Hant" and fields["url"].startswith("http://jining.iqilu.com/")
    stats = MemoryStatsCollector(get_crawler())
    parsepool.replay(calls, stats)
    assert stats.get_value("normalize/traditional_converted") == 1

    # A page with no title is a drop reason, and no pipeline ran on it.
    assert parse_page(JiningSpider().templates(), moved, "jining", url, b"<html><body><p>x</p></body></html>",
                      "utf-8", url) == ("no_title", None, [])


# A parse that never returns (here a sleep) must not hang the crawl: the pool, driven by a real
# reactor in its own process, fails that page, kills the worker, and carries on with a new one.
HUNG_PAGE = """
import time
from twisted.internet import defer, task
from crawler.runtime.parsepool import ParserPool, ParseTimeout, WorkerLost

async def main(reactor):
    pool = ParserPool(reactor, 1, 3, timeout=1)
    hung = pool.call(time.sleep, 60)
    behind = pool.call(len, "abcd")  # queued on the same worker, behind the hung page
    try:
        await hung
        print("hung page answered")
    except ParseTimeout:
        print("hung page: timeout")
    try:
        print("page behind it:", await behind)
    except WorkerLost:
        print("page behind it: worker lost")
    print("next page:", await pool.call(len, "ab"))
    await pool.stop()
    print("workers started:", pool.started)

task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
"""


def test_a_page_that_hangs_its_worker_is_dropped_and_the_worker_replaced():
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", HUNG_PAGE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    # The page behind the hung one goes back to the crawl (WorkerLost: the spider parses it
    # itself); the hung page does not, or it would hang the crawl process instead.
    assert done.stdout.splitlines() == ["hung page: timeout", "page behind it: worker lost", "next page: 2",
                                        "workers started: 2"]
    assert time.monotonic() - start < 20


BIG_PAGES = """
import time
from twisted.internet import defer, task
from crawler.runtime.parsepool import ParserPool

async def main(reactor):
    pool = ParserPool(reactor, 1, 0)
    busy = pool.call(time.sleep, 1)  # the worker reads nothing for a second
    pages = [bytes([n]) * 200_000 for n in range(40)]  # 8 MB: far more than the pipe holds
    answers = [pool.call(bytes.count, page, bytes([n])) for n, page in enumerate(pages)]
    print("backlog while the worker sleeps:", len(pool.workers[0].stdin.backlog) > 0)
    await busy
    print("answers:", [await a for a in answers] == [200_000] * 40)
    await pool.stop()  # stdin closes only after the backlog went in
    print("workers started:", pool.started)

task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
"""


def test_pages_larger_than_the_pipe_wait_their_turn_and_arrive_whole():
    done = subprocess.run([sys.executable, "-c", BIG_PAGES], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == ["backlog while the worker sleeps: True", "answers: True", "workers started: 1"]


# --- the worker process and its protocol ------------------------------------------------------------


def frame(task_id: int, payload: bytes) -> bytes:
    return parseworker.HEADER.pack(len(payload), task_id) + payload


def read_frame(stream):
    header = stream.read(parseworker.HEADER.size)
    size, task_id = parseworker.HEADER.unpack(header)
    return task_id, pickle.loads(stream.read(size))


def test_worker_fails_the_task_not_itself_on_bad_input():
    worker = subprocess.Popen([sys.executable, "-m", "crawler.runtime.parseworker"], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # A function that raises; a payload naming a module the worker does not have; a good task.
    worker.stdin.write(frame(1, pickle.dumps((int, ("not a number",)))))
    worker.stdin.write(frame(2, b"\x80\x04cno_such_module_here\nparse\n)\x86."))
    worker.stdin.write(frame(3, pickle.dumps((len, ("正文",)))))
    worker.stdin.close()
    answers = dict(read_frame(worker.stdout) for _ in range(4))
    worker.wait(10)
    assert worker.returncode == 0, worker.stderr.read()

    ok, exc = answers[1]
    assert not ok and isinstance(exc, ValueError)
    assert any("in the parser worker" in note for note in exc.__notes__)
    ok, exc = answers[2]
    assert not ok and isinstance(exc, ModuleNotFoundError) and "no_such_module_here" in str(exc)
    assert answers[3] == (True, 2)
    ok, usage = answers[parseworker.EXIT]
    assert ok and usage["max_rss_mb"] > 5 and usage["cpu_seconds"] > 0


# --- which pipelines move ---------------------------------------------------------------------------


def settings_with(pipelines: dict | None = None) -> Settings:
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    if pipelines is not None:
        settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")
    return settings


def enabled(settings) -> list[str]:
    from scrapy.utils.conf import build_component_list

    return build_component_list(settings.getwithbase("ITEM_PIPELINES"))


def test_the_leading_pure_transform_pipelines_move_to_the_parser():
    settings = settings_with()
    moved = parsepool.move_parser_pipelines(settings)
    assert moved == ("pipelines.normalize.NormalizePipeline", "pipelines.meeting.MeetingFieldsPipeline",
                     "pipelines.fingerprint.FingerprintPipeline")
    assert enabled(settings) == ["pipelines.validate.ValidatePipeline", "pipelines.dedupe.DedupePipeline",
                                 "pipelines.store.StorePipeline"]


def test_a_pipeline_that_is_no_pure_transform_keeps_the_rest_in_the_crawl():
    # Given with -s, validation first: nothing after it may run before it, so nothing moves.
    pipelines = {"pipelines.validate.ValidatePipeline": 50, "pipelines.normalize.NormalizePipeline": 100,
                 "pipelines.meeting.MeetingFieldsPipeline": 200}
    settings = settings_with(pipelines)
    assert parsepool.move_parser_pipelines(settings) == ()
    assert enabled(settings) == list(pipelines)
    # Normalize switched off: meeting fields and fingerprint still lead, and move alone.
    from settings import base

    settings = settings_with({**base.ITEM_PIPELINES, "pipelines.normalize.NormalizePipeline": None})
    assert parsepool.move_parser_pipelines(settings) == ("pipelines.meeting.MeetingFieldsPipeline",
                                                         "pipelines.fingerprint.FingerprintPipeline")
    assert "pipelines.normalize.NormalizePipeline" not in enabled(settings)


def test_the_pool_stops_listening_to_requests_once_its_workers_are_warming():
    """The first article request scheduled starts the workers; after it the pool's handler
    leaves ``request_scheduled`` (it would otherwise run for every request of the crawl)."""
    from pydispatch import dispatcher
    from scrapy import Request, signals
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(settings_dict={"PARSE_PROCESSES": 1})
    pool = parsepool.for_crawler(crawler)
    try:
        pool.stopping = True  # warm() then starts no process: this test is about the signal

        def receivers():
            return list(dispatcher.getAllReceivers(crawler.signals.sender, signals.request_scheduled))

        before = len(receivers())
        listing = Request("http://www.ytlaishan.gov.cn/col/col1/index.html", meta={"role": "listing"})
        crawler.signals.send_catch_log(signals.request_scheduled, request=listing, spider=None)
        assert len(receivers()) == before
        # A receiver connected after the pool's still hears the request that warms the pool:
        # the pool leaves on the next reactor turn, not while pydispatch walks its receivers.
        heard = []

        def later(request, spider):
            heard.append(request.url)

        crawler.signals.connect(later, signal=signals.request_scheduled, weak=False)
        article = Request("http://www.ytlaishan.gov.cn/art/2022/8/3/art_1.html", meta={"role": "article"})
        crawler.signals.send_catch_log(signals.request_scheduled, request=article, spider=None)
        assert heard == [article.url]
        from twisted.internet import reactor

        reactor.runUntilCurrent()
        assert len(receivers()) == before
        crawler.signals.disconnect(later, signal=signals.request_scheduled, weak=False)
        assert len(receivers()) == before - 1
    finally:
        parsepool._shared["pool"] = None
