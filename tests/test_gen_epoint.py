"""Epoint WebBuilder as served today (yingkou, zhanqian): the shell page, the site scripts, the
list API in each request shape, the two article templates, and crawls of the replica's current
generation.

Recorded answers are the replica's own bytes (``Site.handle``) fed to the spider's callbacks;
the crawls are the user's command against the replica as its own process.
"""

from __future__ import annotations

import http.server
import json
import math
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import scrapy

from crawler.ops import health
from crawler.cms.epoint import EpointList
from crawler.runtime.offline import OfflineParser
from crawler.replica import build_site
from crawler.replica.compare import mismatches
from crawler.replica.process import running_replica

ROOT = Path(__file__).resolve().parent.parent
ARTICLES, SEED = 60, 7
API = "/rest/lightfrontaction/getgovinfolist"


@pytest.fixture(scope="module")
def site():
    return build_site(ARTICLES, SEED, generation="current")


def answer(site, request: scrapy.Request):
    """The replica's answer to ``request``, as the response Scrapy would build."""
    parts = urlsplit(request.url)
    headers = {k.decode().lower(): v[-1].decode() for k, v in request.headers.items()}
    _, resp = site.handle(parts.hostname, request.method, parts.path, parts.query, request.body, headers)
    return OfflineParser.response(request.url, resp.body, dict(resp.headers), request=request), resp.status


def split(out):
    out = list(out or ())
    articles = [r for r in out if isinstance(r, scrapy.Request) and r.meta.get("role") == "article"]
    listings = [r for r in out if isinstance(r, scrapy.Request) and r.meta.get("role") == "listing"]
    assert len(articles) + len(listings) == len(out)
    return articles, listings


def walk_api(parser, site, first: scrapy.Request):
    """Follow the API pages from ``first``: (article URLs, the API requests made)."""
    articles, requests, request = [], [], first
    while request is not None:
        requests.append(request)
        response, status = answer(site, request)
        assert status == 200, response.text
        found, listings = split(parser.spider.parse_listing(response))
        articles += [r.url for r in found]
        assert len(listings) <= 1
        request = listings[0] if listings else None
    return articles, requests


def params_of(request) -> dict:
    body = json.loads(request.body)
    return body["params"] if "params" in body else body


def seed_where(portal: str, **variant) -> int:
    """A replica seed whose current site of ``portal`` has ``variant`` (wrapped, token, index_str)."""
    for seed in range(1, 60):
        current = build_site(5, seed, generation="current").portal(portal, "current")
        if all(getattr(current, k) == v for k, v in variant.items()):
            return seed
    raise AssertionError(f"no seed gives {portal} {variant}")


# --- listings: the exact follow-up requests ------------------------------------------------

def test_yingkou_shell_reads_webbuildercommon_then_posts_the_wrapped_string_body(site):
    parser = OfflineParser("yingkou")
    current = site.portal("yingkou", "current")
    shell_url = site.list_urls("yingkou", "current")
    assert shell_url == "http://www.yingkou.gov.cn/dynamic/zw/openlist.html?categorynum=001001003004"
    shell, _ = answer(site, scrapy.Request(shell_url))
    articles, listings = split(parser.spider.parse(shell))
    assert parser.stats.get_value("listing/generation/epoint") == 1  # not the static pager's page
    assert json.loads(parser.stats.get_value("listing/parameters")) == {
        "categorynum": "001001003004", "deptcode": "", "site scripts": ["/js/webBuilderCommon.js"]}
    # The shell names neither the project path nor the siteGuid: its site script is read first.
    assert articles == [] and [(r.method, r.url) for r in listings] == [
        ("GET", "http://www.yingkou.gov.cn/js/webBuilderCommon.js")]
    assert listings[0].headers["Referer"] == shell_url.encode()
    script, _ = answer(site, listings[0])
    articles, listings = split(parser.spider.parse_listing(script))
    assert articles == [] and len(listings) == 1
    page0 = listings[0]
    token = '"token":"",' if current.token else ""
    assert (page0.method, page0.url) == ("POST", "http://www.yingkou.gov.cn/EWB_YK_Mid" + API)
    assert page0.body.decode() == (
        '{' + token + '"params":{"deptcode":"","categorynum":"001001003004","pageIndex":"0","pageSize":"15",'
        f'"siteGuid":"{current.site_guid}"' + '}}')
    assert page0.headers["Content-Type"] == b"application/json;charset=UTF-8"

    followed, requests = walk_api(parser, site, page0)
    rows = current.rows()
    # pageIndex "0" … "N-1", as strings; the last page (pageIndex+1)·15 ≥ total asks no more.
    assert [params_of(r)["pageIndex"] for r in requests] == [str(i) for i in range(math.ceil(len(rows) / 15))]
    assert sorted(followed) == sorted(site.meeting_urls("yingkou", "current"))
    assert len(followed) == len(set(followed))


