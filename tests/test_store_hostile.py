"""Hostile calls and hostile rows: only resolveflow errors come out of the store, and nothing changes.

Each test runs on a SQLite file and on PostgreSQL (tests/store_fixtures.py):
text the database cannot take (NUL, lone surrogates) and numbers SQL cannot
take (2**70) are refused up front, the same way on both; rows edited into
something the store never writes (evidence that is not JSON, nested 10,000
deep or holding a 5,000-digit number; a time that is not one) are
TamperedHistory naming the case and the entry; a database that cannot be used
(read-only, gone, no tables) is StoreUnavailable; and an idempotency key
changes neither the errors of a bad request nor, under a race, the answer.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

import resolveflow
import resolveflow.store
from resolveflow.exceptions import InvalidEvidence, InvalidInput, StoreUnavailable, TamperedHistory
from resolveflow.store import Store
from resolveflow.store import _store as store_module
from tests._async_facade import own_engine
from tests._store_support import ACTOR, SEVEN_AS_1_0, drive, plan, restarted, seven_as_to_act
from tests.conftest import FakeClock
from tests.store_fixtures import STORE_APIS


@pytest.fixture(params=STORE_APIS)
def store_api(request: pytest.FixtureRequest) -> str:
    """The store's contract: every test here runs on the synchronous Store and on the AsyncStore."""
    return str(request.param)


ENGAGE = {"notes": "Parcel arrived broken."}
LATER = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def raw_rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every store table as the database's own text: to prove that nothing changed,
    even when a row no longer decodes."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        for table in resolveflow.store.metadata.sorted_tables:
            # SQLite's driver cannot even read text that is not UTF-8: its bytes, then.
            columns = [
                sa.func.hex(column) if store.dialect == "sqlite" else sa.cast(column, sa.Text)
                for column in table.c
            ]
            out[table.name] = sorted(tuple(str(v) for v in row) for row in conn.execute(sa.select(*columns)))
    return out


def set_raw(store: Store, table: str, column: str, text: str, where: str = "TRUE") -> None:
    """Write ``text`` into a column as the database's own input syntax (an edit by hand)."""
    kind = {"evidence": "json", "codes": "json"}.get(column, "timestamptz")
    value = ":v" if store.dialect == "sqlite" else f"CAST(:v AS {kind})"
    where = "1" if store.dialect == "sqlite" and where == "TRUE" else where
    with store.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {table} SET {column} = {value} WHERE {where}"), {"v": text})


def three_entries(store: Store, clock: FakeClock) -> None:
    """C-1 (seven A's) with three entries: entry 2's evidence has a list in it."""
    store.open_case(SEVEN_AS_1_0, case_id="C-1")
    drive(store, "C-1", seven_as_to_act(clock, 2)[:3], clock)


# --- 1. text no database can take ---------------------------------------------------------

# (call, the argument it must name); ``bad`` is the hostile text.
TEXT_CALLS: list[tuple[Callable[[Store, str], object], str]] = [
    (lambda s, bad: s.open_case("engage", case_id=bad), "case_id"),
    (lambda s, bad: s.load(bad), "case_id"),
    (lambda s, bad: s.summary(bad), "case_id"),
    (lambda s, bad: s.history(bad), "case_id"),
    (lambda s, bad: s.fire(bad, "engage_fully", ENGAGE, actor=ACTOR), "case_id"),
    (lambda s, bad: s.fire("C-1", "engage_fully", ENGAGE, actor=bad), "actor"),
    (
        lambda s, bad: s.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, idempotency_key=bad),
        "idempotency_key",
    ),
    (lambda s, bad: s.fire_with_retry("C-1", "engage_fully", ENGAGE, actor=bad), "actor"),
    (lambda s, bad: s.cases_at(bad), "step"),
    (lambda s, bad: s.cases_at("engage", bad), "methodology_id"),
    (lambda s, bad: s.cases_at("engage", after=bad), "after"),
    (lambda s, bad: s.cases_by_outcome(bad), "outcome"),
    (lambda s, bad: s.cases_by_outcome(None, bad), "methodology_id"),
    (lambda s, bad: s.analytics(methodology_id=bad), "methodology_id"),
]
HOSTILE_TEXT = {"NUL": "C-1\x00", "a lone surrogate": "C-1\ud800", "NUL alone": "\x00"}


