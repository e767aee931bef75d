"""Meeting-field accuracy on reports written elsewhere: a labelled corpus, field by field.

Each case's title and body go through the same processing pipelines a crawl runs
(normalize → meeting fields), with the case's ``published_at`` as the printed date; the
fields are compared with the case's ``expected`` labels (format and rules:
``../shared/corpus/README.md``).  A key missing from ``expected`` is not scored.

Scoring, one point per labelled field and case:
  meeting_kind     the output is one of ``any_of``
  meeting_number, term, chair, meeting_date   equal to the label (``null`` included)
  attendees        every ``contains`` name output, nothing else, no ``excludes`` entry
  documents        the output list equals ``contains`` (complete and ordered)

Usage: python bench/quality.py [--corpus PATH] [--quiet]
The corpus is read where it lies and never copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.items import MeetingItem  # noqa: E402
from pipelines.meeting import MeetingFieldsPipeline  # noqa: E402
from pipelines.normalize import NormalizePipeline  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
FIELDS = ("meeting_kind", "meeting_number", "term", "chair", "meeting_date", "attendees", "documents")


class _Counts(dict):
    """Enough of Scrapy's stats collector for the normalize pipeline."""

    def inc_value(self, key, count=1, start=0):
        self[key] = self.get(key, start) + count


def extract(case: dict, pipelines) -> MeetingItem:
    item = MeetingItem(portal="corpus", url=f"corpus:{case['id']}", title=case["title"],
                       body=case["body"], published_at=case["published_at"])
    for pipeline in pipelines:
        item = pipeline.process_item(item)
    return item


def judge(name: str, want, got) -> tuple[bool, str]:
    """(right, what differs) for one field."""
    if name == "meeting_kind":
        return got in want["any_of"], f"got {got!r}, want one of {want['any_of']}"
    if name == "attendees":
        got = list(got or [])
        missing = [n for n in want["contains"] if n not in got]
        extra = [n for n in got if n not in want["contains"]]
        excluded = [n for n in got if n in want.get("excludes", [])]
        detail = f"missing {missing}, extra {extra}" + (f", excluded forms output {excluded}" if excluded else "")
        return not (missing or extra or excluded), detail
    if name == "documents":
        got = list(got or [])
        missing = [d for d in want["contains"] if d not in got]
        extra = [d for d in got if d not in want["contains"]]
        detail = f"missing {missing}, extra {extra}" if missing or extra else f"order {got}"
        return got == want["contains"], detail
    return got == want, f"got {got!r}, want {want!r}"


def load(corpus: Path) -> list[dict]:
    path = corpus / "cases.jsonl" if corpus.is_dir() else corpus
    if not path.is_file():
        raise FileNotFoundError(path)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(cases: list[dict]):
    pipelines = [NormalizePipeline(_Counts()), MeetingFieldsPipeline()]
    scores = {name: [0, 0] for name in FIELDS}
    misses = []
    for case in cases:
        item = extract(case, pipelines)
        for name in FIELDS:
            if name not in case["expected"]:
                continue
            right, detail = judge(name, case["expected"][name], item.get(name))
            scores[name][1] += 1
            if right:
                scores[name][0] += 1
            else:
                misses.append((case["id"], name, detail))
    return scores, misses


def main(argv=None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                      help=f"a directory holding cases.jsonl, or the file (default {DEFAULT_CORPUS})")
    args.add_argument("--quiet", action="store_true", help="totals only, no misses")
    opts = args.parse_args(argv)
    try:
        cases = load(opts.corpus)
    except FileNotFoundError as e:
        print(f"no corpus at {e}: nothing measured (pass --corpus PATH to a cases.jsonl)")
        return 2
    scores, misses = run(cases)
    if not opts.quiet:
        for case_id, name, detail in misses:
            print(f"miss {case_id} {name}: {detail}")
        print()
    print(f"{'field':<16} {'right':>5} {'of':>4} {'accuracy':>9}")
    for name, (right, total) in scores.items():
        print(f"{name:<16} {right:>5} {total:>4} {right / total if total else 0:>9.1%}")
    right = sum(r for r, _ in scores.values())
    total = sum(t for _, t in scores.values())
    print(f"{'all fields':<16} {right:>5} {total:>4} {right / total if total else 0:>9.1%}   ({len(cases)} cases, {opts.corpus})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
