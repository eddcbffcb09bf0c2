"""Helpers shared by the store tests: driving cases, and table dumps to prove nothing changed.

The fixtures (``backend``, ``db_url``, ``store``) live in tests/store_fixtures.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

import resolveflow
import resolveflow.store
from tests.conftest import FakeClock

ACTOR = "agent-7"
# The store tests walk seven-as as 1.0 has it (the latest, 1.1, talks solutions through and
# thanks the customer at the close): they are about the store, not about seven-as.
SEVEN_AS_1_0 = resolveflow.get_methodology("seven-as", "1.0")


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def plan(clock: FakeClock, items: int = 2, *, due_in: dt.timedelta = dt.timedelta(days=2)) -> dict[str, Any]:
    return {
        "items": [
            {
                "id": f"item-{n}",
                "description": f"Task {n}",
                "due": iso(clock.now + due_in + dt.timedelta(hours=n)),
            }
            for n in range(1, items + 1)
        ],
        "agreed_with": "the customer",
    }


def seven_as_to_act(clock: FakeClock, items: int = 2, **plan_options: Any) -> list[tuple[str, Any]]:
    """The seven A's up to the act step, with a plan of ``items`` items."""
    return [
        ("acknowledge_feelings", {"feelings": "frustrated"}),
        ("hear_grievances", {"points": ["late delivery"], "customer_finished": True}),
        ("give_apology", {"statement": "We are sorry."}),
        ("give_assurance", {"commitment": "We will fix it."}),
        ("agree_plan", plan(clock, items, **plan_options)),
    ]


def seven_as_resolved(clock: FakeClock) -> list[tuple[str, Any]]:
    return [
        *seven_as_to_act(clock, 2),
        ("complete_item", {"item_id": "item-1"}),
        ("complete_item", {"item_id": "item-2"}),
        ("complete_plan", None),
        ("confirm_satisfaction", {"satisfied": True}),
    ]


def drive(
    store: resolveflow.store.Store,
    case_id: str,
    steps: list[tuple[str, Any]],
    clock: FakeClock | None = None,
    *,
    minutes: float = 5,
) -> list[resolveflow.HistoryEntry]:
    """Fire each (action, evidence), moving the clock on a few minutes before each."""
    fired = []
    for action, evidence in steps:
        if clock is not None:
            clock.advance(minutes=minutes)
        fired.append(store.fire(case_id, action, json.loads(json.dumps(evidence)), actor=ACTOR))
    return fired


def table_rows(store: resolveflow.store.Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every store table, sorted: to prove that a call changed nothing."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        for table in resolveflow.store.metadata.sorted_tables:
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = sorted(tuple(json.dumps(v, default=str) for v in row) for row in rows)
    return out


@contextlib.contextmanager
def restarted(
    store: resolveflow.store.Store, clock: FakeClock, **options: Any
) -> Iterator[resolveflow.store.Store]:
    """The same database through a store that has kept no case in memory (a restart, another process).

    A store moves a case on from the ledger it kept at its last write, reading only the rows
    written since (see store/_heads.py); a row edited before that is found by a full replay:
    ``load``, ``verify``, or a write from a store that has not kept the case.
    """
    other = resolveflow.store.Store(store.engine, clock=clock, owns_engine=False, **options)
    try:
        yield other
    finally:
        other.close()
