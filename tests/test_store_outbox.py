"""The transactional outbox: every recorded entry's events, in its transaction, tailed without a miss.

Run on SQLite and PostgreSQL (the ``store``/``db_url`` fixtures). The
PostgreSQL-only tests hold one writer's transaction open while another
commits, which is what makes a reader that trusts positions alone skip an
event; SQLite's writers take turns, so it cannot happen there.
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import threading
import time
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import resolveflow
import resolveflow.store
from resolveflow._events import stable_id
from resolveflow.store import EventPage, Store, StoredEvent
from resolveflow.store._tables import outbox
from tests._store_support import ACTOR, SEVEN_AS_1_0, drive, seven_as_resolved, table_rows
from tests.conftest import FakeClock
from tests.store_fixtures import STORE_APIS


@pytest.fixture(params=STORE_APIS)
def store_api(request: pytest.FixtureRequest) -> str:
    """The store's contract: every test here runs on the synchronous Store and on the AsyncStore."""
    return str(request.param)


ENGAGE = resolveflow.get_methodology("engage", "1.0")
NOTES = {"notes": "The parcel arrived crushed."}


def every_event(store: Store, *, limit: int = 10_000) -> list[StoredEvent]:
    """The whole outbox, read as a consumer reads it: page after page."""
    found: list[StoredEvent] = []
    after = 0
    while True:
        page = store.events(after=after, limit=limit)
        found.extend(page)
        if not page.events:
            return found
        after = page.next_after


def envelopes(store: Store) -> list[dict[str, Any]]:
    return [event.envelope for event in every_event(store)]


def outbox_rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one())


# --- what is written -------------------------------------------------------------------------


def test_the_outbox_holds_what_a_subscriber_sees(store: Store, clock: FakeClock) -> None:
    seen: list[resolveflow.Event] = []
    twin = resolveflow.open_case(SEVEN_AS_1_0, case_id="C-1", clock=clock)
    twin.subscribe(seen.append)
    store.open_case(SEVEN_AS_1_0, case_id="C-1")
    for action, evidence in seven_as_resolved(clock):
        clock.advance(minutes=5)
        twin.fire(action, evidence, actor=ACTOR)
        store.fire("C-1", action, evidence, actor=ACTOR)
    assert [e.type for e in seen][-2:] == ["action_accepted", "case_closed"]
    assert envelopes(store) == [event.to_json() for event in seen]
    stored = every_event(store)
    assert [(e.event_id, e.type, e.case_id, e.seq) for e in stored] == [
        (e.event_id, e.type, e.case_id, e.seq) for e in seen
    ]
    # The store's clock stood still while each entry was written: the row's time is the entry's.
    assert all(e.recorded_at == dt.datetime.fromisoformat(e.envelope["time"]) for e in stored)
    assert [e.position for e in stored] == sorted(e.position for e in stored)


def test_imported_cases_write_their_events_even_across_a_migration(store: Store, clock: FakeClock) -> None:
    v2 = attrs.evolve(ENGAGE, version="2.0")
    resolveflow.register(v2, origin="test_store_outbox")
    try:
        seen: list[resolveflow.Event] = []
        case = resolveflow.open_case(ENGAGE, case_id="I-1", clock=clock)
        case.subscribe(seen.append)
        clock.advance(minutes=1)
        case.fire("engage_fully", NOTES, actor=ACTOR)
        clock.advance(minutes=1)
        moved = resolveflow.migrate(
            case,
            resolveflow.Migration(methodology_id="engage", from_version="1.0", to_version="2.0"),
            actor="ops",
        )
        clock.advance(minutes=1)
        moved.fire("show_empathy", {"statement": "I see how annoying that is."}, actor=ACTOR)
        plain = resolveflow.open_case(ENGAGE, case_id="I-2", clock=clock)
        plain_seen: list[resolveflow.Event] = []
        plain.subscribe(plain_seen.append)
        plain.fire("engage_fully", NOTES, actor=ACTOR)
        empty = resolveflow.open_case(ENGAGE, case_id="I-3", clock=clock)
        assert store.import_cases([moved, plain, empty], batch_size=2) == 3
        assert [e["methodology"]["version"] for e in envelopes(store)][:3] == ["1.0", "2.0", "2.0"]
        assert envelopes(store) == [event.to_json() for event in [*seen, *plain_seen]]
    finally:
        resolveflow.unregister("engage", "2.0", forget=True)


