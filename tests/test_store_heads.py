"""A write reads and replays only what changed since the store last wrote the case (store/_heads.py).

Costs are counted, not timed: how many entries a write replays, and whether it
replays the whole case. The timings are in benchmarks/store_heads.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

import resolveflow
import resolveflow.store
import resolveflow.testing
from resolveflow import evidence as ev
from resolveflow._ledger import Ledger
from resolveflow.store import Store, TamperedHistory
from resolveflow.store._heads import LedgerCache
from resolveflow.store._tables import cases, entries
from tests._store_support import ACTOR, restarted, table_rows
from tests._tiny import loop_methodology
from tests.conftest import FakeClock

NOTES = loop_methodology("heads-notes", note=ev.Engagement)


class Replays:
    """Counts full replays (restore) and entries replayed onto a kept ledger, in the store's modules."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import resolveflow.store._kept as kept
        import resolveflow.store._store as module

        self.full = 0
        self.tail = 0
        restore, replay_entry = module.resolveflow.restore, kept.replay_entry

        def counting_restore(*args: Any, **kwargs: Any) -> Any:
            self.full += 1
            return restore(*args, **kwargs)

        def counting_replay(*args: Any, **kwargs: Any) -> Any:
            self.tail += 1
            return replay_entry(*args, **kwargs)

        monkeypatch.setattr(module.resolveflow, "restore", counting_restore)
        monkeypatch.setattr(kept, "replay_entry", counting_replay)

    def reset(self) -> None:
        self.full = self.tail = 0


@pytest.fixture
def replays(monkeypatch: pytest.MonkeyPatch) -> Replays:
    return Replays(monkeypatch)


@pytest.fixture
def notes_store(db_url: str, clock: FakeClock) -> Iterator[Store]:
    with resolveflow.store.connect(db_url, clock=clock, methodologies=[NOTES]) as opened:
        opened.create_schema()
        yield opened


def note(
    store: Store, clock: FakeClock, case_id: str = "N-1", text: str = "called"
) -> resolveflow.HistoryEntry:
    clock.advance(minutes=1)
    return store.fire(case_id, "note", {"notes": text}, actor=ACTOR)


def long_case(store: Store, clock: FakeClock, length: int, case_id: str = "N-1") -> None:
    """A stored case of ``length`` entries, imported in one go."""
    case = resolveflow.open_case(NOTES, case_id=case_id, clock=clock)
    for n in range(length):
        clock.advance(seconds=1)
        case.fire("note", {"notes": f"call {n}"}, actor=ACTOR)
    store.import_cases([case])


def test_after_its_first_write_a_case_is_never_replayed_again_by_that_store(
    notes_store: Store, clock: FakeClock, replays: Replays
) -> None:
    long_case(notes_store, clock, 200)
    replays.reset()
    note(notes_store, clock)
    assert (replays.full, replays.tail) == (1, 0)  # the first write replays the case once
    for _ in range(20):
        note(notes_store, clock)
    assert (replays.full, replays.tail) == (1, 0)
    assert notes_store.summary("N-1").last_seq == 221
    assert notes_store.load("N-1").verify_chain()


def test_entries_another_writer_added_are_the_only_ones_replayed(
    notes_store: Store, clock: FakeClock, replays: Replays
) -> None:
    long_case(notes_store, clock, 50)
    note(notes_store, clock)
    with restarted(notes_store, clock, methodologies=[NOTES]) as other:
        other.fire("N-1", "note", {"notes": "from another process"}, actor="lee")
        clock.advance(minutes=1)
        other.fire("N-1", "note", {"notes": "and again"}, actor="lee")
    replays.reset()
    entry = note(notes_store, clock)
    assert (replays.full, replays.tail) == (0, 2)
    assert entry.seq == 54
    assert [e.actor for e in notes_store.load("N-1").history[-3:]] == ["lee", "lee", ACTOR]


def test_a_refused_action_keeps_the_ledger_and_a_failed_write_drops_it(
    notes_store: Store, clock: FakeClock, replays: Replays, monkeypatch: pytest.MonkeyPatch
) -> None:
    import resolveflow.store._store as module

    long_case(notes_store, clock, 30)
    note(notes_store, clock)
    replays.reset()
    with pytest.raises(resolveflow.InvalidEvidence):
        notes_store.fire("N-1", "note", {"notes": 7}, actor=ACTOR)
    with pytest.raises(resolveflow.UnknownAction):
        notes_store.fire("N-1", "no_such_action", None, actor=ACTOR)
    note(notes_store, clock)
    assert (replays.full, replays.tail) == (0, 0)

    def lost(*args: Any, **kwargs: Any) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

    before = table_rows(notes_store)
    with monkeypatch.context() as patched:
        patched.setattr(module, "_insert_entry", lost)
        with pytest.raises(resolveflow.store.StoreUnavailable):
            note(notes_store, clock, text="never stored")
    assert table_rows(notes_store) == before
    replays.reset()
    # The entry the failed write appended in memory is gone with its ledger: the case is replayed.
    entry = note(notes_store, clock, text="stored")
    assert (replays.full, entry.seq) == (1, 33)
    assert [e.evidence.notes for e in notes_store.load("N-1").history[-2:]] == ["called", "stored"]


