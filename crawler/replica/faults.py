"""Fault modes of the replica, switchable per portal.

    python -m crawler.replica --fault laishan=layout_changed --fault yingkou=http503:2
    running_replica(articles=15, faults={"laishan": "layout_changed", "yingkou": "http503:2"})
    site.faults["laishan"] = make_fault(site, "laishan", "truncated")

A fault is a hook ``hook(portal, method, path)`` (see ``Site.faults``) that answers with a
``Response`` to send instead, or a dict of directives for the server:

- ``delay_ms``: send the response that much later;
- ``transform``: ``fn(Response) -> Response`` applied to the page the portal built;
- ``reset``: abort the TCP connection (RST) without answering;
- ``truncate``: send only the first N bytes of the body under the full Content-Length, then
  close the connection.

Article faults hit a deterministic subset of the meeting articles (``fault.affected``, the
real-portal URLs): every ``EVERY``-th one counted from the newest, the seed article excepted.
``http404`` and ``redirect_loop`` hit one article. Listing faults hit every listing page.

Modes (``MODE[:param]``):

==================  ======================================================================
``http500[:K]``     first K (default 2) requests of every path (listing, article) answer 500
``http503[:K]``     the same with 503 Service Unavailable
``slow[:MS]``       affected articles answer after MS ms (default 5000: past a short timeout)
``reset``           affected articles: connection reset, no answer
``truncated``       affected articles: Content-Length of the full page, half of it sent, closed
``malformed``       affected articles: broken markup (unclosed/stray tags, unquoted attributes,
                    a stray ``<``) around complete content
``charset``         affected articles: the Content-Type header declares the wrong charset
                    (gbk for UTF-8 pages, utf-8 for yingkou's GBK pages)
``empty``           listing pages have no entries (a valid page, pager/total zero)
``layout_changed``  listing pages: the entry container is renamed (jining: its ``div.mod-list``
                    wrapper too; laishan: records without the ``<record>`` markup; zhanqian:
                    the API JSON without ``custom``)
``http404``         one meeting article answers 404
``redirect_loop``   one meeting article redirects to itself through ``?loop=N`` forever
``oversized[:N]``   affected articles padded to N bytes (default 9 MiB, past DOWNLOAD_MAXSIZE)
``offsite``         listing pages also link the first meeting article on a foreign host
                    (``http://offsite.example/…``, same title)
``long_title``      affected articles: the title runs to ~1,000 characters (past what a
                    btree index row of the whole key may hold on PostgreSQL)
``charset_badbyte`` affected articles: GB18030 bytes (the page's own GBK, or UTF-8 text
                    re-encoded), declared ``charset=utf-8``, one undecodable byte in the body
``offsite_redirect[:PORT]``  affected articles answer 301, in turn to another domain, to
                    127.0.0.2, to 169.254.169.254 and, with PORT, to the portal's own host
                    on that port (which nothing but the mirror may ever answer; the article
                    is served there from its second request on)
``bomb[:N]``        gzip bombs (``Content-Encoding: gzip``, N bytes once inflated, default
                    16 MiB, past DOWNLOAD_MAXSIZE): listing page 2 (yingkou, beipiao, jining;
                    every laishan ``dataproxy.jsp`` group; zhanqian API pages after the
                    first) and the affected articles
``bad_href``        listing pages also list the first meeting of the page under hrefs that
                    cannot be requested (``javascript:void(0)``, ``mailto:``, port 99999, a
                    broken IPv6 literal; zhanqian: a number and an object as ``infourl``), and
                    the last page's 下一页 links ``javascript:;`` (beipiao, jining)
``endless_total``   laishan: ``totalRecord``/``totalrecord`` 1000000000 over the real records,
                    empty groups after them; zhanqian: the API ignores ``pageIndex`` (always
                    the first page) and claims a total of 1000000000
``cut_group``       laishan: every ``dataproxy.jsp`` group holds only its first 5 records,
                    ``totalrecord`` unchanged
``redesigned``      every meeting article but the seed is re-laid in a template the portal
                    never had (one of three, chosen per portal: meta tags and ``<p>``
                    paragraphs; labelled lines and ``<br>`` runs; a table layout), with the
                    same title, date and paragraphs; the portal's selectors find nothing
==================  ======================================================================
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Callable

from .common import Response

EVERY = 3

MODES = ("http500", "http503", "slow", "reset", "truncated", "malformed", "charset", "empty",
         "layout_changed", "http404", "redirect_loop", "oversized", "offsite",
         *("long_title", "charset_badbyte", "offsite_redirect", "redesigned"))
# Listing walks (issue 14): see "listing walk faults" below.
WALK_MODES = ("bomb", "bad_href", "endless_total", "cut_group")
MODES += WALK_MODES
OFFSITE_HOST = "offsite.example"

# --- listing pages ------------------------------------------------------------------------------


def _is_listing(portal: str, method: str, path: str) -> bool:
    if portal == "yingkou":
        return path == "/xxgk/zfhy/" or (path.startswith("/xxgk/zfhy/index") and path.endswith(".html"))
    if portal == "beipiao":
        return path == "/html/BPSZF/zcjd/" or (path.startswith("/html/BPSZF/zcjd/index") and path.endswith(".html"))
    if portal == "laishan":
        return path in ("/col/col53951/index.html", "/module/web/jpage/dataproxy.jsp")
    if portal == "zhanqian":
        return path == "/EWB-FRONT/rest/lightfrontaction/getgovinfolist"
    if portal == "jining":
        return path in ("/jnyaowen/", "/jnyaowen/index.shtml") or path.startswith("/jnyaowen/list_2417_")
    return False


# The start tag of the container that holds the entries of an HTML listing, and its new name.
_CONTAINERS = {
    "yingkou": (b'<div class="list_con">', b'<div class="list_content">'),
    "beipiao": (b'<ul class="news-list">', b'<ul class="news-items">'),
    "jining": (b'<ul class="news-list type-a">', b'<ul class="newslist type-a">'),
}
# A wrapper around that container which a newer generation of the same CMS lists in (iqilu
# 2020's div.mod-list): renamed too, so the changed page is of no generation the spider knows.
_WRAPPERS = {
    "jining": (b'<div class="mod-list">', b'<div class="mod-news">'),
}
_LI = re.compile(rb"<li\b.*?</li>\s*", re.S)
_RECORD = re.compile(rb"<record>.*?</record>\s*", re.S)


def _with_body(resp: Response, body: bytes) -> Response:
    return Response(resp.status, list(resp.headers), body)


def layout_changed(portal: str, resp: Response) -> Response:
    body = resp.body
    if portal in _CONTAINERS:
        old, new = _CONTAINERS[portal]
        body = body.replace(old, new)
        old, new = _WRAPPERS.get(portal, (b"", b""))
        if old:
            body = body.replace(old, new)
    elif portal == "laishan":
        body = body.replace(b"<record><![CDATA[", b"<row><![CDATA[").replace(b"]]></record>", b"]]></row>")
    elif portal == "zhanqian":
        body = body.replace(b'{"custom":', b'{"result":', 1)
    return _with_body(resp, body)


def empty_listing(portal: str, resp: Response) -> Response:
    body = resp.body
    if portal in _CONTAINERS:
        old, _ = _CONTAINERS[portal]
        i = body.find(old)
        if i >= 0:
            j = body.find(b"</ul>", i)
            body = body[:i] + _LI.sub(b"", body[i:j]) + body[j:]
        # a pager for pages that are empty too: show one page only
        body = re.sub(rb"createPageHTML\(\d+,", b"createPageHTML(1,", body)
        body = re.sub(rb'<a[^>]*class="page-next"[^>]*>.*?</a>', b"", body)
        body = re.sub(rb'<a[^>]*>\s*\xe4\xb8\x8b\xe4\xb8\x80\xe9\xa1\xb5\s*</a>', b"", body)  # 下一页
    elif portal == "laishan":
        body = _RECORD.sub(b"", body)
        body = re.sub(rb"totalRecord:\d+", b"totalRecord:0", body)
        body = re.sub(rb"<totalrecord>\d+</totalrecord>", b"<totalrecord>0</totalrecord>", body)
        body = re.sub(rb"<totalpage>\d+</totalpage>", b"<totalpage>0</totalpage>", body)
    elif portal == "zhanqian":
        body = b'{"custom":{"data":[],"total":0},"status":{"code":200,"text":""}}'
    return _with_body(resp, body)


def offsite_entry(portal: str, basenames: list[bytes], resp: Response) -> Response:
    """Insert, before the entry of the first meeting article on the page, a copy of it whose
    link points at the same path on a foreign host."""
    body = resp.body
    if portal == "zhanqian":
        import json
        doc = json.loads(body)
        data = (doc.get("custom") or {}).get("data") or []
        for d in data:
            if d.get("infourl", "").rsplit("/", 1)[-1].encode() in basenames:
                data.insert(0, {**d, "infourl": f"http://{OFFSITE_HOST}{d['infourl']}"})
                break
        return _with_body(resp, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    pattern = _RECORD if portal == "laishan" else _LI
    for m in pattern.finditer(body):
        chunk = m.group(0)
        href = re.search(rb"""href=(['"])(.*?)\1""", chunk)
        if href and href.group(2).rsplit(b"/", 1)[-1] in basenames:
            path = href.group(2).lstrip(b".")
            foreign = chunk.replace(href.group(0), b"href=" + href.group(1) + b"http://" + OFFSITE_HOST.encode()
                                    + (path if path.startswith(b"/") else b"/" + path) + href.group(1), 1)
            return _with_body(resp, body[:m.start()] + foreign + body[m.start():])
    return resp


# --- article pages ------------------------------------------------------------------------------

_TAG_P_CLOSE = re.compile(rb"</p>")
_ATTR = re.compile(rb'(<(?:div|table|td|span) [a-z-]+)="([A-Za-z0-9_-]+)"')


def malformed(resp: Response) -> Response:
    """Broken markup around the same text: ``</p>`` dropped (unclosed paragraphs), unquoted
    attribute values, a stray ``</div>`` and ``</td>`` early in the body, an unescaped ``<``
    in a comment-like run, ``</body></html>`` twice."""
    body = resp.body
    body = _TAG_P_CLOSE.sub(b"", body)
    body = _ATTR.sub(rb"\1=\2", body)
    body = body.replace(b"<body", b"</div></td></span><p>< <<body", 1)
    body = body.replace(b"</body>", b"</font></b></i></body></body>", 1) + b"\n</html></div>"
    return _with_body(resp, body)


def wrong_charset(resp: Response) -> Response:
    headers = [(k, v) for k, v in resp.headers if k.lower() != "content-type"]
    ctype = dict((k.lower(), v) for k, v in resp.headers).get("content-type", "text/html")
    declared = re.search(r"charset=([\w-]+)", ctype, re.I)
    wrong = "utf-8" if declared is None or declared.group(1).lower() in ("gbk", "gb2312", "gb18030") else "gbk"
    return Response(resp.status, headers + [("Content-Type", f"text/html; charset={wrong}")], resp.body)


def oversized(size: int) -> Callable[[Response], Response]:
    def pad(resp: Response) -> Response:
        filler = b"<!-- " + b"x" * max(0, size - len(resp.body) - 9) + b" -->\n"
        i = resp.body.rfind(b"</body>")
        i = len(resp.body) if i < 0 else i
        return _with_body(resp, resp.body[:i] + filler + resp.body[i:])
    return pad


# --- hostile article pages: long title, wrong charset with a bad byte, redirects off the portal -----

MOVED_HOST = "moved.example"
# The targets of offsite_redirect, in turn; {host}, {port}, {path} of the article.
OFFSITE_REDIRECTS = ("http://" + MOVED_HOST + "{path}", "http://127.0.0.2{path}",
                     "http://169.254.169.254/latest/meta-data/", "http://{host}:{port}{path}")
def long_title(title: str, length: int = 1000) -> str:
    """``title`` padded to ``length`` characters with Han characters drawn from a generator
    seeded by the title: the same every time, and no repetition for the database to compress
    (PostgreSQL compresses an index row before it checks its size)."""
    import random

    rng = random.Random(title)
    return title + "".join(chr(rng.randrange(0x4E00, 0x9FA6)) for _ in range(length - len(title)))


def _charset(resp: Response) -> str:
    ctype = dict((k.lower(), v) for k, v in resp.headers).get("content-type", "")
    m = re.search(r"charset=([\w-]+)", ctype, re.I)
    return m.group(1) if m else "utf-8"


def with_long_title(title: str) -> Callable[[Response], Response]:
    def transform(resp: Response) -> Response:
        enc = _charset(resp)
        return _with_body(resp, resp.body.replace(title.encode(enc), long_title(title).encode(enc, "xmlcharrefreplace")))
    return transform


BAD_BYTE = b"\xff"  # a lead byte in neither UTF-8 nor GB18030


def charset_badbyte(resp: Response) -> Response:
    """The page in GB18030 bytes under ``charset=utf-8``, one undecodable byte at the end of the
    first paragraph of the body."""
    body = resp.body
    try:
        body = body.decode("utf-8").encode("gb18030")
    except UnicodeDecodeError:
        pass  # GBK already (yingkou)
    i = body.find(b"</p>", body.find(b"<body"))
    body = body[:i] + BAD_BYTE + body[i:] if i >= 0 else body + BAD_BYTE
    headers = [(k, v) for k, v in resp.headers if k.lower() != "content-type"]
    return Response(resp.status, headers + [("Content-Type", "text/html; charset=utf-8")], body)


_REDESIGNS = (
    # Meta tags, a headline block, <p> paragraphs, a sidebar of links.
    """<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}_{site}</title>
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{published}">
<meta name="ContentSource" content="{source}"></head><body>
<div class="topbar"><a href="/">首页</a> <a href="/zwgk/">政务公开</a> <a href="/hdjl/">互动交流</a></div>
<div class="wrap"><div class="main-col"><div class="headline"><h1 class="headline-text">{title}</h1>
<div class="byline"><span>{published}</span></div></div>
<div class="story">{paragraphs_p}</div></div>
<aside class="related"><h3>相关新闻</h3><ul>{related}</ul></aside></div>
<div class="site-foot">主办单位:{site} 版权所有 ICP备00000000号</div></body></html>""",
    # No meta tags: a labelled line under the heading, the text in <br> runs.
    """<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{title} - {site}</title></head><body>
<div id="banner"><h2 class="logo">{site}</h2></div>
<div class="crumb">当前位置:首页 &gt; 新闻中心</div>
<div class="article-box"><h3 class="art-heading">{title}</h3>
<div class="art-attr">发布时间：{published}&nbsp;&nbsp;信息来源：{source}&nbsp;&nbsp;浏览次数：<span>12</span></div>
<div class="art-text">{paragraphs_br}</div>
<div class="art-tools"><a href="javascript:window.print()">打印本页</a> <a href="javascript:window.close()">关闭窗口</a></div></div>
<ul class="more">{related}</ul>
<div class="foot">网站标识码0000000000 {site}</div></body></html>""",
    # A table layout; the date stands alone in its cell, the title only in a cell and <title>.
    """<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{site}|{title}</title></head><body><table width="1000"><tr><td class="nav">{related}</td></tr>
<tr><td class="t-title"><font size="5"><b>{title}</b></font></td></tr>
<tr><td class="t-info">{published} 来源:{source}</td></tr>
<tr><td class="t-content">{paragraphs_p}</td></tr>
<tr><td class="t-foot">Copyright {site} 地址:人民路1号</td></tr></table></body></html>""",
)


def redesigned(portal, e) -> Response:
    """The article ``e`` of ``portal`` in a template its spider does not know."""
    import html

    item = portal.expected(e)
    site = {"yingkou": "营口市人民政府", "beipiao": "北票市人民政府", "laishan": "烟台市莱山区人民政府",
            "zhanqian": "营口市站前区人民政府", "jining": "齐鲁网济宁频道"}.get(portal.name, portal.name)
    published = item["published_at"].replace("T", " ").replace("+08:00", "")
    paragraphs = item["body"].split("\n")
    order = ("yingkou", "beipiao", "laishan", "zhanqian", "jining")
    template = _REDESIGNS[(order.index(portal.name) if portal.name in order else 0) % len(_REDESIGNS)]
    related = "".join(f'<li><a href="/news/{i}.html">{html.escape(site)}召开第{i}次工作推进会议</a></li>'
                      for i in range(1, 9))
    charset = "gbk" if portal.name == "yingkou" else "utf-8"
    page = template.format(
        charset=charset, site=html.escape(site), title=html.escape(item["title"]), published=published,
        source=html.escape(item.get("source") or site), related=related,
        paragraphs_p="".join(f"<p>{html.escape(p)}</p>" for p in paragraphs),
        paragraphs_br="<br>\n".join(html.escape(p) for p in paragraphs))
    return Response(200, [("Content-Type", f"text/html; charset={charset}")], page.encode(charset, "xmlcharrefreplace"))


# --- the hook -------------------------------------------------------------------------------------


class Fault:
    """One fault mode on one portal; called by the server as ``hook(portal, method, path)``."""

    def __init__(self, site, portal: str, mode: str, param: str | None = None, every: int = EVERY):
        if mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}; one of {', '.join(MODES)}")
        self.portal, self.mode, self.param = portal, mode, param
        p = site.portals[portal]
        meetings = [e for e in p.entries if e.meeting and not e.seed]
        if mode in ("http404", "redirect_loop"):
            chosen = meetings[1:2] or meetings[:1]
        elif mode == "redesigned":
            chosen = meetings
        else:
            chosen = meetings[::every]
        self.basenames = [e.path.rsplit("/", 1)[-1].encode() for e in meetings]
        if mode == "offsite":
            chosen = []
        self.titles = {e.path: e.title for e in chosen}
        self.order = {e.path: i for i, e in enumerate(chosen)}
        self.paths = {e.path for e in chosen}
        self.portal_obj, self.entries = p, {e.path: e for e in chosen}
        self.affected = [p.url_of(e) for e in chosen]
        self.hits: Counter = Counter()
        self.count = int(param) if param else 2
        self.delay_ms = float(param) if param else 5000.0
        self.size = int(param) if param else 9 * 1024 * 1024
        if mode in WALK_MODES:
            self._setup_walk_fault(site, p, meetings)

    def __repr__(self) -> str:
        return f"Fault({self.portal}={self.mode}{':' + self.param if self.param else ''})"

    def __call__(self, portal: str, method: str, path: str) -> Any:
        mode = self.mode
        if path == "/robots.txt":
            return None
        if mode in WALK_MODES:
            return self.walk_fault(portal, method, path)
        if mode in ("http500", "http503"):
            key = (method, path)
            self.hits[key] += 1
            if self.hits[key] <= self.count:
                status = int(mode[4:])
                text = b"Internal Server Error" if status == 500 else b"Service Unavailable"
                return Response(status, [("Content-Type", "text/html; charset=utf-8")],
                                b"<html><body><h1>" + text + b"</h1></body></html>")
            return None
        if mode in ("empty", "layout_changed", "offsite"):
            if _is_listing(portal, method, path):
                if mode == "offsite":
                    return {"transform": lambda resp: offsite_entry(portal, self.basenames, resp)
                            if resp.status == 200 else resp}
                fn = empty_listing if mode == "empty" else layout_changed
                return {"transform": lambda resp: fn(portal, resp) if resp.status == 200 else resp}
            return None
        if path not in self.paths or method not in ("GET", "HEAD"):
            return None
        self.hits[path] += 1
        if mode == "slow":
            return {"delay_ms": self.delay_ms}
        if mode == "reset":
            return {"reset": True}
        if mode == "truncated":
            return {"transform": lambda resp: resp, "truncate": 0.5}
        if mode == "malformed":
            return {"transform": malformed}
        if mode == "charset":
            return {"transform": wrong_charset}
        if mode == "oversized":
            return {"transform": oversized(self.size)}
        if mode == "redesigned":
            return redesigned(self.portal_obj, self.entries[path])
        if mode == "long_title":
            return {"transform": with_long_title(self.titles[path])}
        if mode == "charset_badbyte":
            return {"transform": charset_badbyte}
        if mode == "offsite_redirect":
            targets = OFFSITE_REDIRECTS if self.param else OFFSITE_REDIRECTS[:-1]
            target = targets[self.order[path] % len(targets)]
            if "{port}" in target and self.hits[path] > 1:
                return None  # the moved article, now asked for on the new port (through the mirror)
            target = target.format(host=site_host(portal), port=self.param, path=path)
            return Response(301, [("Location", target), ("Content-Type", "text/html; charset=utf-8")], b"")
        if mode == "http404":
            from .portal import not_found
            return not_found()
        if mode == "redirect_loop":
            n = self.hits[path]
            return Response(302, [("Location", f"http://{site_host(portal)}{path}?loop={n}"),
                                  ("Content-Type", "text/html; charset=utf-8")], b"")
        return None


# --- listing walk faults (issue 14) -----------------------------------------------------------------

_SECOND_PAGE = {
    "yingkou": "/xxgk/zfhy/index_1.html",
    "beipiao": "/html/BPSZF/zcjd/index_2.html",
    "jining": "/jnyaowen/list_2417_2.shtml",
    "laishan": "/module/web/jpage/dataproxy.jsp",
}
_DATAPROXY = "/module/web/jpage/dataproxy.jsp"
_EPOINT_API = "/EWB-FRONT/rest/lightfrontaction/getgovinfolist"
ENDLESS = 1_000_000_000
CUT_TO = 5
# hrefs no spider may request; each listed under the title of a real meeting
BAD_HREFS = ("javascript:void(0)", "mailto:office@example.gov.cn", "http://{host}:99999{path}", "http://[::1{path}")


def gzip_bomb(size: int) -> Callable[[Response], Response]:
    """The page, then whitespace up to ``size`` bytes, gzip-compressed (~1000:1)."""
    import gzip

    def bomb(resp: Response) -> Response:
        body = resp.body + b" " * max(0, size - len(resp.body))
        headers = [(k, v) for k, v in resp.headers if k.lower() != "content-length"]
        return Response(resp.status, headers + [("Content-Encoding", "gzip")], gzip.compress(body, 6))
    return bomb


def bad_hrefs(portal: str, host: str, basenames: list[bytes], resp: Response) -> Response:
    body = resp.body
    if portal == "zhanqian":
        import json
        doc = json.loads(body)
        data = (doc.get("custom") or {}).get("data") or []
        real = next((d for d in data if d.get("infourl", "").rsplit("/", 1)[-1].encode() in basenames), None)
        if real is not None:
            data[:0] = [{**real, "infourl": 12345}, {**real, "infourl": {"path": real["infourl"]}},
                        {**real, "infourl": "javascript:;"}, {**real, "infourl": "mailto:office@example.gov.cn"}]
        return _with_body(resp, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    pattern = _RECORD if portal == "laishan" else _LI
    for m in pattern.finditer(body):
        chunk = m.group(0)
        href = re.search(rb"""href=(['"])(.*?)\1""", chunk)
        if href and href.group(2).rsplit(b"/", 1)[-1] in basenames:
            path = re.sub(rb"^(?:https?://[^/]+)?\.*", b"", href.group(2)).decode()
            path = path if path.startswith("/") else "/" + path
            copies = b"".join(
                chunk.replace(href.group(0), b"href=" + href.group(1)
                              + bad.format(host=host, path=path).encode() + href.group(1), 1)
                for bad in BAD_HREFS)
            body = body[:m.start()] + copies + body[m.start():]
            break
    # The last page's 下一页: a dead javascript: link instead of none.
    if portal == "beipiao":
        body = body.replace('<span class="page-next disabled">下一页</span>'.encode(),
                            '<a href="javascript:;" class="page-next">下一页</a>'.encode())
    elif portal == "jining" and "下一页".encode() not in body:
        body = body.replace(b'<div class="pages" id="pages">',
                            '<div class="pages" id="pages"><a href="javascript:;" class="a1">下一页</a> '.encode(), 1)
    return _with_body(resp, body)


def endless_total(portal: str, site_portal, resp: Response) -> Response:
    body = resp.body
    if portal == "laishan":
        body = re.sub(rb"totalRecord:\d+", b"totalRecord:%d" % ENDLESS, body)
        body = re.sub(rb"<totalrecord>\d+</totalrecord>", b"<totalrecord>%d</totalrecord>" % ENDLESS, body)
        body = re.sub(rb"<totalpage>\d+</totalpage>", b"<totalpage>%d</totalpage>" % (ENDLESS // 15), body)
        return _with_body(resp, body)
    import json
    doc = json.loads(site_portal.api_page(0, 15))
    doc["custom"]["total"] = ENDLESS
    return _with_body(resp, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def cut_group(resp: Response) -> Response:
    records = list(_RECORD.finditer(resp.body))
    if len(records) <= CUT_TO:
        return resp
    return _with_body(resp, resp.body[:records[CUT_TO].start()] + resp.body[records[-1].end():])


def _not_first_api_page(first_path: str, resp: Response) -> bool:
    import json
    try:
        data = json.loads(resp.body)["custom"]["data"]
    except (ValueError, KeyError, TypeError):
        return False
    return bool(data) and data[0].get("infourl") != first_path


def _setup_walk_fault(self, site, p, meetings) -> None:
    applies = {"bomb": ("yingkou", "beipiao", "jining", "laishan", "zhanqian"),
               "bad_href": ("yingkou", "beipiao", "jining", "laishan", "zhanqian"),
               "endless_total": ("laishan", "zhanqian"), "cut_group": ("laishan",)}[self.mode]
    if self.portal not in applies:
        raise ValueError(f"fault mode {self.mode!r} applies to {', '.join(applies)}, not {self.portal!r}")
    if self.mode != "bomb":
        self.paths, self.affected = set(), []
    self.size = int(self.param) if self.param else 16 * 1024 * 1024
    self.host = p.host
    self.site_portal = p
    self.first_path = p.entries[0].path


def walk_fault(self, portal: str, method: str, path: str) -> Any:
    mode = self.mode
    listing = _is_listing(portal, method, path)

    def when_ok(fn):
        return {"transform": lambda resp: fn(resp) if resp.status == 200 else resp}

    if mode == "bomb":
        if path in self.paths and method == "GET":
            self.hits[path] += 1
            return when_ok(gzip_bomb(self.size))
        if portal == "zhanqian" and path == _EPOINT_API:
            bomb = gzip_bomb(self.size)
            return when_ok(lambda resp: bomb(resp) if _not_first_api_page(self.first_path, resp) else resp)
        if path == _SECOND_PAGE.get(portal):
            return when_ok(gzip_bomb(self.size))
        return None
    if not listing:
        return None
    if mode == "bad_href":
        return when_ok(lambda resp: bad_hrefs(portal, self.host, self.basenames, resp))
    if mode == "endless_total":
        return when_ok(lambda resp: endless_total(portal, self.site_portal, resp))
    if mode == "cut_group" and path == _DATAPROXY:
        return when_ok(cut_group)
    return None


Fault._setup_walk_fault = _setup_walk_fault
Fault.walk_fault = walk_fault


def site_host(portal: str) -> str:
    from .site import PORTAL_CLASSES
    return {c.name: c.host for c in PORTAL_CLASSES}[portal]


def parse_spec(spec: str) -> tuple[str, str, str | None]:
    """``PORTAL=MODE[:param]`` → (portal, mode, param)."""
    portal, sep, rest = spec.partition("=")
    if not sep or not portal or not rest:
        raise ValueError(f"fault spec must be PORTAL=MODE[:param], not {spec!r}")
    mode, _, param = rest.partition(":")
    return portal.strip(), mode.strip(), (param.strip() or None)


def make_fault(site, portal: str, mode: str, param: str | None = None) -> Fault:
    if portal not in site.portals:
        raise ValueError(f"unknown portal {portal!r}; one of {', '.join(site.portals)}")
    if ":" in mode and param is None:
        mode, _, param = mode.partition(":")
    return Fault(site, portal, mode, param or None)


def apply_faults(site, faults: dict[str, str] | list[str] | None) -> dict[str, Fault]:
    """Install faults on a site from ``{"portal": "mode[:param]"}`` or ``["portal=mode[:param]", …]``."""
    out: dict[str, Fault] = {}
    if not faults:
        return out
    if isinstance(faults, dict):
        items = [(portal, *mode.partition(":")[::2]) for portal, mode in faults.items()]
    else:
        items = [parse_spec(spec) for spec in faults]
    for portal, mode, param in items:
        fault = make_fault(site, portal, mode, param or None)
        site.faults[portal] = fault
        out[portal] = fault
    return out
