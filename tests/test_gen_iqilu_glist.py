"""iqilu's 2020 template (jining today) and the province glist platform (beipiao today).

Listing pages are the replica's current-generation answers (and a few pages written here),
fed to the spiders' callbacks; each page's follow-up requests are compared exactly, the next
page's response is built for the request the spider made.  Then the article templates, a page
of no known generation (health fails ``listing_unrecognised``, exit 1 under crawlall), and
real crawls of the replica's current generation from its listing URLs (`-a start=…`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import scrapy

from crawler.cms.base import fits
from crawler.cms.glist import Glist
from crawler.cms.iqilu import Iqilu2017, Iqilu2020
from crawler.cms.static import StaticList
from crawler.runtime.offline import OfflineParser
from crawler.replica import build_site
from crawler.replica.common import ymd
from crawler.replica.compare import mismatches
from crawler.replica.current import beipiao as beipiao_current, jining as jining_current
from crawler.replica.process import running_replica
from crawler.store import Store

from .snapshots import PORTALS, page_response

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
# 40 meetings: jining has 3 listing pages, beipiao 4, enough for every pager and row form.
ARTICLES, SEED = 40, 3
HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture(scope="module")
def site():
    return build_site(ARTICLES, SEED, "current")


def answer(parser, site, url: str, request=None):
    """The replica's answer to GET ``url``, as the response Scrapy would build for ``request``."""
    parts = urlsplit(url)
    _, resp = site.handle(parts.netloc, "GET", parts.path, parts.query, b"", {})
    assert resp.status == 200, url
    return parser.response(url, resp.body, dict(resp.headers), request=request)


def run(callback, response):
    out = list(callback(response) or ())
    articles = [r for r in out if isinstance(r, scrapy.Request) and r.meta.get("role") == "article"]
    listings = [r for r in out if isinstance(r, scrapy.Request) and r.meta.get("role") == "listing"]
    assert len(articles) + len(listings) == len(out)
    return articles, listings


def walk(parser, site, portal: str, pages: list[str], per: int):
    """Feed each listing page to the spider, the next one as the answer to the request it made;
    yields (page number, the ``per`` entries of the page, article requests, listing requests)."""
    spider, current = parser.spider, site.current[portal]
    request = None
    for n, url in enumerate(pages, 1):
        if request is not None:
            assert request.url == url
        response = answer(parser, site, url, request)
        articles, listings = run(spider.parse if request is None else spider.parse_listing, response)
        yield n, current.entries[(n - 1) * per:n * per], articles, listings
        request = listings[0] if listings else None


# --- iqilu 2020 ------------------------------------------------------------------------------


def jining_pages(site) -> list[str]:
    c = site.current["jining"]
    return [f"http://{c.host}{c.list_url(n)}" for n in range(1, c.npages + 1)]


def test_iqilu2020_listing_requests_each_page_meetings_and_the_next_page(site):
    parser = OfflineParser("jining")
    c, pages = site.current["jining"], jining_pages(site)
    assert len(pages) == 3
    requested = []
    for n, entries, articles, listings in walk(parser, site, "jining", pages, jining_current.PER_PAGE):
        meetings = [e for e in entries if e.meeting]
        assert [r.url for r in articles] == [c.url_of(e) for e in meetings]
        # A row that links its article twice (thumbnail, title) is one entry, titled.
        assert [r.meta["listing_title"] for r in articles] == [e.title for e in meetings]
        assert [r.url for r in listings] == (pages[n:n + 1])
        assert all(r.meta["generation"] == "iqilu2020" and r.meta["step"] == "page" for r in listings)
        requested += [r.url for r in articles]
        # Both article URL shapes on every page: /<YYYY>/<MMDD>/<id>.shtml and /<YYYYMMDD>/<id>.shtml.
        assert {len(urlsplit(r.url).path.split("/")) for r in articles} == {4, 5}, n
    stats = parser.stats
    assert stats.get_value("listing/generation/iqilu2020") == 1
    assert stats.get_value("listing/entries") == len(c.entries)
    assert stats.get_value("listing/meetings") == len(requested) == len(c.meeting_urls())
    assert 'class="pic"' in answer(parser, site, pages[0]).text  # rows with a thumbnail link


