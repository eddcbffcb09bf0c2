"""The deadline worker: promises that come due fire ``deadline.due``, then ``deadline.missed``, once each.

The promises are what the records declared (``promises_made``, see
``resolveflow/_promise.py``) and the methodology's step deadlines (its
``WithinDeadline`` guards, ``resolveflow/_step_deadlines.py``), kept by the
store as deadline rows with every entry: plan items, call-backs of a
reschedule, a third party's own kinds, time limits on leaving a step. The
worker only reads those rows; it has no list of its own.

**Exactly once.** Each firing is one write transaction: the case row is locked,
the promise is checked to be still open with the same due time, a mark is
inserted into ``resolveflow_deadline_marks`` (its key: case, kind, ref, due
time and mark, with ``ON CONFLICT DO NOTHING``) and, only when the mark is new,
the event goes into the outbox. Both commit together or neither does, so a
worker killed anywhere leaves either the mark and its event or nothing, and the
next run fires what is left. Event ids are derived from the case, the promise
and the mark, like every other event's.

**Several workers.** On PostgreSQL each firing locks its case row with
``FOR UPDATE SKIP LOCKED``: workers skip the cases another one is handling
(counted as ``skipped``) and the unique mark stops a second firing in any
case. A user's ``fire`` on the same case waits for the worker's short
transaction, as it would for another writer. On SQLite writers take turns
(``BEGIN IMMEDIATE``): run one worker; a second is safe but only waits.

**Due and missed.** A promise has come due once the clock reaches its due
time, and is missed when it is still open after its due time plus a grace:
the grace of the methodology's :class:`~resolveflow.Escalation` for that
kind, else the worker's ``grace``. With an escalation, the worker then
takes its action on the case, in the same transaction, as the escalation's
system actor: the guards decide, and a refusal becomes a
``deadline.escalation_refused`` event instead of an entry.

**Tenants.** Given the store :func:`connect` returned, a worker serves every
tenant's promises (one process for the whole database); given a store scoped
with ``for_tenant``, that tenant's only. Each event names its case's tenant, and
an escalation is fired through that tenant's store.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from resolveflow import _telemetry
from resolveflow._actor import check_actor_id
from resolveflow._escalation import MAX_GRACE, WORKER_ACTOR, Escalation, escalation_for
from resolveflow._history import format_time
from resolveflow._methodology import Methodology
from resolveflow._shown import shown
from resolveflow.exceptions import (
    InvalidInput,
    Refused,
    ResolveflowError,
    StoreUnavailable,
)
from resolveflow.store import _engine, _outbox, _rows
from resolveflow.store._args import count_arg
from resolveflow.store._tables import cases, deadline_marks, deadlines

_log = logging.getLogger("resolveflow.worker")

if TYPE_CHECKING:
    from resolveflow.store._store import Store

MAX_BATCH: Final = 10_000
_NAMESPACE: Final = uuid.UUID("0b6f3f1e-8d7a-4c55-9a43-7f2d5e1c9b20")


def deadline_event_id(case_id: str, kind: str, ref: str, due: _dt.datetime, event_type: str) -> str:
    """The stable id of a deadline event: the same promise and type always get the same id."""
    return str(uuid.uuid5(_NAMESPACE, f"{case_id}\x00{kind}\x00{ref}\x00{format_time(due)}\x00{event_type}"))


@attrs.frozen(kw_only=True)
class WorkerReport:
    """What one or more passes of a :class:`DeadlineWorker` did.

    Attributes:
        due: ``deadline.due`` events written.
        missed: ``deadline.missed`` events written.
        escalated: escalation actions recorded.
        refused: escalation actions the guards refused (each a ``deadline.escalation_refused`` event).
        skipped: promises left because another worker held their case (PostgreSQL).
        failed: promises that could not be fired because their case's stored rows are not what
            resolveflow wrote (``TamperedHistory`` and the like; logged on ``resolveflow.worker``
            and tried again at the next pass). The others are fired all the same.
        passes: how many passes this covers.
    """

    due: int = 0
    missed: int = 0
    escalated: int = 0
    refused: int = 0
    skipped: int = 0
    failed: int = 0
    passes: int = 0

    def __add__(self, other: object) -> WorkerReport:
        if not isinstance(other, WorkerReport):
            return NotImplemented
        return WorkerReport(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in attrs.fields(WorkerReport)}
        )

    @property
    def fired(self) -> int:
        """Events written (due, missed and refused escalations)."""
        return self.due + self.missed + self.refused


def _interval_arg(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not (0 < value <= 86_400)
    ):
        raise InvalidInput(
            f"expected a number of seconds above 0, at most 86400, got {shown(value)}", argument="interval"
        )
    return float(value)


class DeadlineWorker:
    """Fires the store's promises that have come due, and escalates those missed, exactly once.

    Args:
        store: the store whose deadline rows it watches (its clock says what is due).
        grace: how long after its due time an open promise counts as missed, for
            kinds the case's methodology declares no escalation for (0 to 366 days).
        batch_size: promises looked at per query (1 to 10000).
        actor: the id written as the ``actor`` of deadline events.

    Raises:
        InvalidInput: a bad grace, batch size or actor.

    Example:
        >>> import datetime, os, tempfile, resolveflow.store
        >>> from resolveflow.store import DeadlineWorker
        >>> now = [datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.timezone.utc)]
        >>> tmp = tempfile.TemporaryDirectory()
        >>> store = resolveflow.store.connect(os.path.join(tmp.name, "c.db"), clock=lambda: now[0])
        >>> store.create_schema()
        >>> worker = DeadlineWorker(store, grace=datetime.timedelta(hours=1))
        >>> worker.run_once().fired
        0
        >>> store.close(); tmp.cleanup()
    """

    def __init__(
        self,
        store: Store,
        *,
        grace: _dt.timedelta = _dt.timedelta(0),
        batch_size: int = 100,
        actor: str = WORKER_ACTOR,
    ) -> None:
        from resolveflow.store._store import Store

        if not isinstance(store, Store):
            raise InvalidInput(f"expected a resolveflow.store.Store, got {shown(store)}", argument="store")
        if not isinstance(grace, _dt.timedelta) or not (_dt.timedelta(0) <= grace <= MAX_GRACE):
            raise InvalidInput(
                f"expected a timedelta from 0 to {MAX_GRACE.days} days, got {shown(grace)}", argument="grace"
            )
        self._store = store
        # None: the store connect() returned, whose worker serves every tenant; else that tenant only.
        self._tenant = store.tenant
        self._grace = grace
        self._batch = count_arg(batch_size, "batch_size", minimum=1, maximum=MAX_BATCH)
        self._actor = check_actor_id(actor)

    def __repr__(self) -> str:
        return f"DeadlineWorker({self._store!r}, grace={self._grace!r}, batch_size={self._batch})"

    # --- the loop ------------------------------------------------------------------------

    def run(
        self,
        *,
        interval: float = 5.0,
        passes: int | None = None,
        stop: threading.Event | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> WorkerReport:
        """Run passes until ``stop`` is set or ``passes`` were run; sleep ``interval`` seconds when idle.

        A pass that found a full batch runs the next one at once.

        Raises:
            InvalidInput: an interval that is not from above 0 to 86400 seconds, or a bad ``passes``.
            StoreUnavailable: the database cannot be used.
        """
        wait = _interval_arg(interval)
        limit = None if passes is None else count_arg(passes, "passes", minimum=1)
        total = WorkerReport()
        while (limit is None or total.passes < limit) and not (stop is not None and stop.is_set()):
            found, report = self._pass()
            total += report
            # At once again only after a full batch that fired something: a batch of promises whose
            # cases are locked or broken is retried after the interval, not in a busy loop.
            busy = found >= self._batch and report.fired > 0
            if not busy and (limit is None or total.passes < limit):
                if stop is not None:
                    stop.wait(wait)
                else:
                    sleep(wait)
        return total

    def run_once(self) -> WorkerReport:
        """One pass: fire up to ``batch_size`` promises come due and ``batch_size`` missed ones.

        Raises:
            StoreUnavailable: the database cannot be used (what was committed stays fired).
        """
        return self._pass()[1]

    def _pass(self) -> tuple[int, WorkerReport]:
        now = self._store._now()
        counts = {"due": 0, "missed": 0, "escalated": 0, "refused": 0, "skipped": 0, "failed": 0}
        # A span per pass and counters of what fired, when resolveflow.tracing is instrumented.
        with _telemetry.span("resolveflow.worker.pass"):
            with _engine.read(self._store.engine, "worker") as conn:
                coming = conn.execute(self._due_query(now)).all()
            for row in coming:
                self._count(counts, self._isolated(self._fire_due, row, now))
            with _engine.read(self._store.engine, "worker") as conn:
                missed = conn.execute(self._missed_query(now)).all()
            for row in missed:
                self._count(counts, self._isolated(self._fire_missed, row, now))
        for event in ("due", "missed"):
            if counts[event]:
                _telemetry.add(
                    "resolveflow.deadlines.fired", counts[event], {"resolveflow.deadline.event": event}
                )
        for outcome in ("escalated", "refused"):
            if counts[outcome]:
                _telemetry.add(
                    "resolveflow.worker.escalations",
                    counts[outcome],
                    {"resolveflow.escalation.outcome": outcome},
                )
        return max(len(coming), len(missed)), WorkerReport(**counts, passes=1)

    @staticmethod
    def _isolated(
        fire: Callable[[sa.Row[Any], _dt.datetime], tuple[str, ...]], row: sa.Row[Any], now: _dt.datetime
    ) -> tuple[str, ...]:
        """One promise fired in its own transaction; a broken case does not stop the others.

        A database that cannot be used stops the pass (StoreUnavailable); anything else wrong
        with this one case (rows edited behind the store's back, a definition no longer
        registered, an event id already in the outbox) rolls back its transaction, is logged
        and counted, and the pass goes on.
        """
        try:
            return fire(row, now)
        except StoreUnavailable:
            raise
        except (ResolveflowError, sa.exc.IntegrityError) as error:
            _log.warning(
                "deadline worker: case %r, promise %s %r could not be fired (%s); it is tried again "
                "at the next pass",
                row.case_id,
                row.kind,
                row.ref,
                type(error).__name__,
            )
            return ("failed",)

    @staticmethod
    def _count(counts: dict[str, int], results: tuple[str, ...]) -> None:
        for result in results:
            counts[result] += 1

    # --- what is to fire -----------------------------------------------------------------

    def _due_query(self, now: _dt.datetime) -> sa.Select[Any]:
        # Only promises whose deadline.due was not fired (ix_resolveflow_deadlines_unfired): what it
        # reads does not grow with the overdue promises already fired that wait on open cases.
        d = deadlines.c
        query = (
            sa.select(d.tenant, d.case_id, d.kind, d.ref, d.due)
            .where(d.due_fired == sa.false(), d.due <= now)
            .order_by(d.due, d.tenant, d.case_id, d.kind, d.ref)
            .limit(self._batch)
        )
        return query if self._tenant is None else query.where(d.tenant == self._tenant)

    def _missed_query(self, now: _dt.datetime) -> sa.Select[Any]:
        m = deadline_marks.c
        query = (
            sa.select(m.tenant, m.case_id, m.kind, m.ref, m.due)
            .where(m.missed_at.is_not(None), m.missed_at < now)
            .order_by(m.missed_at, m.tenant, m.case_id, m.kind, m.ref)
            .limit(self._batch)
        )
        return query if self._tenant is None else query.where(m.tenant == self._tenant)

    # --- firing: one transaction each --------------------------------------------------------

    def _locked_case(self, conn: sa.Connection, row: sa.Row[Any]) -> Any:
        query = sa.select(
            cases.c.methodology_id, cases.c.methodology_version, cases.c.step, cases.c.last_seq
        ).where(_rows.of_case(cases, row.tenant, row.case_id))
        return conn.execute(query.with_for_update(skip_locked=True)).first()

    @staticmethod
    def _promise_key(table: sa.Table, row: sa.Row[Any]) -> tuple[sa.ColumnElement[bool], ...]:
        c = table.c
        return (_rows.of_case(table, row.tenant, row.case_id), c.kind == row.kind, c.ref == row.ref)

    def _set_fired(self, conn: sa.Connection, row: sa.Row[Any]) -> None:
        where = (*self._promise_key(deadlines, row), deadlines.c.due == row.due)
        conn.execute(sa.update(deadlines).where(*where).values(due_fired=True))

    def _open(self, conn: sa.Connection, row: sa.Row[Any]) -> Any:
        """The deadline row of the promise, if it is still open with the same due time."""
        d = deadlines.c
        found = conn.execute(
            sa.select(d.description, d.due).where(*self._promise_key(deadlines, row))
        ).first()
        return found if found is not None and found.due == row.due else None

    @staticmethod
    def _event_id(row: sa.Row[Any], event_type: str) -> str:
        unscoped = deadline_event_id(row.case_id, row.kind, row.ref, row.due, event_type)
        return _outbox.scoped_event_id(row.tenant, unscoped)

    def _store_of(self, tenant: str) -> Store:
        """The store of the case's tenant, to fire its escalation through the guards."""
        return self._store if self._tenant is not None or not tenant else self._store.for_tenant(tenant)

    def _escalation(self, case: sa.Row[Any], kind: str) -> Escalation | None:
        try:
            methodology: Methodology = self._store._methodology(case.methodology_id, case.methodology_version)
        except ResolveflowError:
            return None  # not registered here: fired without an escalation, with the worker's grace
        return escalation_for(methodology, kind)

    def _mark(
        self,
        conn: sa.Connection,
        row: sa.Row[Any],
        mark: str,
        event_id: str,
        missed_at: _dt.datetime | None,
        now: _dt.datetime,
    ) -> bool:
        """Insert the mark; False when it was there already (fired before)."""
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(deadline_marks)
        values = {
            "tenant": row.tenant,
            "case_id": row.case_id,
            "kind": row.kind,
            "ref": row.ref,
            "due": row.due,
            "mark": mark,
            "event_id": event_id,
            "missed_at": missed_at,
            "created_at": now,
        }
        inserted = insert.values(values).on_conflict_do_nothing().returning(deadline_marks.c.mark)
        return conn.execute(inserted).first() is not None

    def _fire_due(self, row: sa.Row[Any], now: _dt.datetime) -> tuple[str, ...]:
        with _engine.write(self._store.engine, "worker") as conn:
            case = self._locked_case(conn, row)
            if case is None:
                return ("skipped",)
            promise = self._open(conn, row)
            if promise is None:
                return ()  # kept, or made again for another time, since the query
            escalation = self._escalation(case, row.kind)
            grace = escalation.grace if escalation is not None else self._grace
            event_id = self._event_id(row, "deadline.due")
            self._set_fired(conn, row)
            if not self._mark(conn, row, "due", event_id, row.due + grace, now):
                return ()  # fired before (the flag was lost when the promises were rewritten)
            envelope = self._envelope(event_id, "deadline.due", row, case, promise, row.due, row.due + grace)
            _outbox.record_envelopes(conn, row.tenant, row.case_id, case.last_seq, [envelope], now)
        return ("due",)

    def _fire_missed(self, row: sa.Row[Any], now: _dt.datetime) -> tuple[str, ...]:
        m = deadline_marks.c
        with _engine.write(self._store.engine, "worker") as conn:
            case = self._locked_case(conn, row)
            if case is None:
                return ("skipped",)
            key = (*self._promise_key(deadline_marks, row), m.due == row.due)
            waiting = conn.execute(
                sa.select(m.missed_at).where(
                    *key, m.mark == "due", m.missed_at.is_not(None), m.missed_at < now
                )
            ).first()
            if waiting is None:
                return ()  # another worker fired it since the query
            conn.execute(sa.update(deadline_marks).where(*key, m.mark == "due").values(missed_at=None))
            promise = self._open(conn, row)
            if promise is None:
                return ()  # kept in time
            event_id = self._event_id(row, "deadline.missed")
            if not self._mark(conn, row, "missed", event_id, None, now):
                return ()
            escalation = self._escalation(case, row.kind)
            missed_at = waiting.missed_at
            envelope = self._envelope(event_id, "deadline.missed", row, case, promise, missed_at, missed_at)
            envelope["escalation"] = None if escalation is None else _declared(escalation)
            _outbox.record_envelopes(conn, row.tenant, row.case_id, case.last_seq, [envelope], now)
            if escalation is None:
                return ("missed",)
            return ("missed", self._escalate(conn, row, case, promise, escalation, missed_at, now))

    def _escalate(
        self,
        conn: sa.Connection,
        row: sa.Row[Any],
        case: sa.Row[Any],
        promise: sa.Row[Any],
        escalation: Escalation,
        missed_at: _dt.datetime,
        now: _dt.datetime,
    ) -> str:
        try:
            self._store_of(row.tenant).fire(
                row.case_id,
                escalation.action,
                None if escalation.evidence is None else dict(escalation.evidence),
                actor=escalation.system_actor(),
                connection=conn,
            )
        except StoreUnavailable:
            raise
        except ResolveflowError as error:
            # Refused by the guards, or not takeable at all (bad evidence, an unknown action, the
            # case's rows not what resolveflow wrote): the promise is still missed, and says why.
            event_id = self._event_id(row, "deadline.escalation_refused")
            envelope = self._envelope(
                event_id, "deadline.escalation_refused", row, case, promise, now, missed_at
            )
            envelope["action"] = escalation.action
            envelope["actor"] = escalation.actor
            envelope["escalation"] = _declared(escalation)
            envelope["refusals"] = (
                [r.to_json() for r in error.refusals]
                if isinstance(error, Refused)
                else [{"code": type(error).__name__, "message": str(error)}]
            )
            _outbox.record_envelopes(conn, row.tenant, row.case_id, case.last_seq, [envelope], now)
            return "refused"
        return "escalated"

    def _envelope(
        self,
        event_id: str,
        event_type: str,
        row: sa.Row[Any],
        case: sa.Row[Any],
        promise: sa.Row[Any],
        at: _dt.datetime,
        missed_at: _dt.datetime,
    ) -> dict[str, Any]:
        """The event, in the shape of every other event's envelope, with the promise under ``deadline``."""
        tenant = {"tenant": row.tenant} if row.tenant else {}  # as every stored event of a tenant's case
        return {
            **tenant,
            "event_id": event_id,
            "type": event_type,
            "case_id": row.case_id,
            "methodology": {"id": case.methodology_id, "version": case.methodology_version},
            "seq": case.last_seq,
            "action": None,
            "previous_step": case.step,
            "current_step": case.step,
            "time": at.astimezone(_dt.UTC).isoformat(),
            "actor": self._actor,
            "outcome": None,
            "refusals": [],
            "deadline": {
                "kind": row.kind,
                "ref": row.ref,
                "description": promise.description,
                "due": format_time(row.due),
                "missed_at": format_time(missed_at),
            },
            "escalation": None,
        }


def _declared(escalation: Escalation) -> dict[str, Any]:
    return {"action": escalation.action, "actor": escalation.actor, "role": escalation.role}
