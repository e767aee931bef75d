"""Parse cost of one article page per portal: spider callback + processing pipelines.

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


def current_cases():
    """(name, portal, body, url) of one meeting page per portal's current generation, in its new
    template (the replica's ``crawler/replica/current/``; pages that kept the archive's are left out)."""
    from crawler.replica import build_site

    site = build_site(articles=20, seed=1, generation="current")
    for portal, current in site.current.items():
        archive_urls = set(site.portals[portal].meeting_urls())
        e = next((e for e in current.entries if e.meeting and current.url_of(e) not in archive_urls), None)
        if e is not None:
            yield f"{portal}-current", portal, current.page(e), current.url_of(e)


def cases():
    for portal, expected_path, page, url in expected_cases():
        yield expected_path.stem, portal, page.read_bytes(), url
    yield from current_cases()


def measure(repeat: int) -> list[tuple[str, float, float, float]]:
    rows = []
    for name, portal, body, url in cases():
        parser = OfflineParser(portal)
        headers = {"Content-Type": HTML_TYPES[portal]}
        start = time.perf_counter()
        assert parser.parse(parser.response(url, body, headers)) is not None
        first = (time.perf_counter() - start) * 1000
        samples = []
        for _ in range(repeat):
            response = parser.response(url, body, headers)  # a fresh response: no cached DOM
            start = time.perf_counter()
            parser.parse(response)
            samples.append((time.perf_counter() - start) * 1000)
        rows.append((name, first, statistics.mean(samples), statistics.median(samples)))
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
