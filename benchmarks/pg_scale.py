"""PostgreSQL at scale: many cases, many writers, one hot case. ``python -m benchmarks.pg_scale``.

Issue 14 asks to show the store on PostgreSQL, the engine several app servers
share, at a CRM's scale. Against a server the benchmark starts itself (as
``benchmarks/bench_store.py`` does; ``RESOLVEFLOW_BENCH_PG_URL`` for your
own, empty database), with cases of the self-loop methodology of
``benchmarks/history_length.py``:

- ``size``: ``cases`` cases of ``entries`` entries each, stored with
  ``import_cases`` (100,000 x 10 = 1,000,000 entries with ``--full``; 2,000 x
  10 by default); the database's size per entry (table and indexes);
- ``fire``: p50 and p99 of ``store.fire`` on random cases, one writer, after a
  first write of each (which replays it) and on cases never written in this
  process (each a full replay of its 10 entries);
- ``load``: p50 and p99 of ``store.load`` of a random case;
- ``queries``: the time of ``cases_by_outcome``, ``cases_at`` and ``overdue``
  with their plans (each must use its index);
- ``processes``: fires per second with 1, 2 and 4 writer processes, each on
  its own cases, for a few seconds each: scaling until the database (or this
  machine's cores) is the limit;
- ``hot_case``: 16 threads firing at one case with ``fire_with_retry``: fires
  per second, conflicts reported after the retries, and no other error.

Nothing asserts a time: the figures are for reading (docs/performance.md).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import multiprocessing
import random
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import attrs
import sqlalchemy as sa

import resolveflow
import resolveflow.store
from benchmarks.bench_store import _postgres
from benchmarks.history_length import ACTOR, CONTACT_JSON, LOOP, _grown
from resolveflow.store import Store

HOT_THREADS: Final = 16


@attrs.frozen(kw_only=True)
class ScaleConfig:
    cases: int = 2_000
    entries: int = 10
    fires: int = 300
    loads: int = 200
    seconds: float = 3.0
    processes: tuple[int, ...] = (1, 2, 4)

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


QUICK: Final = ScaleConfig()
FULL: Final = ScaleConfig(cases=100_000, fires=2_000, loads=1_000, seconds=10.0)
TINY: Final = ScaleConfig(cases=40, entries=3, fires=20, loads=10, seconds=0.5, processes=(1, 2))


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3), "p99_ms": round(p99 * 1000, 3)}


def _timed(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def _case_ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{n:07d}" for n in range(count)]


def _load(store: Store, config: ScaleConfig) -> dict[str, Any]:
    began = time.perf_counter()
    chunk: list[resolveflow.Case] = []
    for case_id in _case_ids("C", config.cases):
        chunk.append(_grown(case_id, config.entries))  # built through the guards, then imported (replayed)
        if len(chunk) == 500:
            store.import_cases(chunk, batch_size=500)
            chunk = []
    if chunk:
        store.import_cases(chunk, batch_size=500)
    seconds = time.perf_counter() - began
    with store.engine.connect() as conn:
        size = conn.execute(
            sa.text(
                "SELECT pg_total_relation_size('resolveflow_entries')"
                " + pg_total_relation_size('resolveflow_cases')"
            )
        ).scalar_one()
    total = config.cases * config.entries
    return {
        "cases": config.cases,
        "entries": total,
        "build_and_import_s": round(seconds, 1),
        "entries_per_s": round(total / seconds),
        "bytes_per_entry": round(size / total),
    }


def _fires(store: Store, config: ScaleConfig, rng: random.Random) -> dict[str, Any]:
    ids = _case_ids("C", config.cases)
    cold = [
        _timed(lambda c=c: store.fire(c, "log_contact", CONTACT_JSON, actor=ACTOR))
        for c in rng.sample(ids, min(config.fires, len(ids)))
    ]
    warm_ids = rng.sample(ids, min(50, len(ids)))
    for case_id in warm_ids:  # kept from here on
        store.fire(case_id, "log_contact", CONTACT_JSON, actor=ACTOR)
    warm_picks = [rng.choice(warm_ids) for _ in range(config.fires)]
    warm = [
        _timed(lambda c=case_id: store.fire(c, "log_contact", CONTACT_JSON, actor=ACTOR))
        for case_id in warm_picks
    ]
    load_picks = [rng.choice(ids) for _ in range(config.loads)]
    loads = [_timed(lambda c=case_id: store.load(c)) for case_id in load_picks]
    return {"fire_first_write": _ms(cold), "fire_kept": _ms(warm), "load": _ms(loads)}


def _queries(store: Store) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    out: dict[str, Any] = {}
    for name, call in (
        ("cases_at(working, limit=100)", lambda: store.cases_at("working", limit=100)),
        ("cases_by_outcome(resolved, limit=100)", lambda: store.cases_by_outcome("resolved", limit=100)),
        ("overdue(now)", lambda: store.overdue(now)),
    ):
        call()
        out[name] = {"ms": round(statistics.median(_timed(call) for _ in range(5)) * 1000, 3)}
    with store.engine.connect() as conn:
        plan = (
            conn.execute(
                sa.text(
                    "EXPLAIN SELECT case_id FROM resolveflow_cases"
                    " WHERE tenant = '' AND step = 'working' ORDER BY case_id LIMIT 100"
                )
            )
            .scalars()
            .all()
        )
    out["cases_at_plan"] = " / ".join(str(line).strip() for line in plan)
    return out


def _worker(url: str, case_ids: list[str], seconds: float) -> dict[str, Any]:
    """One writer process: fire round-robin on its own cases until the time is up."""
    store = resolveflow.store.connect(url, methodologies=[LOOP])
    fired, errors = 0, {}
    deadline = time.perf_counter() + seconds
    try:
        while time.perf_counter() < deadline:
            case_id = case_ids[fired % len(case_ids)]
            try:
                store.fire(case_id, "log_contact", CONTACT_JSON, actor=ACTOR)
                fired += 1
            except resolveflow.ResolveflowError as error:
                errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
    finally:
        store.close()
    return {"fired": fired, "errors": errors}


def _processes(url: str, config: ScaleConfig) -> dict[str, Any]:
    ids = _case_ids("C", config.cases)
    out: dict[str, Any] = {}
    context = multiprocessing.get_context("spawn")
    for count in config.processes:
        per = max(1, min(200, len(ids) // count))
        shares = [ids[n * per : (n + 1) * per] for n in range(count)]
        with concurrent.futures.ProcessPoolExecutor(count, mp_context=context) as pool:
            # Warm-up: each writer's first write of a case replays it; then the timed run.
            list(pool.map(_worker, [url] * count, shares, [min(1.0, config.seconds)] * count))
            results = list(pool.map(_worker, [url] * count, shares, [config.seconds] * count))
        fired = sum(r["fired"] for r in results)
        errors: dict[str, int] = {}
        for r in results:
            for name, n in r["errors"].items():
                errors[name] = errors.get(name, 0) + n
        out[str(count)] = {"fires_per_s": round(fired / config.seconds), "errors": errors}
    return out


def _hot_case(store: Store, config: ScaleConfig) -> dict[str, Any]:
    store.open_case(LOOP, case_id="HOT")
    store.fire("HOT", "open_file", {"summary": "A hot case."}, actor=ACTOR)
    fired = [0] * HOT_THREADS
    conflicts = [0] * HOT_THREADS
    other: list[str] = []
    deadline = time.perf_counter() + config.seconds

    def writer(number: int) -> None:
        while time.perf_counter() < deadline:
            try:
                store.fire_with_retry("HOT", "log_contact", CONTACT_JSON, actor=f"agent-{number}", attempts=5)
                fired[number] += 1
            except resolveflow.ConcurrencyConflict:
                conflicts[number] += 1
            except Exception as error:  # counted: the figure is that there are none
                other.append(type(error).__name__)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(HOT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "threads": HOT_THREADS,
        "fired": sum(fired),
        "fires_per_s": round(sum(fired) / config.seconds),
        "conflicts_after_retries": sum(conflicts),
        "other_errors": sorted(set(other)),
        "entries": store.summary("HOT").last_seq,
    }


def run(config: ScaleConfig = QUICK, seed: int = 20261203) -> dict[str, Any]:
    """Every figure; ``{"skipped": reason}`` without a PostgreSQL server."""
    url, stop, skip = _postgres()
    if url is None:
        return {"skipped": skip, "config": config.to_json()}
    rng = random.Random(seed)
    try:
        with resolveflow.store.connect(url, methodologies=[LOOP]) as store:
            store.create_schema()
            result: dict[str, Any] = {"config": config.to_json(), "size": _load(store, config)}
            result.update(_fires(store, config, rng))
            result["queries"] = _queries(store)
            result["processes"] = _processes(url, config)
            result["hot_case"] = _hot_case(store, config)
        return result
    finally:
        stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--full", action="store_true", help="100,000 cases of 10 entries (1,000,000 entries)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(FULL if args.full else QUICK)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
