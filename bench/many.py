"""crawlall over many portals at once: the replica's extra portals as registry entries.

    python bench/many.py [--portals 100] [--articles 50] [--latency 100]

The replica serves N extra portals (every portal and generation, each on its own host) with
LATENCY ms per response; their registry entries go into a temporary file; `scrapy crawlall`
crawls them in one process with the production politeness settings (settings/base.py:
DOWNLOAD_DELAY, AutoThrottle, per-portal concurrency) into a fresh SQLite store. Printed:
wall time against the politeness bound (the slowest portal's requests × DOWNLOAD_DELAY, plus one
latency), CPU seconds per page, peak RSS (crawl process + parser worker), and whether every
portal's meetings were stored exactly once.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.replica import build_site  # noqa: E402
from crawler.replica.extra import registry_toml  # noqa: E402
from crawler.replica.process import running_replica  # noqa: E402
from crawler.store import Store  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--portals", type=int, default=100)
    ap.add_argument("--articles", type=int, default=50, help="meeting articles per portal")
    ap.add_argument("--latency", type=float, default=100, help="ms added to every response")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a Scrapy setting for the crawl, to measure a change against the defaults")
    args = ap.parse_args()

    from scrapy.utils.project import get_project_settings

    delay = get_project_settings().getfloat("DOWNLOAD_DELAY")
    site = build_site(args.articles, args.seed, extra_portals=args.portals)
    names = list(site.extras)
    with tempfile.TemporaryDirectory() as tmp, \
            running_replica(args.articles, args.seed, args.latency, extra_portals=args.portals) as origin:
        tmp = Path(tmp)
        registry = tmp / "portals-extra.toml"
        registry.write_text(registry_toml(site.extras), encoding="utf-8")
        db = f"sqlite:///{tmp}/meetings.db"
        cmd = [str(Path(sys.executable).parent / "scrapy"), "crawlall", "--only", ",".join(names),
               "-s", f"PORTAL_REGISTRY={registry}", "-s", f"PORTAL_MIRROR={origin}", "-s", f"MEETINGS_DB={db}",
               "-s", f"CRAWLALL_LOCK_FILE={tmp}/lock", "-s", f"CRAWLALL_LOG_FILE={tmp}/crawlall.log",
               "-s", "LOG_LEVEL=WARNING", "--no-progress", *(x for kv in args.set for x in ("-s", kv))]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ))
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

        store = Store(db)
        try:
            stored: dict[str, list[str]] = {}
            for item in store.iter_items():
                stored.setdefault(item["portal"], []).append(item["url"])
            runs = {r["spider"]: r for r in store.runs()}
        finally:
            store.close()

    requests = {name: (runs.get(name, {}).get("stats") or {}).get("downloader/request_count", 0) for name in names}
    pages = sum((runs.get(n, {}).get("stats") or {}).get("downloader/response_count", 0) for n in names)
    rss = max(((r.get("stats") or {}).get("memusage/max", 0) / 2**20 for r in runs.values()), default=0)
    worker = max(((r.get("stats") or {}).get("parse_pool/worker_max_rss_mb", 0) for r in runs.values()), default=0)
    slowest = max(requests, key=requests.get)
    bound = (requests[slowest] - 1) * delay + args.latency / 1000
    missing = {n: len(set(site.meeting_urls(n)) - set(stored.get(n, []))) for n in names}
    extra = {n: len(set(stored.get(n, [])) - set(site.meeting_urls(n))) for n in names}
    doubled = {n: len(u) - len(set(u)) for n, u in stored.items()}

    print(f"crawlall exit {result.returncode}; {len(names)} portals, {args.articles} articles each, "
          f"{args.latency:g} ms latency, DOWNLOAD_DELAY {delay:g} s")
    print(f"requests: {sum(requests.values())} in all; slowest portal {slowest}: {requests[slowest]}")
    print(f"wall time: {wall:.1f} s; politeness bound: {bound:.1f} s; ratio: {wall / bound:.2f}")
    elapsed = sorted((runs.get(n, {}).get("stats") or {}).get("elapsed_time_seconds", 0) for n in names)
    print(f"per-portal crawl time: median {elapsed[len(elapsed) // 2]:.1f} s, slowest {elapsed[-1]:.1f} s")
    print(f"CPU: {cpu:.1f} s in all, {cpu / max(1, pages) * 1000:.2f} ms per page ({pages} pages)")
    print(f"peak RSS: {rss + worker:.0f} MB (crawl process {rss:.0f} MB + parser worker {worker:.0f} MB)")
    print(f"stored: {sum(len(u) for u in stored.values())} meetings; portals with a miss: "
          f"{sum(1 for v in missing.values() if v)}, with an extra record: {sum(1 for v in extra.values() if v)}, "
          f"with a duplicate: {sum(1 for v in doubled.values() if v)}")
    complete = not any(missing.values()) and not any(extra.values()) and not any(doubled.values())
    print(f"every portal stored exactly once: {'yes' if complete else 'no'}")
    for n in [n for n in names if missing[n] or extra[n] or doubled.get(n)][:5]:
        want, got = set(site.meeting_urls(n)), set(stored.get(n, []))
        print(f"  {n} ({site.extras[n].template_name}, {site.extras[n].generation}): "
              f"missed {sorted(want - got)[:2]}, not meetings {sorted(got - want)[:2]}")
    if result.returncode != 0:
        print(result.stdout[-3000:])
    return 0 if complete and result.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
