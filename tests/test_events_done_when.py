"""Issue 15's "done when": the relay and the deadline worker killed mid-run, again and again, and restarted.

On SQLite and PostgreSQL. The test writes cases while two other processes run:
the relay (``resolveflow relay run``, delivering to a real local receiver that
verifies every Standard Webhooks signature) and the deadline worker, whose
clock is the test's: a file the test rewrites whenever its own clock moves.
Some cases follow seven-as (plan items, the worker's grace), others a
methodology whose missed items escalate. Items are kept early, kept late (only
once their ``deadline.due`` is in the outbox, within the grace), or never.

Both processes are SIGKILLed several times, at seeded moments (a point in the
work still owed: so many more events written, or received, before the kill;
the relay once while the receiver holds a request it recorded but has not
answered), and restarted. Then the clock jumps past every grace, both run
until nothing changes, and the test checks that every outbox event reached
the receiver exactly once after de-duplication by ``webhook-id``, each case's
in order, with nothing extra; and that every promise that came due fired
``deadline.due`` once, every one past its grace ``deadline.missed`` once, and
each of those on an escalating case one escalation.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

import resolveflow.store
from resolveflow.store import Store, StoredEvent
from tests._deadline_support import escalating
from tests._store_support import ACTOR, SEVEN_AS_1_0, drive, seven_as_to_act
from tests._webhook_receiver import Receiver, by_case
from tests.conftest import FakeClock
from tests.test_relay import positions_by_case
from tests.test_relay_kills import LEASE, SECRET, start_relay
from tests.test_store_deadline_worker import every_event, plan

ROOT = Path(__file__).resolve().parents[1]
HOUR = dt.timedelta(hours=1)
ESCALATING = escalating()  # its escalation's grace: 2 hours
WORKER_GRACE = HOUR  # seven-as declares no escalation: the worker's grace
STEP = dt.timedelta(minutes=20)  # the clock moves this much after each round of writes
STEPS = 14
OPENING = 8  # new cases are opened in the first rounds
KILLS = 4  # of each process, at least

# The deadline worker in a process of its own, on the test's clock: read from a file at every call.
# Each event takes a while to write (as in test_store_deadline_worker), so that kills land mid-run.
WORKER = textwrap.dedent(
    """
    import datetime, sys, time
    from pathlib import Path
    import resolveflow.store
    from resolveflow.store import DeadlineWorker, _outbox
    from tests._deadline_support import escalating

    clock_file = Path(sys.argv[2])
    def clock():
        return datetime.datetime.fromisoformat(clock_file.read_text())
    store = resolveflow.store.connect(sys.argv[1], clock=clock, methodologies=[escalating()])
    record = _outbox.record_envelopes
    def slowly(*args, **kwargs):
        time.sleep(0.02)
        return record(*args, **kwargs)
    _outbox.record_envelopes = slowly
    grace = datetime.timedelta(seconds=float(sys.argv[3]))
    DeadlineWorker(store, grace=grace, batch_size=2).run(interval=0.05)
    """
)


class SharedClock(FakeClock):
    """The test's clock, written to a file (atomically) whenever it moves: the worker's clock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__()

    @property  # type: ignore[override]
    def now(self) -> dt.datetime:
        return self._now

    @now.setter
    def now(self, value: dt.datetime) -> None:
        self._now = value
        written = self.path.with_suffix(".next")
        written.write_text(value.isoformat())
        os.replace(written, self.path)


@attrs.define
class Promise:
    """A plan item the test made, and what it did with it."""

    case_id: str
    ref: str
    due: dt.datetime
    grace: dt.timedelta
    escalates: bool
    kept: str = ""  # "early" (before its due time), "late" (after its deadline.due, within the grace)

    def owed(self, now: dt.datetime) -> set[str]:
        """The deadline events it has in the outbox once a worker on ``now`` has caught up."""
        if self.kept == "early":
            return set()
        if self.kept == "late":
            return {"deadline.due"}
        owed = set()
        if self.due <= now:  # come due: at its due time
            owed.add("deadline.due")
        if self.due + self.grace < now:  # missed: once past its grace
            owed.add("deadline.missed")
        return owed


