"""营口市站前区人民政府 (Epoint: empty openlist.html shell + POST getgovinfolist JSON API)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from ..body import Body, Para
from ..common import Response, Template, attr, between, esc, people, read_page, rng_for, truncate, ymd
from ..portal import Portal, TOPICS, attachment_response, base_expected, cn_number

SEED_TITLE = "区长黄宇光主持召开第十七届区政府第26次常务会议"
SEED_ID = "5f0c3b7e-2d91-4a8e-b6f4-93c1e7a20d58"
API = "/EWB-FRONT/rest/lightfrontaction/getgovinfolist"
SHELL = "/govxxgk/zqqrmzf/openlist.html"
SITE_GUID = "b3a7e2c4-6f19-4d8b-a0e5-7c2f91d4b836"
CATEGORY = "001003005"
PAR = '                        <p style="text-indent: 2em; line-height: 2em;">'
FS = '<span style="font-family: 仿宋_GB2312, 仿宋; font-size: 16pt;">'
TNR = '<span style="font-family: &quot;Times New Roman&quot;; font-size: 16pt;">'
HEI = '<strong><span style="font-family: 黑体; font-size: 16pt;">'
JSON_TYPE = "application/json;charset=UTF-8"
# The scripts the shell page loads (jQuery, Mustache, the pager), so that a browser (Splash)
# renders the list as on the portal; see crawler/replica/assets/README.md.
SCRIPTS = Path(__file__).resolve().parents[1] / "assets" / "js" / "lib"


class Zhanqian(Portal):
    name = "zhanqian"
    host = "www.ykzq.gov.cn"
    seed_file = f"govxxgk/zqqrmzf/2023-11-27/{SEED_ID}.html"
    seed_title = SEED_TITLE
    seed_pos = 10
    seed_uid = SEED_ID
    seed_when = datetime(2023, 11, 27, 10, 0)
    top_when = datetime(2024, 3, 8, 10, 0)
    avg_minutes = 9 * 1440.0
    ratio = 0.2
    meeting_kinds = [("report", 0.72), ("jiedu", 0.18), ("full", 0.10)]
    other_kinds = [("notice", 0.5), ("policy", 0.3), ("meeting_notice", 0.2)]
    seed_number = 26
    seed_term = 17
    seed_counters = {"report": 26, "full": 5}
    wrap_counters = {"report": 40, "full": 6}
    counter_of = {"report": "report", "full": "full"}
    jiedu_kinds = ("jiedu",)
    place = "站前区"
    html_type = "text/html;charset=UTF-8"

    def setup(self) -> None:
        art = self.seed_bytes.decode("utf-8")
        body = between(art, '<div class="ewb-article-info">\n', "                </div>\n            </div>")
        self.art_tpl = Template(art, [
            (body, "BODY", 1),
            (SEED_TITLE, "TITLE", 3),
            ('<meta name="PubDate" content="2023-11-27">', "PUBDATE", 1),
            ("<p>发布日期：2023-11-27</p>", "D1", 1),
            ("<p>成文日期：2023-11-24</p>", "D2", 1),
            ("<p>发布时间：2023-11-27</p>", "D3", 1),
            ('<div class="ewb-article-attach hidden" id="attach"></div>', "ATTACH", 1),
            (f'<span id="infoid" style="display: none;">{SEED_ID}</span>', "INFOID", 1),
        ])
        self.shell = read_page(self.name, "govxxgk/zqqrmzf/openlist.html")

    def make_title(self, e, rng):
        k = e.kind
        chair = self.chair_for(e.when, "黄宇光")
        if k == "report":
            return f"区长{chair}主持召开第{cn_number(e.term)}届区政府第{e.number}次常务会议"
        if k == "full":
            return f"区长{chair}主持召开第{cn_number(e.term)}届区政府第{cn_number(e.number)}次全体会议"
        if k == "jiedu":
            return f"第{cn_number(e.term)}届区政府第{e.number}次常务会议审议事项解读"
        topic = rng.choice(TOPICS)
        if k == "notice":
            return f"站前区人民政府办公室关于开展{e.when.year}年{topic}专项检查的通知"
        if k == "policy":
            return f"《站前区{topic}实施方案》政策解读"
        return f"站前区人民政府办公室关于召开{e.when.year}年全区{topic}工作会议的通知"

    def assign_ids(self, entries, pos):
        for e in entries:
            if not e.seed:
                rng = rng_for(self.seed, self.name, "uuid", e.idx)
                e.uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            e.path = f"/govxxgk/zqqrmzf/{ymd(e.when)}/{e.uid}.html"

    def article_params(self, e):
        rng = rng_for(self.seed, self.name, "art", e.idx)
        pub = e.when
        b = Body()
        chair = self.chair_for(pub, "黄宇光")
        taken = {chair}
        md = pub
        if e.meeting:
            md = pub - timedelta(days=rng.randint(0, 5))
            docs = self.docs(rng, rng.randint(1, 3))
            qd = "".join(f"《{d}》" for d in docs)
            if e.kind == "full":
                what = f"第{cn_number(e.term)}届区政府第{cn_number(e.number)}次全体会议"
            else:
                what = f"第{cn_number(e.term)}届区政府第{e.number}次常务会议"
            head = f"年{md.month}月{md.day}日,区长{chair}主持召开{what}。"
            if e.kind == "jiedu":
                tail = f"会议审议通过{qd}。现将审议事项解读如下:"
                names = []
            else:
                names = people(rng, rng.randint(2, 5), taken)
                tail = f"会议审议{qd}等议题。{'、'.join(names)}参加会议。"
            p = b.add(f"{md.year}{head}{tail}", docs, names, "first")
            p.href = f"{md.year}\x00{head}\x00{tail}"
            for i, d in enumerate(docs):
                b.add(f"{cn_number(i + 2)}、审议《{d}》", [d], style="strong")
                b.add(f"会议原则通过《{d}》,请相关部门根据会议要求进一步完善后按程序办理。", [d])
                b.add(self.filler(rng))
            if e.kind != "jiedu" and rng.random() < 0.8:
                offs = self.office_names(rng, rng.randint(3, 8), taken)
                b.add(f"列席会议的有:{'、'.join(o + n for o, n in offs)}。", (), [n for _, n in offs], "liexi")
        else:
            for _ in range(rng.randint(2, 4)):
                b.add(self.filler(rng))
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 2)):
                aid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                ext = rng.choice(["pdf", "docx", "xls"])
                name = f"{rng.choice(TOPICS)}工作方案.{ext}"
                href = f"/EWB-FRONT/attach/{aid}.{ext}"
                b.attach(name, href, f"http://{self.host}{href}", in_body=False)
                b.paras.append(Para("", "attachlink", href, name))
        exp = None
        if e.meeting:
            exp = base_expected(
                self, e, published_at=ymd(pub), meeting_date=ymd(md),
                doc_type="interpretation" if e.kind == "jiedu" else "report",
                meeting_kind="全体会议" if e.kind == "full" else "常务会议", meeting_number=e.number, term=e.term,
                chair=chair, source="站前区人民政府办公室", publisher="站前区人民政府办公室", written_date=ymd(md),
                category="政府会议", breadcrumb=["首页", "政务公开", "政府会议"], body=b.text(),
                documents=b.documents(), attendees=b.attendees(), attachments=b.attachments)
        return {"body": b, "written": md, "expected": exp}

    def render_article(self, e):
        p = self.article_params(e)
        rows, links = [], []
        for para in p["body"].paras:
            if para.style == "first":
                year, head, tail = para.href.split("\x00")
                rows.append(f"{PAR}{TNR}{year}</span>{FS}{esc(head)}</span>{FS}{esc(tail)}</span></p>")
            elif para.style == "strong":
                rows.append(f"{PAR}{HEI}{esc(para.text)}</span></strong></p>")
            elif para.style == "liexi":
                label, rest = para.text.split(":", 1)
                rows.append(f"{PAR}{FS}{esc(label)}:</span>{FS}{esc(rest)}</span></p>")
            elif para.style == "attachlink":
                links.append(f'<a href="{attr(para.href)}">{esc(para.name)}</a>')
            else:
                rows.append(f"{PAR}{FS}{esc(para.text)}</span></p>")
        attach = ('<div class="ewb-article-attach" id="attach">' + "".join(links) + "</div>") if links else \
            '<div class="ewb-article-attach hidden" id="attach"></div>'
        d = ymd(e.when)
        html = self.art_tpl.render(
            TITLE=esc(e.title), PUBDATE=f'<meta name="PubDate" content="{d}">', D1=f"<p>发布日期：{d}</p>",
            D2=f"<p>成文日期：{ymd(p['written'])}</p>", D3=f"<p>发布时间：{d}</p>", ATTACH=attach,
            INFOID=f'<span id="infoid" style="display: none;">{e.uid}</span>', BODY="\n".join(rows) + "\n")
        return html.encode("utf-8")

    def api_page(self, index: int, size: int) -> bytes:
        data = [{"infoid": e.uid, "title": truncate(e.title, 30), "realtitle": e.title, "infourl": e.path,
                 "infodate": ymd(e.when), "categorynum": CATEGORY, "categoryname": "政府会议"}
                for e in self.entries[index * size:(index + 1) * size]]
        doc = {"custom": {"data": data, "total": len(self.entries)}, "status": {"code": 200, "text": ""}}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def route(self, method, path, query, body, headers):
        if path == SHELL and method in ("GET", "HEAD"):
            return self.html(self.shell)
        if path == API:
            if method != "POST":
                return Response(405, [("Content-Type", JSON_TYPE), ("Allow", "POST")], b'{"status":{"code":405}}')
            try:
                req = json.loads(body.decode("utf-8"))
                params = req["params"]
                index, size = params["pageIndex"], params["pageSize"]
                ok = (isinstance(index, int) and isinstance(size, int) and index >= 0 and 1 <= size <= 100
                      and params["deptcode"] == "zqqrmzf" and params["siteGuid"] == SITE_GUID
                      and isinstance(params["categorynum"], str))
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                ok = False
            if not ok:
                return Response(400, [("Content-Type", JSON_TYPE)],
                                '{"custom":null,"status":{"code":400,"text":"参数错误"}}'.encode("utf-8"))
            if params["categorynum"] != CATEGORY:
                out = json.dumps({"custom": {"data": [], "total": 0}, "status": {"code": 200, "text": ""}},
                                 separators=(",", ":")).encode()
            else:
                out = self.cache.get(("api", index, size), lambda: self.api_page(index, size))
            return Response(200, [("Content-Type", JSON_TYPE)], out)
        if path.startswith("/EWB-FRONT/attach/") and method in ("GET", "HEAD"):
            return attachment_response(path)
        if path.startswith("/js/lib/") and method in ("GET", "HEAD"):
            name = path[len("/js/lib/"):]
            if "/" not in name and name.endswith(".js") and (SCRIPTS / name).is_file():
                return Response(200, [("Content-Type", "application/javascript;charset=UTF-8")],
                                (SCRIPTS / name).read_bytes())
        return None
