"""Step deadlines in the store: deadline rows, ``store.overdue``, analytics and the worker.

A methodology's step deadlines (see test_step_deadlines.py) are promises like
a record's: the store keeps them as deadline rows with every entry, and the
deadline worker fires ``deadline.due`` and ``deadline.missed`` once each, and
escalates a missed one. On SQLite and PostgreSQL (the ``store``/``db_url`` fixtures).
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from typing import Any

import attrs
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings

import resolveflow
import resolveflow.store
from resolveflow import Actor
from resolveflow.store import DeadlineWorker, Store, WorkerReport
from resolveflow.store._tables import deadlines
from tests.conftest import T0, FakeClock
from tests.test_step_deadlines import ANSWER, END, FINISH, STEP_DEADLINE, WALK, deadline_flow
from tests.test_store_deadline_worker import fired

HOUR = dt.timedelta(hours=1)
ANA = Actor("ana", roles={"supervisor"})


def quiet_flow() -> resolveflow.Methodology:
    """The test methodology without its escalation: the worker's own grace applies."""
    return attrs.evolve(deadline_flow(), escalations=())


def rows(store: Store, case_id: str) -> list[tuple[str, str, str, dt.datetime]]:
    d = deadlines.c
    with store.engine.connect() as conn:
        found = conn.execute(sa.select(d.kind, d.ref, d.description, d.due).where(d.case_id == case_id)).all()
    return sorted((k, r, desc, due) for k, r, desc, due in found)


def promised(case: resolveflow.Case) -> list[tuple[str, str, str, dt.datetime]]:
    return sorted((o.kind, o.ref, o.description, o.due) for o in case.overdue(END))


def test_store_overdue_lists_a_step_deadline_until_the_case_moves_on(store: Store, clock: FakeClock) -> None:
    store.open_case(quiet_flow(), case_id="S-1")
    store.fire("S-1", "start", actor="ana")
    assert store.overdue(T0 + 2 * HOUR) == []
    (late,) = store.overdue(T0 + 3 * HOUR)
    assert (late.case_id, late.kind, late.ref, late.due) == ("S-1", STEP_DEADLINE, FINISH, T0 + 2 * HOUR)
    assert late.description == "Finish within two hours of starting."
    analytics = store.analytics(now=T0 + 3 * HOUR)
    assert [(o.kind, o.count) for o in analytics.overdue] == [(STEP_DEADLINE, 1)]
    clock.advance(hours=3)
    store.fire("S-1", "hand_back", actor="ana")  # kept: the case left the step
    assert store.overdue(T0 + dt.timedelta(days=30)) == []
    assert rows(store, "S-1") == []


def test_the_worker_fires_a_step_deadline_due_then_missed_once(db_url: str, clock: FakeClock) -> None:
    with resolveflow.store.connect(db_url, clock=clock, methodologies=[quiet_flow()]) as store:
        store.create_schema()
        store.open_case(quiet_flow(), case_id="S-1")
        store.fire("S-1", "start", actor="ana")
        worker = DeadlineWorker(store, grace=HOUR)
        assert worker.run_once() == WorkerReport(passes=1)
        clock.now = T0 + 2 * HOUR  # finish_in_time comes due
        assert worker.run_once() == WorkerReport(due=1, passes=1)
        assert worker.run_once() == WorkerReport(passes=1)
        clock.advance(hours=1, seconds=1)  # past its hour of grace
        assert worker.run_once() == WorkerReport(missed=1, passes=1)
        assert worker.run(interval=0.01, passes=3) == WorkerReport(passes=3)
        clock.now = T0 + dt.timedelta(days=1, hours=2)  # answer_within_a_day: due and missed
        assert worker.run(interval=0.01, passes=3) == WorkerReport(due=1, missed=1, passes=3)
        assert fired(store) == {
            ("S-1", FINISH, "deadline.due"): 1,
            ("S-1", FINISH, "deadline.missed"): 1,
            ("S-1", ANSWER, "deadline.due"): 1,
            ("S-1", ANSWER, "deadline.missed"): 1,
        }


def test_a_step_deadline_entered_again_is_another_promise(store: Store, clock: FakeClock) -> None:
    store.open_case(quiet_flow(), case_id="S-1")
    store.fire("S-1", "start", actor="ana")
    worker = DeadlineWorker(store)
    clock.advance(hours=2)
    assert worker.run_once().due == 1
    store.fire("S-1", "hand_back", actor="ana")
    store.fire("S-1", "start", actor="ana")  # a new due time: fires again, once
    clock.advance(hours=2)
    assert worker.run_once().due == 1
    assert worker.run_once().due == 0
    assert fired(store)[("S-1", FINISH, "deadline.due")] == 2


def test_a_missed_step_deadline_escalates(db_url: str, clock: FakeClock) -> None:
    with resolveflow.store.connect(db_url, clock=clock, methodologies=[deadline_flow()]) as store:
        store.create_schema()
        store.open_case(deadline_flow(), case_id="S-1")
        store.fire("S-1", "start", actor="ana")
        worker = DeadlineWorker(store)
        clock.advance(hours=2, seconds=1)  # the escalation's grace is 0: due and missed at once
        assert worker.run_once() == WorkerReport(due=1, missed=1, escalated=1, passes=1)
        last = store.load("S-1").history[-1]
        assert (last.action, last.actor, last.step) == ("escalate", "resolveflow-worker", "review")
        clock.advance(days=2)  # the case left work: the day's deadline was kept by the escalation
        assert worker.run(interval=0.01, passes=2) == WorkerReport(passes=2)
        assert store.overdue(clock.now) == []


def test_import_load_and_reseal_give_the_same_step_deadlines(db_url: str, clock: FakeClock) -> None:
    case = resolveflow.open_case(quiet_flow(), case_id="S-1", clock=clock)
    case.fire("note", actor="ana")
    clock.advance(hours=1)
    case.fire("start", actor="ana")
    ring = resolveflow.KeyRing(keys={"k1": secrets.token_bytes(32)}, current="k1")
    with resolveflow.store.connect(db_url, clock=clock, methodologies=[quiet_flow()], keys=ring) as store:
        store.create_schema()
        assert store.import_cases([case]) == 1
        assert rows(store, "S-1") == promised(case) != []
        store.reseal()
        assert rows(store, "S-1") == promised(store.load("S-1")) == promised(case)
    with resolveflow.store.connect(db_url, clock=clock, methodologies=[quiet_flow()], keys=ring) as fresh:
        assert promised(fresh.load("S-1")) == promised(case)  # no kept ledger: a full replay


_ids = itertools.count()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=WALK)
def test_the_deadline_rows_are_what_a_fresh_replay_promises_after_any_walk(
    store: Store, clock: FakeClock, moves: list[tuple[int, int]]
) -> None:
    case_id = f"W-{next(_ids)}"
    store.open_case(quiet_flow(), case_id=case_id)
    for n, minutes in moves:
        clock.advance(minutes=minutes)
        case = store.load(case_id)
        allowed = [a.name for a in case.actions(actor=ANA) if a.enabled]
        if not allowed:
            break
        store.fire(case_id, allowed[n % len(allowed)], actor=ANA)
        replayed: Any = resolveflow.restore(
            store.load(case_id).snapshot(), methodology=quiet_flow(), clock=clock
        )
        assert rows(store, case_id) == promised(replayed)
