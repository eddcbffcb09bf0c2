"""The relay: outbox events to a real local webhook receiver, at least once, in order per case.

Run on SQLite and PostgreSQL (the ``store`` fixture). The receiver
(tests/_webhook_receiver.py) is a real HTTP server that verifies every
request with ``resolveflow.webhooks.verify``; time is the test's FakeClock,
which the store, the relay's backoff and the receiver share.
"""

from __future__ import annotations

import datetime as dt
import random
import socket
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

import resolveflow
import resolveflow.store
from resolveflow.exceptions import InvalidInput
from resolveflow.store import Listener, Relay, Store, StoredEvent, Webhook, dead_letters, replay_dead_letters
from resolveflow.store._deliveries import delivery_id
from resolveflow.store._tables import deliveries
from resolveflow.webhooks import Secret
from tests._store_support import SEVEN_AS_1_0, drive, seven_as_resolved
from tests._webhook_receiver import Receiver, by_case
from tests.conftest import FakeClock
from tests.test_store_outbox import every_event

SECRET = Secret.generate()


def write_cases(store: Store, clock: FakeClock, count: int, *, prefix: str = "C") -> list[str]:
    """``count`` seven-as cases, resolved, their entries interleaved: 10 events each."""
    ids = [f"{prefix}-{n}" for n in range(count)]
    for case_id in ids:
        store.open_case(SEVEN_AS_1_0, case_id=case_id)
    steps = seven_as_resolved(clock)
    for step in steps:
        for case_id in ids:
            drive(store, case_id, [step], clock, minutes=1)
    return ids


def positions_by_case(store: Store) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for event in every_event(store):
        found.setdefault(event.case_id, []).append(event.position)
    return found


@pytest.fixture
def receiver(clock: FakeClock) -> Any:
    with Receiver([SECRET], clock=clock) as running:
        yield running


def relay_for(store: Store, receiver: Receiver, **options: Any) -> Relay:
    options.setdefault("rng", random.Random(7))
    return Relay(store, [Webhook("crm", receiver.url, SECRET, timeout=5)], **options)


# --- delivery ---------------------------------------------------------------------------------


def test_every_event_arrives_signed_once_with_a_stable_id(
    store: Store, clock: FakeClock, receiver: Receiver
) -> None:
    write_cases(store, clock, 3)
    done = relay_for(store, receiver).drain()
    assert done.delivered == 30 and done.failed == 0
    assert receiver.refused == []
    stored = every_event(store)
    assert sorted(receiver.payloads(), key=lambda p: p["position"]) == [e.to_json() for e in stored]
    assert [r.webhook_id for r in receiver.received] == [
        delivery_id("crm", r.payload["event_id"]) for r in receiver.received
    ]
    assert len({r.webhook_id for r in receiver.received}) == 30
    assert {r.timestamp for r in receiver.received} == {int(clock.now.timestamp())}
    # Nothing is delivered twice: a second relay (a restart) finds nothing to do.
    assert relay_for(store, receiver).drain().idle
    assert len(receiver.received) == 30


def test_a_wrong_secret_does_not_verify(store: Store, clock: FakeClock) -> None:
    with Receiver([Secret.generate()], clock=clock) as other:
        write_cases(store, clock, 1)
        done = Relay(store, [Webhook("crm", other.url, SECRET)], max_attempts=1).drain()
    assert done.dead == 10 and other.received == [] and len(other.refused) == 10
    assert {d.last_error for d in dead_letters(store)} == {"HTTP 401"}


def test_a_rotating_secret_signs_with_both(store: Store, clock: FakeClock) -> None:
    new = Secret.generate()
    with Receiver([new], clock=clock) as receiving_new:
        write_cases(store, clock, 1)
        done = Relay(store, [Webhook("crm", receiving_new.url, [SECRET, new])]).drain()
    assert done.delivered == 10 and receiving_new.refused == []


def test_events_arrive_in_order_per_case_even_when_one_fails(
    store: Store, clock: FakeClock, receiver: Receiver
) -> None:
    ids = write_cases(store, clock, 4)
    expected = positions_by_case(store)
    blocked = expected["C-1"][3]
    receiver.status = lambda payload: 500 if payload["position"] == blocked else 200
    relay = relay_for(store, receiver, backoff=10)
    relay.drain()
    got = by_case(receiver.deduplicated())
    # The other cases went on; C-1 stopped at its failing event (received, answered 500).
    assert {case_id: got[case_id] for case_id in ids if case_id != "C-1"} == {
        case_id: expected[case_id] for case_id in ids if case_id != "C-1"
    }
    assert got["C-1"] == expected["C-1"][:4]
    receiver.status = lambda _payload: 200
    clock.advance(seconds=11)
    relay.drain()
    assert by_case(receiver.deduplicated()) == expected
    for case_id in ids:  # arrival order, duplicates and all, never goes back within a case
        arrived = [r.payload["position"] for r in receiver.received if r.payload["case_id"] == case_id]
        assert arrived == sorted(arrived)


