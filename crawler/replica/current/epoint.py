"""A portal on today's Epoint WebBuilder (``../shared/GENERATIONS.md``, Epoint section).

The shell list page ``/dynamic/zw/openlist.html?categorynum=…[&deptcode=…]`` holds no entries
and no parameters: those sit in the site scripts it loads (``/js/webBuilderCommon.js``'s
``siteInfo``, or ``/js/ajaxReq.js``), and its list script shows how a page is asked for.  The
list API ``POST <project>/rest/lightfrontaction/getgovinfolist`` answers only a request of the
shape that script sends (wrapped or flat, ``pageIndex`` a string or a number, the site's
``siteGuid`` and ``deptcode``): a reader that assumes another shape gets HTTP 400.  Its rows cut
``title`` (``realtitle`` is whole), give ``infourl`` absolute or root-relative, and mix in rows
that are no articles (a PDF, a ``.htm`` topic page, a page on another host), titled like meetings.
Articles are disclosure pages (``/govxxgk/<dept>/<YYYY-MM-DD>/<uuid>.html``) or news pages
(``/<groups>/<YYYYMMDD>/<uuid>.html``), chosen per entry.

A portal module subclasses :class:`EpointSite` and says its facts and inventions
(``docs/replica.md``): project path, siteGuid, deptcode, categorynum, page size, which script
holds the parameters, the request shape, the news share.
"""

from __future__ import annotations

import json
import uuid

from ..common import Response, attr, between, esc, rng_for, truncate, ymd
from ..portal import attachment_response
from . import CurrentSite

JSON_TYPE = "application/json;charset=UTF-8"
JS_TYPE = "application/javascript;charset=UTF-8"
API_PATH = "/rest/lightfrontaction/getgovinfolist"
SHELL_PATH = "/dynamic/zw/openlist.html"
# Columns of the left tree on every shell page: (categorynum suffix, name); the meeting
# column is the portal's own `categorynum`.
OTHER_COLUMNS = (("001", "机构职能"), ("002", "政策文件"), ("004", "规划计划"), ("006", "财政信息"))