def test_text_no_database_can_take_is_refused_up_front_naming_the_argument(store: Store) -> None:
    store.open_case("engage", case_id="C-1")
    before = raw_rows(store)
    for kind, bad in HOSTILE_TEXT.items():
        for number, (call, argument) in enumerate(TEXT_CALLS):
            with pytest.raises(InvalidInput) as info:
                call(store, bad)
            assert info.value.argument == argument, (kind, number)
            assert "without NUL (\\x00) or lone surrogates" in str(info.value), (kind, number)
    assert raw_rows(store) == before


def test_imported_cases_with_nul_in_an_id_or_an_actor_are_refused(store: Store) -> None:
    named = resolveflow.open_case("engage", case_id="C\x001")  # the core allows it; no database can
    acted = resolveflow.open_case("engage", case_id="C-2")
    acted.fire("engage_fully", ENGAGE, actor="a\x00b", at=LATER)
    for items in ([named], [(acted, LATER)], [(acted, LATER, "extra")], 42):
        with pytest.raises(InvalidInput) as info:
            store.import_cases(items)  # type: ignore[arg-type]
        assert info.value.argument == "items"
    assert store.cases_by_outcome(None) == []


def test_a_promise_holding_nul_is_refused_on_every_backend_naming_its_field(
    store: Store, clock: FakeClock
) -> None:
    store.open_case(SEVEN_AS_1_0, case_id="C-1")
    *steps, (action, evidence) = seven_as_to_act(clock, 2)
    drive(store, "C-1", steps, clock)
    evidence = plan(clock, 2)
    evidence["items"][1]["description"] = "Refund\x00the fee"
    before = raw_rows(store)
    for key in (None, "k-1"):
        with pytest.raises(InvalidEvidence) as info:
            store.fire("C-1", action, evidence, actor=ACTOR, idempotency_key=key)
        assert info.value.paths == ("items[1].description",)
        assert "NUL" in str(info.value)
    assert raw_rows(store) == before


# --- 2. numbers SQL cannot take -------------------------------------------------------------

INT_CALLS: list[tuple[Callable[[Store, object], object], str]] = [
    (lambda s, n: s.history("C-1", after_seq=n), "after_seq"),
    (lambda s, n: s.history("C-1", limit=n), "limit"),
    (lambda s, n: s.cases_at("engage", limit=n), "limit"),
    (lambda s, n: s.cases_by_outcome(None, limit=n), "limit"),
    (lambda s, n: s.overdue(LATER, limit=n), "limit"),
    (lambda s, n: s.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, expected_seq=n), "expected_seq"),
    (lambda s, n: s.fire_with_retry("C-1", "engage_fully", ENGAGE, actor=ACTOR, attempts=n), "attempts"),
    (lambda s, n: s.import_cases([], batch_size=n), "batch_size"),
]


def test_numbers_beyond_64_bits_and_booleans_are_refused_naming_the_argument(store: Store) -> None:
    store.open_case("engage", case_id="C-1")
    before = raw_rows(store)
    for number in (2**70, 2**63, -(2**70), True, 1.0):
        for index, (call, argument) in enumerate(INT_CALLS):
            with pytest.raises(InvalidInput) as info:
                call(store, number)
            assert info.value.argument == argument, (number, index)
            assert "whole number" in str(info.value), (number, index)
    assert raw_rows(store) == before


def test_the_largest_numbers_are_taken_on_every_backend(store: Store) -> None:
    store.open_case("engage", case_id="C-1")
    store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR)
    largest = 2**63 - 1
    for after in (2**31, largest):  # past PostgreSQL's INTEGER, then at BIGINT's end
        page = store.history("C-1", after_seq=after)
        assert (page.entries, page.next_after_seq) == ((), None)
    assert [c.case_id for c in store.cases_at("empathize", limit=largest)] == ["C-1"]
    assert [c.case_id for c in store.cases_by_outcome(None, limit=largest)] == ["C-1"]
    assert store.overdue(LATER, limit=largest) == []


# --- 3. rows that do not decode -------------------------------------------------------------

DEEP = "[" * 10_000 + "]" * 10_000
HOSTILE_EVIDENCE = {
    "nested 10,000 deep": '{"points": ' + DEEP + ', "customer_finished": true}',
    "a 5,000-digit number": '{"points": ["late"], "customer_finished": ' + "9" * 5000 + "}",
    "a number no double holds": '{"points": ["late"], "customer_finished": 1e999}',
}


def assert_names_entry(error: TamperedHistory, seq: int) -> None:
    assert (error.case_id, error.entry) == ("C-1", seq)
    assert "'C-1'" in str(error)
    assert f"entry {seq}" in str(error)


