"""Run the benchmark suite: ``.venv/bin/python -m benchmarks.run [--quick] [--json PATH]``.

For the seven-as methodology it measures, side by side, resolveflow against
bare transitions, python-statemachine and a hand-written floor (see
``benchmarks/contenders.py``):

- ``walk_fire``: a full walk with valid evidence, 10 events (us per event);
- ``replay``: bringing a stored 10-event case back (us per event);
- ``open``: opening a case among few open ones (us per case);
- ``open_at_n``: opening a case while N cases are open (us per case);
- ``check``: deciding every action of the current step, at each step of the
  walk, without evidence (us per action checked);
- ``memory_open``: bytes per live case, N cases just opened;
- ``memory_walked``: bytes per live case after the full walk (the evidence
  records are shared, so each contender is charged for what it adds);

then ``verify()`` of a generated methodology (``benchmarks/generated.py``),
in ms, and the history-length scenario (``benchmarks/history_length.py``):
fire per event at histories of 10, 100 and 1,000 entries, one case and 32
interleaved, with its verdict against the 1.5x target, fire against bare
transitions (the ``walk_fire`` ratio, and ``walk_fire`` again with the two
contenders' samples taking turns, which both see the same load) and bytes
per live case of 15 entries; then the same generated methodology loaded from
YAML and from JSON (``benchmarks/file_formats.py``): YAML / JSON of the
whole load and of parsing alone, at the largest size a YAML file may have.
``--history-only`` runs just that scenario and ``walk_fire`` for resolveflow
and transitions (10 to 20 seconds). It prints a table and writes the figures,
ratios (resolveflow / other) and the issue's targets as JSON (default
``benchmarks/results.json``). Timings are medians of many rounds after a
warm-up; nothing asserts a limit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import attrs

import resolveflow
from benchmarks import file_formats, history_length
from benchmarks.contenders import CONTENDERS, Contender, ResolveflowContender, TransitionsContender
from benchmarks.generated import generate
from benchmarks.harness import Lap, Timing, counter, measure, measure_memory, start, stop, summarize
from benchmarks.seven_as import AT, CONDITIONS, METHODOLOGY, WALK, check_positions

DEFAULT_JSON: Final = Path(__file__).resolve().parent / "results.json"
BASELINE: Final = "resolveflow"
REFERENCE: Final = "transitions"

Progress = Callable[[str], None]


@attrs.frozen(kw_only=True)
class Config:
    """Sizes of one run."""

    mode: str
    rounds: int  # timed samples per benchmark and contender
    warmup: int
    open_batch: int  # cases opened per timed sample
    cases: int  # N for memory_open and open_at_n
    walked_cases: int  # N for memory_walked
    at_n_rounds: int  # timed samples of open_at_n (transitions' add_model is slow at large N)
    verify_steps: int
    verify_actions: int
    verify_budget_s: float  # verify is repeated while it fits this budget (at least once)
    verify_rounds: int
    history: history_length.HistoryConfig  # the history-length scenario
    files: file_formats.FilesConfig  # YAML against JSON

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


FULL: Final = Config(
    mode="full",
    rounds=1_000,
    warmup=50,
    open_batch=10,
    cases=100_000,
    walked_cases=10_000,
    at_n_rounds=20,
    verify_steps=1_000,
    verify_actions=5_000,
    verify_budget_s=60.0,
    verify_rounds=5,
    history=history_length.FULL,
    files=file_formats.FULL,
)
QUICK: Final = Config(
    mode="quick",
    rounds=100,
    warmup=10,
    open_batch=20,
    cases=2_000,
    walked_cases=200,
    at_n_rounds=10,
    verify_steps=200,
    verify_actions=1_000,
    verify_budget_s=10.0,
    verify_rounds=3,
    history=history_length.QUICK,
    files=file_formats.QUICK,
)

# (key, what is measured, unit); the order of the table.
BENCHMARKS: Final = (
    ("walk_fire", "fire: full seven-as walk, valid evidence", "us/event"),
    ("replay", "replay a stored 10-event case", "us/event"),
    ("check", "check every action of the current step", "us/check"),
    ("open", "open a case (few open)", "us/case"),
    ("open_at_n", "open a case with N open", "us/case"),
    ("memory_open", "memory per live case, N opened", "bytes/case"),
    ("memory_walked", "memory per live case after the walk", "bytes/case"),
)


# --- the benchmarks -------------------------------------------------------------


def _walked(contender: Contender, case_id: str, events: int = len(WALK)) -> Any:
    case = contender.open(case_id)
    for action, evidence in WALK[:events]:
        contender.fire(case, action, evidence, AT)
    return case


def walk_fire_sample(contender: Contender) -> Callable[[], Lap]:
    """One sample of walk_fire: open a case (untimed), fire the walk (timed), discard it (untimed)."""
    ids = counter(f"{contender.name}-walk")

    def sample() -> Lap:
        case = contender.open(next(ids))
        began = start()
        for action, evidence in WALK:
            contender.fire(case, action, evidence, AT)
        elapsed = stop(began)
        contender.discard(case)
        return elapsed

    return sample


def bench_walk_fire(contender: Contender, config: Config) -> Timing:
    return measure(walk_fire_sample(contender), ops=len(WALK), rounds=config.rounds, warmup=config.warmup)


def bench_walk_fire_paired(config: Config) -> dict[str, Any]:
    """walk_fire for resolveflow and bare transitions, their samples taking turns.

    The suite measures one contender after the other, minutes apart, so a
    change in the machine's load between them moves their ratio; here every
    round times one walk of each (in alternating order), so both see the
    same load and the ratio is steadier.
    """
    samples = {
        cls.name: walk_fire_sample(cls(METHODOLOGY, CONDITIONS))
        for cls in (ResolveflowContender, TransitionsContender)
    }
    for _ in range(config.warmup):
        for sample in samples.values():
            sample()
    gc.collect()
    laps: dict[str, list[Lap]] = {name: [] for name in samples}
    order = list(samples.items())
    for n in range(config.rounds):
        for name, sample in order if n % 2 == 0 else reversed(order):
            laps[name].append(sample())
    return {name: summarize(found, ops=len(WALK)).to_json() for name, found in laps.items()}


def bench_replay(contender: Contender, config: Config) -> Timing:
    template = _walked(contender, "stored-case")
    stored = contender.store(template)
    contender.discard(template)
    ids = counter(f"{contender.name}-replay")

    def sample() -> Lap:
        case_id = next(ids)
        began = start()
        case = contender.replay(stored, case_id)
        elapsed = stop(began)
        contender.discard(case)
        return elapsed

    return measure(sample, ops=len(WALK), rounds=config.rounds, warmup=config.warmup)


def bench_check(contender: Contender, config: Config) -> Timing:
    positions = [
        (_walked(contender, f"check-{step}", events), actions) for events, step, actions in check_positions()
    ]
    checks = sum(len(actions) for _, actions in positions)

    def sample() -> Lap:
        began = start()
        for case, actions in positions:
            contender.check(case, actions, AT)
        return stop(began)

    timing = measure(sample, ops=checks, rounds=config.rounds, warmup=config.warmup)
    for case, _ in positions:
        contender.discard(case)
    return timing


def _open_sample(contender: Contender, batch: int, prefix: str) -> Callable[[], Lap]:
    ids = counter(prefix)

    def sample() -> Lap:
        names = [next(ids) for _ in range(batch)]
        began = start()
        cases = [contender.open(name) for name in names]
        elapsed = stop(began)
        for case in reversed(cases):
            contender.discard(case)
        return elapsed

    return sample


def bench_open(contender: Contender, config: Config) -> Timing:
    sample = _open_sample(contender, config.open_batch, f"{contender.name}-open")
    return measure(sample, ops=config.open_batch, rounds=config.rounds, warmup=config.warmup)


def bench_memory(
    factory: Callable[[], Contender], config: Config, progress: Progress
) -> tuple[dict[str, Any], Timing, dict[str, Any]]:
    """memory_open, then open_at_n among those N cases, then memory_walked."""
    # A fresh contender (a fresh Machine for transitions) for each, built before the first snapshot.
    opened = factory()
    cap = opened.live_case_cap or config.cases
    live, walked_live = min(config.cases, cap), min(config.walked_cases, cap)
    ids = [f"case-{n:07d}" for n in range(live)]
    memory, cases = measure_memory(lambda n: [opened.open(ids[i]) for i in range(n)], live)
    progress(f"    memory_open {memory.bytes_per_case:,.0f} B/case; open_at_n ...")
    batch = max(1, config.open_batch // 2)
    at_n = measure(
        _open_sample(opened, batch, f"{opened.name}-at-n"),
        ops=batch,
        rounds=config.at_n_rounds,
        warmup=max(1, config.at_n_rounds // 10),
    )
    cases.clear()

    walker = factory()
    walked_ids = [f"walked-{n:07d}" for n in range(walked_live)]
    walked, cases = measure_memory(lambda n: [_walked(walker, walked_ids[i]) for i in range(n)], walked_live)
    cases.clear()
    return memory.to_json(), at_n, walked.to_json()


def bench_verify(config: Config, progress: Progress) -> dict[str, Any]:
    began = start()
    methodology = generate(config.verify_steps, config.verify_actions)
    build_ms = stop(began)[0] / 1e6
    progress(f"    built in {build_ms:,.0f} ms; verifying ...")
    runs: list[float] = []
    cpu_runs: list[float] = []
    report = None
    budget_ns = config.verify_budget_s * 1e9
    spent = 0
    while len(runs) < config.verify_rounds and (not runs or spent < budget_ns):
        gc.collect()
        began = start()
        report = resolveflow.verify(methodology)
        elapsed, used = stop(began)
        spent += elapsed
        runs.append(elapsed / 1e6)
        cpu_runs.append(used / 1e6)
    assert report is not None
    return {
        "steps": config.verify_steps,
        "actions": len(methodology.actions),
        "transitions": sum(len(a.sources) for a in methodology.actions),
        "required_steps": len(methodology.required_steps),
        "build_ms": build_ms,
        "verify_ms": statistics.median(runs),
        "verify_runs_ms": runs,
        "verify_cpu_ms": statistics.median(cpu_runs),
        "abstract_states": report.states,
        "findings": len(report.findings),
        "ok": report.ok,
    }


# --- extras: resolveflow-only paths a CRM also takes ---------------------------------


def bench_extras(config: Config) -> dict[str, Any]:
    """fire with JSON evidence (as a form posts it), the actions() view, open_case by id."""
    template = resolveflow.open_case(METHODOLOGY, case_id="json-walk")
    for action, evidence in WALK:
        template.fire(action, evidence, actor="bench", at=AT)
    json_walk = [(e["action"], e["evidence"]) for e in json.loads(json.dumps(template.snapshot()))["history"]]
    ids = counter("extras")

    def fire_json() -> Lap:
        case = resolveflow.open_case(METHODOLOGY, case_id=next(ids))
        began = start()
        for action, evidence in json_walk:
            case.fire(action, evidence, actor="bench", at=AT)
        return stop(began)

    positions = []
    for events, _, _ in check_positions():
        case = resolveflow.open_case(METHODOLOGY, case_id=next(ids))
        for action, evidence in WALK[:events]:
            case.fire(action, evidence, actor="bench", at=AT)
        positions.append(case)
    views = sum(len(actions) for _, _, actions in check_positions())

    def actions_view() -> Lap:
        began = start()
        for case in positions:
            case.actions(at=AT)
        return stop(began)

    batch = config.open_batch

    def open_by_id() -> Lap:
        names = [next(ids) for _ in range(batch)]
        began = start()
        for name in names:
            resolveflow.open_case(METHODOLOGY.id, case_id=name)
        return stop(began)

    def snapshot() -> Lap:
        began = start()
        template.snapshot()
        return stop(began)

    rounds, warmup = config.rounds, config.warmup
    return {
        "fire_json_evidence": {
            "what": "fire the walk with JSON evidence, as a CRM form posts it",
            "unit": "us/event",
            **measure(fire_json, ops=len(json_walk), rounds=rounds, warmup=warmup).to_json(),
        },
        "actions_view": {
            "what": "case.actions(): every action of the step with refusals and form schema",
            "unit": "us/action",
            **measure(actions_view, ops=views, rounds=rounds, warmup=warmup).to_json(),
        },
        "open_by_id": {
            "what": "open_case('seven-as', ...) through the registry",
            "unit": "us/case",
            **measure(open_by_id, ops=batch, rounds=rounds, warmup=warmup).to_json(),
        },
        "snapshot": {
            "what": "case.snapshot() of the walked case",
            "unit": "us/event",
            **measure(snapshot, ops=len(WALK), rounds=rounds, warmup=warmup).to_json(),
        },
    }


# --- the suite ----------------------------------------------------------------------


def _value(entry: dict[str, Any]) -> float:
    return float(entry["bytes_per_case"] if "bytes_per_case" in entry else entry["median_us"])


def _ratios(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    base = _value(results[BASELINE])
    return {name: base / _value(entry) for name, entry in results.items() if name != BASELINE}


EVIDENCE_FILES: Final = ("resolveflow/_schema.py",)
"""Where resolveflow allocates the evidence it keeps (typed records and their canonical JSON)."""


def beyond_evidence(memory: dict[str, Any]) -> float:
    """Bytes per case not allocated by evidence loading/dumping: the history's own cost.

    An attribution by the allocating file (tracemalloc, one frame), so it is
    an estimate: evidence is built in ``_schema.py``; entries, hashes and
    times elsewhere.
    """
    evidence = sum(row["bytes"] for row in memory["by_file"] if row["file"] in EVIDENCE_FILES)
    return float(memory["bytes_per_case"] - evidence / memory["cases"])


def _targets(benchmarks: dict[str, Any]) -> list[dict[str, Any]]:
    def ratio(key: str) -> float:
        return float(benchmarks[key]["ratios"][REFERENCE])

    walked = benchmarks["memory_walked"]["results"][BASELINE]
    open_now = _value(benchmarks["open"]["results"][BASELINE])
    open_at_n = _value(benchmarks["open_at_n"]["results"][BASELINE])
    live = _value(benchmarks["memory_open"]["results"][BASELINE])
    rows = [
        ("a resolveflow fire costs no more than bare transitions' trigger (same walk)",
         "walk_fire resolveflow/transitions", ratio("walk_fire"), "<=", 1.0),
        ("replay at least 5x faster than bare transitions per event",
         "replay resolveflow/transitions", ratio("replay"), "<=", 0.2),
        ("check at least 5x faster than bare transitions",
         "check resolveflow/transitions", ratio("check"), "<=", 0.2),
        ("opening a case at least 10x cheaper than add_model",
         "open resolveflow/transitions", ratio("open"), "<=", 0.1),
        ("opening a case does not grow with the number of open cases",
         "resolveflow open_at_n / open", open_at_n / open_now, "<=", 1.5),
        ("a live case costs at most 2 KB beyond its evidence",
         "memory_open resolveflow bytes/case", live, "<=", 2048.0),
        ("... and so does a walked one (10 entries)",
         "memory_walked resolveflow bytes/case beyond evidence", beyond_evidence(walked), "<=", 2048.0),
    ]  # fmt: skip
    return [
        {"target": target, "measure": what, "value": value, "limit": f"{op} {limit:g}", "met": value <= limit}
        for target, what, value, op, limit in rows
    ]


def run_suite(config: Config, progress: Progress | None = None) -> dict[str, Any]:
    """Every benchmark for every contender; the JSON-ready results."""
    say: Progress = progress or (lambda _: None)
    began = time.perf_counter()
    load_before = _load()
    names = [cls.name for cls in CONTENDERS]
    raw: dict[str, dict[str, Any]] = {key: {} for key, _, _ in BENCHMARKS}
    for cls in CONTENDERS:

        def factory(cls: type[Contender] = cls) -> Contender:
            return cls(METHODOLOGY, CONDITIONS)

        contender = factory()
        say(f"{cls.name}:")
        for key, bench in (
            ("walk_fire", bench_walk_fire),
            ("replay", bench_replay),
            ("check", bench_check),
            ("open", bench_open),
        ):
            say(f"  {key} ...")
            raw[key][cls.name] = bench(contender, config).to_json()
        del contender
        say(f"  memory ({config.cases:,} open, {config.walked_cases:,} walked) ...")
        memory_open, at_n, memory_walked = bench_memory(factory, config, say)
        raw["memory_open"][cls.name] = memory_open
        raw["open_at_n"][cls.name] = {**at_n.to_json(), "open_cases": memory_open["cases"]}
        raw["memory_walked"][cls.name] = memory_walked
        gc.collect()

    benchmarks: dict[str, Any] = {}
    for key, what, unit in BENCHMARKS:
        results = {name: raw[key][name] for name in names}
        benchmarks[key] = {"what": what, "unit": unit, "results": results, "ratios": _ratios(results)}
    say("verify ...")
    verify = bench_verify(config, say)
    say("extras ...")
    extras = bench_extras(config)
    say("history length ...")
    history = history_length.run(config.history, say)
    history["fire_vs_transitions"] = history_length.fire_vs_transitions(benchmarks["walk_fire"]["results"])
    say("walk_fire, resolveflow and transitions taking turns ...")
    history["fire_vs_transitions_paired"] = history_length.fire_vs_transitions(bench_walk_fire_paired(config))
    say("YAML against JSON ...")
    files = file_formats.run(config.files, say)
    return {
        "meta": _meta(config, time.perf_counter() - began, load_before),
        "contenders": names,
        "benchmarks": benchmarks,
        "verify": verify,
        "extras": extras,
        "targets": _targets(benchmarks),
        "history": history,
        "files": files,
    }


def run_history(config: Config, progress: Progress | None = None) -> dict[str, Any]:
    """Only the history-length scenario, and walk_fire for resolveflow and bare transitions."""
    say: Progress = progress or (lambda _: None)
    began = time.perf_counter()
    load_before = _load()
    walk_fire: dict[str, Any] = {}
    for cls in (ResolveflowContender, TransitionsContender):
        say(f"{cls.name}: walk_fire ...")
        walk_fire[cls.name] = bench_walk_fire(cls(METHODOLOGY, CONDITIONS), config).to_json()
        gc.collect()
    say("history length ...")
    history = history_length.run(config.history, say)
    history["fire_vs_transitions"] = history_length.fire_vs_transitions(walk_fire)
    say("walk_fire, resolveflow and transitions taking turns ...")
    history["fire_vs_transitions_paired"] = history_length.fire_vs_transitions(bench_walk_fire_paired(config))
    return {
        "meta": _meta(config, time.perf_counter() - began, load_before),
        "walk_fire": walk_fire,
        "history": history,
    }


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on every platform
        return [0.0, 0.0, 0.0]


def _meta(config: Config, seconds: float, load_before: list[float]) -> dict[str, Any]:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": _cpu(),
        "versions": {
            "resolveflow": resolveflow.__version__,
            "transitions": version("transitions"),
            "python-statemachine": version("python-statemachine"),
        },
        "cpus": os.cpu_count() or 1,
        # Other processes' load inflates the figures (wall clock most): compare runs at a similar load.
        "load_before": load_before,
        "load_after": _load(),
        "config": config.to_json(),
        "duration_s": round(seconds, 1),
    }


# --- output ---------------------------------------------------------------------------


def _fmt(value: float, unit: str) -> str:
    if unit.startswith("bytes"):
        return f"{value:,.0f}"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


SHORT: Final = {"resolveflow": "rf", "transitions": "tr", "python-statemachine": "psm", "floor": "floor"}


def table_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The table: one row per benchmark; medians per contender, then resolveflow / each other."""
    names: list[str] = results["contenders"]
    others = [n for n in names if n != BASELINE]
    header = [
        "benchmark",
        "unit",
        *(SHORT.get(n, n) for n in names),
        *(f"rf/{SHORT.get(n, n)}" for n in others),
    ]
    rows = []
    for key, entry in results["benchmarks"].items():
        unit = entry["unit"]
        cells = [_fmt(_value(entry["results"][n]), unit) for n in names]
        ratios = [f"{entry['ratios'][n]:.2f}x" for n in others]
        rows.append([key, unit, *cells, *ratios])
    return header, rows