class EpointSite(CurrentSite):
    site_name = ""
    project = ""            # the project path the API sits under
    site_guid = ""
    deptcode = ""           # the `deptcode` the API wants ("" on a city's main site)
    disclosure_dept = ""    # /govxxgk/<dept>/ of disclosure articles
    categorynum = ""        # the meeting column (invented)
    column_prefix = ""      # categorynum of the column tree, without the last 3 digits
    news_groups = ""        # /<groups>/ of news articles (invented)
    page_size = 15
    cut = 20                # `title` is cut to this many characters
    news_share = 0.5        # of entries published as news pages
    params_script = "webBuilderCommon.js"   # or "ajaxReq.js"
    publisher = ""          # 发布机构 of a disclosure page whose record names none
    disclosure_crumbs: tuple[str, ...] = ()
    news_crumbs: tuple[str, ...] = ()
    seed_body: tuple[str, str] = ("", "")   # markers of the body in the archive's seed page
    seed_encoding = "utf-8"

    # Chosen in `setup` (per seed where the portal says so).
    wrapped = True
    token = True
    index_str = False

    def choose_variant(self, rng) -> None:
        """Set ``wrapped``, ``token`` and ``index_str`` for this seed."""

    def setup(self) -> None:
        self.choose_variant(rng_for(self.seed, self.portal, "epoint-variant"))
        self._paths: dict[int, str] = {}
        self._shape: dict[int, str] = {}
        for e in self.entries:
            rng = rng_for(self.seed, self.portal, "epoint-page", e.idx)
            self._shape[e.idx] = "news" if rng.random() < self.news_share else "disclosure"
            uid = self.uid_of(e, rng)
            if self._shape[e.idx] == "news":
                self._paths[e.idx] = f"/{self.news_groups}/{e.when:%Y%m%d}/{uid}.html"
            else:
                self._paths[e.idx] = f"/govxxgk/{self.disclosure_dept}/{ymd(e.when)}/{uid}.html"
        self._rows: list[dict] | None = None
        self.pdf_paths: set[str] = set()

    def uid_of(self, e, rng) -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def shape_of(self, e) -> str:
        return self._shape[e.idx]

    def path_of(self, e) -> str:
        return self._paths[e.idx]

    def shell_url(self, categorynum: str | None = None) -> str:
        url = f"http://{self.host}{SHELL_PATH}?categorynum={categorynum or self.categorynum}"
        return url + (f"&deptcode={self.deptcode}" if self.deptcode else "")

    def list_urls(self) -> list[str]:
        return [self.shell_url()]

    # ----- the list API --------------------------------------------------------------------
    def rows(self) -> list[dict]:
        """Every row the meeting column lists, newest first: the entries and, among them,
        rows that are no article pages (PDF, `.htm` topic page, another host's page)."""
        if self._rows is not None:
            return self._rows
        rows = []
        for e in self.entries:
            rng = rng_for(self.seed, self.portal, "epoint-row", e.idx)
            url = self.url_of(e) if rng.random() < 0.4 else self.path_of(e)
            rows.append(self.row(e.uid or self.path_of(e).rsplit("/", 1)[-1][:-5], e.title, url, e.when))
            extra = rng.random()
            if extra < 0.12:
                rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                kind = rng.choice(("pdf", "htm", "offsite"))
                if kind == "pdf":
                    url = f"/uploadfile/{e.when:%Y%m%d}/{rid}.pdf"
                    self.pdf_paths.add(url)
                    title = f"{e.title}(全文)"
                elif kind == "htm":
                    url = f"http://{self.host}/zt/{e.when:%Y}/{rid[:8]}.htm"
                    title = f"{e.title}专题"
                else:
                    url = f"http://www.ln.gov.cn/web/zwgkx/{e.when:%Y%m}/{rid}.html"
                    title = f"{e.title}(转载)"
                rows.append(self.row(rid, title, url, e.when))
        self._rows = rows
        return rows

    def row(self, infoid: str, title: str, url: str, when) -> dict:
        return {"infoid": infoid, "title": truncate(title, self.cut), "realtitle": title, "infourl": url,
                "infodate": ymd(when), "categorynum": self.categorynum, "categoryname": "政府会议"}

    def api_answer(self, params: dict) -> bytes:
        index, size = int(params["pageIndex"]), int(params["pageSize"])
        rows = self.rows() if params["categorynum"] == self.categorynum else []
        doc = {"custom": {"data": rows[index * size:(index + 1) * size], "total": len(rows)},
               "status": {"code": 1, "text": "操作成功"}, "controls": []}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def api_params(self, body: bytes, headers: dict) -> dict | None:
        """The parameters of a list request, or None where it is not the shape the site's
        script sends."""
        if "application/json" not in headers.get("content-type", ""):
            return None
        try:
            req = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(req, dict):
            return None
        if self.wrapped:
            params = req.get("params")
        else:
            params = None if "params" in req else req
        if not isinstance(params, dict):
            return None
        number = str if self.index_str else int
        for key in ("pageIndex", "pageSize"):
            value = params.get(key)
            if type(value) is not number or (number is str and not value.isdigit()):
                return None
        if not (0 <= int(params["pageIndex"]) and 1 <= int(params["pageSize"]) <= 100):
            return None
        if params.get("siteGuid") != self.site_guid or params.get("deptcode", "") != self.deptcode:
            return None
        if not isinstance(params.get("categorynum"), str):
            return None
        return params

    def route(self, method, path, query, body, headers):
        if path == self.project + API_PATH:
            if method != "POST":
                return Response(405, [("Content-Type", JSON_TYPE), ("Allow", "POST")], b'{"status":{"code":0}}')
            params = self.api_params(body, headers)
            if params is None:
                return Response(400, [("Content-Type", JSON_TYPE)],
                                '{"custom":null,"status":{"code":0,"text":"参数错误"}}'.encode("utf-8"))
            key = ("api", params["categorynum"], int(params["pageIndex"]), int(params["pageSize"]))
            return Response(200, [("Content-Type", JSON_TYPE)], self.cache.get(key, lambda: self.api_answer(params)))
        if method not in ("GET", "HEAD"):
            return None
        if path == SHELL_PATH:
            cat = self.archive.qs(query).get("categorynum") or self.categorynum
            return self.html(self.cache.get(("shell", cat), lambda: self.shell(cat)))
        if path == "/js/webBuilderCommon.js":
            return Response(200, [("Content-Type", JS_TYPE)], self.common_js().encode("utf-8"))
        if path == "/js/ajaxReq.js" and self.params_script == "ajaxReq.js":
            return Response(200, [("Content-Type", JS_TYPE)], self.ajax_req_js().encode("utf-8"))
        if path.endswith(".pdf"):
            self.rows()
            if path in self.pdf_paths:
                return attachment_response(path)
        return None

    # ----- scripts and the shell -------------------------------------------------------------
    def common_js(self) -> str:
        if self.params_script == "webBuilderCommon.js":
            info = {"projectName": self.project, "siteGuid": self.site_guid, "siteName": self.site_name}
        else:
            info = {"siteName": self.site_name}
        return (
            "/* WebBuilder common */\n"
            f"var siteInfo = {json.dumps(info, ensure_ascii=False)};\n"
            "function getQueryString(name) {\n"
            "    var reg = new RegExp(\"(^|&)\" + name + \"=([^&]*)(&|$)\", \"i\");\n"
            "    var r = window.location.search.substr(1).match(reg);\n"
            "    return r != null ? decodeURIComponent(r[2]) : null;\n"
            "}\n"
        )

    def ajax_req_js(self) -> str:
        """The site script that holds the parameters and the list request (flat or wrapped)."""
        index = "String(pageIndex)" if self.index_str else "pageIndex"
        size = "String(config.pageSize)" if self.index_str else "config.pageSize"
        fields = (f'"siteGuid": config.siteGuid,\n                "categorynum": categorynum,\n'
                  f'                "deptcode": deptcode || "",\n                "pageIndex": {index},\n'
                  f'                "pageSize": {size}')
        token = 'token: "", ' if self.token else ""
        data = (f'{{{token}"params": {{\n                {fields}\n            }}}}'
                if self.wrapped else f"{{\n                {fields}\n            }}")
        return (
            "var ajaxReq = (function ($) {\n"
            f'    var rootPath = "{self.project}";\n'
            f'    var config = {{"siteGuid": "{self.site_guid}", "pageSize": {self.page_size}}};\n'
            "    function getInfoList(categorynum, deptcode, pageIndex, done) {\n"
            "        $.ajax({\n"
            f'            url: rootPath + "{API_PATH}",\n'
            '            type: "POST",\n'
            '            contentType: "application/json;charset=UTF-8",\n'
            f"            data: JSON.stringify({data}),\n"
            "            success: function (res) { done((res && res.custom) || {}, config.pageSize); }\n"
            "        });\n"
            "    }\n"
            "    return {getInfoList: getInfoList};\n"
            "}(jQuery));\n"
        )

    def list_script(self) -> str:
        """The shell's inline script: the list request itself, or a call into ajaxReq.js."""
        if self.params_script == "ajaxReq.js":
            call = ("        ajaxReq.getInfoList(categorynum, getQueryString(\"deptcode\"), pageIndex, render);\n")
        else:
            index = "String(pageIndex)" if self.index_str else "pageIndex"
            size = "String(PAGE_SIZE)" if self.index_str else "PAGE_SIZE"
            token = 'token: "",\n                ' if self.token else ""
            params = (f"deptcode: getQueryString(\"deptcode\") || \"\",\n                    categorynum: categorynum,\n"
                      f"                    pageIndex: {index},\n                    pageSize: {size},\n"
                      "                    siteGuid: siteInfo.siteGuid")
            data = (f"{{\n                {token}params: {{\n                    {params}\n                }}\n            }}"
                    if self.wrapped else f"{{\n                    {params}\n            }}")
            call = (
                "        $.ajax({\n"
                f'            url: siteInfo.projectName + "{API_PATH}",\n'
                '            type: "POST",\n'
                '            contentType: "application/json;charset=UTF-8",\n'
                f"            data: JSON.stringify({data}),\n"
                "            success: function (res) { render((res && res.custom) || {}, PAGE_SIZE); }\n"
                "        });\n"
            )
        return (
            f"    var PAGE_SIZE = {self.page_size};\n"
            "    var categorynum = getQueryString(\"categorynum\");\n"
            "    function render(custom, size) {\n"
            "        var html = (custom.data || []).map(function (d) {\n"
            "            return '<li><a href=\"' + d.infourl + '\" title=\"' + d.realtitle + '\">' + d.title +\n"
            "                '</a><span class=\"ewb-info-date\">' + d.infodate + '</span></li>';\n"
            "        });\n"
            "        $(\"#infolist\").html(html.join(\"\"));\n"
            "    }\n"
            "    function loadPage(pageIndex) {\n"
            f"{call}"
            "    }\n"
            "    $(function () { loadPage(0); });\n"
        )

    def shell(self, categorynum: str) -> bytes:
        tree = "".join(
            f'<li class="ewb-tree-item"><a href="{attr(self.shell_url(num))}">{esc(name)}</a></li>'
            for num, name in [(self.column_prefix + s, n) for s, n in OTHER_COLUMNS] + [(self.categorynum, "政府会议")])
        scripts = '<script src="/js/lib/jquery.min.js"></script>\n    <script src="/js/webBuilderCommon.js"></script>\n'
        if self.params_script == "ajaxReq.js":
            scripts += '    <script src="/js/ajaxReq.js"></script>\n'
        return (
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n    <meta charset=\"UTF-8\">\n"
            f"    <title>政府信息公开_{esc(self.site_name)}</title>\n    {scripts}</head>\n<body>\n"
            f'<div class="ewb-header"><a href="/">{esc(self.site_name)}</a></div>\n'
            '<div class="ewb-container">\n'
            f'    <ul class="ewb-tree" id="ewb-tree">{tree}</ul>\n'
            '    <div class="ewb-right">\n        <ul class="ewb-info-list" id="infolist"></ul>\n'
            '        <div class="ewb-page" id="pager"></div>\n    </div>\n</div>\n'
            f"<script>\n{self.list_script()}</script>\n</body>\n</html>\n"
        ).encode("utf-8")

    # ----- articles ----------------------------------------------------------------------------
    def body_html(self, e) -> tuple[str, str]:
        """The article body's HTML and the attachment links outside it."""
        if e.seed:
            page = self.archive.seed_bytes.decode(self.seed_encoding)
            return between(page, *self.seed_body), ""
        body = self.archive.article_params(e)["body"]
        urls = {a["name"]: a["url"] for a in body.attachments}
        rows, links = [], []
        for para in body.paras:
            if para.style == "attach":
                rows.append(f'<p>附件:<a href="{attr(urls[para.name])}">{esc(para.name)}</a></p>')
            elif para.style == "attachlink":
                links.append(f'<a href="{attr(urls[para.name])}">{esc(para.name)}</a>')
            else:
                rows.append(f"<p>{esc(para.text)}</p>")
        return "\n".join(rows), "".join(links)

    def crumbs(self, e) -> tuple[str, ...]:
        return self.news_crumbs if self.shape_of(e) == "news" else self.disclosure_crumbs

    def render_article(self, e, item):
        item = item or {"title": e.title, "published_at": ymd(e.when), "source": self.publisher, "author": None,
                        "publisher": self.publisher, "written_date": None}
        body, links = self.body_html(e)
        title = esc(item["title"] if isinstance(item["title"], str) else e.title)
        date = ymd(e.when)
        crumbs = " &gt; ".join(esc(c) for c in self.crumbs(e))
        attach = f'<div class="ewb-article-attach">{links}</div>' if links else ""
        if self.shape_of(e) == "news":
            head = (
                f'        <h2 class="ewb-article-hd">{title}</h2>\n'
                '        <div class="ewb-article-sources">'
                f'<span>来源:{esc(item.get("source") or self.site_name)}</span> '
                f'<span>作者:{esc(item.get("author") or "")}</span> <span>发布时间:{date}</span> '
                '<span>浏览次数:<em id="viewcount"></em></span></div>\n'
            )
        else:
            sources = "".join(f"<p>{label}：{esc(item[key])}</p>"
                              for label, key in (("来源", "source"), ("作者", "author")) if item.get(key))
            head = (
                '        <ul class="ewb-article-list clearfix">\n'
                f'            <li class="ewb-article-item"><p>发布机构：{esc(item.get("publisher") or self.publisher)}</p>'
                f"<p>发布日期：{date}</p></li>\n"
                f'            <li class="ewb-article-item"><p>成文日期：{esc(item.get("written_date") or "")}</p>'
                "<p>发文字号：</p></li>\n"
                '            <li class="ewb-article-item"><p>主题分类：综合政务</p></li>\n'
                "        </ul>\n"
                f'        <h2 class="ewb-article-tt">{title}</h2>\n'
                f'        <div class="ewb-article-sources">{sources}<p class="ewb-article-size">【字号：大 中 小】</p></div>\n'
            )
        return (
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n    <meta charset=\"UTF-8\">\n"
            f"    <title>{title}_{esc(self.site_name)}</title>\n"
            f'    <meta name="ArticleTitle" content="{attr(e.title)}">\n    <meta name="PubDate" content="{date}">\n'
            "</head>\n<body>\n"
            f'<div class="ewb-location">当前位置：{crumbs}</div>\n<div class="ewb-article">\n{head}'
            f'        <div class="ewb-article-content">\n{body}\n        </div>\n        {attach}\n'
            '    <div class="ewb-article-operate"><a href="javascript:window.print();">【打印本页】</a></div>\n'
            "</div>\n</body>\n</html>\n"
        ).encode("utf-8")

    def adjust_expected(self, item, e):
        crumbs = list(self.crumbs(e))
        item.update(breadcrumb=crumbs, category=crumbs[-1])
        if self.shape_of(e) == "news":
            item.update(source=item.get("source") or self.site_name, publisher=None, written_date=None,
                        index_number=None)
        else:
            item.update(publisher=item.get("publisher") or self.publisher, index_number=None)
        return item
