"""The store's tables, as SQLAlchemy Core metadata, and their SQL.

Every time column holds UTC. PostgreSQL gets ``TIMESTAMP WITH TIME ZONE``;
SQLite has no time type, so times are written as fixed-width UTC text
(``2026-01-05 09:00:00.000000``), whose text order is time order: the
overdue query and its index compare correctly on both.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput

ID = 200  # case ids, actors and keys: the core caps them at 200 characters
NAME = 100  # methodology, step, action and outcome ids
HASH = 64  # SHA-256, hex
SEAL = 105  # "<key id of at most 40>:<64 hex digits>"


class UTCDateTime(sa.TypeDecorator[_dt.datetime]):
    """An aware datetime in, an aware UTC datetime out, on every backend."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: _dt.datetime | None, dialect: Dialect) -> _dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, _dt.datetime) or value.utcoffset() is None:
            raise InvalidInput(f"expected a time-zone aware datetime, got {value!r}", argument="time")
        utc = value.astimezone(_dt.UTC)
        # SQLite would drop the offset anyway; dropping it after converting to UTC keeps order.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: _dt.datetime | None, _dialect: Dialect) -> _dt.datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            return value.replace(tzinfo=_dt.UTC)
        return value.astimezone(_dt.UTC)


def _case_key(name: str) -> sa.ForeignKeyConstraint:
    """A row of a stored case: its tenant and case id."""
    return sa.ForeignKeyConstraint(
        ["tenant", "case_id"], ["resolveflow_cases.tenant", "resolveflow_cases.case_id"], name=name
    )


def _json() -> sa.types.TypeEngine[Any]:
    # Plain JSON (text) rather than JSONB on PostgreSQL: JSONB rewrites numbers
    # (1e16 comes back as an integer), which would break the hash chain.
    return sa.JSON(none_as_null=True)


metadata = sa.MetaData()
"""The SQLAlchemy metadata of resolveflow's tables, for Alembic or your own migration tool."""

NO_TENANT = ""
"""The ``tenant`` of cases stored without one (a store not scoped with ``for_tenant``)."""


def _tenant(*, primary_key: bool = True) -> sa.Column[str]:
    # First in every key and index: a tenant's rows are one range, and no query of one tenant can
    # reach another's. Empty for cases stored without a tenant (never NULL: NULL is not equal to
    # itself, so it could not be part of a key).
    return sa.Column(
        "tenant", sa.String(ID), primary_key=primary_key, nullable=False, server_default=NO_TENANT
    )


