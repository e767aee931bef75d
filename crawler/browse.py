"""What ``scrapy browse`` shows: Datasette's metadata for the store and a small Datasette plugin.

The metadata (titles and descriptions in the users' terms, facets, sort order, canned queries,
the Atom feed's query, the dashboard's charts) is built here from the store's schema, so it
follows the store.  The plugin hooks (registered by ``crawler.commands.browse``):

* ``prepare_connection``: the search index's SQL functions (``cjk_match``, ``cjk_index_text``)
  and Datasette's ``escape_fts`` answered by the index's query builder, so Datasette's own
  search box and ``?_search=`` find any word of two or more characters (crawler/store/search.py);
* ``register_facet_classes``: the meetings' facets (portal, kind, chair, year) in one pass;
* ``render_cell``: list fields as lists, attachments as links, run stats as labels.
"""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from typing import Any

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args
from markupsafe import Markup, escape

from crawler.store import search

DATABASE = "meetings"
MMAP_BYTES = 1 << 30

# Scrapy's stats keys (as stored in runs.stats) read by the run history.
_STAT = "json_extract(stats, '$.\"{}\"')"
HEALTH_SQL = (
    "coalesce(" + _STAT.format("health/status") + ", json_extract(stats, '$.crawlall.health'))"
)
PAGES_SQL = "coalesce(" + _STAT.format("response_received_count") + ", 0)"

MEETING_DAY = "coalesce(meeting_date, substr(published_at, 1, 10))"

# --- column descriptions, in the users' terms ------------------------------------------------

MEETING_COLUMNS = {
    "id": "编号 Record number in this store (stable; the row's address)",
    "portal": "门户 Portal the meeting was published on (the spider's name)",
    "dedupe_key": "去重键 How the store tells meetings apart: the portal's index number, else date and title",
    "url": "原文链接 Address of the article on the government portal",
    "title": "标题 Title as the portal prints it",
    "published_at": "发布时间 When the portal published the article (ISO 8601, local time with offset)",
    "meeting_date": "会议日期 Day the meeting was held, when the article says it",
    "doc_type": "类型 Kind of article: report (会议报道), interpretation (解读) …",
    "meeting_kind": "会议类别 常务会议, 全体会议, 工作会议 …",
    "meeting_number": "次数 Number of the meeting within its term (第十一次 → 11)",
    "term": "届次 Term of the government (第十八届 → 18)",
    "chair": "主持人 Person who chaired the meeting",
    "source": "来源 Source the portal names",
    "author": "作者 Author, where given",
    "publisher": "发布机构 Issuing office",
    "index_number": "索引号 The portal's index number",
    "written_date": "成文日期 Date the document was written",
    "category": "分类 The portal's category (组配分类 or the last breadcrumb level)",
    "breadcrumb": "位置 Where the article sits on the portal, top level first",
    "body": "正文 Text of the article",
    "documents": "文件 Titles quoted in 《》 in the text",
    "attendees": "参会人员 People listed as attending",
    "attachments": "附件 Files linked from the article",
    "language": "语言 Script of the text (zh-Hans; Traditional pages are converted)",
    "fingerprint": "指纹 Hash of title and text: changes when the portal edits the article",
    "crawled_at": "抓取时间 When the article was fetched",
    "first_seen": "首次收录 When this store first stored the meeting (UTC)",
    "last_seen": "最近确认 When a crawl last saw it (UTC)",
    "last_changed": "最近修改 When its title, text or address last changed (UTC)",
}

