"""The portal base class: listing timeline, numbering, ids, routing, expected items."""

from __future__ import annotations

import json
import math
import random
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from .common import (LRU, PORTALS_DIR, Entry, Response, cn_number, people, person, rng_for, timeline,
                     ymd)

ROBOTS = b"User-agent: *\nAllow: /\n"

TOPICS = [
    "城市更新", "老旧小区改造", "营商环境优化", "数字政府建设", "乡村振兴", "冬季清洁取暖", "城市集中供热",
    "安全生产", "森林防火", "防汛抗旱", "食品安全", "生态环境保护", "河长制", "耕地保护", "全民健身",
    "养老服务体系建设", "医疗保障", "就业创业", "招商引资", "重点项目建设", "科技创新", "文化旅游融合发展",
    "农村人居环境整治", "城乡环卫一体化", "公共资源交易", "政务公开", "社会信用体系建设", "交通运输",
    "市场主体培育", "消防安全", "住房保障", "教育事业发展", "退役军人服务保障", "民营经济发展",
    "海绵城市建设", "垃圾分类", "物业管理", "统计", "审计整改", "信访",
]
DOC_FORMS = [
    "{place}{topic}实施方案", "关于加快推进{topic}的实施意见", "{place}{topic}管理办法",
    "{place}{topic}三年行动计划", "{place}{topic}工作方案", "关于进一步加强{topic}工作的意见",
    "{place}{topic}专项规划", "{place}{topic}考核办法(试行)",
]
FILLER_LEAD = ["会议指出,", "会议强调,", "会议要求,"]
FILLER = [
    "{topic}事关经济社会发展大局,各地区、各部门要切实提高思想认识,压实工作责任,细化工作措施,确保各项任务落地见效。",
    "要坚持问题导向,全面梳理{topic}工作中存在的短板弱项,建立问题清单、任务清单、责任清单,逐项推动解决。",
    "各牵头部门要发挥好统筹作用,各参与部门要各司其职、密切配合,形成推进{topic}工作的强大合力。",
    "要加大宣传力度,通过多种形式宣传{topic}相关政策,营造全社会共同关心、支持和参与的良好氛围。",
    "要强化督导检查,对{topic}重点任务实行清单化管理、项目化推进,定期调度、及时通报,确保按时完成目标任务。",
    "要坚持以人民为中心的发展思想,把{topic}工作与保障和改善民生紧密结合起来,切实增强群众的获得感和幸福感。",
    "要守牢安全底线,全面排查{topic}领域风险隐患,完善应急预案,确保不发生重大问题。",
    "要创新工作思路,完善推进机制,把{topic}工作纳入年度目标考核,以考核促落实、以落实见成效。",
]
OFFICES = [
    "宣传部", "组织部", "政法委", "统战部", "发改局", "工信局", "财政局", "人社局", "自然资源局", "住建局",
    "交通局", "农业农村局", "商务局", "卫健局", "应急局", "司法局", "统计局", "审计局", "信访局", "营商局",
    "市场监管局", "生态环境局", "教育局", "民政局", "政府办", "大数据中心", "政务服务中心", "发改委",
    "编委", "区委办", "文旅局", "城管局", "公安分局", "税务局", "医保局", "退役军人事务局",
]
OFFICES_LONG = [
    "市委政法委常务副书记", "市委组织部部务委员", "市中级法院副院长", "市发改委主任", "市财政局局长",
    "市住建局副局长", "市委宣传部副部长", "市信息中心主任", "市自然资源局副局长", "市营商局局长",
    "营口港务集团总工程师", "市工信局局长", "市政府研究室主任", "市委编办主任", "市应急局副局长",
]


