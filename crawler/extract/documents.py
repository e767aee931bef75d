"""Document titles quoted in 《》."""

from __future__ import annotations

import re

# Titles may nest <…> (or a second 《…》 pair) inside: 《关于印发<…措施>的通知》.
_QUOTED_RE = re.compile(r"《((?:[^《》]|《[^《》]*》)+)》")


def documents(body: str | None) -> list[str]:
    """Titles quoted in 《》, in order of first mention, each once, brackets removed."""
    if not body:
        return []
    out: list[str] = []
    for m in _QUOTED_RE.finditer(body):
        title = m.group(1).strip()
        if title and title not in out:
            out.append(title)
    return out