def assert_every_reader_names_entry(store: Store, seq: int) -> None:
    before = raw_rows(store)
    with restarted(store, FakeClock()) as other:  # a writer that replays the case (see _store_support)
        for read in (
            lambda: store.load("C-1"),
            lambda: store.history("C-1"),
            lambda: other.fire("C-1", "give_assurance", {"commitment": "We fix it."}, actor=ACTOR),
        ):
            with pytest.raises(TamperedHistory) as info:
                read()
            assert_names_entry(info.value, seq)
            assert "does not read back" in str(info.value)
    assert raw_rows(store) == before


@pytest.mark.parametrize("kind", list(HOSTILE_EVIDENCE))
def test_edited_evidence_that_is_not_json_the_store_writes_is_tampered_history(
    store: Store, clock: FakeClock, kind: str
) -> None:
    three_entries(store, clock)
    set_raw(store, "resolveflow_entries", "evidence", HOSTILE_EVIDENCE[kind], "seq = 2")
    assert_every_reader_names_entry(store, 2)
    assert store.summary("C-1").last_seq == 3  # the case row itself still reads
    assert store.analytics().entries == 3  # figures do not read evidence


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL's json type refuses it on write
def test_edited_evidence_that_is_not_json_at_all_is_tampered_history(
    store: Store, clock: FakeClock, backend: str
) -> None:
    three_entries(store, clock)
    set_raw(store, "resolveflow_entries", "evidence", '{"points": ["late"', "seq = 2")
    assert_every_reader_names_entry(store, 2)


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL refuses text that is not UTF-8
def test_edited_text_that_is_not_utf8_is_tampered_history(
    store: Store, clock: FakeClock, backend: str
) -> None:
    three_entries(store, clock)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE resolveflow_entries SET actor = CAST(x'61ff62' AS TEXT) WHERE seq = 2")
    assert_every_reader_names_entry(store, 2)


def not_a_time(store: Store) -> str:
    # SQLite keeps any text; PostgreSQL keeps years Python's datetime cannot. Both sort
    # before any real time, so that "due before now" queries meet them too.
    return "1st of never" if store.dialect == "sqlite" else "0044-03-15 12:00:00+00 BC"


def test_an_edited_time_that_is_not_one_is_tampered_history(store: Store, clock: FakeClock) -> None:
    three_entries(store, clock)
    set_raw(store, "resolveflow_entries", "at", not_a_time(store), "seq = 2")
    assert_every_reader_names_entry(store, 2)
    with pytest.raises(TamperedHistory) as info:
        store.analytics()
    assert_names_entry(info.value, 2)


def test_an_edited_case_row_time_is_tampered_history_naming_the_case(store: Store, clock: FakeClock) -> None:
    store.open_case("engage", case_id="C-0")
    three_entries(store, clock)
    set_raw(store, "resolveflow_cases", "created_at", not_a_time(store), "case_id = 'C-1'")
    before = raw_rows(store)
    for read in (
        lambda: store.load("C-1"),
        lambda: store.summary("C-1"),
        lambda: store.cases_by_outcome(None),
        lambda: store.cases_at("assure"),
        lambda: store.analytics(),
    ):
        with pytest.raises(TamperedHistory) as info:
            read()
        assert (info.value.case_id, info.value.entry) == ("C-1", 3)
        assert "case row does not read back" in str(info.value)
    assert raw_rows(store) == before
    assert store.load("C-0").step == "engage"


def test_an_edited_deadline_or_refusal_row_is_tampered_history_naming_its_case(
    store: Store, clock: FakeClock
) -> None:
    store.open_case(SEVEN_AS_1_0, case_id="C-1")
    drive(store, "C-1", seven_as_to_act(clock, 2), clock)
    set_raw(store, "resolveflow_deadlines", "due", not_a_time(store))
    for read in (lambda: store.overdue(LATER), lambda: store.analytics(now=LATER)):
        with pytest.raises(TamperedHistory) as info:
            read()
        assert (info.value.case_id, info.value.entry) == ("C-1", 5)
        assert "deadline rows does not read back" in str(info.value)
    with store.engine.begin() as conn:
        conn.execute(sa.delete(resolveflow.store.metadata.tables["resolveflow_deadlines"]))
        conn.execute(
            sa.insert(resolveflow.store.metadata.tables["resolveflow_refusals"]),
            {"case_id": "C-1", "action": "x", "step": "act", "codes": ["c"], "actor": "a", "at": LATER},
        )
    set_raw(store, "resolveflow_refusals", "codes", '{"not": "a list"}')
    with pytest.raises(TamperedHistory) as info:
        store.analytics()
    assert info.value.case_id == "C-1"
    assert "codes" in str(info.value)


