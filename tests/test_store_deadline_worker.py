"""The deadline worker: every promise fires deadline.due, and deadline.missed, exactly once.

Run on SQLite and PostgreSQL (the ``store``/``db_url`` fixtures): repeated
passes, several workers at once, a worker killed with SIGKILL mid-run and
started again, kept promises, escalations through the guards, hostile input.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import resolveflow
import resolveflow.store
from resolveflow._escalation import Escalation
from resolveflow.cli import main
from resolveflow.exceptions import InvalidInput, InvalidMethodology, Refused
from resolveflow.store import DeadlineWorker, Store, StoredEvent, WorkerReport
from resolveflow.store._deadline_worker import deadline_event_id
from resolveflow.store._tables import deadline_marks, deadlines, refusals
from tests._deadline_support import escalating
from tests._store_support import ACTOR, SEVEN_AS_1_0, drive, seven_as_to_act
from tests.conftest import T0, FakeClock

ROOT = Path(__file__).resolve().parents[1]
HOUR = dt.timedelta(hours=1)


def every_event(store: Store) -> list[StoredEvent]:
    found: list[StoredEvent] = []
    after = 0
    while True:
        page = store.events(after=after, limit=1000)
        if not page.events:
            return found
        found.extend(page)
        after = page.next_after


def deadline_events(store: Store) -> list[StoredEvent]:
    return [e for e in every_event(store) if e.type.startswith("deadline.")]


def fired(store: Store) -> collections.Counter[tuple[str, str, str]]:
    """(case, ref, type) -> how many such events the outbox holds."""
    return collections.Counter(
        (e.case_id, e.envelope["deadline"]["ref"], e.type) for e in deadline_events(store)
    )


def planned(store: Store, clock: FakeClock, case_id: str, items: int = 2) -> None:
    """A seven-as case at the act step with a plan of ``items`` items, due in 2 days + n hours."""
    store.open_case(SEVEN_AS_1_0, case_id=case_id)
    drive(store, case_id, seven_as_to_act(clock, items), clock)


def plan(clock: FakeClock, *due_in: dt.timedelta) -> dict[str, Any]:
    return {
        "items": [
            {"id": f"item-{n}", "description": f"Task {n}", "due": (clock.now + d).isoformat()}
            for n, d in enumerate(due_in, start=1)
        ],
        "agreed_with": "the customer",
    }


# --- due, missed, kept ---------------------------------------------------------------------


def test_each_promise_fires_due_then_missed_once_across_repeated_passes(
    store: Store, clock: FakeClock
) -> None:
    planned(store, clock, "C-1")  # item-1 due at now + 2 days + 1 hour, item-2 an hour later
    worker = DeadlineWorker(store, grace=HOUR)
    assert worker.run_once().fired == 0
    due_1 = min(d.due for d in store.overdue(clock.now + dt.timedelta(days=365)))
    clock.now = due_1 - dt.timedelta(seconds=1)
    assert worker.run_once() == WorkerReport(passes=1)
    clock.now = due_1  # come due: at its due time
    assert worker.run_once() == WorkerReport(due=1, passes=1)
    assert worker.run_once() == WorkerReport(passes=1)
    clock.now = due_1 + HOUR  # item-2 comes due; item-1's grace ends now, not yet passed
    assert worker.run_once() == WorkerReport(due=1, passes=1)
    clock.advance(seconds=1)
    assert worker.run_once() == WorkerReport(missed=1, passes=1)
    clock.advance(days=30)
    assert worker.run(interval=0.01, passes=3) == WorkerReport(missed=1, passes=3)
    assert fired(store) == {
        ("C-1", "item-1", "deadline.due"): 1,
        ("C-1", "item-2", "deadline.due"): 1,
        ("C-1", "item-1", "deadline.missed"): 1,
        ("C-1", "item-2", "deadline.missed"): 1,
    }


def test_deadline_events_have_the_envelope_of_every_event_and_stable_ids(
    store: Store, clock: FakeClock
) -> None:
    planned(store, clock, "C-1", items=1)
    clock.advance(days=3)
    DeadlineWorker(store).run_once()
    due, missed = deadline_events(store)
    accepted = [e for e in every_event(store) if e.type == "action_accepted"][-1]
    assert (due.type, missed.type) == ("deadline.due", "deadline.missed")
    assert set(accepted.envelope) < set(due.envelope) == set(missed.envelope)
    item_due = dt.datetime.fromisoformat(due.envelope["deadline"]["due"])
    assert due.event_id == deadline_event_id("C-1", "plan_item", "item-1", item_due, "deadline.due")
    assert missed.event_id == deadline_event_id("C-1", "plan_item", "item-1", item_due, "deadline.missed")
    assert due.envelope["deadline"] == {
        "kind": "plan_item",
        "ref": "item-1",
        "description": "Task 1",
        "due": due.envelope["deadline"]["due"],
        "missed_at": due.envelope["deadline"]["due"],
    }
    assert due.envelope["seq"] == accepted.seq and due.envelope["current_step"] == "act"
    assert missed.envelope["escalation"] is None and due.envelope["actor"] == "resolveflow-worker"
    assert json.loads(json.dumps(due.to_json()))["position"] == due.position


def test_a_kept_promise_fires_nothing_missed(store: Store, clock: FakeClock) -> None:
    planned(store, clock, "C-1")
    worker = DeadlineWorker(store, grace=HOUR)
    drive(store, "C-1", [("complete_item", {"item_id": "item-1"})], clock)  # long before its due time
    clock.advance(days=2, hours=2, minutes=30)  # item-2 is due, within its grace
    worker.run_once()
    drive(store, "C-1", [("complete_item", {"item_id": "item-2"})], clock)  # kept late, within the grace
    clock.advance(days=10)
    worker.run(interval=0.01, passes=2)
    assert fired(store) == {("C-1", "item-2", "deadline.due"): 1}
    with store.engine.connect() as conn:  # nothing left waiting to be missed
        assert conn.execute(sa.select(deadline_marks.c.missed_at)).scalars().all() == [None]


def test_a_promise_made_again_for_another_time_is_another_promise(db_url: str, clock: FakeClock) -> None:
    with resolveflow.store.connect(db_url, clock=clock, methodologies=[escalating()]) as store:
        store.create_schema()
        store.open_case(escalating(), case_id="P-1")
        store.fire("P-1", "agree_plan", plan(clock, HOUR), actor=ACTOR)
        worker = DeadlineWorker(store)
        clock.advance(hours=1)
        assert worker.run_once() == WorkerReport(due=1, passes=1)
        first_due = clock.now
        store.fire("P-1", "agree_plan", plan(clock, dt.timedelta(days=1)), actor=ACTOR)  # item-1 again, later
        clock.advance(hours=3)
        assert worker.run_once() == WorkerReport(passes=1)  # the first promise was replaced, not missed
        clock.advance(days=1)
        assert worker.run_once() == WorkerReport(due=1, missed=1, escalated=1, passes=1)
        ids = [e.event_id for e in deadline_events(store)]
        assert ids == [
            deadline_event_id("P-1", "plan_item", "item-1", first_due, "deadline.due"),
            deadline_event_id("P-1", "plan_item", "item-1", first_due + dt.timedelta(days=1), "deadline.due"),
            deadline_event_id(
                "P-1", "plan_item", "item-1", first_due + dt.timedelta(days=1), "deadline.missed"
            ),
        ]


def test_a_reschedule_call_back_fires_and_the_next_action_keeps_it(store: Store, clock: FakeClock) -> None:
    store.open_case(SEVEN_AS_1_0, case_id="R-1")
    drive(store, "R-1", seven_as_to_act(clock)[:3], clock)  # at assure, where one may reschedule
    resume_at = clock.now + 2 * HOUR
    store.fire("R-1", "reschedule", {"resume_at": resume_at.isoformat(), "reason": "Call back"}, actor=ACTOR)
    worker = DeadlineWorker(store, grace=HOUR)
    clock.now = resume_at
    assert worker.run_once().due == 1
    clock.advance(minutes=30)
    store.fire("R-1", "resume", None, actor=ACTOR)  # the next action keeps the call-back
    clock.advance(days=1)
    assert worker.run_once().fired == 0
    [due] = deadline_events(store)
    assert (due.envelope["deadline"]["kind"], due.envelope["deadline"]["description"]) == (
        "follow_up",
        "Call back",
    )


# --- several workers, and a worker killed mid-run -------------------------------------------


def _many(store: Store, clock: FakeClock, cases: int) -> None:
    for n in range(cases):
        planned(store, clock, f"C-{n:03d}", items=2)


def _exactly_once(store: Store, cases: int) -> None:
    counts = fired(store)
    expected = {
        (f"C-{n:03d}", f"item-{i}", kind): 1
        for n in range(cases)
        for i in (1, 2)
        for kind in ("deadline.due", "deadline.missed")
    }
    assert dict(counts) == expected
    with store.engine.connect() as conn:
        marks = conn.execute(sa.select(sa.func.count()).select_from(deadline_marks)).scalar_one()
    assert marks == 4 * cases


def test_several_workers_at_once_fire_every_promise_exactly_once(db_url: str, clock: FakeClock) -> None:
    cases = 15
    with resolveflow.store.connect(db_url, clock=clock) as store:
        store.create_schema()
        _many(store, clock, cases)
        clock.advance(days=30)
        stores = [resolveflow.store.connect(db_url, clock=clock) for _ in range(4)]
        reports: list[WorkerReport] = []
        errors: list[BaseException] = []
        start = threading.Barrier(len(stores))

        def work(own: Store) -> None:
            try:
                start.wait()
                reports.append(DeadlineWorker(own, batch_size=3).run(interval=0.01, passes=25))
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(own,)) for own in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        for own in stores:
            own.close()
        assert not errors, errors
        assert sum(r.due for r in reports) == sum(r.missed for r in reports) == 2 * cases
        _exactly_once(store, cases)


_KILLED_WORKER = textwrap.dedent(
    """
    import datetime, sys, time, resolveflow.store
    from resolveflow.store import DeadlineWorker, _outbox
    now = datetime.datetime.fromisoformat(sys.argv[2])
    store = resolveflow.store.connect(sys.argv[1], clock=lambda: now)
    # Each event takes a while to write, so that the kill lands mid-run however fast the machine.
    record = _outbox.record_envelopes
    def slowly(*args, **kwargs):
        time.sleep(0.02)
        return record(*args, **kwargs)
    _outbox.record_envelopes = slowly
    print("ready", flush=True)
    DeadlineWorker(store, batch_size=1).run(interval=0.01)
    """
)


def test_a_worker_killed_mid_run_and_restarted_fires_every_promise_once(
    db_url: str, clock: FakeClock
) -> None:
    cases = 40
    with resolveflow.store.connect(db_url, clock=clock) as store:
        store.create_schema()
        _many(store, clock, cases)
        clock.advance(days=30)
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
        child = subprocess.Popen(
            [sys.executable, "-c", _KILLED_WORKER, db_url, clock.now.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
            deadline = time.monotonic() + 60
            while len(deadline_events(store)) < 10 and time.monotonic() < deadline:
                time.sleep(0.005)
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL
        done = len(deadline_events(store))
        assert 10 <= done < 4 * cases, "the worker was not killed mid-run"
        DeadlineWorker(store, batch_size=7).run(interval=0.01, passes=30)
        _exactly_once(store, cases)


# --- escalation ------------------------------------------------------------------------------


def test_a_missed_promise_escalates_through_the_guards_as_the_system_actor(
    db_url: str, clock: FakeClock
) -> None:
    with resolveflow.store.connect(db_url, clock=clock, methodologies=[escalating()]) as store:
        store.create_schema()
        store.open_case(escalating(), case_id="E-1")
        store.fire("E-1", "agree_plan", plan(clock, HOUR, 5 * HOUR), actor=ACTOR)
        worker = DeadlineWorker(store)  # the escalation's grace (2 hours) wins over the worker's (0)
        clock.advance(hours=2)
        assert worker.run_once() == WorkerReport(due=1, passes=1)
        clock.advance(hours=1, seconds=1)
        assert worker.run_once() == WorkerReport(missed=1, escalated=1, passes=1)
        assert worker.run(interval=0.01, passes=2) == WorkerReport(passes=2)
        last = store.load("E-1").history[-1]
        assert (last.action, last.actor, sorted(last.roles)) == (
            "escalate",
            "resolveflow-worker",
            ["supervisor"],
        )
        types = [(e.type, e.envelope.get("action")) for e in every_event(store)][-3:]
        assert types == [("deadline.due", None), ("deadline.missed", None), ("action_accepted", "escalate")]
        missed = next(e for e in deadline_events(store) if e.type == "deadline.missed")
        assert missed.envelope["escalation"] == {
            "action": "escalate",
            "actor": "resolveflow-worker",
            "role": "supervisor",
        }


def test_a_refused_escalation_is_reported_not_forced(db_url: str, clock: FakeClock) -> None:
    methodology = escalating(
        escalation_role="agent"
    )  # the worker acts as an agent; escalate needs a supervisor
    with resolveflow.store.connect(
        db_url, clock=clock, methodologies=[methodology], record_refusals=True
    ) as store:
        store.create_schema()
        store.open_case(methodology, case_id="E-2")
        store.fire("E-2", "agree_plan", plan(clock, HOUR), actor=ACTOR)
        clock.advance(days=1)
        worker = DeadlineWorker(store)
        assert worker.run_once() == WorkerReport(due=1, missed=1, refused=1, passes=1)
        assert worker.run_once() == WorkerReport(passes=1)
        assert [e.action for e in store.load("E-2").history] == ["agree_plan"]
        refused = deadline_events(store)[-1]
        assert refused.type == "deadline.escalation_refused"
        assert refused.envelope["action"] == "escalate"
        assert [r["code"] for r in refused.envelope["refusals"]] == ["needs_role_supervisor"]
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(refusals.c.action, refusals.c.actor)).all() == [
                ("escalate", "resolveflow-worker")
            ]
        with pytest.raises(Refused):  # the same action, taken by hand as that actor, is refused too
            store.fire(
                "E-2", "escalate", None, actor=resolveflow.Actor("resolveflow-worker", roles={"agent"})
            )


def test_bad_escalation_declarations_are_refused_when_the_methodology_is_made() -> None:
    base = escalating()
    for declared, words in [
        ((Escalation(action="no_such_action", role="supervisor"),), "action 'no_such_action', which the"),
        ((Escalation(action="escalate", role="manager"),), "role 'manager', which the methodology does not"),
        (
            (*base.escalations, Escalation(action="close", role="agent", kind="plan_item")),
            "second escalation",
        ),
        (
            (Escalation(action="close", role="agent"), Escalation(action="escalate", role="agent")),
            "every kind",
        ),
        (("escalate",), "Escalation objects"),
    ]:
        with pytest.raises(InvalidMethodology, match=words):
            attrs.evolve(base, escalations=declared)
    for declared, words in [
        ({"action": "escalate", "role": ""}, "role ''"),
        ({"action": "escalate", "role": "   "}, "may not be blank"),
        ({"action": "", "role": "supervisor"}, "not an action name"),
        ({"action": "escalate", "role": "supervisor", "grace": dt.timedelta(seconds=-1)}, "grace"),
        ({"action": "escalate", "role": "supervisor", "grace": 3600}, "grace"),
        ({"action": "escalate", "role": "supervisor", "kind": "Plan Item"}, "promise kind"),
        ({"action": "escalate", "role": "supervisor", "actor": " "}, "actor"),
        ({"action": "escalate", "role": "supervisor", "evidence": ["x"]}, "evidence"),
    ]:
        with pytest.raises(InvalidMethodology, match=words):
            Escalation(**declared)
    with pytest.raises(InvalidMethodology, match="escalations must"):
        attrs.evolve(base, escalations="escalate")


def test_escalations_leave_the_definition_digest_alone() -> None:
    from resolveflow.files import definition_digest

    assert definition_digest(escalating()) == definition_digest(escalating(grace=HOUR))


# --- hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"grace": dt.timedelta(seconds=-1)}, "grace"),
        ({"grace": dt.timedelta(days=367)}, "grace"),
        ({"grace": 60}, "grace"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 10_001}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"batch_size": 2.0}, "batch_size"),
        ({"actor": ""}, "actor"),
        ({"actor": "x" * 201}, "actor"),
    ],
)
def test_hostile_worker_options_are_invalid_input(
    store: Store, options: dict[str, Any], argument: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        DeadlineWorker(store, **options)
    assert raised.value.argument == argument


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"interval": 0}, "interval"),
        ({"interval": -1}, "interval"),
        ({"interval": float("nan")}, "interval"),
        ({"interval": float("inf")}, "interval"),
        ({"interval": True}, "interval"),
        ({"interval": "1"}, "interval"),
        ({"interval": 86_401}, "interval"),
        ({"passes": 0}, "passes"),
        ({"passes": -1}, "passes"),
        ({"passes": 1.5}, "passes"),
    ],
)
def test_hostile_loop_options_are_invalid_input(store: Store, options: dict[str, Any], argument: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        DeadlineWorker(store).run(**options)
    assert raised.value.argument == argument


def test_a_worker_needs_a_store() -> None:
    with pytest.raises(InvalidInput, match="Store"):
        DeadlineWorker("cases.db")  # type: ignore[arg-type]


def test_the_loop_stops_when_asked(store: Store) -> None:
    stop = threading.Event()
    stop.set()
    assert DeadlineWorker(store).run(stop=stop) == WorkerReport()
    sleeps: list[float] = []
    assert DeadlineWorker(store).run(interval=2.5, passes=3, sleep=sleeps.append).passes == 3
    assert sleeps == [2.5, 2.5]


# --- the command -----------------------------------------------------------------------------


def test_the_worker_command_fires_once(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "cases.db"
    with resolveflow.store.connect(path, clock=clock) as store:
        store.create_schema()
        planned(store, clock, "C-1")  # due in January 2026: long past on the system clock
    assert T0.year == 2026
    runner = CliRunner()
    first = runner.invoke(main, ["worker", str(path), "--once", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {
        "due": 2,
        "missed": 2,
        "escalated": 0,
        "refused": 0,
        "skipped": 0,
        "passes": 1,
    }
    again = runner.invoke(main, ["worker", str(path), "--passes", "2", "--interval", "0.01"])
    assert (
        again.exit_code == 0
        and again.output.strip() == "0 due, 0 missed, 0 escalated, 0 refused, 0 skipped, 2 passes"
    )
    with resolveflow.store.connect(path) as store:
        assert sum(fired(store).values()) == 4
    bad = runner.invoke(main, ["worker", str(path), "--batch-size", "0"])
    assert bad.exit_code == 2
    missing = runner.invoke(main, ["worker", str(tmp_path / "nope.db"), "--once"])
    assert missing.exit_code == 2 and "no such database file" in missing.output


# --- a broken or locked case does not stop the others -----------------------------------------


def test_a_case_whose_rows_were_edited_does_not_stop_the_others(db_url: str, clock: FakeClock) -> None:
    """The escalation of a case whose rows were edited cannot be taken: it says so, and the rest fire."""
    from resolveflow.store._tables import entries

    methodology = escalating()
    with resolveflow.store.connect(db_url, clock=clock, methodologies=[methodology]) as store:
        store.create_schema()
        for case_id in ("A-1", "B-1"):
            store.open_case(methodology, case_id=case_id)
            store.fire(case_id, "agree_plan", plan(clock, HOUR), actor=ACTOR)
        with store.engine.begin() as conn:  # A-1's entry edited behind the store's back
            where = (entries.c.case_id == "A-1", entries.c.seq == 1)
            conn.execute(sa.update(entries).where(*where).values(actor="x"))
        clock.advance(days=1)
        # A store that has kept nothing, as after a restart: escalating A-1 replays it, finds the edit.
        with resolveflow.store.connect(db_url, clock=clock, methodologies=[methodology]) as restarted:
            report = DeadlineWorker(restarted).run_once()
            assert (report.due, report.missed, report.escalated, report.refused) == (2, 2, 1, 1)
            refused = next(e for e in deadline_events(restarted) if e.type == "deadline.escalation_refused")
            assert refused.case_id == "A-1"
            assert refused.envelope["refusals"][0]["code"] == "TamperedHistory"
            assert [e.action for e in restarted.load("B-1").history] == ["agree_plan", "escalate"]


def test_deleted_marks_are_a_failed_promise_not_a_raw_error(store: Store, clock: FakeClock) -> None:
    planned(store, clock, "C-1", items=1)
    clock.advance(days=30)
    worker = DeadlineWorker(store)
    assert worker.run_once().fired == 2
    with store.engine.begin() as conn:  # an operator "clean-up": the events stay in the outbox
        conn.execute(sa.delete(deadline_marks))
    assert worker.run_once() == WorkerReport(passes=1)  # the promises stay fired: nothing again
    with store.engine.begin() as conn:  # and a "reset" of the promises as well
        conn.execute(sa.update(deadlines).values(due_fired=False))
    report = worker.run_once()
    assert report.failed == 1 and report.fired == 0
    assert sum(fired(store).values()) == 2  # nothing written twice


def test_a_pass_that_fires_nothing_sleeps_even_with_a_full_batch(store: Store, clock: FakeClock) -> None:
    planned(store, clock, "C-1", items=2)
    clock.advance(days=30)
    worker = DeadlineWorker(store, batch_size=1)
    assert worker.run(interval=1, passes=10, sleep=lambda _s: None).fired == 4
    with store.engine.begin() as conn:  # every promise now fails (its event id is taken)
        conn.execute(sa.delete(deadline_marks))
        conn.execute(sa.update(deadlines).values(due_fired=False))
    slept: list[float] = []
    report = worker.run(interval=1, passes=3, sleep=slept.append)
    assert report.failed >= 3 and report.fired == 0
    assert slept == [1.0, 1.0]  # no busy loop: a batch that fired nothing waits for the interval


@pytest.mark.parametrize(
    "evidence",
    [{"when": dt.datetime(2026, 1, 1)}, {"n": float("nan")}, {1: "int key"}, {"x": object()}],
    ids=["datetime", "nan", "int-key", "object"],
)
def test_escalation_evidence_must_be_json_data(evidence: dict[Any, Any]) -> None:
    with pytest.raises(InvalidMethodology, match="evidence must be JSON data"):
        Escalation(action="escalate", role="supervisor", evidence=evidence)


def test_escalation_evidence_is_a_copy_of_its_own() -> None:
    given = {"notes": "Escalated by the worker."}
    escalation = Escalation(action="escalate", role="supervisor", evidence=given)
    given["notes"] = "changed afterwards"
    assert escalation.evidence == {"notes": "Escalated by the worker."}


# --- a pass reads only what it has not fired ------------------------------------------------------


def due_fired(store: Store, case_id: str) -> dict[str, bool]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(deadlines.c.ref, deadlines.c.due_fired).where(deadlines.c.case_id == case_id)
        ).all()
    return {row.ref: bool(row.due_fired) for row in rows}


def test_a_fired_promise_stays_fired_when_its_case_rewrites_its_promises(
    store: Store, clock: FakeClock
) -> None:
    planned(store, clock, "C-1", items=2)  # item-1 due in 2 days + 1 hour, item-2 an hour later
    clock.advance(days=2, hours=1, minutes=30)
    assert DeadlineWorker(store, grace=dt.timedelta(days=1)).run_once().due == 1
    assert due_fired(store, "C-1") == {"item-1": True, "item-2": False}
    drive(store, "C-1", [("complete_item", {"item_id": "item-2"})], clock)  # the promises are rewritten
    assert due_fired(store, "C-1") == {"item-1": True}
    assert DeadlineWorker(store).run_once().due == 0


def test_the_due_query_reads_only_promises_not_fired(store: Store, clock: FakeClock) -> None:
    """With many overdue promises already fired, the plan reads the partial index of unfired ones."""
    for n in range(30):
        planned(store, clock, f"C-{n}", items=2)
    clock.advance(days=3)
    DeadlineWorker(store, grace=dt.timedelta(days=300), batch_size=1000).run_once()
    for n in range(5):  # and some promises not due yet, as a live desk has
        planned(store, clock, f"F-{n}", items=2)
    compiled = DeadlineWorker(store)._due_query(clock.now).compile(dialect=store.engine.dialect)
    # The plan does not depend on the values: times as text, whatever the driver's parameter style.
    values = {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in compiled.params.items()}
    args: Any = tuple(values[n] for n in compiled.positiontup) if compiled.positiontup else values
    postgres = store.dialect == "postgresql"
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
        if postgres:  # a few dozen rows: a scan is cheaper; ask what the indexes can do
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        rows = conn.exec_driver_sql(prefix + str(compiled), args).all()
    plan = "\n".join(str(row[0] if postgres else row[-1]) for row in rows)
    assert "ix_resolveflow_deadlines_unfired" in plan, plan
