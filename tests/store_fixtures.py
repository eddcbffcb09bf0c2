"""Store fixtures (a pytest plugin: ``pytest_plugins = ["tests.pg_server", "tests.store_fixtures"]``).

Every store test that takes ``store`` or ``db_url`` runs twice: on a SQLite
file in a temporary directory and on a fresh database of the session's
PostgreSQL server (tests/pg_server.py). Modules that hold the store's contract
run ``store`` on both APIs as well: the synchronous Store and the AsyncStore.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import resolveflow.store
from tests._async_facade import blocking_async_store
from tests.conftest import FakeClock

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh empty database: a SQLite file path, or a PostgreSQL URL."""
    if backend == "sqlite":
        return str(tmp_path / "cases.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store_api() -> str:
    """Which API ``store`` is: "sync". A module that holds the store's contract overrides it with
    ``@pytest.fixture(params=STORE_APIS)`` so that its tests run on the async store too."""
    return "sync"


STORE_APIS = ("sync", "async")


@pytest.fixture
def sync_store(db_url: str, clock: FakeClock) -> Iterator[resolveflow.store.Store]:
    """The synchronous store alone, for a test of its own API in a module that runs on both."""
    with resolveflow.store.connect(db_url, clock=clock) as opened:
        opened.create_schema()
        yield opened


@pytest.fixture
def store(db_url: str, clock: FakeClock, store_api: str) -> Iterator[Any]:
    """A store with its schema, on the test's FakeClock (an AsyncStore behind a blocking face for "async")."""
    if store_api == "async":
        with blocking_async_store(db_url, clock=clock) as facade:
            yield facade
        return
    with resolveflow.store.connect(db_url, clock=clock) as opened:
        opened.create_schema()
        yield opened