def test_iqilu2020_takes_article_links_under_mod_list_only():
    parser = OfflineParser("jining")
    page = """<html><body>
<div class="top"><a href="http://jining.iqilu.com/jnyaowen/2024/1008/5725001.shtml">济宁市召开夏季安全生产工作会议</a></div>
<div class="mod-list"><ul>
<li><a class="pic" href="/jnzhengwu/20260330/5902388.shtml"><img src="/a.jpg" /></a>
<h3><a href="/jnzhengwu/20260330/5902388.shtml">市政府召开常务会议 研究部署防汛抗旱等工作</a></h3><span>2026-03-30 09:12</span></li>
<li><h3><a href="http://jining.iqilu.com/jnzhengwu/2024/1008/5725601.shtml" title="济宁市召开冬季清洁取暖工作会议">济宁市召开冬季清洁取暖...</a></h3>
<p>2024-10-08</p></li>
<li><a href="/jnzhengwu/">更多</a></li>
<li><a href="/jnzhengwu/2024/1008/5725560.shtml">济宁市中小学迎来秋季开学</a></li>
</ul></div>
<div class="page-nav"><a href="list_11390_3.shtml">下一页</a></div>
</body></html>""".encode()
    url = "http://jining.iqilu.com/jnzhengwu/list_11390_2.shtml"
    articles, listings = run(parser.spider.parse, parser.response(url, page, HTML))
    assert [(r.url, r.meta["listing_title"], r.meta["listing_date"]) for r in articles] == [
        ("http://jining.iqilu.com/jnzhengwu/20260330/5902388.shtml", "市政府召开常务会议 研究部署防汛抗旱等工作",
         "2026-03-30"),
        ("http://jining.iqilu.com/jnzhengwu/2024/1008/5725601.shtml", "济宁市召开冬季清洁取暖工作会议", "2024-10-08"),
    ]
    assert [r.url for r in listings] == ["http://jining.iqilu.com/jnzhengwu/list_11390_3.shtml"]
    assert parser.stats.get_value("listing/entries") == 3
    assert sum(v for k, v in parser.stats.get_stats().items() if k.startswith("listing/skipped/")) == 1


def test_iqilu_2017_and_2020_are_told_apart_by_the_page(site):
    parser = OfflineParser("jining")
    old = page_response(parser, "jining", "jnyaowen/index.shtml", "http://jining.iqilu.com/jnyaowen/")
    new = answer(parser, site, jining_pages(site)[0])
    assert type(parser.spider.recognise(old)) is Iqilu2017
    assert type(parser.spider.recognise(new)) is Iqilu2020
    # The 2017 list sits in a div.mod-list too, so the narrower 2017 test must come first.
    assert not Iqilu2017().recognise(new) and Iqilu2020().recognise(old)
    assert [type(g) for g in parser.spider.generations] == [Iqilu2017, Iqilu2020]
    # The article templates, too: each fits its own generation's pages only.
    c = site.current["jining"]
    e = next(e for e in c.entries if e.meeting)
    new_article = answer(parser, site, c.url_of(e))
    old_article = page_response(parser, "jining", "jnyaowen/2017/0830/3670218.shtml",
                                "http://jining.iqilu.com/jnyaowen/2017/0830/3670218.shtml")
    assert fits(Iqilu2020.articles[0], new_article) and not fits(Iqilu2020.articles[0], old_article)
    assert fits(Iqilu2017.articles[0], old_article) and not fits(Iqilu2017.articles[0], new_article)


def test_iqilu2020_articles_give_the_exact_records(site):
    parser = OfflineParser("jining")
    c = site.current["jining"]
    seen = Counter()
    for e in c.entries:
        if not e.meeting:
            continue
        item = parser.parse(answer(parser, site, c.url_of(e)))
        expected = c.expected(e)
        assert item is not None and mismatches(dict(item), expected) == [], c.url_of(e)
        seen["seconds" if expected["published_at"].count(":") == 2 else "minutes"] += 1
        seen["author" if expected["author"] else "no author"] += 1
        seen["seed" if e.seed else "generated"] += 1
    assert set(seen) == {"seconds", "minutes", "author", "no author", "seed", "generated"}


