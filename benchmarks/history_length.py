"""Fire per event as a function of history length, and bytes per live case.

A case keeps its history in a ``Ledger`` that owns the guards' index and
extends it in place, so ``case.fire`` should cost the same at entry 1,000 as
at entry 10, whether one case is worked at a time or many are interleaved
(before the ledger, the index sat in a 16-entry per-thread cache: with more
than 16 interleaved cases every fire rebuilt it, and the cost grew with the
history).

The workload is a small methodology with a self-loop (:data:`LOOP`):
``open_file`` (``intake -> working``, a ``CustomerAccount``), then
``log_contact`` again and again (``working -> working``, an ``Engagement``),
guarded by ``AfterStep("intake")``, ``Requires(CustomerAccount)`` and
``Requires(CustomerAccount, at_step="intake")``: three guards that read the
index on every fire, whose answer does not depend on how long the history is.
``close`` (``Requires(Engagement)``) ends a case at ``resolved``.

**fire by length.** For each history length L and each variant (1 case, and
``interleaved`` cases fired round-robin), a sample times ``window`` rounds
of fires (one per case per round) on cases grown near L: fresh cases are
built untimed, warmed by ``window`` untimed rounds, then give as many
samples as keep every timed fire within 5% of L (at least one: at L = 10 the
fires make entries 9 to 12, at 100 entries 97 to 104, at 1,000 entries 951
to 1,050); see :class:`FireSample`. The lengths take turns sample by
sample. The figure is µs per event, the median over the samples; the
verdict compares the longest history with the shortest for each variant
against the issue's 1.5x.

**bytes per live case.** ``tracemalloc`` over N cases of a 15-entry history
(``open_file`` and 14 ``log_contact``), divided by N: once with the same
typed evidence records shared by every case (what the case itself adds), once
with evidence posted as JSON (every case holds its own records, as in a CRM).
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
from collections.abc import Callable, Sequence
from typing import Any, Final

import attrs

import resolveflow
from benchmarks.harness import Lap, measure_memory, start, stop, summarize
from resolveflow import Action, Methodology, Outcome, Step
from resolveflow import evidence as ev
from resolveflow.guards import AfterStep, Requires

AT: Final = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ACTOR: Final = "bench-agent"
TARGET: Final = 1.5  # longest / shortest, per variant (the target)

LOOP: Final = Methodology(
    id="bench-loop",
    version="1.0",
    title="Benchmark: a case that grows long",
    source="benchmarks/history_length.py",
    steps=(Step(id="intake", title="Intake"), Step(id="working", title="Working")),
    outcomes=(Outcome(id="resolved", title="Resolved", successful=True),),
    actions=(
        Action(
            name="open_file",
            sources="intake",
            target="working",
            title="Open the file",
            evidence=ev.CustomerAccount,
        ),
        Action(
            name="log_contact",
            sources="working",
            target=None,  # a self-loop: the case stays at working and grows
            title="Log a contact",
            evidence=ev.Engagement,
            guards=(
                AfterStep(step="intake"),
                Requires(record=ev.CustomerAccount),
                Requires(record=ev.CustomerAccount, at_step="intake", name="account_at_intake"),
            ),
        ),
        Action(
            name="close",
            sources="working",
            target="resolved",
            title="Close",
            evidence=ev.SatisfactionConfirmation,
            guards=(Requires(record=ev.Engagement),),
        ),
    ),
    initial="intake",
    required_steps=("intake", "working"),
)
"""The methodology of this scenario; ``log_contact`` is the self-loop whose fires are timed."""

ACCOUNT: Final = ev.CustomerAccount(summary="The sofa arrived with a broken leg.")
CONTACT: Final = ev.Engagement(notes="Customer called again about the delivery date.")
ACCOUNT_JSON: Final = {"summary": ACCOUNT.summary}
CONTACT_JSON: Final = {"notes": CONTACT.notes}

Progress = Callable[[str], None]


@attrs.frozen(kw_only=True)
class HistoryConfig:
    """Sizes of the scenario."""

    lengths: tuple[int, ...] = (10, 100, 1_000)
    interleaved: int = 32  # cases fired round-robin in the interleaved variant
    window: int = 4  # timed fires per case per sample
    slack: float = 0.05  # timed fires stay within this share of the length (or window / 2) of it
    rounds_one: int = 100  # samples of the 1-case variant, per length
    rounds_many: int = 40  # samples of the interleaved variant, per length
    warmup: int = 2
    memory_cases: int = 2_000  # N for bytes per live case
    memory_entries: int = 15  # history length of those cases

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


FULL: Final = HistoryConfig()
QUICK: Final = HistoryConfig(rounds_one=30, rounds_many=10, warmup=1, memory_cases=500)


def _grown(case_id: str, entries: int) -> resolveflow.Case:
    """A case of ``entries`` entries (at least 1): ``open_file``, then ``log_contact``."""
    case = resolveflow.open_case(LOOP, case_id=case_id)
    case.fire("open_file", ACCOUNT, actor=ACTOR, at=AT)
    for _ in range(entries - 1):
        case.fire("log_contact", CONTACT, actor=ACTOR, at=AT)
    return case


def _per_build(length: int, config: HistoryConfig) -> int:
    """Samples taken from one build: as many as keep the timed fires within ``slack`` of ``length``."""
    return max(1, int(2 * config.slack * length) // config.window)


def _first(length: int, config: HistoryConfig) -> int:
    """History length before the first timed fire of a build (the fires straddle ``length``)."""
    span = _per_build(length, config) * config.window
    return max(config.window + 1, length - span // 2)


class FireSample:
    """Samples of ``window`` timed rounds of fires on ``cases`` cases near ``length`` entries.

    A build makes fresh cases (untimed) to ``window`` entries short of
    :func:`_first`, and fires ``window`` untimed rounds, so that the timed fires
    do not pay for the build (caches, allocator); then the next
    :func:`_per_build` samples time ``window`` rounds each, the history
    growing from one to the next but staying within ``slack`` of the length.
    Taking several samples from one build matters on a shared machine: a
    build of 32 cases of 1,000 entries is half a second of CPU, and the
    scheduler tends to take the CPU away from a process right after such a
    burst, which would land in the first timed window. No gc.collect(): the
    garbage collector runs as it would in a service, and a collection that
    falls inside a window is counted.
    """

    def __init__(self, length: int, cases: int, config: HistoryConfig) -> None:
        self.length, self.cases, self.window = length, cases, config.window
        self.per_build = _per_build(length, config)
        self.first = _first(length, config)
        self.ids = itertools.count()
        self.live: list[resolveflow.Case] = []
        self.left = 0  # samples left in the current build

    @property
    def entries_timed(self) -> list[int]:
        """The first and last history length a timed fire makes."""
        return [self.first + 1, self.first + self.per_build * self.window]

    def _build(self) -> None:
        self.live = []  # the previous build is freed first
        prefix = f"h{self.length}-{self.cases}"
        self.live = [
            _grown(f"{prefix}-{next(self.ids)}", self.first - self.window) for _ in range(self.cases)
        ]
        for _ in range(self.window):
            for case in self.live:
                case.fire("log_contact", CONTACT, actor=ACTOR, at=AT)
        self.left = self.per_build

    def __call__(self) -> Lap:
        if not self.left:
            self._build()
        live = self.live
        began = start()
        for _ in range(self.window):
            for case in live:
                case.fire("log_contact", CONTACT, actor=ACTOR, at=AT)
        elapsed = stop(began)
        self.left -= 1
        assert len(live[-1].history) <= self.entries_timed[1]
        return elapsed


def bench_fire_by_length(
    lengths: Sequence[int], cases: int, config: HistoryConfig, rounds: int
) -> list[dict[str, Any]]:
    """µs per ``log_contact`` fire near each length, ``cases`` cases round-robin.

    The lengths take turns, sample by sample, so that a burst of load from
    another process slows them alike instead of one length's whole series.
    """
    samples = {n: FireSample(n, cases, config) for n in lengths}
    for _ in range(config.warmup):
        for sample in samples.values():
            sample()
    gc.collect()
    laps: dict[int, list[Lap]] = {n: [] for n in lengths}
    for _ in range(rounds):
        for n, sample in samples.items():
            laps[n].append(sample())
    rows = []
    for n, sample in samples.items():
        timing = summarize(laps[n], ops=cases * config.window)
        rows.append(
            {
                "length": n,
                "entries_timed": sample.entries_timed,
                "samples_per_build": sample.per_build,
                "cases": cases,
                **timing.to_json(),
            }
        )
    return rows


def _variant(rows: list[dict[str, Any]], cases: int) -> dict[str, Any]:
    shortest, longest = rows[0], rows[-1]
    ratio = longest["median_us"] / shortest["median_us"]
    return {
        "cases": cases,
        "by_length": rows,
        "ratio": ratio,
        "cpu_ratio": longest["cpu_median_us"] / shortest["cpu_median_us"],
        # The fastest samples, least touched by other processes: on a shared machine
        # the medians can fall in a slow stretch for one length and not another.
        "min_ratio": longest["min_us"] / shortest["min_us"],
        "met": ratio <= TARGET,
    }


def bench_memory(config: HistoryConfig) -> dict[str, Any]:
    """Bytes per live case of ``memory_entries`` entries: shared typed evidence, then JSON evidence."""
    n, entries = config.memory_cases, config.memory_entries
    _grown("memory-warm", entries)  # lazily built tables (codecs, engine) before the snapshot

    def typed(count: int) -> list[resolveflow.Case]:
        return [_grown(f"mem-{i:07d}", entries) for i in range(count)]

    def posted(count: int) -> list[resolveflow.Case]:
        made = []
        for i in range(count):
            case = resolveflow.open_case(LOOP, case_id=f"json-{i:07d}")
            case.fire("open_file", dict(ACCOUNT_JSON), actor=ACTOR, at=AT)
            for _ in range(entries - 1):
                case.fire("log_contact", dict(CONTACT_JSON), actor=ACTOR, at=AT)
            made.append(case)
        return made

    shared, cases = measure_memory(typed, n)
    cases.clear()
    own, cases = measure_memory(posted, n)
    cases.clear()
    return {
        "entries": entries,
        "shared_evidence": shared.to_json(),
        "json_evidence": own.to_json(),
    }


def run(config: HistoryConfig, progress: Progress = lambda _: None) -> dict[str, Any]:
    """The scenario: fire by length (1 case, then interleaved) and bytes per live case."""
    lengths = tuple(sorted(set(config.lengths)))
    if not lengths or config.interleaved < 2 or config.window < 1:
        raise ValueError("need at least one length, 2 interleaved cases and a window of 1")
    variants: dict[str, Any] = {}
    for key, cases, rounds in (
        ("one", 1, config.rounds_one),
        ("interleaved", config.interleaved, config.rounds_many),
    ):
        shown = ", ".join(f"{n:,}" for n in lengths)
        progress(f"    fire at {shown} entries, {cases} case(s) round-robin, {rounds} samples each ...")
        variants[key] = _variant(bench_fire_by_length(lengths, cases, config, rounds), cases)
        gc.collect()
    progress(
        f"    bytes per live case ({config.memory_cases:,} cases of {config.memory_entries} entries) ..."
    )
    memory = bench_memory(config)
    return {
        "config": config.to_json(),
        "target": TARGET,
        "fire_by_length": variants,
        "met": all(v["met"] for v in variants.values()),
        "memory": memory,
    }


def verdict_lines(history: dict[str, Any]) -> list[str]:
    """The scenario as text: µs/event by length, the ratios and their verdict, bytes per case."""
    lines = []
    for variant in history["fire_by_length"].values():
        cells = ", ".join(f"{row['length']:,}: {row['median_us']:,.1f}" for row in variant["by_length"])
        shortest, longest = variant["by_length"][0]["length"], variant["by_length"][-1]["length"]
        who = "1 case" if variant["cases"] == 1 else f"{variant['cases']} cases round-robin"
        lines.append(
            f"fire by history length, {who} (us/event): {cells}; "
            f"{longest:,}/{shortest:,} = {variant['ratio']:.2f}x (CPU {variant['cpu_ratio']:.2f}x, "
            f"fastest samples {variant['min_ratio']:.2f}x) "
            f"[{'MET' if variant['met'] else 'NOT MET'}: target <= {history['target']}x]"
        )
    memory = history["memory"]
    lines.append(
        f"bytes per live case, {memory['entries']} entries: "
        f"{memory['shared_evidence']['bytes_per_case']:,.0f} (typed evidence shared), "
        f"{memory['json_evidence']['bytes_per_case']:,.0f} (evidence posted as JSON, records its own)"
    )
    for key, how in (
        ("fire_vs_transitions", "walk_fire, one contender after the other"),
        ("fire_vs_transitions_paired", "walk_fire, samples taking turns"),
    ):
        versus = history.get(key)
        if versus is not None:
            lines.append(
                f"fire vs bare transitions ({how}): {versus['resolveflow_us']:,.2f} / "
                f"{versus['transitions_us']:,.2f} us/event = {versus['ratio']:.2f}x "
                f"(CPU {versus['cpu_ratio']:.2f}x)"
            )
    return lines


def fire_vs_transitions(walk_fire: dict[str, Any]) -> dict[str, Any]:
    """resolveflow / bare transitions from the walk_fire figures of the same run."""
    rf, tr = walk_fire["resolveflow"], walk_fire["transitions"]
    return {
        "resolveflow_us": rf["median_us"],
        "transitions_us": tr["median_us"],
        "ratio": rf["median_us"] / tr["median_us"],
        "cpu_ratio": rf["cpu_median_us"] / tr["cpu_median_us"],
    }


def parse_lengths(text: str) -> tuple[int, ...]:
    """``"10,100,1000"`` -> (10, 100, 1000); every length positive."""
    lengths = tuple(int(part) for part in text.split(",") if part.strip())
    if not lengths or any(n < 1 for n in lengths):
        raise ValueError("lengths must be positive integers, comma separated")
    return lengths


__all__: Sequence[str] = (
    "FULL",
    "LOOP",
    "QUICK",
    "FireSample",
    "HistoryConfig",
    "bench_fire_by_length",
    "bench_memory",
    "fire_vs_transitions",
    "parse_lengths",
    "run",
    "verdict_lines",
)
