"""First run vs re-run of an unchanged replica portal: requests and seconds, per portal.

Usage: python bench/rerun.py [--articles N] [--only a,b]
Each portal is crawled twice into a fresh SQLite store with `scrapy crawl` against the replica.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.replica.process import running_replica  # noqa: E402
from crawler.store import Store  # noqa: E402

SPIDERS = ("yingkou", "beipiao", "laishan", "zhanqian", "jining")


def crawl(name: str, origin: str, db: str) -> tuple[dict, float]:
    cmd = [str(Path(sys.executable).parent / "scrapy"), "crawl", name, "-s", f"PORTAL_MIRROR={origin}",
           "-s", f"MEETINGS_DB={db}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
           "-s", "LOG_LEVEL=WARNING"]
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, env=dict(os.environ, MEETINGS_DB=db))
    seconds = time.perf_counter() - start
    store = Store(db)
    try:
        return store.runs()[-1]["stats"], seconds
    finally:
        store.close()


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--articles", type=int, default=200)
    args.add_argument("--only", default=",".join(SPIDERS))
    opts = args.parse_args()
    names = [n for n in opts.only.split(",") if n]
    print(f"{'portal':<10} {'run':<7} {'requests':>8} {'articles':>8} {'new':>5} {'seconds':>8}")
    with running_replica(articles=opts.articles, seed=1) as origin, tempfile.TemporaryDirectory() as tmp:
        for name in names:
            db = f"sqlite:///{tmp}/{name}.db"
            for run in ("first", "re-run"):
                stats, seconds = crawl(name, origin, db)
                requests = stats.get("downloader/request_count", 0) - stats.get("robotstxt/request_count", 0)
                print(f"{name:<10} {run:<7} {requests:>8} {stats.get('article/parsed', 0):>8} "
                      f"{stats.get('store/new', 0):>5} {seconds:>8.2f}")


if __name__ == "__main__":
    main()