def test_a_case_row_edited_under_a_kept_ledger_is_replayed_and_named(
    notes_store: Store, clock: FakeClock, replays: Replays
) -> None:
    long_case(notes_store, clock, 10)
    note(notes_store, clock)
    with notes_store.engine.begin() as conn:
        conn.execute(sa.update(cases).where(cases.c.case_id == "N-1").values(step="done", outcome="done"))
    with pytest.raises(TamperedHistory) as info:
        note(notes_store, clock)
    assert info.value.case_id == "N-1" and "claims step" in str(info.value)


def test_a_removed_last_row_is_found_by_the_next_write(notes_store: Store, clock: FakeClock) -> None:
    long_case(notes_store, clock, 10)
    note(notes_store, clock)
    with notes_store.engine.begin() as conn:
        conn.execute(sa.delete(entries).where(entries.c.case_id == "N-1", entries.c.seq == 11))
    with pytest.raises(TamperedHistory) as info:
        note(notes_store, clock)
    assert info.value.entry == 11


def test_an_old_row_edited_under_a_kept_ledger_is_found_by_load_and_verify_not_by_the_write(
    notes_store: Store, clock: FakeClock
) -> None:
    """What a kept ledger trusts, as docs/persistence.md says: rows it already replayed."""
    long_case(notes_store, clock, 10)
    note(notes_store, clock)
    with notes_store.engine.begin() as conn:
        conn.execute(
            sa.update(entries).where(entries.c.case_id == "N-1", entries.c.seq == 4).values(actor="mallory")
        )
    assert note(notes_store, clock).seq == 12  # moved on from its head, as documented
    with pytest.raises(TamperedHistory) as info:
        notes_store.load("N-1")
    assert info.value.entry == 4
    with restarted(notes_store, clock, methodologies=[NOTES]) as other, pytest.raises(TamperedHistory):
        other.fire("N-1", "note", {"notes": "x"}, actor=ACTOR)


def test_another_definition_registered_since_is_refused_by_name(clock: FakeClock, db_url: str) -> None:
    original = loop_methodology("heads-redefined", note=ev.Engagement)
    with resolveflow.testing.registered(original), resolveflow.store.connect(db_url, clock=clock) as store:
        store.create_schema()
        case_of(store, clock, original)
        clock.advance(minutes=1)
        store.fire("R-1", "note", {"notes": "kept"}, actor=ACTOR)
        other = loop_methodology("heads-redefined", note=ev.Engagement, extra=ev.Engagement)
        resolveflow.register(other, force=True)
        with pytest.raises(resolveflow.exceptions.DefinitionMismatch):
            store.fire("R-1", "note", {"notes": "under another definition"}, actor=ACTOR)


def case_of(store: Store, clock: FakeClock, methodology: resolveflow.Methodology) -> None:
    store.open_case(methodology.id, case_id="R-1")  # by id: the store asks the registry
    for n in range(5):
        clock.advance(minutes=1)
        store.fire("R-1", "note", {"notes": f"n{n}"}, actor=ACTOR)


def test_without_a_cache_every_write_replays_the_case(
    db_url: str, clock: FakeClock, replays: Replays
) -> None:
    with resolveflow.store.connect(db_url, clock=clock, methodologies=[NOTES], cached_entries=0) as store:
        store.create_schema()
        long_case(store, clock, 5)
        replays.reset()
        for _ in range(3):
            note(store, clock)
        assert replays.full == 3


@pytest.mark.parametrize("bad", [-1, 1.5, "many", True, 2**70])
def test_cached_entries_must_be_a_count(tmp_path: Any, bad: object) -> None:
    with pytest.raises(resolveflow.InvalidInput) as info:
        resolveflow.store.connect(tmp_path / "x.db", cached_entries=bad)  # type: ignore[arg-type]
    assert info.value.argument == "cached_entries"


