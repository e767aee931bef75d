"""People named in a meeting report: who chaired it, who attended.

Reports name people with their office in front (`市委政法委常务副书记胡兵`, `宣传部孙海杰`);
items carry the name only, so the office is cut at the last office word.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Office words after which a personal name follows.  Longer words first so that
# `常务副市长` is cut whole, and one-character unit words (部, 局 …) last.
_PERSON_TITLES = """
    书记 副书记 委员 部务委员 常委 市长 副市长 区长 副区长 县长 副县长 省长 州长 旗长 镇长 乡长
    主任 副主任 局长 副局长 部长 副部长 院长 副院长 秘书长 副秘书长 主席 副主席 处长 科长
    经理 总经理 董事长 社长 校长 所长 站长 队长 行长 检察长 厅长 政委 会长 理事长 馆长 台长
    专员 调研员 巡视员 负责人 同志 工程师 总工程师 总经济师 总会计师 总编辑 领导 市领导 区领导
    县领导 主任委员 党组成员 助理 人选 提名人选 一级巡视员 二级巡视员 督查专员 总监 教授 副教授 讲师 研究员
    副研究员 教师 专家 律师 代表 顾问 总师
    """.split()
_UNIT_WORDS = ("部 局 委 办 院 厅 处 所 队 站 社 行 馆 台 中心 分局 公司 集团 街道 办事处 园区 管委会 中 "
               "政府 人大 政协").split()
_OFFICE_WORDS = sorted(_PERSON_TITLES + _UNIT_WORDS, key=len, reverse=True)
# A mention that ends in a person's title names an office (`市委常委`), not a unit (`县统计局`).
_ENDS_IN_TITLE_RE = re.compile("(?:" + "|".join(map(re.escape, _PERSON_TITLES)) + ")$")
_OFFICE_RE = re.compile("|".join(map(re.escape, _OFFICE_WORDS)))
_HAN_NAME_RE = re.compile(r"^[\u4e00-\u9fa5]{2,3}$")
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
                      "宇文", "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门")


_TITLE_RE = re.compile("|".join(map(re.escape, (w for w in _OFFICE_WORDS if len(w) > 1))))


def _is_name(text: str) -> bool:
    if _TITLE_RE.search(text):  # `副书记` left over from `市委副书记、副市长X`
        return False
    if _HAN_NAME_RE.match(text):
        return True
    return len(text) == 4 and text.startswith(_COMPOUND_SURNAMES)


# Mentions of groups, never of one person: `各镇`, `有关同志`, `相关负责人`.
_GROUP_RE = re.compile(r"^(?:各|有关|相关|全体|其他|其它|部分|主要|分管|以上|上述)")


@lru_cache(maxsize=8192)
def name_of(mention: str) -> str | None:
    """`市委政法委常务副书记胡兵` → `胡兵`; `宋毅` → `宋毅`; `各县区负责人` → None."""
    mention = re.sub(r"[\s\u3000]|同志$", "", mention)
    mention = re.sub(r"[（(][^）)]*[)）]$", "", mention)  # trailing (女), (挂职) …
    if not mention or _GROUP_RE.match(mention):
        return None
    # The name follows the last office word; try the last cut first, then earlier ones
    # (a name can itself end in a unit character: 王中).
    cuts = [m.end() for m in _OFFICE_RE.finditer(mention)]
    for cut in reversed(cuts):
        rest = mention[cut:]
        if _GROUP_RE.match(rest):
            return None  # `县政府办有关同志`: a group after the unit
        if _is_name(rest):
            return rest
    # A bare name may hold a unit character inside (`王行亮`), never at its end (`财政局`).
    if _is_name(mention) and not (cuts and cuts[-1] == len(mention)):
        return mention
    return None


@lru_cache(maxsize=8192)
def name_before_office(mention: str) -> str | None:
    """`王征区长` → `王征`: a name written before the office."""
    m = re.match(rf"^(.+?)(?:{_TITLE_RE.pattern})+$", re.sub(r"[\s\u3000]|同志$", "", mention))
    if not m:
        return None
    return name_of(m.group(1))


def person(mention: str) -> str | None:
    """The name in a mention, with its office before or after it."""
    return name_of(mention) or name_before_office(mention)


_SENTENCE_END = "。；;！!？?\n"
_DELIMITERS = "，,。；;！!？?\n"
_VERB_RE = re.compile("参加|出席|列席")
# `…等市领导参加会议`, `…应邀列席`, `…出席调度会`, `…出席会议并讲话`.
_ATTEND_TAIL_RE = re.compile(
    r"^(.+?)(?:同志)?(?:应邀|特邀|受邀)?(?:参加|出席|列席)(?:了)?"
    r"(?:本次|此次)?(?:[\u4e00-\u9fa5]{0,8}?会议?|活动)?(?:并[\u4e00-\u9fa5]{1,8})?$"
)
_ATTEND_HEAD_RE = re.compile(r"(?:参加|出席|列席)会议的(?:有|是|人员有|还有)[:：]([^。；;\n]+)")
_JOINERS_RE = re.compile(r"以及|和|及|与")


# What a list `…等X` says its items are: units (`等部门负责同志`, `等相关单位负责人`).
_UNIT_TAIL_RE = re.compile(r"部门|单位|乡镇|街道|企业|机构|科室|处室|[局委办]")


def _mentions(listing: str) -> list[str]:
    """The people of an attendance list.  Units may follow the people (`张三及县统计局、
    县农办等单位负责人`) or be the whole list (`各镇以及发改、统计等部门负责同志`): after the
    first unit, a bare word is a unit too, only an office + name is still a person.  A list
    ending `等部门…` starts as units: a bare word in it is a person only after an office +
    name (`县领导甲、乙、丙及…等相关单位负责人`)."""
    names: list[str] = []
    listing, _, tail = listing.partition("等")
    units = bool(_UNIT_TAIL_RE.search(tail))
    for item in re.split(r"[、，,]", listing):
        # `甲和市政府秘书长乙`: two people; `王和平`: one name that holds a joiner.
        parts = _JOINERS_RE.split(item)
        if len(parts) == 1 or not any(name_of(p) for p in parts if len(p) > 1):
            parts = [item]
        for part in parts:
            name = name_of(part)
            bare = name == re.sub(r"[\s\u3000]|同志$", "", part)
            if name and not (units and bare):
                names.append(name)
                units = units and bare
            elif not name and part.strip() and not _ENDS_IN_TITLE_RE.search(part.strip()):
                units = True
    return names


def _ends_with_person(clause: str) -> bool:
    last = re.split(r"[、]", clause)[-1]
    return bool(last) and person(re.sub(r"等.*$", "", last)) is not None


def attendees(body: str | None) -> list[str]:
    """Names listed as attending (`参加会议`, `出席`, `列席`), each once, in order."""
    if not body:
        return []
    names: list[str] = []

    def add(listing: str) -> None:
        for name in _mentions(listing):
            if name not in names:
                names.append(name)

    # Lists are taken in order of appearance, whichever form they have.
    listings = [(m.start(), m.group(1)) for m in _ATTEND_HEAD_RE.finditer(body)]
    masked = _ATTEND_HEAD_RE.sub(lambda m: " " * len(m.group(0)), body)
    # Only clauses holding a verb are read: found from the verbs, not by walking every
    # clause (the anchored pattern backtracks on long clauses).
    seen_starts = set()
    for verb in _VERB_RE.finditer(masked):
        start = max(masked.rfind(d, 0, verb.start()) for d in _DELIMITERS) + 1
        if start in seen_starts:
            continue
        seen_starts.add(start)
        ends = [e for e in (masked.find(d, verb.end()) for d in _DELIMITERS) if e >= 0]
        clause = masked[start:min(ends) if ends else len(masked)]
        m = _ATTEND_TAIL_RE.match(clause.strip())
        if not m:
            continue
        listing = m.group(1)
        # A list of people with offices runs over commas (`副市长甲,秘书长乙等出席`): earlier
        # clauses of the sentence belong to it while each ends with a person.
        sentence = max(masked.rfind(d, 0, start) for d in _SENTENCE_END) + 1
        for before in reversed(re.split(r"[，,]", masked[sentence:max(sentence, start - 1)])):
            if not _ends_with_person(before.strip()):
                break
            listing = f"{before.strip()},{listing}"
            start -= len(before) + 1
        listings.append((start, listing))
    for _, listing in sorted(listings):
        add(listing)
    return names


# `在…会议室`, `通过视频方式`: where and how, between the chair and 主持.
_CHAIR_ADVERBIAL_RE = re.compile(r"(?:在|通过|采用|采取|以(?:视频|线上|电视电话|网络))")
_CHAIR_VERB_RE = re.compile(r"主持(?!人|工作|日常)")
# `会议由…主持`, `受市长甲委托,…主持`: the chair follows these.
_CHAIR_LEAD_RE = re.compile(r"^.*?(?:由|委托)")


def _chair_in(text: str) -> str | None:
    for verb in _CHAIR_VERB_RE.finditer(text):
        sentence = max(text.rfind(d, 0, verb.start()) for d in _SENTENCE_END) + 1
        clauses = [c.strip() for c in re.split(r"[，,]", text[sentence:verb.start()])]
        while clauses and not clauses[-1]:  # `…会议室,主持召开`
            clauses.pop()
        for clause in reversed(clauses[-2:]):
            clause = _CHAIR_LEAD_RE.sub("", clause).removesuffix("的")  # `在市长甲的主持下`
            cut = _CHAIR_ADVERBIAL_RE.search(clause)
            if cut and cut.start() > 0:
                clause = clause[:cut.start()]
            # `市委副书记、市长傅明先` → the name after the last office word.
            lead = re.split(r"[、\s]", clause.strip())[-1] if clause.strip() else ""
            name = person(lead) if lead else None
            if name:
                return name
            if not cut:
                break  # a clause before the verb that names nobody: no chair here
    return None


def chair(*texts: str | None) -> str | None:
    """The person who chaired: `市长余功斌主持召开…` → `余功斌`.  Texts are tried in order."""
    for text in texts:
        if text:
            name = _chair_in(text)
            if name:
                return name
    return None
