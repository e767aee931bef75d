"""Epoint 新点 WebBuilder info-disclosure lists: a JavaScript shell page over a JSON API.

The shell page (``openlist.html?categorynum=…[&deptcode=…]``) holds no entries.  Its scripts
say how the browser fetches them, and everything the crawler sends is read from there, never
assumed: the site's scripts are its inline ones plus, where those do not say everything, the
Epoint site scripts it loads (``/js/webBuilderCommon.js``, ``/js/ajaxReq.js``), each one
follow-up request, in the order the page loads them.  From their text come:

- **the API**: a string literal ending ``/rest/lightfrontaction/getgovinfolist`` with its
  project path (``LIST_URL = "/EWB-FRONT/rest/…"``), or ``NAME + "/rest/…"`` with ``NAME`` (its
  last dotted part: ``siteInfo.projectName``) a string in the scripts, or else the project path
  ``projectName`` followed by the API path;
- **the site**: ``siteGuid`` (36 characters, quoted key or not);
- **the body shape**: the object literal that holds the ``pageIndex`` key is the request's
  parameters.  If it is the value of a ``params`` key, the body is wrapped,
  ``{"token":"","params":{…}}`` (``token`` only where the script sends one); otherwise the keys are
  sent flat.  ``pageIndex`` and ``pageSize`` are sent as strings where the script writes their
  value as a string (a quoted literal, ``String(x)``, ``x.toString()``, ``x + ""``), else as numbers.
  A site whose script builds no such literal gets the wrapped, numeric shape of Epoint's own
  list script;
- **the column**: ``categorynum`` and ``deptcode`` from the shell URL, else the script's
  ``DEFAULT_CATEGORYNUM`` / ``DEPTCODE``; ``PAGE_SIZE`` / ``pageSize`` (default 15).

Pages are ``POST``ed with a 0-based ``pageIndex`` until an empty page or
``(pageIndex + 1) × pageSize ≥ total``.  An entry is ``realtitle`` (``title`` may be cut),
``infourl`` (root-relative or absolute) and ``infodate``.  Only an HTML page on a portal host is
an article: attachments (``.pdf``, ``.htm`` …) are counted as ``listing/skipped/not_article_page``,
links to other hosts as ``listing/skipped/offsite``.  A shell whose scripts name no siteGuid or
no API fails the run's health as ``listing_unrecognised``, naming what was looked for.

Articles come in two shapes: disclosure pages ``/govxxgk/<deptcode>/<YYYY-MM-DD>/<uuid>.html``
(``.ewb-article-tt`` title, ``发布机构：`` … lines in ``ul.ewb-article-list``, body
``.ewb-article-content``) and news pages ``/<3-digit groups>/<YYYYMMDD>/<uuid>.html``
(``.ewb-article-hd`` title, ``来源: 作者: 发布时间:`` lines).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

from scrapy.utils.url import url_is_from_any_domain

from crawler.extract import links

from .base import ArticleSelectors, Entry
from .generation import Generation

# The disclosure article (信息公开): 2023's zhanqian page and today's, which drops the
# `#infoContent .ewb-article-info` wrapper of the body.
DISCLOSURE_ARTICLE = ArticleSelectors(
    title=".ewb-article-tt",
    header=("ul.ewb-article-list > li > p", "div.ewb-article-sources p"),
    body=".ewb-article-content p",
    breadcrumb="div.ewb-location",
    attachments=(".ewb-article-content a", ".ewb-article-attach a"),
)
# The news article (新闻), where yingkou also publishes its 常务会议 reports.
NEWS_ARTICLE = ArticleSelectors(
    title=".ewb-article-hd",
    header=("div.ewb-article-sources",),
    body=".ewb-article-content p",
    breadcrumb="div.ewb-location",
    attachments=(".ewb-article-content a", ".ewb-article-attach a"),
)

_GUID = r"[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}"
_SITE_GUID = re.compile(rf"""(?<![\w$])["']?siteGuid["']?\s*[:=]\s*["']({_GUID})["']""")
_INDEX_KEY = re.compile(r"""(?<![\w$.])["']?pageIndex["']?\s*:\s*""")
_PARAMS_KEY = re.compile(r"""(?<![\w$.])["']?params["']?\s*:\s*$""")
_TOKEN_KEY = re.compile(r"""(?<![\w$.])["']?token["']?\s*:""")
_STRING_EXPR = re.compile(r"""^["']|String\s*\(|\.toString\s*\(|\+\s*(?:""|'')|(?:""|'')\s*\+""")


