"""Shared fixtures.  Keep additions small; other test modules rely on these."""

from __future__ import annotations

import os
import uuid

import pytest


# --- the meetings store ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated_meetings_db(tmp_path, monkeypatch):
    """Every test gets its own empty store, in process and in `scrapy` subprocesses, so no
    test reads (or is made incremental by) the project's data/meetings.db or another test's."""
    url = f"sqlite:///{tmp_path}/meetings.db"
    monkeypatch.setenv("MEETINGS_DB", url)
    try:
        import settings.base as base
    except ImportError:  # pragma: no cover
        return url
    monkeypatch.setattr(base, "MEETINGS_DB", url, raising=False)
    return url


@pytest.fixture
def sqlite_db(tmp_path):
    """URL of a fresh SQLite store file."""
    return f"sqlite:///{tmp_path}/store/meetings.db"


PG_SERVER = os.environ.get("TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_server():
    """A uniquely named schema in the test PostgreSQL database, dropped after the session.

    Yields a function ``new_db()`` → URL of a fresh schema (search_path set in the URL).
    Skips when the server is unreachable, but fails instead when CI=true.
    """
    try:
        import psycopg

        conn = psycopg.connect(PG_SERVER.replace("postgresql+psycopg", "postgresql"),
                               autocommit=True, connect_timeout=3)
    except Exception as e:  # noqa: BLE001
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"PostgreSQL at {PG_SERVER} is required in CI: {e}")
        pytest.skip(f"PostgreSQL at {PG_SERVER} unreachable: {e}")
    created = []

    def new_db() -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        conn.execute(f'CREATE SCHEMA "{schema}"')
        created.append(schema)
        sep = "&" if "?" in PG_SERVER else "?"
        return f"{PG_SERVER}{sep}options=-csearch_path%3D{schema}"

    yield new_db
    for schema in created:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh store URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store/meetings.db"
    return request.getfixturevalue("pg_server")()