def render(results: dict[str, Any]) -> None:
    if "benchmarks" not in results:  # --history-only
        meta = results["meta"]
        print(
            f"resolveflow history-length scenario ({meta['config']['mode']}, {meta['date']}, "
            f"Python {meta['python']}, {meta['cpu']}, "
            f"load {meta['load_before'][0]:.1f}/{meta['cpus']} CPUs); medians"
        )
        history = results["history"]
        print(*history_length.verdict_lines(history), sep="\n")
        return
    header, rows = table_rows(results)
    verify = results["verify"]
    verify_line = (
        f"verify(): {verify['steps']:,} steps, {verify['actions']:,} actions -> "
        f"{verify['verify_ms']:,.0f} ms (build {verify['build_ms']:,.0f} ms, "
        f"{verify['abstract_states']:,} abstract states, {verify['findings']} findings)"
    )
    extras = [
        f"{key}: {entry['median_us']:,.2f} {entry['unit']} ({entry['what']})"
        for key, entry in results["extras"].items()
    ]
    targets = [
        f"[{'met' if t['met'] else 'NOT met'}] {t['target']}: "
        f"{t['measure']} = {t['value']:,.2f} ({t['limit']})"
        for t in results["targets"]
    ]
    history = results["history"]
    history_lines = [*history_length.verdict_lines(history), *file_formats.verdict_lines(results["files"])]
    meta = results["meta"]
    title = (
        f"resolveflow benchmarks ({meta['config']['mode']}, {meta['date']}, Python {meta['python']}, "
        f"{meta['cpu']}, load {meta['load_before'][0]:.1f}/{meta['cpus']} CPUs); medians. "
        "rf=resolveflow tr=transitions psm=python-statemachine floor=dicts; rf/x = resolveflow / x"
    )
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich ships with the dev extras
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        print(title)
        for row in [header, *rows]:
            print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
        print(verify_line, *extras, *targets, *history_lines, sep="\n")
        return
    console = Console()
    if console.width < 120:
        console = Console(width=120)
    table = Table(title=title, title_justify="left")
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index < 2 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(verify_line, highlight=False)
    for line in extras:
        console.print(line, highlight=False)
    for line in [*targets, *history_lines]:
        console.print(line, highlight=False, markup=False)


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")


