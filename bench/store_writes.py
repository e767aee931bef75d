"""CPU per stored meeting of the SQLite store's batch writes: the driver path (the default) and
SQLAlchemy's own execution, alternately, on the same items.

    .venv/bin/python bench/store_writes.py [--items 10000] [--batch 100] [--rounds 2]

Items are the snapshot articles' expected items (crawler/replica/portals/*/expected), each given a
new URL and index number, with a body of a typical article's length; batches as the store
pipeline commits them (STORE_BATCH_SIZE).  CPU seconds of this process (commits included).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.store import Store  # noqa: E402


def batches(items: int, size: int) -> list[list[tuple[dict, list]]]:
    templates = [json.loads(p.read_text("utf-8")) for p in sorted((ROOT / "crawler/replica/portals").glob("*/expected/*.json"))]
    out, batch = [], []
    for n in range(items):
        item = dict(templates[n % len(templates)], url=f"http://example.gov.cn/art/{n}.html",
                    index_number=f"IDX-{n}", fingerprint=f"{n:032x}", body="会议研究了有关事项。" * 300)
        batch.append((item, []))
        if len(batch) == size:
            out.append(batch)
            batch = []
    return out + ([batch] if batch else [])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    work = batches(args.items, args.batch)
    results: dict[str, list[float]] = {"driver": [], "sqlalchemy": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.rounds):
            for path in results:
                store = Store(f"sqlite:///{tmp}/{path}{n}.db")
                store.sqlite_fast_path = path == "driver"
                start = time.process_time()
                for batch in work:
                    store.upsert_many(batch)
                results[path].append((time.process_time() - start) * 1000 / args.items)
                store.close()
    for path, ms in results.items():
        print(f"{path:10s} {statistics.median(ms):.3f} ms CPU per stored meeting (rounds: "
              f"{', '.join(f'{m:.3f}' for m in ms)})")


if __name__ == "__main__":
    main()
