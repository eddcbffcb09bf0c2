"""The benchmark suite keeps working, and what it compares against is the same machine.

- The suite runs end to end in quick mode with tiny sizes (a few seconds):
  every benchmark gives a positive figure for every contender, the ratios are
  computed and the JSON is written and loads. Only structure is asserted,
  never a time: timings vary between machines.
- The baseline is honest: for every built-in methodology and random action
  sequences, resolveflow and a plain transitions ``Machine`` built from the
  same definition (models added with ``add_model``, one condition per
  transition evaluating the same Guard objects on a GuardContext built from
  the accepted history) accept and refuse the same moves, for the same
  reasons, and end at the same step after every move.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
from benchmarks import run
from benchmarks.contenders import CONTENDERS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transitions import Machine, MachineError

import resolveflow
from resolveflow import InvalidEvidence, Methodology, Refused
from resolveflow._schema import record_codec
from resolveflow.guards import GuardContext
from resolveflow.methodologies import BUILTINS
from resolveflow.testing import ManualClock, action_sequences

TINY = [
    "--quick",
    "--rounds",
    "3",
    "--warmup",
    "1",
    "--cases",
    "40",
    "--walked-cases",
    "5",
    "--verify-steps",
    "30",
    "--verify-actions",
    "90",
    "--history-lengths",
    "6,12",
    "--history-cases",
    "3",
    "--history-memory-cases",
    "5",
    "--files-steps",
    "20",
    "--files-actions",
    "60",
    "--files-pad-to",
    "30000",
    "--quiet",
]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    path = tmp_path_factory.mktemp("bench") / "results.json"
    assert run.main([*TINY, "--json", str(path)]) == 0
    return json.loads(path.read_text(encoding="utf-8")), path


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_every_benchmark_measures_every_contender(results: tuple[dict[str, Any], Path]) -> None:
    data, _ = results
    names = [cls.name for cls in CONTENDERS]
    assert data["contenders"] == names
    assert list(data["benchmarks"]) == [key for key, _, _ in run.BENCHMARKS]
    for key, entry in data["benchmarks"].items():
        assert set(entry["results"]) == set(names), key
        for name, figures in entry["results"].items():
            value = figures["bytes_per_case"] if entry["unit"].startswith("bytes") else figures["median_us"]
            assert _positive(value), (key, name, figures)


def test_ratios_are_resolveflow_over_each_other(results: tuple[dict[str, Any], Path]) -> None:
    data, _ = results
    others = {cls.name for cls in CONTENDERS} - {run.BASELINE}
    for key, entry in data["benchmarks"].items():
        assert set(entry["ratios"]) == others, key
        base = run._value(entry["results"][run.BASELINE])
        for name, ratio in entry["ratios"].items():
            assert _positive(ratio), (key, name)
            assert ratio == pytest.approx(base / run._value(entry["results"][name]))


def test_verify_extras_and_targets_are_reported(results: tuple[dict[str, Any], Path]) -> None:
    data, _ = results
    verify = data["verify"]
    assert verify["steps"] == 30
    assert verify["actions"] == 90
    assert _positive(verify["verify_ms"])
    assert _positive(verify["build_ms"])
    assert verify["abstract_states"] > 0
    assert all(_positive(entry["median_us"]) for entry in data["extras"].values())
    assert len(data["targets"]) == 7
    for target in data["targets"]:
        assert isinstance(target["met"], bool)
        assert _positive(target["value"])
    assert data["meta"]["config"]["cases"] == 40


def test_json_is_written_where_asked_and_the_table_renders(
    results: tuple[dict[str, Any], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, path = results
    assert path.is_file()
    assert json.loads(path.read_text(encoding="utf-8")) == data
    header, rows = run.table_rows(data)
    assert len(rows) == len(run.BENCHMARKS)
    assert all(len(row) == len(header) for row in rows)
    run.render(data)
    out = capsys.readouterr().out
    assert "walk_fire" in out
    assert "verify()" in out


def test_yaml_against_json_is_reported_for_both_variants(
    results: tuple[dict[str, Any], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.file_formats import TARGET

    data, _ = results
    files = data["files"]
    assert files["target"] == TARGET and list(files["variants"]) == ["values", "size_cap"]
    for variant in files["variants"].values():
        assert (variant["steps"], variant["actions"]) == (20, 60)
        for measure in ("parse", "load"):
            figures = variant[measure]["results"]
            assert set(figures) == {"yaml", "json"}
            assert all(_positive(f["median_us"]) and f["rounds"] == 3 for f in figures.values())
            ratio = figures["yaml"]["median_us"] / figures["json"]["median_us"]
            assert variant[measure]["ratio"] == pytest.approx(ratio)
        assert variant["met"] == (variant["load"]["ratio"] <= TARGET)
    values, padded = files["variants"]["values"], files["variants"]["size_cap"]
    assert padded["values"] == values["values"]  # longer texts, not more of them
    assert max(values["chars"].values()) < max(padded["chars"].values()) <= 30_000
    run.render(data)
    assert capsys.readouterr().out.count("YAML vs JSON load") == 2


def test_the_values_counted_are_those_yamls_cap_counts() -> None:
    from benchmarks.file_formats import values

    # The mapping, its keys a and c, the list, 1, the inner mapping, its key b, None and "x".
    assert values({"a": [1, {"b": None}], "c": "x"}) == 9


# --- the history-length scenario ------------------------------------------------------


@pytest.fixture(scope="module")
def history_only(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("bench") / "history.json"
    assert run.main([*TINY, "--history-only", "--json", str(path)]) == 0
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _check_history(history: dict[str, Any], lengths: list[int], interleaved: int) -> None:
    """The scenario's shape: both variants, one row per length near it, ratios and verdicts, bytes."""
    assert history["target"] == 1.5
    variants = history["fire_by_length"]
    assert list(variants) == ["one", "interleaved"]
    assert [v["cases"] for v in variants.values()] == [1, interleaved]
    window = history["config"]["window"]
    for variant in variants.values():
        rows = variant["by_length"]
        assert [row["length"] for row in rows] == lengths
        for row in rows:
            assert _positive(row["median_us"]) and _positive(row["cpu_median_us"])
            assert row["min_us"] <= row["median_us"]
            assert row["ops_per_round"] == variant["cases"] * window
            first, last = row["entries_timed"]
            assert last - first + 1 == window * row["samples_per_build"]
            assert first >= window + 1  # the untimed rounds came first
            assert first <= row["length"] <= last
        assert variant["ratio"] == pytest.approx(rows[-1]["median_us"] / rows[0]["median_us"])
        assert _positive(variant["cpu_ratio"])
        assert variant["min_ratio"] == pytest.approx(rows[-1]["min_us"] / rows[0]["min_us"])
        assert variant["met"] == (variant["ratio"] <= history["target"])
    assert history["met"] == all(v["met"] for v in variants.values())
    memory = history["memory"]
    assert memory["entries"] == 15
    for key in ("shared_evidence", "json_evidence"):
        assert memory[key]["cases"] == 5
        assert _positive(memory[key]["bytes_per_case"])
    for key in ("fire_vs_transitions", "fire_vs_transitions_paired"):
        versus = history[key]
        assert _positive(versus["resolveflow_us"]) and _positive(versus["transitions_us"])
        assert versus["ratio"] == pytest.approx(versus["resolveflow_us"] / versus["transitions_us"])


