"""Full-text search over the meetings' titles and bodies: an FTS5 index of single characters.

Chinese is written without spaces, so SQLite's word tokenizers see a whole clause as one
"word", and its trigram tokenizer cannot answer a two-character query (营商, 疫情, most names).
This index stores every character of a text as one token (``营商环境`` → ``营 商 环 境``; a run of
spaces or punctuation is one break token), in an FTS5 table (``unicode61``: case folding).
A query is turned into the same tokens, as a phrase (consecutive positions), so a word of one
or more characters matches exactly the texts that contain it — the same set as
``LIKE '%word%'``, from the index (docs/browse.md has the measurements and the alternatives).

The table is contentless (``content=''``): it holds the index only, not a third copy of each
body.  Removing a meeting's old entry therefore needs the old text (FTS5's ``'delete'``
command), which the store has at hand when it replaces a record.

Kept in step by ``crawler.store.Store`` in the transaction that writes the meeting (insert,
update, and on open: a store created before this index, or with an older index version, is
indexed then), so a search sees a crawl's meetings as soon as its batch has committed.
SQLite only: a PostgreSQL store is searched through its SQLite copy (``scrapy export x.db``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

logger = logging.getLogger(__name__)

FTS_TABLE = "meetings_fts"
# Raise when the way text becomes tokens changes: the store then rebuilds the index on open.
INDEX_VERSION = "1"
META_KEY = "search_index_version"
COLUMNS = ("title", "body")

_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "title, body, content='', tokenize='unicode61')"
)


# Runs of anything unicode61 would not keep in a token (spaces, punctuation, symbols) become one
# private-use character, which unicode61 keeps as a token: a break takes a position, so
# characters on either side of it are never adjacent.
_BREAKS = re.compile(r"[\W_]+")
BREAK = "\ue000"


def index_text(text: str | None) -> str:
    """``text`` as the index stores it: one token per character (``营商环境`` → ``营 商 环 境``),
    each run of spaces or punctuation one break token."""
    if not text:
        return ""
    return " ".join(_BREAKS.sub(BREAK, text))


_TERM = re.compile(r'"[^"]*"?|[^\s"]+')
_WORDCHAR = re.compile(r"[^\W_]")


def _phrase(term: str) -> str | None:
    """One search term as an FTS5 phrase of its characters (None if it has no letter)."""
    if not _WORDCHAR.search(term):
        return None
    return '"' + index_text(term.strip()) + '"'


def match_query(query: str | None) -> str:
    """A user's search text as an FTS5 MATCH expression on this index.

    Same contract as Datasette's ``escape_fts``: every whitespace-separated term (or
    ``"quoted phrase"``) must occur; FTS5 operators typed by the user are taken as text.
    An empty query matches nothing.
    """
    phrases = []
    for m in _TERM.finditer(query or ""):
        p = _phrase(m.group(0).strip('"'))
        if p:
            phrases.append(p)
    return " AND ".join(phrases) if phrases else '""'


def register_functions(dbapi_conn) -> None:
    """SQL functions for queries on this index: ``cjk_index_text(text)``, ``cjk_match(query)``."""
    dbapi_conn.create_function("cjk_index_text", 1, index_text, deterministic=True)
    dbapi_conn.create_function("cjk_match", 1, match_query, deterministic=True)


# --- keeping the index in step (called by crawler.store inside its write transactions) -----


def _cursor(conn):
    return conn.connection.driver_connection.cursor()


def _is_sqlite(conn) -> bool:
    return conn.dialect.name == "sqlite"


def index_new(conn, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> None:
    """Index new meetings: ``rows`` are ``(meeting_id, row)`` with ``title`` and ``body``."""
    if not _is_sqlite(conn):
        return
    params = [(mid, index_text(row.get("title")), index_text(row.get("body"))) for mid, row in rows]
    if not params:
        return
    cur = _cursor(conn)
    try:
        cur.executemany(f"INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (?, ?, ?)", params)
    finally:
        cur.close()


def replace(conn, meeting_id: int, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Re-index a meeting whose title or body changed from ``old`` to ``new``."""
    if not _is_sqlite(conn):
        return
    if (old.get("title"), old.get("body")) == (new.get("title"), new.get("body")):
        return
    cur = _cursor(conn)
    try:
        cur.execute(
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, body) VALUES ('delete', ?, ?, ?)",
            (meeting_id, index_text(old.get("title")), index_text(old.get("body"))),
        )
        cur.execute(
            f"INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (?, ?, ?)",
            (meeting_id, index_text(new.get("title")), index_text(new.get("body"))),
        )
    finally:
        cur.close()


def migrate(conn, rebuild: bool = False) -> int:
    """Create the index if missing and index what it lacks; rebuild it whole when its
    version changed (or ``rebuild``).  Returns the number of meetings indexed now."""
    if not _is_sqlite(conn):
        return 0
    cur = _cursor(conn)
    try:
        cur.execute(_CREATE)
        version = cur.execute("SELECT value FROM store_meta WHERE key = ?", (META_KEY,)).fetchone()
        if rebuild or (version and version[0] != INDEX_VERSION):
            cur.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")
            missing = "SELECT id, title, body FROM meetings"
        else:
            # A store written before the index existed (or by a copy without it).
            missing = f"SELECT id, title, body FROM meetings WHERE id NOT IN (SELECT rowid FROM {FTS_TABLE})"
        n = 0
        read = conn.connection.driver_connection.cursor()
        try:
            read.execute(missing)
            while batch := read.fetchmany(1000):
                cur.executemany(
                    f"INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (?, ?, ?)",
                    [(mid, index_text(t), index_text(b)) for mid, t, b in batch],
                )
                n += len(batch)
        finally:
            read.close()
        cur.execute(
            "INSERT INTO store_meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (META_KEY, INDEX_VERSION),
        )
        if n:
            logger.info("search: indexed %d meeting(s) into %s", n, FTS_TABLE)
        return n
    finally:
        cur.close()


def search_ids(dbapi_conn, query: str) -> list[int]:
    """Meeting ids matching ``query``, best first (bm25, a title match weighs 5× a body match)."""
    return [
        r[0]
        for r in dbapi_conn.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? ORDER BY bm25({FTS_TABLE}, 5.0, 1.0)",
            (match_query(query),),
        )
    ]
