"""The store on real databases: open, fire, load, idempotency, queries (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

import resolveflow
import resolveflow.store
from resolveflow import evidence as ev
from resolveflow.store import (
    CaseExists,
    CaseNotFound,
    ConcurrencyConflict,
    IdempotencyConflict,
    Store,
)
from tests._store_support import (
    ACTOR,
    SEVEN_AS_1_0,
    drive,
    plan,
    seven_as_resolved,
    seven_as_to_act,
    table_rows,
)
from tests.conftest import FakeClock
from tests.store_fixtures import STORE_APIS


@pytest.fixture(params=STORE_APIS)
def store_api(request: pytest.FixtureRequest) -> str:
    """The store's contract: every test here runs on the synchronous Store and on the AsyncStore."""
    return str(request.param)


ENGAGE = {"notes": "Parcel arrived broken."}


# --- connecting --------------------------------------------------------------


def test_a_path_means_sqlite_with_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    with resolveflow.store.connect(tmp_path / "cases.db") as store:
        assert store.dialect == "sqlite"
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_a_bare_postgresql_url_uses_psycopg_3(pg_server: Any) -> None:
    url = pg_server.create_database().replace("postgresql+psycopg://", "postgresql://")
    with resolveflow.store.connect(url) as store:
        assert store.dialect == "postgresql"
        assert store.engine.dialect.driver == "psycopg"
        store.create_schema()
        store.open_case("engage", case_id="C-1")
        assert store.load("C-1").step == "engage"


@pytest.mark.parametrize("target", [":memory:", "sqlite://", "sqlite:///:memory:", "", 42])
def test_unusable_targets_are_refused(target: object) -> None:
    with pytest.raises(resolveflow.InvalidInput):
        resolveflow.store.connect(target)  # type: ignore[arg-type]


def test_a_sqlite_engine_is_refused_so_that_the_store_can_configure_it(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(resolveflow.InvalidInput, match="path"):
        resolveflow.store.connect(engine)
    engine.dispose()


def test_a_postgresql_engine_is_shared_and_left_open(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    with resolveflow.store.connect(engine) as store:
        store.create_schema()
        store.open_case("engage", case_id="C-1")
    with engine.connect() as conn:  # still usable: the store did not dispose of it
        assert conn.execute(sa.text("select count(*) from resolveflow_cases")).scalar() == 1
    engine.dispose()


def test_the_schema_is_only_created_when_asked(db_url: str) -> None:
    with resolveflow.store.connect(db_url) as store:
        assert sa.inspect(store.engine).get_table_names() == []
        store.create_schema()
        store.create_schema()  # idempotent
        names = set(sa.inspect(store.engine).get_table_names())
    assert names == {t.name for t in resolveflow.store.metadata.sorted_tables}


# --- opening, firing, loading -------------------------------------------------


def test_open_fire_load_round_trip(store: Store, clock: FakeClock) -> None:
    case = store.open_case(SEVEN_AS_1_0, case_id="C-1")
    assert case.step == "acknowledge"
    fired = drive(store, "C-1", seven_as_resolved(clock), clock)
    loaded = store.load("C-1")
    assert loaded.step == "resolved"
    assert loaded.closed
    assert loaded.history == tuple(fired)
    assert [e.seq for e in fired] == list(range(1, 10))
    summary = store.summary("C-1")
    assert (summary.step, summary.outcome, summary.last_seq, summary.head) == (
        "resolved",
        "resolved",
        9,
        loaded.head,
    )
    assert summary.created_at == dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    assert summary.updated_at == fired[-1].at


def test_times_come_back_aware_utc_and_exact(store: Store, clock: FakeClock) -> None:
    store.open_case("engage", case_id="C-1")
    plus_two = dt.timezone(dt.timedelta(hours=2))
    at = dt.datetime(2026, 1, 5, 12, 30, 15, 123456, tzinfo=plus_two)
    entry = store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, at=at)
    (loaded,) = store.load("C-1").history
    assert loaded.at == at
    assert loaded.at.utcoffset() == dt.timedelta(0)
    assert loaded == entry


def test_open_case_twice_is_an_error(store: Store) -> None:
    store.open_case("engage", case_id="C-1")
    with pytest.raises(CaseExists) as info:
        store.open_case("engage", case_id="C-1")
    assert info.value.case_id == "C-1"


def test_unknown_cases(store: Store) -> None:
    for call in (
        lambda: store.load("nope"),
        lambda: store.fire("nope", "engage_fully", ENGAGE, actor=ACTOR),
        lambda: store.history("nope"),
        lambda: store.summary("nope"),
    ):
        with pytest.raises(CaseNotFound, match="nope"):
            call()


def test_a_refusal_writes_nothing(store: Store) -> None:
    store.open_case(SEVEN_AS_1_0, case_id="C-1")
    before = table_rows(store)
    with pytest.raises(resolveflow.Refused) as info:
        store.fire("C-1", "complete_plan", actor=ACTOR)
    assert info.value.codes == ("not_from_this_step",)
    with pytest.raises(resolveflow.InvalidEvidence):
        store.fire("C-1", "acknowledge_feelings", {"feelings": ""}, actor=ACTOR)
    with pytest.raises(resolveflow.UnknownAction):
        store.fire("C-1", "teleport", actor=ACTOR)
    with pytest.raises(resolveflow.InvalidInput):
        store.fire("C-1", "acknowledge_feelings", {"feelings": "sad"}, actor=" ")
    assert table_rows(store) == before


def test_refusals_are_recorded_when_asked(db_url: str, clock: FakeClock) -> None:
    with resolveflow.store.connect(db_url, clock=clock, record_refusals=True) as store:
        store.create_schema()
        store.open_case(SEVEN_AS_1_0, case_id="C-1")
        with pytest.raises(resolveflow.Refused):
            store.fire("C-1", "complete_plan", actor="bo")
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(resolveflow.store.metadata.tables["resolveflow_refusals"])).all()
        assert [(r.case_id, r.action, r.step, r.codes, r.actor, r.at) for r in rows] == [
            ("C-1", "complete_plan", "acknowledge", ["not_from_this_step"], "bo", clock.now)
        ]
        assert store.load("C-1").history == ()