# --- 4. a database that cannot be used ------------------------------------------------------


def test_a_read_only_sqlite_file_is_store_unavailable_and_nothing_changes(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "cases.db"
    with resolveflow.store.connect(path, clock=clock) as writable:
        writable.create_schema()
        writable.open_case("engage", case_id="C-1")
        before = raw_rows(writable)
        case = resolveflow.open_case("engage", case_id="C-2")
        with resolveflow.store.connect(f"sqlite:///file:{path}?mode=ro&uri=true", clock=clock) as read_only:
            assert read_only.load("C-1").step == "engage"  # reading still works
            for operation, call in (
                ("fire", lambda: read_only.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR)),
                ("open_case", lambda: read_only.open_case("engage", case_id="C-3")),
                ("import_cases", lambda: read_only.import_cases([case])),
            ):
                with pytest.raises(StoreUnavailable) as info:
                    call()
                error = info.value
                assert error.operation == operation
                assert isinstance(error.__cause__, sa.exc.OperationalError)
                assert "readonly" in error.reason
                assert isinstance(error, resolveflow.store.StoreReadOnly)
                assert str(error).startswith(f"{operation}: the database could not be used")
                assert str(error).endswith("nothing was recorded")
                assert not error.maybe_recorded
        assert raw_rows(writable) == before


def test_a_full_sqlite_disk_is_store_unavailable_and_nothing_changes(tmp_path: Path) -> None:
    with resolveflow.store.connect(tmp_path / "cases.db") as store:
        store.create_schema()
        store.open_case("engage", case_id="C-1")
        before = raw_rows(store)
        store.engine.dispose()

        @event.listens_for(store.engine, "connect")
        def no_room_to_grow(dbapi_connection: Any, _record: object) -> None:
            # The file may not grow by a page: as full as a disk can be.
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

        many = [resolveflow.open_case("engage", case_id=f"{n:03d}" + "x" * 197) for n in range(60)]
        with pytest.raises(StoreUnavailable) as info:
            store.import_cases(many)
        assert info.value.operation == "import_cases"
        assert "full" in info.value.reason
        assert isinstance(info.value, resolveflow.store.StoreFull)
        assert raw_rows(store) == before


def test_a_database_without_the_tables_is_store_unavailable(db_url: str) -> None:
    with resolveflow.store.connect(db_url) as store:
        for operation, call in (
            ("load", lambda: store.load("C-1")),
            ("fire", lambda: store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR)),
            ("cases_at", lambda: store.cases_at("engage")),
            ("overdue", lambda: store.overdue(LATER)),
            ("analyze", lambda: store.analytics()),
        ):
            with pytest.raises(StoreUnavailable) as info:
                call()
            assert info.value.operation == operation
            assert isinstance(info.value.__cause__, sa.exc.DBAPIError)


def test_a_file_that_is_not_a_database_and_a_server_that_is_not_there(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("not a database\n", encoding="utf-8")
    with resolveflow.store.connect(text) as store, pytest.raises(StoreUnavailable, match="not a database"):
        store.load("C-1")
    with (
        resolveflow.store.connect("postgresql://nobody@127.0.0.1:1/cases") as store,
        pytest.raises(StoreUnavailable) as info,
    ):
        store.summary("C-1")
    assert info.value.operation == "summary"
    assert isinstance(info.value.__cause__, sa.exc.OperationalError)


def test_a_connection_killed_mid_fire_is_store_unavailable_and_nothing_is_recorded(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with resolveflow.store.connect(pg_url) as store:
        store.create_schema()
        store.open_case("engage", case_id="C-1")
        before = raw_rows(store)
        real_advance = store_module._advance

        def killed(
            conn: sa.Connection, tenant: str, case: resolveflow.Case, entry: resolveflow.HistoryEntry
        ) -> None:
            conn.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
            real_advance(conn, tenant, case, entry)

        monkeypatch.setattr(store_module, "_advance", killed)
        with pytest.raises(StoreUnavailable) as info:
            store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, idempotency_key="k-1")
        assert info.value.operation == "fire"
        assert not info.value.maybe_recorded  # it was lost before the commit
        assert isinstance(info.value.__cause__, sa.exc.OperationalError)
        monkeypatch.undo()
        assert raw_rows(store) == before
        # The pool drops the dead connection: the retry goes through.
        assert store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, idempotency_key="k-1").seq == 1


