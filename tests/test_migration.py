"""A portal that migrates loses nothing and duplicates nothing (issue 13, item 5): laishan.

Before: the classic JCMS site as it stood when the portal moved, i.e. the replica's archive
listing without the ``NEW_SITE_ONLY`` newest meetings (``generation="both"`` serves exactly that
archive listing; ``generation="archive"`` would list those newest ones too, as if the old site had
published them).  After: the replica switched to the current generation alone, JPAAS, where
the same meetings sit at new URLs (some kept their classic path) beside the newest ones.  The
spider is pointed at the new column with ``-a start=``; the store is shared, on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from crawler.replica import build_site
from crawler.replica.process import running_replica
from crawler.store import Store, dedupe_key

ROOT = Path(__file__).resolve().parent.parent
ARTICLES, SEED = 40, 6


def crawl(origin: str, db: str, *extra: str) -> dict:
    r = subprocess.run(
        [str(Path(sys.executable).parent / "scrapy"), "crawl", "laishan", "-s", f"PORTAL_MIRROR={origin}",
         "-s", f"MEETINGS_DB={db}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ, MEETINGS_DB=db))
    assert r.returncode == 0, r.stderr[-3000:]
    store = Store(db)
    try:
        return store.runs()[-1]["stats"]
    finally:
        store.close()


def stored(db: str) -> list[dict]:
    store = Store(db)
    try:
        return list(store.iter_items(portal="laishan"))
    finally:
        store.close()


def test_laishan_moving_to_jpaas_stores_every_meeting_once(db_url):
    before = build_site(ARTICLES, SEED, "both").portal("laishan", "archive")
    after = build_site(ARTICLES, SEED, "current").portal("laishan", "current")
    old = {dedupe_key(i): i for i in before.expected_items()}
    new = {dedupe_key(i): i for i in after.expected_items()}
    assert len(old) == len(before.expected_items()) and len(new) == len(after.expected_items())
    only_new = set(new) - set(old)
    assert set(old) <= set(new) and only_new, "the current site lists every old meeting and some newer ones"
    moved = {k for k in old if new[k]["url"] != old[k]["url"]}
    kept = set(old) - moved  # migrated with their classic path
    assert moved and kept

    with running_replica(articles=ARTICLES, seed=SEED, generation="both") as origin:
        s1 = crawl(origin, db_url, "-a", f"start={build_site(ARTICLES, SEED, 'both').list_urls('laishan', 'archive')}")
    assert s1.get("store/new") == len(old), s1
    assert {i["url"] for i in stored(db_url)} == {i["url"] for i in old.values()}

    with running_replica(articles=ARTICLES, seed=SEED, generation="current") as origin:
        s2 = crawl(origin, db_url, "-a", f"start={after.list_urls()[0]}")
    assert s2.get("listing/generation/jpaas") == 1, s2
    # Every meeting once, at its current URL.
    items = stored(db_url)
    assert sorted(dedupe_key(i) for i in items) == sorted(new)
    assert {i["url"] for i in items} == {i["url"] for i in new.values()}
    # Only the meetings published after the move are new; the moved ones are moved, and those
    # that kept their URL are unchanged (or, being stored already, not fetched at all).
    assert s2.get("store/new", 0) == len(only_new), s2
    assert s2.get("store/moved", 0) == len(moved), s2
    assert s2.get("store/updated", 0) == 0, s2
    assert s2.get("store/unchanged", 0) + s2.get("incremental/skipped_articles", 0) == len(kept), s2
    by_key = {dedupe_key(i): i for i in items}
    for key in only_new:
        assert by_key[key]["title"] == new[key]["title"] and by_key[key]["url"] == new[key]["url"]
    # A moved record reads as its new page does: breadcrumb and category of the new site.
    from crawler.replica.compare import mismatches

    assert {key: p for key in moved if (p := mismatches(by_key[key], new[key]))} == {}
