"""What resolveflow.tracing costs per fire. ``python -m benchmarks.tracing_overhead``.

Needs the ``otel`` extra. Four modes take turns sample by sample:

- ``off``: never instrumented (the functions as shipped);
- ``uninstrumented``: after ``instrument()`` then ``uninstrument()``, which put
  the original functions back: it should match ``off``;
- ``noop``: instrumented with OpenTelemetry's no-op providers (the API without
  an SDK configured): the cost of the wrappers and the attributes they build;
- ``sdk``: instrumented with the SDK, every span sampled and handed to a
  simple processor with an exporter that drops it, and the metrics aggregated
  by a reader: close to the cost in production, minus the export itself.

Two workloads: the seven-as walk of 10 fires on an in-memory case (per fire),
and ``Store.fire`` on a SQLite file (per fire; each is one transaction, so
the wrappers are a small part of it). Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import resolveflow
import resolveflow.store
import resolveflow.tracing
from benchmarks.seven_as import ACTOR, AT, METHODOLOGY, WALK

MODES: Final = ("off", "uninstrumented", "noop", "sdk")


class _Dropped(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:  # noqa: ARG002
        return SpanExportResult.SUCCESS


@contextmanager
def mode(name: str) -> Iterator[None]:
    """Instrumented as the mode says, for the block."""
    if name == "uninstrumented":
        resolveflow.tracing.instrument(
            tracer_provider=trace.NoOpTracerProvider(), meter_provider=metrics.NoOpMeterProvider()
        )
        resolveflow.tracing.uninstrument()
    elif name == "noop":
        resolveflow.tracing.instrument(
            tracer_provider=trace.NoOpTracerProvider(), meter_provider=metrics.NoOpMeterProvider()
        )
    elif name == "sdk":
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(_Dropped()))
        meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
        resolveflow.tracing.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        yield
    finally:
        resolveflow.tracing.uninstrument()


def walk_sample(ids: Iterator[int]) -> float:
    """Seconds per fire of the seven-as walk on a new in-memory case."""
    case = resolveflow.open_case(METHODOLOGY, case_id=f"walk-{next(ids)}")
    began = time.perf_counter()
    for action, evidence in WALK:
        case.fire(action, evidence, actor=ACTOR, at=AT)
    return (time.perf_counter() - began) / len(WALK)


def store_sample(store: resolveflow.store.Store, ids: Iterator[int], fires: int = 5) -> float:
    """Seconds per Store.fire of the first ``fires`` steps of the walk on a new stored case."""
    case_id = f"stored-{next(ids)}"
    store.open_case(METHODOLOGY, case_id=case_id)
    began = time.perf_counter()
    for action, evidence in WALK[:fires]:
        store.fire(case_id, action, evidence, actor=ACTOR, at=AT)
    return (time.perf_counter() - began) / fires


def measure(samples: int, store: resolveflow.store.Store) -> dict[str, dict[str, float]]:
    """Median microseconds per fire of each workload in each mode, the modes taking turns."""
    ids = itertools.count()
    times: dict[str, dict[str, list[float]]] = {m: {"case_fire": [], "store_fire": []} for m in MODES}
    workloads: dict[str, Callable[[], float]] = {
        "case_fire": lambda: walk_sample(ids),
        "store_fire": lambda: store_sample(store, ids),
    }
    for _ in range(samples):
        for name in MODES:
            with mode(name):
                for workload, sample in workloads.items():
                    times[name][workload].append(sample())
    return {
        name: {w: round(statistics.median(t) * 1e6, 2) for w, t in by_workload.items()}
        for name, by_workload in times.items()
    }


def run(samples: int = 30) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        store = resolveflow.store.connect(str(Path(tmp) / "bench.db"))
        store.create_schema()
        try:
            for name in MODES:  # warm-up: imports, caches, the SQLite file
                with mode(name):
                    walk_sample(itertools.count(10_000_000))
            results = measure(samples, store)
        finally:
            store.close()
    off = results["off"]
    overhead = {
        name: {w: round(results[name][w] - off[w], 2) for w in off} for name in MODES if name != "off"
    }
    return {"samples": samples, "median_us_per_fire": results, "overhead_us_per_fire": overhead}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30, help="samples per mode (default 30)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args.samples)
    print(f"{'mode':<16}{'case.fire µs':>14}{'store.fire µs':>15}")
    for name, row in figures["median_us_per_fire"].items():
        print(f"{name:<16}{row['case_fire']:>14.2f}{row['store_fire']:>15.2f}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
