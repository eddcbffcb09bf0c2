"""Bringing a database made before tenants to today's schema: ``Store.upgrade_schema``.

Tenants put a ``tenant`` column first in every key, and no database lets a
primary key change in place on every version (SQLite not at all). So each
table of the old schema is rebuilt: renamed aside, created again from the
metadata, filled from the old one with ``tenant = ''`` (the cases stored
without a tenant, which is what they were), and the old one dropped. Columns
the old table lacked (a database older still) take their defaults, which say
what such rows were (``hash_recipe`` ``json-sorted``, no seal, not fired).
Everything happens in one write transaction (PostgreSQL's DDL is
transactional; SQLite's runs inside ``BEGIN IMMEDIATE``): a failure leaves the
database as it was.

Renamed tables keep their indexes and constraints, whose names would collide
with the new ones' (PostgreSQL and SQLite name indexes per schema), so those
are dropped from the old tables first.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from resolveflow.store import _engine
from resolveflow.store._tables import metadata

_ASIDE: Final = "_before_tenants"
"""The suffix of an old table while its rows are copied."""


def _has_tenant(inspector: sa.Inspector, table: str) -> bool:
    return any(column["name"] == "tenant" for column in inspector.get_columns(table))


def needs_upgrade(engine: sa.Engine, operation: str = "upgrade_schema") -> list[str]:
    """The store's tables present without the ``tenant`` column they have now (made before tenants).

    The relay's cursors have none: a cursor covers every tenant's events.
    """
    with _engine.guarded(operation):
        inspector = sa.inspect(engine)
        present = set(inspector.get_table_names())
        return [
            t.name
            for t in metadata.sorted_tables
            if "tenant" in t.c and t.name in present and not _has_tenant(inspector, t.name)
        ]


def _drop_names(conn: sa.Connection, name: str) -> None:
    """Drop what of the old table ``name`` holds a schema-wide name: its indexes (and on PostgreSQL
    its foreign keys, unique and primary key constraints, whose indexes go with them)."""
    inspector = sa.inspect(conn)
    quote = conn.dialect.identifier_preparer.quote
    table = quote(name)
    constraints: list[str] = []
    if conn.dialect.name == "postgresql":
        constraints += [str(fk["name"]) for fk in inspector.get_foreign_keys(name)]
        constraints += [str(u["name"]) for u in inspector.get_unique_constraints(name)]
        primary = inspector.get_pk_constraint(name).get("name")
        constraints += [str(primary)] if primary else []
    indexes = [
        str(index["name"])
        for index in inspector.get_indexes(name)
        if str(index["name"]) not in constraints and not index.get("duplicates_constraint")
    ]
    for constraint in constraints:
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {quote(constraint)}")
    for index in indexes:
        conn.exec_driver_sql(f"DROP INDEX {quote(index)}")


def upgrade(engine: sa.Engine) -> list[str]:
    """Rebuild every table made before tenants (see the module's doc); the names of those rebuilt."""
    old = needs_upgrade(engine)
    if not old:
        return []
    quote = engine.dialect.identifier_preparer.quote
    with _engine.write(engine, "upgrade_schema") as conn:
        columns = {name: [c["name"] for c in sa.inspect(conn).get_columns(name)] for name in old}
        # Dependents first, so that no old table still refers to one renamed before it.
        for name in reversed(old):
            _drop_names(conn, name)
            conn.exec_driver_sql(f"ALTER TABLE {quote(name)} RENAME TO {quote(name + _ASIDE)}")
        metadata.create_all(conn)
        for table in metadata.sorted_tables:
            if table.name in columns:
                _copy(conn, table, columns[table.name])
        for name in reversed(old):
            conn.exec_driver_sql(f"DROP TABLE {quote(name + _ASIDE)}")
        if conn.dialect.name == "postgresql":
            _restart_sequences(conn, old)
    return old


def _copy(conn: sa.Connection, table: sa.Table, old_columns: list[str]) -> None:
    """Every row of the old table into the new one, under no tenant (one statement, in the database)."""
    quote = conn.dialect.identifier_preparer.quote
    listed = ", ".join(quote(c) for c in old_columns if c in table.c)
    conn.exec_driver_sql(
        f"INSERT INTO {quote(table.name)} (tenant, {listed}) "
        f"SELECT '', {listed} FROM {quote(table.name + _ASIDE)}"
    )


def _restart_sequences(conn: sa.Connection, rebuilt: list[str]) -> None:
    """Serial keys copied with their values: their sequences go on after the highest one."""
    for table in metadata.sorted_tables:
        if table.name not in rebuilt:
            continue
        for column in table.primary_key.columns:
            if column.autoincrement is True:
                conn.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence(:table, :column), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                    ),
                    {"table": table.name, "column": column.name},
                )
