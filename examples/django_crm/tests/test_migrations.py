"""resolveflow's migration creates the store's tables in the project's database, and drops them going back."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from resolveflow.store import metadata

STORE_TABLES = {table.name for table in metadata.sorted_tables}


@pytest.mark.django_db(transaction=True)
def test_the_migration_goes_back_to_zero_and_forward_again() -> None:
    assert set(connection.introspection.table_names()) >= STORE_TABLES
    try:
        call_command("migrate", "resolveflow", "zero", verbosity=0)  # takes tickets back too
        assert not set(connection.introspection.table_names()) & STORE_TABLES
    finally:
        call_command("migrate", verbosity=0)
    assert set(connection.introspection.table_names()) >= STORE_TABLES


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor refuses to work inside atomic()
def test_sqlmigrate_prints_the_store_s_sql_for_this_database() -> None:
    out = StringIO()
    call_command("sqlmigrate", "resolveflow", "0001", stdout=out)
    sql = out.getvalue()
    assert "CREATE TABLE resolveflow_entries" in sql
    assert ("TIMESTAMP WITH TIME ZONE" in sql) == (connection.vendor == "postgresql")
