"""齐鲁网济宁频道 (static .shtml, /jnyaowen/ + list_2417_<n>.shtml, div#pages) and the mirror host."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from ..body import Body
from ..common import (PORTALS_DIR, Response, Template, attr, between, esc, md_cn, people, person, read_page,
                      rng_for, ymd)
from ..portal import Portal, TOPICS, attachment_response, base_expected, cn_number, not_found, ROBOTS

SEED_TITLE = "济宁市新旧动能转换暨经济开发区创新发展工作会议召开"
PER_PAGE = 20
ORIGIN = "http://jining.iqilu.com"
CH = "/jnyaowen/"
IND = "　　"
COUNTIES = ["泗水县", "微山县", "金乡县", "梁山县", "汶上县", "嘉祥县", "鱼台县"]
CITIES = ["邹城市", "曲阜市", "兖州区", "任城区"]
KIND_NAME = {"work": "工作会议", "report": "常务会议", "full": "全体会议"}


class Jining(Portal):
    name = "jining"
    host = "jining.iqilu.com"
    seed_file = "jnyaowen/2017/0830/3670218.shtml"
    seed_title = SEED_TITLE
    seed_pos = 33
    seed_uid = "3670218"
    seed_when = datetime(2017, 8, 30, 14, 50, 8)
    top_when = datetime(2017, 9, 1, 17, 40, 12)
    avg_minutes = 60.0
    day_mode = False
    ratio = 0.35
    meeting_kinds = [("work", 0.65), ("report", 0.25), ("full", 0.10)]
    other_kinds = [("school", 0.12), ("job", 0.12), ("goodman", 0.08), ("county", 0.25), ("city", 0.15),
                   ("renda", 0.15), ("zhengxie", 0.13)]
    seed_kind = "work"
    place = "济宁市"
    uid_rate_per_minute = 56 / 60

    def setup(self) -> None:
        art = self.seed_bytes.decode("utf-8")
        body = between(art, '<div class="context" id="context">\n', "\t\t\t</div>\n\t\t\t<!-- 正文 end -->")
        desc = re.search(r'<meta name="description" content="[^"]*" />', art).group(0)
        self.art_tpl = Template(art, [
            (body, "BODY", 1), (desc, "DESC", 1), (SEED_TITLE, "TITLE", 2),
            ('<span class="time">2017-08-30 14:50:08</span>', "TIME", 1),
        ])
        lst = read_page(self.name, "jnyaowen/index.shtml").decode("utf-8")
        entries = between(lst, '<ul class="news-list type-a">\n', "\t\t\t</ul>")
        pager = re.search(r'<div class="pages" id="pages">.*?</div>', lst).group(0)
        self.list_tpl = Template(lst, [(entries, "ENTRIES", 1), (pager, "PAGER", 1)])
        self.npages = self.pages(len(self.entries), PER_PAGE)

    def make_title(self, e, rng):
        topic = rng.choice(TOPICS)
        k = e.kind
        if k == "work":
            return rng.choice([f"全市{topic}工作会议召开", f"济宁市召开{topic}工作会议", f"济宁市{topic}工作会议召开"])
        if k == "report":
            return f"市政府召开常务会议 研究部署{topic}等工作"
        if k == "full":
            return f"市政府召开全体会议 部署{topic}等重点工作"
        if k == "school":
            return f"{rng.choice(COUNTIES + CITIES)}中小学迎来秋季开学"
        if k == "job":
            return f"济宁高新区举办{rng.choice(['高校毕业生', '退役军人', '农民工'])}专场招聘会"
        if k == "goodman":
            return f"第{cn_number(rng.randint(1, 4))}季度“济宁好人榜”发布"
        if k == "county":
            return f"{rng.choice(COUNTIES)}：{topic}观摩会召开"
        if k == "city":
            return f"{rng.choice(CITIES)}召开重点工作推进会议"
        if k == "renda":
            return "市人大常委会召开主任会议"
        return "市政协召开主席会议"

    def assign_ids(self, entries, pos):
        for e, uid in zip(entries, self.counter_ids(entries, pos, 100000)):
            e.uid = str(uid)
            e.path = f"{CH}{e.when:%Y}/{e.when:%m%d}/{uid}.shtml"

    def article_params(self, e):
        rng = rng_for(self.seed, self.name, "art", e.idx)
        pub = e.when
        b = Body()
        taken: set = set()
        chair = None
        md = None
        topic = rng.choice(TOPICS)
        if e.meeting:
            md = pub - timedelta(days=rng.choice([0, 1, 1]) if pub.hour >= 12 else 1)
            half = "上午" if md.date() == pub.date() and pub.hour < 12 else rng.choice(["上午", "下午"])
            reporter = person(rng)
            b.add(f"原标题:{rng.choice(['扎实推进', '凝心聚力抓好', '全力以赴做好'])}{topic}工作")
            lead = f"济宁新闻网讯(济宁台 {reporter}) {md_cn(md)}{half},"
            secretary, mayor, deputy = people(rng, 3, taken)
            if e.kind == "work":
                b.add(f"{lead}济宁市{topic}工作会议召开,总结前一阶段工作,安排部署下一步任务。")
                if rng.random() < 0.6:
                    chair, speaker = mayor, secretary
                    b.add(f"市委书记{secretary}出席会议并讲话,市委副书记、市长{mayor}主持,市委副书记{deputy}出席。",
                          (), [secretary, deputy])
                else:
                    chair, speaker = person(rng, taken), secretary
                    b.add(f"副市长{secretary}出席会议并讲话,市政府秘书长{chair}主持。", (), [secretary])
            elif e.kind == "report":
                chair, speaker = mayor, mayor
                b.add(f"{lead}市长{mayor}主持召开市政府常务会议,研究部署{topic}等工作。")
                vice = people(rng, rng.randint(2, 4), taken)
                b.add(f"副市长{'、'.join(vice)}出席会议。", (), vice)
            else:
                chair, speaker = deputy, mayor
                b.add(f"{lead}市政府召开全体会议,部署{topic}等重点工作。")
                b.add(f"市委副书记、市长{mayor}出席会议并讲话,常务副市长{deputy}主持。", (), [mayor])
            docs = self.docs(rng, rng.randint(1, 3))
            b.add(f"{speaker}指出," + self.filler(rng, topic, lead=False))
            b.add(f"{speaker}要求,要以《{docs[0]}》为纲," + self.filler(rng, lead=False), [docs[0]])
            if chair != speaker:
                b.add(f"{chair}在主持会议时要求," + self.filler(rng, lead=False))
            if len(docs) > 1:
                b.add(f"会上,印发了{'和'.join('《' + d + '》' for d in docs[1:])}。", docs[1:])
        else:
            b.add(f"济宁新闻网讯 近日,{e.title.replace('：', ',')}。")
            for _ in range(rng.randint(1, 3)):
                b.add(self.filler(rng, lead=False))
        if rng.random() < 0.15:
            ext = rng.choice(["pdf", "docx", "xls"])
            href = f"{ORIGIN}/uploadfile/{pub:%Y}/{pub:%m%d}/{rng.randint(10**9, 10**10 - 1)}.{ext}"
            b.attach(f"{topic}工作安排.{ext}", href, href)
        exp = None
        if e.meeting:
            exp = base_expected(
                self, e, published_at=f"{pub:%Y-%m-%dT%H:%M:%S}+08:00", meeting_date=ymd(md), doc_type="report",
                meeting_kind=KIND_NAME[e.kind], chair=chair, source="济宁新闻网", category="济宁要闻",
                breadcrumb=["首页", "济宁要闻"], body=b.text(), documents=b.documents(), attendees=b.attendees(),
                attachments=b.attachments)
        return {"body": b, "expected": exp}

    def render_article(self, e):
        p = self.article_params(e)
        paras = p["body"].paras
        rows = []
        for i, para in enumerate(paras):
            ind = "" if (e.meeting and i == 0) else IND
            if para.style == "attach":
                rows.append(f'<p>{ind}附件:<a href="{attr(para.href)}">{esc(para.name)}</a></p>')
            else:
                rows.append(f"<p>{ind}{esc(para.text)}</p>")
        desc = paras[1].text if e.meeting and len(paras) > 1 else paras[0].text
        html = self.art_tpl.render(
            BODY="\n".join(rows) + "\n", DESC=f'<meta name="description" content="{attr(desc[:80])}" />',
            TITLE=esc(e.title), TIME=f'<span class="time">{e.when:%Y-%m-%d %H:%M:%S}</span>')
        return html.encode("utf-8")

    def list_url(self, page: int) -> str:
        return f"{ORIGIN}{CH}" if page == 1 else f"{ORIGIN}{CH}list_2417_{page}.shtml"

    def render_list(self, page: int) -> bytes:
        rows = []
        for e in self.entries[(page - 1) * PER_PAGE:page * PER_PAGE]:
            rows.append(f'\t\t\t\t<li><a href="{ORIGIN}{e.path}" target="_blank" title="{attr(e.title)}">'
                        f'{esc(e.title)}</a><span class="time">{e.when:%Y-%m-%d %H:%M}</span></li>\n')
        n = self.npages
        parts = []
        if page > 1:
            parts.append(f'<a href="{self.list_url(1)}" class="a1">首页</a>')
            parts.append(f'<a href="{self.list_url(page - 1)}" class="a1">上一页</a>')
        start = max(1, page - 5)
        end = min(n, start + 9)
        start = max(1, end - 9)
        for k in range(start, end + 1):
            parts.append(f"<span>{k}</span>" if k == page else f'<a href="{self.list_url(k)}">{k}</a>')
        if page < n:
            parts.append(f'<a href="{self.list_url(page + 1)}" class="a1">下一页</a>')
            parts.append(f'<a href="{self.list_url(n)}" class="a1">尾页</a>')
        pager = '<div class="pages" id="pages">' + " ".join(parts) + "</div>"
        return self.list_tpl.render(ENTRIES="".join(rows), PAGER=pager).encode("utf-8")

    def route(self, method, path, query, body, headers):
        if method not in ("GET", "HEAD"):
            return None
        listing = self.list_page(path, (CH, CH + "index.shtml"), r"/jnyaowen/list_2417_([1-9][0-9]*)\.shtml")
        if listing is not None:
            return listing
        if path.startswith("/uploadfile/"):
            return attachment_response(path)
        return None


class JiningMirror:
    """The third-party mirror: the seed article as it was captured (Traditional characters with
    pinyin), and every other page of the channel as such a mirror makes it from the portal's —
    converted to Traditional, a pinyin syllable after some characters, its page links on the
    mirror."""

    name = "jining-mirror"
    host = "jining.mirror.example"
    path = "/jnyaowen/2017/0830/3670218.shtml"
    # What the captured mirror does to characters (the seed's copy shows these).
    PINYIN = {"區": "qū", "會": "huì", "務": "wù", "濟": "jì", "關": "guān", "發": "fā", "轉": "zhuǎn"}

    def __init__(self, portal: Jining | None = None):
        self.body = (PORTALS_DIR / "jining" / "pages-mirror" / self.path.lstrip("/")).read_bytes()
        self.portal = portal
        self.faults = None

    def mirrored(self, html: bytes) -> bytes:
        if not hasattr(self, "_s2t"):
            import opencc  # built once: its constructor costs milliseconds

            self._s2t = opencc.OpenCC("s2t")
        # Pages are linked on the mirror; files stay linked where the portal keeps them.
        text = self._s2t.convert(html.decode("utf-8")).replace(ORIGIN + CH, f"http://{self.host}{CH}")
        marked = re.compile("[" + "".join(self.PINYIN) + "]")
        return marked.sub(lambda m: f"{m.group(0)}({self.PINYIN[m.group(0)]})", text).encode("utf-8")

    def handle(self, method, path, query, body, headers) -> Response:
        if path == "/robots.txt":
            return Response(200, [("Content-Type", "text/plain")], ROBOTS)
        if path == self.path and method in ("GET", "HEAD"):
            return Response(200, [("Content-Type", "text/html; charset=utf-8")], self.body)
        if self.portal is not None and method in ("GET", "HEAD") and not path.startswith("/uploadfile/"):
            resp = self.portal.handle(method, path, query, body, headers)
            if resp.status == 200:
                return Response(200, [("Content-Type", "text/html; charset=utf-8")], self.mirrored(resp.body))
            return resp
        return not_found()
