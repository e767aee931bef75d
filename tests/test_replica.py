"""The offline replica, over real HTTP to a real server on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.replica import build_site
from crawler.replica.compare import mismatches
from crawler.replica.process import running_replica

ROOT = Path(__file__).resolve().parents[1]
PORTALS = ROOT / "crawler" / "replica" / "portals"
ARTICLES = 60
LAISHAN_FORM = ("col=1&appid=1&webid=147&path=%2F&columnid=53951&sourceContentType=1&unitid=244316&webname="
                "%E7%83%9F%E5%8F%B0%E5%B8%82%E8%8E%B1%E5%B1%B1%E5%8C%BA%E4%BA%BA%E6%B0%91%E6%94%BF%E5%BA%9C"
                "&permissiontype=0")
ZQ_API = "http://www.ykzq.gov.cn/EWB-FRONT/rest/lightfrontaction/getgovinfolist"
SCHEMA_FIELDS = {"portal": str, "url": str, "title": str, "published_at": str, "meeting_date": (str, type(None)),
                 "doc_type": str, "meeting_kind": (str, type(None)), "meeting_number": (int, type(None)),
                 "term": (int, type(None)), "chair": (str, type(None)), "source": (str, type(None)),
                 "author": (str, type(None)), "publisher": (str, type(None)), "index_number": (str, type(None)),
                 "written_date": (str, type(None)), "category": (str, type(None)), "breadcrumb": list,
                 "body": str, "documents": list, "attendees": list, "attachments": list, "language": str}


@pytest.fixture(scope="module")
def origin():
    with running_replica(articles=ARTICLES, seed=1) as o:
        yield o


@pytest.fixture(scope="module")
def site():
    return build_site(ARTICLES, 1)


class Client:
    def __init__(self, origin):
        p = urlsplit(origin)
        self.conn = http.client.HTTPConnection(p.hostname, p.port, timeout=10)

    def proxy(self, method, url, body=None, headers=None):
        """Proxy-style request: absolute URI in the request line."""
        h = {"Host": urlsplit(url).netloc, **(headers or {})}
        self.conn.request(method, url, body=body, headers=h)
        r = self.conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()

    def origin_form(self, method, host, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
        r = self.conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()


@pytest.fixture(scope="module")
def client(origin):
    return Client(origin)


def get(client, url):
    return client.proxy("GET", url)


# --- seeds, robots, 404, routing ---------------------------------------------------------------

SEEDS = {
    "yingkou": ("http://www.yingkou.gov.cn/xxgk/zfhy/201711/t20171123_1210515.html",
                "yingkou/pages/xxgk/zfhy/201711/t20171123_1210515.html"),
    "beipiao": ("http://www.bp.gov.cn/html/BPSZF/202110/0163399910507492.html",
                "beipiao/pages/html/BPSZF/202110/0163399910507492.html"),
    "laishan": ("http://www.ytlaishan.gov.cn/art/2022/8/3/art_53951_3077069.html",
                "laishan/pages/art/2022/8/3/art_53951_3077069.html"),
    "zhanqian": ("http://www.ykzq.gov.cn/govxxgk/zqqrmzf/2023-11-27/5f0c3b7e-2d91-4a8e-b6f4-93c1e7a20d58.html",
                 "zhanqian/pages/govxxgk/zqqrmzf/2023-11-27/5f0c3b7e-2d91-4a8e-b6f4-93c1e7a20d58.html"),
    "jining": ("http://jining.iqilu.com/jnyaowen/2017/0830/3670218.shtml",
               "jining/pages/jnyaowen/2017/0830/3670218.shtml"),
    "mirror": ("http://jining.mirror.example/jnyaowen/2017/0830/3670218.shtml",
               "jining/pages-mirror/jnyaowen/2017/0830/3670218.shtml"),
}


@pytest.mark.parametrize("name", list(SEEDS))
def test_seed_served_byte_identical(client, name):
    url, rel = SEEDS[name]
    status, _, body = get(client, url)
    assert status == 200
    assert body == (PORTALS / rel).read_bytes()


def test_seeds_in_listings_and_expected(site):
    for name, (url, _) in SEEDS.items():
        if name == "mirror":
            continue
        assert url in site.meeting_urls(name)
        exp = [x for x in site.expected_items(name) if x["url"] == url]
        assert len(exp) == 1 and exp[0]["body"].keys() >= {"startswith"}


@pytest.mark.parametrize("host", ["www.yingkou.gov.cn", "www.bp.gov.cn", "www.ytlaishan.gov.cn", "www.ykzq.gov.cn",
                                  "jining.iqilu.com", "jining.mirror.example"])
def test_robots_and_404(client, host):
    status, headers, body = get(client, f"http://{host}/robots.txt")
    assert status == 200 and b"Allow: /" in body and headers["content-type"].startswith("text/plain")
    assert get(client, f"http://{host}/no/such/page.html")[0] == 404


def test_unknown_host_404(client):
    assert get(client, "http://www.example.com/xxgk/zfhy/index.html")[0] == 404
    assert client.origin_form("GET", "www.example.com", "/")[0] == 404


def test_origin_form_routed_by_host_header(client):
    status, headers, body = client.origin_form("GET", "www.yingkou.gov.cn:80", "/xxgk/zfhy/index.html")
    assert status == 200 and b"createPageHTML(" in body
    status, _, body2 = get(client, "http://www.yingkou.gov.cn/xxgk/zfhy/index.html")
    assert body == body2
    # the same path on another host is another portal
    assert client.origin_form("GET", "www.bp.gov.cn", "/xxgk/zfhy/index.html")[0] == 404


# --- yingkou ------------------------------------------------------------------------------------

def test_yingkou_gbk_pager(client, site):
    p = site.portal("yingkou")
    n = math.ceil(len(p.entries) / 15)
    status, headers, body = get(client, "http://www.yingkou.gov.cn/xxgk/zfhy/")
    assert status == 200 and headers["content-type"] == "text/html"
    assert b"\r\n" in body
    text = body.decode("gbk")
    assert "繁體中文" in text
    assert re.search(r"createPageHTML\((\d+),\s*(\d+)", text).groups() == (str(n), "0")
    seen = []
    for i in range(n):
        url = "http://www.yingkou.gov.cn/xxgk/zfhy/" + ("index.html" if i == 0 else f"index_{i}.html")
        status, _, body = get(client, url)
        assert status == 200
        text = body.decode("gbk")
        assert re.search(r"createPageHTML\((\d+),\s*(\d+)", text).groups() == (str(n), str(i))
        seen += re.findall(r'<li><span class="date">[^<]+</span>.*?href="\./(\d{6}/t\d{8}_\d+\.html)"', text)
    assert get(client, f"http://www.yingkou.gov.cn/xxgk/zfhy/index_{n}.html")[0] == 404
    assert len(seen) == len(p.entries) == len(set(seen))
    # an article page is GBK with the template
    status, headers, body = get(client, "http://www.yingkou.gov.cn/xxgk/zfhy/" + seen[0])
    assert status == 200 and headers["content-type"] == "text/html"
    assert '<td class="detail_con" id="Zoom">' in body.decode("gbk")


# --- beipiao ------------------------------------------------------------------------------------

def test_beipiao_pager(client, site):
    p = site.portal("beipiao")
    n = math.ceil(len(p.entries) / 15)
    url = "http://www.bp.gov.cn/html/BPSZF/zcjd/index.html"
    pages = 0
    links = []
    while url:
        status, headers, body = get(client, url)
        assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
        pages += 1
        text = body.decode("utf-8")
        assert f"共{n}页&nbsp;&nbsp;当前第{pages}页&nbsp;&nbsp;共{len(p.entries)}条" in text
        links += re.findall(r'<li><a href="(/html/BPSZF/\d{6}/\d{16}\.html)"', text)
        m = re.search(r'<a href="([^"]+)" class="page-next">下一页</a>', text)
        url = "http://www.bp.gov.cn" + m.group(1) if m else None
    assert pages == n and len(links) == len(p.entries)
    assert get(client, "http://www.bp.gov.cn/html/BPSZF/zcjd/index_1.html")[0] == 404


# --- laishan ------------------------------------------------------------------------------------

def post_proxy(client, start, end, body=LAISHAN_FORM, per=15):
    return client.proxy(
        "POST", f"http://www.ytlaishan.gov.cn/module/web/jpage/dataproxy.jsp?startrecord={start}&endrecord={end}"
                f"&perpage={per}", body=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                 "X-Requested-With": "XMLHttpRequest"})


def test_laishan_column_and_dataproxy(client, site):
    p = site.portal("laishan")
    total = len(p.entries)
    status, _, body = get(client, "http://www.ytlaishan.gov.cn/col/col53951/index.html?uid=244316&pageNum=3")
    text = body.decode("utf-8")
    assert status == 200 and f"totalRecord:{total}," in text
    assert text.count("<record>") == 45
    hrefs = re.findall(r"<li><a href='([^']+)'", text)
    g = 2
    while 45 * (g - 1) + 1 <= total:
        s, e = 45 * (g - 1) + 1, min(45 * g, total)
        status, headers, body = post_proxy(client, s, e)
        assert status == 200 and headers["content-type"] == "text/xml;charset=UTF-8"
        xml = body.decode("utf-8")
        assert xml.startswith("<datastore>") and f"<totalrecord>{total}</totalrecord>" in xml
        assert f"<totalpage>{math.ceil(total / 15)}</totalpage>" in xml
        assert xml.count("<record>") == e - s + 1
        hrefs += re.findall(r"<li><a href='([^']+)'", xml)
        g += 1
    assert hrefs == [e.path for e in p.entries]


def test_laishan_dataproxy_malformed(client):
    assert post_proxy(client, 46, 90, body="col=1&appid=1")[0] == 400
    assert post_proxy(client, 46, 90, per=20)[0] == 400
    assert post_proxy(client, 90, 46)[0] == 400
    status, _, _ = client.proxy("POST", "http://www.ytlaishan.gov.cn/module/web/jpage/dataproxy.jsp?perpage=15",
                                body=LAISHAN_FORM.encode())
    assert status == 400


def test_laishan_sample_request_answers_like_sample(client, site):
    raw = (PORTALS / "laishan/pages/module/web/jpage/dataproxy.jsp.request-1.txt").read_bytes()
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert body.decode() == LAISHAN_FORM
    status, _, xml = post_proxy(client, 46, 90, body=body.decode())
    assert status == 200 and xml.count(b"<record>") == min(90, len(site.portal("laishan").entries)) - 45


# --- zhanqian -----------------------------------------------------------------------------------

def api(client, index, raw=None):
    req = json.loads((PORTALS / "zhanqian/pages/EWB-FRONT/rest/lightfrontaction/getgovinfolist.request.json")
                     .read_text())
    req["params"]["pageIndex"] = index
    body = raw if raw is not None else json.dumps(req, separators=(",", ":")).encode()
    return client.proxy("POST", ZQ_API, body=body,
                        headers={"Content-Type": "application/json;charset=UTF-8", "X-Requested-With": "XMLHttpRequest"})


def test_zhanqian_shell_and_api(client, site):
    p = site.portal("zhanqian")
    total = len(p.entries)
    status, headers, body = get(client, "http://www.ykzq.gov.cn/govxxgk/zqqrmzf/openlist.html?categorynum=001003005")
    assert status == 200 and body == (PORTALS / "zhanqian/pages/govxxgk/zqqrmzf/openlist.html").read_bytes()
    urls = []
    for index in range(math.ceil(total / 15)):
        status, headers, body = api(client, index)
        assert status == 200 and headers["content-type"] == "application/json;charset=UTF-8"
        assert b"\n" not in body and "政府会议".encode() in body and b"\\u" not in body
        doc = json.loads(body)
        assert doc["status"] == {"code": 200, "text": ""} and doc["custom"]["total"] == total
        for d in doc["custom"]["data"]:
            assert set(d) == {"infoid", "title", "realtitle", "infourl", "infodate", "categorynum", "categoryname"}
            assert len(d["title"]) <= 33
            urls.append(d["infourl"])
    assert urls == [e.path for e in p.entries]
    status, _, body = api(client, math.ceil(total / 15))
    assert status == 200 and json.loads(body)["custom"] == {"data": [], "total": total}
    assert api(client, 0, raw=b"{not json")[0] == 400


# --- jining -------------------------------------------------------------------------------------

def test_jining_pager(client, site):
    p = site.portal("jining")
    url = "http://jining.iqilu.com/jnyaowen/"
    links, pages = [], 0
    while url:
        status, headers, body = get(client, url)
        assert status == 200
        pages += 1
        text = body.decode("utf-8")
        links += re.findall(r'<li><a href="(http://jining\.iqilu\.com/jnyaowen/\d{4}/\d{4}/\d+\.shtml)" '
                            r'target="_blank" title="[^"]*">[^<]*</a><span class="time">', text)
        m = re.search(r'<a href="([^"]+)" class="a1">下一页</a>', text)
        url = m.group(1) if m else None
    assert pages == math.ceil(len(p.entries) / 20)
    assert links == [p.url_of(e) for e in p.entries]
    assert get(client, "http://jining.iqilu.com/jnyaowen/list_2417_1.shtml")[0] == 404


# --- generated articles and expected items ------------------------------------------------------

def test_expected_items_complete(site):
    for name in site.portals:
        items = site.expected_items(name)
        assert len(items) == ARTICLES
        assert len({(i["url"]) for i in items}) == ARTICLES
        for item in items:
            if isinstance(item["body"], dict):          # the seed, in rules form
                continue
            for field, typ in SCHEMA_FIELDS.items():
                assert field in item, (name, field)
                assert isinstance(item[field], typ), (name, field, item[field])
            assert item["portal"] == name and item["language"] == "zh-Hans"
            assert item["doc_type"] in ("report", "interpretation")
            assert item["meeting_kind"] in ("常务会议", "全体会议", "工作会议", "廉政工作会议")
            assert item["chair"] and 2 <= len(item["chair"]) <= 3
            assert all(2 <= len(a) <= 3 for a in item["attendees"])
            assert item["meeting_date"] <= item["published_at"][:10]
            assert all(set(a) == {"name", "url"} and a["url"].startswith("http") for a in item["attachments"])
            assert item["body"] and "  " not in item["body"]
            assert mismatches(item, item) == []
        if name == "laishan":
            idx = [i["index_number"] for i in items]
            assert len(set(idx)) == len(idx)
    kinds = {i["doc_type"] for n in ("yingkou", "zhanqian") for i in site.expected_items(n)}
    assert kinds == {"report", "interpretation"}
    assert any(i["attachments"] for n in site.portals for i in site.expected_items(n))


def test_generated_page_carries_expected_text(client, site):
    for name in site.portals:
        p = site.portal(name)
        for item in site.expected_items(name)[:8]:
            if isinstance(item["body"], dict):
                continue
            status, _, body = get(client, item["url"])
            assert status == 200
            text = body.decode(p.encoding)
            assert item["title"] in text
            first = item["body"].split("\n")[0]
            if name != "zhanqian":                      # zhanqian splits the year into its own span
                assert first.replace("&", "&amp;") in text.replace("　", "")
            for a in item["attachments"]:
                assert a["name"] in text


@pytest.mark.parametrize("articles,seed", [(400, 1), (1000, 2)])
def test_no_two_meetings_share_a_date_and_title(articles, seed):
    """The store keeps one record per (date, title) as a duplicate, so two such meetings on one
    portal would make the replica's expected set larger than any correct crawl (`--articles 400`
    once gave zhanqian two interpretations of one report on one day)."""
    site = build_site(articles=articles, seed=seed)
    for name in site.portals:
        portal = site.portals[name]
        if not hasattr(portal, "expected_items"):
            continue
        keys = [((item["published_at"] or "")[:10], item["title"]) for item in portal.expected_items()]
        assert len(keys) == len(set(keys)), name


def test_non_meeting_pages_exist(client, site):
    for name in site.portals:
        urls = site.non_meeting_urls(name)
        assert urls
        assert get(client, urls[0])[0] == 200


def test_determinism():
    a, b, c = build_site(30, 7), build_site(30, 7), build_site(30, 8)
    for name in a.portals:
        pa, pb, pc = a.portal(name), b.portal(name), c.portal(name)
        assert pa.meeting_urls() == pb.meeting_urls()
        assert [pa.page(e) for e in pa.entries[:10]] == [pb.page(e) for e in pb.entries[:10]]
        assert pa.expected_items() == pb.expected_items()
        assert pa.meeting_urls() != pc.meeting_urls()


def test_same_seed_same_bytes_over_http(origin, client, site):
    url = site.meeting_urls("laishan")[0]
    e = next(e for e in site.portal("laishan").entries if site.portal("laishan").url_of(e) == url)
    assert get(client, url)[2] == site.portal("laishan").page(e)


def test_list_command():
    out = subprocess.run([sys.executable, "-m", "crawler.replica", "--list", "zhanqian", "--articles", "25",
                          "--seed", "3"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    site = build_site(25, 3, generation="both")
    assert out.splitlines() == [u for g in site.generations_of("zhanqian") for u in site.meeting_urls("zhanqian", g)]


def test_latency():
    import time
    with running_replica(articles=5, seed=1, latency_ms=300) as o:
        c = Client(o)
        t = time.monotonic()
        assert get(c, "http://www.yingkou.gov.cn/robots.txt")[0] == 200
        assert time.monotonic() - t >= 0.28
