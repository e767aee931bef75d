"""烟台市莱山区人民政府 (Hanweb JCMS: inline datastore + POST dataproxy.jsp)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from ..body import Body
from ..common import Response, Template, attr, between, esc, md_cn, people, read_page, rng_for, truncate, ymd
from ..portal import Portal, TOPICS, attachment_response, base_expected, cn_number

SEED_TITLE = "【常务会议】莱山区政府第八次常务会议"
SEED_URL = "http://www.ytlaishan.gov.cn/art/2022/8/3/art_53951_3077069.html"
PER_PAGE = 15
GROUP = 45
COL = "/col/col53951/index.html"
PROXY = "/module/web/jpage/dataproxy.jsp"
FORM = {"col": "1", "appid": "1", "webid": "147", "path": "/", "columnid": "53951", "sourceContentType": "1",
        "unitid": "244316", "webname": "烟台市莱山区人民政府", "permissiontype": "0"}
P_OPEN = ('<p style="text-align: justify; text-indent: 2em; line-height: 2em; margin-top: 0px; margin-bottom: 0px;">'
          '<span style="font-family: 宋体, SimSun; font-size: 16px;">')
P_CLOSE = "</span></p>"
KIND_NAME = {"report": "常务会议", "full": "全体会议", "lianzheng": "廉政工作会议"}
PREFIX = {"report": "【常务会议】", "full": "【全体会议】", "lianzheng": "【廉政工作会议】"}


class Laishan(Portal):
    name = "laishan"
    host = "www.ytlaishan.gov.cn"
    seed_file = "art/2022/8/3/art_53951_3077069.html"
    seed_title = SEED_TITLE
    seed_pos = 7
    seed_uid = "3077069"
    seed_when = datetime(2022, 8, 3, 16, 42, 37)
    top_when = datetime(2022, 12, 29, 15, 20)
    avg_minutes = 12 * 1440.0
    ratio = 0.22
    meeting_kinds = [("report", 0.85), ("full", 0.08), ("lianzheng", 0.07)]
    other_kinds = [("yiti", 0.5), ("gonggao", 0.15), ("huizong", 0.12), ("mulu", 0.13), ("guize", 0.1)]
    seed_number = 8
    seed_counters = {"report": 8, "full": 2, "lianzheng": 2}
    wrap_counters = {"report": 93, "full": 5, "lianzheng": 5}
    counter_of = {"report": "report", "full": "full", "lianzheng": "lianzheng"}
    place = "莱山区"
    uid_rate_per_minute = 600 / 1440

    def setup(self) -> None:
        art = self.seed_bytes.decode("utf-8")
        body = between(art, '<meta name="ContentStart">', '<meta name="ContentEnd">')
        self.art_tpl = Template(art, [
            (SEED_URL, "URL", None),
            (SEED_TITLE, "TITLE", 3),
            ('<meta name="Keywords" content="常务会议">', "KW", 1),
            ('<meta name="PubDate" content="2022-08-03 16:42">', "PUBDATE", 1),
            ('<meta name="Description" content="8月2日下午,区委副书记、区长蒋海华主持召开区政府常务会议。">', "DESC", 1),
            ("<meta name='Maketime' content='2022-08-03 16:42:37'>", "MAKETIME", 1),
            ("113706130042791846/2022-03924", "INDEX", 1),
            ('<td class="xxgk_td_r">2022-08-03</td>', "WRITTEN", 1),
            ("发布日期: 2022-\n08-\n03 16:\n42", "PUBTIME", 1),
            ("artid=3077069", "ARTID1", 1),
            ("i_articleid=3077069", "ARTID2", 1),
            (body, "BODY", 1),
        ])
        col = read_page(self.name, "col/col53951/index.html").decode("utf-8")
        records = between(col, "<recordset>\n", "</recordset>")
        self.col_tpl = Template(col, [(records, "RECORDS", 1), ("totalRecord:137", "TOTAL", 1)])
        resp = read_page(self.name, "module/web/jpage/dataproxy.jsp.response-1.xml").decode("utf-8")
        self.proxy_head = resp[:resp.index("<recordset>\n") + len("<recordset>\n")]
        self.npages = self.pages(len(self.entries), PER_PAGE)

    def make_title(self, e, rng):
        k = e.kind
        if k in KIND_NAME:
            t = f"莱山区政府第{cn_number(e.number)}次{KIND_NAME[k]}"
            return (PREFIX[k] + t) if e.when.year >= 2021 else t
        if k == "yiti":
            return f"【议题解读】《莱山区{rng.choice(TOPICS)}实施方案》起草说明"
        if k == "gonggao":
            return "关于公民列席区政府常务会议的公告"
        if k == "huizong":
            return f"{e.when.year - 1}年区政府常务会议议题汇总"
        if k == "mulu":
            return f"莱山区人民政府{e.when.year}年度重大行政决策事项目录"
        return "莱山区人民政府工作规则"

    def assign_ids(self, entries, pos):
        for e, uid in zip(entries, self.counter_ids(entries, pos, 1000)):
            e.uid = str(uid)
            e.path = f"/art/{e.when.year}/{e.when.month}/{e.when.day}/art_53951_{uid}.html"
        # 索引号: a per-year sequence, rising with time, unique
        seq: dict[int, int] = {}
        rng = rng_for(self.seed, self.name, "index")
        for e in reversed(entries):
            y = e.when.year
            if e.seed:
                e.extra["index"] = "113706130042791846/2022-03924"
                continue
            n = seq.get(y, rng.randint(1, 200)) + rng.randint(5, 40)
            if y == 2022 and n == 3924:
                n += 1
            seq[y] = n
            e.extra["index"] = f"113706130042791846/{y}-{n:05d}"

    def article_params(self, e):
        rng = rng_for(self.seed, self.name, "art", e.idx)
        pub = e.when
        b = Body()
        chair = self.chair_for(pub, "蒋海华")
        taken = {chair}
        md = None
        if e.meeting:
            md = pub - timedelta(days=rng.randint(0 if pub.hour >= 12 else 1, 3))
            if md.year != pub.year:
                md = pub
            half = "上午" if (md.date() == pub.date() and pub.hour < 12) else rng.choice(["上午", "下午"])
            what = "常务会议" if e.kind == "report" else f"第{cn_number(e.number)}次{KIND_NAME[e.kind]}"
            first = f"{md_cn(md)}{half},区委副书记、区长{chair}主持召开区政府{what}。"
            names = []
            if rng.random() < 0.4:
                names = people(rng, rng.randint(2, 5), taken)
                first += f"区政府领导{'、'.join(names)}参加会议。"
            b.add(first, (), names)
            b.add("一、会议传达学习了习近平总书记重要讲话和重要指示精神", style="strong")
            b.add(self.filler(rng))
            docs = self.docs(rng, rng.randint(1, 3))
            b.add(f"二、会议分别听取了关于{''.join('《' + d + '》' for d in docs)}起草说明的汇报", docs, style="strong")
            b.add("会议原则同意汇报意见,由各牵头单位负责,根据会上所提意见对文件进一步修改完善后,按程序提交区委常委会会议研究。")
            b.add(self.filler(rng))
            b.add("会议对当前重点工作进行了安排部署:")
            for i in range(rng.randint(2, 4)):
                b.add(f"{cn_number(i + 1)}要抓好{rng.choice(TOPICS)}工作。" + self.filler(rng, lead=False))
            b.add("会议强调," + self.filler(rng, lead=False))
        else:
            for _ in range(rng.randint(2, 4)):
                b.add(self.filler(rng))
        if rng.random() < 0.2:
            h = hashlib.md5(f"{self.seed}{e.uid}".encode()).hexdigest()
            name = f"{rng.choice(TOPICS)}实施细则.pdf"
            rel = f"/module/download/downfile.jsp?classid=0&filename={h}.pdf"
            b.attach(name, rel, f"http://{self.host}{rel}")
        exp = None
        if e.meeting:
            exp = base_expected(
                self, e, published_at=f"{pub:%Y-%m-%dT%H:%M}+08:00", meeting_date=ymd(md), doc_type="report",
                meeting_kind=KIND_NAME[e.kind], meeting_number=e.number, term=None, chair=chair,
                source="莱山区政府办", publisher="莱山区政府办", index_number=e.extra["index"],
                written_date=ymd(pub), category="区政府会议",
                breadcrumb=["首页", "政府信息公开", "政务专题", "会议公开", "区政府会议"], body=b.text(),
                documents=b.documents(), attendees=b.attendees(), attachments=b.attachments)
        return {"body": b, "expected": exp}

    def render_article(self, e):
        p = self.article_params(e)
        rows = []
        paras = p["body"].paras
        for para in paras:
            if para.style == "strong":
                rows.append(f"{P_OPEN}<strong>{esc(para.text)}</strong>{P_CLOSE}")
            elif para.style == "attach":
                rows.append(f'{P_OPEN}附件:<a href="{attr(para.href)}">{esc(para.name)}</a>{P_CLOSE}')
            else:
                rows.append(f"{P_OPEN}{esc(para.text)}{P_CLOSE}")
        pub = e.when
        desc = paras[0].text if paras else ""
        kw = KIND_NAME.get(e.kind, "区政府会议")
        html = self.art_tpl.render(
            URL=self.url_of(e), TITLE=esc(e.title), KW=f'<meta name="Keywords" content="{kw}">',
            PUBDATE=f'<meta name="PubDate" content="{pub:%Y-%m-%d %H:%M}">',
            DESC=f'<meta name="Description" content="{attr(desc)}">',
            MAKETIME=f"<meta name='Maketime' content='{pub:%Y-%m-%d %H:%M:%S}'>", INDEX=e.extra["index"],
            WRITTEN=f'<td class="xxgk_td_r">{ymd(pub)}</td>',
            PUBTIME=f"发布日期: {pub:%Y}-\n{pub:%m}-\n{pub:%d} {pub:%H}:\n{pub:%M}",
            ARTID1=f"artid={e.uid}", ARTID2=f"i_articleid={e.uid}", BODY="\n".join(rows))
        return html.encode("utf-8")

    # ----- listing ----------------------------------------------------------------------------
    def records(self, start: int, end: int) -> str:
        out = []
        for e in self.entries[start - 1:end]:
            t = attr(e.title).replace("'", "&#x27;")
            out.append(f"<record><![CDATA[\n<li><a href='{e.path}' title='{t}' target='_blank'>"
                       f"{esc(truncate(e.title, 29) if len(e.title) > 30 else e.title)}</a>"
                       f"<span class='bt_time'>{ymd(e.when)}</span></li>\n]]></record>\n")
        return "".join(out)

    def render_col(self) -> bytes:
        return self.col_tpl.render(RECORDS=self.records(1, GROUP),
                                   TOTAL=f"totalRecord:{len(self.entries)}").encode("utf-8")

    def render_proxy(self, start: int, end: int) -> bytes:
        total = len(self.entries)
        xml = (self.proxy_head + self.records(start, min(end, total)) + "</recordset>\n"
               f"<totalrecord>{total}</totalrecord>\n<totalpage>{self.npages}</totalpage>\n</datastore>\n")
        return xml.encode("utf-8")

    def route(self, method, path, query, body, headers):
        if path == COL and method in ("GET", "HEAD"):
            return self.html(self.cache.get(("col",), self.render_col))
        if path == PROXY:
            if method != "POST":
                return Response(405, [("Content-Type", "text/plain"), ("Allow", "POST")], b"POST only\n")
            q = self.qs(query)
            try:
                start, end, per = int(q["startrecord"]), int(q["endrecord"]), int(q["perpage"])
                form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True,
                                                       strict_parsing=True).items()}
            except (KeyError, ValueError, UnicodeDecodeError):
                return bad_request()
            if start < 1 or end < start or per != PER_PAGE or form != FORM:
                return bad_request()
            return Response(200, [("Content-Type", "text/xml;charset=UTF-8")],
                            self.cache.get(("proxy", start, end), lambda: self.render_proxy(start, end)))
        if path == "/module/download/downfile.jsp" and method in ("GET", "HEAD"):
            fn = self.qs(query).get("filename", "")
            if fn.endswith(".pdf"):
                return attachment_response(fn)
        return None


def bad_request() -> Response:
    return Response(400, [("Content-Type", "text/plain; charset=utf-8")], b"malformed dataproxy request\n")