def test_the_least_recently_written_cases_are_dropped_first(db_url: str, clock: FakeClock) -> None:
    with resolveflow.store.connect(db_url, clock=clock, methodologies=[NOTES], cached_entries=25) as store:
        store.create_schema()
        for name in ("A", "B", "C"):
            long_case(store, clock, 5, case_id=name)
            note(store, clock, case_id=name)  # each kept: 6 entries + 1
        assert len(store._cache or ()) == 3
        long_case(store, clock, 5, case_id="D")
        note(store, clock, case_id="D")  # 28 > 25: A goes
        cache = store._cache
        assert cache is not None and cache.take(("", "A")) is None and cache.take(("", "B")) is not None


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 50),
    puts=st.lists(
        st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 60), st.none() | st.integers(0, 60)),
        max_size=40,
    ),
)
def test_the_cache_never_holds_more_than_its_bound(
    limit: int, puts: list[tuple[str, int, int | None]]
) -> None:
    """Ledgers and the rows a load compared count alike; what goes, goes with its rows."""
    cache = LedgerCache(limit)
    for case_id, size, compared in puts:
        ledger = Ledger(NOTES, case_id)
        when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        actor = resolveflow.Actor("a")
        action = NOTES.action("note")
        assert action is not None
        for n in range(size):
            ledger.accept(action, {"notes": str(n)}, actor, when)
        seen = None if compared is None else ((), tuple((n,) for n in range(min(compared, size))))
        key = ("", case_id)
        cache.put(key, ledger, seen)
        assert cache.held <= limit
        assert set(cache._seen) <= set(cache._ledgers)  # no rows kept without their ledger
        cost = size + 1 + (len(seen[1]) if seen is not None else 0)
        if cost <= limit:  # what fits is kept, and it is the ledger just put, with its rows
            assert cache.take_with_seen(key) == (ledger, seen)
            cache.put(key, ledger, seen)
        else:
            assert cache.take(key) is None


# --- loads of a kept case: every row compared, nothing replayed (store/_kept.py) ------------------


def test_a_load_of_a_kept_case_replays_nothing_and_is_the_case_a_fresh_store_replays(
    notes_store: Store, clock: FakeClock, replays: Replays
) -> None:
    long_case(notes_store, clock, 100)
    note(notes_store, clock)  # the store keeps the case from here on
    replays.reset()
    first, second = notes_store.load("N-1"), notes_store.load("N-1")
    assert (replays.full, replays.tail) == (0, 0)
    with restarted(notes_store, clock, methodologies=[NOTES]) as other:
        cold = other.load("N-1")
    assert replays.full == 1  # the fresh store replayed it in full
    assert first.snapshot() == second.snapshot() == cold.snapshot()
    assert first.history == cold.history and first.step == cold.step


def test_a_loaded_case_is_the_callers_own_and_the_kept_one_moves_on_unchanged(
    notes_store: Store, clock: FakeClock, replays: Replays
) -> None:
    long_case(notes_store, clock, 5)
    note(notes_store, clock)
    loaded = notes_store.load("N-1")
    clock.advance(minutes=1)
    loaded.fire("note", {"notes": "only in memory"}, actor=ACTOR)
    assert len(loaded.history) == 7
    replays.reset()
    assert len(notes_store.load("N-1").history) == 6
    assert note(notes_store, clock).seq == 7
    assert (replays.full, replays.tail) == (0, 0)


def test_a_cold_load_is_kept_so_that_the_next_load_and_write_replay_nothing(
    notes_store: Store, clock: FakeClock, replays: Replays
) -> None:
    long_case(notes_store, clock, 40)
    with restarted(notes_store, clock, methodologies=[NOTES]) as other:
        replays.reset()
        other.load("N-1")
        other.load("N-1")
        assert other.fire("N-1", "note", {"notes": "x"}, actor=ACTOR).seq == 41
        assert (replays.full, replays.tail) == (1, 0)


def test_a_load_replays_only_the_rows_another_writer_added(
    notes_store: Store, clock: FakeClock, replays: Replays
) -> None:
    long_case(notes_store, clock, 50)
    note(notes_store, clock)
    notes_store.load("N-1")
    with restarted(notes_store, clock, methodologies=[NOTES]) as other:
        for text in ("from another process", "and again"):
            clock.advance(minutes=1)
            other.fire("N-1", "note", {"notes": text}, actor="lee")
    replays.reset()
    loaded = notes_store.load("N-1")
    assert (replays.full, replays.tail) == (0, 2)
    assert [e.actor for e in loaded.history[-3:]] == [ACTOR, "lee", "lee"]


_EDITS: dict[str, Any] = {
    "action": "no_such_action",
    "from_step": "elsewhere",
    "step": "elsewhere",
    "actor": "mallory",
    "actor_roles": '["legal"]',
    "at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    "evidence": {"notes": "the customer waived every claim"},
    "hash": "0" * 64,
}


