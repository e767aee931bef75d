"""Distributed mode (settings.distributed): scrapy-redis workers sharing one Redis queue and one
PostgreSQL store, against the replica.  Real Redis and PostgreSQL; skipped when unreachable,
failing instead when CI=true.  Every test uses its own Redis key prefix and PostgreSQL schema.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from crawler.replica import build_site
from crawler.replica.process import running_replica
from crawler.store import Store

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
REDIS_URL = os.environ.get("TEST_REDIS", "redis://127.0.0.1:6379/0")
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def redis_server():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except Exception as e:  # noqa: BLE001
        if CI:
            pytest.fail(f"Redis at {REDIS_URL} is required in CI: {e}")
        pytest.skip(f"Redis at {REDIS_URL} unreachable: {e}")
    yield client
    client.close()


@pytest.fixture
def prefix(redis_server):
    p = f"test-{uuid.uuid4().hex[:10]}"
    yield p
    keys = list(redis_server.scan_iter(f"{p}:*"))
    if keys:
        redis_server.delete(*keys)


def start_worker(spider, origin, db, prefix, log, redis_url=REDIS_URL, extra=()):
    env = dict(os.environ, SCRAPY_SETTINGS_MODULE="settings.distributed", MEETINGS_DB=db,
               DISTRIBUTED_KEY_PREFIX=prefix, REDIS_URL=redis_url)
    cmd = [SCRAPY, "crawl", spider, "-s", f"PORTAL_MIRROR={origin}", "-s", "DOWNLOAD_DELAY=0",
           "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "LOG_LEVEL=INFO", "-s", f"LOG_FILE={log}",
           "-s", "DISTRIBUTED_HEARTBEAT_TTL=2", *extra]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def wait_all(procs, timeout=120):
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(timeout))
        except subprocess.TimeoutExpired:
            p.kill()
            raise
    return codes


def check_one_record_per_meeting(store, site, spider):
    expected = {e["url"] for e in site.expected_items(spider)}
    items = list(store.iter_items(portal=spider))
    urls = Counter(i["url"] for i in items)
    assert [u for u, n in urls.items() if n > 1] == [], "a meeting stored twice"
    assert sorted(expected - set(urls)) == [], "meetings missed"
    assert sorted(set(urls) - expected) == [], "records that are not meetings"
    return expected


def test_three_workers_share_the_crawl_and_tomorrow_starts_afresh(pg_server, prefix, tmp_path, redis_server):
    spider, articles, seed = "laishan", 80, 3  # Hanweb: chained POST listing groups, state in meta
    site = build_site(articles=articles, seed=seed)
    db = pg_server()
    with running_replica(articles=articles, seed=seed, latency_ms=30) as origin:
        procs = [start_worker(spider, origin, db, prefix, tmp_path / f"w{i}.log") for i in range(3)]
        codes = wait_all(procs)
        assert codes == [0, 0, 0], [(tmp_path / f"w{i}.log").read_text()[-2000:] for i in range(3)]
        store = Store(db)
        try:
            expected = check_one_record_per_meeting(store, site, spider)
            runs = store.runs()
            assert [r["finish_reason"] for r in runs] == ["finished"] * 3
            stats = [r["stats"] for r in runs]
            assert len({s["distributed/crawl_id"] for s in stats}) == 1
            assert sum(s.get("distributed/seeder", 0) for s in stats) == 1
            # No page fetched twice: article responses over all workers = distinct meeting pages.
            fetched = [s.get("distributed/responses/article", 0) for s in stats]
            assert sum(fetched) == len(expected), fetched
            assert sum(1 for n in fetched if n) >= 2, f"the work was not shared: {fetched}"
            # The crawl is over: no current crawl, nothing queued or held.
            assert redis_server.get(f"{prefix}:{spider}:crawl") is None
            crawl = stats[0]["distributed/crawl_id"]
            assert redis_server.zcard(f"{prefix}:{spider}:{crawl}:queue") == 0
            assert list(redis_server.scan_iter(f"{prefix}:{spider}:{crawl}:inflight:*")) == []

            # The next day's run is a new crawl: its listing requests are not blocked by
            # yesterday's fingerprints, and the incremental middleware skips stored articles.
            codes = wait_all([start_worker(spider, origin, db, prefix, tmp_path / "next.log")])
            assert codes == [0]
            last = store.runs()[-1]["stats"]
            assert last["distributed/crawl_id"] != crawl
            assert last.get("distributed/responses/listing", 0) >= 1
            assert last.get("distributed/responses/article", 0) == 0
            assert store.count() == len(expected)
        finally:
            store.close()


def test_a_killed_worker_loses_nothing(pg_server, prefix, tmp_path):
    spider, articles, seed = "yingkou", 150, 5
    site = build_site(articles=articles, seed=seed)
    db = pg_server()
    with running_replica(articles=articles, seed=seed, latency_ms=60) as origin:
        procs = [start_worker(spider, origin, db, prefix, tmp_path / f"w{i}.log") for i in range(3)]
        store = Store(db)
        try:
            deadline = time.monotonic() + 60
            while store.count() < 25 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert store.count() >= 25, "the crawl did not get going"
            victim = procs[0]
            victim.send_signal(signal.SIGKILL)  # mid-crawl: it holds requests it popped
            assert victim.wait(10) == -signal.SIGKILL
            codes = wait_all(procs[1:])
            assert codes == [0, 0], [(tmp_path / f"w{i}.log").read_text()[-2000:] for i in (1, 2)]
            check_one_record_per_meeting(store, site, spider)
            survivors = [r for r in store.runs() if r["finish_reason"] is not None]
            assert [r["finish_reason"] for r in survivors] == ["finished", "finished"]
            assert any(r["finish_reason"] is None for r in store.runs())  # the victim's run
            recovered = sum(r["stats"].get("distributed/recovered", 0) for r in survivors)
            assert recovered >= 1, "the killed worker's in-flight requests were not re-queued"
        finally:
            store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_redis_outage_stops_the_worker_cleanly(pg_server, prefix, tmp_path, redis_server):
    server = shutil.which("redis-server")
    if server is None:
        if CI:
            pytest.fail("redis-server is required in CI")
        pytest.skip("redis-server not installed")
    port = _free_port()
    redis_proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    spider, articles, seed = "yingkou", 150, 9
    db = pg_server()
    log = tmp_path / "w.log"
    try:
        import redis

        private = redis.Redis(port=port)
        for _ in range(50):
            try:
                private.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        with running_replica(articles=articles, seed=seed, latency_ms=60) as origin:
            worker = start_worker(spider, origin, db, prefix, log, redis_url=f"redis://127.0.0.1:{port}/0")
            store = Store(db)
            try:
                deadline = time.monotonic() + 60
                while store.count() < 10 and time.monotonic() < deadline:
                    time.sleep(0.2)
                assert store.count() >= 10
                redis_proc.send_signal(signal.SIGKILL)
                redis_proc.wait(10)
                assert wait_all([worker], timeout=60) == [0]
                text = log.read_text()
                assert "distributed: Redis at redis://127.0.0.1:" in text and "stopping this worker" in text
                run = store.runs()[-1]
                assert run["finish_reason"] == "redis_unavailable"
                # Nothing half-stored: every record is whole and its URL is marked with it.
                items = list(store.iter_items(portal=spider))
                assert items and all(i["title"] and i["body"] and i["url"] for i in items)
                assert store.fresh_urls([i["url"] for i in items], None) == {i["url"] for i in items}
                assert run["stats"]["store/new"] == len(items)
            finally:
                store.close()
    finally:
        if redis_proc.poll() is None:
            redis_proc.kill()
            redis_proc.wait()
