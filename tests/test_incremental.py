"""Real crawls (Scrapy in a subprocess, the project's settings, dedupe + store pipelines and
the incremental middleware) against a small local site started by the test."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import scrapy

from crawler.store.exporters import parse_csv_row
from crawler.items import FIELDS, LIST_FIELDS, MeetingItem
from crawler.store import Store

ROOT = Path(__file__).resolve().parent.parent


# --- the site ------------------------------------------------------------------------------


class Site:
    """Listing pages /list/N.html (PAGE articles each, newest first) and article pages."""

    PAGE = 4

    def __init__(self, n_articles=12, notices=(5,), delay=0.0):
        self.articles = {}  # id -> dict(path, title, date, body)
        self.order = []  # newest first
        self.notices = set(notices)  # ids whose page is not a meeting
        self.delay = delay
        self.log: list[str] = []
        self.lock = threading.Lock()
        for i in range(n_articles, 0, -1):
            self.add(i, front=False)

    def add(self, i, front=True):
        self.articles[i] = {
            "path": f"/art/{i}.html",
            "title": f"莱山区政府第{i}次常务会议",
            "date": f"2022-{(i % 12) + 1:02d}-{(i % 27) + 1:02d}",
            "body": f"第{i}次会议研究《文件{i}》。参加会议：张三、李四。",
        }
        if front:
            self.order.insert(0, i)
        else:
            self.order.append(i)

    def listing(self, n):
        ids = self.order[(n - 1) * self.PAGE : n * self.PAGE]
        if not ids:
            return None
        links = "".join(
            f'<li><a class="art" href="{self.articles[i]["path"]}">{i}</a></li>' for i in ids
        )
        more = len(self.order) > n * self.PAGE
        nxt = f'<a class="next" href="/list/{n + 1}.html">下一页</a>' if more else ""
        return f"<html><body><ul>{links}</ul>{nxt}</body></html>"

    def article(self, path):
        for i, a in self.articles.items():
            if a["path"] == path:
                if i in self.notices:
                    return "<html><body><p>关于召开会议的通知</p></body></html>"
                return (
                    f'<html><body><h1>{a["title"]}</h1><span class="date">{a["date"]}</span>'
                    f'<div class="body">{a["body"]}</div>'
                    f'<a class="att" href="/files/{i}.pdf">附件{i}.pdf</a></body></html>'
                )
        return None

    def requests(self, prefix):
        with self.lock:
            return [p for p in self.log if p.startswith(prefix)]

    def clear_log(self):
        with self.lock:
            self.log.clear()


@pytest.fixture
def site():
    s = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            with s.lock:
                s.log.append(self.path)
            if self.path.startswith("/list/"):
                html = s.listing(int(self.path.split("/")[-1].split(".")[0]))
            else:
                if s.delay:
                    time.sleep(s.delay)
                html = s.article(self.path)
            if html is None:
                self.send_error(404)
                return
            data = html.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the crawler was killed

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    s.origin = f"http://127.0.0.1:{server.server_address[1]}"
    yield s
    server.shutdown()
    server.server_close()


# --- the throwaway spider and the crawl runner -----------------------------------------------


class SiteSpider(scrapy.Spider):
    name = "testportal"

    def __init__(self, origin=None, **kwargs):
        super().__init__(**kwargs)
        self.origin = origin

    async def start(self):
        yield scrapy.Request(f"{self.origin}/list/1.html", meta={"role": "listing"})

    def parse(self, response):
        for href in response.css("a.art::attr(href)").getall():
            yield response.follow(href, self.parse_article, meta={"role": "article"})
        nxt = response.css("a.next::attr(href)").get()
        if nxt:
            yield response.follow(nxt, self.parse, meta={"role": "listing"})

    def parse_article(self, response):
        title = response.css("h1::text").get()
        if not title:
            return  # a notice, not a meeting
        body = response.css("div.body::text").get()
        att = response.css("a.att")
        yield MeetingItem(
            portal=self.name,
            url=response.url,
            title=title,
            published_at=response.css("span.date::text").get(),
            meeting_date=None,
            doc_type="report",
            meeting_kind="常务会议",
            meeting_number=int(title.split("第")[1].split("次")[0]),
            term=None,
            chair=None,
            source="莱山区政府办",
            author=None,
            publisher=None,
            index_number=None,
            written_date=None,
            category="区政府会议",
            breadcrumb=["首页", "政务公开", "会议公开"],
            body=body,
            documents=[body.split("《")[1].split("》")[0]],
            attendees=["张三", "李四"],
            attachments=[{"name": att.css("::text").get(),
                          "url": response.urljoin(att.attrib["href"])}],
            language="zh-Hans",
            fingerprint=hashlib.sha256((title + "\n" + body).encode()).hexdigest(),
            crawled_at="2024-01-01T08:00:00+08:00",
        )


def crawl_main():
    """Entry point of the crawl subprocess: argv[1] is a JSON dict of options."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    opts = json.loads(sys.argv[1])
    settings = get_project_settings()
    settings.setdict(
        {
            "MEETINGS_DB": opts["db"],
            # Only this pipelines: the spider above yields finished items.
            "ITEM_PIPELINES": {
                "pipelines.dedupe.DedupePipeline": 400,
                "pipelines.store.StorePipeline": 500,
            },
            "ROBOTSTXT_OBEY": False,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "PORTAL_MIRROR": "",
            "LOG_LEVEL": "INFO",
            **opts.get("settings", {}),
        },
        priority="cmdline",
    )
    process = CrawlerProcess(settings)
    process.crawl(SiteSpider, origin=opts["origin"], **opts.get("args", {}))
    process.start()


