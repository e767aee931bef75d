"""北票市人民政府 (static /html/BPSZF/ pages, index.html = page 1, div.pagination)."""

from __future__ import annotations

import re

from datetime import datetime, timedelta

from ..body import Body, quote_docs
from ..common import Template, attr, between, esc, people, person, read_page, rng_for, truncate, ymd, ymd_cn
from ..portal import Portal, TOPICS, attachment_response, base_expected, cn_number

SEED_TITLE = "北票市九届政府第55次常务会议解读"
PER_PAGE = 15
LIST = "/html/BPSZF/zcjd/"


class Beipiao(Portal):
    name = "beipiao"
    host = "www.bp.gov.cn"
    seed_file = "html/BPSZF/202110/0163399910507492.html"
    seed_title = SEED_TITLE
    seed_pos = 14
    seed_uid = "0163399910507492"
    seed_when = datetime(2021, 10, 12, 8, 38, 25)
    top_when = datetime(2021, 12, 17, 10, 0)
    avg_minutes = 8 * 1440.0
    ratio = 0.2
    meeting_kinds = [("report", 0.9), ("full", 0.1)]
    other_kinds = [("policy", 0.5), ("notice", 0.3), ("tonggao", 0.2)]
    seed_number = 55
    seed_term = 9
    seed_counters = {"report": 55, "full": 5}
    wrap_counters = {"report": 70, "full": 6}
    counter_of = {"report": "report", "full": "full"}
    place = "北票市"

    def setup(self) -> None:
        # Where each entry stands in the listing (its neighbours are the 上一篇/下一篇 links).
        self.position = {e.idx: n for n, e in enumerate(self.entries)}
        art = self.seed_bytes.decode("utf-8")
        body = between(art, '<div class="article-content" id="zoom">\n', "\t\t</div>\n\t\t<!--content end-->")
        prenext = between(art, '<div class="article-prenext">\n', "\t\t</div>\n\t\t<div class=\"article-tools\">")
        self.art_tpl = Template(art, [
            (prenext, "PRENEXT", 1),
            (SEED_TITLE, "TITLE", 3),
            ('<meta name="PubDate" content="2021-10-12">', "PUBDATE", 1),
            ('<span class="info-date">更新日期:2021-10-12</span>', "DATE", 1),
            ('docId: "0163399910507492"', "DOCID", 1),
            (body, "BODY", 1),
        ])
        lst = read_page(self.name, "html/BPSZF/zcjd/index.html").decode("utf-8")
        entries = between(lst, '<ul class="news-list">\n', "\t\t\t</ul>")
        pager = between(lst, '<div class="pagination">\n', "\t\t\t</div>")
        self.list_tpl = Template(lst, [(entries, "ENTRIES", 1), (pager, "PAGER", 1)])
        self.npages = self.pages(len(self.entries), PER_PAGE)

    def make_title(self, e, rng):
        k = e.kind
        if k == "report":
            return f"北票市{cn_number(e.term)}届政府第{e.number}次常务会议解读"
        if k == "full":
            return f"北票市{cn_number(e.term)}届政府第{cn_number(e.number)}次全体会议解读"
        topic = rng.choice(TOPICS)
        if k == "policy":
            return f"《北票市{topic}实施方案》政策解读"
        if k == "notice":
            return f"北票市人民政府办公室关于做好{e.when.year}年度{topic}工作的通知"
        return f"北票市人民政府关于加强{topic}管理的通告"

    def assign_ids(self, entries, pos):
        seen = {self.seed_uid}
        for e in entries:
            if e.seed:
                e.uid = self.seed_uid
            else:
                rng = rng_for(self.seed, self.name, "id", e.idx)
                ms = int((e.when - timedelta(hours=8) - datetime(1970, 1, 1)).total_seconds() * 1000)
                ms += rng.randint(0, 999)
                while True:
                    uid = f"0{ms:013d}{rng.randint(0, 99):02d}"
                    if uid not in seen:
                        break
                seen.add(uid)
                e.uid = uid
            e.path = f"/html/BPSZF/{e.when:%Y%m}/{e.uid}.html"

    def article_params(self, e):
        rng = rng_for(self.seed, self.name, "art", e.idx)
        pub = e.when
        b = Body()
        chair = self.chair_for(pub, "付宗义")
        taken = {chair}
        md = None
        if e.meeting:
            md = pub - timedelta(days=rng.randint(5, 25))
            sign = min(md + timedelta(days=rng.randint(3, 14)), pub)
            if e.kind == "report":
                what = f"市{cn_number(e.term)}届政府第{e.number}次常务会议"
            else:
                what = f"市{cn_number(e.term)}届政府第{cn_number(e.number)}次全体会议"
            first = f"{ymd_cn(md)},市长{chair}主持召开{what}。"
            names = []
            if rng.random() < 0.3:
                names = people(rng, rng.randint(2, 4), taken)
                first += f"副市长{'、'.join(names)}参加会议。"
            b.add(first, (), names, "first")
            docs = self.docs(rng, rng.randint(1, 2))
            b.add(f"一、会议分别听取了{rng.choice(TOPICS)}工作情况,关于{quote_docs(docs)}有关情况的汇报,会议要求:", docs)
            for i in range(rng.randint(2, 5)):
                lead = f"由{person(rng)}同志牵头," if rng.random() < 0.4 else ""
                b.add(f"({cn_number(i + 1)}){lead}{self.filler(rng, lead=False)}")
            b.add("会议还研究了其他事项。")
            b.add("", style="br")
            b.add("北票市人民政府办公室", style="sig1")
            b.add(ymd_cn(sign), style="sig2")
        else:
            for _ in range(rng.randint(2, 4)):
                b.add(self.filler(rng))
        if rng.random() < 0.2:
            ext = rng.choice(["pdf", "docx", "xls"])
            fname = f"{pub:%Y%m%d}{rng.randint(100000, 999999)}.{ext}"
            name = f"{rng.choice(TOPICS)}工作台账.{ext}"
            b.attach(name, f"/html/BPSZF/upload/{fname}", f"http://{self.host}/html/BPSZF/upload/{fname}")
        exp = None
        if e.meeting:
            exp = base_expected(
                self, e, published_at=ymd(pub), meeting_date=ymd(md), doc_type="interpretation",
                meeting_kind="常务会议" if e.kind == "report" else "全体会议", meeting_number=e.number,
                term=e.term, chair=chair, source="北票市政府", category="政策解读",
                breadcrumb=["首页", "政务公开", "政策解读"], body=b.text(), documents=b.documents(),
                attendees=b.attendees(), attachments=b.attachments)
        return {"body": b, "expected": exp}

    def render_article(self, e):
        p = self.article_params(e)
        rows = []
        for para in p["body"].paras:
            if para.style == "first":
                rows.append(f"<p>  {esc(para.text)}&nbsp;</p>")
            elif para.style == "br":
                rows.append("<p><br/></p>")
            elif para.style == "sig1":
                rows.append(f'<p style="text-align: right;">   {esc(para.text)}</p>')
            elif para.style == "sig2":
                rows.append(f'<p style="text-align: right;">  {esc(para.text)}</p>')
            elif para.style == "attach":
                rows.append(f'<p>  附件:<a href="{attr(para.href)}">{esc(para.name)}</a></p>')
            else:
                rows.append(f"<p>  {esc(para.text)}</p>")
        i = self.position[e.idx]
        older = self.entries[i + 1] if i + 1 < len(self.entries) else None
        newer = self.entries[i - 1] if i > 0 else None
        pn = ""
        pn += (f'\t\t\t<p class="prev">上一篇:<a href="{older.path}" title="{attr(older.title)}">{esc(older.title)}</a></p>\n'
               if older else '\t\t\t<p class="prev">上一篇:没有了</p>\n')
        pn += (f'\t\t\t<p class="next">下一篇:<a href="{newer.path}" title="{attr(newer.title)}">{esc(newer.title)}</a></p>\n'
               if newer else '\t\t\t<p class="next">下一篇:没有了</p>\n')
        html = self.art_tpl.render(
            TITLE=esc(e.title), PUBDATE=f'<meta name="PubDate" content="{ymd(e.when)}">',
            DATE=f'<span class="info-date">更新日期:{ymd(e.when)}</span>', DOCID=f'docId: "{e.uid}"',
            BODY="\n".join(rows) + "\n", PRENEXT=pn)
        return html.encode("utf-8")

    def list_url(self, page: int) -> str:
        return f"{LIST}index.html" if page == 1 else f"{LIST}index_{page}.html"

    def render_list(self, page: int) -> bytes:
        rows = []
        for e in self.entries[(page - 1) * PER_PAGE:page * PER_PAGE]:
            rows.append(f'\t\t\t\t<li><a href="{e.path}" target="_blank" title="{attr(e.title)}">'
                        f'{esc(truncate(e.title, 32))}</a><span class="date">{ymd(e.when)}</span></li>\n')
        n = self.npages
        pg = [f'\t\t\t\t<a href="{self.list_url(1)}" class="page-first">首页</a>\n']
        pg.append(f'\t\t\t\t<a href="{self.list_url(page - 1)}" class="page-prev">上一页</a>\n' if page > 1
                  else '\t\t\t\t<span class="page-prev disabled">上一页</span>\n')
        pg.append(f'\t\t\t\t<a href="{self.list_url(page + 1)}" class="page-next">下一页</a>\n' if page < n
                  else '\t\t\t\t<span class="page-next disabled">下一页</span>\n')
        pg.append(f'\t\t\t\t<a href="{self.list_url(n)}" class="page-last">尾页</a>\n')
        pg.append(f'\t\t\t\t<span class="page-info">共{n}页&nbsp;&nbsp;当前第{page}页&nbsp;&nbsp;'
                  f'共{len(self.entries)}条</span>\n')
        return self.list_tpl.render(ENTRIES="".join(rows), PAGER="".join(pg)).encode("utf-8")

    def route(self, method, path, query, body, headers):
        if method not in ("GET", "HEAD"):
            return None
        listing = self.list_page(path, (LIST, LIST + "index.html"), re.escape(LIST) + r"index_([1-9][0-9]*)\.html")
        if listing is not None:
            return listing
        if path.startswith("/html/BPSZF/upload/"):
            return attachment_response(path)
        return None
