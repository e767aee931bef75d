"""Long keys and bad rows on both backends (crawler/store/__init__.py, pipelines/store.py).

PostgreSQL's btree rows hold at most 2,704 bytes: a date+title key of a ~1,000-character title
or a long redirect URL used to roll back its whole batch there, while SQLite stored it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.replica import build_site
from crawler.replica.faults import apply_faults, long_title
from crawler.replica.process import running_replica
from crawler.store import FAILED, KEY_MAX_BYTES, NEW, UNCHANGED, Store, bounded, check_storable, dedupe_key

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")


def item(n: int, **over) -> dict:
    base = {"portal": "beipiao", "url": f"http://www.bp.gov.cn/html/a{n}.html", "title": f"第{n}次常务会议",
            "published_at": f"2023-04-{n % 28 + 1:02d}T09:00:00+08:00", "body": f"会议研究了第{n}项工作。",
            "fingerprint": f"fp{n}"}
    return {**base, **over}


def test_bounded_keys_are_short_distinct_and_stable():
    title = long_title("区政府召开第八次常务会议")
    key = dedupe_key({"title": title, "published_at": "2024-05-06"})
    assert len(key.encode()) <= KEY_MAX_BYTES < 2704 - 64
    assert key == dedupe_key({"title": title, "published_at": "2024-05-06"})
    assert key != dedupe_key({"title": title[:-1] + "。", "published_at": "2024-05-06"})
    assert dedupe_key({"title": "短标题", "published_at": "2024-05-06"}) == "pub:2024-05-06|短标题"
    assert bounded("x" * KEY_MAX_BYTES) == "x" * KEY_MAX_BYTES
    # a cut never splits a character
    assert bounded("会" * 2000).encode("utf-8").decode("utf-8").startswith("会" * 300)


def test_long_title_and_url_store_on_both_backends(db_url):
    store = Store(db_url)
    try:
        # hex of hashes: nothing for PostgreSQL to compress in an index row
        long_url = "http://www.bp.gov.cn/html/redirect?t=" + "".join(
            hashlib.sha256(str(i).encode()).hexdigest() for i in range(60))
        batch = [(item(1), ()), (item(2, title=long_title("第二次常务会议")), ()), (item(3, url=long_url), [long_url + "&x"]),
                 (item(4), ())]
        assert [o for o, _ in store.upsert_each(batch)] == [NEW] * 4
        assert store.count() == 4
        stored = {i["url"]: i for i in store.iter_items()}
        assert stored[long_url]["title"] == "第3次常务会议"
        assert stored[item(2)["url"]]["title"] == long_title("第二次常务会议")
        assert store.fresh_urls([long_url, long_url + "&x", "http://other/"], None) == {long_url, long_url + "&x"}
        assert [o for o, _ in store.upsert_each(batch)] == [UNCHANGED] * 4
    finally:
        store.close()


def test_one_bad_item_is_isolated_and_the_rest_commits(db_url):
    store = Store(db_url)
    try:
        batch = [(item(1), ()), (item(2, url=""), ()), (item(3, meeting_number="第三"), ()), (item(4), ())]
        results = store.upsert_each(batch)
        assert [o for o, _ in results] == [NEW, FAILED, FAILED, NEW]
        assert "portal and url" in str(results[1][1])
        assert sorted(i["url"] for i in store.iter_items()) == [item(1)["url"], item(4)["url"]]
    finally:
        store.close()


def test_a_row_the_database_refuses_is_isolated(pg_server):
    """PostgreSQL text cannot hold U+0000 (SQLite can: the pipeline drops such items before
    either sees them, check_storable); the store still commits the rest of the batch."""
    store = Store(pg_server())
    try:
        results = store.upsert_each([(item(1), ()), (item(2, body="正文\x00尾"), ()), (item(3), ())])
        assert [o for o, _ in results] == [NEW, FAILED, NEW]
        assert store.count() == 2
    finally:
        store.close()


@pytest.mark.parametrize("over,reason", [
    ({"meeting_number": "十"}, "bad_number"), ({"term": 2**40}, "bad_number"), ({"title": "会\x00议"}, "nul"),
    ({"attendees": ["张\ud800三"]}, "bad_unicode"), ({"attachments": [{"name": "附\x00件", "url": "http://x/a.pdf"}]}, "nul"),
    ({}, None),
])
def test_check_storable(over, reason):
    assert check_storable(item(1, **over)) == reason


def test_schema_1_store_is_migrated(tmp_path):
    """A SQLite store of schema 1 may hold keys past the bound (SQLite took them): they are
    rewritten to the bounded form, so the same meeting is found again, not stored twice."""
    db = f"sqlite:///{tmp_path}/old.db"
    store = Store(db)
    title = long_title("第九次常务会议")
    long_url = "http://www.bp.gov.cn/html/" + "a" * 3000 + ".html"
    store.upsert_many([(item(9, title=title, url=long_url), ())])
    store.close()
    con = sqlite3.connect(f"{tmp_path}/old.db")
    full_key = f"pub:{item(9)['published_at'][:10]}|{title}"
    con.execute("update meetings set dedupe_key = ?", (full_key,))
    con.execute("update urls set url = ?", (long_url,))
    con.execute("drop index ix_meetings_url")
    con.execute("create index ix_meetings_url on meetings (url)")
    con.execute("update store_meta set value = '1' where key = 'schema_version'")
    con.commit()
    con.close()
    store = Store(db)
    try:
        with store.engine.connect() as c:
            assert "substr" in c.exec_driver_sql(
                "select sql from sqlite_master where name = 'ix_meetings_url'").scalar()
            assert c.exec_driver_sql("select value from store_meta").scalar() == "2"
        assert store.upsert(item(9, title=title, url=long_url))[0] == UNCHANGED
        assert store.count() == 1
        assert store.fresh_urls([long_url], None) == {long_url}
    finally:
        store.close()


def test_schema_1_postgresql_index_is_replaced(pg_server):
    db = pg_server()
    Store(db).close()
    store = Store(db)
    with store.engine.begin() as c:
        c.exec_driver_sql("drop index ix_meetings_url")
        c.exec_driver_sql("create index ix_meetings_url on meetings (url)")
        c.exec_driver_sql("update store_meta set value = '1'")
    store.close()
    store = Store(db)
    try:
        with store.engine.connect() as c:
            assert "substr" in c.exec_driver_sql(
                "select indexdef from pg_indexes where indexname = 'ix_meetings_url' and schemaname = current_schema()").scalar()
        assert store.upsert(item(1, url="http://www.bp.gov.cn/" + "b" * 4000))[0] == NEW
    finally:
        store.close()


@pytest.fixture(scope="module")
def long_title_replica():
    with running_replica(15, 3, faults={"beipiao": "long_title"}) as origin:
        yield origin


def test_crawl_with_long_titles_feed_and_store_agree(long_title_replica, db_url, tmp_path):
    """The real spider over the replica's long_title fault: every item in the -O feed is in the
    store, on both backends; no CRITICAL (the flush timer lives); a second run is unchanged."""
    hook = apply_faults(build_site(15, 3), {"beipiao": "long_title"})["beipiao"]
    assert len(hook.affected) >= 3
    for run in (1, 2):
        feed = tmp_path / f"feed{run}.jsonl"
        out = subprocess.run(
            [SCRAPY, "crawl", "beipiao", "-s", f"PORTAL_MIRROR={long_title_replica}", "-s", f"MEETINGS_DB={db_url}",
             "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "STORE_BATCH_SIZE=4",
             "-a", "full=1", "-O", str(feed)],
            cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, out.stderr[-3000:]
        assert "CRITICAL" not in out.stderr and "Unhandled error" not in out.stderr
        fed = {json.loads(line)["url"]: json.loads(line) for line in feed.read_text().splitlines()}
        store = Store(db_url)
        try:
            stored = {i["url"]: i for i in store.iter_items()}
            stats = store.runs()[-1]["stats"]
        finally:
            store.close()
        assert set(fed) == set(stored) and len(stored) == len(build_site(15, 3).expected_items("beipiao"))
        assert {u for u, i in stored.items() if len(i["title"]) >= 1000} == set(hook.affected)
        assert stats.get("store/failed", 0) == 0
        assert stats.get("store/new" if run == 1 else "store/unchanged") == len(stored)


def test_pipeline_survives_a_refused_batch_counts_it_and_stores_the_next(tmp_path, caplog):
    """A flush the database refuses (here: a write lock held by another connection past
    STORE_LOCK_TIMEOUT) is logged at ERROR and counted, never raised out of the flush timer;
    the next flush stores; items no store can hold alike are dropped before the feed."""
    from scrapy import Spider
    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler

    from crawler.items import MeetingItem
    from pipelines.store import StorePipeline

    class S(Spider):
        name = "beipiao"

    db = f"sqlite:///{tmp_path}/m.db"
    crawler = get_crawler(S, {"MEETINGS_DB": db, "STORE_LOCK_TIMEOUT": 0.2, "STORE_BATCH_SECONDS": 0,
                              "STORE_BATCH_SIZE": 100})
    crawler.spider = crawler._create_spider()
    crawler.stats.open_spider()
    pipe = StorePipeline.from_crawler(crawler)
    pipe.open_spider()
    with pytest.raises(DropItem):
        pipe.process_item(MeetingItem(item(9, title="会\x00议")))
    holder = sqlite3.connect(f"{tmp_path}/m.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    for n in (1, 2):
        pipe.process_item(MeetingItem(item(n)))
    pipe.writer.flush()  # must not raise
    holder.execute("ROLLBACK")
    holder.close()
    pipe.process_item(MeetingItem(item(3)))
    pipe.writer.flush()
    pipe.close_spider()
    pipe.spider_closed(crawler.spider, "finished")
    stats = crawler.stats.get_stats()
    assert stats["store/failed"] == 2 and stats["store/new"] == 1
    assert stats["store/dropped/nul"] == 1
    assert caplog.text.count("could not store") == 2
    assert [r.levelname for r in caplog.records if "could not store" in r.getMessage()] == ["ERROR", "ERROR"]
    assert pipe.store.count() == 1
    pipe.store.close()