def test_time_never_goes_backwards(store: Store, clock: FakeClock) -> None:
    store.open_case("engage", case_id="C-1")
    store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, at=clock.now + dt.timedelta(hours=1))
    with pytest.raises(resolveflow.InvalidInput, match="earlier"):
        store.fire("C-1", "show_empathy", {"statement": "I see."}, actor=ACTOR, at=clock.now)
    assert store.summary("C-1").last_seq == 1


def test_a_methodology_passed_in_is_remembered_for_loading(store: Store) -> None:
    mine = attrs.evolve(resolveflow.get_methodology("engage"), id="store-only-engage")
    store.open_case(mine, case_id="C-1")
    store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR)
    assert store.load("C-1").methodology is mine
    with resolveflow.store.connect(store.engine.url, methodologies=[mine]) as other:
        assert other.load("C-1").step == "empathize"


# --- expected_seq and idempotency ---------------------------------------------


def test_expected_seq_guards_against_acting_on_a_stale_view(store: Store, clock: FakeClock) -> None:
    store.open_case("engage", case_id="C-1")
    store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, expected_seq=0)
    before = table_rows(store)
    with pytest.raises(ConcurrencyConflict) as info:
        store.fire("C-1", "show_empathy", {"statement": "I see."}, actor=ACTOR, expected_seq=0)
    assert (info.value.case_id, info.value.expected_seq, info.value.current_seq) == ("C-1", 0, 1)
    assert table_rows(store) == before
    assert store.fire("C-1", "show_empathy", {"statement": "I see."}, actor=ACTOR, expected_seq=1).seq == 2


def test_the_same_idempotency_key_returns_the_first_entry_and_writes_nothing(
    store: Store, clock: FakeClock
) -> None:
    store.open_case("engage", case_id="C-1")
    first = store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, expected_seq=0, idempotency_key="k1")
    before = table_rows(store)
    clock.advance(minutes=3)
    # A retry of the same request: same key, same content (even a typed record), stale expected_seq.
    again = store.fire(
        "C-1",
        "engage_fully",
        ev.Engagement(notes=ENGAGE["notes"]),
        actor=ACTOR,
        expected_seq=0,
        idempotency_key="k1",
    )
    assert again == first
    assert table_rows(store) == before
    # The key is per case.
    store.open_case("engage", case_id="C-2")
    assert store.fire("C-2", "engage_fully", ENGAGE, actor=ACTOR, idempotency_key="k1").seq == 1


