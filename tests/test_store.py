"""The store on real databases: SQLite files and PostgreSQL (see conftest: db_url)."""

from __future__ import annotations

import hashlib
import sqlite3
import multiprocessing
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import FIELDS, MeetingItem
from crawler.store import Store, dedupe_key, resolve_db_url, utcnow
from pipelines.dedupe import DedupePipeline
from pipelines.store import StorePipeline


def make_item(n=1, portal="laishan", **over):
    title = over.pop("title", f"【常务会议】莱山区政府第{n}次常务会议")
    body = over.pop("body", f"会议第{n}次。\n研究《文件{n}》。")
    item = {
        "portal": portal,
        "url": f"http://www.ytlaishan.gov.cn/art/2022/8/3/art_{n}.html",
        "title": title,
        "published_at": f"2022-08-{n % 28 + 1:02d}T16:42+08:00",
        "meeting_date": f"2022-08-{n % 28 + 1:02d}",
        "doc_type": "report",
        "meeting_kind": "常务会议",
        "meeting_number": n,
        "term": 17,
        "chair": "蒋海华",
        "source": "莱山区政府办",
        "author": "陈涣源",
        "publisher": None,
        "index_number": None,
        "written_date": None,
        "category": "区政府会议",
        "breadcrumb": ["首页", "政府信息公开", "会议公开"],
        "body": body,
        "documents": [f"文件{n}", "营商环境创新2022年行动计划"],
        "attendees": ["孙本胜", "刘显君"],
        "attachments": [{"name": f"附件{n}.pdf", "url": f"http://www.ytlaishan.gov.cn/a{n}.pdf"}],
        "language": "zh-Hans",
        "fingerprint": None,
        "crawled_at": "2024-01-01T08:00:00+08:00",
    }
    item.update(over)
    if item["fingerprint"] is None:
        item["fingerprint"] = hashlib.sha1((item["title"] + item["body"]).encode()).hexdigest()
    return item


def test_dedupe_key_rule():
    a = make_item(1)
    assert dedupe_key(a) == f"pub:{a['published_at'][:10]}|{a['title']}"
    assert dedupe_key(dict(a, index_number="113706/2022-03924")) == "idx:113706/2022-03924"
    # The URL is not part of the key.
    assert dedupe_key(dict(a, url="http://elsewhere/x.html")) == dedupe_key(a)


def test_resolve_db_url(tmp_path):
    u = resolve_db_url("postgresql://postgres@127.0.0.1/test")
    assert u.drivername == "postgresql+psycopg"
    u = resolve_db_url("postgres://h/db")
    assert u.drivername == "postgresql+psycopg"
    u = resolve_db_url("sqlite:///data/x/meetings.db", base_dir=tmp_path)
    assert u.database == str(tmp_path / "data/x/meetings.db")
    assert (tmp_path / "data/x").is_dir()
    with pytest.raises(ValueError):
        resolve_db_url("sqlite://")


def test_new_unchanged_updated_moved(db_url):
    store = Store(db_url)
    a = make_item(1)
    assert store.upsert(a)[0] == "new"
    assert store.upsert(make_item(2))[0] == "new"
    assert store.upsert(a)[0] == "unchanged"

    edited = make_item(1, body="会议第1次。\n研究《文件1》。更正：会议时间。")
    outcome, mid = store.upsert(edited)
    assert outcome == "updated"
    assert store.count() == 2
    revs = store.revisions_of(mid)
    assert len(revs) == 1
    assert revs[0]["fingerprint"] == a["fingerprint"]
    assert revs[0]["item"]["body"] == a["body"]
    assert list(revs[0]["item"]) == list(FIELDS)
    row = store.get("laishan", dedupe_key(a))
    assert row["body"] == edited["body"] and row["fingerprint"] == edited["fingerprint"]
    assert row["last_changed"] >= row["first_seen"]

    moved = dict(edited, url="http://www.ytlaishan.gov.cn/art/2023/1/1/art_new.html")
    assert store.upsert(moved)[0] == "moved"
    assert store.count() == 2 and len(store.revisions_of(mid)) == 1
    assert store.get("laishan", dedupe_key(a))["url"] == moved["url"]
    # Both addresses are known; the old one does not flip the record back.
    assert store.fresh_urls([a["url"], moved["url"]], 30) == {a["url"], moved["url"]}

    # Same key on another portal is another meeting; index numbers win over titles.
    assert store.upsert(make_item(1, portal="jining"))[0] == "new"
    assert store.upsert(make_item(3, index_number="IDX-1"))[0] == "new"
    assert store.upsert(make_item(3, index_number="IDX-1", title="改了标题"))[0] == "updated"
    assert store.count() == 4
    items = list(store.iter_items())
    assert len(items) == 4 and all(list(i) == list(FIELDS) for i in items)
    got = {(i["portal"], i["url"]): i for i in items}
    assert got[("laishan", make_item(2)["url"])] == make_item(2)
    store.close()


