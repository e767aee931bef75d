"""Load test of the replica: keep-alive GETs of article pages, proxy-style, over loopback.

    .venv/bin/python bench/replica_load.py [--articles 1000] [--connections 16] [--seconds 5]

Starts the replica as a subprocess on a free port, cycles through every article page of all
five portals (meeting and non-meeting), and prints pages/s.  Bounded by --seconds and --max.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.replica import build_site  # noqa: E402
from crawler.replica.process import running_replica  # noqa: E402


async def worker(host, port, urls, deadline, counter, max_pages):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < deadline and counter[0] < max_pages:
            url = next(urls)
            h = urlsplit(url).netloc
            writer.write(f"GET {url} HTTP/1.1\r\nHost: {h}\r\nAccept-Encoding: identity\r\n\r\n".encode())
            status = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                k, _, v = line.partition(b":")
                if k.lower() == b"content-length":
                    length = int(v)
            await reader.readexactly(length)
            if not status.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{url}: {status!r}")
            counter[0] += 1
    finally:
        writer.close()


async def run(origin, urls, connections, seconds, max_pages):
    parts = urlsplit(origin)
    counter = [0]
    cycle = itertools.cycle(urls)
    start = time.monotonic()
    deadline = start + seconds
    await asyncio.gather(*(worker(parts.hostname, parts.port, cycle, deadline, counter, max_pages)
                           for _ in range(connections)))
    return counter[0], time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--max", type=int, default=200000)
    args = ap.parse_args()
    site = build_site(args.articles, args.seed)
    urls = [u for name in site.portals for u in site.meeting_urls(name) + site.non_meeting_urls(name)]
    urls.sort(key=lambda u: hash(u))
    with running_replica(articles=args.articles, seed=args.seed) as origin:
        n, dt = asyncio.run(run(origin, urls, args.connections, args.seconds, args.max))
    print(f"{n} article pages in {dt:.2f}s over {args.connections} keep-alive connections "
          f"({len(urls)} distinct URLs): {n / dt:.0f} pages/s")


if __name__ == "__main__":
    main()
