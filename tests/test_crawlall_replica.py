"""`scrapy crawlall --replica`, the demo: every portal into one store, offline, in one process."""

import subprocess
import sys
from pathlib import Path

from crawler.replica import build_site
from crawler.store import Store

ROOT = Path(__file__).resolve().parent.parent


def test_crawlall_on_the_in_process_replica_stores_every_meeting_once(tmp_path):
    db = f"sqlite:///{tmp_path}/meetings.db"
    cmd = [str(Path(sys.executable).parent / "scrapy"), "crawlall", "--replica", "--replica-articles", "30",
           "--replica-seed", "5", "-s", f"MEETINGS_DB={db}",
           # This test's own lock and log files, not the project's data/ and logs/.
           "-s", f"CRAWLALL_LOCK_FILE={tmp_path}/crawlall.lock", "-s", f"CRAWLALL_LOG_FILE={tmp_path}/crawlall.log"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "crawlall: ok — 5 portal(s) healthy (exit 0)" in result.stdout
    site = build_site(articles=30, seed=5, generation="both")
    store = Store(db)
    try:
        stored = {}
        for item in store.iter_items():
            stored.setdefault(item["portal"], []).append(item["url"])
    finally:
        store.close()
    for portal in ("yingkou", "beipiao", "laishan", "zhanqian", "jining"):
        urls = stored.get(portal, [])
        assert len(urls) == len(set(urls))
        # A meeting served by both generations is stored once, at either of its URLs (the
        # crawl that reaches it second counts it as moved); the newest only at its new one.
        archive = site.portal(portal, "archive")
        if portal not in site.current:
            assert set(urls) == set(archive.meeting_urls()), portal
            continue
        current = site.current[portal]
        where = {}
        for e in current.entries:
            if e.meeting:
                addresses = {current.url_of(e)} | ({archive.url_of(e)} if e in archive.entries else set())
                where.update((u, e.idx) for u in addresses)
        assert set(urls) <= set(where), portal
        assert sorted(where[u] for u in urls) == sorted(e.idx for e in current.entries if e.meeting), portal
