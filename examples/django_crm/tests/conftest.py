"""Fixtures of the example CRM's tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections

from resolveflow.store import metadata

# resolveflow's tables are not Django models: a transactional test's flush leaves them as they are.
STORE_TABLES = [table.name for table in reversed(metadata.sorted_tables)]


@pytest.fixture
def clean_store(transactional_db: None) -> Iterator[None]:  # noqa: ARG001 - requested for its effect
    """A transactional test (real commits), with resolveflow's tables emptied after it."""
    yield
    with connection.cursor() as cursor:
        for table in STORE_TABLES:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


@pytest.fixture
def committed() -> Any:
    """Counts rows from a second connection: what is committed, not what this connection sees."""

    def count(table: str, where: str = "") -> int:
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM {table} {where}")
                (n,) = cursor.fetchone()
                return int(n)
        finally:
            other.close()

    return count


@pytest.fixture
def agent(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="ana", password="not-used")
