"""Dates as portals print them, to ISO 8601 in Beijing time.

Fast paths first: a regex reads every numeric form seen on the portals (`2017年11月23日`,
`2022- 08- 03 16: 42`, `更新日期:2021-10-12`) in microseconds.  dateparser costs milliseconds
a call and is wrong on several of these forms (`2021年8月2日下午` → the 22nd), so it only sees
what the fast paths leave, with its language pinned so that a miss does not load every locale.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

import cn2an

BEIJING = "+08:00"

# Whitespace is removed before matching: Hanweb prints `2022-⏎08-⏎03 16:⏎42`.
_NUMERIC_RE = re.compile(
    r"(\d{4})[-年/.](\d{1,2})[-月/.](\d{1,2})日?(?:(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}))?)?"
)
_CN_DATE_RE = re.compile(r"[零〇一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日")


def _compact(text: str) -> str:
    return "".join(text.split())


def _numeric(text: str):
    """(date, (h, m, s) or None) for numeric forms, else None."""
    m = _NUMERIC_RE.search(_compact(text))
    if not m:
        return None
    y, mo, d, hh, mm, ss = m.groups()
    try:
        day = date(int(y), int(mo), int(d))
    except ValueError:
        return None
    if hh is None:
        return day, None
    if not (0 <= int(hh) < 24 and 0 <= int(mm) < 60 and (ss is None or 0 <= int(ss) < 60)):
        return day, None
    return day, (int(hh), int(mm), None if ss is None else int(ss))


@lru_cache(maxsize=1)
def _dateparser():
    import dateparser  # imported on first use: it takes a while to load

    return dateparser


def _slow(text: str):
    parsed = _dateparser().parse(
        text, languages=["zh"], settings={"PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False}
    )
    if parsed is None:
        return None
    has_time = bool(parsed.hour or parsed.minute or parsed.second)
    return parsed.date(), ((parsed.hour, parsed.minute, parsed.second or None) if has_time else None)


def parse(text: str | None):
    """Parse a printed date: (date, time tuple or None), or None when it is no date."""
    if not text or not text.strip():
        return None
    result = _numeric(text)
    if result is None and _CN_DATE_RE.search(text):
        result = _numeric(cn2an.transform(_CN_DATE_RE.search(text).group(0), "cn2an"))
    if result is None:
        result = _slow(text)
    return result


# A date as a listing row prints it beside the title: `2021-10-12`, `[2021/10/12]`, `2021年10月12日`.
_PRINTED_DATE_RE = re.compile(r"(?<!\d)\d{4}\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2}(?!\d)日?")


def printed_date(text: str | None) -> str | None:
    """The first numeric date in ``text``, as printed, or None."""
    m = _PRINTED_DATE_RE.search(text or "")
    return m.group(0) if m else None


def to_iso(text: str | None) -> str | None:
    """`2017年11月23日` → `2017-11-23`; `2022- 08- 03 16: 42` → `2022-08-03T16:42+08:00`."""
    result = parse(text)
    if result is None:
        return None
    day, clock = result
    if clock is None:
        return day.isoformat()
    hh, mm, ss = clock
    stamp = f"{hh:02d}:{mm:02d}" if ss is None else f"{hh:02d}:{mm:02d}:{ss:02d}"
    return f"{day.isoformat()}T{stamp}{BEIJING}"


def to_iso_date(text: str | None) -> str | None:
    result = parse(text)
    return result[0].isoformat() if result else None


def iso_to_date(iso: str | None) -> date | None:
    if not iso:
        return None
    try:
        return date.fromisoformat(iso[:10])
    except ValueError:
        return None


# --- the meeting's own date, read from the body ------------------------------------------

_RELATIVE_DAYS = {"前天": -2, "昨天": -1, "昨日": -1, "今天": 0, "今日": 0, "当天": 0, "日前": None}
_CN = "零〇一二三四五六七八九十"
_BODY_DATE_RE = re.compile(
    rf"(?:(\d{{4}}|[{_CN}]{{4}})\s*年\s*)?(\d{{1,2}}|[{_CN}]{{1,2}})\s*月\s*(\d{{1,2}}|[{_CN}]{{1,3}})\s*[日号]"
    r"|(前天|昨天|昨日|今天|今日)"
    # A day alone opens a clause (`14日,市长…`): the month is the publication's.
    rf"|(?:^|(?<=[\s,，。；;)）】]))(\d{{1,2}}|[{_CN}]{{1,3}})\s*日(?=[上中下晚]|[,，在]|召开|举行)"
)
# A dateline's date is the report's, not the meeting's: `新华社北京1月4日电`, `…网1月4日消息`.
_DATELINE_RE = re.compile(r"\s*(?:电|消息|讯)")
_QUOTED_RE = re.compile(r"《[^》]*》")


def _cn_int(text: str) -> int:
    if text.isdigit():
        return int(text)
    # "smart" reads positional years (二〇一七) and counted numbers (二十三) alike.
    return int(cn2an.cn2an(text, "smart"))


def meeting_date(body: str | None, published: date | None, head_chars: int = 400) -> str | None:
    """The date on which the meeting was held, from the opening of the body.

    The first date expression wins (reports open with it: `2023年11月24日,区长…`,
    `8月2日下午,…`, `昨天下午,…`); dates inside 《document titles》 are skipped.  A date with
    no year takes the publication year (the year before when that would put it after
    publication); a relative day counts from the publication date.
    """
    if not body:
        return None
    head = _QUOTED_RE.sub(lambda m: "《" + " " * (len(m.group(0)) - 2) + "》", body[:head_chars])
    for m in _BODY_DATE_RE.finditer(head):
        year, month, day, relative, day_only = m.groups()
        if _DATELINE_RE.match(head, m.end()):
            continue
        if day_only:
            if published is None:
                continue
            try:
                held = published.replace(day=_cn_int(day_only))
                if held > published:  # the 28th, published on the 2nd: last month
                    held = (published.replace(day=1) - timedelta(days=1)).replace(day=held.day)
            except (ValueError, KeyError):
                continue
            return held.isoformat()
        if relative:
            if published is None:
                continue
            return (published + timedelta(days=_RELATIVE_DAYS[relative])).isoformat()
        try:
            mo, d = _cn_int(month), _cn_int(day)
            if year:
                return date(_cn_int(year), mo, d).isoformat()
            if published is None:
                continue
            held = date(published.year, mo, d)
            if held > published:
                held = date(published.year - 1, mo, d)
            return held.isoformat()
        except (ValueError, KeyError):
            continue
    return None
