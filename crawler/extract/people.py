"""People named in a meeting report: who chaired it, who attended.

Reports name people with their office in front (`市委政法委常务副书记胡兵`, `宣传部孙海杰`);
items carry the name only, so the office is cut at the last office word.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Office words after which a personal name follows.  Longer words first so that
# `常务副市长` is cut whole, and one-character unit words (部, 局 …) last.
_OFFICE_WORDS = sorted(
    """
    书记 副书记 委员 部务委员 常委 市长 副市长 区长 副区长 县长 副县长 省长 州长 旗长 镇长 乡长
    主任 副主任 局长 副局长 部长 副部长 院长 副院长 秘书长 副秘书长 主席 副主席 处长 科长
    经理 总经理 董事长 社长 校长 所长 站长 队长 行长 检察长 厅长 政委 会长 理事长 馆长 台长
    专员 调研员 巡视员 负责人 同志 工程师 总工程师 总经济师 总会计师 总编辑 领导 市领导 区领导
    县领导 主任委员 党组成员 一级巡视员 二级巡视员 督查专员 总监 教授 副教授 讲师 研究员
    副研究员 教师 专家 律师 代表 顾问 总师
    部 局 委 办 院 厅 处 所 队 站 社 行 馆 台 中心 分局 公司 集团 街道 办事处 园区 管委会 中
    """.split(),
    key=len,
    reverse=True,
)
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


@lru_cache(maxsize=8192)
def name_of(mention: str) -> str | None:
    """`市委政法委常务副书记胡兵` → `胡兵`; `宋毅` → `宋毅`; `各县区负责人` → None."""
    mention = re.sub(r"[\s\u3000]|同志$", "", mention)
    mention = re.sub(r"[（(][^）)]*[)）]$", "", mention)  # trailing (女), (挂职) …
    if not mention:
        return None
    # The name follows the last office word; try the last cut first, then earlier ones
    # (a name can itself end in a unit character: 王中).
    cuts = [m.end() for m in _OFFICE_RE.finditer(mention)]
    for cut in reversed(cuts):
        rest = mention[cut:]
        if _is_name(rest):
            return rest
    if not cuts and _is_name(mention):
        return mention
    return None


_CLAUSE_SPLIT_RE = re.compile(r"[，,。；;！!？?\n]")
_DELIMITERS = "，,。；;！!？?\n"
_VERB_RE = re.compile("参加|出席|列席")
_ATTEND_TAIL_RE = re.compile(r"^(.+?)(?:等)?(?:同志)?(?:参加|出席|列席)(?:了)?(?:会议|活动)?(?:并(?:讲话|作讲话|发言|致辞))?$")
_ATTEND_HEAD_RE = re.compile(r"(?:参加|出席|列席)会议的(?:有|是|人员有|还有)[:：]([^。；;\n]+)")


def attendees(body: str | None) -> list[str]:
    """Names listed as attending (`参加会议`, `出席`, `列席`), each once, in order."""
    if not body:
        return []
    names: list[str] = []

    def add(listing: str) -> None:
        for mention in re.split(r"[、，,]", listing):
            found = [name_of(mention)]
            if found[0] is None:  # `A和B`: split on 和/及 only when the whole is no name
                found = [name_of(part) for part in re.split(r"[和及]", mention)]
            for name in found:
                if name and name not in names:
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
        if m:
            listings.append((start, m.group(1)))
    for _, listing in sorted(listings):
        add(listing)
    return names


_CHAIR_RE = re.compile(r"([\u4e00-\u9fa5]{2,20}?)(?:同志)?(?:在)?主持(?:召开|会议|并讲话|$|[，,。])")


def chair(*texts: str | None) -> str | None:
    """The person who chaired: `市长余功斌主持召开…` → `余功斌`.  Texts are tried in order."""
    for text in texts:
        if not text:
            continue
        for clause in _CLAUSE_SPLIT_RE.split(text):
            m = _CHAIR_RE.search(clause)
            if not m:
                continue
            # `市委副书记、市长傅明先` → the name after the last office word.
            lead = re.split(r"[、\s]", m.group(1))[-1]
            name = name_of(lead)
            if name:
                return name
    return None
