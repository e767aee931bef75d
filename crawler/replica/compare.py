"""Compare an item with an expected item, by the rules of SCHEMA.md.

A plain expected value must match exactly.  A dict expected value holds rules:
``contains`` (list entries or substrings that must be present), ``excludes`` (must be
absent), ``startswith`` / ``endswith`` (bounds of the text).  ``crawled_at`` and
``fingerprint`` are not compared.
"""

from __future__ import annotations

from typing import Any, Mapping

NOT_COMPARED = ("crawled_at", "fingerprint")


def _check_rules(field: str, value: Any, rules: Mapping[str, Any]) -> list[str]:
    problems = []
    for entry in rules.get("contains", ()):
        if value is None or entry not in value:
            problems.append(f"{field}: missing {entry!r}")
    for entry in rules.get("excludes", ()):
        if value is not None and entry in value:
            problems.append(f"{field}: must not contain {entry!r}")
    if "startswith" in rules and not (isinstance(value, str) and value.startswith(rules["startswith"])):
        problems.append(f"{field}: does not start with {rules['startswith']!r}: {str(value)[:80]!r}")
    if "endswith" in rules and not (isinstance(value, str) and value.endswith(rules["endswith"])):
        problems.append(f"{field}: does not end with {rules['endswith']!r}: {str(value)[-80:]!r}")
    return problems


def mismatches(item: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """Every way in which ``item`` fails ``expected``; empty when it matches."""
    problems = []
    for field, want in expected.items():
        if field in NOT_COMPARED:
            continue
        got = item.get(field)
        if isinstance(want, Mapping) and set(want) <= {"contains", "excludes", "startswith", "endswith"}:
            problems.extend(_check_rules(field, got, want))
        elif got != want:
            problems.append(f"{field}: expected {want!r}, got {got!r}")
    return problems