@pytest.mark.parametrize(
    "change",
    [
        {"evidence": {"notes": "Something else."}},
        {"actor": "someone-else"},
        {"action": "show_empathy", "evidence": {"statement": "I see."}},
        {"at": dt.datetime(2026, 2, 1, tzinfo=dt.UTC)},
    ],
)
def test_the_same_key_for_a_different_request_is_an_error(store: Store, change: dict[str, Any]) -> None:
    store.open_case("engage", case_id="C-1")
    store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, idempotency_key="k1")
    before = table_rows(store)
    request: dict[str, Any] = {"action": "engage_fully", "evidence": ENGAGE, "actor": ACTOR} | change
    with pytest.raises(IdempotencyConflict) as info:
        store.fire("C-1", request.pop("action"), request.pop("evidence"), idempotency_key="k1", **request)
    assert (info.value.case_id, info.value.key, info.value.seq) == ("C-1", "k1", 1)
    assert table_rows(store) == before


def test_bad_arguments(store: Store) -> None:
    store.open_case("engage", case_id="C-1")
    for kwargs in (
        {"expected_seq": -1},
        {"expected_seq": True},
        {"idempotency_key": ""},
        {"idempotency_key": 3},
    ):
        with pytest.raises(resolveflow.InvalidInput):
            store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, **kwargs)
    with pytest.raises(resolveflow.InvalidInput):
        store.fire_with_retry("C-1", "engage_fully", ENGAGE, actor=ACTOR, attempts=0)
    with pytest.raises(resolveflow.InvalidInput):
        store.history("C-1", limit=0)
    with pytest.raises(resolveflow.InvalidInput):
        store.overdue(dt.datetime(2026, 1, 1))  # naive