def test_the_full_run_includes_the_history_scenario(results: tuple[dict[str, Any], Path]) -> None:
    data, _ = results
    _check_history(data["history"], [6, 12], 3)
    walk_fire = data["benchmarks"]["walk_fire"]
    versus = data["history"]["fire_vs_transitions"]
    assert versus["ratio"] == pytest.approx(walk_fire["ratios"]["transitions"])


def test_history_only_runs_the_scenario_and_walk_fire(
    history_only: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert set(history_only) == {"meta", "walk_fire", "history"}
    assert list(history_only["walk_fire"]) == ["resolveflow", "transitions"]
    assert all(_positive(w["median_us"]) for w in history_only["walk_fire"].values())
    _check_history(history_only["history"], [6, 12], 3)
    run.render(history_only)
    out = capsys.readouterr().out
    assert out.count("fire by history length") == 2
    assert "MET" in out  # the verdict is printed, whatever it is
    assert "bytes per live case" in out
    assert out.count("fire vs bare transitions") == 2  # one after the other, and taking turns


def test_timed_fires_stay_near_the_length() -> None:
    from benchmarks.history_length import FULL, FireSample

    spans = {n: FireSample(n, 32, FULL).entries_timed for n in (10, 100, 1_000)}
    assert spans == {10: [9, 12], 100: [97, 104], 1_000: [951, 1_050]}
    sample = FireSample(12, 2, FULL)
    assert sample()[0] > 0 and sample()[0] > 0  # a fresh build each time (one sample per build)
    assert [len(case.history) for case in sample.live] == [14, 14]


def test_the_loop_methodology_keeps_its_guards_reading_the_index() -> None:
    from benchmarks.history_length import LOOP

    assert resolveflow.verify(LOOP).ok
    loop = LOOP.action("log_contact")
    assert loop is not None and loop.target is None
    assert {type(g).__name__ for g in loop.guards} == {"AfterStep", "Requires"}


def test_spread_reads_full_and_history_only_runs(
    results: tuple[dict[str, Any], Path], history_only: dict[str, Any]
) -> None:
    from benchmarks.spread import spread

    data, _ = results
    rows = {name: (values, low, high) for name, values, low, high in spread([data, history_only])}
    values, low, high = rows["fire vs bare transitions (walk_fire)"]
    assert len(values) == 2 and low == min(values) and high == max(values)
    assert len(rows["walk_fire rf/transitions"][0]) == 1  # a history-only run has no suite table
    assert len(rows["fire 12/6, 3 cases"][0]) == 2
    assert len(rows["fire vs bare transitions (walk_fire, taking turns)"][0]) == 2


@pytest.mark.parametrize(
    "argv", [["--history-lengths", "0"], ["--history-lengths", "x"], ["--history-cases", "1"]]
)
def test_history_options_are_checked(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        run.parse_config(argv)


def test_generated_methodology_has_the_asked_size_and_is_reproducible() -> None:
    from benchmarks.generated import generate

    first = generate(40, 160)
    assert len(first.steps) == 40
    assert len(first.actions) == 160
    assert first == generate(40, 160)
    assert any(g.name.startswith("after_") for a in first.actions for g in a.guards)


# --- resolveflow and a plain transitions Machine agree ------------------------------------


@attrs.frozen
class _Entry:
    """What guards read from a history entry (an index is built from these)."""

    action: str
    from_step: str
    step: str
    evidence: object | None
    at: Any
    actor: str


class _Model:
    state: str  # set by transitions' add_model

    def __init__(self) -> None:
        self.history: list[_Entry] = []


def _parse(action: resolveflow.Action, evidence: object) -> tuple[bool, object | None]:
    """The evidence as a typed record, with the same acceptance as a form post."""
    if action.evidence is None:
        return evidence is None or (isinstance(evidence, Mapping) and not evidence), None
    if evidence is None or not isinstance(evidence, Mapping | action.evidence):
        return False, None
    errors: list[tuple[str, str]] = []
    record = record_codec(action.evidence).load(evidence, "", errors)
    return not errors, record


def _condition(action: resolveflow.Action) -> Any:
    def condition(event: Any) -> bool:
        kwargs = event.kwargs
        valid, record = _parse(action, kwargs["evidence"])
        if not valid:
            kwargs["failed"].append("invalid_evidence")
            return False
        model: _Model = event.model
        history: Any = tuple(model.history)  # guards read .evidence, .from_step, .step
        context = GuardContext(
            step=model.state, history=history, evidence=record, at=kwargs["at"], actor=kwargs["actor"]
        )
        failed = [guard.name for guard in action.guards if guard.check(context) is not None]
        kwargs["failed"].extend(failed)
        kwargs["record"].append(record)
        return not failed

    return condition


def _append(event: Any) -> None:
    transition = event.transition
    event.model.history.append(
        _Entry(
            action=event.event.name,
            from_step=transition.source,
            step=transition.dest or transition.source,
            evidence=event.kwargs["record"][-1],
            at=event.kwargs["at"],
            actor=event.kwargs["actor"].id,
        )
    )


@functools.cache
def _plain_machine(key: tuple[str, str]) -> Machine:
    methodology = next(m for m in BUILTINS if m.key == key)
    return Machine(
        model=None,
        states=list(methodology.step_ids),
        initial=methodology.initial,
        transitions=[
            {
                "trigger": action.name,
                "source": source,
                "dest": action.target,
                "conditions": [_condition(action)],
            }
            for action in methodology.actions
            for source in action.sources
        ],
        auto_transitions=False,
        send_event=True,
        after_state_change=_append,
    )


# Both sides act as the same person, without roles: a role guard refuses alike on both.
AGREEMENT = resolveflow.Actor("agreement")


def _plain_fire(
    methodology: Methodology, model: Any, action: str, evidence: object, at: Any
) -> tuple[bool, tuple[str, ...]]:
    failed: list[str] = []
    try:
        moved = model.trigger(action, evidence=evidence, at=at, actor=AGREEMENT, failed=failed, record=[])
    except MachineError:
        closed = methodology.outcome(model.state) is not None
        return False, ("case_closed" if closed else "not_from_this_step",)
    return bool(moved), tuple(failed)


def _resolveflow_fire(case: resolveflow.Case, action: str, evidence: object) -> tuple[bool, tuple[str, ...]]:
    try:
        case.fire(action, evidence, actor=AGREEMENT)
    except Refused as refused:
        return False, refused.codes
    except InvalidEvidence:
        return False, ("invalid_evidence",)
    return True, ()


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_resolveflow_agrees_with_a_plain_transitions_machine(
    methodology: Methodology, data: st.DataObject
) -> None:
    moves = data.draw(action_sequences(methodology, max_size=25), label="moves")
    clock = ManualClock()
    case = resolveflow.open_case(methodology, case_id="agreement", clock=clock)
    machine = _plain_machine(methodology.key)
    model = _Model()
    machine.add_model(model)
    try:
        for index, (action, evidence) in enumerate(moves):
            ours = _resolveflow_fire(case, action, evidence)
            theirs = _plain_fire(methodology, model, action, evidence, clock())
            where = f"move {index}: {action} {evidence!r} at {case.step}"
            assert ours == theirs, where
            assert case.step == model.state, where
            assert [e.action for e in case.history] == [e.action for e in model.history], where
    finally:
        machine.remove_model(model)
