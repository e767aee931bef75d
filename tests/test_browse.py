"""`scrapy browse`: the user's command, run as its own process, spoken to over HTTP.

Searches are checked against a LIKE scan of the same store; the feed is parsed as XML; new
meetings written while it runs must show without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from crawler.store import Store
from tests.test_browse_search import MEETINGS, WORDS, like_ids

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
ATOM = "{http://www.w3.org/2005/Atom}"


@contextlib.contextmanager
def running_browse(*args: str, env: dict | None = None, timeout: float = 60):
    """Run ``scrapy browse --port 0 ARGS`` and yield its origin (``http://127.0.0.1:PORT``)."""
    proc = subprocess.Popen([SCRAPY, "browse", "--port", "0", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    try:
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise RuntimeError("browse did not start in time")
        line = proc.stdout.readline().strip()
        prefix = "browse: serving "
        if not line.startswith(prefix):
            proc.wait(10)
            raise RuntimeError(f"browse failed to start: {line!r} {proc.stderr.read()[-3000:]}")
        yield line[len(prefix):].split()[0].rstrip("/")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def get(origin: str, path: str, **params) -> bytes:
    url = origin + path + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def get_json(origin: str, path: str, **params):
    return json.loads(get(origin, path, **params))


def meeting(i: int, title: str, body: str, portal: str = "testportal", **extra) -> dict:
    return {"portal": portal, "url": f"http://gov.example/{portal}/{i}.html", "title": title, "body": body,
            "published_at": f"{2021 + i % 3}-0{1 + i % 9}-1{i % 10}T09:00+08:00",
            "meeting_kind": "常务会议" if i % 2 else "全体会议", "chair": ["王小明", "赵六"][i % 2],
            "attendees": ["李四", "周五"], "documents": [f"第{i}号文件"],
            "attachments": [{"name": f"附件{i}.pdf", "url": f"http://gov.example/files/{i}.pdf"}],
            "fingerprint": f"f{i}", **extra}


@pytest.fixture
def store_path(sqlite_db):
    s = Store(sqlite_db)
    s.upsert_many([(meeting(i, t, b), ()) for i, (t, b) in enumerate(MEETINGS)])
    s.upsert(meeting(1, MEETINGS[1][0], MEETINGS[1][1] + "（修订）", fingerprint="edited"))
    run = s.start_run("testportal")
    s.finish_run(run, "finished", {"response_received_count": 9, "health/status": "ok"}, {"new": 6})
    path = s.url.database
    s.close()
    return path


def rows(origin: str, **params) -> list[dict]:
    return get_json(origin, "/meetings/meetings.json", _shape="objects", _size="max", **params)["rows"]


def test_serves_on_localhost_read_only(store_path):
    before = Path(store_path).read_bytes()
    with running_browse("--db", store_path) as origin:
        assert origin.startswith("http://127.0.0.1:")
        assert len(rows(origin)) == len(MEETINGS)
        with pytest.raises(urllib.error.HTTPError):
            get(origin, "/meetings.json", sql="delete from meetings")
    assert Path(store_path).read_bytes() == before


def test_datasette_cannot_write_even_through_its_write_connection(store_path):
    from crawler.commands.browse import make_datasette

    ds = make_datasette(Path(store_path))
    db = ds.get_database("meetings")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        asyncio.run(db.execute_write("UPDATE meetings SET title = 'x'"))
    conn = sqlite3.connect(store_path)
    assert "x" not in {r[0] for r in conn.execute("SELECT title FROM meetings")}


def test_search_box_and_json_api_find_what_like_finds(store_path):
    conn = sqlite3.connect(store_path)
    with running_browse("--db", store_path) as origin:
        page = get(origin, "/meetings/meetings").decode()
        assert 'name="_search"' in page
        for word in WORDS:
            found = {r["id"] for r in rows(origin, _search=word)}
            assert found == like_ids(conn, word), word
        ranked = get_json(origin, "/meetings/search.json", words="营商", _shape="array")
        assert [r["title"] for r in ranked][0] == MEETINGS[0][0]


def test_metadata_facets_and_readable_cells(store_path):
    with running_browse("--db", store_path) as origin:
        data = get_json(origin, "/meetings/meetings.json", _size=1)
        assert set(data["facet_results"]) == {"portal", "meeting_kind", "published_at", "chair"}
        assert data["facet_results"]["published_at"]["type"] == "year"
        years = {r["value"]: r["count"] for r in data["facet_results"]["published_at"]["results"]}
        assert years == {"2021": 2, "2022": 2, "2023": 2}
        assert len(rows(origin, published_at__startswith="2022")) == 2
        assert data["rows"][0][data["columns"].index("published_at")] == "2023-06-15T09:00+08:00"  # newest first
        meta = get_json(origin, "/-/metadata.json")
        tables = meta["databases"]["meetings"]["tables"]
        assert tables["meetings"]["columns"]["chair"].startswith("主持人")
        page = get(origin, "/meetings/meetings/1").decode()
        assert "<li>李四</li>" in page and "<li>周五</li>" in page  # a list, not JSON
        assert '<a href="http://gov.example/files/0.pdf">附件0.pdf</a>' in page
        assert '<a href="http://gov.example/testportal/0.html">' in page
        runs = get(origin, "/meetings/runs").decode()
        assert "health: ok · pages 9" in runs


def test_canned_queries_answer_the_users_questions(store_path):
    with running_browse("--db", store_path) as origin:
        def q(name, **params):
            return get_json(origin, f"/meetings/{name}.json", _shape="array", **params)

        in_range = q("portal_meetings", portal="testportal", since="2022-01-01", until="2022-12-31")
        assert sorted(r["published_at"][:4] for r in in_range) == ["2022", "2022"]
        assert {r["chair"] for r in q("chaired_by", person="王小明")} == {"王小明"}
        assert len(q("chaired_by", person="王小明")) == 3
        assert [r["id"] for r in q("mentioning_document", document="第4号")] == [5]
        edited = q("edited_since", since="2000-01-01")
        assert [(r["id"], r["earlier_title"]) for r in edited] == [(2, MEETINGS[1][0])]
        assert q("edited_since", since="2999-01-01") == []
        (run,) = q("run_history")
        assert (run["spider"], run["pages"], run["new"], run["health"]) == ("testportal", 9, 6, "ok")


def parse_feed(data: bytes) -> list[dict]:
    root = ET.fromstring(data)
    assert root.tag == ATOM + "feed"
    return [{"id": e.findtext(ATOM + "id"), "title": e.findtext(ATOM + "title"),
             "link": e.find(ATOM + "link").get("href"), "author": e.findtext(f"{ATOM}author/{ATOM}name")}
            for e in root.findall(ATOM + "entry")]


def test_new_meetings_show_in_search_facets_and_feed_without_restart(store_path):
    with running_browse("--db", store_path) as origin:
        assert rows(origin, _search="秸秆") == []
        with urllib.request.urlopen(origin + "/meetings/meetings", timeout=30) as r:
            assert r.headers["cache-control"] == "no-cache"  # a browser asks again after a crawl
        feed = parse_feed(get(origin, "/meetings/newest_meetings.atom"))
        assert len(feed) == len(MEETINGS)
        s = Store(f"sqlite:///{store_path}")
        new = [meeting(100 + i, f"秸秆综合利用推进会（{i}）", "部署秸秆禁烧。", portal="newportal")
               for i in range(3)]
        s.upsert_many([(m, ()) for m in new])
        s.close()
        assert len(rows(origin, _search="秸秆")) == 3
        facets = get_json(origin, "/meetings/meetings.json", _size=0)["facet_results"]
        assert {r["value"]: r["count"] for r in facets["portal"]["results"]}["newportal"] == 3
        feed = parse_feed(get(origin, "/meetings/newest_meetings.atom"))
        assert {e["title"] for e in feed[:3]} == {m["title"] for m in new}
        per_portal = parse_feed(get(origin, "/meetings/newest_meetings.atom", portal="newportal"))
        assert sorted(e["link"] for e in per_portal) == sorted(m["url"] for m in new)
        assert {e["author"] for e in per_portal} == {"newportal"}


def test_a_store_without_index_is_indexed_before_serving(store_path):
    conn = sqlite3.connect(store_path)
    conn.execute("DROP TABLE meetings_fts")
    conn.execute("DELETE FROM store_meta WHERE key = 'search_index_version'")
    conn.commit()
    with running_browse("--db", store_path) as origin:
        assert {r["id"] for r in rows(origin, _search="招商")} == like_ids(conn, "招商")


def test_a_postgresql_store_is_refused_with_what_to_do():
    result = subprocess.run([SCRAPY, "browse"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "MEETINGS_DB": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 2
    assert "scrapy export meetings.db" in result.stderr