def test_a_commit_cut_off_says_whether_it_may_have_happened(store: Store) -> None:
    store.open_case("engage", case_id="C-1")

    def lost(_connection: sa.Connection) -> None:
        raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    writes_through = own_engine(store)
    event.listen(writes_through, "commit", lost)
    try:
        with pytest.raises(StoreUnavailable) as info:
            store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR)
    finally:
        event.remove(writes_through, "commit", lost)
    # SQLite's COMMIT happens or fails; a server may have committed before the connection went.
    assert info.value.maybe_recorded == (store.dialect != "sqlite")
    assert ("may or may not have been recorded" in str(info.value)) == info.value.maybe_recorded


def test_bad_connection_arguments_are_invalid_input(tmp_path: Path) -> None:
    for target, options, argument in (
        ("nosuch://x", None, "url_or_path"),
        ("postgresql://ana:s3cret@host:port/x", None, "url_or_path"),
        (str(tmp_path / "a\x00b.db"), None, "url_or_path"),
        (tmp_path / "a.db", {"no_such_option": 1}, "engine_options"),
        (tmp_path / "a.db", [("echo", True)], "engine_options"),
    ):
        with pytest.raises(InvalidInput) as info:
            resolveflow.store.connect(target, engine_options=options)  # type: ignore[arg-type]
        assert info.value.argument == argument
        assert "s3cret" not in str(info.value)  # a URL's password is never repeated
    with pytest.raises(InvalidInput):
        resolveflow.store.schema_sql(["sqlite"])  # type: ignore[arg-type]


# --- 5. idempotency keys --------------------------------------------------------------------


def nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_REQUESTS: dict[str, object] = {
    "nested 10,000 deep": {"statement": nested(10_000)},
    "a 5,000-digit number": {"statement": 10**5000},
    "a lone surrogate": {"statement": "Sorry\ud800"},
    "keys that are not text": {1: "x", "statement": "Sorry."},
    "an object": {"statement": object()},
    "not a number": {"statement": float("nan")},
}


def test_bad_evidence_gets_the_same_error_with_a_key_as_without(store: Store) -> None:
    store.open_case("engage", case_id="C-1")
    store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, idempotency_key="k-0")
    before = raw_rows(store)
    for kind, evidence in HOSTILE_REQUESTS.items():
        errors = []
        for key in (None, "k-1", "k-0"):  # no key, a new key, and a key already used
            with pytest.raises(InvalidEvidence) as info:
                store.fire("C-1", "show_empathy", evidence, actor=ACTOR, idempotency_key=key)
            errors.append(info.value.errors)
        assert errors[0] == errors[1] == errors[2], kind
    assert raw_rows(store) == before


WRITERS = 16


def same_request_at_once(store: Store, case_id: str) -> list[object]:
    """What WRITERS threads get from one request with one key, sent at the same moment."""
    barrier = threading.Barrier(WRITERS)
    results: list[object] = []
    lock = threading.Lock()

    def writer() -> None:
        barrier.wait(timeout=30)
        try:
            result: object = store.fire_with_retry(
                case_id, "engage_fully", ENGAGE, actor=ACTOR, idempotency_key="k-1", attempts=5
            )
        except BaseException as error:  # surfaced by the caller
            result = error
        with lock:
            results.append(result)

    threads = [threading.Thread(target=writer, daemon=True) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_sixteen_writers_with_one_key_all_get_the_one_entry(store: Store) -> None:
    for case_id in ("C-1", "C-2", "C-3"):  # three rounds: the race needs its timing
        store.open_case("engage", case_id=case_id)
        results = same_request_at_once(store, case_id)
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert len(results) == WRITERS
        assert len({r.hash for r in results}) == 1  # type: ignore[attr-defined]
        assert [e.seq for e in store.load(case_id).history] == [1]


def test_a_key_recorded_by_another_writer_after_the_read_returns_its_entry(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deterministic form of the race above: on PostgreSQL each statement of a READ COMMITTED
    # transaction sees what was committed before it, so the key can name an entry the case,
    # read one statement earlier, does not have yet.
    with resolveflow.store.connect(pg_url) as store, resolveflow.store.connect(pg_url) as other:
        store.create_schema()
        store.open_case("engage", case_id="C-1")
        real_idempotent = Store._idempotent
        first: list[resolveflow.HistoryEntry] = []

        def after_the_read(self: Store, *args: Any) -> resolveflow.HistoryEntry | None:
            if self is store and not first:
                first.append(other.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, idempotency_key="k-1"))
            return real_idempotent(self, *args)

        monkeypatch.setattr(Store, "_idempotent", after_the_read)
        again = store.fire("C-1", "engage_fully", ENGAGE, actor=ACTOR, idempotency_key="k-1")
        assert again == first[0]
        assert len(store.load("C-1").history) == 1
