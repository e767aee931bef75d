"""One worker against three on the replica with 100 ms latency: prints both times and the speedup.

    .venv/bin/python bench/distributed.py [--spider yingkou] [--articles 300] [--latency 100]
                                          [--workers 3] [--per-domain 1]

Each run crawls the replica (``running_replica(latency_ms=…)``) into a fresh PostgreSQL schema
with its own Redis key prefix, workers being ``scrapy crawl SPIDER`` subprocesses with
``SCRAPY_SETTINGS_MODULE=settings.distributed``. Per worker: ``CONCURRENT_REQUESTS_PER_DOMAIN=1``
(a worker then holds at most one request: ``DISTRIBUTED_PREFETCH`` defaults to it),
``DOWNLOAD_DELAY=0``, ``AUTOTHROTTLE_ENABLED=0``: one worker is latency-bound (100 ms + ~40 ms
of parsing and storing per page ≈ 7 pages/s) and three stay under the CPU of this 2-core
machine (which also runs the replica, PostgreSQL and Redis). With ``--per-domain 2`` three
workers need ~1.1 cores for themselves and the speedup falls to ~2x: CPU, not latency, binds.

Two times per run: *crawl* — first worker's spider start to last worker's spider finish (from
the ``runs`` table: Scrapy's start_time/finish_time) — and *wall* — launch of the processes to
exit of the last, which adds ~3-5 s of Python/Scrapy start-up per process (three start-ups
share two cores). The bar (≥ 2.5×) is on the crawl time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.replica.process import running_replica  # noqa: E402
from crawler.store import Store  # noqa: E402

PG = os.environ.get("TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def new_schema() -> tuple[str, str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema, f"{PG}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def drop_keys(prefix: str) -> None:
    import redis

    r = redis.Redis.from_url(REDIS)
    keys = list(r.scan_iter(f"{prefix}:*"))
    if keys:
        r.delete(*keys)


def run(spider: str, origin: str, workers: int, per_domain: int, log_dir: Path) -> dict:
    schema, db = new_schema()
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, SCRAPY_SETTINGS_MODULE="settings.distributed", MEETINGS_DB=db,
               DISTRIBUTED_KEY_PREFIX=prefix, REDIS_URL=REDIS)
    cmd = [str(Path(sys.executable).parent / "scrapy"), "crawl", spider,
           "-s", f"PORTAL_MIRROR={origin}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
           "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={per_domain}", "-s", "LOG_LEVEL=INFO"]
    try:
        t0 = time.monotonic()
        procs = [subprocess.Popen(cmd + ["-s", f"LOG_FILE={log_dir / f'{workers}w-{i}.log'}"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for i in range(workers)]
        codes = [p.wait(600) for p in procs]
        wall = time.monotonic() - t0
        store = Store(db)
        runs = store.runs()
        meetings = store.count()
        store.close()
    finally:
        drop_schema(schema)
        drop_keys(prefix)
    starts = [datetime.fromisoformat(r["stats"]["start_time"]) for r in runs]
    ends = [datetime.fromisoformat(r["stats"]["finish_time"]) for r in runs]
    return {
        "codes": codes,
        "wall": wall,
        "crawl": (max(ends) - min(starts)).total_seconds(),
        "meetings": meetings,
        "articles": sum(r["stats"].get("distributed/responses/article", 0) for r in runs),
        "per_worker": [r["stats"].get("distributed/responses/article", 0) for r in runs],
        "reasons": [r["finish_reason"] for r in runs],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spider", default="yingkou")
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--latency", type=float, default=100)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--per-domain", type=int, default=1)
    args = ap.parse_args(argv)
    log_dir = Path(os.environ.get("BENCH_LOG_DIR", "/tmp/bench-distributed"))
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"{args.spider}, {args.articles} meeting articles, replica latency {args.latency:g} ms, "
          f"CONCURRENT_REQUESTS_PER_DOMAIN={args.per_domain} per worker, DOWNLOAD_DELAY=0, "
          f"AUTOTHROTTLE off; logs in {log_dir}")
    with running_replica(articles=args.articles, seed=1, latency_ms=args.latency) as origin:
        results = {}
        for n in (1, args.workers):
            r = results[n] = run(args.spider, origin, n, args.per_domain, log_dir)
            print(f"{n} worker(s): crawl {r['crawl']:.2f} s, wall {r['wall']:.2f} s, "
                  f"{r['meetings']} meetings stored, {r['articles']} article pages fetched "
                  f"(per worker {r['per_worker']}), exit codes {r['codes']}, reasons {r['reasons']}")
    one, many = results[1], results[args.workers]
    speedup = one["crawl"] / many["crawl"]
    print(f"speedup ({args.workers} workers vs 1): {speedup:.2f}x crawl time "
          f"({one['crawl']:.2f} s -> {many['crawl']:.2f} s), "
          f"{one['wall'] / many['wall']:.2f}x wall clock incl. process start-up "
          f"({one['wall']:.2f} s -> {many['wall']:.2f} s)")
    ok = speedup >= 2.5 and one["meetings"] == many["meetings"] and many["articles"] == many["meetings"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
