"""An AsyncStore driven from synchronous test code, so that the store's contract tests run on both APIs.

Each coroutine method is awaited on an event loop running in another thread
(anyio's blocking portal), through the async drivers (aiosqlite, psycopg's
async mode); results and exceptions come back to the test unchanged. Tests
that read the tables themselves get ``engine``: a plain engine on the same
database.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from anyio.from_thread import BlockingPortal, start_blocking_portal

import resolveflow.store
from resolveflow.store import _engine


class BlockingAsyncStore:
    """The methods of an AsyncStore, called like the synchronous Store's."""

    def __init__(
        self, opened: resolveflow.store.AsyncStore, portal: BlockingPortal, engine: sa.Engine
    ) -> None:
        self._async = opened
        self._portal = portal
        self.engine = engine  # for the tests' own SQL (table_rows ...): the same database

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._async, name)
        if not inspect.iscoroutinefunction(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._portal.call(functools.partial(found, *args, **kwargs))

        return call

    def for_tenant(self, tenant: str) -> BlockingAsyncStore:
        return BlockingAsyncStore(self._async.for_tenant(tenant), self._portal, self.engine)

    def transaction(self) -> Any:
        raise NotImplementedError("the caller's transaction is tested apart, with AsyncConnection")


def own_engine(store: object) -> sa.Engine:
    """The engine a store writes through (an AsyncStore's synchronous face), for event listeners."""
    if isinstance(store, BlockingAsyncStore):
        return store._async.engine.sync_engine
    engine = store.engine  # type: ignore[attr-defined]
    assert isinstance(engine, sa.Engine)
    return engine


@contextlib.contextmanager
def blocking_async_store(db_url: str, **options: Any) -> Iterator[BlockingAsyncStore]:
    """An AsyncStore on ``db_url`` (with its schema), usable from synchronous tests."""
    with start_blocking_portal("asyncio") as portal:
        opened = resolveflow.store.connect_async(db_url, **options)
        engine = _engine.make_engine(db_url)
        try:
            facade = BlockingAsyncStore(opened, portal, engine)
            facade.create_schema()
            yield facade
        finally:
            portal.call(opened.close)
            engine.dispose()
