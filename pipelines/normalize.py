"""Normalise what a page printed: invisible characters, whitespace, Traditional script, dates to ISO."""

from __future__ import annotations

from itemadapter import ItemAdapter

from crawler.extract import dates, text

_TEXT_FIELDS = ("title", "source", "author", "publisher", "index_number", "category")


class NormalizePipeline:
    """Collapse whitespace, convert Traditional text to Simplified, dates to ISO 8601.

    ``language`` records what the portal served: ``zh-Hant`` when the page was in Traditional
    characters or carried pinyin annotations (a mirror's), ``zh-Hans`` otherwise.
    """

    # A pure function of the item (no I/O, no state across items, never drops): with
    # PARSE_PROCESSES it runs in the parser worker, right after the parse (crawler/runtime/parsepool.py).
    runs_in_parser = True

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item):
        adapter = ItemAdapter(item)
        # Invisible characters (zero-width, bidi controls, U+FEFF, controls) go first: they
        # would split dedupe keys and cannot all be stored (text.strip_invisible).
        clean = text.strip_invisible
        for name in _TEXT_FIELDS:
            adapter[name] = text.collapse(clean(adapter.get(name))) or None
        adapter["breadcrumb"] = [c for c in (text.collapse(clean(p)) for p in adapter.get("breadcrumb") or []) if c]
        adapter["body"] = "\n".join(
            line for line in (text.collapse(p) for p in (clean(adapter.get("body")) or "").split("\n")) if line
        )
        adapter["attachments"] = [{**a, "name": clean(a.get("name"))} if isinstance(a, dict) else a
                                  for a in adapter.get("attachments") or []]

        if text.is_traditional(f"{adapter.get('title') or ''}\n{adapter['body']}"):
            adapter["language"] = "zh-Hant"
            self.stats.inc_value("normalize/traditional_converted")
            for name in (*_TEXT_FIELDS, "body"):
                adapter[name] = text.to_simplified(adapter.get(name))
            adapter["breadcrumb"] = [text.to_simplified(p) for p in adapter["breadcrumb"]]
            adapter["attachments"] = [
                {**a, "name": text.to_simplified(a.get("name"))} for a in adapter["attachments"]
            ]
        else:
            adapter["language"] = "zh-Hans"

        raw_published = adapter.get("published_at")
        adapter["published_at"] = dates.to_iso(raw_published)
        if raw_published and adapter["published_at"] is None:
            self.stats.inc_value("normalize/unparsed_date/published_at")
        raw_written = adapter.get("written_date")
        adapter["written_date"] = dates.to_iso_date(raw_written)
        if raw_written and adapter["written_date"] is None:
            self.stats.inc_value("normalize/unparsed_date/written_date")
        return item