def test_sqlite_driver_path_stores_what_sqlalchemy_stores(tmp_path):
    """Batch writes on SQLite go straight to the driver (Store._execute_each); every table must
    hold, byte for byte, what SQLAlchemy's own execution stores — new, unchanged, updated,
    moved and redirect-alias rows, with Chinese text, lists, NULLs and timestamps."""
    now = utcnow()
    batches = [
        [(make_item(n), ()) for n in range(1, 6)] + [(make_item(9, index_number="IDX-9", publisher=""), ["http://r/9"])],
        [(make_item(1), ()), (make_item(2, body="更正。"), ()), (dict(make_item(3), url="http://new/3"), ["http://r/3"])],
        [(make_item(n, documents=[], attendees=[], attachments=[], breadcrumb=[]), ()) for n in range(6, 9)],
    ]
    tables = {}
    for fast in (True, False):
        store = Store(f"sqlite:///{tmp_path}/{fast}.db")
        store.sqlite_fast_path = fast
        outcomes = [store.upsert_many(batch, now + timedelta(seconds=i)) for i, batch in enumerate(batches)]
        with store.engine.connect() as conn:
            tables[fast] = (outcomes, {t: conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                                       for t in ("meetings", "urls", "revisions")})
        store.close()
    assert tables[True] == tables[False]
    outcomes, rows = tables[True]
    assert [o for o, _ in outcomes[1]] == ["unchanged", "updated", "moved"]
    assert len(rows["meetings"]) == 9 and len(rows["revisions"]) == 1
    assert isinstance(rows["meetings"][0][-1], str)  # last_changed, stored as text


def test_fresh_urls_age_and_marks(db_url):
    store = Store(db_url)
    old = utcnow() - timedelta(days=40)
    store.upsert(make_item(1), now=old)
    store.upsert(make_item(2))
    store.mark_url("http://x/notice.html", "laishan", "no_item")
    urls = [make_item(1)["url"], make_item(2)["url"], "http://x/notice.html", "http://x/new"]
    assert store.fresh_urls(urls, 30) == {urls[1], urls[2]}
    assert store.fresh_urls(urls, 0) == set(urls[:3])
    # A "stored" URL stays linked to its meeting when seen again without an item.
    store.mark_url(urls[1], "laishan", "duplicate")
    with store.engine.connect() as c:
        outcome = c.execute(sa.text("select outcome from urls where url=:u"), {"u": urls[1]})
        assert outcome.scalar_one() == "stored"
    store.close()


def test_runs_table(db_url):
    store = Store(db_url)
    rid = store.start_run("laishan")
    store.finish_run(rid, "finished", {"item_scraped_count": 3, "start_time": utcnow()},
                     {"new": 2, "unchanged": 1})
    (run,) = store.runs()
    assert run["spider"] == "laishan" and run["finish_reason"] == "finished"
    assert run["new"] == 2 and run["unchanged"] == 1 and run["updated"] == 0
    assert run["stats"]["item_scraped_count"] == 3
    assert run["finished_at"] >= run["started_at"]
    store.close()


