"""烟台市莱山区人民政府 today: Hanweb JPAAS, a shell column page over the ``build/unit`` API.

From ``../shared/GENERATIONS.md`` (Hanweb JPAAS): the unit script and its ``queryData``, the API,
its answer and the two pagers, the four row shapes, ``模板内容数据为空``, the article URL shape
``/col/col<N>/art/<YYYY>/art_<32 hex>.html`` beside classic paths in the same list, meta
``PubDate`` beside the visible time, dates split by newlines.  ``webId`` 147 and ``tplSetId``
are the values seen on www.ytlaishan.gov.cn; column 23163 is its (real) notices list.

Invented here (docs/replica.md): the meeting column 23291 (区政府会议) and its sibling 23292
(政府全体会议, where the 全体会议 and 廉政工作会议 accounts live), the list's tagId (one of the
list names seen elsewhere, by seed), the other blocks of the column page, the article ids
(an md5 of the seed and the classic id), which migrated articles kept their classic path, the
article template, and which pages are short.

Varied by seed: ``parseType``'s spelling (and the script attribute spelt otherwise), the
``queryData`` key order, the list's tagId and whether the sidebar's unit comes first, the pager
(``div.pagination`` or ``#autUDB_pagination``), whether the server honours the requested page
size or uses its template's (10, 15, 24, 30, 50), ``<meta name="ColId">``.  Varied by page: the
row shape.  Varied by article: ``发布时间`` or ``发布日期``, the time split by newlines, a meta
``PubDate`` later than the visible time (a republished page).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from ..common import Response, attr, esc, rng_for, truncate, ymd
from ..portal import TOPICS, attachment_response
from . import NEW_SITE_ONLY, CurrentSite

COLUMN, SIBLING, NOTICES = "23291", "23292", "23163"
COLUMN_NAME = {COLUMN: "区政府会议", SIBLING: "政府全体会议"}
WEB_ID, TPL_SET = "147", "F8YZY5tPMIoerzpBFLjno"
API = "/api-gateway/jpaas-publish-server/front/page/build/unit"
UNIT_JS = "/cms_files/default/script/AuthorizedRead/unitbuild.js"
LIST_TAGS = ("当前栏目列表", "分页列表", "栏目信息列表", "ajax分页", "通知list", "内容1")
SIDE_TAG, NAV_TAG = "右侧列表", "头部导航"
SERVER_SIZES = (None, 10, 15, 24, 30, 50)  # None: the requested pageSize
CLASSIC_SHARE = 0.25  # migrated articles that kept their classic path
PHANTOM_SHARE = 0.06  # counted rows the server does not render (short pages)
PUBLISHER = "莱山区政府办"
EMPTY = "模板内容数据为空"


def _row(shape: int, href: str, title: str, date: str) -> str:
    short = esc(truncate(title, 24))
    a = f'<a href="{attr(href)}" title="{attr(title)}" target="_blank">{short}</a>'
    if shape == 0:
        return f"<li>{a}<span>{date}</span></li>"
    if shape == 1:
        return f'<li class="bt-main-r-ul-li">{a}<span>{date}</span></li>'
    if shape == 2:
        return f'<li><span class="bt-prefix">·</span>{a}<span class="bt-data-time">[{date}]</span></li>'
    return f"<li>{a}</li>"


class LaishanJpaas(CurrentSite):
    portal = "laishan"

    def setup(self) -> None:
        rng = rng_for(self.seed, self.name, "jpaas")
        self.parse_type = rng.choice(("bulidstatic", "buildstatic"))
        self.attr_parse_type = rng.choice(("bulidstatic", "buildstatic"))
        self.list_tag = rng.choice(LIST_TAGS)
        self.side_first = rng.random() < 0.5
        self.server_rows = rng.choice(SERVER_SIZES)
        self.pager_style = rng.choice(("pagination", "autUDB"))
        self.colid_meta = rng.random() < 0.5
        self.keys = ["parseType", "webId", "tplSetId", "pageType", "tagId", "editType", "pageId"]
        rng.shuffle(self.keys)
        newest = {e.idx for e in self.entries[:NEW_SITE_ONLY]}
        self.classic = {e.idx for e in self.entries
                        if e.seed or (e.idx not in newest
                                      and rng_for(self.seed, self.name, "jpaas-classic", e.idx).random() < CLASSIC_SHARE)}
        # The list as the server counts it: entries, a row linking the sibling column, and
        # phantom rows (counted, never rendered), newest first.
        slots: list = []
        for i, e in enumerate(self.entries):
            if i == 2:
                slots.append(("column", SIBLING))
            if i and rng.random() < PHANTOM_SHARE:
                slots.append(None)
            slots.append(e)
        self.slots = slots

    # ----- URLs -----------------------------------------------------------------------------
    def column_of(self, e) -> str:
        return SIBLING if e.kind in ("full", "lianzheng") else COLUMN

    def path_of(self, e) -> str:
        if e.idx in self.classic:
            return e.path
        art = hashlib.md5(f"{self.seed}:{e.uid}".encode()).hexdigest()
        return f"/col/col{self.column_of(e)}/art/{e.when.year}/art_{art}.html"

    def column_url(self, column: str = COLUMN) -> str:
        return f"http://{self.host}/col/col{column}/index.html"

    def list_urls(self) -> list[str]:
        return [self.column_url()]

    # ----- the column page and the API --------------------------------------------------------
    def query_data(self, tag: str) -> str:
        values = {"parseType": self.parse_type, "webId": WEB_ID, "tplSetId": TPL_SET, "pageType": "column",
                  "tagId": tag, "editType": "null", "pageId": COLUMN}
        return "{" + ",".join(f"'{k}':'{values[k]}'" for k in self.keys) + "}"

    def unit_script(self, tag: str) -> str:
        return (f'<script src="{UNIT_JS}?v=20260701" webId="{WEB_ID}" parseType="{self.attr_parse_type}" '
                f'url="{API}" queryData="{self.query_data(tag)}"></script>')

    def render_column(self) -> bytes:
        blocks = [f'<div class="main-list">{self.unit_script(self.list_tag)}</div>',
                  f'<div class="side-list"><h3>通知公告</h3>{self.unit_script(SIDE_TAG)}</div>']
        if self.side_first:
            blocks.reverse()
        colid = f'<meta name="ColId" content="{COLUMN}">\n' if self.colid_meta else ""
        html = f"""<!DOCTYPE html>
