"""Stamp the item's fingerprint: what an edit of the meeting record changes (ITEM_PIPELINES 250).

The store compares it with the stored one to tell an updated meeting from an unchanged one
(``store/updated`` keeps the earlier version as a revision).
"""

from __future__ import annotations

import hashlib

from itemadapter import ItemAdapter


def fingerprint(title: str, body: str) -> str:
    """The normalised title and body, hashed."""
    return hashlib.sha256(f"{title}\n{body}".encode("utf-8")).hexdigest()[:32]


class FingerprintPipeline:
    # A pure function of the item: with PARSE_PROCESSES it runs in the parser worker, right
    # after the parse and the normalising pipelines (crawler/runtime/parsepool.py).
    runs_in_parser = True

    def process_item(self, item):
        adapter = ItemAdapter(item)
        adapter["fingerprint"] = fingerprint(adapter.get("title") or "", adapter.get("body") or "")
        return item
