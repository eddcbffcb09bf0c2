"""The store for async applications: the same :class:`Store`, awaited on the event loop, no thread pool.

An :class:`AsyncStore` holds a :class:`Store` built on the synchronous face
(``sync_engine``) of a SQLAlchemy async engine: aiosqlite for SQLite,
psycopg 3's async mode for PostgreSQL. Each method runs the store's own
code inside SQLAlchemy's greenlet bridge (the mechanism ``AsyncSession``
is built on), so every database call in it is awaited on the running event
loop rather than blocking a thread. The guards, the compare-and-set, the
kept ledgers, the seals, the outbox and every error are the synchronous
store's, unchanged: the two cannot drift apart, and the suite runs the
same contract tests on both.

Needs the ``async`` extra (``pip install 'resolveflow[async]'``). SQLAlchemy's
asyncio support runs on asyncio (so on anyio's asyncio backend, not trio).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import functools
import importlib.util
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.util import greenlet_spawn

from resolveflow._actor import Actor
from resolveflow._case import Case
from resolveflow._clock import Clock
from resolveflow._history import HistoryEntry
from resolveflow._methodology import Methodology
from resolveflow._seal import KeyRing
from resolveflow._shown import shown
from resolveflow.exceptions import ConcurrencyConflict, InvalidInput
from resolveflow.store import _engine
from resolveflow.store._args import count_arg
from resolveflow.store._heads import DEFAULT_CACHED_ENTRIES
from resolveflow.store._store import IDEMPOTENCY_WINDOW, RETRY_ATTEMPTS, Store, retry_pause

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

P = ParamSpec("P")
R = TypeVar("R")


def _awaited(
    method: Callable[Concatenate[Store, P], R],
) -> Callable[Concatenate[AsyncStore, P], Awaitable[R]]:
    """``Store.method`` as a coroutine method of AsyncStore, with the same arguments and result."""

    name = method.__name__

    @functools.wraps(method)
    async def call(self: AsyncStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        # Looked up at each call, as the explicit methods below do: instrumentation that wraps a
        # Store method (resolveflow.tracing) then covers both APIs.
        bound: Callable[P, R] = getattr(self._store, name)
        return await greenlet_spawn(functools.partial(bound, *args, **kwargs))

    call.__doc__ = f"Await :meth:`Store.{method.__name__}`: the same arguments, result and errors."
    return call


def _sync_connection(connection: object) -> sa.Connection | None:
    """The synchronous face of the caller's AsyncConnection (the store then checks it is its own)."""
    from sqlalchemy.ext.asyncio import AsyncConnection

    if connection is None:
        return None
    if not isinstance(connection, AsyncConnection):
        raise InvalidInput(
            f"expected an AsyncConnection (from store.transaction()), got {shown(connection)}",
            argument="connection",
        )
    sync = connection.sync_connection
    if sync is None:
        # Not yet awaited (``engine.connect()`` without ``await`` or ``async with``): joining it
        # would silently write in a transaction of the store's own instead of the caller's.
        raise InvalidInput(
            "the AsyncConnection is not started: use `async with store.transaction() as conn`",
            argument="connection",
        )
    return sync