def test_zhanqian_shell_reads_both_site_scripts_then_posts_the_flat_body(site):
    parser = OfflineParser("zhanqian")
    current = site.portal("zhanqian", "current")
    shell_url = site.list_urls("zhanqian", "current")
    assert shell_url.endswith("/dynamic/zw/openlist.html?categorynum=001003005&deptcode=zqqrmzf")
    _, listings = split(parser.spider.parse(answer(site, scrapy.Request(shell_url))[0]))
    assert [r.url for r in listings] == ["http://www.ykzq.gov.cn/js/webBuilderCommon.js"]
    # webBuilderCommon.js names no siteGuid here: ajaxReq.js, which the shell loads next, does.
    _, listings = split(parser.spider.parse_listing(answer(site, listings[0])[0]))
    assert [r.url for r in listings] == ["http://www.ykzq.gov.cn/js/ajaxReq.js"]
    _, listings = split(parser.spider.parse_listing(answer(site, listings[0])[0]))
    page0 = listings[0]
    assert (page0.method, page0.url) == ("POST", "http://www.ykzq.gov.cn/Epoint-MiddleForWeb" + API)
    number = '"0"' if current.index_str else "0"
    size = '"12"' if current.index_str else "12"
    assert page0.body.decode() == (
        f'{{"deptcode":"zqqrmzf","categorynum":"001003005","pageIndex":{number},"pageSize":{size},'
        f'"siteGuid":"{current.site_guid}"}}')

    followed, requests = walk_api(parser, site, page0)
    assert len(requests) == math.ceil(len(current.rows()) / 12)  # the page size the script says
    assert sorted(followed) == sorted(site.meeting_urls("zhanqian", "current"))


def test_zhanqian_archive_shell_with_inline_parameters_still_posts_at_once():
    parser = OfflineParser("zhanqian")
    archive = build_site(ARTICLES, SEED)
    shell_url = "http://www.ykzq.gov.cn/govxxgk/zqqrmzf/openlist.html?categorynum=001003005"
    _, listings = split(parser.spider.parse(answer(archive, scrapy.Request(shell_url))[0]))
    assert [(r.method, r.url) for r in listings] == [("POST", "http://www.ykzq.gov.cn/EWB-FRONT" + API)]
    assert json.loads(listings[0].body)["params"]["pageIndex"] == 0
    followed, _ = walk_api(parser, archive, listings[0])
    assert sorted(followed) == sorted(archive.meeting_urls("zhanqian"))


@pytest.mark.parametrize("portal,variant,shape", [
    ("yingkou", {"token": False}, lambda body: "token" not in body and body["params"]["pageIndex"] == "0"),
    ("yingkou", {"token": True}, lambda body: body["token"] == "" and body["params"]["pageIndex"] == "0"),
    ("zhanqian", {"index_str": True}, lambda body: "params" not in body and body["pageIndex"] == "0"),
    ("zhanqian", {"index_str": False}, lambda body: "params" not in body and body["pageIndex"] == 0),
])
def test_each_request_shape_is_read_from_the_script_and_accepted(portal, variant, shape):
    seed = seed_where(portal, **variant)
    other = build_site(12, seed, generation="current")
    parser = OfflineParser(portal)
    request = split(parser.spider.parse(answer(other, scrapy.Request(other.list_urls(portal, "current")))[0]))[1][0]
    while request.method == "GET":  # the site scripts, then the first API page
        request = split(parser.spider.parse_listing(answer(other, request)[0]))[1][0]
    assert shape(json.loads(request.body))
    followed, _ = walk_api(parser, other, request)
    assert sorted(followed) == sorted(other.meeting_urls(portal, "current"))


