"""A database made before tenants: refused by create_schema, rebuilt by upgrade_schema with every row.

The old database is made from the schema the store created before tenants
(tests/data/schema_before_tenants, frozen from that release's docs) and filled
with the rows a store writes, less the tenant column: a case with a plan, an
idempotency key, a refusal, a fired deadline and a relay's deliveries.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import resolveflow
import resolveflow.store
from resolveflow.cli import main
from resolveflow.store import DeadlineWorker, Listener, Relay, Store, StoreUnavailable, _upgrade, metadata
from tests._store_support import ACTOR, SEVEN_AS_1_0, drive, seven_as_to_act
from tests.conftest import FakeClock

OLD_SCHEMA = Path(__file__).parent / "data" / "schema_before_tenants"
TABLES = [t.name for t in metadata.sorted_tables if "tenant" in t.c]  # the relay's cursors have none


def old_schema(backend: str, without: tuple[str, ...] = ()) -> list[str]:
    """The statements of the schema before tenants, less some later columns (and their indexes)."""
    sql = (OLD_SCHEMA / f"{backend}.sql").read_text(encoding="utf-8")
    for column in without:
        sql = re.sub(rf"\n\s*{column} [^\n]*,", "", sql)
        sql = re.sub(rf"\n\nCREATE INDEX [^\n]*{column}[^\n]*;", "", sql)
        assert column not in sql
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    return [statement for statement in body.split(";\n") if statement.strip()]


def filled_source(path: Path, clock: FakeClock) -> dict[str, list[dict[str, Any]]]:
    """Rows of every table, as today's store writes them (tenant "" throughout)."""
    with resolveflow.store.connect(path, clock=clock, record_refusals=True) as store:
        store.create_schema()
        store.open_case(SEVEN_AS_1_0, case_id="C-1")
        drive(store, "C-1", seven_as_to_act(clock, 3))
        store.fire("C-1", "complete_item", {"item_id": "item-1"}, actor=ACTOR)
        with pytest.raises(resolveflow.Refused):
            store.fire("C-1", "complete_plan", None, actor=ACTOR)  # items still open
        store.open_case("engage", case_id="C-2")
        clock.advance(days=3)
        assert DeadlineWorker(store).run_once().due == 2  # item-2 and item-3 came due
        store.fire("C-1", "complete_item", {"item_id": "item-2"}, actor=ACTOR, idempotency_key="req-2")
        Relay(store, [Listener("projection", lambda event: None)]).drain()
        with store.engine.connect() as conn:
            return {
                t.name: [dict(r._mapping) for r in conn.execute(sa.select(t))] for t in metadata.sorted_tables
            }


def make_old_database(
    db_url: str, backend: str, rows: dict[str, list[dict[str, Any]]], without: tuple[str, ...] = ()
) -> None:
    engine = resolveflow.store.connect(db_url).engine
    with engine.begin() as conn:
        for statement in old_schema(backend, without):
            conn.exec_driver_sql(statement)
        for table in metadata.sorted_tables:
            kept = [c for c in table.c if c.name != "tenant" and c.name not in without]
            old = sa.table(table.name, *(sa.column(c.name, c.type) for c in kept))
            values = [{c.name: row[c.name] for c in kept} for row in rows[table.name]]
            if values:
                conn.execute(sa.insert(old), values)
    engine.dispose()


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
        return {
            name: conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one()
            for name in sorted(present)
        }


