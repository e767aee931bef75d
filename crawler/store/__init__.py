"""The meeting store: the only module that talks SQL.

One code path (SQLAlchemy Core) for the embedded SQLite default and for PostgreSQL, chosen by
the ``MEETINGS_DB`` setting, a database URL (on SQLite the batch writes skip SQLAlchemy's
execution layer: :meth:`Store._execute_each`)::

    sqlite:///data/meetings.db          (relative: to the project directory, else the cwd)
    sqlite:////var/lib/meetings.db      (absolute)
    postgresql://user@host:5432/dbname  (driven by psycopg 3)

Tables (created, or migrated by adding missing columns, on open):

``meetings``   one row per meeting: every item field (list fields as JSON), the dedupe key,
               ``first_seen``, ``last_seen``, ``last_changed``; unique (portal, dedupe_key).
``revisions``  earlier versions of a meeting, kept when its fingerprint changed.
``urls``       every article URL the crawler has finished with: the URLs of stored meetings
               (also the old URL of a moved article) and article pages that produced no
               meeting; the incremental middleware reads it to skip what is already known.
``runs``       one row per spider run: spider, start, end, finish reason, counts, stats JSON.
``store_meta`` key/value, holds the schema version.

Writes are upserts (``INSERT … ON CONFLICT``) in one short transaction per batch of items, so
several workers may share one PostgreSQL database, and an item counts as seen only once committed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from crawler.store import search
from crawler.items import FIELDS, LIST_FIELDS

logger = logging.getLogger(__name__)

DEFAULT_DB = "sqlite:///data/meetings.db"
SCHEMA_VERSION = 2
# Indexed text is kept far below PostgreSQL's btree row limit (2,704 bytes; SQLite has none,
# and behaves the same): a dedupe key or a ``urls`` key longer than this many UTF-8 bytes is
# stored as its head and the SHA-256 of the whole (``bounded``); ``meetings.url`` is indexed
# by its first URL_INDEX_CHARS characters (at most 4 bytes each).
KEY_MAX_BYTES = 1024
URL_INDEX_CHARS = 512
# Store calls run on the reactor thread: how long one may wait for a lock before it fails
# (SQLite busy timeout; PostgreSQL lock_timeout), and, on PostgreSQL, run at all
# (statement_timeout).  Settings STORE_LOCK_TIMEOUT / STORE_STATEMENT_TIMEOUT (seconds).
LOCK_TIMEOUT_S = 10.0
STATEMENT_TIMEOUT_S = 30.0
INT_FIELDS = ("meeting_number", "term")

# Outcomes of Store.upsert(); FAILED only from Store.upsert_each()
NEW, UPDATED, MOVED, UNCHANGED, FAILED = "new", "updated", "moved", "unchanged", "failed"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes on both dialects (SQLite stores them naive, as ISO text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _json():
    # json on PostgreSQL (keeps text and key order as written), JSON text on SQLite.
    return sa.JSON()


metadata = sa.MetaData()


def _item_columns() -> list[sa.Column]:
    cols = []
    for name in FIELDS:
        if name in LIST_FIELDS:
            cols.append(sa.Column(name, _json(), nullable=True))
        elif name in INT_FIELDS:
            cols.append(sa.Column(name, sa.Integer, nullable=True))
        elif name == "body":
            cols.append(sa.Column(name, sa.Text, nullable=True))
        elif name in ("portal", "url"):
            continue  # declared explicitly below
        else:
            cols.append(sa.Column(name, sa.Text, nullable=True))
    return cols


meetings = sa.Table(
    "meetings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("portal", sa.String(64), nullable=False),
    sa.Column("dedupe_key", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    *_item_columns(),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("last_seen", UTCDateTime, nullable=False),
    sa.Column("last_changed", UTCDateTime, nullable=False),
    sa.UniqueConstraint("portal", "dedupe_key", name="uq_meetings_portal_key"),
    sa.Index("ix_meetings_portal_published", "portal", "published_at"),
)
# A prefix: a whole URL may pass the btree row limit (redirect URLs are unbounded).
ix_meetings_url = sa.Index("ix_meetings_url", sa.func.substr(meetings.c.url, 1, URL_INDEX_CHARS))

revisions = sa.Table(
    "revisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "meeting_id", sa.Integer, sa.ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("fingerprint", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("item", _json(), nullable=False),  # the whole earlier version, SCHEMA fields
    sa.Column("valid_from", UTCDateTime),  # its last_changed
    sa.Column("replaced_at", UTCDateTime, nullable=False),
    sa.Index("ix_revisions_meeting", "meeting_id"),
)

urls = sa.Table(
    "urls",
    metadata,
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("portal", sa.String(64), nullable=False),
    sa.Column(
        "meeting_id", sa.Integer, sa.ForeignKey("meetings.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column("outcome", sa.String(32), nullable=False),  # stored | redirect | duplicate (| no_item)
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("last_seen", UTCDateTime, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("spider", sa.String(64), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("finish_reason", sa.Text),
    sa.Column("new", sa.Integer),
    sa.Column("updated", sa.Integer),
    sa.Column("moved", sa.Integer),
    sa.Column("unchanged", sa.Integer),
    sa.Column("stats", _json()),
)

store_meta = sa.Table(
    "store_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text),
)


# --- keys and conversions ------------------------------------------------------------------


def bounded(value: str, limit: int = KEY_MAX_BYTES) -> str:
    """``value`` itself when its UTF-8 form fits ``limit`` bytes, else its head and ``#`` and
    the SHA-256 of the whole value, ``limit`` bytes at most: still one key per value, and
    small enough for any btree index."""
    raw = value.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return value
    digest = hashlib.sha256(raw).hexdigest()
    head = raw[: limit - len(digest) - 1].decode("utf-8", "ignore")
    return f"{head}#{digest}"


def dedupe_key(item: Mapping[str, Any]) -> str:
    """The meeting's key within its portal (see SCHEMA.md).

    ``idx:<index_number>`` where the portal prints an index number, otherwise
    ``pub:<published date>|<title>``; past KEY_MAX_BYTES, :func:`bounded`.
    """
    index_number = (item.get("index_number") or "").strip()
    if index_number:
        return bounded(f"idx:{index_number}")
    published = (item.get("published_at") or "")[:10]
    title = " ".join((item.get("title") or "").split())
    return bounded(f"pub:{published}|{title}")


def url_key(url: str) -> str:
    """The key of an article address in the ``urls`` table (:func:`bounded`)."""
    return bounded(url)


def item_key(item: Mapping[str, Any]) -> tuple[str, str]:
    return (item.get("portal") or "", dedupe_key(item))


def item_to_row(item: Mapping[str, Any]) -> dict[str, Any]:
    row = {}
    for name in FIELDS:
        value = item.get(name)
        if name in LIST_FIELDS:
            value = list(value) if value is not None else []
        elif name in INT_FIELDS and value is not None and value != "":
            value = int(value)
        elif value == "":
            value = None if name not in ("portal", "url") else value
        row[name] = value
    return row


def row_to_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row back to an item dict, fields in SCHEMA order, lists as lists."""
    out = {}
    for name in FIELDS:
        value = row.get(name)
        if name in LIST_FIELDS:
            if isinstance(value, str):
                value = json.loads(value)
            value = list(value or [])
        out[name] = value
    return out