def test_the_api_refuses_a_shape_its_script_does_not_send(site):
    """A reader hard-coded to one variant fails against the replica."""
    def post(portal, body):
        current = site.portal(portal, "current")
        _, resp = site.handle(current.host, "POST", current.project + API, "", json.dumps(body).encode(),
                              {"content-type": "application/json;charset=UTF-8"})
        return resp.status

    yk, zq = site.portal("yingkou", "current"), site.portal("zhanqian", "current")
    yk_params = {"deptcode": "", "categorynum": yk.categorynum, "pageIndex": "0", "pageSize": "15",
                 "siteGuid": yk.site_guid}
    assert post("yingkou", {"token": "", "params": yk_params}) == 200
    assert post("yingkou", yk_params) == 400                                         # flat to a wrapped site
    assert post("yingkou", {"token": "", "params": {**yk_params, "pageIndex": 0}}) == 400     # a number
    assert post("yingkou", {"token": "", "params": {**yk_params,                              # Epoint's default
                "siteGuid": "7eb5f7f1-9041-43ad-8e13-8fcb82ea831a"}}) == 400
    index = (lambda n: str(n)) if zq.index_str else (lambda n: n)
    zq_params = {"deptcode": "zqqrmzf", "categorynum": zq.categorynum, "pageIndex": index(0),
                 "pageSize": index(12), "siteGuid": zq.site_guid}
    assert post("zhanqian", zq_params) == 200
    assert post("zhanqian", {"token": "", "params": zq_params}) == 400               # wrapped to a flat site
    assert post("zhanqian", {**zq_params, "deptcode": ""}) == 400                     # deptcode from the URL
    _, resp = site.handle(zq.host, "POST", "/EWB-FRONT" + API, "", json.dumps(zq_params).encode(),
                          {"content-type": "application/json"})
    assert resp.status == 404                                                         # no assumed project path


def api_page(parser, config: dict, page: int, data: list, total) -> tuple[list, list]:
    gen = parser.spider.generation("epoint")
    referer = "http://www.yingkou.gov.cn/dynamic/zw/openlist.html?categorynum=001001003004"
    request = gen.api_request(parser.spider, referer, config, page)
    body = json.dumps({"custom": {"data": data, "total": total}, "status": {"code": 1, "text": "操作成功"},
                       "controls": []}, ensure_ascii=False).encode()
    return split(parser.spider.parse_listing(parser.response(request.url, body, {"Content-Type": "application/json"},
                                                             request=request)))


CONFIG = {"api": "/EWB_YK_Mid" + API, "deptcode": "", "siteGuid": "4c1d9a7e-52b3-4f60-9e8d-1a7b3c5e2f94",
          "categorynum": "001001003004", "pageSize": 3, "wrapped": True, "token": True, "index_str": True,
          "size_str": True}


def row(n: int, **kw) -> dict:
    return {"title": f"市政府召开第{n}次常务会议", "realtitle": f"市政府召开第{n}次常务会议",
            "infourl": f"/govxxgk/ykszf/2024-05-0{n % 9 + 1}/0000000{n}-aaaa-4bbb-8ccc-dddddddddddd.html",
            "infodate": "2024-05-01", **kw}


def test_paging_stops_at_the_total_or_an_empty_page_and_not_at_a_short_one():
    parser = OfflineParser("yingkou")
    _, listings = api_page(parser, CONFIG, 0, [row(1), row(2)], 40)      # short, but not the last page
    assert [params_of(r)["pageIndex"] for r in listings] == ["1"]
    _, listings = api_page(parser, CONFIG, 1, [row(4), row(5), row(6)], "6")   # (1+1)·3 ≥ 6
    assert listings == []
    _, listings = api_page(parser, CONFIG, 2, [], 40)                    # empty page: the end
    assert listings == []


def test_entries_realtitle_infourl_and_what_is_not_an_article():
    parser = OfflineParser("yingkou")
    cut = row(7, title="市长主持召开市政府第7次常务会议研究部署城市更...",
              realtitle="市长主持召开市政府第7次常务会议研究部署城市更新工作")
    absolute = row(8, infourl="http://www.yingkou.gov.cn/001/002/20240502/11111111-2222-4333-8444-555555555555.html")
    pdf = row(9, infourl="/uploadfile/20240502/66666666-2222-4333-8444-555555555555.pdf")
    htm = row(10, infourl="http://www.yingkou.gov.cn/zt/2024/77777777.htm")
    elsewhere = row(11, infourl="http://www.ln.gov.cn/web/zwgkx/202405/88888888-2222-4333-8444-555555555555.html")
    articles, _ = api_page(parser, CONFIG, 0, [cut, absolute, pdf, htm, elsewhere], 5)
    assert [(r.url, r.meta["listing_title"]) for r in articles] == [
        ("http://www.yingkou.gov.cn/govxxgk/ykszf/2024-05-08/00000007-aaaa-4bbb-8ccc-dddddddddddd.html",
         "市长主持召开市政府第7次常务会议研究部署城市更新工作"),
        (absolute["infourl"], "市政府召开第8次常务会议")]
    assert parser.stats.get_value("listing/skipped/not_article_page") == 2
    assert parser.stats.get_value("listing/skipped/offsite") == 1