def test_concurrent_writers_one_record_each(db_url):
    """Several workers (own engines, as separate processes would have) upsert the same
    meetings at once: one record per meeting, no errors."""
    Store(db_url).close()  # schema
    items = [make_item(n) for n in range(1, 31)]
    errors = []

    def worker(seed):
        st = Store(db_url)
        try:
            for it in items[seed:] + items[:seed]:
                st.upsert(it)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            st.close()

    threads = [threading.Thread(target=worker, args=(k * 7,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    store = Store(db_url)
    assert store.count() == 30 and store.count("revisions") == 0
    store.close()


def test_migration_adds_missing_columns(tmp_path):
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    # A store from an older version: meetings without `language` and `chair`.
    con.execute(
        "create table meetings (id integer primary key, portal varchar(64) not null, "
        "dedupe_key text not null, url text not null, title text, published_at text, "
        "fingerprint text, first_seen datetime not null, last_seen datetime not null, "
        "last_changed datetime not null, unique (portal, dedupe_key))"
    )
    con.commit()
    con.close()
    store = Store(f"sqlite:///{path}")
    assert store.upsert(make_item(1))[0] == "new"
    assert next(store.iter_items())["language"] == "zh-Hans"
    with store.engine.connect() as c:
        assert c.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        from crawler.store import SCHEMA_VERSION

        assert c.exec_driver_sql("select value from store_meta").scalar() == str(SCHEMA_VERSION)
    store.close()


def test_pipelines_with_scrapy_crawler(sqlite_db, caplog):
    """Dedupe (400) and store (500) driven through a Scrapy crawler and its stats."""
    from scrapy import Spider

    class S(Spider):
        name = "laishan"

    def run(items):
        crawler = get_crawler(S, {"MEETINGS_DB": sqlite_db})
        crawler.spider = crawler._create_spider()
        crawler.stats.open_spider()
        dedupe = DedupePipeline.from_crawler(crawler)
        store = StorePipeline.from_crawler(crawler)
        dedupe.open_spider()
        store.open_spider()
        for it in items:
            try:
                store.process_item(dedupe.process_item(MeetingItem(it)))
            except DropItem:
                pass
        store.close_spider()  # Scrapy closes pipelines before it sends spider_closed
        store.spider_closed(crawler.spider, "finished")
        stats = crawler.stats.get_stats()
        store.store.close()
        return stats

    first = [make_item(1), make_item(2), make_item(1, url="http://www.ytlaishan.gov.cn/dup.html")]
    with caplog.at_level("INFO"):
        s1 = run(first)
    assert s1["store/new"] == 2 and s1["dedupe/duplicate_in_run"] == 1
    assert "dedupe:" in caplog.text
    s2 = run([make_item(1), make_item(2, body="改过的正文"), make_item(3)])
    assert s2["store/unchanged"] == 1 and s2["store/updated"] == 1 and s2["store/new"] == 1
    store = Store(sqlite_db)
    assert store.count() == 3 and store.count("revisions") == 1
    runs = store.runs()
    assert [r["new"] for r in runs] == [2, 1] and runs[1]["updated"] == 1
    assert runs[1]["stats"]["store/updated"] == 1
    # The in-run duplicate address is known to incremental runs.
    assert "http://www.ytlaishan.gov.cn/dup.html" in store.fresh_urls(
        ["http://www.ytlaishan.gov.cn/dup.html"], 30)
    store.close()


def test_crawlers_of_one_process_share_a_store_and_a_batch(sqlite_db):
    """crawlall's crawlers on one database: one Store, one batch committed when any of them
    closes, each meeting's outcome counted by the crawler that scraped it; the store is
    closed when the last engine stops, not the first."""
    from scrapy import Spider, signals

    from crawler.store import _shared_stores

    def open_pipeline(name):
        crawler = get_crawler(type("S", (Spider,), {"name": name}),
                              {"MEETINGS_DB": sqlite_db, "STORE_BATCH_SECONDS": 0, "STORE_BATCH_SIZE": 100})
        crawler.spider = crawler._create_spider()
        crawler.stats.open_spider()
        pipe = StorePipeline.from_crawler(crawler)
        pipe.open_spider()
        return crawler, pipe

    (c1, laishan), (c2, yingkou) = open_pipeline("laishan"), open_pipeline("yingkou")
    assert laishan.store is yingkou.store and laishan.writer is yingkou.writer
    laishan.process_item(MeetingItem(make_item(1)))
    laishan.process_item(MeetingItem(make_item(2)))
    yingkou.process_item(MeetingItem(make_item(3, portal="yingkou", url="http://www.yingkou.gov.cn/3.html")))
    assert laishan.store.count() == 0  # all three wait in the one batch
    laishan.close_spider()  # commits the batch, the other crawler's meeting too
    assert laishan.store.count() == 3
    assert c1.stats.get_value("store/new") == 2 and c2.stats.get_value("store/new") == 1
    assert not laishan.pending and not yingkou.pending
    yingkou.close_spider()
    store = laishan.store
    c1.signals.send_catch_log(signals.engine_stopped)
    assert any(s is store for s, _ in _shared_stores.values())  # yingkou still uses it
    c2.signals.send_catch_log(signals.engine_stopped)
    assert not any(s is store for s, _ in _shared_stores.values())


def _open_new_stores_at(urls, starts, results):
    for url, start in zip(urls, starts):
        while time.time() < start:
            pass
        try:
            Store(url).close()
            results.put(None)
        except Exception as e:  # noqa: BLE001 - reported to the test
            results.put(f"{type(e).__name__}: {e}")


def test_processes_opening_one_new_sqlite_store_together_all_open_it(tmp_path):
    # Two crawl processes of one crawlall open the same new database at the same moment;
    # SQLite refuses the switch to WAL to the second without waiting (1 in 3 failed).
    ctx = multiprocessing.get_context("fork")
    urls = [f"sqlite:///{tmp_path}/m{i}.db" for i in range(20)]
    first = time.time() + 1.0
    starts = [first + i * 0.1 for i in range(len(urls))]
    results = ctx.Queue()
    workers = [ctx.Process(target=_open_new_stores_at, args=(urls, starts, results)) for _ in range(2)]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=60) for _ in range(2 * len(urls))]
    for w in workers:
        w.join(timeout=10)
    assert [o for o in outcomes if o] == []
    for url in urls:
        store = Store(url)
        try:
            with store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        finally:
            store.close()
