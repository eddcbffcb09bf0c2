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

Every transaction goes through :func:`read` or :func:`write`, which is where
a database that cannot be used (unreachable, read-only, full, locked, gone
mid-call) becomes :class:`~resolveflow.exceptions.StoreUnavailable`, after
the transaction was rolled back. The engines made here decode JSON columns
with :func:`~resolveflow.store._rows.load_json`, which refuses, rather than
recurses into, text the store never writes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from sqlalchemy import event

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput, StoreFull, StoreLocked, StoreReadOnly, StoreUnavailable
from resolveflow.store._rows import load_json

BUSY_TIMEOUT_S = 30.0
_WRITE = "resolveflow_write"

# A database that cannot be used: the driver's errors (connection refused or lost, read-only
# file, disk full, database locked, tables missing), and the pool's (no connection in time).
# IntegrityError is not among them: the callers turn it into CaseExists or TamperedHistory.
FAULTS: Final = (sa.exc.DBAPIError, sa.exc.TimeoutError, sa.exc.DisconnectionError)
_REASON_LIMIT: Final = 200


def _sqlite_engine(url: sa.URL, options: dict[str, Any]) -> sa.Engine:
    connect_args = dict(options.pop("connect_args", {}))
    connect_args.setdefault("timeout", BUSY_TIMEOUT_S)
    engine = sa.create_engine(url, connect_args=connect_args, **options)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: sa.Engine) -> None:
    """WAL, the busy timeout, foreign keys and immediate write transactions, on every connection.

    ``engine`` is a plain engine, or the ``sync_engine`` of an async one (aiosqlite's
    connections take the same settings through SQLAlchemy's adapter).
    """

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


def _options(options: object) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
        raise InvalidInput(
            f"expected a dict of create_engine() keyword arguments, got {shown(options)}",
            argument="engine_options",
        )
    return dict(options)


def _url(text: str) -> sa.URL:
    try:
        return sa.make_url(text)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        # SQLAlchemy's message repeats the URL, password and all: it is not passed on.
        raise InvalidInput(
            "not a database URL; expected dialect[+driver]://user:password@host/database",
            argument="url_or_path",
        ) from None


def _sqlite_path(text: str) -> str:
    try:
        return str(Path(text).expanduser().resolve())
    except (OSError, RuntimeError, ValueError) as error:  # NUL in the path, a symlink loop ...
        raise InvalidInput(f"not a usable file path: {error}", argument="url_or_path") from None


def make_engine(target: object, options: object = None) -> sa.Engine:
    """An engine for a path (SQLite), a URL string or object, or an existing non-SQLite engine."""
    options = _options(options)
    if isinstance(target, sa.Engine):
        if target.dialect.name == "sqlite":
            raise InvalidInput(
                "pass the SQLite file's path (or URL) rather than an engine, so that the store can "
                "configure WAL, the busy timeout and immediate write transactions",
                argument="url_or_path",
            )
        return target
    url = _target_url(target)
    if url.get_backend_name() in ("sqlite", "postgresql"):
        options.setdefault("json_deserializer", load_json)
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url, options)
        return sa.create_engine(url, **options)
    except sa.exc.NoSuchModuleError as error:
        raise InvalidInput(f"no database dialect for this URL: {error}", argument="url_or_path") from None
    except (sa.exc.ArgumentError, TypeError) as error:
        # create_engine() names the options it does not know in a TypeError.
        raise InvalidInput(str(error), argument="engine_options") from None


# The drivers an async store uses: aiosqlite (the async extra) and psycopg 3's async mode.
_ASYNC_DRIVERS: Final = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg_async"}