# --- URLs -----------------------------------------------------------------------------------


def resolve_db_url(url: str | None, base_dir: str | os.PathLike | None = None) -> sa.URL:
    """Turn a ``MEETINGS_DB`` value into an SQLAlchemy URL.

    ``postgresql://`` / ``postgres://`` use psycopg 3.  A relative SQLite path is taken
    relative to ``base_dir`` (default: the project directory holding scrapy.cfg, else the
    current directory) and its directory is created.
    """
    url = (url or DEFAULT_DB).strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    if u.get_backend_name() == "sqlite":
        db = u.database
        if not db or db == ":memory:":
            raise ValueError("MEETINGS_DB: an in-memory SQLite store keeps nothing; give a file")
        path = Path(db)
        if not path.is_absolute():
            if base_dir is None:
                base_dir = _project_dir()
            path = Path(base_dir) / path
        path.parent.mkdir(parents=True, exist_ok=True)
        u = u.set(database=str(path))
    return u


def _project_dir() -> Path:
    try:
        from scrapy.utils.conf import closest_scrapy_cfg

        cfg = closest_scrapy_cfg()
    except Exception:  # pragma: no cover
        cfg = ""
    return Path(cfg).parent if cfg else Path.cwd()


# --- the store ------------------------------------------------------------------------------


