"""Where the time of one event goes: ``.venv/bin/python -m benchmarks.profiling [--json PATH]``.

Two views of resolveflow's hot paths on the seven-as walk:

1. **cProfile, grouped by area.** Each scenario (fire the walk, restore it,
   check every action, open a case) runs under cProfile; internal time is
   summed per area (resolveflow's modules one by one, transitions, logging,
   hashlib, json, datetime, attrs-generated methods, other built-ins) and
   shown as a share and as an estimate in microseconds per event (the share
   applied to the un-profiled CPU median, since the profiler inflates every
   call).

2. **Direct timings of the pieces** (no profiler): transitions' own dispatch
   per event with a condition that does nothing, the same with a lean
   subclass of ``Machine`` / ``Event`` / ``Transition`` (a prototype of what
   resolveflow could do through transitions' extension points), a
   precomputed dict table, and resolveflow's guards, ``GuardContext``,
   evidence validation and hash on their own. These reach into resolveflow's
   private modules; a piece whose internals have moved is reported as
   ``None`` rather than failing the run.

The lean prototype lives here, not in ``src/``: it is evidence for a proposal.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import itertools
import json
import pstats
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from transitions import Event, Machine, MachineError, State, Transition

import resolveflow
from benchmarks.harness import Lap, measure, start, stop
from benchmarks.seven_as import ACTOR, AT, METHODOLOGY, WALK, check_positions

DEFAULT_JSON: Final = Path(__file__).resolve().parent / "profile.json"

# --- 1. cProfile by area -------------------------------------------------------------

_BUILTIN_AREAS: Final = (
    ("hashlib", ("_hashlib", "sha256", "hexdigest")),
    ("json", ("_json", "json.", "encode", "iterencode", "dumps")),
    ("datetime", ("datetime", "astimezone", "isoformat", "fromisoformat", "utcoffset")),
)


def area(key: tuple[str, int, str]) -> str:
    """The area a profiled function belongs to."""
    filename, _, name = key
    if "/resolveflow/" in filename:
        return "resolveflow/" + filename.rsplit("/resolveflow/", 1)[1]
    if "/transitions/" in filename:
        return "transitions"
    if filename.endswith(("logging/__init__.py",)):
        return "logging (transitions' debug calls)"
    if "/json/" in filename:
        return "json"
    if filename.startswith("<attrs generated"):
        return "attrs-generated __init__/__eq__"
    if filename == "~":
        for label, markers in _BUILTIN_AREAS:
            if any(marker in name for marker in markers):
                return label
        return "other built-ins (isinstance, len, tuple ...)"
    if "/functools.py" in filename:
        return "functools"
    if "/statistics" in filename or "/benchmarks/" in filename:
        return "benchmark driver"
    return "other Python: " + filename.rsplit("/", 1)[-1]


def profile_areas(run: Callable[[], None], events: int, repeat: int) -> dict[str, Any]:
    """Run ``run`` ``repeat`` times under cProfile; internal time per area, per event."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        run()
    profiler.disable()
    stats = pstats.Stats(profiler)
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    totals: dict[str, float] = {}
    for key, (_, _, tottime, _, _) in raw.items():
        totals[area(key)] = totals.get(area(key), 0.0) + tottime
    totals.pop("benchmark driver", None)
    whole = sum(totals.values())
    return {
        "profiled_us_per_event": whole / (events * repeat) * 1e6,
        "share": {name: t / whole for name, t in sorted(totals.items(), key=lambda item: -item[1])},
    }


def _walked_case(case_id: str, events: int = len(WALK)) -> resolveflow.Case:
    case = resolveflow.open_case(METHODOLOGY, case_id=case_id)
    for action, evidence in WALK[:events]:
        case.fire(action, evidence, actor=ACTOR, at=AT)
    return case


def scenarios() -> dict[str, tuple[Callable[[], None], int]]:
    """name -> (one run, operations per run)."""
    stored = json.loads(json.dumps(_walked_case("stored").snapshot()))
    positions = [
        (_walked_case(f"check-{n}", events), actions)
        for n, (events, _, actions) in enumerate(check_positions())
    ]
    checks = sum(len(actions) for _, actions in positions)
    ids = itertools.count()

    def fire() -> None:
        case = resolveflow.open_case(METHODOLOGY, case_id=f"p-{next(ids)}")
        for action, evidence in WALK:
            case.fire(action, evidence, actor=ACTOR, at=AT)

    def replay() -> None:
        resolveflow.restore(stored, methodology=METHODOLOGY)

    def check() -> None:
        for case, actions in positions:
            for action in actions:
                case.check(action, at=AT)

    def open_cases() -> None:
        for _ in range(20):
            resolveflow.open_case(METHODOLOGY, case_id=f"o-{next(ids)}")

    return {
        "fire": (fire, len(WALK)),
        "replay": (replay, len(WALK)),
        "check": (check, checks),
        "open": (open_cases, 20),
    }