<html lang="zh-CN"><head>
<meta charset="utf-8">
<title>区政府会议_烟台市莱山区人民政府</title>
<meta name="SiteName" content="烟台市莱山区人民政府">
{colid}<script src="/cms_files/default/script/jquery.min.js"></script>
</head><body>
<div class="header"><div class="logo">烟台市莱山区人民政府</div>{self.unit_script(NAV_TAG)}</div>
<div class="location">当前位置：<a href="/">首页</a> &gt; <a href="/col/col23011/index.html">政务公开</a> &gt; <a href="/col/col23288/index.html">政府会议</a> &gt; <span>区政府会议</span></div>
<div class="container">{''.join(blocks)}</div>
<div class="footer">主办单位：烟台市莱山区人民政府办公室</div>
</body></html>
"""
        return html.encode("utf-8")

    def list_html(self, page: int, size: int) -> str:
        rows = self.server_rows or size
        shape = (page + self.seed) % 4
        out = []
        for slot in self.slots[(page - 1) * rows:page * rows]:
            if slot is None:
                continue
            if isinstance(slot, tuple):
                out.append(_row(shape, f"/col/col{slot[1]}/index.html", COLUMN_NAME[slot[1]], ""))
                continue
            out.append(_row(shape, self.path_of(slot), slot.title, ymd(slot.when)))
        count = len(self.slots)
        if self.pager_style == "pagination":
            pager = f'<div class="pagination" count="{count}" pageNo="{page}" rows="{rows}"></div>'
        else:
            pager = f"""<div id="autUDB_pagination" queryData="{{'rows':'{rows}','count':'{count}','pageNo':'{page}'}}"></div>"""
        return (f'<div id="{self.list_tag}"><div class="page-content"><ul>{"".join(out)}</ul></div>'
                f"{pager}</div>")

    def side_html(self) -> str:
        rng = rng_for(self.seed, self.name, "jpaas-side")
        rows = []
        for i in range(5):
            art = hashlib.md5(f"{self.seed}:side:{i}".encode()).hexdigest()
            title = f"关于做好{rng.choice(TOPICS)}工作的通知"
            rows.append(_row(0, f"/col/col{NOTICES}/art/2026/art_{art}.html", title, f"2026-0{i + 1}-1{i}"))
        return f'<div id="{SIDE_TAG}"><ul>{"".join(rows)}</ul></div>'

    def api(self, query: str, headers: dict) -> Response:
        q = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        # The script's request: XMLHttpRequest from the column page (its path: the same site may be
        # served under other hosts, crawler/replica/extra.py).
        referer = urlsplit(headers.get("referer") or "")
        if headers.get("x-requested-with") != "XMLHttpRequest" or referer.path != urlsplit(self.column_url()).path:
            return Response(403, [("Content-Type", "application/json;charset=UTF-8")],
                            b'{"success":false,"code":"403","message":"forbidden"}')
        known = all(q.get(k) == v for k, v in (("parseType", self.parse_type), ("webId", WEB_ID), ("tplSetId", TPL_SET),
                                               ("pageType", "column"), ("editType", "null"), ("pageId", COLUMN)))
        try:
            param = json.loads(q.get("paramJson") or "{}")
            page, size = int(param.get("pageNo", 1)), int(param.get("pageSize", 15))
        except (ValueError, TypeError, AttributeError):
            return Response(400, [("Content-Type", "application/json;charset=UTF-8")],
                            b'{"success":false,"code":"400","message":"bad paramJson"}')
        tag = q.get("tagId")
        if not known or page < 1 or not 1 <= size <= 100:
            html = EMPTY
        elif tag == self.list_tag:
            html = self.cache.get(("list", page, size), lambda: self.list_html(page, size))
        elif tag == SIDE_TAG:
            html = self.side_html()
        elif tag == NAV_TAG:
            html = '<ul class="nav"><li><a href="/">首页</a></li><li><a href="/col/col23011/index.html">政务公开</a></li></ul>'
        else:
            html = EMPTY
        body = json.dumps({"success": True, "code": "200", "data": {"html": html}}, ensure_ascii=False)
        return Response(200, [("Content-Type", "application/json;charset=UTF-8")], body.encode("utf-8"))

    def route(self, method, path, query, body, headers):
        if method not in ("GET", "HEAD"):
            return None
        if path == f"/col/col{COLUMN}/index.html":
            return self.html(self.cache.get(("col",), self.render_column))
        if path == API:
            return self.api(query, headers)
        if path == UNIT_JS:
            return Response(200, [("Content-Type", "application/javascript")], b"/* unitbuild */\n")
        if path == "/module/download/downfile.jsp":
            name = (parse_qs(query).get("filename") or [""])[0]
            if name.endswith(".pdf"):
                return attachment_response(name)
        return None

    # ----- article pages ----------------------------------------------------------------------
    def render_article(self, e, item: dict | None) -> bytes:
        if e.idx in self.classic:
            # A migrated article at its classic path: the page as the classic site made it.
            return self.archive.page(e)
        rng = rng_for(self.seed, self.name, "jpaas-art", e.idx)
        pub = e.when
        label = rng.choice(("发布时间", "发布日期"))
        shown = f"{pub:%Y-%m-%d %H:%M}"
        if rng.random() < 0.5:
            shown = f"{pub:%Y}-\n{pub:%m}-\n{pub:%d} {pub:%H:%M}"
        meta_pub = pub + timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 9)) if rng.random() < 0.4 else pub
        column = self.column_of(e)
        paras = []
        for para in self.archive.article_params(e)["body"].paras:
            if para.style == "strong":
                paras.append(f"<p><strong>{esc(para.text)}</strong></p>")
            elif para.style == "attach":
                paras.append(f'<p>附件:<a href="{attr(para.href)}">{esc(para.name)}</a></p>')
            else:
                paras.append(f'<p style="text-indent: 2em;">{esc(para.text)}</p>')
        title = esc(e.title)
        html = f"""<!DOCTYPE html>
