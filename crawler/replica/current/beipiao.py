"""beipiao (北票市人民政府) on the province platform of Liaoning's counties (``../shared/GENERATIONS.md``).

From the facts: columns list at ``…/glist.html`` under the site's own paths, one
``<li><a href>title</a> … date …</li>`` row per entry; the ``下一页`` link names the next page in
a ``tagname`` attribute where a plain ``href`` is absent; articles print a ``发布时间：`` line and
a ``【字体】`` control; a sibling site's articles sit at ``/<YYYYMMDD><digits>/index.shtml``.

Varied, by page, from a seeded start so that every form appears on a few pages: the ``下一页``
link (plain relative ``href``; ``href="javascript:;"`` with ``tagname``; ``tagname`` and no
``href``), where the row prints its date (after the link in a ``span``, before it, bare text,
in brackets), whether rows carry ``@title`` (then the link text is cut with ``...``); per
article, by seeded choice: its URL shape and the order of 发布时间 and 来源 on its info line.

Invented (``docs/replica.md``): the column path ``/bpszf/zwgk/zcjd/``, ``glist_<n>.html`` for
page n (a GUESS of the facts), 15 rows a page, the article URL ``…/<YYYYMM>/<archive id>.html``
beside the sibling shape, and the whole article page layout (``crawler/cms/glist.py``).
"""

from __future__ import annotations

import re


from ..common import attr, between, esc, truncate, ymd
from ..portal import attachment_response
from . import CurrentSite

COLUMN = "/bpszf/zwgk/zcjd/"
PER_PAGE = 15
NEXT_FORMS = ("href", "javascript", "tagname")
DATE_FORMS = ("after", "before", "bare", "bracket")

_HEAD = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title}</title>
</head>
<body>
<div class="top"><div class="w1200">北票市人民政府 &nbsp; 辽宁省人民政府主办</div></div>
<div class="nav"><ul>
<li><a href="/bpszf/index.html">首页</a></li>
<li><a href="/bpszf/zwgk/glist.html">政务公开</a>
<ul class="sub"><li><a href="/bpszf/zwgk/zcwj/glist.html">政策文件</a></li><li><a href="/bpszf/zwgk/zcjd/glist.html">政策解读</a></li></ul></li>
<li><a href="/bpszf/zwfw/glist.html">政务服务</a></li>
<li><a href="/bpszf/hdjl/glist.html">互动交流</a></li>
</ul></div>
<div class="position">当前位置：<a href="/bpszf/index.html">首页</a> &gt; <a href="/bpszf/zwgk/glist.html">政务公开</a> &gt; <a href="/bpszf/zwgk/zcjd/glist.html">政策解读</a></div>
"""
_FOOT = """<div class="footer"><p>主办单位：北票市人民政府办公室 &nbsp; 网站标识码：2113810001</p>
<p>辽ICP备00000000号</p></div>
</body>
</html>
"""


class BeipiaoCurrent(CurrentSite):
    portal = "beipiao"

    def setup(self) -> None:
        self.npages = max(1, -(-len(self.entries) // PER_PAGE))
        self.offset = self.rng("forms", 0).randrange(12)
        # The seed keeps the body captured from the real page; the platform's template wraps it anew.
        seed = self.archive.seed_bytes.decode("utf-8")
        self.seed_body = between(seed, '<div class="article-content" id="zoom">\n', "\t\t</div>\n\t\t<!--content end-->")

    def path_of(self, e) -> str:
        if self.rng("shape", e.idx).random() < 0.5:
            return f"{COLUMN}{e.when:%Y%m}/{e.uid}.html"
        return f"{COLUMN}{e.when:%Y%m%d}{e.uid[-7:]}/index.shtml"

    def list_urls(self) -> list[str]:
        return [f"http://{self.host}{COLUMN}glist.html"]

    def list_path(self, page: int) -> str:
        return f"{COLUMN}glist.html" if page == 1 else f"{COLUMN}glist_{page}.html"

    # ----- article --------------------------------------------------------------------------
    def adjust_expected(self, item: dict, e) -> dict:
        item["published_at"] = f"{e.when:%Y-%m-%dT%H:%M:%S}+08:00"
        return item

    def body_html(self, e) -> str:
        if e.seed:
            return self.seed_body
        rows = []
        for para in self.archive.article_params(e)["body"].paras:
            if para.style == "attach":
                rows.append(f'<p>附件:<a href="{attr(para.href)}">{esc(para.name)}</a></p>')
            elif para.style == "br":
                rows.append("<p><br/></p>")
            elif para.style.startswith("sig"):
                rows.append(f'<p style="text-align: right;">{esc(para.text)}</p>')
            else:
                rows.append(f'<p style="text-indent: 2em;">{esc(para.text)}</p>')
        return "\n".join(rows) + "\n"

    def render_article(self, e, item: dict | None) -> bytes:
        published = f"<span>发布时间：{e.when:%Y-%m-%d %H:%M:%S}</span>"
        source = "<span>来源：北票市政府</span>"
        first, second = (published, source) if self.rng("info", e.idx).random() < 0.6 else (source, published)
        font = ('<span class="font">【字体：<a href="javascript:setFont(18)">大</a> <a href="javascript:setFont(16)">中</a> '
                '<a href="javascript:setFont(14)">小</a>】</span>')
        html = _HEAD.format(title=f"{esc(e.title)}-北票市人民政府") + f"""<div class="detail">