TABLES: dict[str, dict[str, Any]] = {
    "meetings": {
        "title": "会议 Meetings",
        "description": (
            "One record per meeting article, newest first. Search any word of two or more "
            "characters (营商, 招商引资, a name); facet by portal, kind, year or chair."
        ),
        "sort_desc": "published_at",
        "facets": [{"meetings": {"columns": ["portal", "meeting_kind", "chair"], "year": "published_at"}}],
        "fts_table": search.FTS_TABLE,
        "fts_pk": "id",
        "label_column": "title",
        "columns": MEETING_COLUMNS,
    },
    "revisions": {
        "title": "修订记录 Earlier versions",
        "description": "A meeting's earlier title and text, kept when the portal edited the article.",
        "sort_desc": "replaced_at",
        "facets": ["meeting_id"],
        "columns": {
            "id": "编号 Revision number",
            "meeting_id": "会议 The meeting this is an earlier version of",
            "fingerprint": "指纹 Hash of that version's title and text",
            "url": "原文链接 Its address then",
            "item": "内容 That version's fields",
            "valid_from": "生效 When that version was first stored (UTC)",
            "replaced_at": "被替换 When a crawl found the newer version (UTC)",
        },
    },
    "runs": {
        "title": "抓取记录 Crawl runs",
        "description": "One row per spider run: when, how it ended, what it stored, its health checks.",
        "sort_desc": "id",
        "facets": ["spider", "finish_reason"],
        "columns": {
            "id": "编号 Run number",
            "spider": "门户 Portal crawled",
            "started_at": "开始 Start (UTC)",
            "finished_at": "结束 End (UTC); empty: the run was killed",
            "finish_reason": "结束原因 finished, shutdown, closespider_timeout …",
            "new": "新增 Meetings stored for the first time",
            "updated": "更新 Meetings whose text changed",
            "moved": "迁移 Meetings found at a new address",
            "unchanged": "未变 Meetings seen again unchanged",
            "stats": "统计 Health verdict, pages, items and Scrapy's other counters",
        },
    },
    "urls": {
        "title": "已处理地址 Article addresses",
        "description": "Every article address the crawler is done with (incremental crawls skip them).",
        "facets": ["portal", "outcome"],
        "columns": {
            "url": "地址 Article address",
            "portal": "门户 Portal",
            "meeting_id": "会议 Meeting stored from it",
            "outcome": "结果 stored, redirect (to a stored article) or duplicate",
            "first_seen": "首次 First seen (UTC)",
            "last_seen": "最近 Last seen (UTC)",
        },
    },
    "store_meta": {"hidden": True},
    search.FTS_TABLE: {"hidden": True},
}

# --- canned queries ----------------------------------------------------------------------------

MEETING_LIST = (
    "id, portal, published_at, meeting_date, title, meeting_kind, chair, url"
)