class AsyncStore:
    """Cases kept in SQL, for asyncio applications: :class:`Store`'s methods, awaited.

    Make one with :func:`resolveflow.store.connect_async`. Every method takes
    the arguments of the :class:`Store` method of the same name and returns
    or raises what it does; ``connection=`` takes the
    :class:`~sqlalchemy.ext.asyncio.AsyncConnection` of :meth:`transaction`.

    Example:
        >>> import anyio, os, tempfile, resolveflow.store
        >>> async def main(path):
        ...     async with resolveflow.store.connect_async(path) as store:
        ...         await store.create_schema()
        ...         _ = await store.open_case("engage", case_id="A-1")
        ...         _ = await store.fire("A-1", "engage_fully", {"notes": "Broken."}, actor="ana")
        ...         return (await store.load("A-1")).step
        >>> tmp = tempfile.TemporaryDirectory()
        >>> anyio.run(main, os.path.join(tmp.name, "cases.db"))
        'empathize'
        >>> tmp.cleanup()
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock | None = None,
        record_refusals: bool = False,
        methodologies: Iterable[Methodology] = (),
        cached_entries: int = DEFAULT_CACHED_ENTRIES,
        idempotency_window: _dt.timedelta = IDEMPOTENCY_WINDOW,
        keys: KeyRing | None = None,
        tenant: str | None = None,
    ) -> None:
        from sqlalchemy.ext.asyncio import AsyncEngine

        if not isinstance(engine, AsyncEngine):
            raise InvalidInput(
                "expected a SQLAlchemy AsyncEngine (or use resolveflow.store.connect_async), "
                f"got {shown(engine)}",
                argument="engine",
            )
        self._async_engine = engine
        self._owns_engine = True
        # The store closes nothing of the engine's itself: close() disposes of the async engine.
        self._store = Store(
            engine.sync_engine,
            owns_engine=False,
            clock=clock,
            record_refusals=record_refusals,
            methodologies=methodologies,
            cached_entries=cached_entries,
            idempotency_window=idempotency_window,
            keys=keys,
            tenant=tenant,
        )

    def __repr__(self) -> str:
        scope = f" tenant={self.tenant!r}" if self.tenant is not None else ""
        return f"<AsyncStore {self._async_engine.url.render_as_string(hide_password=True)!r}{scope}>"

    @property
    def tenant(self) -> str | None:
        """The tenant whose cases this store sees, or None (see :meth:`Store.tenant`)."""
        return self._store.tenant

    def for_tenant(self, tenant: str) -> AsyncStore:
        """This store, scoped to one tenant, as :meth:`Store.for_tenant` (not awaited: it reads nothing).

        Closing the scoped store leaves the engine open: it is this store's.

        Raises:
            InvalidInput: a blank or over-long tenant id, or this store is scoped already.
        """
        scoped = copy.copy(self)
        scoped._store = self._store.for_tenant(tenant)
        scoped._owns_engine = False
        return scoped

    async def __aenter__(self) -> AsyncStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def engine(self) -> AsyncEngine:
        """The async engine (for your own statements and for :meth:`transaction`)."""
        return self._async_engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._store.dialect

    @property
    def record_refusals(self) -> bool:
        """Whether refused actions are recorded (see :func:`connect_async`)."""
        return self._store.record_refusals

    async def close(self) -> None:
        """Close every pooled connection (a later call opens new ones, as a disposed engine does).

        A store from :meth:`for_tenant` leaves the engine to the store it was made from.
        """
        if self._owns_engine:
            await self._async_engine.dispose()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction of your own that the store's writes join (see :meth:`Store.transaction`).

        Pass the connection as ``connection=`` to :meth:`open_case`,
        :meth:`fire`, :meth:`fire_with_retry` or :meth:`import_cases`: everything
        commits together when the block ends, or nothing does if it raises.
        """
        async with _engine.async_write(self._async_engine, "transaction") as connection:
            yield connection

    create_schema = _awaited(Store.create_schema)
    upgrade_schema = _awaited(Store.upgrade_schema)
    forget_expired_keys = _awaited(Store.forget_expired_keys)
    load = _awaited(Store.load)
    verify = _awaited(Store.verify)
    reseal = _awaited(Store.reseal)
    summary = _awaited(Store.summary)
    history = _awaited(Store.history)
    events = _awaited(Store.events)
    cases_at = _awaited(Store.cases_at)
    cases_by_outcome = _awaited(Store.cases_by_outcome)
    overdue = _awaited(Store.overdue)
    analytics = _awaited(Store.analytics)

    async def open_case(
        self,
        methodology: Methodology | str,
        *,
        case_id: str,
        at: _dt.datetime | None = None,
        connection: AsyncConnection | None = None,
    ) -> Case:
        """Await :meth:`Store.open_case`: the same arguments, result and errors."""
        sync = _sync_connection(connection)
        return await greenlet_spawn(
            functools.partial(self._store.open_case, methodology, case_id=case_id, at=at, connection=sync)
        )

    async def import_cases(
        self,
        items: Iterable[Case | tuple[Case, _dt.datetime]],
        *,
        batch_size: int = 500,
        connection: AsyncConnection | None = None,
    ) -> int:
        """Await :meth:`Store.import_cases`: the same arguments, result and errors."""
        sync = _sync_connection(connection)
        return await greenlet_spawn(
            functools.partial(self._store.import_cases, items, batch_size=batch_size, connection=sync)
        )

    async def fire(
        self,
        case_id: str,
        action: str,
        evidence: object = None,
        *,
        actor: str | Actor,
        at: _dt.datetime | None = None,
        expected_seq: int | None = None,
        idempotency_key: str | None = None,
        connection: AsyncConnection | None = None,
    ) -> HistoryEntry:
        """Await :meth:`Store.fire`: the same arguments, result and errors."""
        sync = _sync_connection(connection)
        return await greenlet_spawn(
            functools.partial(
                self._store.fire,
                case_id,
                action,
                evidence,
                actor=actor,
                at=at,
                expected_seq=expected_seq,
                idempotency_key=idempotency_key,
                connection=sync,
            )
        )

    async def fire_with_retry(
        self,
        case_id: str,
        action: str,
        evidence: object = None,
        *,
        actor: str | Actor,
        at: _dt.datetime | None = None,
        idempotency_key: str | None = None,
        attempts: int = RETRY_ATTEMPTS,
        connection: AsyncConnection | None = None,
    ) -> HistoryEntry:
        """:meth:`fire`, retried on ``ConcurrencyConflict`` as :meth:`Store.fire_with_retry` does.

        The pause between attempts is awaited (``anyio.sleep``), never slept on the event loop.
        """
        import anyio  # the async extra's; imported here so that resolveflow.store never needs it

        tries = count_arg(attempts, "attempts", minimum=1, maximum=100)
        for attempt in range(1, tries + 1):
            try:
                return await self.fire(
                    case_id,
                    action,
                    evidence,
                    actor=actor,
                    at=at,
                    idempotency_key=idempotency_key,
                    connection=connection,
                )
            except ConcurrencyConflict:
                if attempt == tries:
                    raise
                await anyio.sleep(retry_pause(attempt))
        raise AssertionError("unreachable")  # pragma: no cover


