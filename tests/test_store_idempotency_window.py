"""Idempotency keys expire: a documented window, after which a key is a new request, and a purge."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import resolveflow
import resolveflow.store
from resolveflow.store import IdempotencyConflict
from resolveflow.store._tables import idempotency
from tests._tiny import loop_methodology
from tests.conftest import FakeClock

NOTES = loop_methodology("window-notes", note=resolveflow.evidence.Engagement)
ACTOR = "ana"


def open_store(db_url: str, clock: FakeClock, **options: object) -> resolveflow.store.Store:
    store = resolveflow.store.connect(db_url, clock=clock, methodologies=[NOTES], **options)  # type: ignore[arg-type]
    store.create_schema()
    store.open_case(NOTES, case_id="K-1")
    return store


def note(store: resolveflow.store.Store, key: str, text: str = "called") -> resolveflow.HistoryEntry:
    return store.fire("K-1", "note", {"notes": text}, actor=ACTOR, idempotency_key=key)


def keys(store: resolveflow.store.Store) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(str(k) for k in conn.execute(sa.select(idempotency.c.idempotency_key)).scalars())


def test_within_the_window_a_key_returns_its_first_entry_after_it_a_new_one(
    db_url: str, clock: FakeClock
) -> None:
    with open_store(db_url, clock, idempotency_window=dt.timedelta(hours=2)) as store:
        first = note(store, "req-1")
        clock.advance(hours=1, minutes=59)
        assert note(store, "req-1") == first  # a retry: nothing recorded
        with pytest.raises(IdempotencyConflict):
            note(store, "req-1", text="another request")
        clock.advance(minutes=2)  # the key is 2 h 1 min old: expired
        again = note(store, "req-1", text="another request")
        assert again.seq == 2 and again != first
        assert note(store, "req-1", text="another request") == again  # the key now stands for it
        assert store.summary("K-1").last_seq == 2


def test_the_default_window_is_24_hours(db_url: str, clock: FakeClock) -> None:
    with open_store(db_url, clock) as store:
        first = note(store, "req-1")
        clock.advance(hours=23, minutes=59)
        assert note(store, "req-1") == first
        clock.advance(minutes=2)
        assert note(store, "req-1").seq == 2


def test_the_window_runs_from_the_request_not_from_a_backdated_entry(db_url: str, clock: FakeClock) -> None:
    with open_store(db_url, clock, idempotency_window=dt.timedelta(hours=1)) as store:
        backdated = clock.now - dt.timedelta(days=3)
        first = store.fire(
            "K-1", "note", {"notes": "late entry"}, actor=ACTOR, at=backdated, idempotency_key="req-9"
        )
        retry = store.fire(
            "K-1", "note", {"notes": "late entry"}, actor=ACTOR, at=backdated, idempotency_key="req-9"
        )
        assert retry == first


def test_expired_keys_are_forgotten_oldest_first_in_bounded_batches(db_url: str, clock: FakeClock) -> None:
    with open_store(db_url, clock, idempotency_window=dt.timedelta(hours=1)) as store:
        for n in range(5):
            note(store, f"old-{n}")
            clock.advance(minutes=1)
        clock.advance(hours=1)
        note(store, "fresh")
        assert store.forget_expired_keys(limit=2) == 2
        assert keys(store) == ["fresh", "old-2", "old-3", "old-4"]
        assert store.forget_expired_keys() == 3
        assert store.forget_expired_keys() == 0
        assert keys(store) == ["fresh"]
        assert store.load("K-1").history[-1].evidence.notes == "called"  # entries are untouched


@pytest.mark.parametrize(
    "bad", [dt.timedelta(0), dt.timedelta(days=400), 3600, None, dt.timedelta(seconds=-5)]
)
def test_the_window_must_be_a_sensible_timedelta(tmp_path: object, bad: object) -> None:
    with pytest.raises(resolveflow.InvalidInput) as info:
        resolveflow.store.connect(f"{tmp_path}/x.db", idempotency_window=bad)  # type: ignore[arg-type]
    assert info.value.argument == "idempotency_window"


@pytest.mark.parametrize("bad", [0, -1, 2_000_000, True, "10"])
def test_the_purge_limit_must_be_a_count(db_url: str, clock: FakeClock, bad: object) -> None:
    with open_store(db_url, clock) as store, pytest.raises(resolveflow.InvalidInput) as info:
        store.forget_expired_keys(limit=bad)  # type: ignore[arg-type]
    assert info.value.argument == "limit"