def make_async_engine(target: object, options: object = None) -> AsyncEngine:
    """An async engine for a path (SQLite through aiosqlite) or a URL (PostgreSQL through psycopg)."""
    # Imported here: a synchronous store never loads SQLAlchemy's asyncio layer.
    from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

    options = _options(options)
    if isinstance(target, sa.Engine | AsyncEngine):
        raise InvalidInput(
            "pass the database's URL or path rather than an engine, so that the store can make "
            "its own async engine with the settings it needs",
            argument="url_or_path",
        )
    url = _target_url(target)
    driver = _ASYNC_DRIVERS.get(url.get_backend_name())
    if driver is None:
        raise InvalidInput(
            f"an async store runs on SQLite or PostgreSQL; got {url.get_backend_name()!r}",
            argument="url_or_path",
        )
    url = url.set(drivername=driver)
    options.setdefault("json_deserializer", load_json)
    if driver.startswith("sqlite"):
        connect_args = dict(options.pop("connect_args", {}))
        connect_args.setdefault("timeout", BUSY_TIMEOUT_S)
        options["connect_args"] = connect_args
    try:
        engine = create_async_engine(url, **options)
    except (sa.exc.NoSuchModuleError, ImportError) as error:
        raise InvalidInput(
            f"the async store needs its driver: pip install 'resolveflow[async]' ({error})",
            argument="url_or_path",
        ) from None
    except (sa.exc.ArgumentError, TypeError) as error:
        raise InvalidInput(str(error), argument="engine_options") from None
    if driver.startswith("sqlite"):
        _configure_sqlite(engine.sync_engine)
    return engine


def _target_url(target: object) -> sa.URL:
    """The URL a path, URL text or URL object names (psycopg 3 for a bare postgresql://)."""
    if isinstance(target, sa.URL):
        url = target
    elif isinstance(target, str | os.PathLike):
        text = os.fspath(target)
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("expected a database URL or a file path", argument="url_or_path")
        if "://" in text:
            url = _url(text)
        else:
            if text == ":memory:":
                raise InvalidInput(
                    "an in-memory SQLite database lives in one connection only; use a temporary file",
                    argument="url_or_path",
                )
            url = sa.URL.create("sqlite", database=_sqlite_path(text))
    else:
        raise InvalidInput(
            f"expected a database URL, a file path or an Engine, got {type(target).__name__}",
            argument="url_or_path",
        )
    # psycopg 3 is the driver the sql extra installs; a bare postgresql:// would mean psycopg2.
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise InvalidInput(
            "an in-memory SQLite database lives in one connection only; use a temporary file",
            argument="url_or_path",
        )
    return url