def connect_async(
    url_or_path: str | os.PathLike[str] | sa.URL,
    *,
    clock: Clock | None = None,
    record_refusals: bool = False,
    methodologies: Iterable[Methodology] = (),
    engine_options: dict[str, Any] | None = None,
    cached_entries: int = DEFAULT_CACHED_ENTRIES,
    idempotency_window: _dt.timedelta = IDEMPOTENCY_WINDOW,
    keys: KeyRing | None = None,
    tenant: str | None = None,
) -> AsyncStore:
    """Open an :class:`AsyncStore`: :func:`connect`'s arguments, for asyncio applications.

    A file path means SQLite (through aiosqlite), a ``postgresql://`` URL
    PostgreSQL (through psycopg 3's async mode). Needs the ``async`` extra.

    Raises:
        InvalidInput: not a path or URL (an engine is refused: the store makes
            its own, with the settings it needs); another database; the
            extra's driver is missing.

    Example:
        >>> import anyio, os, tempfile, resolveflow.store
        >>> async def dialect(path):
        ...     async with resolveflow.store.connect_async(path) as store:
        ...         return store.dialect
        >>> tmp = tempfile.TemporaryDirectory()
        >>> anyio.run(dialect, os.path.join(tmp.name, "cases.db"))
        'sqlite'
        >>> tmp.cleanup()
    """
    if importlib.util.find_spec("greenlet") is None or importlib.util.find_spec("anyio") is None:
        raise InvalidInput(
            "the async store needs greenlet and anyio: pip install 'resolveflow[async]'",
            argument="url_or_path",
        )
    engine = _engine.make_async_engine(url_or_path, engine_options)
    return AsyncStore(
        engine,
        clock=clock,
        record_refusals=record_refusals,
        methodologies=methodologies,
        cached_entries=cached_entries,
        idempotency_window=idempotency_window,
        keys=keys,
        tenant=tenant,
    )