def test_an_idempotent_retry_writes_no_second_event(store: Store) -> None:
    store.open_case(ENGAGE, case_id="R-1")
    store.fire("R-1", "engage_fully", NOTES, actor=ACTOR, idempotency_key="req-1")
    store.fire("R-1", "engage_fully", NOTES, actor=ACTOR, idempotency_key="req-1")
    assert [e.event_id for e in every_event(store)] == [stable_id("R-1", 1, "action_accepted")]


def test_opening_a_case_writes_no_event(store: Store) -> None:
    store.open_case(ENGAGE, case_id="O-1")
    assert every_event(store) == [] and store.events().next_after == 0


# --- the caller's transaction ------------------------------------------------------------------


class CrmFailure(Exception):
    """The CRM's own step failing after the store's writes."""


def test_a_rolled_back_transaction_leaves_no_event(sync_store: Store, clock: FakeClock) -> None:
    store = sync_store  # the async store's transaction (an AsyncConnection): test_store_async.py
    store.open_case(ENGAGE, case_id="T-1")
    before = table_rows(store)

    def fire_then_fail() -> None:
        with store.transaction() as conn:
            clock.advance(minutes=1)
            store.fire("T-1", "engage_fully", NOTES, actor=ACTOR, connection=conn)
            store.open_case(ENGAGE, case_id="T-2", connection=conn)
            built = resolveflow.open_case(ENGAGE, case_id="T-3", clock=clock)
            built.fire("engage_fully", NOTES, actor=ACTOR)
            store.import_cases([built], connection=conn)
            with conn.begin_nested():  # the events are there inside the transaction ...
                assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one() == 2
            raise CrmFailure("after the store's writes")

    with pytest.raises(CrmFailure):
        fire_then_fail()
    assert outbox_rows(store) == 0 and every_event(store) == []  # ... and gone with it
    assert table_rows(store) == before


def test_a_committed_transaction_leaves_exactly_its_entries_events(
    sync_store: Store, clock: FakeClock
) -> None:
    store = sync_store  # the async store's transaction (an AsyncConnection): test_store_async.py
    store.open_case(ENGAGE, case_id="T-4")
    clock.advance(minutes=1)
    store.fire("T-4", "engage_fully", NOTES, actor=ACTOR)
    first = every_event(store)
    with store.transaction() as conn:
        clock.advance(minutes=1)
        entry = store.fire("T-4", "show_empathy", {"statement": "I see."}, actor=ACTOR, connection=conn)
    added = store.events(after=first[-1].position)
    assert [(e.case_id, e.seq, e.type, e.event_id) for e in added] == [
        ("T-4", entry.seq, "action_accepted", stable_id("T-4", entry.seq, "action_accepted"))
    ]
    assert added.events[0].envelope["current_step"] == entry.step
    assert outbox_rows(store) == 2


def test_a_refused_action_writes_no_event_even_when_refusals_are_recorded(
    db_url: str, clock: FakeClock
) -> None:
    with resolveflow.store.connect(db_url, clock=clock, record_refusals=True) as store:
        store.create_schema()
        store.open_case(ENGAGE, case_id="T-5")
        with pytest.raises(resolveflow.Refused):
            store.fire("T-5", "show_empathy", {"statement": "Too soon."}, actor=ACTOR)
        with store.transaction() as conn, pytest.raises(resolveflow.Refused):
            store.fire("T-5", "show_empathy", {"statement": "Too soon."}, actor=ACTOR, connection=conn)
        with pytest.raises(resolveflow.InvalidEvidence):
            store.fire("T-5", "engage_fully", {"notes": 5}, actor=ACTOR)
        assert outbox_rows(store) == 0
        with store.engine.connect() as conn:  # recorded for analytics, not as events
            assert conn.execute(sa.text("SELECT count(*) FROM resolveflow_refusals")).scalar_one() == 2