def start_worker(db_url: str, clock: SharedClock) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    command = [sys.executable, "-c", WORKER, db_url, str(clock.path), str(WORKER_GRACE.total_seconds())]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def killed(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL it; it must still have been running (a crashed process says why)."""
    process.send_signal(signal.SIGKILL)
    if process.wait(30) != -signal.SIGKILL:
        raise AssertionError(process.stderr.read().decode() if process.stderr else process.returncode)


def settle(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def at_least(count: Callable[[], int], target: int) -> Callable[[], bool]:
    return lambda: count() >= target


def deadline_events(store: Store) -> list[StoredEvent]:
    return [e for e in every_event(store) if e.type.startswith("deadline.")]


def open_planned(
    store: Store, clock: SharedClock, case_id: str, rng: random.Random
) -> tuple[int, list[Promise]]:
    """A case with a plan of 1 to 3 items due from 30 minutes on; how many entries it took, its promises."""
    items = rng.randint(1, 3)
    if rng.random() < 0.5:
        store.open_case(ESCALATING, case_id=case_id)
        due_in = sorted(dt.timedelta(minutes=rng.randrange(30, 240, 5)) for _ in range(items))
        evidence = plan(clock, *due_in)
        store.fire(case_id, "agree_plan", evidence, actor=ACTOR)
        written, grace, escalates = 1, ESCALATING.escalations[0].grace, True
    else:
        store.open_case(SEVEN_AS_1_0, case_id=case_id)
        steps = seven_as_to_act(clock, items, due_in=dt.timedelta(minutes=rng.randrange(30, 120, 5)))
        drive(store, case_id, steps, clock, minutes=1)
        evidence = steps[-1][1]
        written, grace, escalates = len(steps), WORKER_GRACE, False
    promises = [
        Promise(case_id, item["id"], dt.datetime.fromisoformat(item["due"]), grace, escalates)
        for item in evidence["items"]
    ]
    return written, promises


def ok_slowly(_payload: dict[str, Any]) -> int:
    time.sleep(0.01)  # a wider window between a request recorded and its answer
    return 200


def owed_by(promises: list[Promise], now: dt.datetime) -> collections.Counter[tuple[str, str, str]]:
    """(case, item, type) -> 1 for each deadline event the outbox holds once the worker has caught up."""
    return collections.Counter((p.case_id, p.ref, t) for p in promises for t in p.owed(now))


def kill_worker_midway(
    worker: subprocess.Popen[bytes], store: Store, owed: int, share: float
) -> tuple[int, int, int]:
    """SIGKILL the worker once it has written ``share`` of the deadline events it owes; the counts."""
    before = len(deadline_events(store))
    settle(at_least(lambda: len(deadline_events(store)), before + int(share * max(0, owed - before))), 10)
    killed(worker)
    return before, len(deadline_events(store)), owed


def kill_relay_midway(relay: subprocess.Popen[bytes], store: Store, receiver: Receiver, share: float) -> None:
    """SIGKILL the relay once it has sent ``share`` of the events it has not delivered yet."""
    waiting = len(every_event(store)) - len(receiver.deduplicated())
    settle(
        at_least(lambda: len(receiver.received), len(receiver.received) + int(share * max(0, waiting))), 10
    )
    killed(relay)


@pytest.mark.parametrize("seed", [20261203])
def test_relay_and_worker_killed_again_and_again_deliver_every_event_and_fire_every_promise_once(
    db_url: str, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    where = f"seed={seed}"
    clock = SharedClock(tmp_path / "clock")
    # Each is killed KILLS - 1 times in these rounds, and once more after the last jump of the clock;
    # the relay's first kill is while it waits for an answer, in a round that opens cases.
    worker_kills = set(rng.sample(range(4, STEPS), KILLS - 1))
    hold_step = rng.randrange(1, OPENING)
    relay_kills = {hold_step, *rng.sample([n for n in range(1, STEPS) if n != hold_step], KILLS - 2)}
    held = ""  # the webhook-id of the request held when the relay was killed
    promises: list[Promise] = []
    written = 0  # entries the test wrote (each one action_accepted event)
    worker_killed: list[tuple[int, int, int]] = []  # deadline events before, after the kill; owed then
    relay_killed = 0
    with (
        resolveflow.store.connect(db_url, clock=clock, methodologies=[ESCALATING]) as store,
        Receiver([SECRET]) as receiver,
    ):
        store.create_schema()
        receiver.status = ok_slowly
        worker = start_worker(db_url, clock)
        relay = start_relay(db_url, receiver.url)
        try:
            for step in range(STEPS):
                # Drawn whatever happens, so that a seed gives the same schedule however fast the run.
                opened = rng.randint(1, 3) if step < OPENING else 0
                worker_share, relay_share, pause = rng.random(), rng.random(), rng.uniform(0.0, 0.2)
                holding = step == hold_step
                if holding:  # the relay is killed while the receiver holds a request it has recorded
                    receiver.hold = lambda _payload: not receiver.release.is_set()

                for n in range(opened):
                    entries, made = open_planned(store, clock, f"C-{step:02d}-{n}", rng)
                    written += entries
                    promises += made
                # Let a worker (restarted, perhaps) catch up first, so that the promises kept late are
                # much the same from run to run; a promise is kept late only once its deadline.due is out.
                owed = sum(owed_by(promises, clock.now).values())
                settle(at_least(lambda: len(deadline_events(store)), owed), 5)
                seen_due = {(e.case_id, e.envelope["deadline"]["ref"]) for e in deadline_events(store)}
                for promise in promises:
                    chance = rng.random()
                    if promise.kept:
                        continue
                    if promise.due > clock.now and chance < 0.04:
                        promise.kept = "early"
                    elif (
                        promise.due <= clock.now <= promise.due + promise.grace
                        and (promise.case_id, promise.ref) in seen_due
                        and chance < 0.25
                    ):
                        promise.kept = "late"  # its deadline.due is out; its deadline.missed never will be
                    else:
                        continue
                    store.fire_with_retry(
                        promise.case_id, "complete_item", {"item_id": promise.ref}, actor=ACTOR
                    )
                    written += 1

                if holding:
                    assert settle(receiver.holding.is_set, 30), f"{where}: no request was held"
                    killed(relay)
                    held = receiver.received[-1].webhook_id
                    receiver.release.set()
                    relay_killed += 1

                clock.advance(seconds=STEP.total_seconds())
                if step in worker_kills:
                    owed = sum(owed_by(promises, clock.now).values())
                    worker_killed.append(kill_worker_midway(worker, store, owed, worker_share))
                if step in relay_kills and not holding:
                    kill_relay_midway(relay, store, receiver, relay_share)
                    relay_killed += 1
                time.sleep(pause)
                if worker.poll() is not None:
                    worker = start_worker(db_url, clock)
                if relay.poll() is not None:
                    relay = start_relay(db_url, receiver.url)

            clock.advance(days=2)  # past every promise's grace: every open one is missed now
            owed = sum(owed_by(promises, clock.now).values())
            worker_killed.append(kill_worker_midway(worker, store, owed, rng.random()))
            kill_relay_midway(relay, store, receiver, rng.random())
            relay_killed += 1
            time.sleep(rng.uniform(0.0, 0.2))
            worker = start_worker(db_url, clock)
            relay = start_relay(db_url, receiver.url)

            def caught_up() -> bool:
                delivered = len(receiver.deduplicated())
                return len(deadline_events(store)) >= owed and delivered >= len(every_event(store))

            assert settle(caught_up, 60), (
                f"{where}: not caught up: {len(deadline_events(store))} of {owed} deadline events in the "
                f"outbox, {len(receiver.deduplicated())} of {len(every_event(store))} events received"
            )
            time.sleep(LEASE / 2)  # anything extra would show by now
            relay.send_signal(signal.SIGTERM)
            assert relay.wait(30) == 0, relay.stderr.read() if relay.stderr else ""
        finally:
            for process in (worker, relay):
                process.kill()
                process.wait(30)

        events = every_event(store)
        # --- the outbox: each promise come due fired once, each missed one once, and nothing else ------
        assert {p.kept for p in promises} == {"", "early", "late"}, where
        expected = owed_by(promises, clock.now)
        fired = collections.Counter(
            (e.case_id, e.envelope["deadline"]["ref"], e.type)
            for e in events
            if e.type.startswith("deadline.")
        )
        assert fired == expected, (
            f"{where}: deadline events {fired - expected} extra, {expected - fired} missing"
        )
        escalations = [
            e for e in events if e.type == "action_accepted" and e.envelope["action"] == "escalate"
        ]
        assert {e.envelope["actor"] for e in escalations} <= {"resolveflow-worker"}, where
        escalated = collections.Counter(e.case_id for e in escalations)
        should_escalate = collections.Counter(
            p.case_id for p in promises if p.escalates and "deadline.missed" in p.owed(clock.now)
        )
        assert escalated == should_escalate, f"{where}: escalations {escalated} for {should_escalate}"
        for event in events:
            if event.type == "deadline.missed":
                declared = event.envelope["methodology"]["id"] == ESCALATING.id
                assert (event.envelope["escalation"] is not None) == declared, (where, event)
        assert collections.Counter(e.type for e in events) == {
            "action_accepted": written + sum(escalated.values()),
            "deadline.due": sum(1 for _case, _ref, t in expected if t == "deadline.due"),
            "deadline.missed": sum(1 for _case, _ref, t in expected if t == "deadline.missed"),
        }, where
        assert len({e.event_id for e in events}) == len(events), where

        # --- the receiver: every event once after de-duplication, each case's in order ---------------
        assert receiver.refused == [], f"{where}: {receiver.refused[:3]}"
        events_of: dict[str, set[str]] = collections.defaultdict(set)
        for item in receiver.received:
            events_of[item.webhook_id].add(item.payload["event_id"])
        assert all(len(ids) == 1 for ids in events_of.values()), f"{where}: one webhook-id, two events"
        once = receiver.deduplicated()
        stored = {e.event_id: e for e in events}
        assert sorted(r.payload["event_id"] for r in once) == sorted(stored), f"{where}: not every event once"
        received_deadlines = collections.Counter(
            (r.payload["case_id"], r.payload["deadline"]["ref"], r.payload["type"])
            for r in once
            if r.payload["type"].startswith("deadline.")
        )
        assert received_deadlines == expected, where
        for item in once:
            event = stored[item.payload["event_id"]]
            assert (item.payload["position"], item.payload["type"]) == (event.position, event.type), where
        in_outbox = positions_by_case(store)
        assert all(positions == sorted(positions) for positions in in_outbox.values()), where
        seqs: dict[str, list[int]] = collections.defaultdict(list)
        for item in once:  # a deadline event has the seq of the entry before it: seqs never go back
            seqs[item.payload["case_id"]].append(item.payload["seq"])
        assert all(found == sorted(found) for found in seqs.values()), where
        assert by_case(once) == in_outbox, f"{where}: a case's events arrived out of order"
        for case_id, arrived in by_case(receiver.received).items():
            # A redelivery repeats an event already received, never one after it was passed.
            firsts = [p for i, p in enumerate(arrived) if p not in arrived[:i]]
            assert firsts == in_outbox[case_id], (where, case_id)

        # --- and the kills did land mid-run ------------------------------------------------------------
        assert len(worker_killed) == relay_killed == KILLS, where
        assert any(after < owed for _before, after, owed in worker_killed), f"{where}: {worker_killed}"
        # The held request arrived again after the restart, with the same webhook-id: de-duplication
        # is what made it once.
        assert sum(r.webhook_id == held for r in receiver.received) >= 2, f"{where}: {held} arrived once"
