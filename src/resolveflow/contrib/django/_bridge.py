"""A SQLAlchemy engine that runs on Django's own database connection, inside Django's transactions.

The store is written for SQLAlchemy; a Django project's rows go through
Django's connection. For a ticket and its case to be written in one
transaction, the store's statements must run on that same connection, and
the store's transactions must be Django's. This module gives SQLAlchemy:

- a DB-API connection that is a thin proxy over the current thread's Django
  connection for one database alias (``connections[using].connection``),
  fetched at every checkout, because Django opens, closes and replaces its
  connections on its own schedule (``CONN_MAX_AGE``, the end of a request);
- a pool (:class:`sqlalchemy.pool.NullPool` without reset-on-return) that
  never closes, commits or rolls back that connection on its own: the proxy's
  ``close()`` does nothing;
- transactions that are Django's: when SQLAlchemy begins a transaction on
  the engine, the proxy enters ``transaction.atomic(using=...)``, and
  SQLAlchemy's commit and rollback leave that block without or with an
  error. Inside the caller's ``atomic()`` that block is a savepoint, so every
  store call joins the caller's transaction, and a refused action rolls back
  only its own savepoint; outside one, it is the store call's own
  transaction, committed by Django.

What SQLAlchemy would otherwise change on a connection it did not open, and
what the proxy does instead (see docs/design-notes.md, "The Django bridge"):

- autocommit and the isolation level (the store reads PostgreSQL at
  REPEATABLE READ; the dialect sets ``autocommit``/``isolation_level`` on the
  connection, and resets them when it is returned): ignored, Django owns them,
  so the store's reads run at the isolation level of Django's transaction;
- psycopg notice handlers, which the dialect adds at every connect: not added
  (they would pile up on a connection that is never closed);
- JSON and times: Django tells psycopg to return ``json``/``jsonb`` as text,
  and stamps ``timestamptz`` values with Django's time zone (none with
  ``USE_TZ = False``) rather than the session's; the store's cursors are
  plain psycopg cursors with the store's bounded JSON loader and psycopg's own
  ``timestamptz`` loader registered on the cursor only, so Django's
  connection is unchanged;
- SQLite: Django opens its connection with ``detect_types`` and a converter
  for ``DATETIME`` columns, which would hand SQLAlchemy datetimes where it
  expects text; the store's cursors give those values back as ISO text.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Final

import sqlalchemy as sa
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db import Error as DjangoDatabaseError
from sqlalchemy import event

from resolveflow.exceptions import InvalidInput
from resolveflow.store._rows import load_json

# The Django vendors the store runs on, and SQLAlchemy's name for each with the driver Django uses.
_DRIVERS: Final = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}
# Attributes of the driver's connection that belong to Django: SQLAlchemy may not set them.
_DJANGO_OWNS: Final = frozenset({"autocommit", "isolation_level", "read_only", "deferrable"})


class _Rollback(Exception):
    """Passed to ``Atomic.__exit__`` so that Django rolls its block back."""


class _SQLiteCursor:
    """A sqlite3 cursor whose rows give ``DATETIME`` values back as text, as SQLAlchemy expects."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return (_as_text(row) for row in self._cursor)

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return None if row is None else _as_text(row)

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        rows = self._cursor.fetchmany() if size is None else self._cursor.fetchmany(size)
        return [_as_text(row) for row in rows]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [_as_text(row) for row in self._cursor.fetchall()]


def _as_text(row: Sequence[Any]) -> tuple[Any, ...]:
    # Django's converter parsed SQLAlchemy's "YYYY-MM-DD HH:MM:SS.ffffff"; isoformat() gives it back.
    return tuple(value.isoformat(" ") if isinstance(value, _dt.datetime) else value for value in row)


