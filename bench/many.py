"""crawlall over many portals at once: the replica's extra portals as registry entries.

    python bench/many.py [--portals 100] [--articles 50] [--latency 100]

The replica serves N extra portals (every portal and generation, each on its own host) with
LATENCY ms per response; their registry entries go into a temporary file; `scrapy crawlall`
crawls them in one process with the production politeness settings (settings/base.py:
DOWNLOAD_DELAY, AutoThrottle, per-portal concurrency) into a fresh SQLite store. Printed:
wall time against the politeness bound (the slowest portal's requests × DOWNLOAD_DELAY, plus one
latency), CPU seconds per page, peak RSS (the largest sum, sampled every 0.1 s, over crawlall and
every process it started: crawl processes, parser workers), the replica's own CPU during the
crawl, and whether every portal's meetings were stored exactly once.

The replica renders every page before the crawl starts (``--prerender``, the default), as a
portal's server would have its pages ready: its CPU on this machine stands for servers that are
elsewhere, and is printed so that what it still takes from the crawl is seen.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
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
    ap.add_argument("--no-prerender", action="store_true", help="the replica renders each page when asked")
    ap.add_argument("--log", metavar="PATH", help="keep crawlall's log there (default: a temporary file)")
    ap.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a Scrapy setting for the crawl, to measure a change against the defaults")
    args = ap.parse_args()

    from scrapy.utils.project import get_project_settings

    delay = get_project_settings().getfloat("DOWNLOAD_DELAY")
    # Every crawl process starts from the project's bytecode, as an installed project's do;
    # where PYTHONDONTWRITEBYTECODE is set, each would otherwise compile the project again.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "crawler", "pipelines", "spiders", "settings"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    site = build_site(args.articles, args.seed, extra_portals=args.portals)
    names = list(site.extras)
    prerender = () if args.no_prerender else tuple(names)
    with tempfile.TemporaryDirectory() as tmp, \
            running_replica(args.articles, args.seed, args.latency, extra_portals=args.portals,
                            prerender=prerender, timeout=600) as origin:
        tmp = Path(tmp)
        registry = tmp / "portals-extra.toml"
        registry.write_text(registry_toml(site.extras), encoding="utf-8")
        db = f"sqlite:///{tmp}/meetings.db"
        cmd = [str(Path(sys.executable).parent / "scrapy"), "crawlall", "--only", ",".join(names),
               "-s", f"PORTAL_REGISTRY={registry}", "-s", f"PORTAL_MIRROR={origin}", "-s", f"MEETINGS_DB={db}",
               "-s", f"CRAWLALL_LOCK_FILE={tmp}/lock", "-s", f"CRAWLALL_LOG_FILE={Path(args.log).resolve() if args.log else tmp / 'crawlall.log'}",
               "-s", "LOG_LEVEL=WARNING", "--no-progress", *(x for kv in args.set for x in ("-s", kv))]
        replica = [pid for pid in _children(os.getpid()) if b"crawler.replica" in _cmdline(pid)]
        replica_before = sum(map(_cpu_seconds, replica))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start, launched = time.monotonic(), time.time()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ))
        sampler = RssSampler(proc.pid)
        sampler.start()
        out, err = proc.communicate()
        wall = time.monotonic() - start
        sampler.stop()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        replica_cpu = sum(map(_cpu_seconds, replica)) - replica_before
        result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
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
    began = sorted(t for n in names if (t := _stat_time(runs, n, "start_time")) is not None)
    ended = sorted(t for n in names if (t := _stat_time(runs, n, "finish_time")) is not None)
    if began and ended:
        print(f"timeline after launch: first portal opened {began[0] - launched:.1f} s, last opened "
              f"{began[-1] - launched:.1f} s, last closed {ended[-1] - launched:.1f} s, crawlall exited {wall:.1f} s")
    print(f"CPU: {cpu:.1f} s in all, {cpu / max(1, pages) * 1000:.2f} ms per page ({pages} pages); "
          f"the replica meanwhile: {replica_cpu:.1f} s")
    print(f"peak RSS: {sampler.peak_mb:.0f} MB (crawlall and its processes together, "
          f"at most {sampler.processes} at once)")
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


def _stat_time(runs: dict, name: str, key: str) -> float | None:
    """A portal's ``start_time``/``finish_time`` stat as seconds since the epoch."""
    value = (runs.get(name, {}).get("stats") or {}).get(key)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.timestamp() if value is not None else None


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssSampler(threading.Thread):
    """The largest RSS of a process and its descendants together, sampled every 0.1 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_mb, self.processes = pid, 0.0, 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.1):
            pids = [self.pid, *_children(self.pid)]
            self.peak_mb = max(self.peak_mb, sum(map(_rss_mb, pids)))
            self.processes = max(self.processes, len(pids))

    def stop(self) -> None:
        self._done.set()
        self.join()


if __name__ == "__main__":
    sys.exit(main())
