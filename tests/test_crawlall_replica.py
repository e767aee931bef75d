"""`scrapy crawlall --replica`, the demo: every portal into one store, offline, in one process."""

import subprocess
import sys
from pathlib import Path

from crawler.replica import build_site
from crawler.store import Store, dedupe_key

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
    # crawlall --replica serves every generation (both) and crawls each from its listing: a
    # portal served in two generations lists its meetings twice, at two URLs; each is stored once.
    site = build_site(articles=30, seed=5, generation="both")
    store = Store(db)
    try:
        stored = {}
        for item in store.iter_items():
            stored.setdefault(item["portal"], []).append(item)
    finally:
        store.close()
    for portal in ("yingkou", "beipiao", "laishan", "zhanqian", "jining"):
        items = stored.get(portal, [])
        expected = {}
        for generation in site.generations_of(portal):
            for e in site.expected_items(portal, generation):
                expected.setdefault(dedupe_key(e), set()).add(e["url"])
        assert sorted(dedupe_key(i) for i in items) == sorted(expected), portal
        assert all(i["url"] in expected[dedupe_key(i)] for i in items), portal
