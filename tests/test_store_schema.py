"""The schema: documented SQL that matches the code, works when applied by hand, and is indexed."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

import resolveflow
import resolveflow.store
from resolveflow.store import Store, schema_sql
from tests._store_support import ACTOR, SEVEN_AS_1_0, drive, seven_as_to_act
from tests.conftest import FakeClock

DOC = Path(__file__).resolve().parents[1] / "docs" / "persistence.md"


def documented_sql(dialect: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- schema:{dialect} -->\s*```sql\n(.*?)```", text, re.DOTALL)
    assert found, f"docs/persistence.md has no <!-- schema:{dialect} --> SQL block"
    return found.group(1)


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_the_documented_sql_is_what_the_store_creates(dialect: str) -> None:
    assert documented_sql(dialect) == schema_sql(dialect), (
        "docs/persistence.md is out of date: paste resolveflow.store.schema_sql() into it"
    )


def test_schema_sql_rejects_other_dialects() -> None:
    with pytest.raises(resolveflow.InvalidInput, match="dialect"):
        schema_sql("oracle")


def test_the_documented_sql_applied_by_hand_gives_a_working_store(
    db_url: str, backend: str, clock: FakeClock
) -> None:
    with resolveflow.store.connect(db_url, clock=clock) as store:
        with store.engine.begin() as conn:
            for statement in documented_sql(backend).split(";\n"):
                if statement.strip():
                    conn.exec_driver_sql(statement)
        store.create_schema()  # finds everything in place: nothing to do
        store.open_case(SEVEN_AS_1_0, case_id="C-1")
        drive(store, "C-1", seven_as_to_act(clock, 1))
        assert store.load("C-1").step == "act"
        assert len(store.overdue(clock.now + dt.timedelta(days=10))) == 1


def test_times_are_timestamptz_on_postgresql(pg_url: str) -> None:
    with resolveflow.store.connect(pg_url) as store:
        store.create_schema()
        with store.engine.connect() as conn:
            types = conn.execute(
                sa.text(
                    "select table_name, column_name, data_type from information_schema.columns "
                    "where table_name like 'resolveflow_%' "
                    "and column_name in ('at', 'due', 'created_at', 'updated_at')"
                )
            ).all()
    # The outbox's created_at, the deadline marks' due and created_at, the relay's updated_at ...
    assert len(types) == 11
    assert {t.data_type for t in types} == {"timestamp with time zone"}


def test_the_overdue_query_uses_its_index(store: Store, clock: FakeClock) -> None:
    for n in range(3):
        store.open_case(SEVEN_AS_1_0, case_id=f"C-{n}")
        drive(store, f"C-{n}", seven_as_to_act(clock, 2))
    store.fire("C-0", "complete_item", {"item_id": "item-1"}, actor=ACTOR)
    plan = store._explain_overdue(clock.now + dt.timedelta(days=10), force_index=True)
    assert "ix_resolveflow_deadlines_due" in plan, plan


def test_the_case_indexes_exist(store: Store) -> None:
    inspector = sa.inspect(store.engine)
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("resolveflow_cases")}
    # A tenant's cases are one range of each index (the tenant first); cases without one are tenant "".
    assert indexes["ix_resolveflow_cases_step"] == ["tenant", "step", "case_id"]
    assert indexes["ix_resolveflow_cases_outcome"] == ["tenant", "outcome", "case_id"]
    deadline_indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("resolveflow_deadlines")}
    assert deadline_indexes["ix_resolveflow_deadlines_due"] == ["tenant", "due", "case_id", "kind", "ref"]
    # The worker serves every tenant: due time first.
    assert deadline_indexes["ix_resolveflow_deadlines_unfired"] == ["due", "tenant", "case_id", "kind", "ref"]
    assert {c["name"] for c in inspector.get_columns("resolveflow_refusals")} >= {
        "case_id",
        "action",
        "codes",
        "at",
        "actor",
    }
