"""Full-text search of the store: recall against a LIKE scan, and latency, on a large store.

    .venv/bin/python bench/search.py [--meetings 50000] [--words 50] [--seed 5] [--db PATH] [--compare]

Builds a SQLite store of ``--meetings`` replica meetings (crawler/replica: the five portals'
generated articles, stored through ``Store.upsert_many`` in batches of 100 as a crawl stores
them, so the index is built by the store's own write path), then draws ``--words`` words of
2–4 Chinese characters from random places in the replica's bodies.  For each word:

* recall: the meetings the index finds (Datasette's search, ``?_search=``) against those
  ``title LIKE '%word%' OR body LIKE '%word%'`` finds, over every meeting; a meeting the
  index finds and LIKE does not is a false hit;
* latency: Datasette's JSON API answering ``/meetings/meetings.json?_search=word`` in process
  (rows newest first, the total count and the four facets, as the search box asks), and the
  bare MATCH query; p50 and p95 over the words.

``--compare`` also measures the alternatives on the same store and words: SQLite's trigram
tokenizer, and jieba's segmentation into a word index (jieba is in requirements.txt for this).
Last lines: ``recall: R%`` and ``p95 ms: T`` (the JSON API's).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.store import search  # noqa: E402
from crawler.replica import build_site  # noqa: E402
from crawler.store import Store  # noqa: E402

PORTALS = ["yingkou", "beipiao", "laishan", "zhanqian", "jining"]
HAN = re.compile(r"[\u4e00-\u9fff]+")


def build_store(path: Path, meetings: int, seed: int) -> tuple[list[str], float]:
    """Fill a store with ``meetings`` replica meetings; returns their bodies and the
    store's write time per meeting (ms)."""
    per_portal = -(-meetings // len(PORTALS))
    site = build_site(articles=per_portal, seed=seed)
    items = [i for p in PORTALS for i in site.expected_items(p) if isinstance(i["body"], str)]
    items = items[:meetings]
    store = Store(f"sqlite:///{path}")
    t = time.perf_counter()
    for i in range(0, len(items), 100):
        store.upsert_many([(it, ()) for it in items[i : i + 100]])
    elapsed = time.perf_counter() - t
    store.close()
    return [i["body"] for i in items], elapsed * 1000 / max(1, len(items))


def draw_words(bodies: list[str], n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    words: list[str] = []
    while len(words) < n:
        runs = [r for r in HAN.findall(rnd.choice(bodies)) if len(r) >= 2]
        if not runs:
            continue
        run = rnd.choice(runs)
        size = rnd.choice((2, 2, 3, 4))
        if len(run) < size:
            continue
        start = rnd.randrange(len(run) - size + 1)
        word = run[start : start + size]
        if word not in words:
            words.append(word)
    return words


def like_ids(conn, word: str) -> set[int]:
    p = f"%{word}%"
    return {r[0] for r in conn.execute("SELECT id FROM meetings WHERE title LIKE ? OR body LIKE ?", (p, p))}


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def api_latencies(path: Path, words: list[str], extra: str = "") -> list[float]:
    from urllib.parse import quote

    from crawler.commands.browse import make_datasette

    ds = make_datasette(path)

    async def run() -> list[float]:
        await ds.invoke_startup()
        await ds.client.get("/meetings/meetings.json?_search=" + quote(words[0]))  # warm up
        out = []
        for w in words:
            t = time.perf_counter()
            r = await ds.client.get("/meetings/meetings.json?_search=" + quote(w) + extra)
            out.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (w, r.status_code, r.text[:500])
        return out

    return asyncio.run(run())


def compare(conn, words: list[str], truth: dict[str, set[int]]) -> None:
    """The alternatives: trigram (+ LIKE for short words) and jieba word segmentation."""
    t = time.perf_counter()
    conn.execute("CREATE VIRTUAL TABLE tri USING fts5(title, body, content='', tokenize='trigram')")
    conn.execute("INSERT INTO tri(rowid, title, body) SELECT id, title, body FROM meetings")
    conn.commit()
    print(f"trigram index build: {time.perf_counter() - t:.1f} s")
    found = total = 0
    short_ms, long_ms = [], []
    for w in words:
        t = time.perf_counter()
        if len(w) >= 3:
            ids = {r[0] for r in conn.execute("SELECT rowid FROM tri WHERE tri MATCH ?", (f'"{w}"',))}
            long_ms.append((time.perf_counter() - t) * 1000)
        else:
            ids = {r[0] for r in conn.execute("SELECT rowid FROM tri WHERE tri MATCH ?", (f'"{w}"',))}
            t = time.perf_counter()
            like_ids(conn, w)  # the fallback a trigram index needs for two characters
            short_ms.append((time.perf_counter() - t) * 1000)
        found += len(ids & truth[w])
        total += len(truth[w])
    print(f"trigram alone: recall {100 * found / max(1, total):.1f}% "
          f"(2-character words: none found); its LIKE fallback for 2 characters: "
          f"p50 {statistics.median(short_ms) if short_ms else 0:.0f} ms, "
          f"p95 {percentile(short_ms, .95) if short_ms else 0:.0f} ms; "
          f"3+ characters MATCH p95 {percentile(long_ms, .95) if long_ms else 0:.1f} ms")
    try:
        import jieba
    except ImportError:
        print("jieba: not installed (pip install jieba to compare)")
        return
    jieba.setLogLevel(60)
    t = time.perf_counter()
    conn.execute("CREATE VIRTUAL TABLE jb USING fts5(title, body, content='', tokenize='unicode61')")
    rows = conn.execute("SELECT id, title, body FROM meetings").fetchall()
    conn.executemany("INSERT INTO jb(rowid, title, body) VALUES (?, ?, ?)",
                     [(i, " ".join(jieba.cut_for_search(a or "")), " ".join(jieba.cut_for_search(b or "")))
                      for i, a, b in rows])
    conn.commit()
    print(f"jieba index build: {time.perf_counter() - t:.1f} s ({len(rows)} meetings)")
    found = total = 0
    for w in words:
        query = " ".join(f'"{tok}"' for tok in jieba.cut_for_search(w))
        ids = {r[0] for r in conn.execute("SELECT rowid FROM jb WHERE jb MATCH ?", (query,))}
        found += len(ids & truth[w])
        total += len(truth[w])
    print(f"jieba (cut_for_search, query segmented the same way): recall {100 * found / max(1, total):.1f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meetings", type=int, default=50_000)
    ap.add_argument("--words", type=int, default=50)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--db", type=Path, help="store file to build (default: a temporary one)")
    ap.add_argument("--reuse", action="store_true", help="use the store at --db as it is, if it exists")
    ap.add_argument("--compare", action="store_true", help="also measure trigram and jieba")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="bench-search-")
    path = args.db or Path(tmp.name) / "meetings.db"
    if args.reuse and path.exists():
        conn = sqlite3.connect(path)
        bodies = [b for (b,) in conn.execute("SELECT body FROM meetings")]
        print(f"store: {len(bodies)} meetings (reused {path})")
    else:
        if path.exists():
            path.unlink()
        t = time.perf_counter()
        bodies, write_ms = build_store(path, args.meetings, args.seed)
        print(f"store: {len(bodies)} meetings in {time.perf_counter() - t:.1f} s "
              f"(store writes incl. index: {write_ms:.2f} ms per meeting); "
              f"{path.stat().st_size / 2**20:.0f} MB")
        conn = sqlite3.connect(path)
    fts_pages = conn.execute("SELECT count(*) FROM meetings_fts_data").fetchone()[0]
    print(f"index: {fts_pages} FTS5 segments rows; mean body {statistics.mean(map(len, bodies)):.0f} characters")

    words = draw_words(bodies, args.words, args.seed)
    print("words:", " ".join(words))
    truth = {w: like_ids(conn, w) for w in words}
    found = false = total = 0
    sql_ms = []
    for w in words:
        t = time.perf_counter()
        ids = set(search.search_ids(conn, w))
        sql_ms.append((time.perf_counter() - t) * 1000)
        found += len(ids & truth[w])
        false += len(ids - truth[w])
        total += len(truth[w])
        if ids != truth[w]:
            print(f"  {w}: index {len(ids)}, LIKE {len(truth[w])}")
    hits = sorted(len(v) for v in truth.values())
    print(f"matches per word: min {hits[0]}, median {hits[len(hits) // 2]}, max {hits[-1]} "
          f"of {len(bodies)}; false hits: {false}")
    print(f"MATCH (all ids, ranked): p50 {statistics.median(sql_ms):.1f} ms, p95 {percentile(sql_ms, .95):.1f} ms")
    if args.compare:
        compare(conn, words, truth)
    conn.close()
    bare = api_latencies(path, words, "&_nofacet=1")
    print(f"Datasette JSON API ?_search=&_nofacet=1 (rows newest first, count): "
          f"p50 {statistics.median(bare):.0f} ms, p95 {percentile(bare, .95):.0f} ms")
    api = api_latencies(path, words)
    print(f"Datasette JSON API ?_search= (rows, count, 4 facets): p50 {statistics.median(api):.0f} ms, "
          f"max {max(api):.0f} ms")
    print(f"recall: {100 * found / max(1, total):.1f}%")
    print(f"p95 ms: {percentile(api, .95):.0f}")


if __name__ == "__main__":
    main()
