"""A store with a key ring: every entry sealed, forged rows refused even with their hashes recomputed."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

import resolveflow
import resolveflow.store
from resolveflow import KeyRing
from resolveflow._history import entry_hash
from resolveflow._ledger import Ledger
from resolveflow.store import Store, TamperedHistory
from resolveflow.store._tables import cases, entries
from tests._counting import GuardRuns
from tests._tiny import loop_methodology
from tests.conftest import FakeClock

NOTES = loop_methodology("store-seal-notes", note=resolveflow.evidence.Engagement)
K1, K2 = secrets.token_bytes(32), secrets.token_bytes(32)
RING = KeyRing(keys={"k1": K1}, current="k1")
ACTOR = "ana"


def connect(db_url: str, clock: FakeClock, **options: Any) -> Store:
    store = resolveflow.store.connect(db_url, clock=clock, methodologies=[NOTES], **options)
    store.create_schema()
    return store


@pytest.fixture
def sealed(db_url: str, clock: FakeClock) -> Iterator[Store]:
    with connect(db_url, clock, keys=RING) as store:
        yield store


def notes(store: Store, clock: FakeClock, case_id: str = "S-1", count: int = 4) -> None:
    for n in range(count):
        clock.advance(minutes=1)
        store.fire(case_id, "note", {"notes": f"call {n}"}, actor=ACTOR)


def seals(store: Store, case_id: str = "S-1") -> list[str | None]:
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(entries.c.seal).where(entries.c.case_id == case_id).order_by(entries.c.seq)
            ).scalars()
        )


def forge_row(store: Store, case_id: str, seq: int, text: str, seal: str | None = "keep") -> None:
    """Rewrite entry ``seq``'s evidence and recompute every hash from it on, and the case row's head."""
    with store.engine.begin() as conn:
        rows = conn.execute(
            sa.select(entries).where(entries.c.case_id == case_id).order_by(entries.c.seq)
        ).all()
        previous = rows[seq - 2].hash if seq > 1 else Ledger(NOTES, case_id).genesis
        for row in rows[seq - 1 :]:
            evidence = {"notes": text} if row.seq == seq else row.evidence
            body = {
                "seq": row.seq,
                "action": row.action,
                "from_step": row.from_step,
                "step": row.step,
                "actor": row.actor,
                "at": resolveflow._history.format_time(row.at),
                "evidence": evidence,
            }
            digest = entry_hash(previous, body)
            values: dict[str, Any] = {"evidence": evidence, "hash": digest}
            if seal != "keep":
                values["seal"] = seal
            conn.execute(
                sa.update(entries)
                .where(entries.c.case_id == case_id, entries.c.seq == row.seq)
                .values(**values)
            )
            previous = digest
        conn.execute(sa.update(cases).where(cases.c.case_id == case_id).values(head=previous))


def test_every_entry_is_sealed_and_a_load_trusts_the_seals(
    sealed: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed.open_case(NOTES, case_id="S-1")
    notes(sealed, clock, count=5)
    assert all(s is not None and s.startswith("k1:") for s in seals(sealed))
    runs = GuardRuns(monkeypatch)
    loaded = sealed.load("S-1")
    assert len(loaded.history) == 5 and runs.count == 0  # no guard re-run: the seals vouch
    assert sealed.verify().clean and runs.count == 5  # the audit runs every guard all the same


def test_a_forged_row_with_recomputed_hashes_is_refused_by_a_sealed_store(
    db_url: str, clock: FakeClock
) -> None:
    with connect(db_url, clock, keys=RING) as store:
        store.open_case(NOTES, case_id="S-1")
        notes(store, clock)
        forge_row(store, "S-1", 2, "the customer waived every claim")
        with connect(db_url, clock) as unkeyed:
            # Without the key the forgery goes through: its guards pass and its hashes hold.
            assert unkeyed.load("S-1").history[1].evidence.notes == "the customer waived every claim"
        with pytest.raises(TamperedHistory) as info:
            store.load("S-1")
        assert info.value.entry == 2 and "seal does not verify" in str(info.value)
        assert len(store.history("S-1", limit=1)) == 1  # the page before the forged row is fine
        for after in (0, 1):
            with pytest.raises(TamperedHistory, match="seal does not verify") as page:
                store.history("S-1", after_seq=after)
            assert page.value.entry == 2
        (finding,) = store.verify().findings
        assert (finding.case_id, finding.entry) == ("S-1", 2)


def test_a_forged_row_appended_under_a_kept_case_is_refused_at_the_next_write(
    sealed: Store, clock: FakeClock
) -> None:
    sealed.open_case(NOTES, case_id="S-1")
    notes(sealed, clock, count=3)  # the store keeps the case from here on
    with sealed.engine.begin() as conn:
        last = conn.execute(sa.select(entries).where(entries.c.case_id == "S-1", entries.c.seq == 3)).one()
        body = {
            "seq": 4,
            "action": "note",
            "from_step": "open",
            "step": "open",
            "actor": "mallory",
            "at": resolveflow._history.format_time(last.at),
            "evidence": {"notes": "slipped in"},
        }
        digest = entry_hash(last.hash, body)
        conn.execute(
            sa.insert(entries).values(
                case_id="S-1",
                seq=4,
                action="note",
                from_step="open",
                step="open",
                actor="mallory",
                at=last.at,
                evidence={"notes": "slipped in"},
                hash=digest,
                seal="k1:" + "0" * 64,
            )
        )
        conn.execute(sa.update(cases).where(cases.c.case_id == "S-1").values(last_seq=4, head=digest))
    clock.advance(minutes=1)
    with pytest.raises(TamperedHistory) as info:
        sealed.fire("S-1", "note", {"notes": "next"}, actor=ACTOR)
    assert info.value.entry == 4


def test_unsealed_history_is_refused_until_resealed(db_url: str, clock: FakeClock) -> None:
    with connect(db_url, clock) as plain:
        plain.open_case(NOTES, case_id="S-1")
        notes(plain, clock)
    with connect(db_url, clock, keys=RING) as strict:
        with pytest.raises(TamperedHistory, match="not sealed") as info:
            strict.load("S-1")
        assert info.value.entry == 1
    lenient = KeyRing(keys={"k1": K1}, current="k1", accept_unsealed=True)
    with connect(db_url, clock, keys=lenient) as store:
        assert len(store.load("S-1").history) == 4
        notes(store, clock, count=1)  # a new entry is sealed, chained on the unsealed one
        assert seals(store)[:4] == [None] * 4 and seals(store)[4] is not None
        report = store.reseal()
        assert (report.checked, report.entries, report.findings) == (1, 5, ())
    with connect(db_url, clock, keys=RING) as strict:
        assert len(strict.load("S-1").history) == 5
        assert all(s is not None for s in seals(strict))


def test_rotation_old_keys_verify_the_current_key_seals_and_reseal_moves_everything(
    db_url: str, clock: FakeClock
) -> None:
    with connect(db_url, clock, keys=RING) as store:
        store.open_case(NOTES, case_id="S-1")
        notes(store, clock, count=2)
    rotated = KeyRing(keys={"k1": K1, "k2": K2}, current="k2")
    with connect(db_url, clock, keys=rotated) as store:
        notes(store, clock, count=1)
        assert [s[:3] for s in seals(store) if s] == ["k1:", "k1:", "k2:"]
        assert store.reseal().entries == 3
        assert [s[:3] for s in seals(store) if s] == ["k2:", "k2:", "k2:"]
    with connect(db_url, clock, keys=KeyRing(keys={"k2": K2}, current="k2")) as store:
        assert len(store.load("S-1").history) == 3


def test_reseal_never_blesses_a_forged_row(db_url: str, clock: FakeClock) -> None:
    with connect(db_url, clock, keys=RING) as store:
        store.open_case(NOTES, case_id="S-1")
        store.open_case(NOTES, case_id="S-2")
        notes(store, clock, "S-1")
        notes(store, clock, "S-2")
        forge_row(store, "S-1", 3, "forged")
        before = seals(store, "S-1")
        report = store.reseal()
        assert [(f.case_id, f.entry) for f in report.findings] == [("S-1", 3)]
        assert report.checked == 2 and report.entries == 4  # S-2 only
        assert seals(store, "S-1") == before


def test_imported_cases_are_sealed(sealed: Store, clock: FakeClock) -> None:
    case = resolveflow.open_case(NOTES, case_id="I-1", clock=clock)
    for n in range(3):
        case.fire("note", {"notes": f"n{n}"}, actor=ACTOR)
    sealed.import_cases([case])
    assert all(s is not None for s in seals(sealed, "I-1"))
    assert sealed.load("I-1").history == case.history


def test_what_sealing_does_not_stop_a_case_cut_back_to_a_state_it_really_had(
    sealed: Store, clock: FakeClock
) -> None:
    """Documented: a rollback to a sealed prefix verifies (every seal in it is genuine)."""
    sealed.open_case(NOTES, case_id="S-1")
    notes(sealed, clock)
    with sealed.engine.begin() as conn:
        third = conn.execute(
            sa.select(entries.c.hash).where(entries.c.case_id == "S-1", entries.c.seq == 3)
        ).scalar()
        conn.execute(sa.delete(entries).where(entries.c.case_id == "S-1", entries.c.seq == 4))
        conn.execute(sa.update(cases).where(cases.c.case_id == "S-1").values(last_seq=3, head=third))
    assert len(sealed.load("S-1").history) == 3


def test_bad_key_arguments(db_url: str, clock: FakeClock) -> None:
    with pytest.raises(resolveflow.InvalidInput) as info:
        resolveflow.store.connect(db_url, keys={"k1": K1})  # type: ignore[arg-type]
    assert info.value.argument == "keys"
    with connect(db_url, clock) as plain, pytest.raises(resolveflow.InvalidInput, match="no key ring"):
        plain.reseal()


@pytest.mark.parametrize("compared", [True, False], ids=["rows-compared-before", "rows-new-to-the-load"])
def test_a_kept_case_loads_only_with_seals_that_verify(
    sealed: Store, clock: FakeClock, db_url: str, compared: bool
) -> None:
    sealed.open_case(NOTES, case_id="S-1")
    notes(sealed, clock, count=4)  # kept from here on
    if compared:
        sealed.load("S-1")
    # A writer without the ring appends an unsealed entry: a load with the ring refuses it.
    with connect(db_url, clock) as unkeyed:
        notes(unkeyed, clock, count=1)
    with pytest.raises(TamperedHistory, match="not sealed") as info:
        sealed.load("S-1")
    assert info.value.entry == 5
    # An old row forged with every hash recomputed and the seals left as they were.
    with sealed.engine.begin() as conn:
        conn.execute(sa.delete(entries).where(entries.c.case_id == "S-1", entries.c.seq == 5))
        head = conn.execute(sa.select(entries.c.hash).where(entries.c.case_id == "S-1", entries.c.seq == 4))
        conn.execute(
            sa.update(cases).where(cases.c.case_id == "S-1").values(last_seq=4, head=head.scalar_one())
        )
    assert len(sealed.load("S-1").history) == 4
    forge_row(sealed, "S-1", 2, "the customer waived every claim")
    with pytest.raises(TamperedHistory, match="seal does not verify") as forged:
        sealed.load("S-1")
    assert forged.value.entry == 2


def statements_of(store: Store, call: Callable[[], object]) -> list[str]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return seen


def test_a_sealed_write_reads_no_more_than_an_unsealed_one(db_url: str, clock: FakeClock) -> None:
    """The seal before the new one comes from the row the write already read, not another query."""
    counts = []
    for keys in (None, RING):
        with connect(db_url, clock, keys=keys) as store:
            case_id = f"Q-{keys is not None}"
            store.open_case(NOTES, case_id=case_id)
            notes(store, clock, case_id=case_id, count=3)  # kept from here on
            clock.advance(minutes=1)
            counts.append(
                statements_of(
                    store, lambda s=store, c=case_id: s.fire(c, "note", {"notes": "x"}, actor=ACTOR)
                )
            )
    plain, sealed_statements = counts
    assert len(sealed_statements) == len(plain), (plain, sealed_statements)
    with connect(db_url, clock, keys=RING) as fresh:  # keeps nothing: every seal is checked
        assert len(fresh.load("Q-True").history) == 4