@attrs.frozen
class Options:
    """What to run and where to write, besides the sizes."""

    json: Path
    quiet: bool
    store: bool
    history_only: bool


def parse_config(argv: Sequence[str] | None) -> tuple[Config, Options]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a quick look (about a minute)")
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help=f"where to write (default {DEFAULT_JSON})"
    )
    parser.add_argument("--rounds", type=int, help="timed rounds per benchmark and contender")
    parser.add_argument("--warmup", type=int, help="untimed rounds first")
    parser.add_argument("--cases", type=int, help="N live cases for memory_open and open_at_n")
    parser.add_argument("--walked-cases", type=int, help="N live cases for memory_walked")
    parser.add_argument("--verify-steps", type=int, help="steps of the generated methodology")
    parser.add_argument("--verify-actions", type=int, help="actions of the generated methodology")
    parser.add_argument("--quiet", action="store_true", help="no progress lines and no table")
    parser.add_argument(
        "--store",
        action="store_true",
        help="also run the store benchmark (SQLite and PostgreSQL; 100,000 cases, or 2,000 with --quick)",
    )
    parser.add_argument(
        "--history-only",
        action="store_true",
        help="only the history-length scenario and walk_fire for resolveflow and transitions",
    )
    parser.add_argument(
        "--history-lengths", help="history lengths of the history-length scenario, e.g. 10,100,1000"
    )
    parser.add_argument(
        "--history-cases", type=int, help="cases fired round-robin in its interleaved variant (default 32)"
    )
    parser.add_argument("--history-memory-cases", type=int, help="N live cases for its bytes per case")
    parser.add_argument("--files-steps", type=int, help="steps of the methodology loaded from YAML and JSON")
    parser.add_argument("--files-actions", type=int, help="actions of that methodology")
    parser.add_argument(
        "--files-pad-to", type=int, help="characters of its padded variant's longer text (0: no such variant)"
    )
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    changes = {
        field: value
        for field, value in {
            "rounds": args.rounds,
            "warmup": args.warmup,
            "cases": args.cases,
            "walked_cases": args.walked_cases,
            "verify_steps": args.verify_steps,
            "verify_actions": args.verify_actions,
        }.items()
        if value is not None
    }
    for field, value in changes.items():
        if value < (0 if field == "warmup" else 1):
            parser.error(f"--{field.replace('_', '-')} must be positive")
    history = config.history
    history_changes: dict[str, Any] = {}
    if args.history_lengths is not None:
        try:
            history_changes["lengths"] = history_length.parse_lengths(args.history_lengths)
        except ValueError as error:
            parser.error(f"--history-lengths: {error}")
    if args.history_cases is not None:
        if args.history_cases < 2:
            parser.error("--history-cases must be at least 2")
        history_changes["interleaved"] = args.history_cases
    if args.history_memory_cases is not None:
        if args.history_memory_cases < 1:
            parser.error("--history-memory-cases must be positive")
        history_changes["memory_cases"] = args.history_memory_cases
    if "rounds" in changes:
        history_changes["rounds_one"] = min(history.rounds_one, changes["rounds"])
        history_changes["rounds_many"] = min(history.rounds_many, changes["rounds"])
    if "warmup" in changes:
        history_changes["warmup"] = min(history.warmup, changes["warmup"])
    if history_changes:
        changes["history"] = attrs.evolve(history, **history_changes)
    files_changes = _files_changes(args, changes, config.files, parser)
    if files_changes:
        changes["files"] = attrs.evolve(config.files, **files_changes)
    if changes:
        config = attrs.evolve(config, mode=f"{config.mode} (custom)", **changes)
        if "rounds" in changes:
            config = attrs.evolve(config, at_n_rounds=min(config.at_n_rounds, config.rounds))
    return config, Options(json=args.json, quiet=args.quiet, store=args.store, history_only=args.history_only)


