"""The search index (crawler/store/search.py): exact substring semantics, kept in step by the store.

Every search is checked against what ``LIKE '%word%'`` finds in the same store, the bar the
index must meet: the same meetings, no more, no fewer.
"""

from __future__ import annotations

import sqlite3

import pytest

from crawler.store import search
from crawler.commands.export import export_store
from crawler.store import Store

# Sentences written for these tests (no portal text).
MEETINGS = [
    ("关于优化营商环境的专题会议", "会议听取了营商环境评价情况汇报，要求各部门落实招商引资责任。"),
    ("第三次常务会议", "会议研究疫情防控和秋季开学工作，王小明主持会议，李四出席。"),
    ("全体会议召开", "会议审议《2023年政府工作报告（征求意见稿）》，部署下半年重点任务。"),
    ("招商工作推进会", "招商，引资并重；会议要求营商服务再提速。"),
    ("防汛工作会议", "强调汛期值班值守，王小二作总结讲话。Wi-Fi 覆盖进展顺利，GDP增长5.2%。"),
    ("城市更新座谈会", "会上讨论了老旧小区改造、环境整治与商业街区布局。"),
]

WORDS = ["营商", "营商环境", "招商", "招商引资", "引资", "疫情", "王小明", "王小", "会议",
         "商环", "商，引", "2023", "工作报告", "wi-fi", "gdp", "5.2", "环境", "商业", "征求意见",
         "小区改造", "不存在的词", "营", "汛"]


def like_ids(conn, word: str) -> set[int]:
    pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return {r[0] for r in conn.execute(
        "SELECT id FROM meetings WHERE title LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\'",
        (pattern, pattern))}


def item(i: int, title: str, body: str, **extra) -> dict:
    return {"portal": "testportal", "url": f"http://gov.example/a/{i}.html", "title": title,
            "body": body, "published_at": f"2024-03-{i + 1:02d}", "fingerprint": f"f{i}", **extra}


@pytest.fixture
def store(sqlite_db):
    s = Store(sqlite_db)
    s.upsert_many([(item(i, t, b), ()) for i, (t, b) in enumerate(MEETINGS)])
    yield s
    s.close()


def db(store) -> sqlite3.Connection:
    return sqlite3.connect(store.url.database)


@pytest.mark.parametrize("word", WORDS)
def test_search_finds_exactly_what_like_finds(store, word):
    conn = db(store)
    assert set(search.search_ids(conn, word)) == like_ids(conn, word)


def test_words_are_found_for_real_and_not_across_punctuation(store):
    conn = db(store)
    assert len(search.search_ids(conn, "营商")) == 2
    assert search.search_ids(conn, "商引") == [1]  # not "招商，引资": the comma is between them
    assert len(search.search_ids(conn, "招商 引资")) == 2  # both words, anywhere
    assert search.search_ids(conn, "营商 疫情") == []
    assert search.search_ids(conn, "") == []
    # FTS5 syntax typed by a user is text, not an operator or an error
    for q in ['OR', 'NEAR(营商', '"营商', 'title:营商', '营商*', "*", "-营商", "（", "AND 营商"]:
        search.search_ids(conn, q)


def test_a_title_match_ranks_first(store):
    ids = search.search_ids(db(store), "营商")
    assert store.get("testportal", "pub:2024-03-01|关于优化营商环境的专题会议")["id"] == ids[0]


def test_an_edit_replaces_the_meeting_in_the_index(store):
    conn = db(store)
    (meeting_id,) = search.search_ids(conn, "疫情")
    edited = item(1, MEETINGS[1][0], "会议研究防汛备汛工作。", fingerprint="edited")
    assert store.upsert(edited) == ("updated", meeting_id)
    assert search.search_ids(conn, "疫情") == []
    assert meeting_id in search.search_ids(conn, "防汛")
    moved = {**edited, "url": "http://gov.example/moved.html"}
    assert store.upsert(moved) == ("moved", meeting_id)
    assert store.upsert(moved) == ("unchanged", meeting_id)
    assert meeting_id in search.search_ids(conn, "备汛")
    assert conn.execute("INSERT INTO meetings_fts(meetings_fts) VALUES('integrity-check')").fetchall() == []
    for word in WORDS:
        assert set(search.search_ids(conn, word)) == like_ids(conn, word), word


