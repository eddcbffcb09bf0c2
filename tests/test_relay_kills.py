"""The relay killed mid-delivery (SIGKILL, a subprocess) and restarted: every event arrives, once after
de-duplication by ``webhook-id``, in order per case.

On SQLite and PostgreSQL. The receiver records a verified request before it
answers, and holds one request open until the relay is killed: that event was
received, but the relay never learned it, so the restarted relay (once the
dead one's claim has expired) sends it again with the same ``webhook-id``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import resolveflow.store
from resolveflow.store import Store
from resolveflow.webhooks import Secret
from tests._webhook_receiver import Receiver, by_case
from tests.test_relay import positions_by_case

SRC = Path(__file__).resolve().parent.parent / "src"
SECRET = Secret.generate()
LEASE = 2.0


def write(store: Store, prefix: str, count: int) -> None:
    for n in range(count):
        case_id = f"{prefix}-{n}"
        store.open_case("engage", case_id=case_id)
        store.fire(case_id, "engage_fully", {"notes": "Parcel arrived crushed."}, actor="ana")
    for n in range(count):
        store.fire(f"{prefix}-{n}", "show_empathy", {"statement": "I see how annoying that is."}, actor="ana")


def start_relay(db_url: str, url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), str(SRC.parent)]),
        "RESOLVEFLOW_WEBHOOK_SECRET_CRM": SECRET.reveal(),
    }
    command = [sys.executable, "-m", "resolveflow.cli", "relay", "run", db_url, "--webhook", f"crm={url}"]
    options = ["--lease", str(LEASE), "--timeout", "1.5", "--poll", "0.05", "--batch-size", "3"]
    return subprocess.Popen([*command, *options], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(condition: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)
    assert condition(), "timed out"  # type: ignore[operator]


def test_a_killed_relay_restarted_delivers_every_event_once_after_dedup(db_url: str) -> None:
    with resolveflow.store.connect(db_url) as store:
        store.create_schema()
        write(store, "A", 8)  # 16 events
        with Receiver([SECRET]) as receiver:
            held = positions_by_case(store)["A-3"][1]
            receiver.hold = lambda payload: payload["position"] == held and not receiver.release.is_set()
            first = start_relay(db_url, receiver.url)
            try:
                wait_for(receiver.holding.is_set)
                first.send_signal(signal.SIGKILL)  # mid-delivery: the held request is not answered
                first.wait(30)
            finally:
                first.kill()
            receiver.release.set()
            got_before = {r.webhook_id for r in receiver.received}
            write(store, "B", 5)  # committed while no relay runs
            time.sleep(LEASE + 0.2)  # the dead relay's claim runs out

            second = start_relay(db_url, receiver.url)
            try:
                wait_for(lambda: len(receiver.received) > len(got_before) + 3)
                second.send_signal(signal.SIGKILL)  # again, at whatever point it reached
                second.wait(30)
            finally:
                second.kill()
            write(store, "C", 3)
            time.sleep(LEASE + 0.2)

            third = start_relay(db_url, receiver.url)
            try:
                wait_for(lambda: len(receiver.deduplicated()) == 32)
                third.send_signal(signal.SIGTERM)  # stops between deliveries
                assert third.wait(30) == 0, third.stderr.read() if third.stderr else ""
            finally:
                third.kill()
            expected = positions_by_case(store)
            assert receiver.refused == []
            kept = receiver.deduplicated()
            assert len(kept) == sum(len(p) for p in expected.values()) == 32
            assert by_case(kept) == expected  # every event once, each case in order
            # The held event arrived twice, with one id: de-duplication is what made it once.
            twice = [r for r in receiver.received if r.payload["position"] == held]
            assert len(twice) >= 2 and len({r.webhook_id for r in twice}) == 1
            for case_id, arrived in by_case(receiver.received).items():
                assert sorted(set(arrived)) == expected[case_id]
                # A redelivery repeats an event already received, never one after it was passed.
                firsts = [p for i, p in enumerate(arrived) if p not in arrived[:i]]
                assert firsts == expected[case_id], case_id
