"""``scrapy export PATH [--portal P] [--since YYYY-MM-DD] [--changed-since YYYY-MM-DD]``

Writes the stored meetings (all, or the filtered part) to PATH as CSV, JSON or JSON Lines,
chosen by PATH's extension (.csv, .json, .jsonl/.jl), with the project's item exporters
(``crawler.store.exporters``: SCHEMA column order, readable CSV cells).  The file is written to a
temporary file in the same directory and renamed over PATH (``os.replace``), so a reader
never sees half a file; an existing PATH keeps its permission bits.  A PATH that is a
symbolic link or a file without write permission is refused, never replaced (a usage error).
A CSV export of no meetings is the header line alone.  ``FEED_EXPORT_ENCODING`` (e.g. ``-s FEED_EXPORT_ENCODING=utf-8-sig``
for Excel) or ``--encoding`` sets the encoding.

PATH ending in .db (.sqlite, .sqlite3) writes a SQLite copy of the store instead — same tables,
the search index built — that ``scrapy browse --db PATH`` serves (e.g. of a PostgreSQL store).
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import stat
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.store import search
from crawler.store.exporters import EXPORTERS, EXTENSIONS
from crawler.store import Store

logger = logging.getLogger(__name__)


def export_store(
    store: Store,
    path: str | os.PathLike,
    *,
    portal: str | None = None,
    since: str | None = None,
    changed_since: str | None = None,
    encoding: str | None = "utf-8",
    fmt: str | None = None,
) -> int:
    """Export to ``path`` atomically; returns the number of meetings written."""
    if fmt is None and Path(path).suffix.lower() in SQLITE_SUFFIXES:
        return export_sqlite_copy(store, path, portal=portal, since=since, changed_since=changed_since)
    path = Path(path)
    fmt = fmt or EXTENSIONS.get(path.suffix.lower())
    if fmt not in EXPORTERS:
        raise ValueError(
            f"cannot tell the format of {path.name!r}: use one of "
            + ", ".join(sorted(EXTENSIONS))
        )
    directory = path.parent if str(path.parent) else Path(".")
    mode = _target_mode(path)
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    n = 0
    try:
        with os.fdopen(fd, "wb") as f:
            exporter = EXPORTERS[fmt](f, encoding=encoding or "utf-8")
            exporter.start_exporting()
            for item in store.iter_items(portal=portal, since=since, changed_since=changed_since):
                exporter.export_item(item)
                n += 1
            exporter.finish_exporting()
            f.flush()
            os.fsync(f.fileno())
        _put_in_place(tmp, path, mode)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return n


SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def export_sqlite_copy(
    store: Store,
    path: str | os.PathLike,
    *,
    portal: str | None = None,
    since: str | None = None,
    changed_since: str | None = None,
    batch: int = 1000,
) -> int:
    """A SQLite copy of ``store`` (any backend) at ``path``: the same tables and ids, the
    meetings filtered as asked (with their revisions and addresses; every run), and the search
    index built, in one self-contained file for ``scrapy browse --db``.  Written to a temporary
    file beside ``path`` and renamed over it.  Returns the number of meetings copied."""
    import sqlalchemy as sa

    from crawler import store as st

    path = Path(path)
    if store.dialect == "sqlite" and path.resolve() == Path(store.url.database).resolve():
        raise ValueError(f"{path} is the store itself: give another file for the copy")
    directory = path.parent if str(path.parent) else Path(".")
    mode = _target_mode(path)  # the same rules as the other exports: no symlink, no read-only file
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    os.unlink(tmp)  # SQLite creates it
    m = st.meetings
    cond = []
    if portal:
        cond.append(m.c.portal == portal)
    if since:
        cond.append(m.c.published_at >= since[:10])
    if changed_since:
        cond.append(m.c.last_changed >= datetime.fromisoformat(changed_since))
    n = 0
    try:
        target = Store(f"sqlite:///{tmp}")
        try:
            with store.engine.connect().execution_options(stream_results=True) as src, target._write() as dst:
                ids: list[int] = []
                last = 0
                while rows := src.execute(
                    sa.select(m).where(m.c.id > last, *cond).order_by(m.c.id).limit(batch)
                ).mappings().all():
                    dst.execute(m.insert(), [dict(r) for r in rows])
                    ids.extend(r["id"] for r in rows)
                    last = rows[-1]["id"]
                n = len(ids)
                for table, key in ((st.revisions, "meeting_id"), (st.urls, "meeting_id")):
                    q = sa.select(table)
                    if cond:
                        q = q.where(table.c[key].in_(
                            sa.select(m.c.id).where(*cond).scalar_subquery()))
                    for chunk in src.execute(q).mappings().partitions(batch):
                        dst.execute(table.insert(), [dict(r) for r in chunk])
                for chunk in src.execute(sa.select(st.runs).order_by(st.runs.c.id)).mappings().partitions(batch):
                    dst.execute(st.runs.insert(), [dict(r) for r in chunk])
                search.migrate(dst)  # index the copied meetings
        finally:
            target.close()
        # One file, no -wal beside it: the copy can be moved or mailed as it is.
        conn = sqlite3.connect(tmp)
        try:
            conn.execute("PRAGMA journal_mode=DELETE")
        finally:
            conn.close()
        _put_in_place(tmp, path, mode)
    except BaseException:
        for leftover in (tmp, tmp + "-wal", tmp + "-shm", tmp + "-journal"):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass
        raise
    return n


def _target_mode(path: Path) -> int | None:
    """The permission bits of an existing export target (None: there is none); ValueError
    when the target must not be replaced."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise ValueError(f"{path} is a symbolic link: not replaced (give the file it points to)")
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{path} is not a regular file: not replaced")
    if not os.access(path, os.W_OK) or not st.st_mode & 0o222:
        raise ValueError(f"{path} is read-only: not replaced")
    return stat.S_IMODE(st.st_mode)


def _iso_date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {value!r}") from None


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "PATH [--portal P] [--since YYYY-MM-DD] [--changed-since YYYY-MM-DD]"

    def short_desc(self) -> str:
        return "Export stored meetings to CSV, JSON, JSON Lines or a SQLite copy (by PATH's extension)"

    def long_desc(self) -> str:
        return (__doc__ or "").strip()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--portal", metavar="P", help="only this portal (spider name)")
        parser.add_argument(
            "--since", metavar="YYYY-MM-DD", type=_iso_date,
            help="only meetings published on or after this date",
        )
        parser.add_argument(
            "--changed-since", metavar="YYYY-MM-DD", type=_iso_date, dest="changed_since",
            help="only meetings stored or changed (UTC) on or after this date",
        )
        parser.add_argument(
            "--encoding", help="file encoding (default: FEED_EXPORT_ENCODING, else utf-8)"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one PATH")
        assert self.settings is not None
        encoding = opts.encoding or self.settings.get("FEED_EXPORT_ENCODING") or "utf-8"
        store = Store.from_settings(self.settings)
        try:
            n = export_store(
                store, args[0], portal=opts.portal, since=opts.since,
                changed_since=opts.changed_since, encoding=encoding,
            )
        except ValueError as e:
            raise UsageError(str(e)) from None
        finally:
            store.close()
        print(f"exported {n} meetings to {args[0]}", file=sys.stderr)


def _put_in_place(tmp, path, mode) -> None:
    """Give the finished temporary file the target's mode (a new export: the usual permissions,
    as mkstemp creates 0600) and rename it over the target, never through a symbolic link."""
    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)
    if path.is_symlink():  # made while we wrote
        raise ValueError(f"{path} is a symbolic link: not replaced")
    os.replace(tmp, path)
