"""Nothing is lost and nothing is trusted: tampered rows, failed and killed writers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

import resolveflow
import resolveflow.store
from resolveflow.store import Store, TamperedHistory
from resolveflow.store import _store as store_module
from resolveflow.store._tables import cases, entries
from tests._store_support import ACTOR, SEVEN_AS_1_0, drive, plan, restarted, seven_as_to_act, table_rows
from tests.conftest import FakeClock
from tests.store_fixtures import STORE_APIS


@pytest.fixture(params=STORE_APIS)
def store_api(request: pytest.FixtureRequest) -> str:
    """The store's contract: every test here runs on the synchronous Store and on the AsyncStore."""
    return str(request.param)


ROOT = Path(__file__).resolve().parents[1]


def five_entries(store: Store, clock: FakeClock) -> None:
    store.open_case(SEVEN_AS_1_0, case_id="C-1")
    drive(store, "C-1", seven_as_to_act(clock, 2), clock)


def execute(store: Store, statement: sa.Executable) -> None:
    with store.engine.begin() as conn:
        conn.execute(statement)


def entry(seq: int) -> sa.ColumnElement[bool]:
    return sa.and_(entries.c.case_id == "C-1", entries.c.seq == seq)


TAMPERING: dict[str, tuple[Callable[[], sa.Executable | list[sa.Executable]], int, str]] = {
    "edited evidence": (
        lambda: (
            sa.update(entries).where(entry(2)).values(evidence={"points": ["x"], "customer_finished": True})
        ),
        2,
        "hash mismatch",
    ),
    "edited actor": (lambda: sa.update(entries).where(entry(3)).values(actor="mallory"), 3, "hash mismatch"),
    "evidence that no longer validates": (
        lambda: sa.update(entries).where(entry(1)).values(evidence={"feelings": ""}),
        1,
        "evidence",
    ),
    "removed last row": (lambda: sa.delete(entries).where(entry(5)), 5, "only 4 exist"),
    "removed middle row": (lambda: sa.delete(entries).where(entry(3)), 3, "missing"),
    "removed last row and relabelled case": (
        lambda: [
            sa.delete(entries).where(entry(5)),
            sa.update(cases).where(cases.c.case_id == "C-1").values(last_seq=4, step="agree"),
        ],
        4,
        "expected head",
    ),
    "row added beyond the case row": (
        lambda: sa.insert(entries).values(
            case_id="C-1",
            seq=6,
            action="complete_plan",
            from_step="act",
            step="accomplish",
            actor="mallory",
            at=FakeClock().now,
            evidence=None,
            hash="0" * 64,
        ),
        6,
        "beyond",
    ),
    "case row claims another step": (
        lambda: sa.update(cases).where(cases.c.case_id == "C-1").values(step="accomplish"),
        5,
        "claims step",
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_a_tampered_row_names_the_case_and_the_entry(store: Store, clock: FakeClock, kind: str) -> None:
    five_entries(store, clock)
    make, seq, reason = TAMPERING[kind]
    statements = make()
    for statement in statements if isinstance(statements, list) else [statements]:
        execute(store, statement)
    with pytest.raises(TamperedHistory) as info:
        store.load("C-1")
    error = info.value
    assert (error.case_id, error.entry) == ("C-1", seq)
    assert reason in str(error)
    assert "'C-1'" in str(error)
    assert f"entry {seq}" in str(error)
    assert isinstance(error, resolveflow.InvalidSnapshot)
    # A tampered case cannot be moved on by a store that replays it (one that has not kept it in
    # memory: after a restart, in another process), and the failed attempt writes nothing.
    before = table_rows(store)
    with restarted(store, clock) as other, pytest.raises(TamperedHistory):
        other.fire("C-1", "complete_item", {"item_id": "item-1"}, actor=ACTOR)
    assert table_rows(store) == before


def test_a_history_page_checks_its_entries(store: Store, clock: FakeClock) -> None:
    five_entries(store, clock)
    execute(store, sa.update(entries).where(entry(4)).values(actor="mallory"))
    assert len(store.history("C-1", limit=3)) == 3
    with pytest.raises(TamperedHistory) as info:
        store.history("C-1", after_seq=2, limit=3)
    assert info.value.entry == 4
    execute(store, sa.delete(entries).where(entry(2)))
    with pytest.raises(TamperedHistory) as info:
        store.history("C-1", after_seq=2)
    assert info.value.entry == 2


@pytest.mark.parametrize("failing", ["_insert_entry", "_remember_key", "_write_deadlines"])
def test_a_transaction_that_fails_mid_fire_leaves_the_case_as_it_was(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    store.open_case(SEVEN_AS_1_0, case_id="C-1")
    steps = seven_as_to_act(clock, 2)
    drive(store, "C-1", steps[:-1], clock)
    before = table_rows(store)
    loaded = store.load("C-1")

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(store_module, failing, boom)
    action, evidence = steps[-1]  # agree_plan: writes an entry, a key and deadlines
    with pytest.raises(RuntimeError):
        store.fire("C-1", action, evidence, actor=ACTOR, idempotency_key="k-1")
    assert table_rows(store) == before
    assert store.load("C-1").history == loaded.history
    monkeypatch.undo()
    # The same request then goes through, at the same sequence number.
    assert store.fire("C-1", action, evidence, actor=ACTOR, idempotency_key="k-1").seq == 5
    assert len(store.overdue(clock.now.replace(year=2030))) == 2


KILLED_WRITER = textwrap.dedent(
    """
    import json, os, signal, sys
    import resolveflow.store
    from resolveflow.store import _store

    def die(*args, **kwargs):
        # The entry and the case row are written; the transaction is still open.
        sys.stdout.write("dying\\n"); sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    _store._write_deadlines = die
    store = resolveflow.store.connect(sys.argv[1])
    store.fire(sys.argv[2], "agree_plan", json.loads(sys.argv[3]), actor="killed", at=None)
    """
)


def test_a_writer_killed_mid_fire_leaves_the_case_as_it_was(
    store: Store, clock: FakeClock, db_url: str
) -> None:
    store.open_case(SEVEN_AS_1_0, case_id="C-1")
    drive(store, "C-1", seven_as_to_act(clock, 2)[:-1], clock)
    before = table_rows(store)
    evidence = plan(clock.__class__(clock.now.replace(year=2030)), 2)
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, db_url, "C-1", json.dumps(evidence)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == -9, done.stderr
    assert done.stdout == "dying\n"
    assert table_rows(store) == before
    # The lock died with the writer: the case moves on at once.
    assert store.fire("C-1", "agree_plan", evidence, actor=ACTOR).seq == 5
    assert store.load("C-1").step == "act"
