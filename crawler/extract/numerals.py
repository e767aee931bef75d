"""Numbers as portals print them: Arabic (`第73次`), Chinese (`第八次`, `九十三`, `二〇三五`)."""

from __future__ import annotations

import re
from functools import lru_cache

import cn2an

CN_DIGITS = "零〇一二三四五六七八九十百千两"
NUMBER = rf"[0-9０-９]+|[{CN_DIGITS}]+"


@lru_cache(maxsize=4096)
def to_int(text: str | None) -> int | None:
    """`73` → 73, `十七` → 17, `九十三` → 93, `二〇三五` → 2035; None when it is no number."""
    if not text:
        return None
    text = text.strip()
    if text.isdigit():  # also full-width digits
        return int(text)
    try:
        # "smart" reads both positional (二〇三五) and counted (二千零三十五) forms.
        value = cn2an.cn2an(text, "smart")
    except (ValueError, KeyError):
        return None
    return int(value) if float(value).is_integer() else None


# An ordinal belongs to the meeting when a meeting's name follows it closely: `第73次常务会议`,
# `五届104次区政府常务会议`, `2020年第6次县政府常务会议`, `第3次调度会`, `十二届九次全委(扩大)会议`.
# `第二次全国污染源普查工作会议` is the second census, not the second meeting; `第一会议室` is a room.
_ORGAN = r"(?:[省市区县州旗]?(?:人民)?政府|[省市区县州旗]委)?"
_PARENS = r"(?:[（(][^)）]{1,4}[)）])?"
_NUMBER_RE = re.compile(
    rf"(?:第|届|年)\s*第?({NUMBER})次{_ORGAN}[\u4e00-\u9fa5]{{0,4}}?{_PARENS}会(?!议室|场|址|员)"
)
# A 届 is the government's when a government or a meeting ordinal stands next to it:
# `十八届市政府`, `市人民政府十一届`, `区政府五届104次`, `十届第4次`, `市四届人民政府`.
# A body's own 届 (`市委十二届`, `第十八届人大`, `第十五届中国航展`) is another's.
_TERM_RE = re.compile(
    rf"(?P<before>[省市区县州旗]?(?:人民)?政府)?第?(?P<n>{NUMBER})届(?P<after>[省市区县州旗]?(?:人民)?政府"
    rf"|第?(?:{NUMBER})次)?"
)
_OTHER_BODY_RE = re.compile(r"(?:委|党|人大|政协|代表大会)$")
_LEVEL_RE = re.compile(r"([省市区县州旗])")
_QUOTED_RE = re.compile(r"《[^》]*》")
# A meeting whose spirit is conveyed or whose state is reported (`传达…全会精神`,
# `通报…会议情况`, `…会议的筹备情况`) is another meeting, not the one reported.
_REFERENCED_RE = re.compile(r"精神|情况|筹备|上的讲话")
_CLAUSE_END_RE = re.compile(r"[，,。；;！!？?\n]")


def _unquoted(text: str) -> str:
    """Document titles blanked: a 届 or 次 inside 《…》 names the document's subject."""
    return _QUOTED_RE.sub(lambda m: " " * len(m.group(0)), text) if "《" in text else text


def meeting_number(text: str | None) -> int | None:
    """The meeting's own ordinal: `第八次常务会议` → 8, `五届104次…常务会议` → 104."""
    if not text:
        return None
    text = _unquoted(text)
    for m in _NUMBER_RE.finditer(text):
        clause_end = _CLAUSE_END_RE.search(text, m.end())
        if _REFERENCED_RE.search(text, m.end(), clause_end.start() if clause_end else len(text)):
            continue
        return to_int(m.group(1))
    return None


def term(text: str | None, level: str | None = None) -> int | None:
    """The 届 of the government holding the meeting.  ``level`` (市, 区, 县 …) is that
    government's; a 届 written with another level's government (`市政府五届` in a county's
    report) is that government's, not this one's."""
    if not text:
        return None
    text = _unquoted(text)
    for m in _TERM_RE.finditer(text):
        organ = m.group("before") or m.group("after") or ""
        if not organ:
            continue  # a 届 with neither a government nor a meeting ordinal next to it
        if not m.group("before") and _OTHER_BODY_RE.search(text[max(0, m.start() - 4):m.start()]):
            continue
        organ_level = _LEVEL_RE.match(organ)
        if level and organ_level and organ_level.group(1) != level and "政府" in organ:
            continue
        value = to_int(m.group("n"))
        if value:
            return value
    return None


_HOLDER_RE = re.compile(r"([省市区县州旗])(?:人民)?政府|([省市区县州旗])长")


def government_level(*texts: str | None) -> str | None:
    """The level of the government a report is about: `县政府召开…` → 县, `区长…主持` → 区."""
    for text in texts:
        if text:
            m = _HOLDER_RE.search(text)
            if m:
                return m.group(1) or m.group(2)
    return None