def test_a_failure_after_the_events_are_written_takes_them_back(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resolveflow.store import _store as store_module

    store.open_case(SEVEN_AS_1_0, case_id="F-1")
    steps = seven_as_resolved(clock)
    drive(store, "F-1", steps[:4], clock)
    written = every_event(store)

    def deadlines_fail(*_args: object) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(store_module, "_write_deadlines", deadlines_fail)
    with pytest.raises(resolveflow.store.StoreUnavailable):
        drive(store, "F-1", steps[4:5], clock)  # agree_plan writes deadlines after its events
    assert every_event(store) == written


# --- reading: a projection, paging, and the hostile ------------------------------------------------


def test_a_projection_rebuilt_from_the_events_equals_the_stores_own_state(
    store: Store, clock: FakeClock
) -> None:
    steps = seven_as_resolved(clock)
    for number in range(24):
        store.open_case(SEVEN_AS_1_0, case_id=f"P-{number:02}")
    rng = random.Random(7)
    progress = dict.fromkeys(range(24), 0)
    goal = {number: rng.randint(0, len(steps)) for number in range(24)}
    while any(progress[n] < goal[n] for n in progress):  # interleaved, as a CRM's agents write
        number = rng.choice([n for n in progress if progress[n] < goal[n]])
        action, evidence = steps[progress[number]]
        clock.advance(minutes=1)
        store.fire(f"P-{number:02}", action, evidence, actor=ACTOR)
        progress[number] += 1

    step_of: dict[str, str] = {}
    outcome_of: dict[str, str] = {}
    last_seq: dict[str, int] = collections.defaultdict(int)
    for event in every_event(store, limit=7):
        assert event.seq >= last_seq[event.case_id], "a case's events out of order"
        last_seq[event.case_id] = event.seq
        step_of[event.case_id] = event.envelope["current_step"]
        if event.type == "case_closed":
            outcome_of[event.case_id] = event.envelope["outcome"]

    moved = {c.case_id: c.step for c in store.cases_by_outcome(None) if c.last_seq} | {
        c.case_id: c.step for c in store.cases_by_outcome("resolved")
    }
    assert step_of == moved
    assert outcome_of == {c.case_id: "resolved" for c in store.cases_by_outcome("resolved")}
    for step in {*step_of.values()}:
        assert sorted(c for c, s in step_of.items() if s == step) == [
            c.case_id for c in store.cases_at(step) if c.last_seq
        ]
    assert last_seq == {c: store.summary(c).last_seq for c in last_seq}


def test_paging_with_any_limits_reads_the_same_events(store: Store, clock: FakeClock) -> None:
    for number in range(7):
        store.open_case(SEVEN_AS_1_0, case_id=f"G-{number}")
        drive(store, f"G-{number}", seven_as_resolved(clock)[: 3 + number], clock)
    whole = store.events(limit=10_000).events
    assert len(whole) == sum(3 + n for n in range(7)) + 1  # and G-6's closing

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(limits=st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=40))
    def pages_concatenate(limits: list[int]) -> None:
        read: list[StoredEvent] = []
        after = 0
        for limit in limits:
            page = store.events(after=after, limit=limit)
            assert len(page) <= limit
            assert page.next_after == (page.events[-1].position if page.events else after)
            read.extend(page)
            after = page.next_after
        assert tuple(read) == whole[: len(read)]
        assert len(read) == min(len(whole), sum(limits))
        # And resuming from any event's position reads exactly what follows it.
        if read:
            cut = read[len(read) // 2]
            assert store.events(after=cut.position, limit=10_000).events == whole[whole.index(cut) + 1 :]

    pages_concatenate()


HOSTILE_AFTER = [-1, True, False, 2**70, 2**63, "5", 1.0, None, [1]]


@pytest.mark.parametrize("after", HOSTILE_AFTER, ids=repr)
def test_a_bad_after_is_invalid_input_naming_the_range(store: Store, after: object) -> None:
    with pytest.raises(resolveflow.InvalidInput, match="expected a whole number from 0") as raised:
        store.events(after=after)  # type: ignore[arg-type]
    assert raised.value.argument == "after"


@pytest.mark.parametrize("limit", [0, -5, 10_001, 2**70, True, "10", 2.5, None], ids=repr)
def test_a_bad_limit_is_invalid_input_naming_the_range(store: Store, limit: object) -> None:
    with pytest.raises(resolveflow.InvalidInput, match="from 1 to 10,000") as raised:
        store.events(limit=limit)  # type: ignore[arg-type]
    assert raised.value.argument == "limit"


def test_an_after_that_is_no_events_position_is_invalid_input(store: Store) -> None:
    store.open_case(ENGAGE, case_id="H-1")
    store.fire("H-1", "engage_fully", NOTES, actor=ACTOR)
    for after in (2, 2**63 - 1):
        with pytest.raises(resolveflow.InvalidInput, match="position of a stored event") as raised:
            store.events(after=after)
        assert raised.value.argument == "after"
    assert [e.seq for e in store.events(after=0)] == [1]


def test_a_database_without_the_outbox_is_store_unavailable(store: Store) -> None:
    store.open_case(ENGAGE, case_id="U-1")
    outbox.drop(store.engine)  # a database made before the outbox, not yet given it
    with pytest.raises(resolveflow.store.StoreUnavailable) as raised:
        store.events()
    assert raised.value.operation == "events"
    with pytest.raises(resolveflow.store.StoreUnavailable):
        store.fire("U-1", "engage_fully", NOTES, actor=ACTOR)
    assert store.summary("U-1").last_seq == 0  # the entry went with the event
    store.create_schema()  # creates what is missing: the outbox
    store.fire("U-1", "engage_fully", NOTES, actor=ACTOR)
    assert [e.seq for e in every_event(store)] == [1]


def set_envelope(store: Store, position: int, text: str) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE resolveflow_outbox SET envelope = '{text}' WHERE position = {position}")


@pytest.mark.parametrize(
    "text", ['{"not": "the event"}', "[1, 2]", "not json", "[" * 200 + "]" * 200], ids=repr
)
def test_an_edited_outbox_row_is_tampered_history_naming_its_case(
    store: Store, backend: str, text: str
) -> None:
    if backend == "postgresql" and text == "not json":
        pytest.skip("PostgreSQL's json type refuses text that is not JSON")
    store.open_case(ENGAGE, case_id="E-1")
    store.fire("E-1", "engage_fully", NOTES, actor=ACTOR)
    set_envelope(store, every_event(store)[0].position, text)
    with pytest.raises(resolveflow.store.TamperedHistory) as raised:
        store.events()
    assert raised.value.case_id == "E-1"


def test_an_event_forged_ahead_of_its_entry_is_tampered_history(store: Store, clock: FakeClock) -> None:
    store.open_case(ENGAGE, case_id="E-2")
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(outbox).values(
                event_id=stable_id("E-2", 1, "action_accepted"),
                case_id="E-2",
                seq=1,
                event_type="action_accepted",
                envelope={},
                xact_id=0,
                created_at=clock.now,
            )
        )
    before = table_rows(store)
    with pytest.raises(resolveflow.store.TamperedHistory) as raised:
        store.fire("E-2", "engage_fully", NOTES, actor=ACTOR)
    assert (raised.value.case_id, raised.value.entry) == ("E-2", 1)
    assert table_rows(store) == before
    built = resolveflow.open_case(ENGAGE, case_id="E-2b", clock=clock)
    built.fire("engage_fully", NOTES, actor=ACTOR)
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(outbox).values(event_id=stable_id("E-2b", 1, "action_accepted")),
        )
    with pytest.raises(resolveflow.store.TamperedHistory) as raised:
        store.import_cases([built])
    assert (raised.value.case_id, raised.value.entry) == ("E-2b", 1)