def _cpu_median(run: Callable[[], None], ops: int, rounds: int) -> float:
    def sample() -> Lap:
        began = start()
        run()
        return stop(began)

    return measure(sample, ops=ops, rounds=rounds, warmup=max(1, rounds // 10)).cpu_median_us


# --- 2. the pieces ---------------------------------------------------------------------------


class _Cursor:
    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


class LeanTransition(Transition):
    """No prepare/before/after callbacks, no enter/exit, no logging: conditions, then the move."""

    def execute(self, event_data: Any) -> bool:
        for condition in self.conditions:
            func: Any = condition.func  # callables only: no name resolution
            if func(event_data) is not True:
                return False
        if self.dest:
            event_data.model.state = self.dest
        return True


class LeanEvent(Event):
    """Runs the transitions of the model's state directly: no partial, no queue, no finalize."""

    def trigger(self, model: Any, *args: Any, **kwargs: Any) -> bool:  # noqa: ARG002 - kwargs only
        candidates = self.transitions.get(model.state)
        if not candidates:
            raise MachineError(f"{self.name!r} cannot be triggered from {model.state!r}")
        event_data = _LeanEventData(self, self.machine, model, kwargs)
        for transition in candidates:
            event_data.transition = transition
            if transition.execute(event_data):  # type: ignore[arg-type]  # the lean EventData
                return True
        return False


class _LeanEventData:
    """What conditions read from transitions' EventData (model, kwargs, event, machine, transition)."""

    __slots__ = ("event", "kwargs", "machine", "model", "transition")

    def __init__(self, event: Event, machine: Machine, model: Any, kwargs: dict[str, Any]) -> None:
        self.event = event
        self.machine = machine
        self.model = model
        self.kwargs = kwargs
        self.transition: Transition | None = None


class LeanMachine(Machine):
    """transitions' Machine with the lean Event and Transition classes."""

    event_cls = LeanEvent
    transition_cls = LeanTransition
    state_cls = State


def _transitions_spec(condition: Callable[[Any], bool]) -> list[dict[str, Any]]:
    return [
        {"trigger": a.name, "source": s, "dest": a.target, "conditions": [condition]}
        for a in METHODOLOGY.actions
        for s in a.sources
    ]


def _dispatch(machine: Machine, cursor_events: list[tuple[str, str]]) -> Callable[[], None]:
    events = machine.events

    def run() -> None:
        for step, action in cursor_events:
            events[action].trigger(_Cursor(step), context=None, verdict=[], pending=[])

    return run


def _walk_steps() -> list[tuple[str, str]]:
    steps = []
    step = METHODOLOGY.initial
    for action, _ in WALK:
        steps.append((step, action))
        spec = METHODOLOGY.action(action)
        assert spec is not None
        step = spec.target_from(step)
    return steps


def _always(event_data: Any) -> bool:  # noqa: ARG001 - the condition signature
    return True


def pieces(rounds: int) -> dict[str, float | None]:
    """Per-event CPU medians (us) of the parts of a decision, on the seven-as walk."""
    walk = _walk_steps()
    n = len(walk)
    out: dict[str, float | None] = {}

    def timed(name: str, run: Callable[[], None], ops: int = n) -> None:
        try:
            run()
        except Exception as error:  # an internal API moved: say so, do not fail the run
            print(f"  {name}: skipped ({type(error).__name__}: {error})", file=sys.stderr)
            out[name] = None
            return
        out[name] = _cpu_median(run, ops, rounds)

    kwargs: dict[str, Any] = {
        "model": None,
        "states": list(METHODOLOGY.step_ids),
        "initial": METHODOLOGY.initial,
        "auto_transitions": False,
        "send_event": True,
    }
    stock = Machine(transitions=_transitions_spec(_always), **kwargs)
    lean = LeanMachine(transitions=_transitions_spec(_always), **kwargs)
    timed("transitions dispatch, stock Machine, no-op condition", _dispatch(stock, walk))
    timed("transitions dispatch, lean subclasses, no-op condition", _dispatch(lean, walk))

    table = {(s, a.name): (a.target or s, _always) for a in METHODOLOGY.actions for s in a.sources}

    def table_run() -> None:
        for step, action in walk:
            target, condition = table[(step, action)]
            condition(None)
            _Cursor(target)

    timed("precomputed dict table, no-op condition", table_run)

    # resolveflow's own pieces, each on the context the walk's events see.
    from resolveflow._guards import GuardContext, make_context, run_guard

    contexts = []
    for index, (action, evidence) in enumerate(WALK):
        case = _walked_case(f"piece-{index}", index)
        spec = METHODOLOGY.action(action)
        assert spec is not None
        contexts.append((case, spec, evidence))

    def guard_contexts() -> None:
        # As the ledger makes them (make_context: no attrs keyword parsing, its own index).
        for case, _, evidence in contexts:
            ledger = case._ledger
            make_context(case.step, case.history, evidence, AT, ledger.index)

    built = [
        (GuardContext(step=c.step, history=c.history, evidence=e, at=AT), spec, c) for c, spec, e in contexts
    ]

    def guards_only() -> None:
        for context, spec, _ in built:
            for guard in spec.guards:
                run_guard(guard, context)

    timed("GuardContext construction", guard_contexts)
    timed("resolveflow guards alone (run_guard)", guards_only)

    def engine_decide() -> None:
        for context, spec, case in built:
            case.methodology._engine.decide(case.step, spec.name, context)

    timed("Engine.decide (as resolveflow runs it now)", engine_decide)

    def through_transitions() -> None:
        for context, spec, case in built:
            case.methodology._engine.decide_through_transitions(case.step, spec.name, context)

    timed("Engine.decide_through_transitions (stock Event.trigger + guards)", through_transitions)

    def ledger_decide() -> None:
        for _, spec, case in built:
            case._ledger.decide(spec, None, AT)

    timed("Ledger.decide (structural check + context + engine)", ledger_decide)

    def load_evidence() -> None:
        from resolveflow._ledger import load_evidence as _load_evidence

        for _, spec, evidence in contexts:
            _load_evidence(spec, evidence)

    timed("evidence validation (_load_evidence, typed record in)", load_evidence)

    # The evidence JSON as fire() has it in hand (evidence_json would dump the record again).
    entries = [(entry, entry.evidence_json) for entry in _walked_case("hashes").history]

    def hashes() -> None:
        from resolveflow._history import canonical_text, chain_hash, format_time

        for entry, data in entries:
            chain_hash(
                entry.hash,
                seq=entry.seq,
                action=entry.action,
                from_step=entry.from_step,
                step=entry.step,
                actor=entry.actor,
                at=format_time(entry.at),
                evidence=canonical_text(data),
            )

    timed("entry hash (chain_hash: canonical evidence text + sha256)", hashes)

    def when() -> None:
        for case, _, _ in contexts:
            case._when(AT)

    timed("Case._when (time checks)", when)

    def fire_walk() -> None:
        case = resolveflow.open_case(METHODOLOGY, case_id="whole")
        for action, evidence in WALK:
            case.fire(action, evidence, actor=ACTOR, at=AT)

    timed("Case.fire, whole (for reference)", fire_walk)
    return out


# --- the report -----------------------------------------------------------------------------------


def run(rounds: int, repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "areas": {}}
    for name, (scenario, ops) in scenarios().items():
        cpu = _cpu_median(scenario, ops, rounds)
        profiled = profile_areas(scenario, ops, repeat)
        results["areas"][name] = {
            "cpu_median_us_per_op": cpu,
            **profiled,
            "estimated_us_per_op": {area: share * cpu for area, share in profiled["share"].items()},
        }
    results["pieces_us_per_event"] = pieces(rounds)
    return results


def render(results: dict[str, Any]) -> None:
    print(f"Profile of resolveflow's hot paths, seven-as walk ({results['date']})")
    for name, entry in results["areas"].items():
        print(
            f"\n{name}: {entry['cpu_median_us_per_op']:.2f} us/op CPU "
            f"(under cProfile {entry['profiled_us_per_event']:.2f}); by area (share, est. us/op):"
        )
        for area_name, share in entry["share"].items():
            if share >= 0.005:
                est = entry["estimated_us_per_op"][area_name]
                print(f"  {share:6.1%}  {est:7.2f}  {area_name}")
    print("\nPieces, CPU median per event (us):")
    for name, value in results["pieces_us_per_event"].items():
        print(f"  {'n/a' if value is None else f'{value:7.2f}'}  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profiling", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--rounds", type=int, default=300, help="timed rounds per piece")
    parser.add_argument("--repeat", type=int, default=300, help="runs per scenario under cProfile")
    args = parser.parse_args(argv)
    results = run(args.rounds, args.repeat)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    render(results)
    print(f"\nJSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