<h1 class="detail-title">{esc(e.title)}</h1>
<div class="detail-info">{first}&nbsp;&nbsp;{second}&nbsp;&nbsp;{font}</div>
<div class="detail-content" id="detailContent">
{self.body_html(e)}</div>
<div class="detail-tools"><a href="javascript:window.print();">【打印】</a><a href="javascript:window.close();">【关闭】</a></div>
</div>
""" + _FOOT
        return html.encode("utf-8")

    # ----- listing --------------------------------------------------------------------------
    def forms(self, page: int) -> tuple[str, str, bool]:
        """The page's 下一页 form, date placement, and whether rows carry @title."""
        k = page + self.offset
        return NEXT_FORMS[k % len(NEXT_FORMS)], DATE_FORMS[k % len(DATE_FORMS)], k % 2 == 0

    def row(self, e, date_form: str, titled: bool) -> str:
        path = self.path_of(e)
        if titled:
            link = f'<a href="{path}" target="_blank" title="{attr(e.title)}">{esc(truncate(e.title, 24))}</a>'
        else:
            link = f'<a href="{path}" target="_blank">{esc(e.title)}</a>'
        day = ymd(e.when)
        if date_form == "after":
            return f"<li>{link}<span class=\"date\">{day}</span></li>\n"
        if date_form == "before":
            return f"<li><span class=\"date\">{day}</span>{link}</li>\n"
        if date_form == "bare":
            return f"<li>{link}&nbsp;{day}</li>\n"
        return f"<li>{link}<em>[{day}]</em></li>\n"

    def pager(self, page: int, next_form: str) -> str:
        def link(target: int, label: str, title: str | None = None) -> str:
            named = f' title="{title}"' if title else ""
            if next_form == "href":
                href = self.list_path(target).rsplit("/", 1)[1]  # relative, beside this page
                return f'<a href="{href}"{named}>{label}</a>'
            href = ' href="javascript:;"' if next_form == "javascript" else ""
            return f'<a{href}{named} tagname="{self.list_path(target)}">{label}</a>'

        n = self.npages
        parts = [link(1, "首页")]
        parts.append(link(page - 1, "上一页", "上一页") if page > 1 else '<a class="disabled" title="上一页">上一页</a>')
        parts += [f'<span class="current">{k}</span>' if k == page else link(k, str(k))
                  for k in range(max(1, page - 2), min(n, page + 2) + 1)]
        parts.append(link(page + 1, "下一页", "下一页") if page < n else '<a class="disabled" title="下一页">下一页</a>')
        parts.append(link(n, "尾页"))
        parts.append(f"<span>共{n}页</span>")
        return '<div class="page">' + " ".join(parts) + "</div>"

    def render_list(self, page: int) -> bytes:
        next_form, date_form, titled = self.forms(page)
        rows = "".join(self.row(e, date_form, titled) for e in self.entries[(page - 1) * PER_PAGE:page * PER_PAGE])
        html = _HEAD.format(title="政策解读-北票市人民政府") + f"""<div class="list-main">
<div class="list-title">政策解读</div>
<ul class="list-ul">
{rows}</ul>
{self.pager(page, next_form)}
</div>
""" + _FOOT
        return html.encode("utf-8")

    def route(self, method, path, query, body, headers):
        if method not in ("GET", "HEAD"):
            return None
        listing = self.list_page(path, (f"{COLUMN}glist.html",), re.escape(COLUMN) + r"glist_([1-9][0-9]*)\.html")
        if listing is not None:
            return listing
        if path.startswith("/html/BPSZF/upload/"):
            return attachment_response(path)
        return None


SITE = BeipiaoCurrent