@pytest.mark.parametrize("without", [(), ("seal", "due_fired")], ids=["last-release", "older"])
def test_an_upgrade_keeps_every_row_and_the_store_goes_on(
    db_url: str, backend: str, tmp_path: Path, clock: FakeClock, without: tuple[str, ...]
) -> None:
    rows = filled_source(tmp_path / "source.db", clock)
    make_old_database(db_url, backend, rows, without)
    with resolveflow.store.connect(db_url, clock=clock, record_refusals=True) as store:
        with pytest.raises(resolveflow.InvalidInput, match=r"made before tenants.*upgrade_schema") as info:
            store.create_schema()
        assert info.value.argument == "database"
        assert store.upgrade_schema() == TABLES
        assert store.upgrade_schema() == []  # done once
        store.create_schema()  # and nothing is missing
        assert counts(store) == {name: len(found) for name, found in rows.items()}
        # Columns the old table lacked take their defaults: no seal, not fired.
        defaults = {"seal": None, "due_fired": False}
        with store.engine.connect() as conn:
            for table in metadata.sorted_tables:
                stored = [dict(r._mapping) for r in conn.execute(sa.select(table))]
                expected = [
                    {**row, **{c: defaults[c] for c in without if c in row}} for row in rows[table.name]
                ]
                key = [c.name for c in table.primary_key.columns]
                assert sorted(stored, key=lambda r: [str(r[k]) for k in key]) == sorted(
                    expected, key=lambda r: [str(r[k]) for k in key]
                ), table.name
        # The cases replay, the audit is clean, the events and promises are what they were.
        assert store.verify().clean
        case = store.load("C-1")
        assert len(case.history) == len(rows["resolveflow_entries"])
        first = store.fire(
            "C-1", "complete_item", {"item_id": "item-2"}, actor=ACTOR, idempotency_key="req-2"
        )
        assert first.seq == 7  # the key still stands for its entry
        events = store.events(limit=1000)
        assert [e.position for e in events] == sorted(r["position"] for r in rows["resolveflow_outbox"])
        # The worker fired item-3's deadline.due before the upgrade (it was still open then): it fires
        # nothing again, though the older database had no due_fired flag to copy.
        assert DeadlineWorker(store).run_once().fired == 0
        # Keys that count on: the next event and refusal come after the copied ones.
        before = max(r["position"] for r in rows["resolveflow_outbox"])
        store.fire("C-1", "complete_item", {"item_id": "item-3"}, actor=ACTOR)
        assert store.events(after=events.next_after).events[0].position > before
        with pytest.raises(resolveflow.Refused):
            store.fire("C-1", "complete_item", {"item_id": "item-1"}, actor=ACTOR)  # done already
        with store.engine.connect() as conn:
            ids = conn.execute(
                sa.select(resolveflow.store.metadata.tables["resolveflow_refusals"].c.id)
            ).scalars()
            assert sorted(ids)[-1] > max(r["id"] for r in rows["resolveflow_refusals"])
        # And the relay goes on from its cursor: only the new event.
        seen: list[str] = []
        Relay(store, [Listener("projection", lambda event: seen.append(event.type))]).drain()
        assert seen == ["action_accepted"]


def test_an_upgrade_that_fails_changes_nothing(
    db_url: str, backend: str, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = filled_source(tmp_path / "source.db", clock)
    make_old_database(db_url, backend, rows)
    real_copy = _upgrade._copy

    def full_disk_on_the_last(conn: sa.Connection, table: sa.Table, columns: list[str]) -> None:
        real_copy(conn, table, columns)
        if table.name == TABLES[-1]:
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))

    monkeypatch.setattr(_upgrade, "_copy", full_disk_on_the_last)
    with resolveflow.store.connect(db_url, clock=clock) as store:
        before = counts(store)
        with pytest.raises(StoreUnavailable):
            store.upgrade_schema()
        assert counts(store) == before  # the old tables, under their names, with their rows
        assert _upgrade.needs_upgrade(store.engine) == TABLES
        monkeypatch.setattr(_upgrade, "_copy", real_copy)
        assert store.upgrade_schema() == TABLES
        assert store.load("C-1").step == "act"


def test_the_cli_upgrades_a_database(tmp_path: Path, clock: FakeClock) -> None:
    rows = filled_source(tmp_path / "source.db", clock)
    old = tmp_path / "old.db"
    make_old_database(str(old), "sqlite", rows)
    runner = CliRunner()
    result = runner.invoke(main, ["store", "upgrade", str(old)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("rebuilt resolveflow_cases, ")
    again = runner.invoke(main, ["store", "upgrade", str(old)])
    assert again.exit_code == 0 and "up to date" in again.output
    with resolveflow.store.connect(old) as store:
        assert store.summary("C-1").step == "act"
