"""The benchmark: throughput against bare Scrapy, incremental re-run, parse cost, peak RSS and
extraction quality against generic extractors (trafilatura, GNE), measured in one run.

    .venv/bin/python bench/run.py [--articles 10000] [--portal laishan] [--rounds 3] [--sample 30]
                                  [--repeat 50] [--parse-processes 1] [--no-prerender]
                                  [--skip-crawl] [--skip-quality] [--breakdown]

Throughput: the replica (``--articles`` meeting articles per portal, the measured portal
pre-rendered) runs in its own process; the bare spider (bench/bare_spider.py: the portal's real
spider, ``parse_meeting`` a no-op, no store) and the full crawler (``scrapy crawl PORTAL``: all
pipelines, SQLite store, ``PARSE_PROCESSES`` parser workers) crawl the same portal one after
the other, ``--rounds`` times, with the same settings (CONCURRENT_REQUESTS=16 and 16 per
domain, DOWNLOAD_DELAY=0, AUTOTHROTTLE off).  pages/s = responses / the crawl's
``elapsed_time_seconds`` (process start-up excluded).  Then the full crawler again on the
unchanged replica (incremental).  Peak RSS and CPU: the crawl process and its parser workers.
The last line is ``throughput ratio full/bare: R``, the median of the rounds' ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.runtime.offline import OfflineParser  # noqa: E402
from crawler.replica import build_site  # noqa: E402
from crawler.replica.process import running_replica  # noqa: E402
from settings import base as project_settings  # noqa: E402

SCRAPY = str(Path(sys.executable).parent / "scrapy")
SAME = {"CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "INFO"}
PORTALS = ("yingkou", "beipiao", "laishan", "zhanqian", "jining")
# The project's extensions (health checks, GC threshold), plus the stats dump of the benchmark.
EXTENSIONS = {**project_settings.EXTENSIONS, "bench.statsdump.StatsDump": 0}


# --- crawls -------------------------------------------------------------------------------------------


def run_crawl(cmd: list[str], stats_file: str, env: dict | None = None) -> dict:
    """Run one crawler process; its stats, wall seconds and peak RSS (MB)."""
    cmd = cmd + ["-s", f"EXTENSIONS={json.dumps(EXTENSIONS)}", "-s", f"BENCH_STATS_FILE={stats_file}"]
    for k, v in SAME.items():
        cmd += ["-s", f"{k}={v}"]
    start = time.perf_counter()
    with open(stats_file + ".log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env=dict(os.environ, **(env or {})))
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}); log: {stats_file}.log")
    stats = json.loads(Path(stats_file).read_text())
    return {"stats": stats, "wall": wall, "rss_mb": usage.ru_maxrss / 1024,
            "cpu": usage.ru_utime + usage.ru_stime}


def pages_per_s(run: dict) -> float:
    s = run["stats"]
    return s.get("downloader/response_count", 0) / float(s["elapsed_time_seconds"])


def throughput(articles: int, portals: list[str], tmp: str, breakdown: bool = False, processes: int = 1,
               rounds: int = 3, prerender: bool = True) -> dict:
    """Per portal: ``rounds`` rounds of bare then full crawl (each full crawl into a new store), the
    incremental re-run on the last store, and with ``breakdown`` one crawl of each variant."""
    out = {}
    print(f"building the replica: {articles} meeting articles per portal ...", flush=True)
    # Pre-rendered: the portals are other machines, serving stored pages; generating them here
    # would take the core the parser workers use (0.38 ms a page measured), in both crawls.
    with running_replica(articles=articles, timeout=300, prerender=tuple(portals) if prerender else ()) as origin:
        for portal in portals:
            mirror = ["-s", f"PORTAL_MIRROR={origin}"]
            workers = ["-s", f"PARSE_PROCESSES={processes}"]
            out[portal] = r = {"rounds": []}
            for n in range(1, rounds + 1):
                bare = run_crawl([SCRAPY, "runspider", "bench/bare_spider.py", "-s", "MEETINGS_DB=",
                                  "-s", "PARSE_PROCESSES=0", *mirror],
                                 f"{tmp}/{portal}-bare{n}.json", env={"BENCH_PORTAL": portal})
                db = f"sqlite:///{tmp}/{portal}-{n}.db"
                full = run_crawl([SCRAPY, "crawl", portal, "-s", f"MEETINGS_DB={db}", *workers, *mirror],
                                 f"{tmp}/{portal}-full{n}.json")
                r["rounds"].append((bare, full))
                print(f"  {portal} round {n}: bare {pages_per_s(bare):.0f} pages/s, full {pages_per_s(full):.0f} "
                      f"pages/s (ratio {pages_per_s(full) / pages_per_s(bare):.2f}), stored "
                      f"{full['stats'].get('store/new', 0)}", flush=True)
            r["again"] = run_crawl([SCRAPY, "crawl", portal, "-s", f"MEETINGS_DB={db}", *workers, *mirror],
                                   f"{tmp}/{portal}-again.json")
            if breakdown:
                # where the difference goes: parsing in the crawl process, without the store (and
                # incremental), without pipelines
                if processes:
                    r["in-process"] = run_crawl(
                        [SCRAPY, "crawl", portal, "-s", f"MEETINGS_DB=sqlite:///{tmp}/{portal}-inproc.db",
                         "-s", "PARSE_PROCESSES=0", *mirror], f"{tmp}/{portal}-inproc.json")
                r["no store"] = run_crawl(
                    [SCRAPY, "crawl", portal, "-s", "MEETINGS_DB=", *workers, *mirror], f"{tmp}/{portal}-nostore.json")
                r["no pipelines"] = run_crawl(
                    [SCRAPY, "crawl", portal, "-s", "MEETINGS_DB=", "-s", "ITEM_PIPELINES={}", *workers, *mirror],
                    f"{tmp}/{portal}-nopipes.json")
    return out


# --- parse cost --------------------------------------------------------------------------------------


def replica_pages(articles: int, sample: int, seed: int = 1) -> list[tuple[str, str, bytes, dict, dict]]:
    """(portal, url, body, headers, expected item) for a sample of replica meeting articles per portal."""
    site = build_site(articles, seed)
    rng = random.Random(7)
    out = []
    for portal in PORTALS:
        p = site.portal(portal)
        meetings = [e for e in p.entries if e.meeting and not e.seed]
        for e in rng.sample(meetings, min(sample, len(meetings))):
            out.append((portal, p.url_of(e), p.page(e), {"Content-Type": p.html_type}, p.expected(e)))
    return out


def snapshot_pages() -> list[tuple[str, str, bytes, dict, dict, str]]:
    from tests.snapshots import HTML_TYPES, expected_cases

    return [(portal, url, page.read_bytes(), {"Content-Type": HTML_TYPES[portal]},
             json.loads(path.read_text("utf-8")), path.stem)
            for portal, path, page, url in expected_cases()]


def parse_cost(pages, repeat: int) -> dict[str, float]:
    """Mean CPU ms per page per portal (spider callback + processing pipelines, fresh response each time;
    CPU time of this thread, so that other processes on a busy machine do not count)."""
    parsers = {p: OfflineParser(p) for p in {x[0] for x in pages}}
    for portal, url, body, headers, *_ in pages:  # warm-up
        parsers[portal].parse(parsers[portal].response(url, body, headers))
    per: dict[str, list[float]] = {}
    for _ in range(repeat):
        for portal, url, body, headers, *_ in pages:
            parser = parsers[portal]
            response = parser.response(url, body, headers)
            start = time.thread_time()
            parser.parse(response)
            per.setdefault(portal, []).append((time.thread_time() - start) * 1000)
    return {p: (statistics.mean(v), statistics.median(v)) for p, v in per.items()}


# --- extraction quality ------------------------------------------------------------------------------

_WS = re.compile(r"\s+")
_DATE = re.compile(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")


def squeeze(text) -> str:
    return _WS.sub("", text or "")


def date_of(value) -> str | None:
    """The calendar date of a date string (ISO or as printed), YYYY-MM-DD."""
    m = _DATE.search(str(value or ""))
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else None


def char_f1(got: str, want: str) -> float:
    """Character-level F1: multiset overlap of the characters, whitespace ignored."""
    from collections import Counter

    g, w = Counter(squeeze(got)), Counter(squeeze(want))
    common = sum((g & w).values())
    if not common:
        return 0.0
    precision, recall = common / sum(g.values()), common / sum(w.values())
    return 2 * precision * recall / (precision + recall)


def collapse(text) -> str:
    return _WS.sub(" ", text or "").strip()


def body_rules_ok(got: str, rules: dict) -> bool:
    """A body passes the snapshot's rules (startswith/endswith/contains/excludes), compared with every
    whitespace run collapsed to one space on both sides (extractors lay paragraphs out differently);
    whitespace-only ``excludes`` (NBSP, double spaces: layout, not content) are not checked."""
    g = collapse(got)
    return (g.startswith(collapse(rules.get("startswith", ""))) and g.endswith(collapse(rules.get("endswith", "")))
            and all(collapse(c) in g for c in rules.get("contains", ()))
            and not any(collapse(x) in g for x in rules.get("excludes", ()) if collapse(x)))


def decode(body: bytes, headers: dict) -> str:
    from scrapy.http import HtmlResponse

    return HtmlResponse(url="http://x/", body=body, headers=headers).text


def extractors():
    import trafilatura
    from gne import GeneralNewsExtractor

    gne = GeneralNewsExtractor()
    parsers: dict[str, OfflineParser] = {}

    def ours(portal, url, body, headers):
        parser = parsers.get(portal) or parsers.setdefault(portal, OfflineParser(portal))
        item = parser.parse(parser.response(url, body, headers)) or {}
        return {"title": item.get("title"), "published_at": item.get("published_at"), "body": item.get("body")}

    def traf(portal, url, body, headers):
        doc = trafilatura.bare_extraction(decode(body, headers), url=url, with_metadata=True, include_comments=False)
        doc = doc.as_dict() if hasattr(doc, "as_dict") else (doc or {})
        return {"title": doc.get("title"), "published_at": doc.get("date"), "body": doc.get("text")}

    def gne_(portal, url, body, headers):
        doc = gne.extract(decode(body, headers))
        return {"title": doc.get("title"), "published_at": doc.get("publish_time"), "body": doc.get("content")}

    return {"this crawler": ours, "trafilatura": traf, "GNE": gne_}


def quality(snapshots, replica) -> dict:
    """Per extractor and page set: title / published_at (date) accuracy, body F1 or rules, ms/page."""
    res = {}
    for name, fn in extractors().items():
        for page in snapshots:  # first calls: trafilatura loads ~4 s of data, parsers are built
            fn(*page[:4])
        for label, pages in (("snapshots", snapshots), ("replica", replica)):
            titles, dates, exact, bodies, times = [], [], [], [], []
            for portal, url, body, headers, exp, *_ in pages:
                start = time.thread_time()
                got = fn(portal, url, body, headers)
                times.append((time.thread_time() - start) * 1000)
                titles.append(_WS.sub(" ", got["title"] or "").strip() == exp["title"])
                dates.append(date_of(got["published_at"]) == date_of(exp["published_at"]))
                exact.append(got["published_at"] == exp["published_at"])
                want = exp["body"]
                bodies.append(body_rules_ok(got["body"], want) if isinstance(want, dict) else char_f1(got["body"], want))
            res[(name, label)] = {"n": len(pages), "title": statistics.mean(titles),
                                  "date": statistics.mean(dates), "exact": statistics.mean(exact),
                                  "body": statistics.mean(bodies), "ms": statistics.mean(times)}
    return res


# --- report -------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=10000, help="meeting articles per portal in the replica")
    ap.add_argument("--portal", default="laishan", help="portal to crawl for throughput, or 'all'")
    ap.add_argument("--sample", type=int, default=30, help="replica articles per portal for parse cost and quality")
    ap.add_argument("--repeat", type=int, default=50, help="parse repetitions per page")
    ap.add_argument("--skip-crawl", action="store_true")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds of bare then full crawl; the ratio reported is their median (this VM is noisy)")
    ap.add_argument("--no-prerender", action="store_true",
                    help="let the replica generate pages as they are asked for (its CPU then competes with the crawl)")
    ap.add_argument("--parse-processes", type=int, default=1,
                    help="PARSE_PROCESSES of the full crawler (0: parse in the crawl process)")
    ap.add_argument("--breakdown", action="store_true",
                    help="also crawl without the store and without pipelines (where the difference goes)")
    args = ap.parse_args(argv)
    portals = list(PORTALS) if args.portal == "all" else [args.portal]

    snaps = snapshot_pages()
    replica = replica_pages(max(args.sample * 2, 200), args.sample)
    print("parse cost ...", flush=True)
    cost_snap = parse_cost(snaps, args.repeat)
    cost_rep = parse_cost(replica, max(1, args.repeat // 5))
    qual = None if args.skip_quality else (print("extraction quality ...", flush=True) or quality(snaps, replica))
    tp = None
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if not args.skip_crawl:
            tp = throughput(args.articles, portals, tmp, args.breakdown, args.parse_processes, args.rounds,
                            not args.no_prerender)

    print()
    print("## parse cost per article page (spider callback + processing pipelines), mean ms")
    print(f"{'portal':<10} {'snapshot mean':>13} {'median':>7} {'replica mean':>13} {'median':>7}")
    nan = (float("nan"), float("nan"))
    for p in PORTALS:
        (sm, sd), (rm, rd) = cost_snap.get(p, nan), cost_rep.get(p, nan)
        print(f"{p:<10} {sm:>13.3f} {sd:>7.3f} {rm:>13.3f} {rd:>7.3f}")
    print(f"{'all':<10} {statistics.mean(v[0] for v in cost_snap.values()):>13.3f} "
          f"{statistics.mean(v[1] for v in cost_snap.values()):>7.3f} "
          f"{statistics.mean(v[0] for v in cost_rep.values()):>13.3f} "
          f"{statistics.mean(v[1] for v in cost_rep.values()):>7.3f}")
    if qual:
        print()
        print(f"## extraction quality ({len(snaps)} snapshot articles, rules-form bodies; "
              f"{len(replica)} replica articles, full expected bodies)")
        print(f"{'extractor':<13} {'pages':<9} {'title':>6} {'date':>6} {'exact dt':>8} {'body':>6} {'ms/page':>8}")
        for (name, label), r in qual.items():
            body = f"{r['body']:.0%}" if label == "snapshots" else f"{r['body']:.3f}"
            print(f"{name:<13} {label:<9} {r['title']:>6.0%} {r['date']:>6.0%} {r['exact']:>8.0%} {body:>6} "
                  f"{r['ms']:>8.2f}")
        print("(snapshots: body = share passing startswith/endswith/contains/excludes; replica: char F1;"
              " date = calendar date of published_at; exact dt = the whole value)")
    ratio = None
    if tp:
        print()
        print(f"## crawl of the replica ({args.articles} meeting articles per portal)")
        print(f"{'portal':<10} {'crawler':<15} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'items':>6} "
              f"{'peak RSS MB':>11} {'CPU ms/page':>11} {'crawl proc':>10} {'workers':>7}")
        ratios = []
        for p, r in tp.items():
            rows = [(f"bare Scrapy {n}", bare) for n, (bare, _) in enumerate(r["rounds"], 1)]
            rows += [(f"full {n}", full) for n, (_, full) in enumerate(r["rounds"], 1)]
            rows += [(name, r[label]) for label, name in (("again", "incremental"), ("in-process", "full, 0 workers"),
                                                          ("no store", "no store"), ("no pipelines", "no pipelines"))
                     if label in r]
            for name, run in rows:
                s = run["stats"]
                secs = float(s["elapsed_time_seconds"])
                pages = max(1, s.get("downloader/response_count", 0))
                # Totals count the parser workers: the peak RSS of each, and their CPU time
                # (os.wait4's figures for the crawl include its reaped workers: max RSS, summed CPU).
                workers = int(s.get("parse_pool/processes", 0))
                own_rss = float(s.get("bench/crawl_max_rss_mb", run["rss_mb"]))
                rss = own_rss + workers * float(s.get("parse_pool/worker_max_rss_mb", 0))
                own_cpu = float(s.get("bench/crawl_cpu_seconds", run["cpu"]))
                print(f"{p:<10} {name:<15} {s.get('downloader/response_count', 0):>6} {secs:>8.1f} "
                      f"{pages_per_s(run):>8.1f} {s.get('store/new', 0) + s.get('store/unchanged', 0):>6} "
                      f"{rss:>11.0f} {1000 * run['cpu'] / pages:>11.2f} "
                      f"{1000 * own_cpu / pages:>10.2f} {workers:>7}")
            print(f"{p:<10} incremental re-run: {r['again']['stats'].get('downloader/request_count', 0)} requests, "
                  f"{float(r['again']['stats']['elapsed_time_seconds']):.1f} s crawl, {r['again']['wall']:.1f} s "
                  f"with process start-up")
            for bare, full in r["rounds"]:
                ratios.append(pages_per_s(full) / pages_per_s(bare))
        ratio = statistics.median(ratios)
        print("(peak RSS and CPU ms/page: the crawl process plus its parser workers; crawl proc: the crawl"
              " process alone, the one core Scrapy runs on)")
    if ratio is not None:
        print(f"ratios full/bare by round (bare and full crawled one after the other): "
              f"{', '.join(f'{x:.2f}' for x in ratios)}; median below")
        print(f"throughput ratio full/bare: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
