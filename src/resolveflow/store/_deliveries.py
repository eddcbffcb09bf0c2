"""The relay's state in the database: queuing outbox events per subscriber, claiming, results, dead letters.

Each subscriber (a webhook endpoint or an in-process listener, by name) has a
cursor in ``resolveflow_relay_cursors``: how far into the outbox it has
queued events, in the outbox's own order (see ``_outbox.py``). Queuing reads
the next events after the cursor and writes one ``resolveflow_deliveries``
row for each (``pending``), and moves the cursor, in one transaction. On
PostgreSQL the cursor row is taken ``FOR UPDATE SKIP LOCKED``: one relay
queues for a subscriber at a time, the others skip it.

**Claiming by case.** A delivery can be claimed when it is pending, due, not
claimed by a relay whose claim still holds, and the first pending delivery
of its case for that subscriber: event k+1 of a case is never handed out
while event k is pending. Claims are taken ``FOR UPDATE SKIP LOCKED`` and
written (a token and ``claimed_until``) in a short transaction; the relay
delivers outside any transaction and writes the result only if its claim is
still the row's. A relay that dies leaves its claims to expire; another relay
(or itself, restarted) takes them again: at least once.

A delivery ends ``delivered``, or ``dead`` after the attempt limit. A dead
letter does not hold back its case's later events (they are delivered in
order after it); replaying it makes it pending again, with its attempts back
at 0, and it is delivered after whatever of its case is still pending before it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Final

import attrs
import sqlalchemy as sa

from resolveflow.store import _engine, _outbox
from resolveflow.store._outbox import StoredEvent
from resolveflow.store._tables import deliveries, outbox, relay_cursors

PENDING: Final = "pending"
DELIVERED: Final = "delivered"
DEAD: Final = "dead"
_ERROR_CHARS: Final = 500


@attrs.frozen(kw_only=True)
class Delivery:
    """One event's delivery to one subscriber, as the relay keeps it (see :func:`dead_letters`).

    Attributes:
        delivery_id: the id the receiver gets (``webhook-id``): the same on
            every attempt and every replay of this event to this subscriber.
        subscriber: the webhook's or listener's name.
        position: the event's position in the outbox.
        case_id: the event's case.
        event_id: the event's stable id.
        state: ``pending``, ``delivered`` or ``dead``.
        attempts: the failed attempts so far (an attempt cut short by a
            relay that died is not counted).
        next_attempt_at: when it is next due (while pending).
        last_error: why the last attempt failed, if it did.
        updated_at: when the relay last wrote it (the store's clock).
        tenant: the case's tenant, or None for a case stored without one.
    """

    delivery_id: str
    subscriber: str
    position: int
    case_id: str
    event_id: str
    state: str
    attempts: int
    next_attempt_at: _dt.datetime
    last_error: str | None
    updated_at: _dt.datetime
    tenant: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The delivery as JSON-ready values (times as ISO 8601 text)."""
        values = attrs.asdict(self)
        values["next_attempt_at"] = self.next_attempt_at.isoformat()
        values["updated_at"] = self.updated_at.isoformat()
        return values


@attrs.frozen(kw_only=True)
class Claimed:
    """A delivery this relay claimed: the event to deliver and the token that proves the claim."""

    delivery_id: str
    position: int
    attempts: int
    token: str
    event: StoredEvent


def delivery_id(subscriber: str, event_id: str) -> str:
    """The stable id of ``event_id``'s delivery to ``subscriber`` (``msg_`` and 32 hex digits)."""
    digest = hashlib.sha256(f"resolveflow.delivery\n{subscriber}\n{event_id}".encode()).hexdigest()
    return "msg_" + digest[:32]


def _postgres(engine: sa.Engine) -> bool:
    return engine.dialect.name == "postgresql"


def ensure_cursor(engine: sa.Engine, subscriber: str, now: _dt.datetime) -> None:
    """Give ``subscriber`` a cursor at the start of the outbox, unless it has one."""
    with _engine.write(engine, "relay") as conn:
        found = conn.execute(
            sa.select(relay_cursors.c.subscriber).where(relay_cursors.c.subscriber == subscriber)
        ).first()
        if found is not None:
            return
        try:
            with conn.begin_nested():
                conn.execute(
                    sa.insert(relay_cursors).values(
                        subscriber=subscriber, after_xact=-1, after_position=0, updated_at=now
                    )
                )
        except sa.exc.IntegrityError:
            pass  # another relay made it first


def _anything_after_cursor(engine: sa.Engine, subscriber: str) -> bool:
    cursor = relay_cursors.alias("cursor")
    newer = sa.exists().where(
        cursor.c.subscriber == subscriber,
        sa.tuple_(outbox.c.xact_id, outbox.c.position)
        > sa.tuple_(cursor.c.after_xact, cursor.c.after_position),
    )
    with _engine.read(engine, "relay") as conn:
        return bool(conn.execute(sa.select(newer)).scalar())


def enqueue(engine: sa.Engine, subscriber: str, now: _dt.datetime, limit: int) -> int:
    """Queue up to ``limit`` outbox events after the subscriber's cursor; how many were queued."""
    if not _anything_after_cursor(engine, subscriber):
        return 0  # checked in a read: an idle relay does not queue behind writers for the write lock
    with _engine.write(engine, "relay") as conn:
        query = sa.select(relay_cursors).where(relay_cursors.c.subscriber == subscriber)
        if _postgres(engine):
            query = query.with_for_update(skip_locked=True)
        cursor = conn.execute(query).first()
        if cursor is None:
            return 0  # another relay is queuing for this subscriber
        events = sa.select(
            outbox.c.position, outbox.c.xact_id, outbox.c.tenant, outbox.c.case_id, outbox.c.event_id
        ).where(
            sa.tuple_(outbox.c.xact_id, outbox.c.position)
            > sa.tuple_(sa.literal(cursor.after_xact), sa.literal(cursor.after_position))
        )
        if _postgres(engine):
            events = events.where(outbox.c.xact_id < _outbox._horizon())
        rows = conn.execute(events.order_by(outbox.c.xact_id, outbox.c.position).limit(limit)).all()
        if not rows:
            return 0
        conn.execute(
            sa.insert(deliveries),
            [
                {
                    "subscriber": subscriber,
                    "position": row.position,
                    "delivery_id": delivery_id(subscriber, row.event_id),
                    "tenant": row.tenant,
                    "case_id": row.case_id,
                    "event_id": row.event_id,
                    "state": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "updated_at": now,
                }
                for row in rows
            ],
        )
        last = rows[-1]
        conn.execute(
            sa.update(relay_cursors)
            .where(relay_cursors.c.subscriber == subscriber)
            .values(after_xact=last.xact_id, after_position=last.position, updated_at=now)
        )
        return len(rows)


def claim(
    engine: sa.Engine, subscriber: str, now: _dt.datetime, limit: int, lease: _dt.timedelta
) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries, at most one per case (the first pending of each)."""
    earlier = deliveries.alias("earlier")
    query: sa.Select[Any] = (
        sa.select(
            deliveries.c.position,
            deliveries.c.delivery_id,
            deliveries.c.attempts,
            outbox.c.event_id,
            outbox.c.tenant,
            outbox.c.case_id,
            outbox.c.seq,
            outbox.c.event_type,
            outbox.c.envelope,
            outbox.c.created_at,
        )
        .join(outbox, outbox.c.position == deliveries.c.position)
        .where(
            deliveries.c.subscriber == subscriber,
            deliveries.c.state == PENDING,
            deliveries.c.next_attempt_at <= now,
            sa.or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until <= now),
            ~sa.exists().where(
                earlier.c.subscriber == subscriber,
                earlier.c.tenant == deliveries.c.tenant,
                earlier.c.case_id == deliveries.c.case_id,
                earlier.c.state == PENDING,
                earlier.c.position < deliveries.c.position,
            ),
        )
        .order_by(deliveries.c.next_attempt_at, deliveries.c.position)
        .limit(limit)
    )
    with _engine.read(engine, "relay") as conn:
        if conn.execute(query.with_only_columns(deliveries.c.position).limit(1)).first() is None:
            return []  # nothing due: no write transaction (on SQLite, no wait for the write lock)
    if _postgres(engine):
        query = query.with_for_update(of=deliveries, skip_locked=True)
    with _engine.write(engine, "relay") as conn:
        rows = conn.execute(query).all()
        claimed: list[Claimed] = []
        for row in rows:
            token = str(uuid.uuid4())
            conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.subscriber == subscriber, deliveries.c.position == row.position)
                .values(claim=token, claimed_until=now + lease)
            )
            event = _outbox._stored(row)
            claimed.append(
                Claimed(
                    delivery_id=row.delivery_id,
                    position=row.position,
                    attempts=row.attempts,
                    token=token,
                    event=event,
                )
            )
    return claimed


def _mine(subscriber: str, item: Claimed) -> sa.ColumnElement[bool]:
    return sa.and_(
        deliveries.c.subscriber == subscriber,
        deliveries.c.position == item.position,
        deliveries.c.claim == item.token,
        deliveries.c.state == PENDING,
    )


@attrs.frozen
class Outcome:
    """What became of one claimed delivery: ``error`` None (delivered), the reason it failed, or
    ``released`` (not attempted: the claim would have run out before the attempt could end)."""

    item: Claimed
    error: str | None = None
    released: bool = False


def record(
    engine: sa.Engine,
    subscriber: str,
    outcomes: Sequence[Outcome],
    now: _dt.datetime,
    max_attempts: int,
    backoff: Callable[[int], _dt.timedelta],
) -> tuple[int, int, int]:
    """Write the outcomes of one round's claims in one transaction: (delivered, failed, dead).

    Only rows still claimed with this relay's token are written: a claim that
    ran out and was taken by another relay is that relay's now.
    """
    delivered = failed = dead = 0
    with _engine.write(engine, "relay") as conn:
        for outcome in outcomes:
            values: dict[str, Any] = {"claim": None, "claimed_until": None}
            if outcome.released:
                pass
            elif outcome.error is None:
                values.update(state=DELIVERED, updated_at=now)
            else:
                attempts = outcome.item.attempts + 1
                state = DEAD if attempts >= max_attempts else PENDING
                values.update(
                    state=state,
                    attempts=attempts,
                    next_attempt_at=now if state == DEAD else now + backoff(attempts),
                    last_error=outcome.error[:_ERROR_CHARS],
                    updated_at=now,
                )
            done = conn.execute(sa.update(deliveries).where(_mine(subscriber, outcome.item)).values(**values))
            if not done.rowcount or outcome.released:
                continue
            if outcome.error is None:
                delivered += 1
            else:
                failed += 1
                dead += values["state"] == DEAD
    return delivered, failed, dead


def _delivery(row: sa.Row[Any]) -> Delivery:
    return Delivery(
        delivery_id=row.delivery_id,
        subscriber=row.subscriber,
        position=row.position,
        case_id=row.case_id,
        tenant=row.tenant or None,
        event_id=row.event_id,
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        updated_at=row.updated_at,
    )


def listed(engine: sa.Engine, state: str, subscriber: str | None, after: int, limit: int) -> list[Delivery]:
    """Deliveries in ``state``, by subscriber then position, after position ``after``."""
    query = sa.select(deliveries).where(deliveries.c.state == state, deliveries.c.position > after)
    if subscriber is not None:
        query = query.where(deliveries.c.subscriber == subscriber)
    query = query.order_by(deliveries.c.position, deliveries.c.subscriber).limit(limit)
    with _engine.read(engine, "dead_letters") as conn:
        return [_delivery(row) for row in conn.execute(query)]


def replay(
    engine: sa.Engine, delivery_ids: Sequence[str] | None, subscriber: str | None, now: _dt.datetime
) -> int:
    """Make dead deliveries pending again (those named, or all, of one subscriber or all); how many."""
    where = [deliveries.c.state == DEAD]
    if delivery_ids is not None:
        where.append(deliveries.c.delivery_id.in_(list(delivery_ids)))
    if subscriber is not None:
        where.append(deliveries.c.subscriber == subscriber)
    with _engine.write(engine, "replay_dead_letters") as conn:
        done = conn.execute(
            sa.update(deliveries)
            .where(*where)
            .values(
                state=PENDING, attempts=0, next_attempt_at=now, claim=None, claimed_until=None, updated_at=now
            )
        )
        return int(done.rowcount)