def test_the_traditional_mirror_still_reads_with_both_templates():
    parser = OfflineParser("jining")
    expected = json.loads((PORTALS / "jining/expected/3670218-mirror.json").read_text("utf-8"))
    path = "jnyaowen/2017/0830/3670218.shtml"
    response = parser.response(f"http://jining.mirror.example/{path}",
                               (PORTALS / "jining/pages-mirror" / path).read_bytes(), HTML)
    item = parser.parse(response)
    assert item is not None and mismatches(dict(item), expected) == []
    assert item["url"] == f"http://jining.iqilu.com/{path}" and item["language"] == "zh-Hant"


# --- glist -----------------------------------------------------------------------------------


def beipiao_pages(site) -> list[str]:
    c = site.current["beipiao"]
    return [f"http://{c.host}{c.list_path(n)}" for n in range(1, c.npages + 1)]


def test_glist_follows_the_next_link_in_href_or_tagname_to_the_last_page(site):
    parser = OfflineParser("beipiao")
    c, pages = site.current["beipiao"], beipiao_pages(site)
    assert len(pages) == 4
    next_forms, date_forms, titled = set(), set(), set()
    for n, entries, articles, listings in walk(parser, site, "beipiao", pages, beipiao_current.PER_PAGE):
        next_form, date_form, has_title = c.forms(n)
        if n < len(pages):
            next_forms.add(next_form)
        date_forms.add(date_form)
        titled.add(has_title)
        meetings = [e for e in entries if e.meeting]
        assert [(r.url, r.meta["listing_title"], r.meta["listing_date"]) for r in articles] == [
            (c.url_of(e), e.title, ymd(e.when)) for e in meetings], (n, date_form)
        assert [r.url for r in listings] == pages[n:n + 1], (n, next_form)
    assert next_forms == {"href", "javascript", "tagname"}
    assert date_forms == {"after", "before", "bare", "bracket"}
    assert titled == {True, False}
    stats = parser.stats
    assert stats.get_value("listing/generation/glist") == 1 and not stats.get_value("listing/generation/static")
    assert stats.get_value("listing/entries") == len(c.entries)
    assert stats.get_value("listing/meetings") == len(c.meeting_urls())
    assert not stats.get_value("listing/empty_pages")


def test_glist_rows_are_items_with_a_date_and_menus_are_not():
    parser = OfflineParser("beipiao")
    page = """<html><body>
<ul class="menu"><li><a href="/bpszf/zwgk/glist.html">政务公开</a>
<ul><li><a href="/bpszf/zwgk/zcjd/glist.html">政策解读</a></li></ul></li></ul>
<p class="today">2025年06月09日 星期一</p>
<ul>
<li><span>2025-06-03</span><a href="/bpszf/zwgk/zcjd/2025060312345678/index.shtml">北票市十届政府第12次常务会议解读</a></li>
<li><a href="../zcjd/202505/0174632000000011.html" title="北票市十届政府第11次常务会议解读">北票市十届政府第11次常务...</a>[2025/05/20]</li>
<li><a href="javascript:;">2025-05-08 北票市十届政府第10次常务会议解读</a></li>
<li><a href="/bpszf/zwgk/zcjd/202504/0174400000000000.html">北票市人民政府关于做好2025年度森林防火工作的通知</a> 2025-04-28</li>
</ul>
<div class="page"><a title="上一页" tagname="/bpszf/zwgk/zcjd/glist_5.html">&lt;</a>
<a title="下一页" tagname="/bpszf/zwgk/zcjd/glist_7.html">&gt;</a></div>
</body></html>""".encode()
    url = "http://www.bp.gov.cn/bpszf/zwgk/zcjd/glist_6.html"
    response = parser.response(url, page, HTML)
    assert type(parser.spider.recognise(response)) is Glist
    assert Glist().parameters(response) == {"rows": "li", "next_page": "/bpszf/zwgk/zcjd/glist_7.html"}
    articles, listings = run(parser.spider.parse, response)
    assert [(r.url, r.meta["listing_title"], r.meta["listing_date"]) for r in articles] == [
        ("http://www.bp.gov.cn/bpszf/zwgk/zcjd/2025060312345678/index.shtml", "北票市十届政府第12次常务会议解读",
         "2025-06-03"),
        ("http://www.bp.gov.cn/bpszf/zwgk/zcjd/202505/0174632000000011.html", "北票市十届政府第11次常务会议解读",
         "2025/05/20"),
    ]
    assert [r.url for r in listings] == ["http://www.bp.gov.cn/bpszf/zwgk/zcjd/glist_7.html"]
    # The notice is an entry, skipped by its title; the menu and the javascript link are none.
    assert parser.stats.get_value("listing/entries") == 3
    assert parser.stats.get_value("listing/meetings") == 2


