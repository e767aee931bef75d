"""Shared pieces of the replica generator: names, numerals, timelines, text helpers.

Everything here is deterministic: a ``random.Random`` is seeded from a string made of the
replica seed, the portal and the entry index, so an entry's parameters never depend on how
many pages were rendered before it.
"""

from __future__ import annotations

import hashlib
import html
import random
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

PORTALS_DIR = Path(__file__).resolve().parent / "portals"

# Characters that end an office (书记 委员 市长 区长 主任 局长 部长 院长 工程师 部 局 委 办 中心);
# generated names never contain them, so an office+name pair splits unambiguously.
_OFFICE_CHARS = set("书记委员市长区主任局部院工程师办中心")

SURNAMES = [c for c in (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
    "贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
    "雷钱汤尹黎易常武乔贺赖龚文"
) if c not in _OFFICE_CHARS]
GIVEN = [c for c in (
    "建国华明伟军平志强海红玉英秀兰丽娟敏静芳燕霞晓东春宇光波涛峰辉鹏飞亮超斌杰勇刚文博林森"
    "雪梅琳晨阳晖宏洋凯磊鑫婷颖振兴德新福荣庆利清俊松彬岩楠浩然思雨佳欣立成家雷正洪永胜"
) if c not in _OFFICE_CHARS]

CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """Chinese numeral as written in titles: 8 → 八, 13 → 十三, 93 → 九十三, 105 → 一百零五."""
    if n < 0:
        raise ValueError(n)
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        head = CN_DIGITS[n // 100] + "百"
        if rest == 0:
            return head
        if rest < 10:
            return head + "零" + CN_DIGITS[rest]
        if rest < 20:
            return head + "一" + cn_number(rest)
        return head + cn_number(rest)
    raise ValueError(n)


def rng_for(*parts: Any) -> random.Random:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def person(rng: random.Random, taken: set | None = None) -> str:
    while True:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        if taken is None or name not in taken:
            if taken is not None:
                taken.add(name)
            return name


def people(rng: random.Random, k: int, taken: set | None = None) -> list[str]:
    taken = set() if taken is None else taken
    return [person(rng, taken) for _ in range(k)]


_WS = re.compile(r"[\s\u00a0\u3000]+")


def collapse(text: str) -> str:
    return _WS.sub(" ", text).strip()


def body_text(paragraphs: list[str]) -> str:
    return "\n".join(p for p in (collapse(x) for x in paragraphs) if p)


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def truncate(title: str, n: int) -> str:
    return title if len(title) <= n else title[:n] + "..."


def ymd(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d")


def md_cn(dt: datetime) -> str:
    return f"{dt.month}月{dt.day}日"


def ymd_cn(dt: datetime) -> str:
    return f"{dt.year}年{dt.month}月{dt.day}日"


def read_page(portal: str, rel: str, folder: str = "pages") -> bytes:
    return (PORTALS_DIR / portal / folder / rel).read_bytes()


class Template:
    """A page with named holes.  Built by replacing literal snippets of a snapshot page."""

    def __init__(self, text: str, holes: list[tuple[str, str, int | None]]):
        for old, name, count in holes:
            found = text.count(old)
            if found == 0 or (count is not None and found != count):
                raise ValueError(f"template snippet {old[:60]!r} found {found} times, want {count}")
            text = text.replace(old, f"\x00{name}\x00")
        self.parts = text.split("\x00")

    def render(self, **values: str) -> str:
        parts = self.parts[:]
        for i in range(1, len(parts), 2):
            parts[i] = values[parts[i]]
        return "".join(parts)


def between(text: str, start: str, end: str) -> str:
    """The text strictly between the first ``start`` and the next ``end``."""
    i = text.index(start) + len(start)
    j = text.index(end, i)
    return text[i:j]


class LRU:
    def __init__(self, size: int = 512):
        self.size = size
        self.data: OrderedDict = OrderedDict()

    def get(self, key, make: Callable[[], Any]):
        try:
            self.data.move_to_end(key)
            return self.data[key]
        except KeyError:
            value = make()
            self.data[key] = value
            if len(self.data) > self.size:
                self.data.popitem(last=False)
            return value


@dataclass(slots=True)
class Entry:
    """One listing entry (meeting article or not), newest first by ``idx``."""

    idx: int
    meeting: bool
    kind: str                 # portal-specific kind code ("report", "jiedu", "full", "work", "notice", ...)
    title: str
    when: datetime
    path: str = ""
    number: int | None = None
    term: int | None = None
    uid: str = ""             # docid / artid / uuid / id
    seed: bool = False
    extra: dict = field(default_factory=dict)


@dataclass(slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def timeline(rng: random.Random, total: int, seed_pos: int, seed_when: datetime, top_when: datetime,
             avg_minutes: float, day_mode: bool = True) -> list[datetime]:
    """Publication times, newest first: ``seed_pos`` entries between ``top_when`` and the seed,
    then the seed, then entries going back with random gaps (several may share a day)."""
    newer = sorted((seed_when + (top_when - seed_when) * rng.random() for _ in range(seed_pos)), reverse=True)
    if seed_pos:
        newer[0] = top_when
    times = newer + [seed_when]
    t = seed_when
    for _ in range(total - seed_pos - 1):
        gap = rng.expovariate(1.0 / avg_minutes)
        if day_mode and gap < 600 and rng.random() < 0.5:
            gap = rng.uniform(5, 90)
        t = t - timedelta(minutes=max(1.0, gap))
        times.append(t)
    return [x.replace(microsecond=0) for x in times]
