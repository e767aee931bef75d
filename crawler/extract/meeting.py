"""What a listing title or article is: a meeting article or not, its kind, report or 解读.

SCHEMA.md: a meeting article reports or interprets one specific meeting of the government.
Notices of a meeting, topic lists, rules, catalogues and interpretations of a policy or of a
single agenda topic are not meeting articles.
"""

from __future__ import annotations

import re

# Checked in this order; the first that matches gives the reason a title is skipped.
_SKIP_RULES = (
    ("topic_interpretation", re.compile(r"【议题解读】|议题解读")),
    # `…第73次常务会议审议通过《…办法》解读` explains one document, not the meeting.
    ("policy_interpretation", re.compile(r"政策解读|《[^》]+》(?:的)?(?:政策)?解读$")),
    ("notice", re.compile(r"(?:通知|公告|通告|决定|公示|通报|意见|批复|函)$|关于.+的(?:通知|公告|通告|决定)")),
    ("topic_list", re.compile(r"议题汇总|议题清单")),
    ("catalogue", re.compile(r"目录")),
    ("rules", re.compile(r"工作规则|议事规则")),
    ("local_news", re.compile(r"^[\u4e00-\u9fa5]{2,6}[：:]")),
    ("not_government", re.compile(r"人大|政协|党工委|党委(?:常委)?会|纪委")),
    ("not_meeting", re.compile(r"招聘会|推介会|展销会|运动会|博览会|交易会|开学|好人榜")),
)
# Words that name a kind of meeting when `会` follows them directly (`调度会召开`,
# `县长办公会`); with `会议` any word names one (`周交办会议`, `电视电话会议`).
KIND_STEMS = ("常务", "全体", "调度", "推进", "办公", "专题", "交办", "观摩", "座谈", "现场", "部署", "动员",
              "汇报", "联席", "协调", "务虚", "碰头", "讲评", "点评")
# A meeting is named: `…常务会议`, `…工作会议召开`, `…调度会召开`, `全体(扩大)会议`.
_MEETING_RE = re.compile(r"会议|(?:" + "|".join(KIND_STEMS) + ")会")

# Kinds whose name is longer than the word before 会议 (`廉政工作会议`, not `工作会议`).
_COMPOUND_KINDS = ("廉政工作会议",)
_PAREN_RE = re.compile(r"[（(][^)）]{1,6}[)）]")
# The two characters before `会议` (or before `会` for the kind words); not an ordinal's
# `次`/`届`, not `会议室`/`会议中心`, not an organisation (`委员会`, `常委会`).
_KIND_RE = re.compile(
    "(" + "|".join(_COMPOUND_KINDS) + ")"
    r"|([\u4e00-\u9fa5]{2})会议(?![室厅中])"
    r"|(" + "|".join(KIND_STEMS) + ")会(?![议员场址所同商谈见])"
)
_NOT_KIND = re.compile(r"[0-9０-９零〇一二三四五六七八九十百次届年月日号]|^(?:召开|举行|有关|相关|这次|本次|此次|各项|以上|政府|重要|系列|各类)$")


def classify_title(title: str | None) -> str | None:
    """None when the title names a meeting article, else the reason to skip it."""
    if not title:
        return "no_title"
    title = title.strip()
    for reason, pattern in _SKIP_RULES:
        if pattern.search(title):
            return reason
    if not _MEETING_RE.search(title):
        return "not_meeting"
    return None


def meeting_kind(*texts: str | None) -> str | None:
    """The first named kind in the texts, as `…会议`: `全体(扩大)会议` → `全体会议`,
    `县长办公会` → `办公会议`, `周交办会议` → `交办会议`; None when none is named."""
    for text in texts:
        if not text:
            continue
        for m in _KIND_RE.finditer(_PAREN_RE.sub("", text)):
            compound, stem, short = m.groups()
            if compound:
                return compound
            stem = stem or short
            if not _NOT_KIND.search(stem):
                return stem + "会议"
    return None


def doc_type(title: str | None) -> str:
    """`interpretation` for a 解读 of one meeting, else `report`."""
    return "interpretation" if title and "解读" in title else "report"