def test_the_archive_static_list_is_still_read_first(site):
    parser = OfflineParser("beipiao")
    old = page_response(parser, "beipiao", "html/BPSZF/zcjd/index.html", "http://www.bp.gov.cn/html/BPSZF/zcjd/index.html")
    new = answer(parser, site, beipiao_pages(site)[0])
    assert type(parser.spider.recognise(old)) is StaticList
    assert type(parser.spider.recognise(new)) is Glist
    static = parser.spider.generation("static")
    assert not static.recognise(new)
    # Dated rows alone are no glist page: it is at …/glist.html or pages with `tagname`.
    assert not Glist().recognise(old)


def test_glist_articles_give_the_exact_records(site):
    parser = OfflineParser("beipiao")
    c = site.current["beipiao"]
    seen = Counter()
    for e in c.entries:
        if not e.meeting:
            continue
        response = answer(parser, site, c.url_of(e))
        item = parser.parse(response)
        assert item is not None and mismatches(dict(item), c.expected(e)) == [], c.url_of(e)
        assert item["source"] == "北票市政府"
        text = response.text
        assert "【字体" in text and "发布时间：" in text
        seen["sibling shape" if c.url_of(e).endswith("/index.shtml") else "html shape"] += 1
        seen["published first" if text.index("发布时间：") < text.index("来源：") else "source first"] += 1
        seen["seed" if e.seed else "generated"] += 1
    assert set(seen) == {"sibling shape", "html shape", "published first", "source first", "seed", "generated"}
    # The invented template and the county CMS's do not fit each other's pages.
    seed = page_response(parser, "beipiao", "html/BPSZF/202110/0163399910507492.html",
                         "http://www.bp.gov.cn/html/BPSZF/202110/0163399910507492.html")
    assert not fits(Glist.articles[0], seed)
    assert not any(fits(t, response) for t in StaticList.articles)


# --- a page of no known generation -----------------------------------------------------------