def crawl(site, db, *, args=None, settings=None, wait=True):
    cmd = [
        sys.executable,
        "-c",
        "import sys; from tests.test_incremental import crawl_main; crawl_main()",
        json.dumps({"origin": site.origin, "db": db, "args": args or {},
                    "settings": settings or {}}),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    if not wait:
        return proc
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert "Traceback" not in out, out
    return out


def last_stats(db):
    store = Store(db)
    try:
        return store.runs()[-1]["stats"]
    finally:
        store.close()


def stored(db):
    store = Store(db)
    try:
        return list(store.iter_items())
    finally:
        store.close()


def assert_one_record_per_meeting(site, db, expect_ids):
    items = stored(db)
    titles = sorted(i["title"] for i in items)
    assert titles == sorted(site.articles[i]["title"] for i in expect_ids)
    assert len({(i["portal"], i["published_at"], i["title"]) for i in items}) == len(items)


# --- tests -----------------------------------------------------------------------------------


def test_rerun_of_unchanged_site_costs_one_listing_request(site, sqlite_db):
    meetings = [i for i in site.articles if i not in site.notices]
    crawl(site, sqlite_db)
    assert len(site.requests("/list/")) == 3 and len(site.requests("/art/")) == 12
    s1 = last_stats(sqlite_db)
    assert s1["store/new"] == 11
    assert_one_record_per_meeting(site, sqlite_db, meetings)

    site.clear_log()
    crawl(site, sqlite_db)
    assert site.requests("/list/") == ["/list/1.html"]
    assert site.requests("/art/") == []
    s2 = last_stats(sqlite_db)
    assert s2["incremental/stopped_listings"] == 1
    assert s2["incremental/skipped_articles"] == 4
    assert s2.get("store/new", 0) == 0 and s2["finish_reason"] == "finished"
    assert_one_record_per_meeting(site, sqlite_db, meetings)


def test_new_articles_edits_moves_and_full_recrawl(site, sqlite_db):
    crawl(site, sqlite_db)
    # Two new meetings on top: page 1 has new ones, page 2 is known, page 3 is not asked for.
    site.add(13)
    site.add(14)
    site.clear_log()
    crawl(site, sqlite_db)
    assert site.requests("/list/") == ["/list/1.html", "/list/2.html"]
    assert sorted(site.requests("/art/")) == ["/art/13.html", "/art/14.html"]
    assert last_stats(sqlite_db)["store/new"] == 2

    # An edit and a move are caught by a refresh (records older than the refresh age) ...
    site.articles[7]["body"] += "（更正：会议时间有误。）"
    site.articles[8]["path"] = "/art/moved-8.html"
    time.sleep(1.2)
    site.clear_log()
    crawl(site, sqlite_db, settings={"INCREMENTAL_REFRESH_DAYS": 1 / 86400})
    assert len(site.requests("/art/")) == 14
    s = last_stats(sqlite_db)
    assert s["store/updated"] == 1 and s["store/moved"] == 1 and s["store/unchanged"] == 11
    meetings = [i for i in site.articles if i not in site.notices]
    assert_one_record_per_meeting(site, sqlite_db, meetings)
    store = Store(sqlite_db)
    assert store.count("revisions") == 1
    (rev,) = store.revisions_of(store.get("testportal",
                                          f"pub:{site.articles[7]['date']}|"
                                          f"{site.articles[7]['title']}")["id"])
    assert "更正" not in rev["item"]["body"]
    by_title = {i["title"]: i for i in store.iter_items()}
    assert by_title[site.articles[8]["title"]]["url"].endswith("/art/moved-8.html")
    assert "更正" in by_title[site.articles[7]["title"]]["body"]
    store.close()

    # ... and by -a full=1, which fetches everything and changes nothing more.
    site.clear_log()
    crawl(site, sqlite_db, args={"full": "1"})
    assert len(site.requests("/list/")) == 4 and len(site.requests("/art/")) == 14
    s = last_stats(sqlite_db)
    assert s["store/unchanged"] == 13 and "incremental/skipped_articles" not in s
    assert_one_record_per_meeting(site, sqlite_db, meetings)

    # INCREMENTAL_ENABLED=False is the same as full=1.
    site.clear_log()
    crawl(site, sqlite_db, settings={"INCREMENTAL_ENABLED": False})
    assert len(site.requests("/art/")) == 14


def test_killed_mid_crawl_leaves_consistent_store_and_next_run_completes(site, sqlite_db):
    site.delay = 0.3
    proc = crawl(site, sqlite_db, wait=False,
                 settings={"CONCURRENT_REQUESTS": 2, "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
                           "STORE_BATCH_SECONDS": 0.2})
    path = sqlite_db.removeprefix("sqlite:///")
    deadline = time.time() + 60
    n_at_kill = 0
    while time.time() < deadline:
        if os.path.exists(path):
            try:
                with sqlite3.connect(path, timeout=5) as con:
                    n_at_kill = con.execute("select count(*) from meetings").fetchone()[0]
            except sqlite3.OperationalError:
                n_at_kill = 0
        if n_at_kill >= 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert 3 <= n_at_kill < 11

    con = sqlite3.connect(path)
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    n = con.execute("select count(*) from meetings").fetchone()[0]
    # Every stored meeting's URL is known, and only stored ones are known as "stored".
    assert con.execute(
        "select count(*) from meetings m join urls u on u.url = m.url and u.meeting_id = m.id"
    ).fetchone()[0] == n
    assert con.execute("select count(*) from urls where outcome='stored'").fetchone()[0] == n
    (run,) = con.execute("select finished_at, finish_reason from runs").fetchall()
    assert run == (None, None)
    con.close()

    site.delay = 0
    site.clear_log()
    crawl(site, sqlite_db)
    meetings = [i for i in site.articles if i not in site.notices]
    assert_one_record_per_meeting(site, sqlite_db, meetings)
    # Only what the killed run had not stored was fetched again; all listings were walked.
    s = last_stats(sqlite_db)
    assert s["store/new"] == 11 - n and s["incremental/listing_stop_disabled"] == 1
    assert len(site.requests("/art/")) <= 12 - n
    assert len(site.requests("/list/")) == 3

    # That run finished: the next one is back to one listing request.
    site.clear_log()
    crawl(site, sqlite_db)
    assert site.requests("/list/") == ["/list/1.html"] and site.requests("/art/") == []


def _norm(item):
    return {k: item.get(k) for k in FIELDS}


def test_feeds_csv_json_jsonl_round_trip(site, sqlite_db, tmp_path):
    feeds = {
        str(tmp_path / "out.csv"): {"format": "csv"},
        str(tmp_path / "out.json"): {"format": "json"},
        str(tmp_path / "out.jsonl"): {"format": "jsonlines"},
        str(tmp_path / "excel.csv"): {"format": "csv", "encoding": "utf-8-sig"},
        str(tmp_path / "bom.json"): {"format": "json", "encoding": "utf-8-sig"},
    }
    crawl(site, sqlite_db, settings={"FEEDS": feeds})
    expected = {i["url"]: _norm(i) for i in stored(sqlite_db)}
    assert len(expected) == 11

    raw = (tmp_path / "out.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    assert list(rows[0]) == list(FIELDS)
    got = {r["url"]: parse_csv_row(r) for r in rows}
    assert got == expected
    cell = rows[0]
    assert cell["breadcrumb"] == "首页 > 政务公开 > 会议公开"
    assert cell["attendees"] == "张三; 李四"
    assert cell["attachments"].startswith("附件") and cell["attachments"].endswith(".pdf>")

    excel = (tmp_path / "excel.csv").read_bytes()
    assert excel.startswith(b"\xef\xbb\xbf") and excel.count(b"\xef\xbb\xbf") == 1
    assert excel[3:] == raw

    data = json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert [list(d) for d in data] == [list(FIELDS)] * 11
    assert {d["url"]: d for d in data} == expected
    assert all(isinstance(d[f], list) for d in data for f in LIST_FIELDS)
    bom = (tmp_path / "bom.json").read_bytes()
    assert bom.count(b"\xef\xbb\xbf") == 1
    assert json.loads(bom.decode("utf-8-sig")) == data

    lines = (tmp_path / "out.jsonl").read_text("utf-8").splitlines()
    assert {d["url"]: d for d in map(json.loads, lines)} == expected


def test_scrapy_crawl_dash_O_uses_project_exporters(site, tmp_path):
    """`-O x.csv` through the scrapy command line, with the project's FEED_EXPORTERS."""
    out = tmp_path / "x.csv"
    # A one-off spider module on the path, run by `scrapy runspider`.
    spider_file = tmp_path / "sitespider.py"
    spider_file.write_text(
        "from tests.test_incremental import SiteSpider\n\n"
        "class CliSpider(SiteSpider):\n    name = 'testportal'\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run(
        [str(Path(sys.executable).parent / "scrapy"), "runspider", str(spider_file),
         "-a", f"origin={site.origin}", "-O", str(out), "-s", "ROBOTSTXT_OBEY=0",
         "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
         "-s", "ITEM_PIPELINES={}", "-s", "FEED_EXPORT_ENCODING=utf-8-sig"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    text = out.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    assert len(rows) == 11 and list(rows[0]) == list(FIELDS)
    assert rows[0]["documents"].startswith("文件")