@pytest.mark.parametrize("script,api", [
    ('var LIST_URL = "/EWB-FRONT/rest/lightfrontaction/getgovinfolist";', "/EWB-FRONT" + API),
    ('var base = "/Portal-X"; $.post(base + "/rest/lightfrontaction/getgovinfolist", b);', "/Portal-X" + API),
    ('var siteInfo = {"projectName": "/Y_Mid"}; x({url: siteInfo.projectName + "/rest/lightfrontaction/getgovinfolist"})',
     "/Y_Mid" + API),
    ("siteInfo = {projectName: '/Z-FRONT', siteName: 'z'};", "/Z-FRONT" + API),
    ('var siteInfo = {"siteName": "no project here"};', None),
])
def test_the_api_is_read_as_the_script_builds_it(script, api):
    assert EpointList()._api(script) == api


@pytest.mark.parametrize("script,shape", [
    ('JSON.stringify({token: "", params: {pageIndex: i, pageSize: 10}})',
     {"wrapped": True, "token": True, "index_str": False, "size_str": False}),
    ('JSON.stringify({"params": {"pageIndex": i + "", "pageSize": "20"}})',
     {"wrapped": True, "token": False, "index_str": True, "size_str": True}),
    ('JSON.stringify({"siteGuid": g, "pageIndex": String(i), "pageSize": n})',
     {"wrapped": False, "token": False, "index_str": True, "size_str": False}),
    ('var q = {pageIndex: page.toString(), pageSize: size.toString()};',
     {"wrapped": False, "token": False, "index_str": True, "size_str": True}),
])
def test_the_body_shape_is_read_from_the_object_that_holds_pageindex(script, shape):
    found = EpointList()._shape(script)
    assert {k: found[k] for k in shape} == shape
    assert EpointList()._shape("function loadPage(pageIndex) { go(pageIndex); }") is None


# --- a shell whose scripts name no siteGuid -------------------------------------------------