QUERIES: dict[str, dict[str, Any]] = {
    "search": {
        "title": "全文检索 Search, best match first",
        "description": "Meetings whose title or text contains every word given; title matches rank first.",
        "sql": (
            f"select m.id, m.portal, m.published_at, m.title, m.meeting_kind, m.chair, m.url,\n"
            f"  round(bm25({search.FTS_TABLE}, 5.0, 1.0), 2) as rank\n"
            f"from {search.FTS_TABLE} join meetings m on m.id = {search.FTS_TABLE}.rowid\n"
            f"where {search.FTS_TABLE} match cjk_match(:words)\n"
            f"order by rank limit 200"
        ),
    },
    "portal_meetings": {
        "title": "门户会议 Meetings of a portal in a date range",
        "description": "Meeting day (else publication day) from `since` to `until`, inclusive, YYYY-MM-DD.",
        "sql": (
            f"select {MEETING_LIST} from meetings\n"
            f"where portal = :portal and {MEETING_DAY} between :since and :until\n"
            f"order by {MEETING_DAY} desc, id desc"
        ),
    },
    "chaired_by": {
        "title": "主持会议 Meetings chaired by a person",
        "description": "The chair's name, or part of it.",
        "sql": (
            f"select {MEETING_LIST} from meetings\n"
            f"where instr(chair, :person) > 0\n"
            f"order by published_at desc, id desc"
        ),
    },
    "mentioning_document": {
        "title": "涉及文件 Meetings that mention a document",
        "description": "A document title quoted in 《》, or part of it.",
        "sql": (
            f"select {MEETING_LIST}, documents from meetings\n"
            f"where exists (select 1 from json_each(meetings.documents) where instr(value, :document) > 0)\n"
            f"order by published_at desc, id desc"
        ),
    },
    "edited_since": {
        "title": "修改记录 Records edited since a date, with their earlier versions",
        "description": "Meetings whose title or text changed on or after the date (UTC, YYYY-MM-DD).",
        "sql": (
            "select m.id, m.portal, m.title, m.url, m.last_changed,\n"
            "  r.id as revision, json_extract(r.item, '$.title') as earlier_title,\n"
            "  r.valid_from as earlier_since, r.replaced_at, r.url as earlier_url\n"
            "from revisions r join meetings m on m.id = r.meeting_id\n"
            "where r.replaced_at >= :since\n"
            "order by r.replaced_at desc, r.id desc"
        ),
    },
    "run_history": {
        "title": "运行记录 Run history with health",
        "description": "Every spider run, newest first: pages fetched, what was stored, health verdict.",
        "sql": (
            f"select id, spider, started_at, finished_at, finish_reason,\n"
            f"  {PAGES_SQL} as pages, new, updated, moved, unchanged,\n"
            f"  {HEALTH_SQL} as health,\n"
            f"  json_extract(stats, '$.\"health/failures\"') as failures\n"
            f"from runs order by id desc"
        ),
    },
    "newest_meetings": {
        "title": "最新会议 Newest meetings (Atom feed: add .atom; portal optional)",
        "description": "The 50 meetings stored most recently, of one portal or all; subscribe to its .atom link.",
        "sql": (
            "select 'tag:meetings,2024:' || portal || '/' || id as atom_id, title as atom_title,\n"
            "  strftime('%Y-%m-%dT%H:%M:%SZ', first_seen) as atom_updated,\n"
            "  url as atom_link, portal as atom_author_name,\n"
            "  substr(body, 1, 400) as atom_content,\n"
            "  portal, published_at, meeting_kind, chair\n"
            "from meetings where (:portal = '' or portal = :portal)\n"
            "order by first_seen desc, published_at desc, id desc limit 50"
        ),
    },
}

# --- charts (datasette-dashboards: vega-lite, drawn in the browser from these queries) ---------

DASHBOARD = {
    "title": "会议与抓取 Meetings and crawls",
    "description": "Meetings per month per portal, and what each crawl run fetched, stored and concluded.",
    "layout": [["per-month", "per-month"], ["run-pages", "run-new"], ["run-health", "run-health"]],
    "charts": {
        "per-month": {
            "title": "每月会议 Meetings per month, by portal",
            "db": DATABASE,
            "query": (
                f"select substr({MEETING_DAY}, 1, 7) as month, portal, count(*) as meetings "
                f"from meetings where {MEETING_DAY} is not null group by month, portal order by month"
            ),
            "library": "vega-lite",
            "display": {
                "mark": {"type": "bar", "tooltip": True},
                "encoding": {
                    "x": {"field": "month", "type": "ordinal", "title": "month"},
                    "y": {"field": "meetings", "type": "quantitative", "title": "meetings"},
                    "color": {"field": "portal", "type": "nominal"},
                },
            },
        },
        "run-pages": {
            "title": "每次抓取的页面 Pages fetched per run",
            "db": DATABASE,
            "query": f"select id as run, spider, {PAGES_SQL} as pages from runs order by id",
            "library": "vega-lite",
            "display": {
                "mark": {"type": "bar", "tooltip": True},
                "encoding": {
                    "x": {"field": "run", "type": "ordinal"},
                    "y": {"field": "pages", "type": "quantitative"},
                    "color": {"field": "spider", "type": "nominal"},
                },
            },
        },
        "run-new": {
            "title": "每次抓取的新记录 New records per run",
            "db": DATABASE,
            "query": "select id as run, spider, coalesce(new, 0) as new from runs order by id",
            "library": "vega-lite",
            "display": {
                "mark": {"type": "bar", "tooltip": True},
                "encoding": {
                    "x": {"field": "run", "type": "ordinal"},
                    "y": {"field": "new", "type": "quantitative"},
                    "color": {"field": "spider", "type": "nominal"},
                },
            },
        },
        "run-health": {
            "title": "健康检查 Health per run",
            "db": DATABASE,
            "query": (
                f"select id as run, spider, coalesce({HEALTH_SQL}, 'unknown') as health "
                f"from runs order by id"
            ),
            "library": "vega-lite",
            "display": {
                "mark": {"type": "square", "size": 200, "tooltip": True},
                "encoding": {
                    "x": {"field": "run", "type": "ordinal"},
                    "y": {"field": "spider", "type": "nominal"},
                    "color": {
                        "field": "health", "type": "nominal",
                        "scale": {"domain": ["ok", "warn", "fail", "unknown"],
                                  "range": ["#2ca02c", "#ff7f0e", "#d62728", "#999999"]},
                    },
                },
            },
        },
    },
}