@pytest.mark.parametrize("column", sorted(_EDITS))
@pytest.mark.parametrize("compared", [True, False], ids=["rows-compared-before", "rows-new-to-the-load"])
def test_any_column_of_any_row_edited_under_a_kept_case_is_found_by_the_next_load(
    notes_store: Store, clock: FakeClock, column: str, compared: bool
) -> None:
    long_case(notes_store, clock, 6)
    note(notes_store, clock)
    if compared:
        notes_store.load("N-1")  # the load compares every row and keeps them: the next one compares
    for seq in (1, 4, 7):
        with notes_store.engine.begin() as conn:
            where = (entries.c.case_id == "N-1", entries.c.seq == seq)
            before = conn.execute(sa.select(entries.c[column]).where(*where)).scalar_one()
            conn.execute(sa.update(entries).where(*where).values({column: _EDITS[column]}))
        with pytest.raises(TamperedHistory) as info:
            notes_store.load("N-1")
        assert (info.value.case_id, info.value.entry) == ("N-1", seq)
        with notes_store.engine.begin() as conn:
            conn.execute(sa.update(entries).where(*where).values({column: before}))
        assert len(notes_store.load("N-1").history) == 7  # put back: the case loads again


def test_an_edited_case_row_under_a_kept_case_is_found_by_the_next_load(
    notes_store: Store, clock: FakeClock
) -> None:
    long_case(notes_store, clock, 6)
    note(notes_store, clock)
    notes_store.load("N-1")
    with notes_store.engine.begin() as conn:
        conn.execute(sa.update(cases).where(cases.c.case_id == "N-1").values(step="done", outcome="done"))
    with pytest.raises(TamperedHistory, match="claims step"):
        notes_store.load("N-1")


def test_a_removed_or_added_row_under_a_kept_case_is_found_by_the_next_load(
    notes_store: Store, clock: FakeClock
) -> None:
    long_case(notes_store, clock, 6)
    note(notes_store, clock)
    notes_store.load("N-1")
    with notes_store.engine.begin() as conn:
        conn.execute(sa.delete(entries).where(entries.c.case_id == "N-1", entries.c.seq == 3))
    with pytest.raises(TamperedHistory) as info:
        notes_store.load("N-1")
    assert info.value.entry == 3


@pytest.mark.parametrize("compared", [True, False], ids=["rows-compared-before", "rows-new-to-the-load"])
def test_an_edit_that_python_equality_cannot_see_is_found_by_the_next_load(
    db_url: str, clock: FakeClock, compared: bool
) -> None:
    """true and 1 are equal in Python, not in JSON: a kept case must not take one for the other."""
    acknowledged = {"customer_perspective": "The order came a week late.", "accepts_accountability": True}
    with resolveflow.store.connect(db_url, clock=clock) as store:
        store.create_schema()
        store.open_case("prescription", case_id="B-1")
        clock.advance(minutes=1)
        store.fire("B-1", "acknowledge_problem", acknowledged, actor=ACTOR)
        if compared:
            store.load("B-1")  # the load compares the rows and keeps them as seen
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(entries)
                .where(entries.c.case_id == "B-1", entries.c.seq == 1)
                .values(evidence={**acknowledged, "accepts_accountability": 1})
            )
        with restarted(store, clock) as fresh, pytest.raises(TamperedHistory):
            fresh.load("B-1")  # a store that kept nothing refuses the edit
        with pytest.raises(TamperedHistory) as info:
            store.load("B-1")
        assert info.value.entry == 1


def test_the_load_after_a_write_decodes_only_the_entry_it_added(
    notes_store: Store, clock: FakeClock, replays: Replays, monkeypatch: pytest.MonkeyPatch
) -> None:
    import resolveflow.store._kept as kept

    long_case(notes_store, clock, 50)
    notes_store.load("N-1")  # a full replay, kept
    notes_store.load("N-1")  # every row compared and kept as seen
    decoded: list[int] = []
    snapshot_entry = kept._rows.snapshot_entry

    def counting(values: Any, prefix: str = "") -> dict[str, Any]:
        decoded.append(values[f"{prefix}seq"])
        return snapshot_entry(values, prefix)

    monkeypatch.setattr(kept._rows, "snapshot_entry", counting)
    replays.reset()
    note(notes_store, clock)  # the write keeps the compared rows: they are the history's first 50
    assert len(notes_store.load("N-1").history) == 51
    assert decoded == [51] and (replays.full, replays.tail) == (0, 0)