SHELL_WITHOUT_GUID = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>列表</title>
<script src="/js/webBuilderCommon.js"></script></head><body><ul id="infolist"></ul>
<script>function go(i) { $.ajax({url: siteInfo.projectName + "/rest/lightfrontaction/getgovinfolist",
data: JSON.stringify({token: "", params: {categorynum: "001", pageIndex: i, pageSize: 15}})}); } go(0);</script>
</body></html>""".encode()
COMMON_WITHOUT_GUID = b'var siteInfo = {"projectName": "/EWB_YK_Mid", "siteName": "a site that forgot its guid"};'


class _ShellHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = urlsplit(self.path).path  # the mirror is addressed as a proxy: absolute URLs
        body, ctype = {"/dynamic/zw/openlist.html": (SHELL_WITHOUT_GUID, "text/html; charset=utf-8"),
                       "/js/webBuilderCommon.js": (COMMON_WITHOUT_GUID, "application/javascript")}.get(
            path, (b"not found", "text/plain"))
        self.send_response(200 if ctype != "text/plain" else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_shell_whose_scripts_name_no_siteguid_fails_health_listing_unrecognised(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ShellHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        start = "http://www.yingkou.gov.cn/dynamic/zw/openlist.html?categorynum=001"
        cmd = [str(Path(sys.executable).parent / "scrapy"), "crawl", "yingkou", "-a", f"start={start}",
               "-O", str(tmp_path / "out.jsonl"), "-s", f"PORTAL_MIRROR=http://127.0.0.1:{server.server_port}",
               "-s", "MEETINGS_DB=", "-s", "DOWNLOAD_DELAY=0"]
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
    log = result.stderr
    assert "HEALTH FAIL yingkou [listing_unrecognised]" in log, log[-3000:]
    fail = next(line for line in log.splitlines() if "HEALTH FAIL yingkou [listing_unrecognised]" in line)
    assert start in fail and "name no siteGuid" in fail
    assert "webBuilderCommon.js" in fail and "ajaxReq.js" in fail      # what was read, what is looked for
    assert "'listing/unrecognised': 1" in log
    assert (tmp_path / "out.jsonl").read_text() == ""


def test_unrecognised_shell_in_process_names_what_was_looked_for():
    parser = OfflineParser("zhanqian")
    shell_url = "http://www.ykzq.gov.cn/dynamic/zw/openlist.html?categorynum=001&deptcode=zqqrmzf"
    shell = parser.response(shell_url, SHELL_WITHOUT_GUID, {"Content-Type": "text/html; charset=utf-8"})
    _, listings = split(parser.spider.parse(shell))
    script = parser.response(listings[0].url, COMMON_WITHOUT_GUID, {"Content-Type": "application/javascript"},
                             request=listings[0])
    assert split(parser.spider.parse_listing(script)) == ([], [])
    report = health.evaluate(parser.stats.get_stats(), "finished")
    assert "listing_unrecognised" in report.failed_checks
    assert "siteGuid" in parser.stats.get_value("listing/unrecognised_detail")


# --- article templates ------------------------------------------------------------------------

@pytest.mark.parametrize("portal", ["yingkou", "zhanqian"])
def test_every_current_article_page_parses_to_its_record(site, portal):
    parser = OfflineParser(portal)
    current = site.portal(portal, "current")
    shapes = Counter()
    for e in current.entries:
        if not e.meeting:
            continue
        shapes[current.shape_of(e)] += 1
        url = current.url_of(e)
        response = parser.response(url, current.page(e), {"Content-Type": "text/html; charset=utf-8"},
                                   request=scrapy.Request(url, meta={"generation": "epoint"}))
        item = parser.parse(response)
        assert item is not None, url
        assert mismatches(dict(item), current.expected(e)) == [], url
    assert shapes["news"] and shapes["disclosure"]
    seed = next(e for e in current.entries if e.seed)
    assert current.expected(seed)["url"] == current.url_of(seed)


def test_news_and_disclosure_pages_print_their_own_furniture(site):
    current = site.portal("yingkou", "current")
    news = next(e for e in current.entries if e.meeting and current.shape_of(e) == "news")
    disclosure = next(e for e in current.entries if e.meeting and current.shape_of(e) == "disclosure")
    assert "/001/002/" in current.url_of(news) and "/govxxgk/ykszf/" in current.url_of(disclosure)
    n, d = current.expected(news), current.expected(disclosure)
    assert n["category"] == "政务要闻" and n["publisher"] is None and n["source"]
    assert d["category"] == "政府会议" and d["publisher"] == "营口市人民政府办公室"


# --- crawls of the replica's current generation ----------------------------------------------

@pytest.fixture(scope="module")
def current_replica():
    with running_replica(articles=ARTICLES, seed=SEED, generation="current") as origin:
        yield origin


@pytest.mark.parametrize("portal", ["yingkou", "zhanqian"])
def test_crawl_of_the_current_site_yields_exactly_its_meetings(portal, site, current_replica, tmp_path):
    out = tmp_path / f"{portal}.jsonl"
    cmd = [str(Path(sys.executable).parent / "scrapy"), "crawl", portal, "-a",
           f"start={site.list_urls(portal, 'current')}", "-O", str(out), "-s", f"PORTAL_MIRROR={current_replica}",
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "MEETINGS_DB="]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = {e["url"]: e for e in site.expected_items(portal, "current")}
    urls = Counter(item["url"] for item in items)
    assert [u for u, n in urls.items() if n > 1] == [], "duplicates"
    assert sorted(set(urls) - set(expected)) == [], "items that are not meetings of the replica"
    assert sorted(set(expected) - set(urls)) == [], "meetings missed"
    assert {i["url"]: p for i in items if (p := mismatches(i, expected[i["url"]]))} == {}
    assert "health ok" in result.stderr
    # The rows that are no article pages were counted, not fetched.
    rows = [r["infourl"] for r in site.portal(portal, "current").rows()]
    offsite = sum("www.ln.gov.cn" in u for u in rows)
    files = sum(not u.endswith(".html") for u in rows)
    assert offsite and files
    assert f"'listing/skipped/offsite': {offsite}," in result.stderr
    assert f"'listing/skipped/not_article_page': {files}," in result.stderr
