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
# A meeting is named: `…常务会议`, `…工作会议召开`, `…调度会召开`, `全体(扩大)会议`.
_MEETING_RE = re.compile(r"会议|(?:调度|推进|观摩|座谈|现场|部署|动员|汇报|联席|专题)会")

KINDS = ("常务会议", "全体会议", "廉政工作会议", "专题会议", "工作会议", "调度会议", "推进会议", "观摩会议")
_PAREN_RE = re.compile(r"[（(][^)）]{1,6}[)）]")
# `调度会召开` names the same kind as `调度会议`.
_KIND_RE = re.compile("|".join(k if k == "工作会议" else k[:-1] + "议?" for k in KINDS))


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
    """The first named kind in the texts: `全体(扩大)会议` → `全体会议`."""
    for text in texts:
        if not text:
            continue
        m = _KIND_RE.search(_PAREN_RE.sub("", text))
        if m:
            kind = m.group(0)
            return kind if kind.endswith("会议") else kind + "议"
    return None


def doc_type(title: str | None) -> str:
    """`interpretation` for a 解读 of one meeting, else `report`."""
    return "interpretation" if title and "解读" in title else "report"
