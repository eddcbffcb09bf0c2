"""The async store's own surface: its transaction, its arguments, and that it runs on the event loop.

Everything else it shares with the synchronous store is held by the contract
modules, which run on both APIs (tests/store_fixtures.py, ``store_api``).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa
from sqlalchemy import event

import resolveflow
import resolveflow.store
from resolveflow.exceptions import InvalidInput
from resolveflow.store import AsyncStore, ConcurrencyConflict
from resolveflow.store._tables import entries, outbox
from tests._store_support import ACTOR
from tests.conftest import FakeClock

ENGAGE = resolveflow.get_methodology("engage", "1.0")
NOTES = {"notes": "The parcel arrived crushed."}
TICKETS = sa.Table("tickets", sa.MetaData(), sa.Column("id", sa.String(50), primary_key=True))


def run(db_url: str, clock: FakeClock, body: Callable[[AsyncStore], Awaitable[Any]]) -> Any:
    """Open an AsyncStore with its schema and a tickets table, run ``body`` on the event loop, close it."""

    async def main() -> Any:
        async with resolveflow.store.connect_async(db_url, clock=clock) as store:
            await store.create_schema()
            async with store.engine.begin() as conn:
                await conn.run_sync(TICKETS.metadata.create_all)
            return await body(store)

    return anyio.run(main)


async def counted(store: AsyncStore, table: sa.Table) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


def test_a_ticket_and_its_entry_commit_together_in_the_callers_async_transaction(
    db_url: str, clock: FakeClock
) -> None:
    async def body(store: AsyncStore) -> None:
        await store.open_case(ENGAGE, case_id="T-1")
        clock.advance(minutes=1)
        async with store.transaction() as conn:
            await conn.execute(sa.insert(TICKETS).values(id="T-1"))
            entry = await store.fire("T-1", "engage_fully", NOTES, actor=ACTOR, connection=conn)
        assert entry.seq == 1
        assert (await store.summary("T-1")).last_seq == 1
        assert await counted(store, TICKETS) == 1
        assert [e.type for e in (await store.events()).events] == ["action_accepted"]

    run(db_url, clock, body)


def test_a_rolled_back_async_transaction_leaves_neither_the_ticket_nor_the_entry(
    db_url: str, clock: FakeClock
) -> None:
    class Abandoned(Exception):
        pass

    async def body(store: AsyncStore) -> None:
        await store.open_case(ENGAGE, case_id="T-2")
        clock.advance(minutes=1)

        async def abandon() -> None:
            async with store.transaction() as conn:
                await conn.execute(sa.insert(TICKETS).values(id="T-2"))
                await store.fire("T-2", "engage_fully", NOTES, actor=ACTOR, connection=conn)
                raise Abandoned

        with pytest.raises(Abandoned):
            await abandon()
        assert (await store.summary("T-2")).last_seq == 0
        left = [await counted(store, table) for table in (TICKETS, entries, outbox)]
        assert left == [0, 0, 0]
        # A refused action inside the transaction leaves it usable (a savepoint was rolled back).
        async with store.transaction() as conn:
            with pytest.raises(resolveflow.Refused):
                await store.fire("T-2", "apologize", {"apology": "Sorry."}, actor=ACTOR, connection=conn)
            await conn.execute(sa.insert(TICKETS).values(id="T-2"))
        assert await counted(store, TICKETS) == 1

    run(db_url, clock, body)


def test_only_an_async_connection_of_the_stores_own_engine_is_taken(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    async def body(store: AsyncStore) -> None:
        await store.open_case(ENGAGE, case_id="T-3")
        sync_engine = resolveflow.store.connect(db_url).engine
        try:
            with sync_engine.connect() as plain, pytest.raises(InvalidInput) as info:
                await store.fire("T-3", "engage_fully", NOTES, actor=ACTOR, connection=plain)  # type: ignore[arg-type]
            assert info.value.argument == "connection" and "AsyncConnection" in str(info.value)
        finally:
            sync_engine.dispose()
        async with (
            resolveflow.store.connect_async(tmp_path / "other.db") as other,
            other.engine.connect() as foreign,
            foreign.begin(),
        ):
            with pytest.raises(InvalidInput, match="another engine"):
                await store.fire("T-3", "engage_fully", NOTES, actor=ACTOR, connection=foreign)
        unstarted = store.engine.connect()  # not awaited: no connection yet
        with pytest.raises(InvalidInput, match="not started"):
            await store.fire("T-3", "engage_fully", NOTES, actor=ACTOR, connection=unstarted)
        assert (await store.summary("T-3")).last_seq == 0

    run(db_url, clock, body)


def test_the_store_runs_on_the_event_loops_own_thread(db_url: str, clock: FakeClock) -> None:
    """No thread pool: every statement the store sends goes out from the thread running the loop."""

    async def body(store: AsyncStore) -> set[int]:
        threads: set[int] = set()

        def seen(*_args: object) -> None:
            threads.add(threading.get_ident())

        event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
        await store.open_case(ENGAGE, case_id="T-4")
        clock.advance(minutes=1)
        await store.fire("T-4", "engage_fully", NOTES, actor=ACTOR)
        await store.load("T-4")
        assert threads == {threading.get_ident()}
        return threads

    assert len(run(db_url, clock, body)) == 1


def test_concurrent_tasks_on_one_case_each_record_or_get_a_conflict(db_url: str, clock: FakeClock) -> None:
    """Tasks racing on one case: the compare-and-set holds as with threads; retries are awaited."""

    async def body(store: AsyncStore) -> None:
        await store.open_case(ENGAGE, case_id="T-5")
        clock.advance(minutes=1)
        await store.fire("T-5", "engage_fully", NOTES, actor=ACTOR)
        outcomes: list[str] = []

        async def note(n: int) -> None:
            # Every task takes the same step: one wins; the others, retried on the case as it now
            # is, find the action no longer available (refused) or keep losing (conflict).
            try:
                await store.fire_with_retry(
                    "T-5", "show_empathy", {"statement": f"I am sorry ({n})."}, actor=ACTOR, attempts=3
                )
                outcomes.append("recorded")
            except ConcurrencyConflict:
                outcomes.append("conflict")
            except resolveflow.Refused:
                outcomes.append("refused")

        async with anyio.create_task_group() as group:
            for n in range(6):
                group.start_soon(note, n)
        assert len(outcomes) == 6 and outcomes.count("recorded") >= 1
        history = (await store.load("T-5")).history
        assert [e.seq for e in history] == list(range(1, len(history) + 1))
        assert len(history) == 1 + outcomes.count("recorded")

    run(db_url, clock, body)


@pytest.mark.parametrize(
    ("target", "options", "argument"),
    [
        ("nosuch://x", None, "url_or_path"),
        ("mysql://ana@host/x", None, "url_or_path"),
        ("postgresql://ana:s3cret@host:port/x", None, "url_or_path"),
        ("a\x00b.db", None, "url_or_path"),
        (":memory:", None, "url_or_path"),
        ("cases.db", {"no_such_option": 1}, "engine_options"),
        ("cases.db", [("echo", True)], "engine_options"),
    ],
)
def test_bad_arguments_to_connect_async_are_invalid_input(
    tmp_path: Path, target: str, options: Any, argument: str
) -> None:
    if target.endswith(".db"):
        target = str(tmp_path / target)
    with pytest.raises(InvalidInput) as info:
        resolveflow.store.connect_async(target, engine_options=options)
    assert info.value.argument == argument
    assert "s3cret" not in str(info.value)


def test_an_engine_is_refused_with_the_reason(tmp_path: Path) -> None:
    sync = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(InvalidInput, match="URL or path rather than an engine"):
        resolveflow.store.connect_async(sync)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="AsyncEngine"):
        AsyncStore(sync)  # type: ignore[arg-type]
