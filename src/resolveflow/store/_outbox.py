"""The transactional outbox: every entry's events, written in the entry's transaction, read in order.

Whatever records an entry (``Store.fire``, ``Store.import_cases``) also writes
the entry's events to ``resolveflow_outbox`` in the same transaction: the
``action_accepted`` event, and ``case_closed`` when the entry reached an
outcome, exactly the envelopes ``case.subscribe`` hands its listeners (same
stable event ids). A rolled-back write leaves no event; a committed one leaves
exactly its own. Refusals are not entries and write no event.

**Reading without skipping.** Each event has a ``position`` from an
autoincrementing key. On SQLite writers take turns, so positions commit in
order and a reader reads them in that order. On PostgreSQL two transactions
can take positions 5 and 6 and commit 6 first: a reader that took 6 and
resumed "after 6" would never see 5. So every row also keeps ``xact_id``: the
id of the transaction that wrote it (``pg_current_xact_id()``), raised to the
case's previous event's when that is higher (a caller's transaction may have
got its id before the case's previous writer did). Events are read in
``(xact_id, position)`` order and only up to
``pg_snapshot_xmin(pg_current_snapshot())``, below which every transaction has
ended: what a reader sees is then final, and everything committed later sorts
after it. A consumer resumes from the position of the last event it handled.

**Tenants.** Every row keeps the tenant of its case (``""`` for none). A
tenant's event carries ``"tenant"`` in its envelope, and its id is derived
from the tenant as well as from the case's (``scoped_event_id``), so that two
tenants' cases with the same id never share an event id. ``Store.events``
reads one tenant's events; the relay reads every tenant's.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, Final

import attrs
import sqlalchemy as sa

from resolveflow._case import Case, case_ledger
from resolveflow._events import Event, accepted_events
from resolveflow._history import HistoryEntry, format_time
from resolveflow._migration import MIGRATE_ACTION
from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput, TamperedHistory
from resolveflow.store import _engine, _unreadable
from resolveflow.store._args import count_arg
from resolveflow.store._tables import outbox

MAX_EVENTS_PAGE: Final = 10_000
"""The most events one :meth:`Store.events` call returns."""

_TENANT_NAMESPACE: Final = uuid.UUID("3d2f8c61-0e4b-4f7a-b8c9-6a1e5d0f2b74")

ROW_COLUMNS: Final = (
    outbox.c.position,
    outbox.c.event_id,
    outbox.c.tenant,
    outbox.c.case_id,
    outbox.c.seq,
    outbox.c.event_type,
    outbox.c.envelope,
    outbox.c.created_at,
)


@attrs.frozen(kw_only=True)
class StoredEvent:
    """One event of the store's outbox (see :meth:`Store.events`).

    Attributes:
        position: where it is in the outbox; pass the last one you handled as
            ``after`` to resume. Positions only ever grow, but may have gaps
            (a rolled-back write takes one on PostgreSQL), and on PostgreSQL
            events are handed out in commit order, which is not always
            position order: resume from the last event's position, not the
            highest one seen.
        event_id: the event's stable id (the same a subscriber gets), to de-duplicate.
        type: ``action_accepted`` or ``case_closed``; the deadline worker's are
            ``deadline.due``, ``deadline.missed`` and ``deadline.escalation_refused``.
        case_id: the case.
        seq: the entry's sequence number.
        envelope: the event as :meth:`resolveflow.Event.to_json` gives it (with
            ``"tenant"`` for a tenant's case).
        recorded_at: when the store wrote it (its clock, UTC).
        tenant: the case's tenant, or None for a case stored without one.
    """

    position: int
    event_id: str
    type: str
    case_id: str
    seq: int
    envelope: dict[str, Any] = attrs.field(eq=True, hash=False)
    recorded_at: _dt.datetime
    tenant: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The envelope with the event's ``position`` and ``recorded_at`` (for a webhook body)."""
        return {**self.envelope, "position": self.position, "recorded_at": format_time(self.recorded_at)}


@attrs.frozen(kw_only=True)
class EventPage:
    """One page of the outbox, in the order a consumer must handle it (see :meth:`Store.events`).

    Attributes:
        events: the events on this page.
        next_after: pass it as ``after`` to read on: the last event's position,
            or the ``after`` this page was asked with when it is empty.
    """

    events: tuple[StoredEvent, ...]
    next_after: int

    def __iter__(self) -> Iterator[StoredEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)


# --- writing -------------------------------------------------------------------------------


def _own_xact(conn: sa.Connection) -> sa.ColumnElement[Any]:
    if conn.dialect.name != "postgresql":
        return sa.literal(0, sa.BigInteger)  # SQLite's writers take turns: positions are commit order
    return sa.cast(sa.cast(sa.func.pg_current_xact_id(), sa.Text), sa.BigInteger)


def _xact_after_case(conn: sa.Connection, tenant: str, case_id: str) -> sa.ColumnElement[Any]:
    """This transaction's id, or the case's previous event's when higher: a case's events stay in order."""
    own = _own_xact(conn)
    if conn.dialect.name != "postgresql":
        return own
    previous = (
        sa.select(sa.func.max(outbox.c.xact_id))
        .where(outbox.c.tenant == tenant, outbox.c.case_id == case_id)
        .scalar_subquery()
    )
    return sa.func.greatest(own, sa.func.coalesce(previous, 0))


def scoped_event_id(tenant: str, event_id: str) -> str:
    """A case's event id as stored: the same for a case without a tenant, one of the tenant's own else."""
    return str(uuid.uuid5(_TENANT_NAMESPACE, f"{tenant}\x00{event_id}")) if tenant else event_id


def scoped_envelope(tenant: str, envelope: dict[str, Any]) -> dict[str, Any]:
    """An envelope as stored: a tenant's names the tenant and has the tenant's event id."""
    if not tenant:
        return envelope
    return {**envelope, "event_id": scoped_event_id(tenant, envelope["event_id"]), "tenant": tenant}


def _row(tenant: str, event: Event, now: _dt.datetime) -> dict[str, Any]:
    envelope = scoped_envelope(tenant, event.to_json())
    return {
        "event_id": envelope["event_id"],
        "tenant": tenant,
        "case_id": event.case_id,
        "seq": event.seq,
        "event_type": event.type,
        "envelope": envelope,
        "created_at": now,
    }


def case_events(case: Case) -> list[Event]:
    """Every event of a case's history, as a subscriber would have got them when it was recorded.

    Entries before a migration were recorded under the version the case had then.
    """
    ledger = case_ledger(case)
    definitions = ledger.definitions
    version = 0
    events: list[Event] = []
    for entry in ledger.entries:
        if entry.action == MIGRATE_ACTION and version + 1 < len(definitions):
            version += 1
        events.extend(accepted_events(case.id, definitions[version], entry, entry.from_step))
    return events


def record_entry(
    conn: sa.Connection, tenant: str, case: Case, entry: HistoryEntry, now: _dt.datetime
) -> None:
    """Write the events of ``entry``, just recorded on ``case``, in the transaction of ``conn``."""
    events = accepted_events(case.id, case.methodology, entry, entry.from_step)
    rows = [_row(tenant, event, now) for event in events]
    try:
        conn.execute(sa.insert(outbox).values(xact_id=_xact_after_case(conn, tenant, case.id)), rows)
    except sa.exc.IntegrityError as error:
        # The entry row was just inserted, so an event of it already there was not written by resolveflow.
        raise TamperedHistory(
            "the outbox already holds an event of this entry", case_id=case.id, entry=entry.seq
        ) from error


def record_envelopes(
    conn: sa.Connection,
    tenant: str,
    case_id: str,
    seq: int,
    envelopes: Sequence[dict[str, Any]],
    now: _dt.datetime,
) -> None:
    """Write events that are not an entry's (the deadline worker's), after the case's others.

    Each envelope holds at least ``event_id`` and ``type`` (as stored: made with
    :func:`scoped_envelope`); ``seq`` is the case's last entry when they were
    written. A taken event id raises IntegrityError.
    """
    rows = [
        {
            "event_id": envelope["event_id"],
            "tenant": tenant,
            "case_id": case_id,
            "seq": seq,
            "event_type": envelope["type"],
            "envelope": envelope,
            "created_at": now,
        }
        for envelope in envelopes
    ]
    if rows:
        conn.execute(sa.insert(outbox).values(xact_id=_xact_after_case(conn, tenant, case_id)), rows)


def record_cases(conn: sa.Connection, tenant: str, batch: Sequence[Case], now: _dt.datetime) -> None:
    """Write the events of every entry of newly stored cases, in the transaction of ``conn``."""
    rows = [_row(tenant, event, now) for case in batch for event in case_events(case)]
    if not rows:
        return
    try:
        conn.execute(sa.insert(outbox).values(xact_id=_own_xact(conn)), rows)
    except sa.exc.IntegrityError as error:
        taken = _taken(conn.engine, [row["event_id"] for row in rows])
        row = next((r for r in rows if r["event_id"] == taken), rows[0])
        raise TamperedHistory(
            "the outbox already holds an event of this case, which is new to the store",
            case_id=row["case_id"],
            entry=row["seq"],
        ) from error


def _taken(engine: sa.Engine, event_ids: list[str]) -> str | None:
    """The first of ``event_ids`` that the outbox already holds (to name it in the error)."""
    with _engine.read(engine, "import_cases") as conn:
        for start in range(0, len(event_ids), 500):
            found = conn.execute(
                sa.select(outbox.c.event_id).where(outbox.c.event_id.in_(event_ids[start : start + 500]))
            ).first()
            if found is not None:
                return str(found.event_id)
    return None


# --- reading -------------------------------------------------------------------------------


def _horizon() -> sa.ColumnElement[Any]:
    """Every transaction with a lower id had ended when the reading transaction's snapshot was taken."""
    return sa.cast(sa.cast(sa.func.pg_snapshot_xmin(sa.func.pg_current_snapshot()), sa.Text), sa.BigInteger)


def page_query(
    dialect: str, after_xact: int, after: int, limit: int, tenant: str | None = None
) -> sa.Select[Any]:
    """The events after ``(after_xact, after)`` in the order consumers read them: one tenant's, or
    (``tenant`` None, for the relay) every tenant's."""
    query = sa.select(*ROW_COLUMNS).where(
        sa.tuple_(outbox.c.xact_id, outbox.c.position) > sa.tuple_(sa.literal(after_xact), sa.literal(after))
    )
    if tenant is not None:
        query = query.where(outbox.c.tenant == tenant)
    if dialect == "postgresql":
        query = query.where(outbox.c.xact_id < _horizon())
    return query.order_by(outbox.c.xact_id, outbox.c.position).limit(limit)


def _stored(row: sa.Row[Any]) -> StoredEvent:
    envelope = row.envelope
    if (
        not isinstance(envelope, dict)
        or envelope.get("event_id") != row.event_id
        or envelope.get("type") != row.event_type
        or envelope.get("case_id") != row.case_id
        or envelope.get("seq") != row.seq
        or envelope.get("tenant", "") != row.tenant
    ):
        raise TamperedHistory(
            f"outbox row {row.position} does not hold the event its columns name",
            case_id=str(row.case_id),
            entry=row.seq if type(row.seq) is int and row.seq >= 0 else 0,
        )
    return StoredEvent(
        position=row.position,
        event_id=row.event_id,
        type=row.event_type,
        case_id=row.case_id,
        seq=row.seq,
        envelope=envelope,
        recorded_at=row.created_at,
        tenant=row.tenant or None,
    )


def events(engine: sa.Engine, tenant: str, after: object, limit: object) -> EventPage:
    """The page of :meth:`Store.events`, a tenant's events: arguments checked, one read transaction."""
    start = count_arg(after, "after", minimum=0)
    size = count_arg(limit, "limit", minimum=1, maximum=MAX_EVENTS_PAGE)
    with _engine.read(engine, "events") as conn:
        after_xact = -1
        if start:
            # Another tenant's position is no position at all here: the same error, nothing learned.
            found = conn.execute(
                sa.select(outbox.c.xact_id).where(outbox.c.position == start, outbox.c.tenant == tenant)
            ).first()
            if found is None:
                raise InvalidInput(
                    f"expected 0 (from the first event) or the position of a stored event, such as a "
                    f"page's next_after; no event is at position {shown(start)}",
                    argument="after",
                )
            after_xact = found.xact_id
        query = page_query(engine.dialect.name, after_xact, start, size, tenant)
        with _unreadable.decoding_rows(conn, query, outbox.c.case_id, "outbox rows"):
            rows = conn.execute(query).all()
        page = tuple(_stored(row) for row in rows)
    return EventPage(events=page, next_after=page[-1].position if page else start)
