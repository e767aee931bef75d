"""营口市人民政府 (TRS static site, GBK, CRLF, createPageHTML pager)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..body import Body, quote_docs
from ..common import Template, attr, between, esc, md_cn, people, person, read_page, rng_for, truncate, ymd, ymd_cn
from ..portal import Portal, TOPICS, attachment_response, base_expected, cn_number

SEED_TITLE = "余功斌主持召开市政府第73次常务会议审议并原则通过一系列行政法规"
SEED_URL = "http://www.yingkou.gov.cn/xxgk/zfhy/201711/t20171123_1210515.html"
PER_PAGE = 15


class Yingkou(Portal):
    name = "yingkou"
    host = "www.yingkou.gov.cn"
    seed_file = "xxgk/zfhy/201711/t20171123_1210515.html"
    seed_title = SEED_TITLE
    seed_pos = 6
    seed_uid = "1210515"
    seed_when = datetime(2017, 11, 23, 9, 30)
    top_when = datetime(2017, 12, 21, 10, 0)
    avg_minutes = 7 * 1440.0
    ratio = 0.25
    meeting_kinds = [("report", 0.70), ("jiedu", 0.15), ("full", 0.08), ("work", 0.07)]
    other_kinds = [("notice", 0.45), ("decision", 0.2), ("meeting_notice", 0.2), ("catalog", 0.15)]
    seed_number = 73
    seed_term = 16
    seed_counters = {"report": 73, "full": 3}
    wrap_counters = {"report": 80, "full": 4}
    counter_of = {"report": "report", "full": "full"}
    jiedu_kinds = ("jiedu",)
    place = "营口市"
    html_type = "text/html"
    encoding = "gbk"
    uid_rate_per_minute = 275 / 1440

    def setup(self) -> None:
        art = self.seed_bytes.decode("gbk")
        body = between(art, "</style>\r\n", "</div><!--<$[信息内容]>end-->")
        self.art_tpl = Template(art, [
            (SEED_TITLE, "TITLE", 3),
            ('<meta name="PubDate" content="2017-11-23" />', "PUBDATE", 1),
            ('<meta name="ContentSource" content="营口日报" />', "SRCMETA", 1),
            ('<meta name="Author" content="陈涣源" />', "AUTHMETA", 1),
            (SEED_URL, "URL", 1),
            ("来源:营口日报 作者:陈涣源 发布时间:2017年11月23日", "INFO", 1),
            (body, "BODY", 1),
        ])
        lst = read_page(self.name, "xxgk/zfhy/index.html").decode("gbk")
        start = lst.index('\t\t\t\t<li><span class="date">')
        end = lst.index("\t\t\t</ul>", start)
        self.list_tpl = Template(lst, [(lst[start:end], "ENTRIES", 1),
                                       ('createPageHTML(7, 0, "index", "html");', "PAGER", 1)])
        self.npages = self.pages(len(self.entries), PER_PAGE)

    # ----- titles and ids -------------------------------------------------------------------
    def make_title(self, e, rng):
        k = e.kind
        topic = rng.choice(TOPICS)
        if k == "report":
            chair = self.chair_for(e.when, "余功斌")
            if rng.random() < 0.8:
                suffix = rng.choice(["", "", f" 研究部署{topic}工作", f" 研究{topic}等工作"])
                return f"{chair}主持召开市政府第{e.number}次常务会议{suffix}"
            return f"市政府召开第{e.number}次常务会议 部署{topic}工作"
        if k == "jiedu":
            return f"市政府第{e.number}次常务会议审议{rng.choice(['通过', ''])}事项解读"
        if k == "full":
            e.extra["shown"] = rng.random() < 0.6
            if e.extra["shown"]:
                return f"市政府召开{cn_number(e.term)}届第{cn_number(e.number)}次全体会议 部署{topic}等重点工作"
            return f"市政府召开全体(扩大)会议 部署{topic}工作"
        if k == "work":
            return f"市政府召开全市{topic}工作会议"
        if k == "notice":
            return f"营口市人民政府办公室关于做好{topic}工作的通知"
        if k == "decision":
            return f"营口市人民政府关于{topic}有关事项的决定"
        if k == "meeting_notice":
            return f"营口市人民政府办公室关于召开全市{topic}工作电视电话会议的通知"
        return f"营口市人民政府关于公布市级行政职权事项目录({e.when.year}年版)的通知"

    def assign_ids(self, entries, pos):
        for e, uid in zip(entries, self.counter_ids(entries, pos, 1000)):
            e.uid = str(uid)
            e.path = f"/xxgk/zfhy/{e.when:%Y%m}/t{e.when:%Y%m%d}_{uid}.html"

    # ----- article ---------------------------------------------------------------------------
    def article_params(self, e):
        rng = rng_for(self.seed, self.name, "art", e.idx)
        pub = e.when
        b = Body()
        chair = self.chair_for(pub, "余功斌")
        author = person(rng)
        source = "营口日报"
        taken = {chair}
        k = e.kind
        kind_name = {"report": "常务会议", "jiedu": "常务会议", "full": "全体会议", "work": "工作会议"}.get(k)
        number, term = None, None
        md = None
        if e.meeting:
            if k == "jiedu":
                source = "营口市人民政府办公室"
                md = pub - timedelta(days=rng.randint(1, 6))
                lead = ymd_cn(md) + ","
            else:
                r = rng.random()
                if r < 0.5:
                    md = pub - timedelta(days=1)
                    phrase = "昨天下午,"
                else:
                    md = pub - timedelta(days=rng.randint(1, 3))
                    if r < 0.8 and md.year == pub.year:
                        phrase = md_cn(md) + "上午,"
                    else:
                        phrase = ymd_cn(md) + ","
                lead = f"本报讯 记者{author}报道 {phrase}"
            docs = self.docs(rng, rng.randint(1, 4))
            if k == "report":
                number = e.number
                b.add(f"{lead}市长{chair}主持召开市政府第{number}次常务会议,审议并原则通过{quote_docs(docs)}等事项。",
                      docs)
            elif k == "jiedu":
                number = e.number
                b.add(f"{lead}市长{chair}主持召开市政府第{number}次常务会议,审议通过了{quote_docs(docs)}等事项。"
                      "现将有关事项解读如下:", docs)
                for i, d in enumerate(docs):
                    b.add(f"{cn_number(i + 1)}、关于《{d}》", [d])
                    b.add(self.filler(rng, lead=False))
            elif k == "full":
                if e.extra.get("shown"):
                    number, term = e.number, e.term
                    b.add(f"{lead}市政府召开{cn_number(e.term)}届第{cn_number(e.number)}次全体会议,"
                          f"市长{chair}主持会议并讲话,会议传达学习了{quote_docs(docs[:1])}。", docs[:1])
                else:
                    b.add(f"{lead}市政府召开全体(扩大)会议,市长{chair}主持会议并讲话,"
                          f"会议传达学习了{quote_docs(docs[:1])}。", docs[:1])
                docs = docs[:1]
            else:
                chair = person(rng, taken)
                b.add(f"{lead}市政府召开全市{rng.choice(TOPICS)}工作会议,副市长{chair}主持会议并讲话。")
                docs = []
            for _ in range(rng.randint(2, 4)):
                if docs and rng.random() < 0.3:
                    d = rng.choice(docs)
                    b.add(f"会议指出,制定出台《{d}》对于推进相关工作具有重要意义。" + self.filler(rng, lead=False), [d])
                else:
                    b.add(self.filler(rng))
            if k == "report":
                b.add("会议还审议通过了其它事项。")
            if k != "jiedu" and rng.random() < 0.85:
                leaders = people(rng, rng.randint(3, 6), taken)
                if k != "work" and rng.random() < 0.7:
                    leaders[0] = chair
                if rng.random() < 0.7:
                    offs = self.office_names(rng, rng.randint(2, 5), taken, long=True)
                    b.add(f"市领导{'、'.join(leaders)}参加会议,各县区园区和相关部门负责人,"
                          f"{'、'.join(o + n for o, n in offs)}列席会议。", (), leaders + [n for _, n in offs], "people")
                else:
                    b.add(f"市领导{'、'.join(leaders)}参加会议。", (), leaders, "people")
        else:
            for _ in range(rng.randint(2, 4)):
                b.add(self.filler(rng))
        if rng.random() < 0.2:
            ext = rng.choice(["pdf", "docx", "xls"])
            fname = f"P0{pub:%Y%m%d}{rng.randint(100000, 999999)}.{ext}"
            name = f"{rng.choice(TOPICS)}相关材料.{ext}"
            b.attach(name, "./" + fname, f"http://{self.host}/xxgk/zfhy/{pub:%Y%m}/{fname}")
        exp = None
        if e.meeting:
            exp = base_expected(
                self, e, published_at=ymd(pub), meeting_date=ymd(md),
                doc_type="interpretation" if k == "jiedu" else "report", meeting_kind=kind_name,
                meeting_number=number, term=term, chair=chair, source=source, author=author,
                category="政府会议", breadcrumb=["首页", "重点领域信息公开", "政府会议", "正文"],
                body=b.text(), documents=b.documents(), attendees=b.attendees(), attachments=b.attachments)
        return {"body": b, "source": source, "author": author, "expected": exp}

    def render_article(self, e):
        p = self.article_params(e)
        b: Body = p["body"]
        rows = []
        for para in b.paras:
            if para.style == "people":
                rows.append(f"<p>&nbsp;&nbsp; {esc(para.text)}</p>")
            elif para.style == "attach":
                rows.append(f'<p>  附件:<a href="{attr(para.href)}">{esc(para.name)}</a></p>')
            else:
                rows.append(f"<p>  {esc(para.text)}</p>")
        rows.append("<p>&nbsp;&nbsp;&nbsp;</p>")
        pub = e.when
        html = self.art_tpl.render(
            TITLE=esc(e.title), PUBDATE=f'<meta name="PubDate" content="{ymd(pub)}" />',
            SRCMETA=f'<meta name="ContentSource" content="{attr(p["source"])}" />',
            AUTHMETA=f'<meta name="Author" content="{attr(p["author"])}" />', URL=self.url_of(e),
            INFO=f"来源:{esc(p['source'])} 作者:{esc(p['author'])} 发布时间:{ymd_cn(pub)}",
            BODY="\r\n".join(rows))
        return html.encode("gbk")

    # ----- listing ----------------------------------------------------------------------------
    def render_list(self, page: int) -> bytes:
        rows = []
        for e in self.entries[page * PER_PAGE:(page + 1) * PER_PAGE]:
            rel = "." + e.path[len("/xxgk/zfhy"):]
            rows.append(f'\t\t\t\t<li><span class="date">{ymd(e.when)}</span><img src="../../images/dot.gif" '
                        f'width="3" height="3" alt="" /> <a href="{rel}" target="_blank" title="{attr(e.title)}">'
                        f"{esc(truncate(e.title, 34))}</a></li>\r\n")
        html = self.list_tpl.render(ENTRIES="".join(rows),
                                    PAGER=f'createPageHTML({self.npages}, {page}, "index", "html");')
        return html.encode("gbk")

    def route(self, method, path, query, body, headers):
        if method not in ("GET", "HEAD"):
            return None
        page = None
        if path in ("/xxgk/zfhy/", "/xxgk/zfhy/index.html"):
            page = 0
        elif path.startswith("/xxgk/zfhy/index_") and path.endswith(".html"):
            num = path[len("/xxgk/zfhy/index_"):-5]
            if num.isdigit() and not num.startswith("0") and 1 <= int(num) < self.npages:
                page = int(num)
        if page is not None:
            return self.html(self.cache.get(("list", page), lambda: self.render_list(page)))
        if path.startswith("/xxgk/zfhy/") and path.rsplit(".", 1)[-1] in ("pdf", "docx", "xls") and "/P0" in path:
            return attachment_response(path)
        return None