def _files_changes(
    args: argparse.Namespace, changes: dict[str, Any], files: file_formats.FilesConfig, parser: Any
) -> dict[str, Any]:
    """The YAML-against-JSON sizes the command line changes (rounds and warm-up follow the suite's)."""
    found: dict[str, Any] = {}
    for field in ("steps", "actions", "pad_to"):
        value = getattr(args, f"files_{field}")
        if value is None:
            continue
        if value < (0 if field == "pad_to" else 1):
            parser.error(f"--files-{field.replace('_', '-')} must be positive")
        found[field] = value
    if "rounds" in changes:
        found["rounds"] = min(files.rounds, changes["rounds"])
    if "warmup" in changes:
        found["warmup"] = min(files.warmup, changes["warmup"])
    return found


def main(argv: Sequence[str] | None = None) -> int:
    config, options = parse_config(argv)
    path, quiet = options.json, options.quiet
    # python-statemachine warns about its own deprecated internals; not ours to fix.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="statemachine")

    def progress(line: str) -> None:
        if not quiet:
            print(line, file=sys.stderr, flush=True)

    suite = run_history if options.history_only else run_suite
    results = suite(config, progress)
    if options.store:
        from benchmarks import bench_store

        progress("  store (SQLite, PostgreSQL) ...")
        results["store"] = bench_store.run(config.mode.startswith("quick"))
    write_json(results, path)
    if not quiet:
        render(results)
        print(f"JSON written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
