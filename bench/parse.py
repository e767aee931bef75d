"""Parse cost of one article page per portal: spider callback + processing pipelines.

The snapshots' expected pages, then the seed meeting as each portal's current generation serves it.

Download excluded: each page is built into a response once, then parsed N times.
Usage: python bench/parse.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.offline import OfflineParser  # noqa: E402
from tests.snapshots import HTML_TYPES, expected_cases  # noqa: E402


def snapshot_cases():
    """(label, portal, body, url, headers): each portal's expected snapshot pages."""
    for portal, expected_path, page, url in expected_cases():
        yield expected_path.stem, portal, page.read_bytes(), url, {"Content-Type": HTML_TYPES[portal]}


def current_cases():
    """The seed meeting's page on each portal's current generation, as the replica serves it."""
    from urllib.parse import urlsplit

    from crawler.replica import build_site

    site = build_site(articles=60, seed=1, generation="current")
    for portal, current in site.current.items():
        e = next(e for e in current.entries if e.seed)
        url = current.url_of(e)
        _, resp = site.handle(urlsplit(url).netloc, "GET", urlsplit(url).path, "", b"", {})
        yield f"{portal} current {e.uid}", portal, resp.body, url, dict(resp.headers)


def measure(repeat: int) -> list[tuple[str, float, float, float]]:
    rows = []
    for label, portal, body, url, headers in (*snapshot_cases(), *current_cases()):
        parser = OfflineParser(portal)
        start = time.perf_counter()
        assert parser.parse(parser.response(url, body, headers)) is not None
        first = (time.perf_counter() - start) * 1000
        samples = []
        for _ in range(repeat):
            response = parser.response(url, body, headers)  # a fresh response: no cached DOM
            start = time.perf_counter()
            parser.parse(response)
            samples.append((time.perf_counter() - start) * 1000)
        rows.append((label, first, statistics.mean(samples), statistics.median(samples)))
    return rows


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--repeat", type=int, default=200)
    opts = args.parse_args()
    rows = measure(opts.repeat)
    print(f"{'article':<40} {'first ms':>9} {'mean ms':>8} {'median ms':>9}")
    for name, first, mean, median in rows:
        print(f"{name:<40} {first:>9.2f} {mean:>8.3f} {median:>9.3f}")
    print(f"parse ms/article (mean over portals): {statistics.mean(r[2] for r in rows):.3f}")


if __name__ == "__main__":
    main()
