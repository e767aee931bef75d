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
``layout_changed``  listing pages: the entry container is renamed (laishan: records without
                    the ``<record>`` markup; zhanqian: the API JSON without ``custom``)
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
         *("long_title", "charset_badbyte", "offsite_redirect"))
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
_LI = re.compile(rb"<li\b.*?</li>\s*", re.S)
_RECORD = re.compile(rb"<record>.*?</record>\s*", re.S)


def _with_body(resp: Response, body: bytes) -> Response:
    return Response(resp.status, list(resp.headers), body)


def layout_changed(portal: str, resp: Response) -> Response:
    body = resp.body
    if portal in _CONTAINERS:
        old, new = _CONTAINERS[portal]
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
        else:
            chosen = meetings[::every]
        self.basenames = [e.path.rsplit("/", 1)[-1].encode() for e in meetings]
        if mode == "offsite":
            chosen = []
        self.titles = {e.path: e.title for e in chosen}
        self.order = {e.path: i for i, e in enumerate(chosen)}
        self.paths = {e.path for e in chosen}
        self.affected = [p.url_of(e) for e in chosen]
        self.hits: Counter = Counter()
        self.count = int(param) if param else 2
        self.delay_ms = float(param) if param else 5000.0
        self.size = int(param) if param else 9 * 1024 * 1024

    def __repr__(self) -> str:
        return f"Fault({self.portal}={self.mode}{':' + self.param if self.param else ''})"

    def __call__(self, portal: str, method: str, path: str) -> Any:
        mode = self.mode
        if path == "/robots.txt":
            return None
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