def _switch_to_wal(cur, timeout: float) -> None:
    """Put the database in WAL mode, waiting up to ``timeout`` seconds for the access it needs.

    Switching a new database to WAL takes exclusive access, and SQLite answers "database is
    locked" at once, without its busy handler, when another connection opens the same new file
    in that moment (two crawl processes of one crawlall starting together): 1 in 3 of such
    openings failed.  So the switch is tried again until it is done or ``timeout`` has passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


class Store:
    """A meeting store on one database.  Thread-safe; open once per process.

    API:
      ``Store(url)`` / ``Store.from_settings(settings)`` / ``get_store(crawler)`` (shared)
      ``upsert(item, now=None) -> (outcome, meeting_id)`` outcome in new/updated/moved/unchanged
      ``mark_url(url, portal, outcome)``            an article page finished without a meeting
      ``fresh_urls(urls, max_age_days) -> set``     which URLs are known and seen recently
      ``start_run(spider) -> run_id`` / ``finish_run(run_id, reason, stats, counts)``
      ``iter_items(portal=None, since=None, changed_since=None)`` SCHEMA-ordered dicts
      ``get(portal, key)`` / ``count()`` / ``revisions_of(meeting_id)`` / ``runs()``
      ``last_run(spider, before=None)``
      ``runs_since(since, spider=None)`` / ``recent_runs(spider, before)`` / ``update_run_stats(run_id, extra)``
      ``portal_history(spider, before=None) -> {runs, first_run, last_new}``
      ``close()``
    """

    def __init__(self, url: str | sa.URL | None = None, *, base_dir=None, echo: bool = False,
                 lock_timeout: float = LOCK_TIMEOUT_S, statement_timeout: float = STATEMENT_TIMEOUT_S):
        self.url = url if isinstance(url, sa.URL) else resolve_db_url(url, base_dir)
        self.dialect = self.url.get_backend_name()
        self.lock_timeout, self.statement_timeout = lock_timeout, statement_timeout
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"timeout": lock_timeout, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = sa.create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            self._setup_sqlite()
        else:
            self._setup_postgresql()
        self._lock = threading.RLock()
        # Batch writes on SQLite skip SQLAlchemy's execution layer (see _execute_each).
        self.sqlite_fast_path = True
        self.migrate()

    @classmethod
    def from_settings(cls, settings) -> Store:
        return cls(settings.get("MEETINGS_DB") or DEFAULT_DB,
                   lock_timeout=settings.getfloat("STORE_LOCK_TIMEOUT", LOCK_TIMEOUT_S),
                   statement_timeout=settings.getfloat("STORE_STATEMENT_TIMEOUT", STATEMENT_TIMEOUT_S))

    def __repr__(self) -> str:
        return f"<Store {self.url.render_as_string(hide_password=True)}>"

    # -- connection setup

    def _setup_sqlite(self) -> None:
        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn, _record):
            # Let SQLAlchemy, not the driver, begin transactions (see the "begin" hook).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={int(self.lock_timeout * 1000)}")
            _switch_to_wal(cur, self.lock_timeout)
            # WAL + NORMAL survives a crash of the process; after a power cut the last
            # commits may be lost — and with them the "seen" marks, so nothing is skipped.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn):
            # Writers take the write lock up front (read-then-write transactions cannot
            # deadlock on lock upgrade); readers do not block anybody.
            if conn.get_execution_options().get("store_write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

    def _setup_postgresql(self) -> None:
        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn, _record):
            # Store calls run on the reactor thread: a lock held elsewhere (another worker, an
            # operator's session) makes a statement fail after lock_timeout instead of
            # freezing the crawl past its time limit.  0 (the setting) means no limit.
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET lock_timeout = {int(self.lock_timeout * 1000)}")
                cur.execute(f"SET statement_timeout = {int(self.statement_timeout * 1000)}")
            dbapi_conn.commit()

    @contextmanager
    def _write(self):
        """A write transaction: committed on exit, rolled back on error."""
        with self._lock, self.engine.connect() as conn:
            conn.execution_options(store_write=True)
            with conn.begin():
                yield conn

    # -- schema

    def migrate(self) -> None:
        """Create missing tables, indexes and columns (additive migrations only)."""
        with self._write() as conn:
            if self.dialect == "postgresql":
                # One migrator at a time when several workers start together.
                # A migration may rewrite a large table; another migrator may hold the lock.
                conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
                conn.exec_driver_sql("SET LOCAL lock_timeout = '120s'")
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74657301)")
            had_meetings = sa.inspect(conn).has_table("meetings")
            metadata.create_all(conn, checkfirst=True)
            insp = sa.inspect(conn)
            for table in metadata.sorted_tables:
                have = {c["name"] for c in insp.get_columns(table.name)}
                for col in table.columns:
                    if col.name not in have:
                        ddl_type = col.type.compile(dialect=conn.dialect)
                        logger.info("store: adding column %s.%s", table.name, col.name)
                        conn.exec_driver_sql(
                            f'ALTER TABLE {table.name} ADD COLUMN "{col.name}" {ddl_type}'
                        )
            version = conn.execute(
                sa.select(store_meta.c.value).where(store_meta.c.key == "schema_version")
            ).scalar_one_or_none()
            if had_meetings and int(version or 1) < 2:
                self._migrate_bounded_keys(conn)
            self._upsert_stmt(
                conn,
                store_meta,
                {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                ["key"],
                update={"value": str(SCHEMA_VERSION)},
            )
            search.migrate(conn)  # the full-text index (SQLite): created, or completed

    def _migrate_bounded_keys(self, conn) -> None:
        """Schema 2: ``ix_meetings_url`` on a prefix of the URL; dedupe keys and ``urls`` keys
        past KEY_MAX_BYTES rewritten to their :func:`bounded` form (SQLite stores may hold
        such keys; PostgreSQL could not)."""
        logger.info("store: migrating to schema 2 (bounded index keys)")
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_meetings_url")
        ix_meetings_url.create(conn)
        longer = KEY_MAX_BYTES // 4  # characters: no shorter text has more bytes
        for mid, key in conn.execute(
            sa.select(meetings.c.id, meetings.c.dedupe_key).where(sa.func.length(meetings.c.dedupe_key) > longer)
        ).all():
            if bounded(key) != key:
                conn.execute(meetings.update().where(meetings.c.id == mid).values(dedupe_key=bounded(key)))
        for (url,) in conn.execute(sa.select(urls.c.url).where(sa.func.length(urls.c.url) > longer)).all():
            if url_key(url) != url:
                conn.execute(urls.update().where(urls.c.url == url).values(url=url_key(url)))

    def _insert(self, table):
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def _upsert_stmt(self, conn, table, values, index_elements, update=None):
        stmt = self._insert(table).values(**values)
        if update:
            stmt = stmt.on_conflict_do_update(index_elements=index_elements, set_=update)
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=index_elements)
        return conn.execute(stmt)

    # -- writes

    def upsert(self, item: Mapping[str, Any], now: datetime | None = None) -> tuple[str, int]:
        """Store one finished item, in its own transaction (see :meth:`upsert_many`)."""
        return self.upsert_many([(item, ())], now)[0]

    def upsert_many(
        self, entries: Iterable[tuple[Mapping[str, Any], Iterable[str]]], now: datetime | None = None
    ) -> list[tuple[str, int]]:
        """Store finished items in one transaction: all of them or none.

        ``entries`` are ``(item, aliases)``: ``aliases`` are other URLs that led to the item
        (redirects), recorded so that incremental runs need not fetch them again.  Returns
        ``(outcome, meeting_id)`` per item: ``new``; ``updated`` (fingerprint changed: the
        previous version went to ``revisions``); ``moved`` (same content at a new URL: the
        URL is updated); ``unchanged`` (only ``last_seen`` moves).
        """
        now = now or utcnow()
        prepared = []
        for item, aliases in entries:
            row = item_to_row(item)
            if not row.get("portal") or not row.get("url"):
                raise ValueError("an item needs portal and url to be stored")
            prepared.append((row, list(aliases)))
        results: list[tuple[str, int]] = []
        with self._write() as conn:
            # One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING for the batch: the
            # rows it returns are new; the others exist and take the per-row path.
            keyed = [(row, aliases, dedupe_key(row)) for row, aliases in prepared]
            bulk = len({(row["portal"], key) for row, _, key in keyed}) == len(keyed)
            inserted = {}
            if bulk:
                inserted = {
                    (portal, key): mid
                    for mid, portal, key in self._execute_each(
                        conn, "insert_meeting",
                        [{**row, "dedupe_key": key, "first_seen": now, "last_seen": now, "last_changed": now}
                         for row, _, key in keyed],
                    )
                }
            search.index_new(conn, [(mid, row) for (row, _, key) in keyed
                                    if (mid := inserted.get((row["portal"], key))) is not None])
            marks = []
            for row, aliases, key in keyed:
                if (row["portal"], key) in inserted:
                    outcome, mid = NEW, inserted[row["portal"], key]
                else:
                    outcome, mid = self._upsert_row(conn, row, now, try_insert=not bulk)
                results.append((outcome, mid))
                for url, how in ((row["url"], "stored"), *((a, "redirect") for a in aliases)):
                    marks.append({"url": url_key(url), "portal": row["portal"], "meeting_id": mid,
                                  "outcome": how, "first_seen": now, "last_seen": now})
            self._execute_each(conn, "mark_url", marks)
        return results

    def upsert_each(
        self, entries: Iterable[tuple[Mapping[str, Any], Iterable[str]]], now: datetime | None = None
    ) -> list[tuple[str, Any]]:
        """:meth:`upsert_many`, except that an item that cannot be stored does not take the
        others with it: when the batch fails, its items are stored one transaction each, and
        an item that fails alone gets ``(FAILED, the exception)``.  A batch refused for what
        is no item's fault (a lock wait past the lock timeout, a statement timeout, a lost
        connection: ``BATCH_ERRORS``) fails as a whole, at once."""
        entries = [(item, list(aliases)) for item, aliases in entries]
        try:
            return self.upsert_many(entries, now)
        except BATCH_ERRORS as e:
            # A lock wait, a timeout, a lost connection: no item is to blame, and retrying
            # them one by one would wait once per item.
            return [(FAILED, e)] * len(entries)
        except ROW_ERRORS as e:
            if len(entries) == 1:
                return [(FAILED, e)]
        out: list[tuple[str, Any]] = []
        for entry in entries:
            try:
                out.extend(self.upsert_many([entry], now))
            except ROW_ERRORS as e:
                out.append((FAILED, e))
        return out

    def _upsert_row(self, conn, row: dict[str, Any], now: datetime, try_insert: bool = True) -> tuple[str, int]:
        portal, key = row["portal"], dedupe_key(row)
        if try_insert:
            # Statements built once, values as parameters: building an INSERT of ~30 columns
            # per item cost ~1.2 ms of CPU, more than parsing the page (bench/run.py).
            inserted = conn.execute(
                self._stmt("insert_meeting"),
                {**row, "dedupe_key": key, "first_seen": now, "last_seen": now, "last_changed": now},
            ).first()
            if inserted is not None:
                search.index_new(conn, [(inserted.id, row)])
                return NEW, inserted.id
        old = (
            conn.execute(
                sa.select(meetings)
                .where(meetings.c.portal == portal, meetings.c.dedupe_key == key)
                .with_for_update()
            )
            .mappings()
            .one()
        )
        mid = old["id"]
        if (old["fingerprint"] or None) != (row.get("fingerprint") or None):
            conn.execute(
                revisions.insert().values(
                    meeting_id=mid,
                    fingerprint=old["fingerprint"],
                    url=old["url"],
                    item=row_to_item(old),
                    valid_from=old["last_changed"],
                    replaced_at=now,
                )
            )
            conn.execute(
                meetings.update().where(meetings.c.id == mid).values(**row, last_seen=now, last_changed=now)
            )
            search.replace(conn, mid, old, row)
            return UPDATED, mid
        if old["url"] != row["url"]:
            # The same meeting at a new address (a portal's new CMS): the record takes what the
            # new page prints around it too (breadcrumb, category …), not only its URL.
            conn.execute(
                meetings.update()
                .where(meetings.c.id == mid)
                .values(**row, last_seen=now, last_changed=now)
            )
            search.replace(conn, mid, old, row)  # a no-op unless its text differs
            return MOVED, mid
        conn.execute(meetings.update().where(meetings.c.id == mid).values(last_seen=now))
        return UNCHANGED, mid

    def _stmt(self, name: str):
        """The write statements of every item, built once (parameters bound at execution)."""
        cache = self.__dict__.setdefault("_stmts", {})
        if name not in cache:
            if name == "insert_meeting":
                cache[name] = (
                    self._insert(meetings)
                    .on_conflict_do_nothing(index_elements=["portal", "dedupe_key"])
                    .returning(meetings.c.id, meetings.c.portal, meetings.c.dedupe_key)
                )
            elif name == "mark_url":
                ins = self._insert(urls)
                # meeting_id: the new one, or the old one when none is given
                cache[name] = ins.on_conflict_do_update(
                    index_elements=["url"],
                    set_={
                        "last_seen": ins.excluded.last_seen,
                        "outcome": ins.excluded.outcome,
                        "portal": ins.excluded.portal,
                        "meeting_id": sa.func.coalesce(ins.excluded.meeting_id, urls.c.meeting_id),
                    },
                )
        return cache[name]

    def _execute_each(self, conn, name: str, rows: list[dict[str, Any]]) -> list[tuple]:
        """Run the statement ``name`` once per row (same keys in every row); the rows it
        returns.

        On SQLite the statement, compiled once by SQLAlchemy, goes straight to the driver
        with the values converted by the columns' own bind processors: SQLAlchemy's
        per-execution bookkeeping for a batch of meetings cost more CPU than the page
        parse (bench/store_writes.py), and SQLite has no network round trip to save.  Rows
        come out as the SQLAlchemy path would store them (tests/test_store.py compares).
        """
        if not rows:
            return []
        if self.dialect != "sqlite" or not self.sqlite_fast_path:
            result = conn.execute(self._stmt(name), rows)
            return [tuple(r) for r in result] if result.returns_rows else []
        sql, keys, processors, returning = self._driver_stmt(conn, name, tuple(rows[0]))
        params = [
            tuple(value if proc is None else proc(value) for value, proc in zip(map(row.__getitem__, keys), processors))
            for row in rows
        ]
        cursor = conn.connection.driver_connection.cursor()
        try:
            if not returning:
                cursor.executemany(sql, params)
                return []
            # sqlite3 cannot return rows from executemany: one prepared statement, run per row.
            out = []
            for p in params:
                out.extend(cursor.execute(sql, p).fetchall())
            return out
        finally:
            cursor.close()

    def _driver_stmt(self, conn, name: str, keys: tuple[str, ...]):
        """``name`` compiled for the driver for rows with ``keys``: its SQL, the parameter
        names in order, their bind processors and whether it returns rows."""
        cache = self.__dict__.setdefault("_driver_stmts", {})
        if (name, keys) not in cache:
            stmt = self._stmt(name)
            dialect = conn.dialect
            compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
            order = tuple(compiled.positiontup)
            processors = []
            for key in order:
                type_ = compiled.binds[key].type
                proc = type_.dialect_impl(dialect).bind_processor(dialect)
                if proc is not None and isinstance(type_, (sa.DateTime, UTCDateTime)):
                    # A batch stamps every row with the same few datetimes.
                    proc = lru_cache(maxsize=8)(proc)
                processors.append(proc)
            cache[name, keys] = (str(compiled), order, tuple(processors), bool(compiled.effective_returning))
        return cache[name, keys]

    def _mark_url(self, conn, url, portal, outcome, now, meeting_id=None):
        conn.execute(
            self._stmt("mark_url"),
            {
                "url": url,
                "portal": portal,
                "meeting_id": meeting_id,
                "outcome": outcome,
                "first_seen": now,
                "last_seen": now,
            },
        )

    def mark_url(self, url: str, portal: str, outcome: str, now: datetime | None = None) -> None:
        """Record an article URL that was fetched and finished without storing a meeting
        (``no_item``: the page is not a meeting article; ``duplicate``: it repeats a meeting
        already taken in this run), so that incremental runs need not fetch it again."""
        now = now or utcnow()
        url = url_key(url)
        with self._write() as conn:
            existing = conn.execute(
                sa.select(urls.c.outcome).where(urls.c.url == url)
            ).scalar_one_or_none()
            if existing == "stored" and outcome != "stored":
                # Keep the link to its meeting; just note it was seen again.
                conn.execute(urls.update().where(urls.c.url == url).values(last_seen=now))
            else:
                self._mark_url(conn, url, portal, outcome, now)

    # -- runs

    def start_run(self, spider: str, now: datetime | None = None) -> int:
        with self._write() as conn:
            return conn.execute(
                runs.insert()
                .values(spider=spider, started_at=now or utcnow())
                .returning(runs.c.id)
            ).scalar_one()

    def finish_run(
        self,
        run_id: int,
        reason: str | None,
        stats: Mapping[str, Any] | None = None,
        counts: Mapping[str, int] | None = None,
        now: datetime | None = None,
    ) -> None:
        counts = counts or {}
        with self._write() as conn:
            conn.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(
                    finished_at=now or utcnow(),
                    finish_reason=reason,
                    new=counts.get(NEW, 0),
                    updated=counts.get(UPDATED, 0),
                    moved=counts.get(MOVED, 0),
                    unchanged=counts.get(UNCHANGED, 0),
                    stats=_jsonable(stats or {}),
                )
            )

    # -- reads

    def fresh_urls(
        self, candidates: Iterable[str], max_age_days: float | None, now: datetime | None = None
    ) -> set[str]:
        """The subset of ``candidates`` the store has finished with, seen within
        ``max_age_days`` (None or <= 0: any age)."""
        keys = {url_key(u): u for u in candidates if u}
        candidates = list(keys)
        if not candidates:
            return set()
        cond = []
        if max_age_days is not None and max_age_days > 0:
            cutoff = (now or utcnow()) - timedelta(days=max_age_days)
            cond.append(urls.c.last_seen >= cutoff)
        found: set[str] = set()
        with self.engine.connect() as conn:
            for i in range(0, len(candidates), 500):
                chunk = candidates[i : i + 500]
                found.update(
                    conn.execute(
                        sa.select(urls.c.url).where(urls.c.url.in_(chunk), *cond)
                    ).scalars()
                )
        return {keys[k] for k in found}

    def iter_items(
        self,
        portal: str | None = None,
        since: str | None = None,
        changed_since: str | datetime | None = None,
        batch: int = 500,
    ) -> Iterator[dict[str, Any]]:
        """Stored meetings as SCHEMA-ordered dicts, by portal, published_at, id.

        ``since``: ISO date, meetings published on or after it.  ``changed_since``: ISO date
        or datetime, meetings first stored or changed on or after it.
        """
        q = sa.select(meetings)
        if portal:
            q = q.where(meetings.c.portal == portal)
        if since:
            q = q.where(meetings.c.published_at >= since[:10])
        if changed_since:
            if isinstance(changed_since, str):
                changed_since = datetime.fromisoformat(changed_since)
            q = q.where(meetings.c.last_changed >= changed_since)
        q = q.order_by(meetings.c.portal, meetings.c.published_at, meetings.c.id)
        # Keyset pagination: no long-lived cursor, works the same on both dialects.
        last = None
        while True:
            page = q
            if last is not None:
                page = page.where(
                    sa.tuple_(
                        meetings.c.portal,
                        sa.func.coalesce(meetings.c.published_at, ""),
                        meetings.c.id,
                    )
                    > sa.tuple_(*last)
                )
            page = page.order_by(None).order_by(
                meetings.c.portal, sa.func.coalesce(meetings.c.published_at, ""), meetings.c.id
            ).limit(batch)
            with self.engine.connect() as conn:
                rows = conn.execute(page).mappings().all()
            if not rows:
                return
            for r in rows:
                yield row_to_item(r)
            r = rows[-1]
            last = (r["portal"], r["published_at"] or "", r["id"])

    def get(self, portal: str, key: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            r = (
                conn.execute(
                    sa.select(meetings).where(
                        meetings.c.portal == portal, meetings.c.dedupe_key == key
                    )
                )
                .mappings()
                .first()
            )
        return dict(r) if r else None

    def count(self, table: str = "meetings") -> int:
        t = metadata.tables[table]
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()

    def revisions_of(self, meeting_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [
                dict(r)
                for r in conn.execute(
                    sa.select(revisions)
                    .where(revisions.c.meeting_id == meeting_id)
                    .order_by(revisions.c.id)
                ).mappings()
            ]

    def last_run(self, spider: str, before: datetime | None = None) -> dict[str, Any] | None:
        """The latest run of ``spider`` started before ``before`` (default: any)."""
        q = sa.select(runs).where(runs.c.spider == spider)
        if before is not None:
            q = q.where(runs.c.started_at < before)
        q = q.order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(1)
        with self.engine.connect() as conn:
            r = conn.execute(q).mappings().first()
        return dict(r) if r else None

    def runs(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(runs).order_by(runs.c.id)).mappings()]

    # -- run history (health checks, crawlall summaries)

    def runs_since(self, since: datetime, spider: str | None = None) -> list[dict[str, Any]]:
        """Runs started at or after ``since`` (of ``spider``, or of any spider), oldest first."""
        q = sa.select(runs).where(runs.c.started_at >= since)
        if spider is not None:
            q = q.where(runs.c.spider == spider)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q.order_by(runs.c.id)).mappings()]

    def recent_runs(self, spider: str, before: datetime, limit: int = 20) -> list[dict[str, Any]]:
        """The latest ``limit`` runs of ``spider`` started before ``before``, newest first
        (crawlall's alerts read what the previous runs reported)."""
        q = (sa.select(runs).where(runs.c.spider == spider, runs.c.started_at < before)
             .order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def update_run_stats(self, run_id: int, extra: Mapping[str, Any]) -> None:
        """Merge ``extra`` into the stats JSON of run ``run_id`` (e.g. a crawlall summary and
        health verdict, added after the spider closed)."""
        with self._write() as conn:
            old = conn.execute(sa.select(runs.c.stats).where(runs.c.id == run_id)).scalar_one_or_none()
            if isinstance(old, str):
                old = json.loads(old)
            merged = {**(old or {}), **_jsonable(dict(extra))}
            conn.execute(runs.update().where(runs.c.id == run_id).values(stats=merged))

    def portal_history(self, spider: str, before: datetime | None = None) -> dict[str, Any]:
        """What the run history says about ``spider``: ``runs`` (count), ``first_run``
        (earliest start), ``last_new`` (end of the latest run that stored a new record, else
        the latest ``first_seen`` of its meetings), all among runs started before ``before``."""
        cond = [runs.c.spider == spider]
        if before is not None:
            cond.append(runs.c.started_at < before)
        with self.engine.connect() as conn:
            count, first = conn.execute(
                sa.select(sa.func.count(), sa.func.min(runs.c.started_at)).where(*cond)
            ).one()
            last_new = conn.execute(
                sa.select(sa.func.max(sa.func.coalesce(runs.c.finished_at, runs.c.started_at)))
                .where(*cond, runs.c.new > 0)
            ).scalar_one_or_none()
            seen_cond = [meetings.c.portal == spider]
            if before is not None:
                seen_cond.append(meetings.c.first_seen < before)
            seen = conn.execute(
                sa.select(sa.func.max(meetings.c.first_seen)).where(*seen_cond)
            ).scalar_one_or_none()
        as_dt = lambda v: UTCDateTime().process_result_value(  # noqa: E731
            datetime.fromisoformat(v) if isinstance(v, str) else v, self.engine.dialect
        )
        first, last_new, seen = as_dt(first), as_dt(last_new), as_dt(seen)
        candidates = [d for d in (last_new, seen) if d is not None]
        return {"runs": count, "first_run": first, "last_new": max(candidates) if candidates else None}

    def close(self) -> None:
        self.engine.dispose()


# What storing one item may raise: the database's refusal (either driver, or SQLAlchemy's
# wrapping of it), or a value that does not convert.
ROW_ERRORS = (sa.exc.SQLAlchemyError, sqlite3.Error, ValueError, TypeError, OverflowError)
# What refuses a whole batch rather than one of its rows.
BATCH_ERRORS = (sa.exc.OperationalError, sqlite3.OperationalError)


def check_storable(item: Mapping[str, Any]) -> str | None:
    """Why ``item`` cannot be stored identically on both dialects (``bad_number``, ``nul``:
    PostgreSQL text cannot hold U+0000, ``bad_unicode``: a lone surrogate), or None."""
    try:
        row = item_to_row(item)
    except (ValueError, TypeError, OverflowError):
        return "bad_number"
    if any(row.get(name) is not None and not -2**31 <= row[name] < 2**31 for name in INT_FIELDS):
        return "bad_number"  # an INTEGER column on PostgreSQL; SQLite would take it
    for value in row.values():
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            if isinstance(text, dict):
                texts.extend(v for v in text.values() if isinstance(v, str))
                continue
            if not isinstance(text, str):
                continue
            if "\x00" in text:
                return "nul"
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return "bad_unicode"
    return None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# --- one store per database in a process ------------------------------------------------

# The crawlers of one process (crawlall runs every portal side by side) share a Store per
# database: one connection pool, one page cache, one migration check, where a store per
# crawler opened a hundred connections that each found its cache stale after every other
# one's commit.  Kept until the last crawler using it stops.
_shared_stores: dict[tuple, tuple[Store, set[int]]] = {}
_crawler_stores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_crawler_lock = threading.Lock()


def _store_key(settings) -> tuple:
    return (str(settings.get("MEETINGS_DB") or DEFAULT_DB), settings.getfloat("STORE_LOCK_TIMEOUT", LOCK_TIMEOUT_S),
            settings.getfloat("STORE_STATEMENT_TIMEOUT", STATEMENT_TIMEOUT_S))


def get_store(crawler) -> Store:
    """The store of this crawler (shared by its pipelines and the incremental middleware,
    and with the other crawlers of the process on the same database), closed when the last
    of their engines stops."""
    with _crawler_lock:
        store = _crawler_stores.get(crawler)
        if store is not None:
            return store
        key = _store_key(crawler.settings)
        store, users = _shared_stores.get(key) or (None, set())
        if store is None:
            store = Store.from_settings(crawler.settings)
            _shared_stores[key] = (store, users)
        users.add(id(crawler))
        _crawler_stores[crawler] = store
        from scrapy import signals

        def _release():
            with _crawler_lock:
                _crawler_stores.pop(crawler, None)
                users.discard(id(crawler))
                if users or _shared_stores.get(key, (None,))[0] is not store:
                    return
                del _shared_stores[key]
            store.close()

        crawler.signals.connect(_release, signal=signals.engine_stopped, weak=False)
        return store


def store_enabled(settings) -> bool:
    return bool(settings.get("MEETINGS_DB", DEFAULT_DB))
