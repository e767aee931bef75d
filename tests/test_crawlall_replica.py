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
    # The replica serves both generations where a portal has a current one: each meeting is
    # stored once, at its archive or its current URL.
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
        meeting_of = {}
        for generation in site.generations_of(portal):
            served = site.portal(portal, generation)
            meeting_of.update({served.url_of(e): e.idx for e in served.entries if e.meeting})
        assert set(urls) <= set(meeting_of), portal
        meetings = [meeting_of[u] for u in urls]
        assert sorted(meetings) == sorted(set(meeting_of.values())), portal