class DjangoConnection:
    """What SQLAlchemy sees as its DB-API connection: Django's, with Django's transactions.

    One is made at every checkout (the pool keeps none), over the connection
    Django has for ``using`` in the calling thread.
    """

    def __init__(self, using: str) -> None:
        wrapper = connections[using]
        wrapper.ensure_connection()
        object.__setattr__(self, "_using", using)
        object.__setattr__(self, "_vendor", wrapper.vendor)
        object.__setattr__(self, "_raw", wrapper.connection)
        object.__setattr__(self, "_atomic", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __setattr__(self, name: str, value: object) -> None:
        if name in _DJANGO_OWNS:
            return  # Django's transaction management owns these; see the module docstring.
        setattr(self._raw, name, value)

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        if self._vendor == "postgresql":
            import psycopg
            from psycopg.types.datetime import TimestamptzLoader
            from psycopg.types.json import set_json_loads

            # A plain psycopg cursor (Django's own binds client-side), decoding JSON the store's way,
            # and times as psycopg does: Django's loader stamps them with Django's time zone (or none,
            # with USE_TZ = False) whatever the session's is.
            cursor = psycopg.Cursor(self._raw) if not (args or kwargs) else self._raw.cursor(*args, **kwargs)
            set_json_loads(load_json, cursor)
            cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
            return cursor
        return _SQLiteCursor(self._raw.cursor(*args, **kwargs))

    def add_notice_handler(self, _handler: object) -> None:
        """Not added: the dialect adds one at every connect, and this connection is never closed."""

    def begin(self) -> None:
        """Enter ``transaction.atomic()`` on Django's connection: the start of a SQLAlchemy transaction."""
        atomic = transaction.atomic(using=self._using)
        atomic.__enter__()
        object.__setattr__(self, "_atomic", atomic)

    def commit(self) -> None:
        self._leave(None)

    def rollback(self) -> None:
        self._leave(_Rollback())

    def close(self) -> None:
        """Leaves Django's connection open: it is Django's to close."""
        if self._atomic is not None:  # a transaction SQLAlchemy left open: never commit it
            self._leave(_Rollback())

    def _leave(self, error: _Rollback | None) -> None:
        atomic = self._atomic
        if atomic is None:
            return  # no transaction of SQLAlchemy's (the dialect probing at first connect)
        object.__setattr__(self, "_atomic", None)
        try:
            if error is None:
                atomic.__exit__(None, None, None)
            else:
                atomic.__exit__(_Rollback, error, None)
        except DjangoDatabaseError as failed:
            # Django wraps the driver's error; SQLAlchemy (and so the store) knows the driver's.
            cause = failed.__cause__
            if isinstance(cause, BaseException):
                raise cause from None
            raise


_engines: dict[str, sa.Engine] = {}
_lock = threading.Lock()


def engine_for(using: str = DEFAULT_DB_ALIAS) -> sa.Engine:
    """The SQLAlchemy engine over Django's connection ``using`` (one per alias, made once).

    Its connections are Django's connection for ``using`` in the calling
    thread, and each transaction begun on it is a ``transaction.atomic()``
    block (a savepoint inside yours). :func:`store` is built on it; use it
    for your own SQLAlchemy Core queries in Django's transaction.

    Raises:
        InvalidInput: ``using`` is not in ``settings.DATABASES``, or names a
            database other than SQLite or PostgreSQL.
    """
    if not isinstance(using, str):
        raise InvalidInput(f"a database alias is text, got {type(using).__name__}", argument="using")
    with _lock:
        found = _engines.get(using)
        if found is not None:
            return found
        if using not in connections.settings:
            raise InvalidInput(
                f"no database {using!r} in settings.DATABASES",
                argument="using",
            )
        vendor = connections[using].vendor
        driver = _DRIVERS.get(vendor)
        if driver is None:
            raise InvalidInput(
                f"resolveflow runs on SQLite or PostgreSQL; database {using!r} is {vendor}",
                argument="using",
            )
        options: dict[str, Any] = {}
        if vendor == "postgresql":
            options["use_native_hstore"] = False  # no type lookups on Django's connection at each checkout
        engine = sa.create_engine(
            f"{driver}://",
            creator=lambda: DjangoConnection(using),
            poolclass=sa.pool.NullPool,
            pool_reset_on_return=None,
            json_deserializer=load_json,
            **options,
        )

        @event.listens_for(engine, "begin")
        def _begin(connection: sa.Connection) -> None:
            dbapi = connection.connection.dbapi_connection
            assert isinstance(dbapi, DjangoConnection)
            dbapi.begin()

        _engines[using] = engine
        return engine