def test_fire_with_retry_reloads_and_rechecks_the_guards(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.open_case("engage", case_id="C-1")
    real_fire = Store.fire
    calls: list[str] = []

    def losing_first(
        self: Store, case_id: str, action: str, *args: Any, **kwargs: Any
    ) -> resolveflow.HistoryEntry:
        calls.append(action)
        if len(calls) == 1:
            # Another writer gets in first, so this attempt loses the race.
            real_fire(self, "C-1", "engage_fully", ENGAGE, actor="other")
            raise ConcurrencyConflict(case_id="C-1", expected_seq=0, current_seq=1)
        return real_fire(self, case_id, action, *args, **kwargs)

    monkeypatch.setattr(Store, "fire", losing_first)
    # The retry runs against the new state, where engage_fully is no longer possible.
    with pytest.raises(resolveflow.Refused):
        store.fire_with_retry("C-1", "engage_fully", ENGAGE, actor=ACTOR)
    assert calls == ["engage_fully", "engage_fully"]
    entry = store.fire_with_retry("C-1", "show_empathy", {"statement": "I see."}, actor=ACTOR)
    assert entry.seq == 2


def test_fire_with_retry_gives_up_after_its_attempts(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.open_case("engage", case_id="C-1")
    attempts: list[int] = []

    def always_losing(self: Store, *args: Any, **kwargs: Any) -> resolveflow.HistoryEntry:
        attempts.append(1)
        raise ConcurrencyConflict(case_id="C-1", expected_seq=0, current_seq=1)

    monkeypatch.setattr(Store, "fire", always_losing)
    with pytest.raises(ConcurrencyConflict):
        store.fire_with_retry("C-1", "engage_fully", ENGAGE, actor=ACTOR, attempts=4)
    assert len(attempts) == 4


# --- queries ------------------------------------------------------------------


def test_cases_at_a_step_and_by_outcome(store: Store, clock: FakeClock) -> None:
    for n in range(5):
        store.open_case("engage", case_id=f"E-{n}")
    store.open_case(SEVEN_AS_1_0, case_id="S-1")
    for n in (1, 3):
        store.fire(f"E-{n}", "engage_fully", ENGAGE, actor=ACTOR)
    store.fire("E-3", "show_empathy", {"statement": "I see."}, actor=ACTOR)
    store.fire(
        "E-3",
        "solution_accepted",
        {"solution": "refund", "customer_calmer": True, "accepted": True},
        actor=ACTOR,
    )

    assert [c.case_id for c in store.cases_at("engage")] == ["E-0", "E-2", "E-4"]
    assert [c.case_id for c in store.cases_at("engage", after="E-0", limit=1)] == ["E-2"]
    assert [c.case_id for c in store.cases_at("empathize", "engage")] == ["E-1"]
    assert store.cases_at("empathize", "seven-as") == []
    assert [c.case_id for c in store.cases_at("acknowledge")] == ["S-1"]
    resolved = store.cases_by_outcome("resolved")
    assert [(c.case_id, c.step, c.outcome, c.last_seq) for c in resolved] == [
        ("E-3", "resolved", "resolved", 3)
    ]
    assert [c.case_id for c in store.cases_by_outcome(None, "engage")] == ["E-0", "E-1", "E-2", "E-4"]
    assert resolved[0].to_json()["methodology"] == {"id": "engage", "version": "1.1"}


def test_history_pages(store: Store, clock: FakeClock) -> None:
    store.open_case(SEVEN_AS_1_0, case_id="C-1")
    fired = drive(store, "C-1", seven_as_resolved(clock), clock)
    pages = []
    after = 0
    while True:
        page = store.history("C-1", after_seq=after, limit=4)
        pages.append([e.seq for e in page])
        if page.next_after_seq is None:
            break
        after = page.next_after_seq
    assert pages == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]
    everything = store.history("C-1", limit=100)
    assert everything.entries == tuple(fired)
    assert isinstance(everything.entries[4].evidence, ev.Plan)
    assert len(store.history("C-1", after_seq=9)) == 0
    assert store.history("C-1", after_seq=50).next_after_seq is None
    assert store.history("C-1", after_seq=8, limit=4).entries == (fired[8],)


def test_overdue_plan_items_and_follow_ups(store: Store, clock: FakeClock) -> None:
    start = clock.now
    store.open_case(SEVEN_AS_1_0, case_id="PLAN")
    drive(store, "PLAN", seven_as_to_act(clock, 3, due_in=dt.timedelta(days=1)))
    store.fire("PLAN", "complete_item", {"item_id": "item-1"}, actor=ACTOR)
    store.open_case(SEVEN_AS_1_0, case_id="LATER")
    drive(store, "LATER", seven_as_to_act(clock, 1)[: 4 - 1])
    resume = start + dt.timedelta(hours=6)
    store.fire("LATER", "reschedule", {"resume_at": resume.isoformat(), "reason": "too upset"}, actor=ACTOR)
    store.open_case(SEVEN_AS_1_0, case_id="DONE")
    drive(store, "DONE", seven_as_resolved(clock))

    assert store.overdue(start + dt.timedelta(hours=1)) == []
    soon = store.overdue(start + dt.timedelta(hours=7))
    assert [(d.case_id, d.kind, d.ref) for d in soon] == [("LATER", "follow_up", "reschedule")]
    assert soon[0].due == resume
    later = start + dt.timedelta(days=3)
    items = store.overdue(later)
    assert [(d.case_id, d.kind, d.ref) for d in items] == [
        ("LATER", "follow_up", "reschedule"),
        ("PLAN", "plan_item", "item-2"),
        ("PLAN", "plan_item", "item-3"),
    ]
    # The store agrees with the case itself.
    for case_id in ("PLAN", "LATER", "DONE"):
        expected = [(i.kind, i.ref, i.due) for i in store.load(case_id).overdue(later)]
        assert [(d.kind, d.ref, d.due) for d in items if d.case_id == case_id] == expected
    assert len(store.overdue(later, limit=2)) == 2
    # Resuming clears the follow-up; finishing the plan clears the items.
    store.fire("LATER", "resume", actor=ACTOR, at=later)
    drive(store, "PLAN", [("complete_item", {"item_id": "item-2"}), ("complete_item", {"item_id": "item-3"})])
    assert store.overdue(later) == []


def test_overdue_compares_times_across_offsets(store: Store, clock: FakeClock) -> None:
    store.open_case(SEVEN_AS_1_0, case_id="C-1")
    drive(store, "C-1", seven_as_to_act(clock, 1, due_in=dt.timedelta(days=1)))
    (deadline,) = store.overdue(clock.now + dt.timedelta(days=30))
    minus_five = dt.timezone(dt.timedelta(hours=-5))
    # The same instant in another zone: not yet overdue; a microsecond later, overdue.
    local = deadline.due.astimezone(minus_five)
    assert store.overdue(local) == []
    assert len(store.overdue(local + dt.timedelta(microseconds=1))) == 1


def test_import_cases_keeps_history_deadlines_and_open_times(store: Store, clock: FakeClock) -> None:
    built = []
    for n in range(7):
        case = resolveflow.open_case(SEVEN_AS_1_0, case_id=f"B-{n}", clock=clock)
        for action, evidence in seven_as_to_act(clock, 2):
            clock.advance(minutes=1)
            case.fire(action, json.loads(json.dumps(evidence)), actor=ACTOR)
        built.append(case)
    opened = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    assert store.import_cases([(built[0], opened), *built[1:]], batch_size=3) == 7
    assert store.load("B-3").history == built[3].history
    assert store.summary("B-0").created_at == opened
    assert store.summary("B-1").created_at == built[1].history[0].at
    assert len(store.overdue(clock.now + dt.timedelta(days=30))) == 14
    with pytest.raises(CaseExists):
        store.import_cases([built[2]])
    # Firing on an imported case continues its chain.
    assert store.fire("B-1", "complete_item", {"item_id": "item-1"}, actor=ACTOR).seq == 6


def test_case_summaries_and_deadlines_serialise(store: Store, clock: FakeClock) -> None:
    store.open_case(SEVEN_AS_1_0, case_id="C-1")
    drive(store, "C-1", seven_as_to_act(clock, 1))
    (deadline,) = store.overdue(clock.now + dt.timedelta(days=30))
    data = json.loads(json.dumps(deadline.to_json()))
    assert data["case_id"] == "C-1"
    assert data["due"] == (clock.now + dt.timedelta(days=2, hours=1)).isoformat()
    assert json.dumps(store.summary("C-1").to_json())
    assert "C-1" not in repr(store)
    assert "Store" in repr(store)
    assert plan(clock, 1)["items"][0]["id"] == "item-1"


def test_a_case_hashed_with_the_format_1_recipe_is_stored_and_kept_so(store: Store, clock: FakeClock) -> None:
    """A case restored from a format 1 snapshot keeps its recipe in the store (hash_recipe column)."""
    from resolveflow._case import Case
    from resolveflow._history import SORTED_JSON
    from resolveflow._ledger import Ledger

    legacy = Case(Ledger(SEVEN_AS_1_0, "L-1", recipe=SORTED_JSON), clock=clock)
    for action, evidence in seven_as_to_act(clock, 1):
        clock.advance(minutes=1)
        legacy.fire(action, json.loads(json.dumps(evidence)), actor=ACTOR)
    restored = resolveflow.restore(legacy.snapshot(), clock=clock)
    assert store.import_cases([restored]) == 1
    loaded = store.load("L-1")
    assert loaded.hash_recipe == "json-sorted" and loaded.history == legacy.history
    clock.advance(minutes=1)
    store.fire("L-1", "complete_item", {"item_id": "item-1"}, actor=ACTOR)
    assert store.load("L-1").snapshot()["format"] == "resolveflow.case/1"
    assert [e.seq for e in store.history("L-1").entries] == list(range(1, len(legacy.history) + 2))
    fresh = store.open_case(SEVEN_AS_1_0, case_id="N-1")
    assert fresh.hash_recipe == "jcs" and store.load("N-1").snapshot()["format"] == "resolveflow.case/2"


def test_the_store_loads_a_migrated_case(tmp_path: Path, clock: FakeClock) -> None:
    v1 = resolveflow.get_methodology("engage", "1.0")
    v2 = attrs.evolve(v1, version="7.0")
    resolveflow.register(v2, origin="tests")
    try:
        case = resolveflow.open_case(v1, case_id="M-1", clock=clock)
        case.fire("engage_fully", {"notes": "x"}, actor="a")
        moved = resolveflow.migrate(
            case,
            resolveflow.Migration(methodology_id="engage", from_version="1.0", to_version="7.0"),
            actor="ops",
        )
        store = resolveflow.store.connect(str(tmp_path / "m.db"), clock=clock)
        store.create_schema()
        store.import_cases([moved])
        loaded = store.load("M-1")
        assert loaded.history == moved.history and loaded.methodology.version == "7.0"
        page = store.history("M-1", limit=1)
        assert [e.action for e in page] == ["engage_fully"] and page.next_after_seq == 1
        rest = store.history("M-1", after_seq=1)
        assert [e.action for e in rest] == ["migrate_version"] and rest.next_after_seq is None
        store.fire("M-1", "show_empathy", {"statement": "I see."}, actor="a")
        assert store.load("M-1").step == "present_solution"
        store.close()
    finally:
        resolveflow.unregister("engage", "7.0", forget=True)
