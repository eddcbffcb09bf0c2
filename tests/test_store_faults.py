"""Database faults by kind: full, read-only, locked. Each is a StoreUnavailable, nothing is recorded,
and the store works again once the fault is gone."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

import resolveflow
import resolveflow.store
from resolveflow.store import Store, StoreFull, StoreLocked, StoreReadOnly, StoreUnavailable
from resolveflow.store._engine import kind_of
from tests._store_support import ACTOR, table_rows
from tests.conftest import FakeClock

ENGAGE = resolveflow.get_methodology("engage", "1.0")
NOTES = {"notes": "The parcel arrived crushed."}


def limit_pages(store: Store, extra_pages: int | None) -> None:
    """Cap the SQLite file at its current size plus ``extra_pages`` (None: no cap), for new connections."""
    store.engine.dispose()

    def cap(dbapi_connection: Any, _record: object) -> None:
        if extra_pages is None:
            dbapi_connection.execute("PRAGMA max_page_count = 1073741823")
        else:
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages + extra_pages}")

    event.listen(store.engine, "connect", cap)


def test_a_full_sqlite_file_is_store_full_and_writes_resume_once_there_is_room(
    tmp_path: Path, clock: FakeClock
) -> None:
    with resolveflow.store.connect(tmp_path / "cases.db", clock=clock) as store:
        store.create_schema()
        store.open_case(ENGAGE, case_id="C-1")
        limit_pages(store, 0)  # the file may not grow by a page: as full as a disk can be
        before = table_rows(store)
        many = [resolveflow.open_case(ENGAGE, case_id=f"{n:03d}" + "x" * 197) for n in range(60)]
        with pytest.raises(StoreFull) as info:
            store.import_cases(many)
        assert isinstance(info.value, StoreUnavailable) and not info.value.maybe_recorded
        assert "full" in info.value.reason and info.value.operation == "import_cases"
        assert table_rows(store) == before
        assert store.load("C-1").step == "engage"  # reads go on
        limit_pages(store, None)  # room again
        assert store.import_cases(many) == 60
        clock.advance(minutes=1)
        assert store.fire("C-1", "engage_fully", NOTES, actor=ACTOR).seq == 1


def test_a_held_sqlite_write_lock_is_store_locked(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "cases.db"
    with resolveflow.store.connect(path, clock=clock) as store:
        store.create_schema()
        store.open_case(ENGAGE, case_id="C-1")
        # Wait 0.2 s for the lock rather than the store's 30 s: set after the store's own
        # settings, on connections made from here on.
        store.engine.dispose()
        event.listen(
            store.engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout = 200")
        )
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
            before_seq = store.summary("C-1").last_seq
            with pytest.raises(StoreLocked) as info:
                store.fire("C-1", "engage_fully", NOTES, actor=ACTOR)
            assert "locked" in info.value.reason
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert store.summary("C-1").last_seq == before_seq
        clock.advance(minutes=1)
        assert store.fire("C-1", "engage_fully", NOTES, actor=ACTOR).seq == 1


@pytest.fixture
def pg_store(pg_url: str, clock: FakeClock) -> Iterator[Store]:
    with resolveflow.store.connect(pg_url, clock=clock) as store:
        store.create_schema()
        yield store


def set_read_only(store: Store, on: bool) -> None:
    """default_transaction_read_only for the store's database; new sessions pick it up."""
    database = store.engine.url.database
    with store.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(sa.text("SET default_transaction_read_only = off"))  # this session may change it
        conn.execute(
            sa.text(
                f'ALTER DATABASE "{database}" SET default_transaction_read_only = {"on" if on else "off"}'
            )
        )
    store.engine.dispose()


def test_a_read_only_postgresql_database_is_store_read_only(pg_store: Store, clock: FakeClock) -> None:
    pg_store.open_case(ENGAGE, case_id="C-1")
    set_read_only(pg_store, True)
    try:
        with pytest.raises(StoreReadOnly) as info:
            pg_store.fire("C-1", "engage_fully", NOTES, actor=ACTOR)
        assert "read-only" in info.value.reason
        assert pg_store.load("C-1").step == "engage"
    finally:
        set_read_only(pg_store, False)
    clock.advance(minutes=1)
    assert pg_store.fire("C-1", "engage_fully", NOTES, actor=ACTOR).seq == 1


def test_a_row_lock_held_past_lock_timeout_is_store_locked(pg_url: str, clock: FakeClock) -> None:
    options = {"connect_args": {"options": "-c lock_timeout=200"}}
    with resolveflow.store.connect(pg_url, clock=clock, engine_options=options) as store:
        store.create_schema()
        store.open_case(ENGAGE, case_id="C-1")
        holder = sa.create_engine(store.engine.url)
        try:
            with holder.connect() as conn, conn.begin():
                conn.execute(sa.text("SELECT 1 FROM resolveflow_cases WHERE case_id = 'C-1' FOR UPDATE"))
                failure: list[BaseException] = []

                def write() -> None:
                    try:
                        store.fire("C-1", "engage_fully", NOTES, actor=ACTOR)
                    except BaseException as error:  # handed to the test thread
                        failure.append(error)

                thread = threading.Thread(target=write)
                thread.start()
                thread.join(timeout=30)
            assert len(failure) == 1 and isinstance(failure[0], StoreLocked), failure
            assert "lock" in failure[0].reason
        finally:
            holder.dispose()
        assert store.summary("C-1").last_seq == 0
        clock.advance(minutes=1)
        assert store.fire("C-1", "engage_fully", NOTES, actor=ACTOR).seq == 1


class _Driver(Exception):
    def __init__(self, **attributes: object) -> None:
        super().__init__("driver error")
        for name, value in attributes.items():
            setattr(self, name, value)


@pytest.mark.parametrize(
    ("attributes", "kind"),
    [
        ({"sqlite_errorname": "SQLITE_FULL"}, StoreFull),
        ({"sqlite_errorname": "SQLITE_READONLY_DBMOVED"}, StoreReadOnly),
        ({"sqlite_errorname": "SQLITE_BUSY_SNAPSHOT"}, StoreLocked),
        ({"sqlite_errorname": "SQLITE_IOERR"}, StoreUnavailable),
        ({"sqlite_errorname": "SQLITE_FULLISH"}, StoreUnavailable),
        ({"sqlstate": "53100"}, StoreFull),
        ({"sqlstate": "25006"}, StoreReadOnly),
        ({"sqlstate": "55P03"}, StoreLocked),
        ({"sqlstate": "08006"}, StoreUnavailable),
        ({"sqlstate": None}, StoreUnavailable),
        ({}, StoreUnavailable),
    ],
)
def test_each_driver_fault_maps_to_its_kind(attributes: dict[str, object], kind: type) -> None:
    wrapped = sa.exc.OperationalError("SELECT 1", {}, _Driver(**attributes))
    assert kind_of(wrapped) is kind
