"""Hostile text and unfriendly surroundings (issue 14's risks): script/style text, invisible
characters, field sizes, spreadsheet formulas, export targets, lock waits, remote control."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from crawler.commands.export import export_store
from crawler.store.exporters import csv_cell, parse_csv_row
from crawler.items import FIELDS
from crawler.runtime.offline import OfflineParser
from crawler.store import Store, dedupe_key
from tests.test_store import make_item

from .snapshots import PORTALS, page_response

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
SEED = "art/2022/8/3/art_53951_3077069.html"
URL = "http://www.ytlaishan.gov.cn/" + SEED


def seed_html() -> str:
    return (PORTALS / "laishan/pages" / SEED).read_text(encoding="utf-8")


def parse(html: str, settings=None):
    parser = OfflineParser("laishan", settings)
    return parser.parse(page_response(parser, "laishan", "", URL, body=html.encode())), parser.stats


# --- script / style text and invisible characters ---------------------------------------------


def test_script_and_style_text_never_enter_title_or_body():
    clean, _ = parse(seed_html())
    html = seed_html()
    code = '<script>var tip = "请勿转载此页面";document.write(tip);</script><style>.zoom p{color:red}</style>'
    html = html.replace('<div class="bt-article-title">', '<div class="bt-article-title">' + code, 1)
    html = html.replace('<div id="zoom">', '<div id="zoom"><p>' + code + "</p>" + code, 1)
    item, _ = parse(html)
    assert item["title"] == clean["title"]
    assert item["body"] == clean["body"]
    assert "请勿转载" not in item["body"] and "color" not in item["body"]


def test_invisible_characters_are_removed_and_keys_do_not_split():
    clean, _ = parse(seed_html())
    title = clean["title"]
    marked = title[:3] + "\u200b\u202e" + title[3:6] + "\ufeff\u2063" + title[6:] + "\u200f"
    item, _ = parse(seed_html().replace(title, marked))
    assert item["title"] == title
    assert dedupe_key(item) == dedupe_key(clean)
    assert not any(ch in item["body"] for ch in "\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2060\ufeff")


# --- field sizes -------------------------------------------------------------------------------


def test_field_sizes_are_bounded_counted_and_logged(caplog):
    html = seed_html()
    clean, _ = parse(html)
    html = html.replace("信息来源: 莱山区政府办", "信息来源: " + "办" * 5000)
    html = html.replace('<div id="zoom">', '<div id="zoom"><p>' + "会议内容" * 1000 + "</p>", 1)
    item, stats = parse(html, {"VALIDATE_MAX_CHARS": {"body": 3000}})
    assert len(item["source"]) == 1000 and item["source"] == "办" * 1000
    assert len(item["body"]) == 3000
    assert stats.get_value("validate/truncated/source") == 1
    assert stats.get_value("validate/truncated/body") == 1
    assert item["title"] == clean["title"]
    assert "cut to its bound" in caplog.text


def test_list_fields_are_bounded():
    from pipelines.validate import ValidatePipeline
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    stats = MemoryStatsCollector(get_crawler())
    pipe = ValidatePipeline(stats, {"list_items": 3, "list_item": 10})
    item = {**make_item(1), "attendees": [f"人{i}" for i in range(8)],
            "attachments": [{"name": "附" * 50, "url": "http://a/b"}]}
    out = pipe.process_item(item)
    assert out["attendees"] == ["人0", "人1", "人2"]
    assert out["attachments"] == [{"name": "附" * 10, "url": "http://a/b"}]
    assert stats.get_value("validate/truncated/attendees") == 1
    assert stats.get_value("validate/truncated/attachments") == 1


# --- CSV cells a spreadsheet would run -----------------------------------------------------------


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
                                   "'=1", "'普通"])
def test_csv_formula_cells_are_neutralised_and_read_back(value):
    cell = csv_cell("title", value)
    assert cell == "'" + value
    assert parse_csv_row({"title": cell})["title"] == value


def test_plain_cells_are_unchanged():
    assert csv_cell("title", "区政府第3次常务会议") == "区政府第3次常务会议"
    assert csv_cell("meeting_number", 3) == "3"
    assert csv_cell("attendees", ["-张三", "李四"]) == "'-张三; 李四"


def test_scrapy_export_neutralises_formulas(tmp_path):
    db = f"sqlite:///{tmp_path}/m.db"
    store = Store(db)
    store.upsert(make_item(1, title="=cmd|' /C calc'!A0", source="@来源"))
    store.close()
    out = tmp_path / "m.csv"
    subprocess.run([SCRAPY, "export", str(out), "-s", f"MEETINGS_DB={db}"], cwd=ROOT, check=True,
                   capture_output=True, timeout=60)
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["title"] == "'=cmd|' /C calc'!A0" and row["source"] == "'@来源"
    assert parse_csv_row(row)["title"] == "=cmd|' /C calc'!A0"


# --- export targets ----------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    st = Store(f"sqlite:///{tmp_path}/m.db")
    st.upsert(make_item(1))
    yield st
    st.close()


def test_export_of_nothing_writes_the_csv_header(store, tmp_path):
    path = tmp_path / "none.csv"
    assert export_store(store, path, portal="no-such-portal") == 0
    assert path.read_text(encoding="utf-8").splitlines() == [",".join(FIELDS)]


def test_export_keeps_the_mode_of_an_existing_file(store, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("old")
    path.chmod(0o640)
    assert export_store(store, path) == 1
    assert path.stat().st_mode & 0o777 == 0o640
    assert "old" not in path.read_text(encoding="utf-8")


def test_export_refuses_a_read_only_target(store, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("kept")
    path.chmod(0o444)
    with pytest.raises(ValueError, match="read-only"):
        export_store(store, path)
    assert path.read_text() == "kept" and os.listdir(tmp_path).count("m.csv") == 1
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_export_refuses_a_symlinked_target(store, tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("kept")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with pytest.raises(ValueError, match="symbolic link"):
        export_store(store, link)
    assert link.is_symlink() and real.read_text() == "kept"
    out = subprocess.run([SCRAPY, "export", str(link), "-s", f"MEETINGS_DB={store.url.render_as_string()}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "symbolic link" in out.stderr
    assert link.is_symlink() and real.read_text() == "kept"


# --- a held lock does not freeze the crawl -------------------------------------------------------


def test_sqlite_lock_held_elsewhere_fails_after_the_lock_timeout(tmp_path):
    db = f"sqlite:///{tmp_path}/m.db"
    store = Store(db, lock_timeout=0.5)
    holder = sqlite3.connect(f"{tmp_path}/m.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        start = time.monotonic()
        with pytest.raises(Exception, match="locked"):
            store.upsert(make_item(1))
        assert time.monotonic() - start < 5
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.upsert(make_item(1))[0] == "new"
    store.close()


def test_postgresql_row_lock_held_elsewhere_fails_after_lock_timeout(pg_server):
    db = pg_server()
    store = Store(db, lock_timeout=0.5, statement_timeout=5)
    store.upsert(make_item(1))
    other = Store(db)
    conn = other.engine.connect()
    trans = conn.begin()
    conn.exec_driver_sql("SELECT * FROM meetings FOR UPDATE")
    try:
        start = time.monotonic()
        changed = make_item(1, body="会议内容有更新。")
        results = store.upsert_each([(changed, ())])
        assert results[0][0] == "failed" and "lock" in str(results[0][1]).lower()
        assert time.monotonic() - start < 5
    finally:
        trans.rollback()
        conn.close()
        other.close()
    with store.engine.connect() as c:
        assert c.exec_driver_sql("SHOW statement_timeout").scalar() == "5s"
    store.close()


# --- Scrapy's remote control ---------------------------------------------------------------------


def test_remote_control_is_off_and_leaves_no_token_files(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"))
    out = subprocess.run([SCRAPY, "crawl", "laishan", "-s", "PORTAL_MIRROR=http://127.0.0.1:9", "-s", "RETRY_TIMES=0",
                          "-s", "DOWNLOAD_TIMEOUT=2", "-s", "LOG_LEVEL=INFO"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "scrapy.extensions.remote_control" not in out.stderr.split("Enabled item pipelines")[0]
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and "job_files" in str(p)]