def test_a_500_is_retried_after_a_backoff_with_the_same_id_and_a_fresh_timestamp(
    store: Store, clock: FakeClock, receiver: Receiver
) -> None:
    write_cases(store, clock, 1)
    first = every_event(store)[0]
    answers = iter([500])
    receiver.status = lambda p: next(answers, 200) if p["position"] == first.position else 200
    relay = relay_for(store, receiver, backoff=4, max_attempts=5)
    done = relay.drain()
    assert (done.delivered, done.failed) == (0, 1)  # the case waits for its first event
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(deliveries).where(deliveries.c.position == first.position)).one()
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "HTTP 500")
    wait = row.next_attempt_at - clock.now
    assert dt.timedelta(0) <= wait <= dt.timedelta(seconds=4)
    assert relay.drain().idle  # not due yet on the store's clock
    clock.advance(seconds=5)
    assert relay.drain().delivered == 10
    tries = [r for r in receiver.received if r.payload["position"] == first.position]
    assert len(tries) == 2 and tries[0].webhook_id == tries[1].webhook_id
    assert tries[1].timestamp == tries[0].timestamp + 5


def test_dead_letter_after_the_limit_then_replay(store: Store, clock: FakeClock, receiver: Receiver) -> None:
    write_cases(store, clock, 2)
    expected = positions_by_case(store)
    poison = expected["C-0"][2]
    receiver.status = lambda p: 500 if p["position"] == poison else 200
    relay = relay_for(store, receiver, max_attempts=3, backoff=1, max_backoff=2)
    for _ in range(4):
        relay.drain()
        clock.advance(seconds=3)
    dead = dead_letters(store)
    assert [(d.position, d.attempts, d.state, d.last_error) for d in dead] == [
        (poison, 3, "dead", "HTTP 500")
    ]
    assert dead[0].delivery_id == delivery_id("crm", dead[0].event_id)
    assert len([r for r in receiver.received if r.payload["position"] == poison]) == 3
    # A dead letter does not hold its case back: the later events went on, in order.
    assert by_case(receiver.deduplicated()) == expected
    assert replay_dead_letters(store, ["msg_unknown"]) == 0
    receiver.status = lambda _p: 200
    assert replay_dead_letters(store, [dead[0].delivery_id]) == 1
    assert dead_letters(store) == []
    assert relay.drain().delivered == 1
    assert receiver.received[-1].webhook_id == dead[0].delivery_id
    assert replay_dead_letters(store) == 0


def test_network_failures_become_failed_attempts(store: Store, clock: FakeClock) -> None:
    write_cases(store, clock, 1)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never answers
    try:
        hooks = [
            Webhook("refused", f"http://127.0.0.1:{port}/", SECRET, timeout=1),
            Webhook("silent", f"http://127.0.0.1:{silent.getsockname()[1]}/", SECRET, timeout=0.2),
            Webhook("nowhere", "http://no-such-host.invalid/", SECRET, timeout=1),
        ]
        done = Relay(store, hooks, max_attempts=1).drain()
    finally:
        silent.close()
    assert (done.delivered, done.dead) == (0, 30)  # 10 events, 3 endpoints, each dead at once
    reasons = {d.subscriber: d.last_error or "" for d in dead_letters(store)}
    assert len(reasons) == 3
    assert reasons["refused"].startswith("cannot connect")
    assert "0.2" in reasons["silent"] or "timed out" in reasons["silent"]
    assert reasons["nowhere"].startswith("cannot connect")


def test_a_redirect_is_not_followed(store: Store, clock: FakeClock, receiver: Receiver) -> None:
    write_cases(store, clock, 1)
    receiver.status = lambda _p: 307
    done = relay_for(store, receiver, max_attempts=1).drain()
    assert done.dead == 10
    assert {d.last_error for d in dead_letters(store)} == {"a redirect (not followed)"}


def test_listeners_get_events_and_a_raising_one_is_retried(store: Store, clock: FakeClock) -> None:
    write_cases(store, clock, 2)
    got: list[StoredEvent] = []
    failures = iter([RuntimeError("projection down")])

    def flaky(event: StoredEvent) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        got.append(event)

    relay = Relay(store, [Listener("projection", flaky)], backoff=1, rng=random.Random(1))
    assert relay.drain().failed == 1
    clock.advance(seconds=2)
    relay.drain()
    assert sorted(e.position for e in got) == [e.position for e in every_event(store)]
    assert {e.case_id: [x.seq for x in got if x.case_id == e.case_id] for e in got} == {
        case_id: sorted(x.seq for x in got if x.case_id == case_id) for case_id in ("C-0", "C-1")
    }


