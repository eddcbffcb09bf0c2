"""Timing and memory primitives shared by the benchmarks.

Every timed sample measures itself with ``time.perf_counter_ns`` around the
code under test only (set-up and clean-up stay outside the clock), and the
suite reports the median of many samples after a warm-up. The thread's CPU
time (``time.thread_time_ns``) is recorded beside it: on a shared, busy
machine the wall clock also counts the time other processes held the CPU,
which the CPU figure leaves out (on a virtual machine, contention for the
host's cores still slows the code itself, so neither figure is immune; the
run records the load average so that a noisy run can be recognised). Nothing here asserts
a time limit: wall-clock figures vary between machines and runs, and the
numbers are for reading, not for failing a build.

Memory is measured with ``tracemalloc`` snapshots taken around the creation of
N live objects whose definitions (methodology, Machine, StateMachine class)
were built before the first snapshot, so only what each case adds is counted.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any, Final

import attrs

NS_PER_US: Final = 1_000.0

Lap = tuple[int, int]
"""Elapsed (wall, cpu) nanoseconds of one sample."""

Sample = Callable[[], Lap]
"""One sample: runs the code under test once and returns its :data:`Lap`."""


@attrs.frozen(kw_only=True)
class Timing:
    """Per-operation figures of one benchmark for one contender, in microseconds."""

    median_us: float  # wall clock (perf_counter_ns): the figure the tables show
    p25_us: float
    p75_us: float
    min_us: float
    cpu_median_us: float  # this thread's CPU time: leaves out time other processes held the CPU
    rounds: int
    ops_per_round: int

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class Memory:
    """Bytes per live object, from a tracemalloc snapshot diff."""

    bytes_per_case: float
    cases: int
    total_bytes: int
    by_file: tuple[tuple[str, int], ...]  # the largest contributors, bytes in total

    def to_json(self) -> dict[str, Any]:
        return {
            "bytes_per_case": self.bytes_per_case,
            "cases": self.cases,
            "total_bytes": self.total_bytes,
            "by_file": [{"file": name, "bytes": size} for name, size in self.by_file],
        }


def start() -> Lap:
    """Start a lap: read the thread's CPU clock, then the wall clock."""
    cpu = time.thread_time_ns()
    return time.perf_counter_ns(), cpu


def stop(began: Lap) -> Lap:
    """End a lap started with :func:`start`: (wall, cpu) nanoseconds since then.

    The wall clock is read first, so the slower CPU-clock read is not in the wall figure.
    """
    wall = time.perf_counter_ns()
    cpu = time.thread_time_ns()
    return wall - began[0], cpu - began[1]


def measure(sample: Sample, *, ops: int, rounds: int, warmup: int) -> Timing:
    """Run ``warmup`` untimed samples, then ``rounds`` timed ones; per-op medians.

    Args:
        sample: runs the operation(s) once, timing only the code under test.
        ops: how many operations one sample performs (events, checks, opens).
        rounds: how many samples to keep.
        warmup: samples run first and thrown away (caches, lazily built tables).
    """
    if ops <= 0 or rounds <= 0:
        raise ValueError("ops and rounds must be positive")
    for _ in range(warmup):
        sample()
    gc.collect()
    return summarize([sample() for _ in range(rounds)], ops=ops)


def summarize(laps: list[Lap], *, ops: int) -> Timing:
    """Per-op figures of timed samples, each of ``ops`` operations (see :func:`measure`)."""
    if ops <= 0 or not laps:
        raise ValueError("ops and the number of laps must be positive")
    rounds = len(laps)
    per_op = sorted(wall / ops / NS_PER_US for wall, _ in laps)
    cpu = [used / ops / NS_PER_US for _, used in laps]
    quartiles = statistics.quantiles(per_op, n=4) if len(per_op) > 1 else [per_op[0]] * 3
    return Timing(
        median_us=statistics.median(per_op),
        p25_us=quartiles[0],
        p75_us=quartiles[2],
        min_us=per_op[0],
        cpu_median_us=statistics.median(cpu),
        rounds=rounds,
        ops_per_round=ops,
    )


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/src/", "/benchmarks/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename.rsplit("/", 1)[-1] if "/" in filename else filename


def measure_memory(create: Callable[[int], list[Any]], n: int, *, top: int = 8) -> tuple[Memory, list[Any]]:
    """Bytes per live object: tracemalloc snapshots before and after ``create(n)``.

    ``create`` must build n live objects and return them in a list; the list
    (8 bytes per element) is counted, everything built before the call is not.
    The objects are returned so that the caller can keep them alive for a
    follow-up measurement (e.g. opening cases among n open ones).

    Garbage collection is paused while the objects are made (with millions of
    live objects its passes only slow a large run down) and run once before
    the second snapshot, so that cyclic garbage is not counted as live.
    """
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    tracemalloc.start(1)
    try:
        before = tracemalloc.take_snapshot()
        objects = create(n)
        gc.collect()  # cyclic garbage made while creating is not part of a live case
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    stats = after.compare_to(before, "filename")
    total = sum(stat.size_diff for stat in stats)
    by_file: dict[str, int] = {}
    for stat in stats:
        name = _short(stat.traceback[0].filename)
        by_file[name] = by_file.get(name, 0) + stat.size_diff
    largest = sorted(by_file.items(), key=lambda item: -item[1])[:top]
    return (
        Memory(bytes_per_case=total / n, cases=n, total_bytes=total, by_file=tuple(largest)),
        objects,
    )


def counter(prefix: str) -> Iterator[str]:
    """Fresh, distinct ids: ``prefix-0``, ``prefix-1`` ..."""
    number = 0
    while True:
        yield f"{prefix}-{number}"
        number += 1