class PageServer:
    """What every served site answers the same way: robots.txt, its article pages by path
    (``by_path``, ``page(e)``), then whatever its own ``route`` knows; else 404."""

    html_type = "text/html; charset=utf-8"

    def html(self, body: bytes, status: int = 200) -> Response:
        return Response(status, [("Content-Type", self.html_type)], body)

    def handle(self, method: str, path: str, query: str, body: bytes, headers: dict) -> Response:
        if path == "/robots.txt":
            return Response(200, [("Content-Type", "text/plain")], ROBOTS)
        if method in ("GET", "HEAD"):
            e = self.by_path.get(path)
            if e is not None:
                return self.html(self.page(e))
        return self.route(method, path, query, body, headers) or not_found()

    def list_page(self, path: str, first: tuple[str, ...], later: str) -> Response | None:
        """A static listing page: page 1 at the ``first`` paths, page N (2 … ``npages``) at the
        path ``later`` matches with N as its group, rendered once (``render_list``); else None."""
        page = 1 if path in first else None
        m = None if page else re.fullmatch(later, path)
        if m and 2 <= int(m.group(1)) <= self.npages:
            page = int(m.group(1))
        if page is None:
            return None
        return self.html(self.cache.get(("list", page), lambda: self.render_list(page)))


class Portal(PageServer):
    name = ""
    host = ""
    seed_file = ""                 # path of the seed article under pages/
    seed_pos = 0                   # index of the seed in the listing (newest first)
    seed_uid = ""
    seed_when = datetime(2000, 1, 1)
    top_when = datetime(2000, 1, 1)
    avg_minutes = 7 * 1440.0
    day_mode = True
    ratio = 0.25                   # non-meeting entries per meeting entry
    meeting_kinds: list[tuple[str, float]] = []
    other_kinds: list[tuple[str, float]] = []
    seed_kind = "report"
    seed_number: int | None = None
    seed_term: int | None = None
    seed_counters: dict[str, int] = {}
    wrap_counters: dict[str, int] = {}
    counter_of: dict[str, str] = {}   # kind -> counter name for numbered kinds
    jiedu_kinds: tuple[str, ...] = ()
    place = ""
    encoding = "utf-8"
    uid_rate_per_minute = 0.0       # for counter ids

    generation = "archive"

    def __init__(self, articles: int = 60, seed: int = 1, new_site_only: int = 0):
        self.articles = max(1, int(articles))
        self.seed = seed
        self.cache = LRU(1024)
        self.rendered: dict[int, bytes] | None = None  # every article page, after prerender()
        self.seed_bytes = (PORTALS_DIR / self.name / "pages" / self.seed_file).read_bytes()
        # Every entry of the portal's history, newest first; the archive generation lists all but
        # the `new_site_only` newest (published after the portal moved to its current generation,
        # which lists them all: crawler/replica/current/).
        self.all_entries = self._build()
        self.entries = self.all_entries[min(new_site_only, self.seed_pos):]
        self.by_path = {e.path: e for e in self.entries}
        self.faults: Any = None
        self.setup()

    # ----- hooks for subclasses -------------------------------------------------------------
    def setup(self) -> None:
        pass

    def make_title(self, e: Entry, rng: random.Random) -> str:
        raise NotImplementedError

    def assign_ids(self, entries: list[Entry], pos: int) -> None:
        raise NotImplementedError

    def route(self, method: str, path: str, query: str, body: bytes, headers: dict) -> Response | None:
        raise NotImplementedError

    def article_params(self, e: Entry) -> dict:
        raise NotImplementedError

    def render_article(self, e: Entry) -> bytes:
        raise NotImplementedError

    def expected_seed(self) -> dict:
        folder = PORTALS_DIR / self.name / "expected"
        stem = self.seed_file.rsplit("/", 1)[1].rsplit(".", 1)[0]
        return json.loads((folder / f"{stem}.json").read_text("utf-8"))

    # ----- timeline ---------------------------------------------------------------------------
    def _pick(self, rng: random.Random, table: list[tuple[str, float]]) -> str:
        return rng.choices([k for k, _ in table], [w for _, w in table])[0]

    def _build(self) -> list[Entry]:
        rng = rng_for(self.seed, self.name, "timeline")
        n_meet = self.articles
        n_other = round(n_meet * self.ratio)
        total = n_meet + n_other
        pos = min(self.seed_pos, total - 1)
        flags: list = [True] * (n_meet - 1) + [False] * n_other
        rng.shuffle(flags)
        flags.insert(pos, "seed")
        avg = min(self.avg_minutes, 15 * 365 * 1440 / total)
        times = timeline(rng, total, pos, self.seed_when, self.top_when, avg, self.day_mode)
        entries = []
        for i, (flag, when) in enumerate(zip(flags, times)):
            if flag == "seed":
                e = Entry(i, True, self.seed_kind, "", when, seed=True, number=self.seed_number, uid=self.seed_uid,
                          term=self.seed_term)
            else:
                erng = rng_for(self.seed, self.name, "kind", i)
                kind = self._pick(erng, self.meeting_kinds if flag else self.other_kinds)
                e = Entry(i, bool(flag), kind, "", when)
            entries.append(e)
        self._number(entries, pos)
        seen: set = set()
        for e in entries:
            if e.seed:
                e.title = self.seed_title
            else:
                erng = rng_for(self.seed, self.name, "title", e.idx)
                for _ in range(30):
                    e.title = self.make_title(e, erng)
                    if not e.meeting or (ymd(e.when), e.title) not in seen:
                        break
            seen.add((ymd(e.when), e.title))
        self.assign_ids(entries, pos)
        return entries

    def _number(self, entries: list[Entry], pos: int) -> None:
        # newer side: counters rise from the seed's
        c = dict(self.seed_counters)
        for e in reversed(entries[:pos]):
            key = self.counter_of.get(e.kind)
            e.term = self.seed_term
            if key:
                c[key] += 1
                e.number = c[key]
        c = dict(self.seed_counters)
        term = self.seed_term
        wrap = dict(self.wrap_counters)
        if term and wrap:
            # keep terms >= 1 however many articles are asked for
            k = max(1, math.ceil(self.articles / ((term - 1) * wrap["report"] * 0.8)))
            wrap = {key: v * k for key, v in wrap.items()}
        for e in entries[pos + 1:]:
            key = self.counter_of.get(e.kind)
            if key and key != "report" and c[key] <= 1:
                e.kind, key = "report", "report"
            if key:
                c[key] -= 1
                if c[key] < 1:
                    term = (term - 1) if term else term
                    c = dict(wrap)
                e.number = c[key]
            e.term = term
        # An interpretation explains the nearest older report that no other interpretation
        # explains: two interpretations of one report would be one meeting's article twice
        # (same title; on the same day, the store keeps one of them as a duplicate).
        unexplained: list = []
        nxt_num, nxt_term = None, None
        for e in reversed(entries):
            if e.kind == "report":
                nxt_num, nxt_term = e.number, e.term
                unexplained.append((e.number, e.term))
            elif e.kind in self.jiedu_kinds:
                num, term = unexplained.pop() if unexplained else (nxt_num, nxt_term)
                e.number = num if num is not None else max(1, (self.wrap_counters.get("report", 2)))
                if term is not None:
                    e.term = term

    def counter_ids(self, entries: list[Entry], pos: int, minimum: int) -> list[int]:
        """Site-wide counters (docid/artid/id): rise with time, strictly monotonic."""
        seed_uid = int(self.seed_uid)
        span = max(1.0, (self.seed_when - entries[-1].when).total_seconds() / 60)
        rate_old = min(self.uid_rate_per_minute, (seed_uid - minimum) / span)
        rng = rng_for(self.seed, self.name, "ids")
        ids = [0] * len(entries)
        ids[pos] = seed_uid
        for i in range(pos - 1, -1, -1):
            mins = (entries[i].when - entries[i + 1].when).total_seconds() / 60
            ids[i] = ids[i + 1] + max(1, round(mins * self.uid_rate_per_minute * rng.uniform(0.8, 1.2)))
        for i in range(pos + 1, len(entries)):
            mins = (entries[i - 1].when - entries[i].when).total_seconds() / 60
            ids[i] = ids[i - 1] - max(1, round(mins * rate_old * rng.uniform(0.8, 1.0)))
        return ids

    # ----- shared content helpers -------------------------------------------------------------
    def docs(self, rng: random.Random, k: int, place: str | None = None) -> list[str]:
        place = self.place if place is None else place
        out: list[str] = []
        while len(out) < k:
            d = rng.choice(DOC_FORMS).format(place=place, topic=rng.choice(TOPICS))
            if d not in out:
                out.append(d)
        return out

    def filler(self, rng: random.Random, topic: str | None = None, lead: bool = True) -> str:
        topic = topic or rng.choice(TOPICS)
        text = rng.choice(FILLER).format(topic=topic)
        return (rng.choice(FILLER_LEAD) + text) if lead else text

    def chair_for(self, when: datetime, seed_chair: str) -> str:
        era = (when.year - self.seed_when.year) // 3 if when < self.seed_when else 0
        if era == 0:
            return seed_chair
        return person(rng_for(self.seed, self.name, "chair", era))

    def office_names(self, rng: random.Random, k: int, taken: set, long: bool = False) -> list[tuple[str, str]]:
        offices = rng.sample(OFFICES_LONG if long else OFFICES, k)
        return [(o, person(rng, taken)) for o in offices]

    # ----- public API ---------------------------------------------------------------------------
    def url_of(self, e: Entry) -> str:
        return f"http://{self.host}{e.path}"

    def meeting_urls(self) -> list[str]:
        return [self.url_of(e) for e in self.entries if e.meeting]

    def non_meeting_urls(self) -> list[str]:
        return [self.url_of(e) for e in self.entries if not e.meeting]

    def expected_items(self) -> list[dict]:
        return [self.expected(e) for e in self.entries if e.meeting]

    def expected(self, e: Entry) -> dict:
        if e.seed:
            return self.expected_seed()
        p = self.article_params(e)
        return p["expected"]

    def page(self, e: Entry) -> bytes:
        if e.seed:
            return self.seed_bytes
        if self.rendered is not None:
            return self.rendered[e.idx]
        return self.cache.get(("art", e.idx), lambda: self.render_article(e))

    def prerender(self) -> None:
        """Render every article page now and keep it in memory (~20 KB each): serving one is
        then a lookup, as a real portal's static server does.  For benchmarks, so that the
        generator's CPU, on the crawler's own machine, is not counted against the crawl."""
        self.rendered = {e.idx: self.render_article(e) for e in self.entries if not e.seed}

    @staticmethod
    def qs(query: str) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}

    @staticmethod
    def pages(total: int, per: int) -> int:
        return max(1, math.ceil(total / per))