UNKNOWN_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>栏目</title></head><body>
<table class="list"><tr><td><a href="/x/2025/0102/1.html">市政府召开常务会议</a></td><td>2025-01-02</td></tr></table>
<div id="pager"></div></body></html>""".encode()


class _UnknownGeneration(BaseHTTPRequestHandler):
    def do_GET(self):
        robots = self.path.endswith("/robots.txt")
        body = b"" if robots else UNKNOWN_PAGE
        self.send_response(404 if robots else 200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_page_of_no_known_generation_fails_health_on_both_spiders(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _UnknownGeneration)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    db = f"sqlite:///{tmp_path}/m.db"
    starts = {"jining": ["http://jining.iqilu.com/jnxinwen/"], "beipiao": ["http://www.bp.gov.cn/bpszf/xwzx/glist.html"]}
    try:
        cmd = [SCRAPY, "crawlall", "--only", "jining,beipiao", "-s", f"MEETINGS_DB={db}",
               "-s", f"PORTAL_MIRROR=http://127.0.0.1:{server.server_address[1]}",
               "-s", f"PORTAL_START_URLS={json.dumps(starts)}",
               "-s", f"CRAWLALL_LOCK_FILE={tmp_path}/crawlall.lock", "-s", f"CRAWLALL_LOG_FILE={tmp_path}/crawlall.log"]
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                                env=dict(os.environ, MEETINGS_DB=db))
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    store = Store(db)
    try:
        runs = {run["spider"]: run["stats"] for run in store.runs()}
        assert list(store.iter_items()) == []
    finally:
        store.close()
    looked_for = {"jining": ("ul.news-list.type-a > li", "div.mod-list", "<YYYYMMDD>"),
                  "beipiao": ("ul.news-list > li", "`li` rows holding a link and a printed date")}
    for name, words in looked_for.items():
        stats = runs[name]
        assert "listing_unrecognised" in stats["health/failed_checks"], name
        assert stats["listing/unrecognised"] == 1
        detail = stats["listing/unrecognised_detail"]
        assert detail.startswith(starts[name][0]) and all(w in detail for w in words), detail
        assert f"FAIL {name} listing_unrecognised" in result.stdout


# --- crawls of the current generation --------------------------------------------------------


def test_crawls_from_the_current_listing_urls_yield_exactly_its_meetings(site, tmp_path):
    names = ("jining", "beipiao")
    with running_replica(articles=ARTICLES, seed=SEED, generation="current") as origin:
        procs = {}
        for name in names:
            cmd = [SCRAPY, "crawl", name, "-a", f"start={site.list_urls(name, 'current')}",
                   "-O", str(tmp_path / f"{name}.jsonl"), "-s", f"MEETINGS_DB=sqlite:///{tmp_path}/{name}.db",
                   "-s", f"PORTAL_MIRROR={origin}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
            procs[name] = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        logs = {name: proc.communicate(timeout=120)[1] for name, proc in procs.items()}
    for name in names:
        assert procs[name].returncode == 0, logs[name][-3000:]
        assert f"health ok: {name}" in logs[name]
        items = [json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text("utf-8").splitlines()]
        expected = {e["url"]: e for e in site.expected_items(name, "current")}
        urls = Counter(item["url"] for item in items)
        assert [u for u, n in urls.items() if n > 1] == [], "duplicates"
        assert sorted(set(urls) - set(expected)) == [], "items that are not meetings of the current site"
        assert sorted(set(expected) - set(urls)) == [], "meetings missed"
        assert {i["url"]: p for i in items if (p := mismatches(i, expected[i["url"]]))} == {}
        assert all(item["portal"] == name for item in items)
        assert not set(urls) & set(site.non_meeting_urls(name, "current"))


# --- a migration: archive first, then the current site, into one store ------------------------


def test_a_migrated_portal_stores_each_meeting_once(tmp_path, pg_server):
    """The archive's meetings are moved, not new, when the current site lists them; those only
    the current site lists are new; none is updated.  jining's store on SQLite, beipiao's on
    PostgreSQL (tests/test_migration.py: laishan on both)."""
    articles = 15
    site = build_site(articles, SEED, "both")
    dbs = {"jining": f"sqlite:///{tmp_path}/jining.db", "beipiao": pg_server()}
    # Before: the archive as it stood at the move (`both` lists it without the newest meetings);
    # after: the replica switched to the current generation alone.
    for generation, served in (("archive", "both"), ("current", "current")):
        with running_replica(articles=articles, seed=SEED, generation=served) as origin:
            procs = {name: subprocess.Popen(
                [SCRAPY, "crawl", name, "-a", f"start={site.list_urls(name, generation)}", "-s", f"MEETINGS_DB={db}",
                 "-s", f"PORTAL_MIRROR={origin}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                env=dict(os.environ, MEETINGS_DB=db)) for name, db in dbs.items()}
            for name, proc in procs.items():
                err = proc.communicate(timeout=120)[1]
                assert proc.returncode == 0, f"{name} {generation}: {err[-3000:]}"
    for name, db in dbs.items():
        store = Store(db)
        try:
            runs = [run for run in store.runs() if run["spider"] == name]
            urls = [item["url"] for item in store.iter_items() if item["portal"] == name]
        finally:
            store.close()
        before = len(site.portal(name, "archive").meeting_urls())
        after = site.current[name].meeting_urls()
        assert 0 < before < len(after)
        assert [(r["new"], r["updated"], r["moved"]) for r in runs] == [(before, 0, 0), (len(after) - before, 0, before)]
        assert sorted(urls) == sorted(after)