# --- PostgreSQL: commits out of position order -----------------------------------------------------


@pytest.fixture
def pg_store(pg_url: str, clock: FakeClock) -> Any:
    with resolveflow.store.connect(pg_url, clock=clock, engine_options={"pool_size": 12}) as opened:
        opened.create_schema()
        yield opened


def naive_positions(store: Store, after: int) -> list[int]:
    """What a reader trusting positions alone would hand out: everything committed after ``after``."""
    with store.engine.connect() as conn:
        query = sa.select(outbox.c.position).where(outbox.c.position > after).order_by(outbox.c.position)
        return [int(p) for p in conn.execute(query).scalars()]


def test_an_event_that_commits_late_is_not_skipped(pg_store: Store, clock: FakeClock) -> None:
    store = pg_store
    for case_id in ("A", "B"):
        store.open_case(ENGAGE, case_id=case_id)
    with store.transaction() as slow:
        store.fire("A", "engage_fully", NOTES, actor=ACTOR, connection=slow)  # takes the lower position
        store.fire("B", "engage_fully", NOTES, actor=ACTOR)  # takes the next one, and commits first
        (b_position,) = naive_positions(store, 0)
        # Trusting positions, a consumer would take B's event now and resume after it, never to see A's.
        page = store.events()
        assert page.events == () and page.next_after == 0
    page = store.events()
    assert [e.case_id for e in page] == ["A", "B"]
    assert page.events[0].position < b_position == page.next_after