def test_a_new_event_after_a_restart_is_delivered_and_nothing_else(
    store: Store, clock: FakeClock, receiver: Receiver, db_url: str
) -> None:
    write_cases(store, clock, 1)
    relay_for(store, receiver).drain()
    drive(store, "C-0", [], clock)
    store.open_case("engage", case_id="E-1")
    store.fire("E-1", "engage_fully", {"notes": "Parcel arrived crushed."}, actor="ana")
    with resolveflow.store.connect(db_url, clock=clock) as again:
        assert relay_for(again, receiver).drain().delivered == 1
    assert len(receiver.received) == 11 and receiver.received[-1].payload["case_id"] == "E-1"


# --- several relays -----------------------------------------------------------------------


def test_several_relays_share_the_work_without_double_delivery(
    store: Store, clock: FakeClock, receiver: Receiver, db_url: str
) -> None:
    """Three relays, each its own store (a process), while a writer goes on writing."""
    write_cases(store, clock, 6, prefix="A")
    stop = threading.Event()
    errors: list[BaseException] = []

    def run_relay() -> None:
        try:
            with resolveflow.store.connect(db_url, clock=clock) as own:
                # The writer moves the shared clock on by minutes: a day's lease never runs out here.
                relay = Relay(own, [Webhook("crm", receiver.url, SECRET)], batch_size=5, lease=86_400)
                while not stop.is_set():
                    relay.drain()
                    time.sleep(0.01)
                relay.drain()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run_relay) for _ in range(3)]
    for thread in threads:
        thread.start()
    write_cases(store, clock, 4, prefix="B")
    deadline = time.monotonic() + 60
    while len(receiver.deduplicated()) < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert by_case(receiver.deduplicated()) == positions_by_case(store)
    # No failures and no expired claims: not even the duplicates at-least-once allows.
    assert len(receiver.received) == 100
    for case_id, arrived in by_case(receiver.received).items():
        assert arrived == sorted(arrived), case_id


# --- hostile input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://crm.example/hooks",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://",
        "https://user:secret@crm.example/",
        "http://crm.example/a b",
        "http://crm.example:99999/",
        "http://crm.example/\x00",
        "crm.example/hooks",
        "https://" + "a" * 3000 + ".example/",
        b"http://crm.example/",
        None,
    ],
)
def test_bad_urls_are_refused(url: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        Webhook("crm", url, SECRET)  # type: ignore[arg-type]
    assert raised.value.argument == "url"


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"secrets": "nope"}, "secrets"),
        ({"secrets": "whsec_c2hvcnQ="}, "secrets"),
        ({"secrets": []}, "secrets"),
        ({"secrets": None}, "secrets"),
        ({"name": ""}, "name"),
        ({"name": "a b"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": 301}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": True}, "timeout"),
    ],
)
def test_bad_webhook_arguments_are_refused(kwargs: dict[str, Any], argument: str) -> None:
    values: dict[str, Any] = {"name": "crm", "url": "https://crm.example/", "secrets": SECRET, **kwargs}
    with pytest.raises(InvalidInput) as raised:
        Webhook(**values)
    assert raised.value.argument == argument
    assert "whsec_" not in repr(Webhook("crm", "https://crm.example/", SECRET))


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 101}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 1001}, "batch_size"),
        ({"backoff": -1}, "backoff"),
        ({"backoff": 10, "max_backoff": 5}, "max_backoff"),
        ({"lease": 5}, "lease"),  # not longer than the webhook's timeout
        ({"lease": float("inf")}, "lease"),
        ({"rng": 42}, "rng"),
    ],
)
def test_bad_relay_arguments_are_refused(store: Store, kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Relay(store, [Webhook("crm", "https://crm.example/", SECRET, timeout=5)], **kwargs)
    assert raised.value.argument == argument


def test_bad_subscriber_lists_and_calls_are_refused(store: Store) -> None:
    hook = Webhook("crm", "https://crm.example/", SECRET)
    for subscribers in ([], hook, [hook, hook], ["https://crm.example/"]):
        with pytest.raises(InvalidInput):
            Relay(store, subscribers)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Listener("p", 42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Relay("db", [hook])  # type: ignore[arg-type]
    for call in (
        lambda: dead_letters(store, limit=0),
        lambda: dead_letters(store, after=-1),
        lambda: dead_letters(store, subscriber="a b"),
        lambda: replay_dead_letters(store, "msg_1"),  # type: ignore[arg-type]
        lambda: replay_dead_letters(store, ["\x00"]),
    ):
        with pytest.raises(InvalidInput):
            call()
    with pytest.raises(InvalidInput):
        Relay(store, [hook]).drain(max_rounds=0)


def test_the_relay_module_examples_hold() -> None:
    assert resolveflow.store.Relay.__module__ == "resolveflow.store"