cases = sa.Table(
    "resolveflow_cases",
    metadata,
    _tenant(),
    sa.Column("case_id", sa.String(ID), primary_key=True),
    sa.Column("methodology_id", sa.String(NAME), nullable=False),
    sa.Column("methodology_version", sa.String(NAME), nullable=False),
    sa.Column("step", sa.String(NAME), nullable=False),
    sa.Column("outcome", sa.String(NAME), nullable=True),
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Column("head", sa.String(HASH), nullable=False),
    # How the entries are hashed (resolveflow._history.RECIPES); databases made before
    # this column existed add it with the default, the recipe they were written with.
    sa.Column("hash_recipe", sa.String(20), nullable=False, server_default="json-sorted"),
    # The digest of each definition the case was recorded under, {"version": "sha256:…"} as
    # RFC 8785 text. NULL in databases made before the column: such a case is bound at its next write.
    sa.Column("definitions", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("last_seq >= 0", name="ck_resolveflow_cases_last_seq"),
    sa.Index("ix_resolveflow_cases_step", "tenant", "step", "case_id"),
    sa.Index("ix_resolveflow_cases_outcome", "tenant", "outcome", "case_id"),
    sa.Index("ix_resolveflow_cases_methodology", "tenant", "methodology_id", "step"),
)

entries = sa.Table(
    "resolveflow_entries",
    metadata,
    _tenant(),
    sa.Column("case_id", sa.String(ID), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("action", sa.String(NAME), nullable=False),
    sa.Column("from_step", sa.String(NAME), nullable=False),
    sa.Column("step", sa.String(NAME), nullable=False),
    sa.Column("actor", sa.String(ID), nullable=False),
    # The roles the actor held, as a sorted JSON list; NULL for an actor without roles (and in
    # databases made before the column, whose entries all have none).
    sa.Column("actor_roles", sa.Text, nullable=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("evidence", _json(), nullable=True),
    sa.Column("hash", sa.String(HASH), nullable=False),
    # The entry's seal, "<key id>:<hmac>", when the store has a key ring (resolveflow._seal);
    # NULL when it has none (and in databases made before the column).
    sa.Column("seal", sa.String(SEAL), nullable=True),
    sa.CheckConstraint("seq >= 1", name="ck_resolveflow_entries_seq"),
    _case_key("fk_resolveflow_entries_case"),
)

idempotency = sa.Table(
    "resolveflow_idempotency",
    metadata,
    _tenant(),
    sa.Column("case_id", sa.String(ID), primary_key=True),
    sa.Column("idempotency_key", sa.String(ID), primary_key=True),
    sa.Column("fingerprint", sa.String(HASH), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # The key stands for a real entry of the same case.
    sa.ForeignKeyConstraint(
        ["tenant", "case_id", "seq"],
        ["resolveflow_entries.tenant", "resolveflow_entries.case_id", "resolveflow_entries.seq"],
        name="fk_resolveflow_idempotency_entry",
    ),
)

# The promises still open on each open case, rewritten with every entry, so
# that "what is overdue now" is one range scan instead of a replay of every case.
deadlines = sa.Table(
    "resolveflow_deadlines",
    metadata,
    _tenant(),
    sa.Column("case_id", sa.String(ID), primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("ref", sa.String(ID), primary_key=True),
    # Copied from the case (it never changes) so that the overdue query reads one index and no join.
    sa.Column("methodology_id", sa.String(NAME), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("due", UTCDateTime, nullable=False),
    # Set once the deadline worker has fired the promise's deadline.due: its query reads only the
    # promises not fired yet (the index below), so a pass costs the same however many overdue
    # promises it already fired wait on open cases.
    sa.Column("due_fired", sa.Boolean, nullable=False, server_default=sa.false()),
    # In the query's order, so that it needs no sort and a limit stops early.
    sa.Index("ix_resolveflow_deadlines_due", "tenant", "due", "case_id", "kind", "ref"),
    _case_key("fk_resolveflow_deadlines_case"),
)
# The promises the deadline worker has not fired, in its query's order: a partial index, so that
# the promises it fired are not in it at all. The worker serves every tenant: due time first.
_UNFIRED = deadlines.c.due_fired == sa.false()
sa.Index(
    "ix_resolveflow_deadlines_unfired",
    deadlines.c.due,
    deadlines.c.tenant,
    deadlines.c.case_id,
    deadlines.c.kind,
    deadlines.c.ref,
    postgresql_where=_UNFIRED,
    sqlite_where=_UNFIRED,
)

# Filled only when the store records refusals; kept in the schema either way
# so that switching the option on needs no migration.
refusals = sa.Table(
    "resolveflow_refusals",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    _tenant(primary_key=False),
    sa.Column("case_id", sa.String(ID), nullable=False),
    sa.Column("action", sa.String(NAME), nullable=False),
    sa.Column("step", sa.String(NAME), nullable=False),
    sa.Column("codes", _json(), nullable=False),
    sa.Column("actor", sa.String(ID), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_resolveflow_refusals_case", "tenant", "case_id", "at"),
    _case_key("fk_resolveflow_refusals_case"),
)


# Every event of every entry the store records, written in the entry's own transaction (the
# transactional outbox, see _outbox.py). ``position`` numbers the events; ``xact_id`` orders the
# commits on PostgreSQL (the writer's transaction id, never below the case's previous event's), so
# that a reader can tell which events no transaction still running can precede. On SQLite, whose
# writers take turns, it is 0 and positions are in commit order.
EVENT_ID = 36  # a UUID's text
outbox = sa.Table(
    "resolveflow_outbox",
    metadata,
    sa.Column(
        "position", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("event_id", sa.String(EVENT_ID), nullable=False),
    _tenant(primary_key=False),
    sa.Column("case_id", sa.String(ID), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("event_type", sa.String(NAME), nullable=False),
    sa.Column("envelope", _json(), nullable=False),
    sa.Column("xact_id", sa.BigInteger, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("event_id", name="uq_resolveflow_outbox_event_id"),
    # Every tenant's events, for the relay; and one tenant's, for Store.events.
    sa.Index("ix_resolveflow_outbox_order", "xact_id", "position"),
    sa.Index("ix_resolveflow_outbox_tenant", "tenant", "xact_id", "position"),
    sa.Index("ix_resolveflow_outbox_case", "tenant", "case_id", "xact_id"),
    _case_key("fk_resolveflow_outbox_case"),
    # Positions are never reused, not even the last one after a rollback or a delete.
    sqlite_autoincrement=True,
)


# What the deadline worker has fired (store/_deadline_worker.py): one row per promise and mark
# ("due", "missed"), written in the transaction that writes the mark's event to the outbox, so
# that each fires exactly once. A promise is its case, kind, ref and due time: one made again
# for another time is another promise. ``missed_at`` is set on a "due" mark while the promise
# may still be missed, and cleared once it is (or once it was kept).
deadline_marks = sa.Table(
    "resolveflow_deadline_marks",
    metadata,
    _tenant(),
    sa.Column("case_id", sa.String(ID), primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("ref", sa.String(ID), primary_key=True),
    sa.Column("due", UTCDateTime, primary_key=True),
    sa.Column("mark", sa.String(20), primary_key=True),
    sa.Column("event_id", sa.String(EVENT_ID), nullable=False),
    sa.Column("missed_at", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_resolveflow_deadline_marks_missed", "missed_at"),
    _case_key("fk_resolveflow_deadline_marks_case"),
)


# The relay's state (see _deliveries.py): one row per event for each subscriber (a webhook endpoint
# or an in-process listener), and, per subscriber, how far into the outbox it has queued events.
deliveries = sa.Table(
    "resolveflow_deliveries",
    metadata,
    sa.Column("subscriber", sa.String(NAME), primary_key=True),
    sa.Column("position", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("delivery_id", sa.String(HASH), nullable=False),
    _tenant(primary_key=False),
    sa.Column("case_id", sa.String(ID), nullable=False),
    sa.Column("event_id", sa.String(EVENT_ID), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),  # pending, delivered or dead
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    # A relay's claim: its token, and until when the claim holds (another relay may take it after).
    sa.Column("claim", sa.String(EVENT_ID), nullable=True),
    sa.Column("claimed_until", UTCDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("delivery_id", name="uq_resolveflow_deliveries_delivery_id"),
    sa.Index("ix_resolveflow_deliveries_due", "subscriber", "state", "next_attempt_at"),
    sa.Index("ix_resolveflow_deliveries_case", "subscriber", "tenant", "case_id", "position"),
)

relay_cursors = sa.Table(
    "resolveflow_relay_cursors",
    metadata,
    sa.Column("subscriber", sa.String(NAME), primary_key=True),
    sa.Column("after_xact", sa.BigInteger, nullable=False),
    sa.Column("after_position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)


def _dialect(url: str) -> Dialect:
    # A mock engine compiles for a dialect without a driver or a server.
    return sa.create_mock_engine(sa.make_url(url), executor=lambda *_a, **_k: None).dialect


_DIALECTS: dict[str, Dialect] = {
    "postgresql": _dialect("postgresql+psycopg://"),
    "sqlite": _dialect("sqlite://"),
}


def schema_sql(dialect: str = "postgresql") -> str:
    """The SQL that :meth:`Store.create_schema` runs, for your own migration tool.

    Args:
        dialect: ``"postgresql"`` or ``"sqlite"``.

    Returns:
        ``CREATE TABLE`` and ``CREATE INDEX`` statements, each ending with ``;``.

    Raises:
        InvalidInput: another dialect name.

    Example:
        >>> from resolveflow.store import schema_sql
        >>> print(schema_sql("sqlite").splitlines()[0])
        CREATE TABLE resolveflow_cases (
    """
    found = _DIALECTS.get(dialect) if isinstance(dialect, str) else None
    if found is None:
        raise InvalidInput(f"expected one of {sorted(_DIALECTS)}, got {shown(dialect)}", argument="dialect")
    statements: list[str] = []
    for table in metadata.sorted_tables:
        statements.append(_tidy(sa.schema.CreateTable(table).compile(dialect=found)))
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            statements.append(_tidy(sa.schema.CreateIndex(index).compile(dialect=found)))
    return "\n\n".join(f"{statement};" for statement in statements) + "\n"


def _tidy(compiled: object) -> str:
    # SQLAlchemy indents with tabs and leaves a space after each comma.
    lines = str(compiled).strip().replace("\t", "    ").splitlines()
    return "\n".join(line.rstrip() for line in lines)