def metadata() -> dict[str, Any]:
    """Datasette metadata for a store served as the database ``meetings``."""
    return {
        "title": "会议记录 Government meeting records",
        "description": (
            "Executive-meeting articles collected from government portals by this crawler. "
            "Read-only. Dashboard: /-/dashboards/meetings · feed of new meetings: "
            "/meetings/newest_meetings.atom?portal= (empty: every portal)"
        ),
        "databases": {
            DATABASE: {
                "title": "会议记录 Meeting records",
                "tables": TABLES,
                "queries": QUERIES,
            }
        },
        "plugins": {"datasette-dashboards": {DATABASE: DASHBOARD}},
    }


# --- plugin hooks ------------------------------------------------------------------------------


@hookimpl(trylast=True)
def prepare_connection(conn, database, datasette):
    # trylast: after Datasette's own sql_functions plugin, so that its escape_fts (which quotes
    # each word for a word tokenizer) is replaced by the character index's query builder.
    search.register_functions(conn)
    conn.create_function("escape_fts", 1, search.match_query, deterministic=True)
    # A search, its count and each facet look up every matching meeting row: reading the file
    # through a memory map instead of copying pages halves that (bench/search.py).
    conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")


# Wide tables squeeze the text columns into slivers; give them room (a stylesheet in a URL).
TABLE_CSS = (
    "td.col-title{min-width:14em} td.col-body{min-width:28em} "
    "td.col-url,td.col-dedupe_key,td.col-index_number,td.col-atom_link{min-width:12em;word-break:break-all}"
)


@hookimpl
def extra_css_urls(database):
    if database == DATABASE:
        return ["data:text/css;charset=utf-8," + urllib.parse.quote(TABLE_CSS)]
    return []


class MeetingFacets(Facet):
    """The meetings' facets in one pass: ``{"meetings": {"columns": [...], "year": "published_at"}}``.

    Datasette's own facets run the table's query (with its search) once per facet, looking up
    every matching meeting each time; this reads the matching rows once, grouped by the
    combination of the facets' values, and sums each facet from those groups (bench/search.py).  Each comes out as Datasette's column
    facet would (``column=value`` to choose), the year one as ``column__startswith=YYYY``.
    """

    type = "meetings"

    async def facet_results(self):
        results, timed_out = [], []
        pairs = self.get_querystring_pairs()
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            facets = [(c, escape_sqlite(c), "column") for c in config.get("columns", [])]
            if config.get("year"):
                facets.append((config["year"], f"substr({escape_sqlite(config['year'])}, 1, 4)", "year"))
            if not facets:
                continue
            picked = ", ".join(f"{expr} as f{i}" for i, (_, expr, _) in enumerate(facets))
            groups = ", ".join(f"f{i}" for i in range(len(facets)))
            # One GROUP BY over the combinations, summed per facet here: one sort of the
            # matches instead of one per facet.
            sql = f"select {picked}, count(*) as n from ({self.sql}) group by {groups}"
            try:
                rows = await self.ds.execute(
                    self.database, sql, self.params, truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                )
            except QueryInterrupted:
                timed_out.extend(c for c, _, _ in facets)
                continue
            counts: list[Counter] = [Counter() for _ in facets]
            for row in rows.rows:
                for i, counter in enumerate(counts):
                    value = row[i]
                    if value is not None and value != "":
                        counter[value] += row["n"]
            by_facet = {
                i: sorted(({"value": v, "count": n} for v, n in counts[i].items()),
                          key=(lambda r: r["value"]) if kind == "year" else (lambda r: (-r["count"], r["value"])),
                          reverse=kind == "year")
                for i, (_, _, kind) in enumerate(facets)
            }
            for i, (column, _, kind) in enumerate(facets):
                key = f"{column}__startswith" if kind == "year" else column
                values = []
                for row in by_facet.get(i, [])[:size]:
                    value = str(row["value"])
                    selected = (key, value) in pairs
                    path = (path_with_removed_args(self.request, {key: value}) if selected
                            else path_with_added_args(self.request, {key: value}))
                    values.append({
                        "value": row["value"], "label": row["value"], "count": row["count"],
                        "toggle_url": self.ds.absolute_url(self.request, path), "selected": selected,
                    })
                results.append({
                    "name": column, "type": kind, "results": values, "hideable": False,
                    "toggle_url": self.ds.absolute_url(self.request, self.request.path),
                    "truncated": len(by_facet.get(i, [])) > size,
                })
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [MeetingFacets]