def test_one_by_one_writes_are_indexed_too(sqlite_db):
    store = Store(sqlite_db)
    # two items with one key in a batch take the row-by-row path
    a = item(0, "复工复产会议", "研究复工复产。")
    b = {**a, "url": "http://gov.example/other.html"}
    store.upsert_many([(a, ()), (b, ())])
    store.upsert(item(1, "春耕生产会议", "部署春耕备耕。"))
    conn = db(store)
    assert len(search.search_ids(conn, "复工")) == 1
    assert len(search.search_ids(conn, "春耕")) == 1


def test_a_search_sees_a_batch_once_it_has_committed(store):
    reader = db(store)  # open before the write, as Datasette's connections are
    assert search.search_ids(reader, "秸秆") == []
    store.upsert_many([(item(10, "秸秆禁烧工作会议", "部署秸秆综合利用。"), ())])
    assert len(search.search_ids(reader, "秸秆")) == 1


def test_a_store_from_before_the_index_is_indexed_when_opened(sqlite_db):
    s = Store(sqlite_db)
    s.upsert_many([(item(i, t, b), ()) for i, (t, b) in enumerate(MEETINGS)])
    path = s.url.database
    s.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE meetings_fts")
    conn.execute("DELETE FROM store_meta WHERE key = ?", (search.META_KEY,))
    conn.commit()
    conn.close()
    Store(sqlite_db).close()
    conn = sqlite3.connect(path)
    for word in WORDS:
        assert set(search.search_ids(conn, word)) == like_ids(conn, word), word


def test_an_index_of_another_version_is_rebuilt(sqlite_db, monkeypatch):
    s = Store(sqlite_db)
    s.upsert_many([(item(i, t, b), ()) for i, (t, b) in enumerate(MEETINGS)])
    s.close()
    conn = sqlite3.connect(s.url.database)
    # an index built some other way: wrong tokens for meeting 1
    conn.execute("INSERT INTO meetings_fts(meetings_fts) VALUES('delete-all')")
    conn.execute("INSERT INTO meetings_fts(rowid, title, body) VALUES (1, 'x', 'y')")
    conn.execute("UPDATE store_meta SET value = '0' WHERE key = ?", (search.META_KEY,))
    conn.commit()
    Store(sqlite_db).close()
    assert conn.execute("SELECT value FROM store_meta WHERE key = ?", (search.META_KEY,)).fetchone()[0] \
        == search.INDEX_VERSION
    for word in WORDS:
        assert set(search.search_ids(conn, word)) == like_ids(conn, word), word


def test_postgres_store_keeps_no_index_and_exports_a_searchable_copy(db_url, tmp_path):
    s = Store(db_url)
    s.upsert_many([(item(i, t, b), ()) for i, (t, b) in enumerate(MEETINGS)])
    meeting_id = s.upsert(item(1, MEETINGS[1][0], "会议研究防汛备汛工作。", fingerprint="e"))[1]
    run = s.start_run("testportal")
    s.finish_run(run, "finished", {"response_received_count": 7}, {"new": 6})
    n = export_store(s, tmp_path / "copy.db")
    s.close()
    assert n == len(MEETINGS)
    conn = sqlite3.connect(tmp_path / "copy.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
    assert [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("meetings", "revisions", "urls", "runs")] == [len(MEETINGS), 1, len(MEETINGS), 1]
    assert conn.execute("SELECT meeting_id FROM revisions").fetchone()[0] == meeting_id
    for word in WORDS + ["防汛", "疫情"]:
        assert set(search.search_ids(conn, word)) == like_ids(conn, word), word
    # a filtered copy keeps the chosen meetings, their revisions and addresses
    other = Store(db_url)
    assert export_store(other, tmp_path / "since.db", since="2024-03-04") == 3
    other.close()
    conn = sqlite3.connect(tmp_path / "since.db")
    assert conn.execute("SELECT count(*) FROM revisions").fetchone()[0] == 0
    assert len(search.search_ids(conn, "招商")) == 1


def test_a_copy_never_replaces_the_store_it_copies(store):
    with pytest.raises(ValueError, match="the store itself"):
        export_store(store, store.url.database)
    assert store.count() == len(MEETINGS)


def test_a_moved_meeting_is_indexed_with_the_text_of_its_new_page(store):
    conn = db(store)
    (meeting_id,) = search.search_ids(conn, "城市更新")
    # same fingerprint (the pipeline's, over normalised text), new address, the text as printed there
    moved = item(5, MEETINGS[5][0], MEETINGS[5][1] + "（转载）", url="http://gov.example/new/5.html")
    assert store.upsert(moved) == ("moved", meeting_id)
    assert search.search_ids(conn, "转载") == [meeting_id]
    for word in WORDS:
        assert set(search.search_ids(conn, word)) == like_ids(conn, word), word
