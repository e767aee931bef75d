"""Item exporters for meetings: SCHEMA column order, readable CSV cells, Excel's BOM.

Registered in ``FEED_EXPORTERS`` for ``csv``, ``json`` and ``jsonlines`` (``jl``/``jsonl``),
so ``scrapy crawl laishan -O x.csv`` and ``FEEDS`` use them; ``scrapy export`` too.

CSV cells of list fields (JSON keeps real lists)::

    breadcrumb   首页 > 政务公开 > 会议公开
    documents    文件甲; 文件乙
    attendees    张三; 李四
    attachments  附件一.pdf <http://…/a.pdf>; 附件二.doc <http://…/b.doc>

A cell that a spreadsheet would run as a formula — one starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return — is written with a leading ``'`` (so is one that starts
with ``'`` itself, to keep the rule reversible): portals' titles and bodies are third-party
text, and the README tells users to open the CSV in Excel.  ``parse_csv_row`` reads such a
row back, removing that one ``'``.  ``FEED_EXPORT_ENCODING = "utf-8-sig"`` (or the
feed option ``encoding``) writes the UTF-8 byte-order mark Excel needs to recognise UTF-8:
Scrapy's CSV exporter handles it; the JSON exporters here write the mark once (Scrapy's own
would write one per item).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from scrapy.exporters import CsvItemExporter, JsonItemExporter, JsonLinesItemExporter

from crawler.items import FIELDS

BREADCRUMB_SEP = " > "
LIST_SEP = "; "
_ATTACHMENT_RE = re.compile(r"^(?P<name>.*?)\s*<(?P<url>[^<>]*)>$")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def format_attachment(att: Any) -> str:
    if isinstance(att, dict):
        name, url = _text(att.get("name")).strip(), _text(att.get("url")).strip()
        if url:
            return f"{name} <{url}>" if name else f"<{url}>"
        return name
    return _text(att)


# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would read it as a formula (or when
    it starts with ``'``, so that reading it back is exact)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) or cell.startswith("'") else cell


def csv_cell(name: str, value: Any) -> str:
    """The readable CSV form of one field value, neutralised for spreadsheets."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        if name == "breadcrumb":
            return neutralise(BREADCRUMB_SEP.join(_text(v) for v in value))
        if name == "attachments":
            return neutralise(LIST_SEP.join(format_attachment(a) for a in value))
        return neutralise(LIST_SEP.join(_text(v) for v in value))
    return neutralise(_text(value))


def parse_csv_row(row: dict[str, str]) -> dict[str, Any]:
    """A row of a meetings CSV (``csv.DictReader``) back to an item dict."""
    out: dict[str, Any] = {}
    for name, cell in row.items():
        if name is None:
            continue
        cell = cell or ""
        if cell.startswith("'"):
            cell = cell[1:]  # neutralise()
        if name == "breadcrumb":
            out[name] = cell.split(BREADCRUMB_SEP) if cell else []
        elif name in ("documents", "attendees"):
            out[name] = cell.split(LIST_SEP) if cell else []
        elif name == "attachments":
            items = []
            for part in cell.split(LIST_SEP) if cell else []:
                m = _ATTACHMENT_RE.match(part)
                items.append(
                    {"name": m["name"], "url": m["url"]} if m else {"name": part, "url": ""}
                )
            out[name] = items
        elif name in ("meeting_number", "term"):
            out[name] = int(cell) if cell.strip() else None
        else:
            out[name] = cell if cell != "" else None
    return out


def _is_bom_encoding(encoding: str | None) -> bool:
    if not encoding:
        return False
    try:
        return codecs.lookup(encoding).name == "utf-8-sig"
    except LookupError:
        return False


class _SchemaOrder:
    """Default ``fields_to_export`` to the SCHEMA order (Scrapy would sort them)."""

    def _configure(self, options, dont_fail=False):
        super()._configure(options, dont_fail)
        if not self.fields_to_export:
            self.fields_to_export = list(FIELDS)


class MeetingCsvItemExporter(_SchemaOrder, CsvItemExporter):
    def finish_exporting(self):
        # A CSV of no meetings still has its header line (Scrapy writes it with the first item).
        if self._headers_not_written:
            self._headers_not_written = False
            self._write_headers_and_set_fields_to_export({})
        super().finish_exporting()

    def serialize_field(self, field, name, value):
        serializer = field.get("serializer") if field else None
        if serializer:
            return neutralise(_text(serializer(value)))
        return csv_cell(name, value)


class _BomOnce:
    """Write a UTF-8 BOM once at the start instead of once per encoded chunk."""

    def _configure(self, options, dont_fail=False):
        super()._configure(options, dont_fail)
        self._bom = _is_bom_encoding(self.encoding)
        if self._bom:
            self.encoding = "utf-8"

    def start_exporting(self):
        if self._bom:
            self.file.write(codecs.BOM_UTF8)
        super().start_exporting()


class MeetingJsonItemExporter(_BomOnce, _SchemaOrder, JsonItemExporter):
    pass


class MeetingJsonLinesItemExporter(_BomOnce, _SchemaOrder, JsonLinesItemExporter):
    pass


# format name -> exporter, as in FEED_EXPORTERS
EXPORTERS = {
    "csv": MeetingCsvItemExporter,
    "json": MeetingJsonItemExporter,
    "jsonlines": MeetingJsonLinesItemExporter,
    "jsonl": MeetingJsonLinesItemExporter,
    "jl": MeetingJsonLinesItemExporter,
}

EXTENSIONS = {".csv": "csv", ".json": "json", ".jsonl": "jsonlines", ".jl": "jsonlines",
              ".jsonlines": "jsonlines", ".ndjson": "jsonlines"}
