"""jining (齐鲁网济宁频道) on iqilu's 2020 template (``../shared/GENERATIONS.md``, "iqilu 2020").

From the facts: the channel lists at ``/<channel>/`` then ``list_<catid>_<n>.shtml``, its links
under ``div.mod-list``; article URLs take two shapes, ``/<channel>/<YYYY>/<MMDD>/<id>.shtml``
and ``/<channel>/<YYYYMMDD>/<id>.shtml``, both in use at once; articles print the title in
``div.section-cnt-tit > h1``, the time in ``p.time`` (seconds or not), the source and the author
in the ``span`` of ``p.resource`` / ``p.author``, the body in ``div.article-main``.

Invented (``docs/replica.md``): the meeting channel ``/jnzhengwu/`` and its catid, 20 rows a
page, the row markup (a thumbnail link before the title link on some rows), the pager, which
URL shape each article takes (a seeded choice per entry), the author line and everything
around the article (no location trail).  Articles keep their archive ids.
"""

from __future__ import annotations

import re

from ..common import attr, between, esc, person
from ..portal import attachment_response
from . import CurrentSite

CH = "/jnzhengwu/"
CATID = "11390"
PER_PAGE = 20
_LIST_RE = re.compile(rf"{CH}list_{CATID}_([1-9][0-9]*)\.shtml")

_HEAD = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8" />
<title>{title}</title>
<meta name="keywords" content="济宁,齐鲁网,济宁政务" />
</head>
<body>
<div class="header wrapper clearfix"><a class="logo" href="http://jining.iqilu.com/">齐鲁网·济宁</a>
<ul class="nav clearfix"><li><a href="http://jining.iqilu.com/">首页</a></li><li class="cur"><a href="http://jining.iqilu.com/jnzhengwu/">政务</a></li><li><a href="http://jining.iqilu.com/jnminsheng/">民生</a></li><li><a href="http://jining.iqilu.com/jnxianqu/">县市区</a></li></ul>
</div>
"""
_FOOT = """<div class="footer"><p>想爆料?请登录《阳光连线》( https://minsheng.iqilu.com/)</p>
<p>山东广播电视台 齐鲁网 版权所有</p></div>
</body>
</html>
"""


class JiningCurrent(CurrentSite):
    portal = "jining"

    def setup(self) -> None:
        self.npages = max(1, -(-len(self.entries) // PER_PAGE))
        # The seed keeps the body captured from the real page; the 2020 template wraps it anew.
        seed = self.archive.seed_bytes.decode("utf-8")
        self.seed_body = between(seed, '<div class="context" id="context">\n', "\t\t\t</div>\n\t\t\t<!-- 正文 end -->")

    def path_of(self, e) -> str:
        if self.rng("shape", e.idx).random() < 0.5:
            return f"{CH}{e.when:%Y}/{e.when:%m%d}/{e.uid}.shtml"
        return f"{CH}{e.when:%Y%m%d}/{e.uid}.shtml"

    def list_urls(self) -> list[str]:
        return [f"http://{self.host}{CH}"]

    def list_url(self, page: int) -> str:
        return CH if page == 1 else f"{CH}list_{CATID}_{page}.shtml"

    # ----- article --------------------------------------------------------------------------
    def printed_time(self, e) -> str:
        if e.seed or self.rng("seconds", e.idx).random() < 0.5:
            return f"{e.when:%Y-%m-%d %H:%M:%S}"
        return f"{e.when:%Y-%m-%d %H:%M}"

    def author(self, e) -> str:
        rng = self.rng("author", e.idx)
        return person(rng) if rng.random() < 0.6 else ""

    def adjust_expected(self, item: dict, e) -> dict:
        stamp = self.printed_time(e).replace(" ", "T")
        item.update(published_at=f"{stamp}+08:00", author=self.author(e) or None, breadcrumb=[], category=None)
        return item

    def body_html(self, e) -> str:
        if e.seed:
            return self.seed_body
        rows = []
        for para in self.archive.article_params(e)["body"].paras:
            if para.style == "attach":
                rows.append(f'<p>附件:<a href="{attr(para.href)}">{esc(para.name)}</a></p>')
            else:
                rows.append(f'<p style="text-indent: 2em;">{esc(para.text)}</p>')
        return "\n".join(rows) + "\n"

    def render_article(self, e, item: dict | None) -> bytes:
        html = _HEAD.format(title=f"{esc(e.title)}_济宁政务_齐鲁网") + f"""<div class="section-cnt wrapper clearfix">
<div class="section-cnt-tit clearfix">
<h1>{esc(e.title)}</h1>
<div class="info">
<p class="resource">来源：<span>济宁新闻网</span></p>
<p class="author">作者：<span>{esc(self.author(e))}</span></p>
<p class="time">{self.printed_time(e)}</p>
</div>
<div class="share_baidu">分享到：</div>
</div>
<div class="section-cnt-main">
<div class="article-main">
{self.body_html(e)}</div>
<div class="article-editor">责任编辑：{esc(person(self.rng("editor", e.idx)))}</div>
</div>
</div>
""" + _FOOT
        return html.encode("utf-8")

    # ----- listing --------------------------------------------------------------------------
    def row(self, e) -> str:
        url = f"http://{self.host}{self.path_of(e)}"
        thumb = (f'<a class="pic" href="{url}" target="_blank"><img src="/statics/thumb/{e.uid}.jpg" alt="" /></a>'
                 if self.rng("thumb", e.idx).random() < 0.3 else "")
        return (f'<li class="clearfix">{thumb}<h3><a href="{url}" target="_blank">{esc(e.title)}</a></h3>'
                f'<span class="date">{e.when:%Y-%m-%d %H:%M}</span></li>\n')

    def render_list(self, page: int) -> bytes:
        rows = "".join(self.row(e) for e in self.entries[(page - 1) * PER_PAGE:page * PER_PAGE])
        n = self.npages
        pager = [f'<a href="{self.list_url(1)}">首页</a>']
        if page > 1:
            pager.append(f'<a href="{self.list_url(page - 1)}">上一页</a>')
        for k in range(max(1, page - 3), min(n, page + 3) + 1):
            pager.append(f"<span class=\"cur\">{k}</span>" if k == page else f'<a href="{self.list_url(k)}">{k}</a>')
        if page < n:
            pager.append(f'<a href="{self.list_url(page + 1)}">下一页</a>')
        pager.append(f'<a href="{self.list_url(n)}">尾页</a>')
        newest = "".join(f'<li><a href="http://jining.iqilu.com/jnminsheng/">{esc(t)}</a></li>'
                         for t in ("民生热线", "便民服务", "天气"))
        html = _HEAD.format(title="济宁政务_齐鲁网") + f"""<div class="wrapper clearfix">
<div class="col-main fl">
<div class="mod-tit"><h2>济宁政务</h2></div>
<div class="mod-list">
<ul>
{rows}</ul>
</div>
<div class="page-nav">{" ".join(pager)}</div>
</div>
<div class="col-sub fr"><div class="mod-side"><h3>便民</h3><ul>{newest}</ul></div></div>
</div>
""" + _FOOT
        return html.encode("utf-8")

    def route(self, method, path, query, body, headers):
        if method not in ("GET", "HEAD"):
            return None
        listing = self.list_page(path, (CH, CH + "index.shtml"), _LIST_RE.pattern)
        if listing is not None:
            return listing
        if path.startswith("/uploadfile/"):
            return attachment_response(path)
        return None


SITE = JiningCurrent
