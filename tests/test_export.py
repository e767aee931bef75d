"""`scrapy export` and crawler.commands.export.export_store on real stores."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.commands.export import export_store
from crawler.store.exporters import csv_cell, parse_csv_row
from crawler.items import FIELDS
from crawler.store import Store
from tests.test_store import make_item

ROOT = Path(__file__).resolve().parent.parent


def fill(db):
    store = Store(db)
    items = [make_item(n) for n in range(1, 6)]
    items.append(make_item(6, portal="jining", index_number="IDX/2022-1",
                           attachments=[], documents=[], attendees=[], chair=None,
                           meeting_number=None, term=None))
    for it in items:
        store.upsert(it)
    return store, items


def read(path):
    raw = Path(path).read_bytes()
    text = raw.decode("utf-8-sig")
    if path.endswith(".csv"):
        return [parse_csv_row(r) for r in csv.DictReader(io.StringIO(text))], raw
    if path.endswith(".json"):
        return json.loads(text), raw
    return [json.loads(line) for line in text.splitlines()], raw


@pytest.mark.parametrize("ext", [".csv", ".json", ".jsonl"])
def test_export_store_round_trips_every_field(db_url, tmp_path, ext):
    store, items = fill(db_url)
    path = str(tmp_path / "out" / f"meetings{ext}")
    assert export_store(store, path) == 6
    got, raw = read(path)
    assert not raw.startswith(b"\xef\xbb\xbf")
    key = lambda d: (d["portal"], d["url"])  # noqa: E731
    assert sorted(got, key=key) == sorted(items, key=key)
    assert all(list(d) == list(FIELDS) for d in got) if ext != ".csv" else True
    assert os.listdir(tmp_path / "out") == [f"meetings{ext}"]  # no temporary left behind

    assert export_store(store, path, portal="jining") == 1
    assert [d["portal"] for d in read(path)[0]] == ["jining"]
    assert export_store(store, path, since="2022-08-05") == len(
        [i for i in items if i["published_at"][:10] >= "2022-08-05"])
    store.close()


def test_export_bom_and_bad_extension(sqlite_db, tmp_path):
    store, _ = fill(sqlite_db)
    p = tmp_path / "excel.csv"
    export_store(store, p, encoding="utf-8-sig")
    assert p.read_bytes().count(b"\xef\xbb\xbf") == 1
    p = tmp_path / "x.json"
    export_store(store, p, encoding="utf-8-sig")
    assert p.read_bytes().count(b"\xef\xbb\xbf") == 1
    assert len(json.loads(p.read_text("utf-8-sig"))) == 6
    with pytest.raises(ValueError):
        export_store(store, tmp_path / "x.xlsx")
    store.close()


def test_failed_export_leaves_previous_file(sqlite_db, tmp_path):
    store, _ = fill(sqlite_db)
    (tmp_path / "out").mkdir()
    p = tmp_path / "out" / "m.json"
    p.write_text("previous")

    class Boom(Exception):
        pass

    def broken(**kw):
        yield make_item(1)
        raise Boom

    store.iter_items = broken
    with pytest.raises(Boom):
        export_store(store, p)
    assert p.read_text() == "previous" and os.listdir(tmp_path / "out") == ["m.json"]


def test_csv_cells():
    assert csv_cell("breadcrumb", ["首页", "政务公开"]) == "首页 > 政务公开"
    assert csv_cell("attendees", ["张三", "李四"]) == "张三; 李四"
    assert csv_cell("attachments", [{"name": "a.pdf", "url": "http://x/a.pdf"}]) == (
        "a.pdf <http://x/a.pdf>")
    assert csv_cell("meeting_number", None) == ""


def test_scrapy_export_command(sqlite_db, tmp_path):
    store, items = fill(sqlite_db)
    store.close()
    env = dict(os.environ, MEETINGS_DB=sqlite_db)
    scrapy = str(Path(sys.executable).parent / "scrapy")
    out = tmp_path / "all.csv"
    r = subprocess.run([scrapy, "export", str(out)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    got, _ = read(str(out))
    assert sorted(got, key=lambda d: d["url"]) == sorted(items, key=lambda d: d["url"])

    out = tmp_path / "part.jsonl"
    r = subprocess.run([scrapy, "export", str(out), "--portal", "laishan", "--since",
                        "2022-08-04", "-s", "FEED_EXPORT_ENCODING=utf-8-sig"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    got, raw = read(str(out))
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    assert sorted(d["url"] for d in got) == sorted(
        i["url"] for i in items if i["portal"] == "laishan" and i["published_at"] >= "2022-08-04")

    r = subprocess.run([scrapy, "export", str(tmp_path / "x.txt")], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    r = subprocess.run([scrapy, "export", str(out), "--since", "yesterday"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
