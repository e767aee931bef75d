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


_TERM_RE = re.compile(rf"(?:第)?({NUMBER})届")
# The ordinal belongs to the meeting only when 次 is followed by the meeting itself;
# `第二次全国污染源普查工作会议` is the second census, not the second meeting.
_NUMBER_RE = re.compile(
    rf"第({NUMBER})次(?:(?:常务|全体|廉政工作|工作|专题|全体\s*[（(]扩大[)）]|扩大)\s*)?会议?"
)


def meeting_number(text: str | None) -> int | None:
    if not text:
        return None
    m = _NUMBER_RE.search(text)
    return to_int(m.group(1)) if m else None


def term(text: str | None) -> int | None:
    if not text:
        return None
    m = _TERM_RE.search(text)
    return to_int(m.group(1)) if m else None