<html lang="zh-CN"><head>
<meta charset="utf-8">
<title>{title}_烟台市莱山区人民政府</title>
<meta name="ArticleTitle" content="{attr(e.title)}">
<meta name="PubDate" content="{meta_pub:%Y-%m-%d %H:%M}">
<meta name="ContentSource" content="{PUBLISHER}">
<meta name="ColumnName" content="{COLUMN_NAME[column]}">
</head><body>
<div class="header"><div class="logo">烟台市莱山区人民政府</div><ul class="nav"><li><a href="/">首页</a></li><li><a href="/col/col23011/index.html">政务公开</a></li></ul></div>
<div class="location">当前位置：<a href="/">首页</a> &gt; <a href="/col/col23011/index.html">政务公开</a> &gt; <a href="/col/col23288/index.html">政府会议</a> &gt; <a href="/col/col{column}/index.html">{COLUMN_NAME[column]}</a></div>
<table class="xxgk-info">
<tr><td class="label">索引号：</td><td>{e.extra['index']}</td><td class="label">发布机构：</td><td>{PUBLISHER}</td></tr>
<tr><td class="label">成文日期：</td><td>{ymd(pub)}</td><td class="label">主题分类：</td><td>综合政务</td></tr>
</table>
<div class="article">
<h1 class="article-title">{title}</h1>
<div class="article-info"><span class="time">{label}：{shown}</span><span class="source">信息来源：{PUBLISHER}</span><span class="hits">浏览次数：<em id="hits"></em></span></div>
<div id="zoom">
{chr(10).join(paras)}
</div>
<div class="article-tools"><a href="javascript:window.print()">打印本页</a> <a href="javascript:window.close()">关闭窗口</a></div>
</div>
<div class="footer">主办单位：烟台市莱山区人民政府办公室</div>
</body></html>
"""
        return html.encode("utf-8")

    def adjust_expected(self, item: dict, e) -> dict:
        if e.idx in self.classic:
            return item
        name = COLUMN_NAME[self.column_of(e)]
        return {**item, "breadcrumb": ["首页", "政务公开", "政府会议", name], "category": name}


SITE = LaishanJpaas
