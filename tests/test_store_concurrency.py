"""Concurrent writers on the same cases: no gaps, no duplicates, no lost or phantom entries."""

from __future__ import annotations

import collections
import random
import threading
import time

import pytest
import sqlalchemy as sa

import resolveflow
import resolveflow.store
from resolveflow.store import ConcurrencyConflict, Store
from resolveflow.store import _store as store_module
from resolveflow.store._tables import cases, entries
from tests._store_support import SEVEN_AS_1_0, drive, seven_as_to_act, table_rows
from tests.conftest import FakeClock

WORKERS = 8
ATTEMPTS = 12  # per worker
CASES = ("K-1", "K-2", "K-3")
ITEMS = 40  # plan items per case: more than can be completed, so guards keep allowing
DEADLINE_S = 90.0


def test_concurrent_writers_never_lose_or_duplicate_an_entry(store: Store, clock: FakeClock) -> None:
    for case_id in CASES:
        store.open_case(SEVEN_AS_1_0, case_id=case_id)
        drive(store, case_id, seven_as_to_act(clock, ITEMS))
    start_seq = store.summary(CASES[0]).last_seq

    barrier = threading.Barrier(WORKERS)
    lock = threading.Lock()
    accepted: list[tuple[str, str, int]] = []  # (case, item, seq) of each successful call
    outcomes: collections.Counter[str] = collections.Counter()
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        rng = random.Random(number)
        try:
            barrier.wait(timeout=30)
            for attempt in range(ATTEMPTS):
                case_id = CASES[(number + attempt) % len(CASES)]
                # Few enough items that workers also race for the same one.
                item = f"item-{rng.randint(1, 12)}"
                evidence = {"item_id": item}
                try:
                    if number % 2:
                        seen = store.summary(case_id).last_seq
                        entry = store.fire(
                            case_id, "complete_item", evidence, actor=f"w{number}", expected_seq=seen
                        )
                    else:
                        entry = store.fire_with_retry(
                            case_id, "complete_item", evidence, actor=f"w{number}", attempts=5
                        )
                except ConcurrencyConflict:
                    kind = "conflict"
                except resolveflow.Refused as refused:
                    kind = "refused" if refused.codes == ("plan_item_open",) else f"refused {refused.codes}"
                else:
                    kind = "accepted"
                    with lock:
                        accepted.append((case_id, item, entry.seq))
                with lock:
                    outcomes[kind] += 1
        except BaseException as error:  # surfaced in the main thread
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(WORKERS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.1, DEADLINE_S - (time.monotonic() - began)))
    assert not any(thread.is_alive() for thread in threads), "workers did not finish in time"
    assert errors == []
    assert sum(outcomes.values()) == WORKERS * ATTEMPTS
    assert set(outcomes) <= {"accepted", "conflict", "refused"}, outcomes

    by_case: dict[str, list[tuple[str, int]]] = collections.defaultdict(list)
    for case_id, item, seq in accepted:
        by_case[case_id].append((item, seq))
    with store.engine.connect() as conn:
        stored = conn.execute(
            sa.select(entries.c.case_id, sa.func.count(), sa.func.count(sa.distinct(entries.c.seq)))
            .group_by(entries.c.case_id)
            .order_by(entries.c.case_id)
        ).all()
    for case_id in CASES:
        case = store.load(case_id)  # replays and verifies every entry
        seqs = [e.seq for e in case.history]
        assert seqs == list(range(1, len(seqs) + 1)), "a gap or a duplicate"
        added = case.history[start_seq:]
        # Every successful call is exactly one entry, and every entry is a successful call.
        assert sorted((e.evidence.item_id, e.seq) for e in added if e.evidence is not None) == sorted(  # type: ignore[attr-defined]
            by_case[case_id]
        )
        assert len(added) == len(by_case[case_id])
        assert len({e.evidence.item_id for e in added}) == len(added), "an item completed twice"  # type: ignore[attr-defined]
        assert store.summary(case_id).last_seq == len(case.history)
    assert [(c, n, d) for c, n, d in stored] == [
        (c, start_seq + len(by_case[c]), start_seq + len(by_case[c])) for c in CASES
    ]
    assert outcomes["accepted"] == len(accepted) > 0, outcomes
    print(f"outcomes: {dict(outcomes)}")


def test_the_compare_and_set_catches_a_writer_that_got_in_between(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.open_case("engage", case_id="C-1")
    before = table_rows(store)
    real_advance = store_module._advance

    def someone_else_first(
        conn: sa.Connection, tenant: str, case: resolveflow.Case, entry: resolveflow.HistoryEntry
    ) -> None:
        # Inside the transaction, after the read: the row moves on under this writer.
        conn.execute(sa.update(cases).where(cases.c.case_id == "C-1").values(last_seq=cases.c.last_seq + 1))
        real_advance(conn, tenant, case, entry)

    monkeypatch.setattr(store_module, "_advance", someone_else_first)
    with pytest.raises(ConcurrencyConflict) as info:
        store.fire("C-1", "engage_fully", {"notes": "Broken."}, actor="ana")
    assert (info.value.expected_seq, info.value.current_seq) == (0, 1)
    assert table_rows(store) == before


def test_two_postgresql_writers_from_the_same_point_one_loses(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with resolveflow.store.connect(pg_url) as store:
        store.create_schema()
        store.open_case("engage", case_id="C-1")
        real_advance = store_module._advance
        interleaved: list[resolveflow.HistoryEntry] = []

        def other_writer_commits_first(
            conn: sa.Connection, tenant: str, case: resolveflow.Case, entry: resolveflow.HistoryEntry
        ) -> None:
            if not interleaved:
                # A second process appends and commits between this writer's read and its write.
                monkeypatch.setattr(store_module, "_advance", real_advance)
                interleaved.append(store.fire("C-1", "engage_fully", {"notes": "Other."}, actor="bo"))
            real_advance(conn, tenant, case, entry)

        monkeypatch.setattr(store_module, "_advance", other_writer_commits_first)
        with pytest.raises(ConcurrencyConflict) as info:
            store.fire("C-1", "engage_fully", {"notes": "Mine."}, actor="ana")
        assert (info.value.expected_seq, info.value.current_seq) == (0, 1)
        (only,) = store.load("C-1").history
        assert only == interleaved[0]