def not_found() -> Response:
    return Response(404, [("Content-Type", "text/html; charset=utf-8")],
                    b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>")


def attachment_response(name: str) -> Response:
    ext = name.rsplit(".", 1)[-1].lower()
    ctype = {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "doc": "application/msword", "xls": "application/vnd.ms-excel",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}.get(ext, "application/octet-stream")
    body = (b"%PDF-1.4\n% replica placeholder\n%%EOF\n" if ext == "pdf" else b"replica placeholder attachment\n")
    return Response(200, [("Content-Type", ctype)], body)


def base_expected(portal: Portal, e: Entry, **fields) -> dict:
    item = {
        "portal": portal.name, "url": portal.url_of(e), "title": e.title, "published_at": None,
        "meeting_date": None, "doc_type": "report", "meeting_kind": None, "meeting_number": None,
        "term": None, "chair": None, "source": None, "author": None, "publisher": None,
        "index_number": None, "written_date": None, "category": None, "breadcrumb": [],
        "body": "", "documents": [], "attendees": [], "attachments": [], "language": "zh-Hans",
    }
    item.update(fields)
    return item


def uniq(seq) -> list:
    out = []
    for x in seq:
        if x not in out:
            out.append(x)
    return out


__all__ = ["Portal", "base_expected", "uniq", "not_found", "attachment_response", "cn_number", "people",
           "TOPICS", "timedelta"]
