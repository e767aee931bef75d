"""Parse cost of article pages: spider callback + processing pipelines.

Rows: each snapshot article, then replica article pages of every CMS generation each portal
serves (archive and current, three meeting pages each), parsed as a crawl parses them.
Download excluded: each page is built into a response once, then parsed N times.
Usage: python bench/parse.py [--repeat N] [--replica-pages K]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.runtime.offline import OfflineParser  # noqa: E402
from tests.snapshots import HTML_TYPES, expected_cases  # noqa: E402


def time_page(parser: OfflineParser, url: str, body: bytes, headers: dict, repeat: int) -> tuple[float, float, float]:
    start = time.perf_counter()
    assert parser.parse(parser.response(url, body, headers)) is not None, url
    first = (time.perf_counter() - start) * 1000
    samples = []
    for _ in range(repeat):
        response = parser.response(url, body, headers)  # a fresh response: no cached DOM
        start = time.perf_counter()
        parser.parse(response)
        samples.append((time.perf_counter() - start) * 1000)
    return first, statistics.mean(samples), statistics.median(samples)


def measure(repeat: int) -> list[tuple[str, float, float, float]]:
    rows = []
    for portal, expected_path, page, url in expected_cases():
        parser = OfflineParser(portal)
        headers = {"Content-Type": HTML_TYPES[portal]}
        rows.append((expected_path.stem, *time_page(parser, url, page.read_bytes(), headers, repeat)))
    return rows


def measure_replica(repeat: int, pages: int) -> list[tuple[str, float, float, float]]:
    """Generated meeting pages (not the seeds) of each generation the replica serves."""
    from crawler.replica import build_site

    site = build_site(articles=30, seed=1, generation="both")
    rows = []
    for portal in site.portals:
        parser = OfflineParser(portal)
        for generation in site.generations_of(portal):
            served = site.portal(portal, generation)
            for e in [e for e in served.entries if e.meeting and not e.seed][:pages]:
                url = served.url_of(e)
                resp = served.handle("GET", url.split(served.host, 1)[1], "", b"", {})
                headers = dict(resp.headers)
                rows.append((f"{portal}/{generation} {url.rsplit('/', 1)[-1][:22]}",
                             *time_page(parser, url, resp.body, headers, repeat)))
    return rows


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--repeat", type=int, default=200)
    args.add_argument("--replica-pages", type=int, default=3, metavar="K",
                      help="replica meeting pages per portal and generation (0: snapshots only)")
    opts = args.parse_args()
    rows = measure(opts.repeat)
    generated = measure_replica(max(1, opts.repeat // 4), opts.replica_pages) if opts.replica_pages else []
    print(f"{'article':<40} {'first ms':>9} {'mean ms':>8} {'median ms':>9}")
    for name, first, mean, median in rows + generated:
        print(f"{name:<40} {first:>9.2f} {mean:>8.3f} {median:>9.3f}")
    print(f"parse ms/article (mean over portals): {statistics.mean(r[2] for r in rows):.3f}")
    if generated:
        worst = max(generated, key=lambda r: r[2])
        print(f"parse ms/article (mean over replica pages, every generation): "
              f"{statistics.mean(r[2] for r in generated):.3f}; slowest {worst[0]}: {worst[2]:.3f}")


if __name__ == "__main__":
    main()
