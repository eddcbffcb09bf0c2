"""Store benchmark: SQLite and PostgreSQL at the scale of a CRM.

Loads ``cases`` seven-as cases of 8 entries each (100,000 in the full run)
into SQLite and into PostgreSQL, and reports:

- ``build``: cases built in memory through ``Case.fire`` (the guards' cost);
- ``bulk_append``: ``Store.import_cases`` throughput, entries per second;
- ``fire_append``: ``Store.fire`` throughput, one writer (each fire reloads,
  replays and verifies the case, then appends one entry in one transaction);
- ``load_replay``: ``Store.load`` throughput (read + full replay + hash check);
- ``concurrent_fire``: ``Store.fire`` throughput with 8 writer threads on
  distinct cases (threads share the GIL: replay is CPU-bound Python);
- ``overdue``: the overdue query's plan (it must use
  ``ix_resolveflow_deadlines_due``) and its time, with about 1% of the cases
  overdue.

Every case keeps one plan item open, so the deadlines table has one row per
case. PostgreSQL is the server of ``RESOLVEFLOW_BENCH_PG_URL`` if set (use an
empty database), otherwise a throwaway one started with tests/pg_server.py
with its default durability (fsync on), as SQLite keeps its own
(``synchronous=FULL``): every accepted entry is on disk before ``fire``
returns, so single-writer figures are bound by the disk's flush time.
Nothing here asserts a time: the figures are for reading.

Run alone: ``python -m benchmarks.bench_store [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import resolveflow
import resolveflow.store
from resolveflow.store import Store

ENTRIES_PER_CASE = 8
WORKERS = 8
BASE = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
# Dues spread over a year, so "overdue now" can be made selective.
DUE_SPREAD = dt.timedelta(days=365)
OVERDUE_FRACTION = 0.01


def _sizes(quick: bool) -> dict[str, int]:
    if quick:
        return {"cases": 2_000, "chunk": 1_000, "fire_cases": 60, "loads": 300, "concurrent_cases": 8 * 8}
    return {"cases": 100_000, "chunk": 5_000, "fire_cases": 500, "loads": 3_000, "concurrent_cases": 8 * 60}


def _steps(index: int, total: int) -> list[tuple[str, Any]]:
    due = BASE + dt.timedelta(days=1) + DUE_SPREAD * (index / max(total, 1))
    items = [
        {
            "id": f"item-{k}",
            "description": f"Promised task {k}",
            "due": (due + dt.timedelta(hours=k)).isoformat(),
        }
        for k in range(4)
    ]
    return [
        ("acknowledge_feelings", {"feelings": "Frustrated by the delay."}),
        ("hear_grievances", {"points": ["late delivery", "no updates"], "customer_finished": True}),
        ("give_apology", {"statement": "We are sorry for the trouble."}),
        ("give_assurance", {"commitment": "We will put it right."}),
        ("agree_plan", {"items": items, "agreed_with": "the customer"}),
        ("complete_item", {"item_id": "item-0"}),
        ("complete_item", {"item_id": "item-1"}),
        ("complete_item", {"item_id": "item-2"}),
    ]


def _at(index: int, step: int) -> dt.datetime:
    # Cases open a second apart; steps follow every five minutes.
    return BASE + dt.timedelta(seconds=index, minutes=5 * step)


def _build(
    methodology: resolveflow.Methodology, prefix: str, start: int, count: int, total: int
) -> list[Any]:
    built = []
    for index in range(start, start + count):
        case = resolveflow.open_case(methodology, case_id=f"{prefix}-{index:07d}")
        for step, (action, evidence) in enumerate(_steps(index, total), start=1):
            case.fire(action, evidence, actor=f"agent-{index % 50}", at=_at(index, step))
        built.append((case, _at(index, 0)))
    return built


def _rate(count: float, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


def _fire_case(store: Store, case_id: str, index: int, total: int) -> int:
    store.open_case("seven-as", case_id=case_id, at=_at(index, 0))
    for step, (action, evidence) in enumerate(_steps(index, total), start=1):
        store.fire(case_id, action, evidence, actor="bench", at=_at(index, step))
    return ENTRIES_PER_CASE


def _analyze(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def bench_backend(store: Store, sizes: dict[str, int], bulk: dict[str, Any]) -> dict[str, Any]:
    """Every figure for one store, after its bulk load (``bulk``: cases, seconds)."""
    out: dict[str, Any] = {"dialect": store.dialect}
    total = sizes["cases"]
    out["bulk_append"] = {
        "cases": bulk["cases"],
        "entries": bulk["cases"] * ENTRIES_PER_CASE,
        "seconds": round(bulk["seconds"], 2),
        "entries_per_s": _rate(bulk["cases"] * ENTRIES_PER_CASE, bulk["seconds"]),
    }
    _analyze(store)

    # Fire append, one writer.
    began = time.perf_counter()
    fired = sum(_fire_case(store, f"F-{n:06d}", n, total) for n in range(sizes["fire_cases"]))
    elapsed = time.perf_counter() - began
    out["fire_append"] = {
        "entries": fired,
        "seconds": round(elapsed, 2),
        "entries_per_s": _rate(fired, elapsed),
    }

    # Load and replay.
    rng = random.Random(7)
    ids = [f"B-{rng.randrange(total):07d}" for _ in range(sizes["loads"])]
    latencies = []
    began = time.perf_counter()
    for case_id in ids:
        started = time.perf_counter()
        store.load(case_id)
        latencies.append(time.perf_counter() - started)
    elapsed = time.perf_counter() - began
    out["load_replay"] = {
        "cases": len(ids),
        "cases_per_s": _rate(len(ids), elapsed),
        "entries_per_s": _rate(len(ids) * ENTRIES_PER_CASE, elapsed),
        "median_ms": round(statistics.median(latencies) * 1000, 3),
    }

    # Concurrent fire: 8 writers, each on its own cases.
    per_worker = sizes["concurrent_cases"] // WORKERS
    barrier = threading.Barrier(WORKERS)
    failures: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            barrier.wait(timeout=60)
            for n in range(per_worker):
                index = number * per_worker + n
                _fire_case(store, f"W-{index:06d}", index, total)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise failures[0]
    entries = WORKERS * per_worker * ENTRIES_PER_CASE
    out["concurrent_fire"] = {
        "workers": WORKERS,
        "entries": entries,
        "seconds": round(elapsed, 2),
        "entries_per_s": _rate(entries, elapsed),
    }

    # The overdue query, about 1% overdue.
    _analyze(store)
    now = BASE + dt.timedelta(days=1) + DUE_SPREAD * OVERDUE_FRACTION
    plan = store._explain_overdue(now)
    began = time.perf_counter()
    found = store.overdue(now)
    elapsed = time.perf_counter() - began
    out["overdue"] = {
        "now": now.isoformat(),
        "rows": len(found),
        "ms": round(elapsed * 1000, 2),
        "uses_index": "ix_resolveflow_deadlines_due" in plan,
        "plan": plan,
    }
    return out


def _chunks(
    methodology: resolveflow.Methodology, sizes: dict[str, int], timing: dict[str, float]
) -> Iterator[list[Any]]:
    total = sizes["cases"]
    for start in range(0, total, sizes["chunk"]):
        began = time.perf_counter()
        chunk = _build(methodology, "B", start, min(sizes["chunk"], total - start), total)
        timing["seconds"] += time.perf_counter() - began
        yield chunk


def _postgres() -> tuple[str | None, Callable[[], None], str | None]:
    url = os.environ.get("RESOLVEFLOW_BENCH_PG_URL")
    if url:
        return url, lambda: None, None
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.pg_server import PostgresUnavailable, TempPostgres, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        return None, lambda: None, "no PostgreSQL server binaries (set RESOLVEFLOW_PG_BIN)"
    server = TempPostgres(bin_dir, durable=True)
    try:
        server.start()
    except PostgresUnavailable as error:
        server.stop()
        return None, lambda: None, str(error)
    return server.create_database("bench"), server.stop, None


def on_both_databases(
    name: str, bench: Callable[[Store], dict[str, Any]], **options: Any
) -> dict[str, dict[str, Any]]:
    """``bench`` on a fresh SQLite file, then on PostgreSQL (``{"skipped": reason}`` without a server)."""
    result: dict[str, dict[str, Any]] = {}
    with (
        tempfile.TemporaryDirectory(prefix=f"resolveflow-{name}-") as tmp,
        resolveflow.store.connect(Path(tmp) / f"{name}.db", **options) as store,
    ):
        result["sqlite"] = bench(store)
    pg_url, stop_pg, pg_skip = _postgres()
    try:
        if pg_url is None:
            result["postgresql"] = {"skipped": pg_skip}
        else:
            with resolveflow.store.connect(pg_url, **options) as store:
                result["postgresql"] = bench(store)
    finally:
        stop_pg()
    return result


def run(quick: bool) -> dict[str, Any]:
    """Run the store benchmark; ``quick`` loads 2,000 cases instead of 100,000.

    Returns:
        JSON-compatible figures: ``{"sizes": ..., "build": ..., "sqlite": ..., "postgresql": ...}``
        (``postgresql`` is ``{"skipped": reason}`` without a server).
    """
    sizes = _sizes(quick)
    methodology = resolveflow.get_methodology("seven-as")
    result: dict[str, Any] = {"sizes": sizes, "entries_per_case": ENTRIES_PER_CASE}
    pg_url, stop_pg, pg_skip = _postgres()
    try:
        with tempfile.TemporaryDirectory(prefix="resolveflow-bench-") as tmp:
            stores = {"sqlite": resolveflow.store.connect(Path(tmp) / "bench.db")}
            if pg_url is not None:
                stores["postgresql"] = resolveflow.store.connect(pg_url)
            try:
                bulk = {name: {"cases": 0, "seconds": 0.0} for name in stores}
                for store in stores.values():
                    store.create_schema()
                # Each chunk is built once (timed apart) and imported into every database.
                timing = {"seconds": 0.0}
                for chunk in _chunks(methodology, sizes, timing):
                    for name, store in stores.items():
                        began = time.perf_counter()
                        bulk[name]["cases"] += store.import_cases(chunk, batch_size=1000)
                        bulk[name]["seconds"] += time.perf_counter() - began
                result["build"] = {
                    "cases": sizes["cases"],
                    "seconds": round(timing["seconds"], 2),
                    "entries_per_s": _rate(sizes["cases"] * ENTRIES_PER_CASE, timing["seconds"]),
                }
                for name, store in stores.items():
                    result[name] = bench_backend(store, sizes, bulk[name])
            finally:
                for store in stores.values():
                    store.close()
            if pg_url is None:
                result["postgresql"] = {"skipped": pg_skip}
    finally:
        stop_pg()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="2,000 cases instead of 100,000")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args.quick)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