LIST_COLUMNS = {"breadcrumb", "documents", "attendees"}
# Datasette shows the raw value when a plugin returns an empty string: an empty list is a blank.
EMPTY = Markup("&nbsp;")


def _json_value(value):
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def _list(items, sep=None) -> Markup:
    if sep:
        return Markup(escape(sep).join(escape(str(i)) for i in items))
    return Markup("<ul style='margin:0;padding-left:1.2em'>"
                  + "".join(f"<li>{escape(str(i))}</li>" for i in items) + "</ul>")


def _link(url: str, label: str) -> str:
    if not str(url).startswith(("http://", "https://")):
        return str(escape(label))
    return f'<a href="{escape(url)}">{escape(label)}</a>'


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if database != DATABASE:
        return None
    if column == "breadcrumb":
        items = _json_value(value)
        return _list(items, " › ") if isinstance(items, list) else None
    if column in LIST_COLUMNS:
        items = _json_value(value)
        if isinstance(items, list):
            return _list(items) if items else EMPTY
        return None
    if column == "attachments":
        items = _json_value(value)
        if isinstance(items, list):
            links = [
                _link(a.get("url", ""), a.get("name") or a.get("url", "")) if isinstance(a, dict)
                else str(escape(a))
                for a in items
            ]
            return Markup("<ul style='margin:0;padding-left:1.2em'>"
                          + "".join(f"<li>{li}</li>" for li in links) + "</ul>") if links else EMPTY
        return None
    if table == "runs" and column == "stats":
        stats = _json_value(value)
        if isinstance(stats, dict):
            return _stats_label(stats)
    if table == "revisions" and column == "item":
        item = _json_value(value)
        if isinstance(item, dict):
            return Markup(f"{escape(item.get('title') or '')}"
                          f" <small>({escape(item.get('published_at') or '')})</small>")
    return None


def _stats_label(stats: dict[str, Any]) -> Markup:
    health = stats.get("health/status") or (stats.get("crawlall") or {}).get("health") or "?"
    parts = [
        f"health: {health}",
        f"pages {stats.get('response_received_count', 0)}",
        f"items {stats.get('item_scraped_count', 0)}",
        f"dropped {stats.get('item_dropped_count', 0)}",
    ]
    if stats.get("log_count/ERROR"):
        parts.append(f"errors {stats['log_count/ERROR']}")
    failures = stats.get("health/failures") or []
    text = " · ".join(parts)
    if failures:
        text += " — " + "; ".join(map(str, failures))
    return Markup(f"<span title='{escape(json.dumps(stats, ensure_ascii=False)[:4000])}'>"
                  f"{escape(text)}</span>")
