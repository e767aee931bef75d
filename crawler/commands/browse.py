"""``scrapy browse [--port P] [--host H] [--db PATH]``

Serves the SQLite store in Datasette (read-only): browse, facet and search the meetings, the
run history and the edits, with a JSON API, canned queries, an Atom feed of new meetings and
a dashboard of charts (crawler/browse.py, docs/browse.md).  Binds 127.0.0.1 by default.

The store is opened read-only (SQLite ``mode=ro``) on every connection Datasette makes, so
nothing can write through it; a crawl writing the store at the same time is seen at once.
Before serving, a store without an up-to-date search index is indexed (the only write, by the
store's own migration).  A PostgreSQL store: ``scrapy export meetings.db`` first, then
``scrapy browse --db meetings.db``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sqlite3
import sys
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

logger = logging.getLogger(__name__)


def sqlite_path(value: str) -> Path:
    """The file of a ``--db`` value or ``MEETINGS_DB`` URL (UsageError for PostgreSQL)."""
    from crawler.store import resolve_db_url

    if "://" not in value:
        return Path(value).resolve()
    url = resolve_db_url(value)
    if url.get_backend_name() != "sqlite":
        raise UsageError(
            "browse serves a SQLite store; for PostgreSQL write a copy first: "
            "scrapy export meetings.db, then scrapy browse --db meetings.db"
        )
    return Path(url.database)


def index_is_current(path: Path) -> bool:
    """Whether the store's search index exists, has the current version and every meeting
    (checked on a read-only connection)."""
    from crawler.store import search

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = conn.execute(
            "SELECT value FROM store_meta WHERE key = ?", (search.META_KEY,)
        ).fetchone()
        if not version or version[0] != search.INDEX_VERSION:
            return False
        missing = conn.execute(
            f"SELECT count(*) FROM meetings WHERE id NOT IN (SELECT rowid FROM {search.FTS_TABLE})"
        ).fetchone()[0]
        return missing == 0
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def prepare_store(path: Path) -> None:
    """Bring the store's schema and search index up to date (the store's own migration)."""
    if index_is_current(path):
        return
    from crawler.store import Store

    try:
        Store(f"sqlite:///{path}").close()
    except Exception as e:  # noqa: BLE001 - a read-only copy is still worth browsing
        logger.warning("browse: cannot index %s (%s); search may miss meetings", path, e)
        print(f"browse: warning: cannot update the search index of {path}: {e}", file=sys.stderr)


def make_datasette(path: Path, *, settings: dict[str, Any] | None = None):
    """A Datasette serving the store at ``path`` read-only as the database ``meetings``."""
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.plugins import pm

    import crawler.browse as plugin

    if not pm.is_registered(plugin):
        pm.register(plugin, name="crawler.browse")

    class ReadOnlyDatabase(Database):
        # Every connection, including the one Datasette would write through, is mode=ro:
        # SQLite itself refuses writes.  Mutable (not immutable=1): new commits are seen.
        def connect(self, write=False):
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._all_file_connections.append(conn)
            return conn

    ds = Datasette(
        metadata=plugin.metadata(),
        settings={"facet_time_limit_ms": 500, "sql_time_limit_ms": 3000,
                  "truncate_cells_html": 160,  # a body is pages long; the row page shows it whole
                  # Suggesting facets runs a query per column on every page: seconds on a large store.
                  "suggest_facets": False,
                  # The store changes under it (crawls): no page may be served from a cache.
                  "default_cache_ttl": 0,
                  **(settings or {})},
    )
    ds.add_database(ReadOnlyDatabase(ds, path=str(path), is_mutable=True), name=plugin.DATABASE)
    return ds


def serve(ds, host: str, port: int) -> None:
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    print(f"browse: serving http://{shown}:{bound}/ (Ctrl-C to stop)", flush=True)

    async def main():
        await ds.invoke_startup()
        config = uvicorn.Config(ds.app(), log_level="warning", lifespan="on")
        await uvicorn.Server(config).serve(sockets=[sock])

    asyncio.run(main())


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "[--port P] [--host H] [--db PATH]"

    def short_desc(self) -> str:
        return "Browse, search and chart the stored meetings in Datasette (read-only)"

    def long_desc(self) -> str:
        return (__doc__ or "").strip()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--port", type=int, default=8001, help="port (default 8001; 0: any free)")
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument(
            "--db", metavar="PATH",
            help="SQLite file or sqlite:/// URL to serve (default: MEETINGS_DB)",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("browse takes no arguments")
        assert self.settings is not None
        from crawler.store import DEFAULT_DB

        path = sqlite_path(opts.db or self.settings.get("MEETINGS_DB") or DEFAULT_DB)
        if not path.is_file():
            raise UsageError(f"no store at {path}: crawl first, or give --db PATH")
        prepare_store(path)
        serve(make_datasette(path), opts.host, opts.port)