def test_an_early_transaction_keeps_a_cases_events_in_order(pg_store: Store, clock: FakeClock) -> None:
    store = pg_store
    store.open_case(ENGAGE, case_id="S")
    with store.transaction() as early:
        # The CRM's own write gives this transaction its id before the case's next writer gets one.
        early.execute(sa.text("CREATE TEMPORARY TABLE crm_note (id int)"))
        early.execute(sa.text("INSERT INTO crm_note VALUES (1)"))
        store.fire("S", "engage_fully", NOTES, actor=ACTOR)  # another transaction, later id, committed
        clock.advance(minutes=1)
        store.fire("S", "show_empathy", {"statement": "I see."}, actor=ACTOR, connection=early)
    assert [e.seq for e in every_event(store)] == [1, 2]


def test_concurrent_writers_never_make_a_tail_miss_an_event(pg_store: Store, clock: FakeClock) -> None:
    store = pg_store
    writers = 6
    for number in range(writers):
        store.open_case(SEVEN_AS_1_0, case_id=f"W-{number}")
    steps = seven_as_resolved(clock)
    fires = len(steps)
    done = threading.Event()
    errors: list[BaseException] = []
    tailed: list[StoredEvent] = []

    def writer(number: int) -> None:
        rng = random.Random(number)
        try:
            for action, evidence in steps[:fires]:
                if rng.random() < 0.5:
                    with store.transaction() as conn:
                        store.fire(f"W-{number}", action, evidence, actor=ACTOR, connection=conn)
                        time.sleep(rng.uniform(0, 0.03))  # position taken, commit held back
                else:
                    store.fire(f"W-{number}", action, evidence, actor=ACTOR)
                time.sleep(rng.uniform(0, 0.005))
        except BaseException as error:
            errors.append(error)

    def tail() -> None:
        # The race a position-only reader loses is shown deterministically above; here many
        # writers hold commits back at random, and the tail must still see every event once.
        after = 0
        try:
            while True:
                finished = done.is_set()
                page = store.events(after=after, limit=3)
                tailed.extend(page)
                after = page.next_after
                if finished and not page.events:
                    break
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(writers)]
    consumer = threading.Thread(target=tail, daemon=True)
    consumer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    consumer.join(timeout=120)
    assert not consumer.is_alive() and errors == []
    ids = [e.event_id for e in tailed]
    assert len(ids) == len(set(ids)), "an event handed out twice"
    assert sorted(ids) == sorted(e.event_id for e in every_event(store))
    assert len(ids) == writers * fires + writers  # every walk closes: one case_closed each
    for number in range(writers):
        seqs = [e.seq for e in tailed if e.case_id == f"W-{number}" and e.type == "action_accepted"]
        assert seqs == list(range(1, fires + 1)), "a case's events out of order"


def test_the_page_records_are_public(store: Store) -> None:
    assert isinstance(store.events(), EventPage)
    assert resolveflow.store.StoredEvent is StoredEvent
