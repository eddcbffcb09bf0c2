"""Store writes by history length: ``Store.fire`` at 10 entries against 10,000.

Run alone: ``python -m benchmarks.store_heads [--rounds N] [--json PATH]``.

Issue 14 asks that ``store.fire`` at 10,000 entries cost at most 1.5x
``store.fire`` at 10, on SQLite and on PostgreSQL, and that a plain
``store.load`` of a 1,000-entry case cost at most 5x reading its rows.

The workload is the self-loop methodology of ``benchmarks/history_length.py``
(:data:`~benchmarks.history_length.LOOP`): cases of each length are built in
memory and stored with ``import_cases``, written once untimed (the store's
first write of a case replays it in full: that time is reported as
``first_write``), then timed fires take turns between the lengths, one
``log_contact`` each, every one its own committed transaction. Beside them,
the floor: a plain SQLAlchemy Core insert of a row of the same shape into a
scratch table, one transaction each, in the same run. For loads: the median
``store.load`` of a 1,000-entry case against a plain ``SELECT`` of its rows,
by the store that wrote it (which kept the case: the load compares every row
as stored with the rows it compared before, see ``store/_kept.py``), and, for
reading beside it, by a store that keeps nothing (``cached_entries=0``: every
load replays the case in full, as the first load in a new process does).

PostgreSQL is the server of ``RESOLVEFLOW_BENCH_PG_URL`` if set, otherwise a
throwaway one started with tests/pg_server.py (as ``benchmarks/bench_store.py``
does), skipped with a reason when neither is there. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa

from benchmarks.bench_store import on_both_databases
from benchmarks.history_length import ACTOR, CONTACT_JSON, LOOP, _grown
from resolveflow.store import Store

FIRE_TARGET: Final = 1.5  # fire at the longest / fire at the shortest
LOAD_TARGET: Final = 5.0  # load / reading the rows
LENGTHS: Final = (10, 10_000)
LOAD_LENGTH: Final = 1_000

_FLOOR = sa.Table(
    "bench_floor_entries",
    sa.MetaData(),
    sa.Column("case_id", sa.String(200), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("action", sa.String(100)),
    sa.Column("actor", sa.String(200)),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("evidence", sa.Text),
    sa.Column("hash", sa.String(64)),
)


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def _timed(call: Any) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def bench_backend(store: Store, rounds: int) -> dict[str, Any]:
    """Fire by length, the floor, and load against reading rows, on one database."""
    store.create_schema()
    _FLOOR.metadata.create_all(store.engine)
    ids = {length: f"L-{length}" for length in LENGTHS}
    store.import_cases([_grown(case_id, length) for length, case_id in ids.items()])
    store.import_cases([_grown("LOAD-1", LOAD_LENGTH)])
    first = {
        str(length): round(
            _timed(lambda c=case_id: store.fire(c, "log_contact", CONTACT_JSON, actor=ACTOR)) * 1000, 3
        )
        for length, case_id in ids.items()
    }
    fires: dict[int, list[float]] = {length: [] for length in LENGTHS}
    floor: list[float] = []
    for seq in range(1, rounds + 1):
        for length, case_id in ids.items():  # the lengths take turns, so both see the same load
            fires[length].append(
                _timed(lambda c=case_id: store.fire(c, "log_contact", CONTACT_JSON, actor=ACTOR))
            )
        row = {
            "case_id": "F-1",
            "seq": seq,
            "action": "log_contact",
            "actor": ACTOR,
            "at": dt.datetime.now(dt.UTC),
            "evidence": json.dumps(CONTACT_JSON),
            "hash": "0" * 64,
        }

        def insert(values: dict[str, Any] = row) -> None:
            with store.engine.begin() as conn:
                conn.execute(sa.insert(_FLOOR), values)

        floor.append(_timed(insert))
    by_length = {str(length): _median_ms(samples) for length, samples in fires.items()}
    ratio = statistics.median(fires[LENGTHS[-1]]) / statistics.median(fires[LENGTHS[0]])

    def read_rows() -> None:
        with store.engine.connect() as conn:
            conn.execute(
                sa.text("SELECT * FROM resolveflow_entries WHERE tenant = '' AND case_id = :c ORDER BY seq"),
                {"c": "LOAD-1"},
            ).all()

    load_rounds = max(5, rounds // 10)
    cold_store = Store(store.engine, owns_engine=False, cached_entries=0, methodologies=[LOOP])
    loads: list[float] = []
    cold: list[float] = []
    reads: list[float] = []
    for _ in range(load_rounds):  # the three take turns, so they see the same load
        loads.append(_timed(lambda: store.load("LOAD-1")))
        cold.append(_timed(lambda: cold_store.load("LOAD-1")))
        reads.append(_timed(read_rows))
    load_ratio = statistics.median(loads) / statistics.median(reads)
    return {
        "fire_ms": by_length,
        "first_write_ms": first,
        "floor_insert_ms": _median_ms(floor),
        "fire_ratio": round(ratio, 2),
        "fire_target": FIRE_TARGET,
        "fire_met": ratio <= FIRE_TARGET,
        "fire_over_floor": round(statistics.median(fires[LENGTHS[0]]) / statistics.median(floor), 2),
        "load_ms": _median_ms(loads),
        "read_rows_ms": _median_ms(reads),
        "load_ratio": round(load_ratio, 2),
        "cold_load_ms": _median_ms(cold),
        "cold_load_ratio": round(statistics.median(cold) / statistics.median(reads), 2),
        "load_target": LOAD_TARGET,
        "load_met": load_ratio <= LOAD_TARGET,
    }


def run(rounds: int = 200) -> dict[str, Any]:
    """Both databases; ``postgresql`` is ``{"skipped": reason}`` without a server."""
    result: dict[str, Any] = {"lengths": list(LENGTHS), "rounds": rounds, "load_length": LOAD_LENGTH}
    result |= on_both_databases("heads", lambda store: bench_backend(store, rounds), methodologies=[LOOP])
    return result


def verdict_lines(result: dict[str, Any]) -> list[str]:
    lines = []
    for name in ("sqlite", "postgresql"):
        figures = result[name]
        if "skipped" in figures:
            lines.append(f"{name}: skipped ({figures['skipped']})")
            continue
        short, long = (figures["fire_ms"][str(n)] for n in LENGTHS)
        fire_verdict = "met" if figures["fire_met"] else "NOT met"
        load_verdict = "met" if figures["load_met"] else "NOT met"
        lines.append(
            f"{name}: fire {short} ms at {LENGTHS[0]} entries, {long} ms at {LENGTHS[-1]:,}: "
            f"{figures['fire_ratio']}x (target <= {FIRE_TARGET}x: {fire_verdict}); "
            f"floor insert {figures['floor_insert_ms']} ms; load of {LOAD_LENGTH:,} entries "
            f"{figures['load_ms']} ms = {figures['load_ratio']}x reading its rows "
            f"(target <= {LOAD_TARGET}x: {load_verdict}); a store keeping nothing loads it in "
            f"{figures['cold_load_ms']} ms = {figures['cold_load_ratio']}x"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="timed fires per length (default 200)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = run(args.rounds)
    print("\n".join(verdict_lines(result)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
