"""Hanweb JPAAS (crawler/cms/jpaas.py): laishan's current site.

The listing's follow-up requests from answers written here (as the API sends them), each
variation GENERATIONS.md lists, the article template, a crawl of the replica's current
generation, and a page of no known generation failing the run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import scrapy

from crawler.cms.jpaas import Jpaas, pager, query_pairs
from crawler.runtime.offline import OfflineParser
from crawler.replica import build_site
from crawler.replica.compare import mismatches
from crawler.replica.process import running_replica

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
HOST = "http://www.ytlaishan.gov.cn"
COLUMN = f"{HOST}/col/col40001/index.html"
API = f"{HOST}/api-gateway/jpaas-publish-server/front/page/build/unit"
HTML = {"Content-Type": "text/html; charset=utf-8"}
JSON = {"Content-Type": "application/json;charset=UTF-8"}


def unit(tag: str, parse_type: str = "bulidstatic", attr_parse_type: str = "buildstatic", order=None) -> str:
    values = {"parseType": parse_type, "webId": "147", "tplSetId": "T0tplSet", "pageType": "column",
              "tagId": tag, "editType": "null", "pageId": "40001"}
    keys = order or list(values)
    query = "{" + ",".join(f"'{k}':'{values[k]}'" for k in keys) + "}"
    return (f'<script src="/cms_files/default/script/AuthorizedRead/unitbuild.js?v=1" webId="147" '
            f'parseType="{attr_parse_type}" url="/api-gateway/jpaas-publish-server/front/page/build/unit" '
            f'queryData="{query}"></script>')


def column_page(*scripts: str) -> bytes:
    return (f'<html><head><meta charset="utf-8"><meta name="ColId" content="40001"><title>会议</title></head>'
            f'<body><div class="nav">{unit("网站导航")}</div>{"".join(scripts)}<div class="foot">页脚</div></body></html>'
            ).encode("utf-8")


def answer(html: str) -> bytes:
    return json.dumps({"success": True, "code": "200", "data": {"html": html}}, ensure_ascii=False).encode("utf-8")


def rows_html(rows: str, tag: str = "分页列表", count: int | None = None, page: int = 1, size: int = 3,
              style: str = "pagination") -> str:
    if count is None:
        pager_html = ""
    elif style == "pagination":
        pager_html = f'<div class="pagination" count="{count}" pageNo="{page}" rows="{size}"></div>'
    else:
        pager_html = f"""<div id="autUDB_pagination" queryData="{{'rows':'{size}','count':'{count}','pageNo':'{page}'}}"></div>"""
    return f'<div id="{tag}"><div class="page-content"><ul>{rows}</ul></div>{pager_html}</div>'


MEETING_ROWS = (
    '<li><a href="/col/col40001/art/2026/art_0123456789abcdef0123456789abcdef.html" title="【常务会议】莱山区政府第二十次常务会议">【常务会议】莱山区政府第二十次…</a><span>2026-09-02</span></li>'
    '<li><a href="/col/col40001/art/2026/art_fedcba9876543210fedcba9876543210.html" title="关于公民列席区政府常务会议的公告">关于公民列席…</a><span>2026-08-30</span></li>'
    '<li><a href="/art/2021/3/9/art_53951_2900001.html" title="莱山区政府第四次常务会议">莱山区政府第四次常务会议</a><span>2021-03-09</span></li>'
)


@pytest.fixture
def parser():
    return OfflineParser("laishan")


def run(parser, callback, response):
    out = list(callback(response) or ())
    articles = [r for r in out if isinstance(r, scrapy.Request) and r.meta.get("role") == "article"]
    listings = [r for r in out if isinstance(r, scrapy.Request) and r.meta.get("role") == "listing"]
    assert len(articles) + len(listings) == len(out)
    return articles, listings


def follow(parser, request, body: bytes):
    return run(parser, parser.spider.parse_listing, parser.response(request.url, body, JSON, request=request))


def api_url(page: int, size: int = 30, tag: str = "分页列表", parse_type: str = "bulidstatic") -> str:
    from urllib.parse import urlencode

    pairs = [("parseType", parse_type), ("webId", "147"), ("tplSetId", "T0tplSet"), ("pageType", "column"),
             ("tagId", tag), ("editType", "null"), ("pageId", "40001"),
             ("paramJson", json.dumps({"pageNo": page, "pageSize": size}, separators=(",", ":")))]
    return f"{API}?{urlencode(pairs)}"


# --- the column page -------------------------------------------------------------------------


def test_the_list_unit_among_several_and_its_first_request(parser):
    page = column_page(unit("右侧列表"), unit("分页列表"), unit("友情链接"))
    articles, listings = run(parser, parser.spider.parse, parser.response(COLUMN, page, HTML))
    assert articles == []
    [request] = listings
    assert request.method == "GET"
    assert request.url == api_url(1)
    assert request.headers["X-Requested-With"] == b"XMLHttpRequest"
    assert request.headers["Referer"] == COLUMN.encode()
    assert parser.stats.get_value("listing/generation/jpaas") == 1
    # Paging only inside paramJson, which says the page and the size asked for.
    query = dict(parse_qsl(urlsplit(request.url).query))
    assert json.loads(query["paramJson"]) == {"pageNo": 1, "pageSize": 30}
    assert "pageNo" not in query


@pytest.mark.parametrize("spelling", ["bulidstatic", "buildstatic"])
def test_parse_type_and_key_order_are_sent_as_the_page_writes_them(parser, spelling):
    order = ["tagId", "pageId", "webId", "parseType", "editType", "tplSetId", "pageType"]
    other = "buildstatic" if spelling == "bulidstatic" else "bulidstatic"
    page = column_page(unit("当前栏目列表", parse_type=spelling, attr_parse_type=other, order=order))
    _, [request] = run(parser, parser.spider.parse, parser.response(COLUMN, page, HTML))
    sent = parse_qsl(urlsplit(request.url).query)
    assert [k for k, _ in sent] == [*order, "paramJson"]
    assert dict(sent)["parseType"] == spelling


@pytest.mark.parametrize("tag", ["通知list", "当前栏目列表", "分页列表", "栏目信息列表", "ajax分页", "内容1", "右侧列表"])
def test_tag_ids_that_name_a_list(tag):
    page = OfflineParser.response(COLUMN, column_page(unit(tag)), HTML)
    assert Jpaas().list_unit(page)["tag"] == tag


def test_what_query_data_leaves_out_comes_from_the_script(parser):
    script = unit("分页列表").replace("'parseType':'bulidstatic',", "")
    _, [request] = run(parser, parser.spider.parse, parser.response(COLUMN, column_page(script), HTML))
    assert dict(parse_qsl(urlsplit(request.url).query))["parseType"] == "buildstatic"


def test_query_data_in_either_quote():
    assert query_pairs("{'a':'1', \"b\" : \"二\"}") == [("a", "1"), ("b", "二")]


def test_a_jpaas_page_without_a_list_unit_is_not_recognised(parser):
    shell = OfflineParser.response(COLUMN, column_page(), HTML)  # only the navigation unit
    assert not Jpaas().recognise(shell)
    assert list(parser.spider.parse(shell)) == []
    assert parser.stats.get_value("listing/unrecognised") == 1
    detail = parser.stats.get_value("listing/unrecognised_detail")
    assert "queryData" in detail and "datastore" in detail and COLUMN in detail


def test_the_classic_column_page_is_not_taken_for_jpaas():
    from .snapshots import page_response

    parser = OfflineParser("laishan")
    page = page_response(parser, "laishan", "col/col53951/index.html", f"{HOST}/col/col53951/index.html")
    assert not Jpaas().recognise(page)
    assert parser.spider.recognise(page).name == "jcms"


# --- the list API ---------------------------------------------------------------------------


def first_request(parser, tag="分页列表"):
    _, [request] = run(parser, parser.spider.parse, parser.response(COLUMN, column_page(unit(tag)), HTML))
    return request


def test_pages_to_the_count_with_the_servers_page_size_and_a_short_page_is_not_the_last(parser):
    request = first_request(parser)
    # The server pages by 3 (its own size, not the 30 asked for): 8 counted rows → 3 pages.
    articles, [page2] = follow(parser, request, answer(rows_html(MEETING_ROWS, count=8, size=3)))
    assert [r.url for r in articles] == [
        f"{HOST}/col/col40001/art/2026/art_0123456789abcdef0123456789abcdef.html",
        f"{HOST}/art/2021/3/9/art_53951_2900001.html",  # a classic path inside the JPAAS list
    ]
    assert [r.meta["listing_date"] for r in articles] == ["2026-09-02", "2021-03-09"]
    assert page2.url == api_url(2)
    assert page2.headers["Referer"] == COLUMN.encode()
    # Page 2 is short (2 rows of 3) and is not the last.
    two = ('<li><a href="/col/col40001/art/2026/art_11111111111111111111111111111111.html" title="莱山区政府第三次全体会议">莱山区政府第三次全体会议</a><span>2026-05-02</span></li>'
           '<li><a href="/col/col40001/art/2026/art_22222222222222222222222222222222.html" title="莱山区政府第十九次常务会议">莱山区政府第十九次常务会议</a><span>2026-04-22</span></li>')
    articles, [page3] = follow(parser, page2, answer(rows_html(two, count=8, page=2, size=3)))
    assert len(articles) == 2 and page3.url == api_url(3)
    # Page 3 is the last: ceil(8 / 3).
    three = '<li><a href="/col/col40001/art/2026/art_33333333333333333333333333333333.html" title="莱山区政府第十八次常务会议">莱山区政府第十八次常务会议</a><span>2026-04-01</span></li>'
    articles, listings = follow(parser, page3, answer(rows_html(three, count=8, page=3, size=3)))
    assert len(articles) == 1 and listings == []
    assert parser.stats.get_value("listing/pages") == 3
    assert parser.stats.get_value("listing/skipped/notice") == 1


def test_the_pager_of_the_page_size_asked_for_and_the_autudb_pager(parser):
    request = first_request(parser, tag="通知list")
    _, [page2] = follow(parser, request, answer(rows_html(MEETING_ROWS, tag="通知list", count=31, size=30,
                                                          style="autUDB")))
    assert page2.url == api_url(2, tag="通知list")
    _, listings = follow(parser, page2, answer(rows_html(MEETING_ROWS, tag="通知list", count=31, page=2, size=30,
                                                         style="autUDB")))
    assert listings == []
    sel = scrapy.Selector(text=rows_html("", count=404, size=20, style="autUDB"))
    assert pager(sel) == (404, 20)


def test_an_empty_page_ends_the_list_before_the_count(parser):
    request = first_request(parser)
    _, [page2] = follow(parser, request, answer(rows_html(MEETING_ROWS, count=90, size=3)))
    articles, listings = follow(parser, page2, answer(rows_html("", count=90, page=2, size=3)))
    assert articles == [] and listings == []
    assert not parser.stats.get_value("listing/empty_pages")


def test_a_list_without_a_pager_is_one_page(parser):
    articles, listings = follow(parser, first_request(parser), answer(rows_html(MEETING_ROWS)))
    assert len(articles) == 2 and listings == []


@pytest.mark.parametrize("row,date", [
    ('<li><a href="{u}" title="{t}">莱山区政府…</a><span>2026-08-27</span></li>', "2026-08-27"),
    ('<li class="bt-main-r-ul-li"><a href="{u}" title="{t}">莱山区政府…</a><span>2026-08-27</span></li>', "2026-08-27"),
    ('<li><span class="bt-prefix">·</span><a href="{u}" title="{t}">莱山区政府…</a>'
     '<span class="bt-data-time">[2026-08-27]</span></li>', "2026-08-27"),
    ('<li><a href="{u}" title="{t}">莱山区政府…</a></li>', None),
    ('<li><a href="{u}" title="{t}">莱山区政府…</a><span class="time">2026-\n08-\n27</span></li>', "2026-08-27"),
])
def test_the_row_shapes(parser, row, date):
    url, title = "/col/col40001/art/2026/art_44444444444444444444444444444444.html", "莱山区政府第十七次常务会议"
    [article], _ = follow(parser, first_request(parser), answer(rows_html(row.format(u=url, t=title))))
    assert article.url == HOST + url
    assert article.meta["listing_title"] == title  # from @title, not the cut anchor text
    assert article.meta["listing_date"] == date


def test_a_row_linking_another_column_is_not_an_article(parser):
    rows = ('<li><a href="/col/col40002/index.html" title="区政府全体会议">区政府全体会议</a><span></span></li>'
            '<li><a href="/col/col40003/" title="政府常务会议">政府常务会议</a></li>'
            '<li><a href="/col/col40002/art/2026/art_55555555555555555555555555555555.html" '
            'title="莱山区政府第五次全体会议">莱山区政府第五次全体会议</a><span>2026-06-01</span></li>')
    rows += ('<li><span class="bt-prefix"><a href="/col/col40002/index.html">[全体会议]</a></span>'
             '<a href="/col/col40002/art/2026/art_66666666666666666666666666666666.html" '
             'title="莱山区政府第四次全体会议">莱山区政府第四次全体会议</a><span>2026-03-01</span></li>')
    first, second = follow(parser, first_request(parser), answer(rows_html(rows)))[0]
    # An article of another column is still an article of this list; a row that leads with
    # its column's link is still the article's.
    assert second.url == f"{HOST}/col/col40002/art/2026/art_66666666666666666666666666666666.html"
    assert second.meta["listing_title"] == "莱山区政府第四次全体会议"
    article = first
    assert article.url == f"{HOST}/col/col40002/art/2026/art_55555555555555555555555555555555.html"
    assert parser.stats.get_value("listing/skipped/column_link") == 2


def test_no_template_data_for_the_tag_fails_the_listing(parser):
    articles, listings = follow(parser, first_request(parser), answer("<div>模板内容数据为空</div>"))
    assert articles == [] and listings == []
    assert parser.stats.get_value("listing/jpaas/template_empty") == 1
    assert parser.stats.get_value("listing/empty_pages") == 1  # health: listing_empty


def test_an_answer_that_is_not_the_api_is_a_layout_error(parser):
    request = first_request(parser)
    for body in (b"<html>error</html>", b'{"success":false,"code":"500"}', b'{"success":true,"data":null}'):
        assert follow(parser, request, body) == ([], [])
    assert parser.stats.get_value("listing/layout_errors") == 3


# --- article pages --------------------------------------------------------------------------


def current_site(seed=1):
    return build_site(articles=30, seed=seed, generation="current").current["laishan"]


def test_the_jpaas_article_template_and_the_visible_time_over_meta_pubdate(parser):
    site = current_site()
    moved = [e for e in site.entries if e.meeting and e.idx not in site.classic]
    seen = Counter()
    for e in moved:
        page = site.page(e).decode()
        republished = f'<meta name="PubDate" content="{e.when:%Y-%m-%d %H:%M}">' not in page
        seen["republished" if republished else "same"] += 1
        seen["split" if f"{e.when:%Y}-\n{e.when:%m}-\n" in page else "one line"] += 1
        item = parser.parse(parser.response(site.url_of(e), page.encode(), HTML,
                                            request=scrapy.Request(site.url_of(e), meta={"generation": "jpaas"})))
        assert item is not None
        assert mismatches(dict(item), site.expected(e)) == []
        assert item["published_at"] == f"{e.when:%Y-%m-%dT%H:%M}+08:00"
    # Both kinds of page were read: PubDate ≠ the visible time, and a date split by newlines.
    assert min(seen.values()) >= 1, seen


def test_a_classic_page_listed_by_jpaas_is_read_with_the_classic_template(parser):
    site = current_site()
    e = next(e for e in site.entries if e.meeting and e.idx in site.classic and not e.seed)
    url = site.url_of(e)
    assert "/art/" in url and "/col/" not in url
    item = parser.parse(parser.response(url, site.page(e), HTML, request=scrapy.Request(url, meta={"generation": "jpaas"})))
    assert mismatches(dict(item), site.expected(e)) == []


# --- the replica's current generation -------------------------------------------------------


def crawl(origin: str, start: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SCRAPY, "crawl", "laishan", "-a", f"start={start}", "-O", str(out), "-s", f"PORTAL_MIRROR={origin}",
         "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300)


# Seed 6: the autUDB pager, the server pages by 24, `bulidstatic`, the sidebar's unit first;
# seed 18: div.pagination, the server honours the pageSize asked for, `buildstatic`, the list first.
SEEDS = (6, 18)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_crawl_of_the_current_site_yields_exactly_its_meetings(seed, tmp_path):
    site = build_site(articles=40, seed=seed, generation="current")
    with running_replica(articles=40, seed=seed, generation="current") as origin:
        r = crawl(origin, site.list_urls("laishan", "current"), tmp_path / "out.jsonl")
    assert r.returncode == 0, r.stderr[-3000:]
    items = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]
    expected = {e["url"]: e for e in site.expected_items("laishan", "current")}
    urls = Counter(item["url"] for item in items)
    assert [u for u, n in urls.items() if n > 1] == [], "duplicates"
    assert sorted(set(urls) - set(expected)) == [], "items that are not meetings of the replica"
    assert sorted(set(expected) - set(urls)) == [], "meetings missed"
    assert {i["url"]: p for i in items if (p := mismatches(i, expected[i["url"]]))} == {}
    assert "/col/col" in " ".join(urls) and any("/col/" not in u for u in urls)  # both URL shapes
    # The row linking the sibling column was not fetched as an article; no page was dropped.
    assert "'listing/skipped/column_link': 1," in r.stderr and "article/dropped" not in r.stderr


def test_the_replica_varies_what_jpaas_sites_vary():
    sites = [current_site(seed) for seed in SEEDS]
    assert {s.parse_type for s in sites} == {"bulidstatic", "buildstatic"}
    assert {s.pager_style for s in sites} == {"pagination", "autUDB"}
    assert None in {s.server_rows for s in sites} and len({s.server_rows for s in sites}) == 2
    assert {s.side_first for s in sites} == {True, False}
    assert all(None in s.slots for s in sites)  # counted rows never rendered: short pages


# --- a page of no known generation ----------------------------------------------------------


class _ShellWithoutUnit(BaseHTTPRequestHandler):
    """A JPAAS column page whose unit script is missing (the list block was removed)."""

    body = ('<html><head><meta charset="utf-8"><meta name="ColId" content="40001"></head><body>'
            '<div class="list"><!-- list block --></div>'
            '<script src="/cms_files/default/script/jquery.min.js"></script></body></html>').encode("utf-8")

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def shell_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ShellWithoutUnit)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_jpaas_page_without_its_unit_script_fails_crawlall(shell_server, tmp_path):
    db = f"sqlite:///{tmp_path}/m.db"
    r = subprocess.run(
        [SCRAPY, "crawlall", "--only", "laishan", "-s", f"PORTAL_MIRROR={shell_server}", "-s", f"MEETINGS_DB={db}",
         "-s", f'PORTAL_START_URLS={json.dumps({"laishan": [COLUMN]})}',
         "-s", f"CRAWLALL_LOCK_FILE={tmp_path}/crawlall.lock",
         "-s", f"CRAWLALL_LOG_FILE={tmp_path}/logs/crawlall-%Y%m%d-%H%M%S.log",
         "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=dict(os.environ, MEETINGS_DB=db))
    assert r.returncode == 1, r.stdout + r.stderr[-2000:]
    assert re.search(r"crawlall: FAILED — laishan \[[^]]*\blisting_unrecognised\b", r.stdout), r.stdout
    log = "".join(p.read_text("utf-8") for p in (tmp_path / "logs").glob("*.log"))
    assert f"{COLUMN} (HTTP 200) matched no generation" in log and "build/unit" in log
