"""Engines and transactions, with the few per-backend settings that matter.

SQLite: WAL (readers never wait for the writer), a busy timeout (writers
queue instead of failing at once), foreign keys on, and writes that begin
with ``BEGIN IMMEDIATE``. A deferred SQLite transaction that reads and then
writes fails when another writer committed in between (SQLITE_BUSY_SNAPSHOT,
which the busy timeout cannot help); taking the write lock up front makes
writers queue instead.

PostgreSQL: reads run in REPEATABLE READ, so a case row and its entries are
read from one snapshot; writes run in READ COMMITTED, where the
compare-and-set on ``last_seq`` re-reads the row after waiting for a
concurrent writer and finds that it has moved.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from resolveflow.exceptions import InvalidInput

BUSY_TIMEOUT_S = 30.0
_WRITE = "resolveflow_write"


def _sqlite_engine(url: sa.URL, options: dict[str, Any]) -> sa.Engine:
    connect_args = dict(options.pop("connect_args", {}))
    connect_args.setdefault("timeout", BUSY_TIMEOUT_S)
    engine = sa.create_engine(url, connect_args=connect_args, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: object) -> None:
        # Transactions are begun by the "begin" listener below, not by the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def make_engine(target: object, options: dict[str, Any] | None = None) -> sa.Engine:
    """An engine for a path (SQLite), a URL string or object, or an existing non-SQLite engine."""
    options = dict(options or {})
    if isinstance(target, sa.Engine):
        if target.dialect.name == "sqlite":
            raise InvalidInput(
                "pass the SQLite file's path (or URL) rather than an engine, so that the store can "
                "configure WAL, the busy timeout and immediate write transactions",
                argument="url_or_path",
            )
        return target
    if isinstance(target, sa.URL):
        url = target
    elif isinstance(target, str | os.PathLike):
        text = os.fspath(target)
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("expected a database URL or a file path", argument="url_or_path")
        if "://" in text:
            url = sa.make_url(text)
        else:
            if text == ":memory:":
                raise InvalidInput(
                    "an in-memory SQLite database lives in one connection only; use a temporary file",
                    argument="url_or_path",
                )
            url = sa.URL.create("sqlite", database=str(Path(text).expanduser().resolve()))
    else:
        raise InvalidInput(
            f"expected a database URL, a file path or an Engine, got {type(target).__name__}",
            argument="url_or_path",
        )
    # psycopg 3 is the driver the sql extra installs; a bare postgresql:// would mean psycopg2.
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise InvalidInput(
                "an in-memory SQLite database lives in one connection only; use a temporary file",
                argument="url_or_path",
            )
        return _sqlite_engine(url, options)
    return sa.create_engine(url, **options)


@contextlib.contextmanager
def write(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One write transaction: committed when the block ends, rolled back if it raises."""
    with engine.connect() as connection:
        connection.execution_options(**{_WRITE: True})
        with connection.begin():
            yield connection


@contextlib.contextmanager
def read(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One read transaction over a single snapshot of the database."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection
