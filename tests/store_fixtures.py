"""Store fixtures (a pytest plugin: ``pytest_plugins = ["tests.pg_server", "tests.store_fixtures"]``).

Every store test that takes ``store`` or ``db_url`` runs twice: on a SQLite
file in a temporary directory and on a fresh database of the session's
PostgreSQL server (tests/pg_server.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import resolveflow.store
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
def store(db_url: str, clock: FakeClock) -> Iterator[resolveflow.store.Store]:
    """A store with its schema, on the test's FakeClock."""
    with resolveflow.store.connect(db_url, clock=clock) as opened:
        opened.create_schema()
        yield opened
