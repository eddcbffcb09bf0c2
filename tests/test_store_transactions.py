"""The caller's transaction: a CRM's own row and the case's entry commit together, or neither does."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

import resolveflow
import resolveflow.store
from resolveflow.store import Store
from tests._store_support import ACTOR, table_rows
from tests.conftest import FakeClock

ENGAGE = resolveflow.get_methodology("engage", "1.0")
NOTES = {"notes": "The parcel arrived crushed."}

crm = sa.MetaData()
tickets = sa.Table(
    "crm_tickets",
    crm,
    sa.Column("id", sa.String(50), primary_key=True),
    sa.Column("subject", sa.String(200), nullable=False),
)


class Base(orm.DeclarativeBase):
    pass


class Ticket(Base):
    __table__ = tickets


class CrmFailure(Exception):
    """The CRM's own step failing inside the transaction."""


@pytest.fixture
def crm_store(store: Store) -> Store:
    crm.create_all(store.engine)
    return store


def ticket_ids(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return [str(i) for i in conn.execute(sa.select(tickets.c.id).order_by(tickets.c.id)).scalars()]


def test_a_ticket_row_its_case_and_an_entry_commit_together(crm_store: Store, clock: FakeClock) -> None:
    with crm_store.transaction() as conn:
        conn.execute(sa.insert(tickets).values(id="T-1", subject="Crushed parcel"))
        crm_store.open_case(ENGAGE, case_id="T-1", connection=conn)
        clock.advance(minutes=1)
        entry = crm_store.fire("T-1", "engage_fully", NOTES, actor=ACTOR, connection=conn)
    assert entry.seq == 1
    assert ticket_ids(crm_store) == ["T-1"]
    assert crm_store.load("T-1").history == (entry,)


def test_a_rollback_takes_the_store_writes_with_it(crm_store: Store, clock: FakeClock) -> None:
    crm_store.open_case(ENGAGE, case_id="T-2")
    clock.advance(minutes=1)
    crm_store.fire("T-2", "engage_fully", NOTES, actor=ACTOR)
    before = table_rows(crm_store)

    def crm_step_fails_after_the_store_writes() -> None:
        with crm_store.transaction() as conn:
            conn.execute(sa.insert(tickets).values(id="T-3", subject="Never stored"))
            crm_store.open_case(ENGAGE, case_id="T-3", connection=conn)
            clock.advance(minutes=1)
            crm_store.fire("T-2", "show_empathy", {"statement": "I see."}, actor=ACTOR, connection=conn)
            raise CrmFailure("the CRM's own step failed after the store's writes")

    with pytest.raises(CrmFailure):
        crm_step_fails_after_the_store_writes()
    assert table_rows(crm_store) == before and ticket_ids(crm_store) == []
    # The store had kept T-2 with the entry that was rolled back: its next write notices and replays.
    clock.advance(minutes=1)
    again = crm_store.fire("T-2", "show_empathy", {"statement": "I see."}, actor=ACTOR)
    assert again.seq == 2
    assert [e.action for e in crm_store.load("T-2").history] == ["engage_fully", "show_empathy"]


def test_a_refused_action_leaves_the_callers_transaction_usable(db_url: str, clock: FakeClock) -> None:
    with resolveflow.store.connect(db_url, clock=clock, record_refusals=True) as store:
        store.create_schema()
        crm.create_all(store.engine)
        store.open_case(ENGAGE, case_id="T-4")
        with store.transaction() as conn:
            with pytest.raises(resolveflow.Refused):
                store.fire("T-4", "show_empathy", {"statement": "Too soon."}, actor=ACTOR, connection=conn)
            # Still usable: the CRM records what happened, and the refusal is recorded with it
            # (in this transaction: on SQLite a separate one would wait for this one's lock).
            conn.execute(sa.insert(tickets).values(id="T-4", subject="Refused, noted"))
        assert ticket_ids(store) == ["T-4"]
        assert store.summary("T-4").last_seq == 0
        with store.engine.connect() as check:
            codes = check.execute(sa.text("SELECT codes FROM resolveflow_refusals")).scalars().all()
        assert len(codes) == 1 and "not_from_this_step" in str(codes[0])


def test_an_orm_session_takes_part_with_its_connection(crm_store: Store, clock: FakeClock) -> None:
    crm_store.open_case(ENGAGE, case_id="T-5")
    with orm.Session(crm_store.engine) as session, session.begin():
        session.add(Ticket(id="T-5", subject="From the ORM"))
        session.flush()
        clock.advance(minutes=1)
        crm_store.fire("T-5", "engage_fully", NOTES, actor=ACTOR, connection=session.connection())
    assert ticket_ids(crm_store) == ["T-5"] and crm_store.summary("T-5").last_seq == 1

    def session_fails_after_the_store_writes() -> None:
        with orm.Session(crm_store.engine) as session, session.begin():
            session.add(Ticket(id="T-6", subject="Rolled back"))
            session.flush()
            clock.advance(minutes=1)
            crm_store.fire(
                "T-5", "show_empathy", {"statement": "I see."}, actor=ACTOR, connection=session.connection()
            )
            raise CrmFailure("rolled back")

    with pytest.raises(CrmFailure):
        session_fails_after_the_store_writes()
    assert ticket_ids(crm_store) == ["T-5"] and crm_store.summary("T-5").last_seq == 1


def test_imports_and_retries_take_part_too(crm_store: Store, clock: FakeClock) -> None:
    built = resolveflow.open_case(ENGAGE, case_id="T-7", clock=clock)
    built.fire("engage_fully", NOTES, actor=ACTOR)

    def import_then_fail() -> None:
        with crm_store.transaction() as conn:
            assert crm_store.import_cases([built], connection=conn) == 1
            raise CrmFailure("after the import")

    with pytest.raises(CrmFailure):
        import_then_fail()
    with pytest.raises(resolveflow.store.CaseNotFound):
        crm_store.load("T-7")
    with crm_store.transaction() as conn:
        crm_store.import_cases([built], connection=conn)
        clock.advance(minutes=1)
        entry = crm_store.fire_with_retry(
            "T-7", "show_empathy", {"statement": "I see."}, actor=ACTOR, connection=conn
        )
    assert entry.seq == 2 and crm_store.summary("T-7").last_seq == 2


def test_a_taken_id_in_the_callers_transaction_is_case_exists_and_the_rest_commits(
    crm_store: Store,
) -> None:
    crm_store.open_case(ENGAGE, case_id="T-8")
    with crm_store.transaction() as conn:
        with pytest.raises(resolveflow.store.CaseExists):
            crm_store.open_case(ENGAGE, case_id="T-8", connection=conn)
        conn.execute(sa.insert(tickets).values(id="T-8", subject="Already open"))
    assert ticket_ids(crm_store) == ["T-8"]


@pytest.mark.parametrize("make", ["not a connection", "other engine", "no transaction", "closed"])
def test_a_connection_the_store_cannot_join_is_refused(crm_store: Store, tmp_path: Any, make: str) -> None:
    other = resolveflow.store.connect(tmp_path / "other.db")
    try:
        if make == "not a connection":
            connection: Any = crm_store.engine
        elif make == "other engine":
            connection = other.engine.connect()
            connection.begin()
        elif make == "no transaction":
            connection = crm_store.engine.connect()
        else:
            connection = crm_store.engine.connect()
            connection.close()
        before = table_rows(crm_store)
        for call in (
            lambda: crm_store.open_case(ENGAGE, case_id="T-9", connection=connection),
            lambda: crm_store.fire("T-9", "engage_fully", NOTES, actor=ACTOR, connection=connection),
            lambda: crm_store.import_cases([], connection=connection),
        ):
            with pytest.raises(resolveflow.InvalidInput) as info:
                call()
            assert info.value.argument == "connection"
        assert table_rows(crm_store) == before
        if not isinstance(connection, sa.Engine) and not connection.closed:
            connection.close()
    finally:
        other.close()
