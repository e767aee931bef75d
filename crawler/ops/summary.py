"""The run summary: one row per portal from its crawler stats, as a table and as JSON.

Columns: listing pages, article pages fetched, new / updated / unchanged records (``moved``
counts as updated: the URL changed), dropped (with reasons), lost (article requests the
listing made that no page came of, with causes: ``crawler/ops/ledger.py``), errors, duration,
health.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping

from crawler.ops.health import articles_fetched, error_count
from crawler.ops.ledger import lost


def dropped_reasons(stats: Mapping[str, Any]) -> dict[str, int]:
    """Why article pages or items were dropped: ``article/dropped/<r>`` (parse),
    ``validate/dropped/<r>`` (missing required field), ``store/dropped/<r>`` (a value no store
    can hold alike), ``store/failed`` (refused by the database), ``dedupe/duplicate_in_run``."""
    reasons: Counter = Counter()
    for key, value in stats.items():
        for prefix in ("article/dropped/", "validate/dropped/", "store/dropped/"):
            if key.startswith(prefix):
                reasons[key[len(prefix):]] += int(value)
    if stats.get("store/failed"):
        reasons["store_failed"] += int(stats["store/failed"])
    if stats.get("dedupe/duplicate_in_run"):
        reasons["duplicate_in_run"] += int(stats["dedupe/duplicate_in_run"])
    return dict(sorted(reasons.items()))


def portal_summary(name: str, stats: Mapping[str, Any] | None, reason: str | None = None) -> dict[str, Any]:
    stats = stats or {}
    reasons = dropped_reasons(stats)
    errors = stats.get("health/errors")
    return {
        "portal": name,
        "finish_reason": reason or stats.get("finish_reason"),
        "listing_pages": int(stats.get("listing/pages", 0)),
        "articles": articles_fetched(stats),
        "new": int(stats.get("store/new", 0)),
        "updated": int(stats.get("store/updated", 0)) + int(stats.get("store/moved", 0)),
        "unchanged": int(stats.get("store/unchanged", 0)),
        "dropped": sum(reasons.values()),
        "dropped_reasons": reasons,
        "lost": sum(lost(stats, "article").values()),
        "lost_reasons": lost(stats, "article"),
        "errors": int(errors if errors is not None else error_count(stats)),
        "duration_s": round(float(stats.get("elapsed_time_seconds", 0) or 0), 1),
        "health": stats.get("health/status") or ("ok" if reason == "finished" else "fail"),
        "failed_checks": list(stats.get("health/failed_checks") or []),
        "failures": list(stats.get("health/failures") or []),
        "warnings": list(stats.get("health/warnings") or []),
    }


_COLUMNS = (
    ("portal", "portal", "<"),
    ("listing_pages", "pages", ">"),
    ("articles", "articles", ">"),
    ("new", "new", ">"),
    ("updated", "updated", ">"),
    ("unchanged", "unchanged", ">"),
    ("dropped", "dropped", ">"),
    ("lost", "lost", ">"),
    ("errors", "errors", ">"),
    ("duration", "time", ">"),
    ("health", "health", "<"),
)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds}s"


def format_table(rows: list[Mapping[str, Any]], *, total: bool = True, notes: bool = True) -> str:
    """A plain-text table (no colours, no carriage returns: it goes to logs and mail); an
    alert shows some rows, without the total row and the notes it words itself."""
    cells = []
    for row in rows:
        values = {"lost": 0, **row, "duration": _duration(row.get("duration_s", 0)),
                  "health": str(row["health"]).upper()}
        cells.append([str(values[key]) for key, _, _ in _COLUMNS])
    with_total = bool(rows) and total
    if with_total:
        total = {k: sum(int(r.get(k, 0)) for r in rows) for k in
                 ("listing_pages", "articles", "new", "updated", "unchanged", "dropped", "lost", "errors")}
        worst = "FAIL" if any(r["health"] == "fail" for r in rows) else (
            "WARN" if any(r["health"] == "warn" for r in rows) else "OK")
        total.update(portal="total", duration=_duration(max(r.get("duration_s", 0) for r in rows)), health=worst)
        cells.append([str(total[key]) for key, _, _ in _COLUMNS])
    heads = [title for _, title, _ in _COLUMNS]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]

    def line(values):
        return "  ".join(f"{v:{a}{w}}" for v, w, (_, _, a) in zip(values, widths, _COLUMNS)).rstrip()

    out = [line(heads), line(["-" * w for w in widths])]
    out += [line(c) for c in (cells[:-1] if with_total else cells)]
    if with_total:
        out += [line(["-" * w for w in widths]), line(cells[-1])]
    if not notes:
        return "\n".join(out)
    notes = []
    for row in rows:
        if row.get("dropped_reasons"):
            reasons = ", ".join(f"{k} {v}" for k, v in row["dropped_reasons"].items())
            notes.append(f"dropped {row['portal']}: {reasons}")
        if row.get("lost_reasons"):
            reasons = ", ".join(f"{k} {v}" for k, v in row["lost_reasons"].items())
            notes.append(f"lost {row['portal']}: {reasons}")
    for row in rows:
        notes += [f"FAIL {row['portal']} {msg}" for msg in row.get("failures", [])]
        notes += [f"warn {row['portal']} {msg}" for msg in row.get("warnings", [])]
    return "\n".join(out + ([""] + notes if notes else []))