def _js_string(script: str, name: str) -> str | None:
    """The string literal assigned to ``name`` (``name = "…"``, ``name: "…"``, ``"name": "…"``)."""
    m = re.search(rf"""(?<![\w$.])["']?{re.escape(name)}["']?\s*[:=]\s*["']([^"'\n]*)["']""", script)
    return m.group(1) if m else None


def _js_int(script: str, name: str) -> int | None:
    m = re.search(rf"""(?<![\w$.])["']?{re.escape(name)}["']?\s*[:=]\s*["']?(\d+)""", script)
    return int(m.group(1)) if m else None


def _enclosing_brace(text: str, pos: int) -> int | None:
    depth = 0
    for i in range(pos - 1, -1, -1):
        c = text[i]
        if c == "}":
            depth += 1
        elif c == "{":
            if depth == 0:
                return i
            depth -= 1
    return None


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return len(text)


def _expression(text: str, start: int) -> str:
    """The value expression that starts at ``start``: up to a comma, brace or line end
    outside brackets."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif depth <= 0 and c in ",}\n;":
            return text[start:i].strip()
    return text[start:].strip()


class EpointList(Generation):
    name = "epoint"
    looks_for = ("an Epoint shell page (openlist.html?categorynum=…) whose scripts (inline, "
                 "/js/webBuilderCommon.js or /js/ajaxReq.js) name the list API's project path and the siteGuid")
    articles = (DISCLOSURE_ARTICLE, NEWS_ARTICLE)
    # The Epoint site scripts that may hold the site's parameters (read where the shell loads them).
    site_scripts = ("webBuilderCommon.js", "ajaxReq.js")
    api_path = "/rest/lightfrontaction/getgovinfolist"
    page_size = 15
    # Rendered (`-a render=splash`): the shell page as the browser shows it, entries from the
    # list its script fills, pages by clicking its pager (crawler/runtime/splash.py); no API request.
    render_wait_for = "#infolist li, #infolist-empty:not(.hidden)"
    render_entries = "ul#infolist li"
    render_pager = "#pager"

    # --- recognising the shell ------------------------------------------------------------

    def recognise(self, response) -> bool:
        if response.meta.get("splash"):
            return bool(response.css(self.render_entries))
        inline = self._inline(response)
        if _SITE_GUID.search(inline) and self._api(inline):
            return True
        # A shell that keeps its parameters in the site scripts: it loads one and names a column.
        return bool(self._script_urls(response)) and bool(self._column(response, inline)[0])

    def parameters(self, response) -> dict:
        if response.meta.get("splash"):
            return {"rendered": True}
        inline = self._inline(response)
        category, dept = self._column(response, inline)
        guid, api = _SITE_GUID.search(inline), self._api(inline)
        out = {"categorynum": category, "deptcode": dept}
        if guid and api:
            out.update(siteGuid=guid.group(1), api=api)
        else:
            out["site scripts"] = [urlsplit(u).path for u in self._script_urls(response)]
        return out

    def start(self, spider, response):
        if response.meta.get("splash"):
            return self.rendered(spider, response)
        return self.shell(spider, response)

    @staticmethod
    def _inline(response) -> str:
        return "\n".join(response.xpath("//script[not(@src)]/text()").getall())

    def _script_urls(self, response) -> list[str]:
        out = []
        for src in response.xpath("//script/@src").getall():
            url = links.absolute_url(response.url, src)
            if url and urlsplit(url).path.rsplit("/", 1)[-1] in self.site_scripts and url not in out:
                out.append(url)
        return out

    @staticmethod
    def _column(response, script: str) -> tuple[str | None, str]:
        query = parse_qs(urlsplit(response.url).query)
        category = (query.get("categorynum") or [None])[0] or _js_string(script, "DEFAULT_CATEGORYNUM")
        dept = (query.get("deptcode") or [None])[0] or _js_string(script, "DEPTCODE") or ""
        return category, dept

    # --- reading the site's parameters ---------------------------------------------------

    def _api(self, text: str) -> str | None:
        """The list API's URL as the scripts build it (see the module docstring)."""
        suffix = re.escape(self.api_path)
        for m in re.finditer(rf"""["']([^"'\s]*{suffix})["']""", text):
            literal = m.group(1)
            if literal != self.api_path:
                return literal
            name = re.search(r"([\w$.]+)\s*\+\s*$", text[:m.start()])
            base = name and _js_string(text, name.group(1).rsplit(".", 1)[-1])
            if base:
                return base.rstrip("/") + self.api_path
        project = _js_string(text, "projectName")
        return project.rstrip("/") + self.api_path if project else None

    @staticmethod
    def _shape(text: str) -> dict | None:
        """How the scripts send a page: wrapped or flat, with or without token, and whether
        pageIndex / pageSize go as strings; None when no script builds the parameters."""
        for m in _INDEX_KEY.finditer(text):
            start = _enclosing_brace(text, m.start())
            if start is None:
                continue
            obj = text[start:_closing_brace(text, start) + 1]
            size = re.search(r"""(?<![\w$.])["']?pageSize["']?\s*:\s*""", obj)
            size_expr = _expression(obj, size.end()) if size else ""
            params = _PARAMS_KEY.search(text[:start])
            token = False
            if params:
                outer = _enclosing_brace(text, params.start())
                token = outer is not None and bool(_TOKEN_KEY.search(text[outer:params.start()]))
            return {
                "wrapped": bool(params),
                "token": token,
                "index_str": bool(_STRING_EXPR.search(_expression(text, m.end()))),
                "size_str": bool(_STRING_EXPR.search(size_expr)),
                "size_expr": size_expr,
            }
        return None

    def _page_size(self, text: str, shape: dict | None) -> int:
        expr = (shape or {}).get("size_expr", "")
        literal = re.fullmatch(r"""["']?(\d+)["']?""", expr)
        if literal:
            return int(literal.group(1))
        name = re.match(r"(?:String\s*\(\s*)?([\w$.]+)", expr)
        found = _js_int(text, name.group(1).rsplit(".", 1)[-1]) if name else None
        return found or _js_int(text, "PAGE_SIZE") or self.page_size

    # --- the API --------------------------------------------------------------------------

    def shell(self, spider, response):
        inline = self._inline(response)
        state = {"referer": response.url, "status": response.status, "text": inline,
                 "pending": [], "read": ["inline"]}
        if not (_SITE_GUID.search(inline) and self._api(inline) and self._shape(inline)):
            state["pending"] = self._script_urls(response)
        state["column"] = self._column(response, inline)
        yield from self._next(spider, state)

    def script(self, spider, response):
        """One of the shell's site scripts: add its text, then the next script or the API."""
        state = dict(response.meta["epoint_shell"])
        if response.status == 200 and hasattr(response, "text"):
            state["text"] += "\n" + response.text
        else:
            spider.crawler.stats.inc_value("listing/epoint_script_missing")
            spider.logger.warning("Epoint site script %s: HTTP %s", response.url, response.status)
        yield from self._next(spider, state)

    def _next(self, spider, state):
        if state["pending"]:
            url, *rest = state["pending"]
            yield self.request(spider, url, "script",
                               headers={"Referer": state["referer"]},
                               meta={"epoint_shell": {**state, "pending": rest, "read": state["read"] + [url]},
                                     "handle_httpstatus_all": True},
                               dont_filter=True)
            return
        text = state["text"]
        guid = _SITE_GUID.search(text)
        api = self._api(text)
        category, dept = state["column"]
        missing = [what for what, ok in (
            ("siteGuid", guid), (f"list API (no projectName, no URL ending {self.api_path})", api),
            ("categorynum", category)) if not ok]
        if missing:
            scripts = ", ".join(state["read"])
            spider.listing_unrecognised(
                f"{state['referer']} (HTTP {state['status']}) is an Epoint shell page, but its scripts "
                f"({scripts}) name no {' and no '.join(missing)}; looked for {self.looks_for}")
            return
        shape = self._shape(text) or {"wrapped": True, "token": True, "index_str": False, "size_str": False}
        config = {
            "api": api,
            "deptcode": dept,
            "siteGuid": guid.group(1),
            "categorynum": category,
            "pageSize": self._page_size(text, shape),
            **{k: shape[k] for k in ("wrapped", "token", "index_str", "size_str")},
        }
        spider.logger.info("Epoint shell %s: API %s, %s body, pageIndex as %s", state["referer"], api,
                           "wrapped" if config["wrapped"] else "flat", "string" if config["index_str"] else "number")
        yield self.api_request(spider, state["referer"], config, page=0)

    def api_request(self, spider, referer: str, config: dict, page: int):
        size = config["pageSize"]
        params = {
            "deptcode": config["deptcode"],
            "categorynum": config["categorynum"],
            "pageIndex": str(page) if config.get("index_str") else page,
            "pageSize": str(size) if config.get("size_str") else size,
            "siteGuid": config["siteGuid"],
        }
        if config.get("wrapped", True):
            params = {"token": "", "params": params} if config.get("token", True) else {"params": params}
        body = json.dumps(params, ensure_ascii=False, separators=(",", ":"))
        return self.request(
            spider,
            config["api"],
            "api",
            base=referer,
            method="POST",
            body=body.encode("utf-8"),
            headers={
                "Content-Type": "application/json;charset=UTF-8",
                "X-Requested-With": "XMLHttpRequest",
                "Accept": "application/json, text/javascript, */*; q=0.01",
                "Referer": referer,
            },
            meta={"epoint": {"config": config, "page": page, "referer": referer}},
        )

    def api(self, spider, response):
        state = response.meta["epoint"]
        try:
            custom = json.loads(response.text)["custom"]
            data, total = custom["data"], int(custom["total"])
        except (ValueError, KeyError, TypeError) as exc:
            spider.crawler.stats.inc_value("listing/layout_errors")
            spider.logger.error("Epoint API answer not understood (%s): %s", exc, response.url)
            return
        entries = self.entries(spider, state["referer"], data)
        config, page = state["config"], state["page"]
        more = bool(data) and (page + 1) * config["pageSize"] < total
        yield from spider.follow_page(response, entries, lambda: self.api_request(
            spider, state["referer"], config, page + 1) if more else None)

    def entries(self, spider, referer: str, data: list) -> list[Entry]:
        """The article entries of an API page; attachments and links off the portal counted."""
        stats = spider.crawler.stats
        out = []
        for d in data:
            href = d.get("infourl") if isinstance(d, dict) else d
            url = links.absolute_url(referer, href) if isinstance(d, dict) else None
            if url is None:
                spider._bad_link("article", href, referer)
                continue
            reason = self.not_article(spider, url)
            if reason:
                stats.inc_value(f"listing/skipped/{reason}")
                spider.logger.debug("skipped %s (%s)", url, reason)
                continue
            out.append(Entry(url=url, title=d.get("realtitle") or d.get("title") or "", date=d.get("infodate")))
        return out

    @staticmethod
    def not_article(spider, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "no_url"
        if spider.allowed_domains and not url_is_from_any_domain(url, spider.allowed_domains):
            return "offsite"
        if not parts.path.lower().endswith((".html", ".shtml")):
            return "not_article_page"
        return None

    # --- rendered through Splash ----------------------------------------------------------

    def rendered_listing(self, spider, url: str, page: int):
        """Page ``page`` (1-based, as the pager numbers it) of the rendered shell page ``url``."""
        from crawler.runtime import splash

        meta = {"role": "listing", "generation": self.name, "step": "rendered", "render_page": page,
                "render_url": url}
        return splash.listing_request(spider, url, spider.parse_listing, meta, page=page,
                                      wait_for=self.render_wait_for, pager=self.render_pager)

    def rendered(self, spider, response):
        entries = []
        for li in response.css(self.render_entries):
            a = li.css("a[href]")
            entries.append(Entry(
                url=a.attrib.get("href", ""),
                title=a.attrib.get("title") or "".join(a.css("::text").getall()),
                date=(li.css("span.ewb-info-date::text").get() or "").strip() or None,
            ))
        more = response.css(f"{self.render_pager} a").xpath("self::*[normalize-space()='下一页']")
        page = response.meta.get("render_page", 1)
        yield from spider.follow_page(response, entries, lambda: self.rendered_listing(
            spider, response.meta.get("render_url") or response.url, page + 1) if entries and more else None)