def reason(error: BaseException) -> str:
    """What the database said about a failure: the driver's first line, without the SQL, cut short."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    text = lines[0] if lines else type(original).__name__
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 1] + "…"


# What the drivers call each fault: SQLite's result-code names (Python 3.11+ sets
# ``sqlite_errorname``), PostgreSQL's SQLSTATE codes (psycopg sets ``sqlstate``).
_SQLITE: Final[dict[str, type[StoreUnavailable]]] = {
    "SQLITE_FULL": StoreFull,
    "SQLITE_READONLY": StoreReadOnly,
    "SQLITE_BUSY": StoreLocked,
    "SQLITE_LOCKED": StoreLocked,
}
_SQLSTATE: Final[dict[str, type[StoreUnavailable]]] = {
    "53100": StoreFull,  # disk_full
    "53200": StoreFull,  # out_of_memory
    "25006": StoreReadOnly,  # read_only_sql_transaction
    "55P03": StoreLocked,  # lock_not_available (lock_timeout)
}


def kind_of(error: BaseException) -> type[StoreUnavailable]:
    """The StoreUnavailable subclass for a driver error: full, read-only, locked, or the plain one."""
    original = getattr(error, "orig", None) or error
    name = getattr(original, "sqlite_errorname", None)
    if isinstance(name, str):
        # Extended codes (SQLITE_READONLY_DBMOVED, SQLITE_BUSY_SNAPSHOT ...) share their primary's kind.
        for primary, kind in _SQLITE.items():
            if name == primary or name.startswith(primary + "_"):
                return kind
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str):
        return _SQLSTATE.get(sqlstate, StoreUnavailable)
    return StoreUnavailable


def unavailable(error: BaseException, operation: str, *, maybe_recorded: bool = False) -> StoreUnavailable:
    """The resolveflow error for a database fault met while doing ``operation``."""
    return kind_of(error)(reason(error), operation=operation, maybe_recorded=maybe_recorded)


@contextlib.contextmanager
def guarded(operation: str) -> Iterator[None]:
    """Turn a database that cannot be used into StoreUnavailable (for calls outside read/write)."""
    try:
        yield
    except FAULTS as error:
        if isinstance(error, sa.exc.IntegrityError):
            raise
        raise unavailable(error, operation) from error


@contextlib.contextmanager
def write(
    engine: sa.Engine, operation: str, connection: sa.Connection | None = None
) -> Iterator[sa.Connection]:
    """One write transaction: committed when the block ends, rolled back if it raises.

    With the caller's ``connection`` (see :func:`joined`), a savepoint inside
    the caller's transaction instead: released when the block ends (the caller
    commits or rolls back everything), rolled back alone if it raises, so that
    a refused action leaves the caller's transaction usable. A database fault
    anywhere in it is StoreUnavailable naming ``operation``.
    """
    if connection is not None:
        try:
            with connection.begin_nested():
                yield connection
        except FAULTS as error:
            if isinstance(error, sa.exc.IntegrityError):
                raise
            raise unavailable(error, operation) from error
        return
    committing = False
    try:
        with engine.connect() as connection:
            connection.execution_options(**{_WRITE: True})
            with connection.begin():
                yield connection
                committing = True
    except FAULTS as error:
        if isinstance(error, sa.exc.IntegrityError):
            raise  # the callers turn it into CaseExists or TamperedHistory
        raise _write_fault(error, operation, committing=committing, dialect=engine.dialect.name) from error


def _write_fault(error: Exception, operation: str, *, committing: bool, dialect: str) -> StoreUnavailable:
    """The StoreUnavailable for a fault in a write transaction of the store's own."""
    # SQLite's COMMIT either happens or fails; a server's may have happened before the
    # connection that asked for it was lost.
    return unavailable(error, operation, maybe_recorded=committing and dialect != "sqlite")


@contextlib.asynccontextmanager
async def async_write(engine: AsyncEngine, operation: str) -> AsyncIterator[AsyncConnection]:
    """:func:`write`'s own transaction, on an async engine (for ``AsyncStore.transaction``)."""
    committing = False
    try:
        async with engine.connect() as connection:
            await connection.execution_options(**{_WRITE: True})
            async with connection.begin():
                yield connection
                committing = True
    except FAULTS as error:
        if isinstance(error, sa.exc.IntegrityError):
            raise  # the callers turn it into CaseExists or TamperedHistory
        raise _write_fault(error, operation, committing=committing, dialect=engine.dialect.name) from error


def joined(engine: sa.Engine, connection: object) -> sa.Connection | None:
    """The caller's connection, checked: one of ``engine``'s, inside a transaction (None: none given)."""
    if connection is None:
        return None
    if not isinstance(connection, sa.Connection):
        raise InvalidInput(
            f"expected a SQLAlchemy Connection (from store.transaction() or session.connection()), "
            f"got {shown(connection)}",
            argument="connection",
        )
    if connection.engine is not engine:
        # Another engine may not decode JSON the store's way, and on SQLite would not take the
        # write lock up front: the rows written could not be trusted to read back.
        raise InvalidInput(
            "the connection belongs to another engine; use store.transaction(), or bind your "
            "session to store.engine",
            argument="connection",
        )
    if connection.closed or not connection.in_transaction():
        raise InvalidInput(
            "the connection has no open transaction: begin one (with store.transaction(), or "
            "connection.begin()) so that you decide when it commits",
            argument="connection",
        )
    return connection


@contextlib.contextmanager
def read(engine: sa.Engine, operation: str) -> Iterator[sa.Connection]:
    """One read transaction over a single snapshot of the database (faults: StoreUnavailable)."""
    with guarded(operation), engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection
