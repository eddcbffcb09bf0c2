"""The transitions engine: isolated in one module, one Machine per methodology, never leaking."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import threading
from pathlib import Path
from typing import Any

import pytest
import transitions
from hypothesis import given, settings
from hypothesis import strategies as st

import resolveflow
from resolveflow import Action, Methodology, Outcome, Refused, Step, UnknownAction, _engine
from resolveflow import evidence as ev
from resolveflow.guards import AfterStep, EvidenceIs, GuardContext, Requires, Rule
from resolveflow.methodologies import BUILTINS

SRC = Path(resolveflow.__file__).resolve().parent
T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
IMPORTS_TRANSITIONS = re.compile(
    r"^\s*(?:import\s+transitions\b|from\s+transitions(?:\.\w+)*\s+import\b)"
    r"|import_module\(\s*['\"]transitions|__import__\(\s*['\"]transitions",
    re.MULTILINE,
)


# --- isolation -----------------------------------------------------------------------


def test_only_the_engine_module_imports_transitions() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 5
    importers = [
        p.relative_to(SRC).as_posix() for p in files if IMPORTS_TRANSITIONS.search(p.read_text("utf-8"))
    ]
    assert importers == ["_engine.py"]


def test_the_pattern_recognises_imports() -> None:
    for line in ("import transitions", "from transitions import Machine", "  from transitions.core import X"):
        assert IMPORTS_TRANSITIONS.search(line), line
    for line in ("# transitions is hidden", "import transitionsx", "from mytransitions import Machine"):
        assert not IMPORTS_TRANSITIONS.search(line), line


def test_no_transitions_object_in_the_public_api() -> None:
    for module in (resolveflow, resolveflow.guards, resolveflow.diagrams, resolveflow.files):
        for name in module.__all__:
            obj = getattr(module, name)
            assert not (getattr(obj, "__module__", "") or "").startswith("transitions"), name


# --- one Machine per methodology, no models -------------------------------------------


def _seven_as_round(case: resolveflow.Case) -> None:
    case.check("acknowledge_feelings")
    case.actions(at=T0)
    case.fire("acknowledge_feelings", {"feelings": "Angry"}, actor="ana", at=T0)
    case.fire("hear_grievances", {"points": ["Late"], "customer_finished": True}, actor="ana", at=T0)
    with pytest.raises(Refused):
        case.fire("complete_plan", actor="ana", at=T0)
    case.check("give_apology", {"statement": "Sorry"}, at=T0)


@pytest.mark.parametrize("m", BUILTINS, ids=lambda m: m.id)
def test_each_methodology_has_one_engine_with_one_machine(m: Methodology) -> None:
    assert isinstance(m._engine, _engine.Engine)
    assert isinstance(m._engine._machine, transitions.Machine)
    assert m._engine.methodology_key == m.key
    assert set(_engine.Engine.__slots__) == {"_machine", "_table", "memo", "methodology_key"}
    # The dispatch table holds exactly the machine's transitions: one per (source, action).
    expected = {(source, a.name) for a in m.actions for source in a.sources}
    assert set(m._engine._table) == expected
    assert m._engine._machine.models == []
    assert list(m._engine._machine.states) == list(m.step_ids)
    assert m.id in m._engine._machine.name
    assert m.version in m._engine._machine.name


def test_opening_cases_adds_no_models_and_builds_no_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    m = resolveflow.get_methodology("seven-as")
    engine, machine = m._engine, m._engine._machine
    built: list[object] = []
    real_machine = _engine.Machine

    def counting_machine(*args: Any, **kwargs: Any) -> Any:
        built.append(kwargs.get("name"))
        return real_machine(*args, **kwargs)

    monkeypatch.setattr(_engine, "Machine", counting_machine)
    cases = [resolveflow.open_case("seven-as", case_id=f"engine-{i}") for i in range(100)]
    for case in cases:
        _seven_as_round(case)
        assert case.step == "apologize"
    assert machine.models == []
    assert built == []
    assert m._engine is engine
    assert engine._machine is machine
    for case in cases[:3]:
        assert case.methodology._engine is engine
        for attr in ("trigger", "to_acknowledge", "may_acknowledge_feelings", "is_acknowledge", "state"):
            assert not hasattr(case, attr), attr


def test_machine_events_are_exactly_the_actions_and_auto_transitions_are_off() -> None:
    for m in BUILTINS:
        machine = m._engine._machine
        assert machine.auto_transitions is False
        assert set(machine.events) == {a.name for a in m.actions}, m.id
        assert not [e for e in machine.events if e.startswith("to_")], m.id
        for a in m.actions:
            for source in a.sources:
                found = machine.get_transitions(trigger=a.name, source=source)
                assert len(found) == 1, (m.id, a.name, source)
                assert found[0].dest == a.target


def test_no_auto_transition_even_when_a_step_could_be_jumped_to() -> None:
    case = resolveflow.open_case("seven-as", case_id="engine-auto")
    with pytest.raises(UnknownAction) as info:
        case.fire("to_resolved", actor="ana")
    assert info.value.available == ("acknowledge_feelings",)
    assert case.step == "acknowledge"


def test_an_action_named_to_step_is_an_ordinary_action() -> None:
    m = Methodology(
        id="to-names",
        version="1.0",
        title="Actions named like auto transitions",
        source="tests/test_engine.py",
        steps=(Step(id="a", title="A"), Step(id="b", title="B")),
        outcomes=(Outcome(id="done", title="Done", successful=True),),
        actions=(
            Action(name="to_b", sources="a", target="b", title="To b"),
            Action(name="trigger", sources="b", target="done", title="Finish"),
        ),
        initial="a",
        required_steps=("a", "b"),
    )
    assert set(m._engine._machine.events) == {"to_b", "trigger"}
    case = resolveflow.open_case(m, case_id="c")
    assert case.check("trigger").refusals[0].code == "not_from_this_step"
    case.fire("to_b", actor="ana")
    case.fire("trigger", actor="ana")
    assert case.step == "done"
    assert m._engine._machine.models == []


# --- transitions' errors never reach the caller ----------------------------------------


@pytest.mark.parametrize("m", BUILTINS, ids=lambda m: m.id)
def test_actions_from_the_wrong_step_are_refused_not_machine_errors(m: Methodology) -> None:
    case = resolveflow.open_case(m, case_id="engine-wrong")
    for a in m.actions:
        if m.initial in a.sources:
            continue
        decision = case.check(a.name)
        assert not decision.allowed
        assert [r.code for r in decision.refusals] == ["not_from_this_step"]
        assert decision.refusals[0].missing == tuple(f"step:{s}" for s in a.sources)
        # a MachineError would escape pytest.raises(Refused) and fail the test
        with pytest.raises(Refused) as info:
            case.fire(a.name, actor="ana")
        assert info.value.codes == ("not_from_this_step",)
        assert not isinstance(info.value, transitions.MachineError)
    assert case.history == ()


def test_a_closed_case_refuses_everything() -> None:
    case = resolveflow.open_case(resolveflow.get_methodology("prescription", "1.0"), case_id="engine-closed")
    case.fire("declare_cannot_satisfy", {"reason": "Nothing will do."}, actor="ana", at=T0)
    assert case.closed
    m = case.methodology
    for a in m.actions:
        assert [r.code for r in case.check(a.name).refusals] == ["case_closed"]
        with pytest.raises(Refused) as info:
            case.fire(a.name, actor="ana", at=T0)
        assert info.value.codes == ("case_closed",)
    assert case.actions(at=T0) == ()


def test_the_engine_wraps_machine_errors_itself() -> None:
    m = resolveflow.get_methodology("seven-as")
    context = GuardContext(step="resolved", history=(), evidence=None, at=T0)
    with pytest.raises(_engine.EngineError) as info:
        m._engine.decide_through_transitions("resolved", "acknowledge_feelings", context)
    assert not isinstance(info.value, transitions.MachineError)
    assert isinstance(info.value.__cause__, transitions.MachineError)
    with pytest.raises(_engine.EngineError):
        m._engine.decide_through_transitions("acknowledge", "no_such_event", context)
    # The table path refuses the same calls with the same error type.
    with pytest.raises(_engine.EngineError, match="no transition"):
        m._engine.decide("resolved", "acknowledge_feelings", context)
    with pytest.raises(_engine.EngineError, match="no transition"):
        m._engine.decide("acknowledge", "no_such_event", context)


def test_transitions_logs_nothing_below_warning(caplog: pytest.LogCaptureFixture) -> None:
    assert logging.getLogger("transitions").getEffectiveLevel() >= logging.WARNING
    with caplog.at_level(logging.DEBUG):
        case = resolveflow.open_case("seven-as", case_id="engine-log")
        case.fire("acknowledge_feelings", {"feelings": "Angry"}, actor="ana", at=T0)
    assert [r for r in caplog.records if r.name.startswith("transitions")] == []


# --- guards: all evaluated, all reported -------------------------------------------------


def _guarded(*guards: Any) -> Methodology:
    return Methodology(
        id="guarded",
        version="1.0",
        title="Guarded",
        source="tests/test_engine.py",
        steps=(Step(id="start", title="Start"), Step(id="other", title="Other")),
        outcomes=(Outcome(id="done", title="Done", successful=True),),
        actions=(
            Action(
                name="finish",
                sources=("start", "other"),
                target="done",
                title="Finish",
                evidence=ev.SatisfactionConfirmation,
                guards=guards,
            ),
            Action(name="note", sources="start", target=None, title="Note"),
        ),
        initial="start",
        required_steps=("start",),
    )


def test_every_guard_is_evaluated_and_every_failure_reported() -> None:
    calls: list[str] = []

    def rule(name: str, result: Any) -> Rule:
        def predicate(ctx: GuardContext) -> Any:
            calls.append(name)
            return result

        return Rule(name=name, message=f"{name} says no.", predicate=predicate)

    m = _guarded(
        rule("first_fails", False),
        rule("passes", True),
        AfterStep(step="other"),
        Requires(record=ev.Plan),
        rule("lists_missing", ["x", "y"]),
        EvidenceIs(field="satisfied", equals=True, name="must_be_satisfied", message="Satisfied?"),
        rule("last_passes", []),
    )
    case = resolveflow.open_case(m, case_id="engine-guards")
    expected = ["first_fails", "after_other", "requires_plan", "lists_missing", "must_be_satisfied"]

    decision = case.check("finish", {"satisfied": False}, at=T0)
    assert [r.code for r in decision.refusals] == expected
    assert decision.refusals[3].missing == ("x", "y")
    assert calls == ["first_fails", "passes", "lists_missing", "last_passes"]

    calls.clear()
    with pytest.raises(Refused) as info:
        case.fire("finish", {"satisfied": False}, actor="ana", at=T0)
    assert list(info.value.codes) == expected
    assert calls == ["first_fails", "passes", "lists_missing", "last_passes"]
    for code in expected:
        assert f"[{code}]" in str(info.value)

    # without evidence the evidence guard is pending, the others still all reported
    decision = case.check("finish", at=T0)
    assert [r.code for r in decision.refusals] == expected[:-1]
    assert decision.pending == ("must_be_satisfied",)
    assert case.history == ()


def test_guards_all_pass() -> None:
    m = _guarded(Rule(name="ok", message="ok", predicate=lambda ctx: True))
    case = resolveflow.open_case(m, case_id="engine-ok")
    assert case.check("finish", {"satisfied": True}, at=T0).allowed
    case.fire("finish", {"satisfied": True}, actor="ana", at=T0)
    assert case.step == "done"


def test_an_action_without_target_stays() -> None:
    m = _guarded()
    case = resolveflow.open_case(m, case_id="engine-stay")
    entry = case.fire("note", actor="ana", at=T0)
    assert (entry.from_step, entry.step, case.step) == ("start", "start", "start")
    assert case.check("note").target == "start"


def test_a_guard_error_is_not_swallowed() -> None:
    def boom(ctx: GuardContext) -> bool:
        raise ZeroDivisionError("boom")

    case = resolveflow.open_case(_guarded(Rule(name="boom", message="m", predicate=boom)), case_id="x")
    with pytest.raises(ZeroDivisionError):
        case.check("finish", at=T0)
    assert case.history == ()


def test_cases_on_one_machine_in_threads() -> None:
    m = resolveflow.get_methodology("seven-as")
    errors: list[BaseException] = []
    steps: list[str] = []

    def run(i: int) -> None:
        try:
            for j in range(20):
                case = resolveflow.open_case(m, case_id=f"thread-{i}-{j}")
                _seven_as_round(case)
                steps.append(case.step)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert steps == ["apologize"] * 160
    assert m._engine._machine.models == []


# --- property: the engine agrees with a plain model of the rules -------------------------

RESULTS = st.sampled_from([True, False, (), ("missing",)])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Methodology, list[str]]:
    n_steps = draw(st.integers(1, 4))
    step_ids = [f"s{i}" for i in range(n_steps)]
    outcome_ids = ["won", "lost"]
    nodes = step_ids + outcome_ids
    specs = [(step_ids[i], [*step_ids, "won"][i + 1]) for i in range(n_steps)]
    for _ in range(draw(st.integers(0, 5))):
        sources = draw(st.lists(st.sampled_from(step_ids), min_size=1, max_size=n_steps, unique=True))
        specs.append((tuple(sources), draw(st.none() | st.sampled_from(nodes))))
    actions = []
    for index, (sources, target) in enumerate(specs):
        results = draw(st.lists(RESULTS, max_size=3))
        guards = tuple(
            Rule(name=f"g{k}", message=f"Guard {k}.", predicate=lambda ctx, r=result: r)
            for k, result in enumerate(results)
        )
        actions.append(
            Action(name=f"a{index}", sources=sources, target=target, title=f"A{index}", guards=guards)
        )
    m = Methodology(
        id="prop",
        version="1.0",
        title="Property",
        source="hypothesis",
        steps=tuple(Step(id=s, title=s) for s in step_ids),
        outcomes=(
            Outcome(id="won", title="Won", successful=True),
            Outcome(id="lost", title="Lost", successful=False),
        ),
        actions=tuple(actions),
        initial="s0",
        required_steps=("s0",),
    )
    names = [a.name for a in actions] + ["not_an_action", "to_won"]
    return m, draw(st.lists(st.sampled_from(names), max_size=20))


def _failing(action: Action) -> list[str]:
    failing = []
    for guard in action.guards:
        result = guard.predicate(None)
        if result is False or (result is not True and tuple(result)):
            failing.append(guard.name)
    return failing


@given(scenarios())
def test_engine_matches_a_model_of_the_rules(scenario: tuple[Methodology, list[str]]) -> None:
    m, sequence = scenario
    case = resolveflow.open_case(m, case_id="prop")
    step = m.initial
    for name in sequence:
        action = m.action(name)
        if action is None:
            with pytest.raises(UnknownAction):
                case.fire(name, actor="ana")
            continue
        if m.outcome(step) is not None:
            expected = ["case_closed"]
        elif step not in action.sources:
            expected = ["not_from_this_step"]
        else:
            expected = _failing(action)
        decision = case.check(name)
        assert [r.code for r in decision.refusals] == expected
        if expected:
            with pytest.raises(Refused) as info:
                case.fire(name, actor="ana")
            assert list(info.value.codes) == expected
        else:
            assert decision.allowed
            entry = case.fire(name, actor="ana")
            step = action.target_from(step)
            assert entry.step == step
        assert case.step == step
    assert m._engine._machine.models == []
    assert case.verify_chain()


# --- the compiled dispatch table agrees with transitions' own trigger ------------


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
@settings(max_examples=30)
@given(data=st.data())
def test_table_dispatch_agrees_with_transitions_trigger(methodology: Any, data: st.DataObject) -> None:
    import resolveflow.testing

    walk = data.draw(resolveflow.testing.action_sequences(methodology, max_size=10))
    case = resolveflow.open_case(methodology, case_id="table", clock=resolveflow.testing.ManualClock())
    engine = methodology._engine
    for name, evidence in walk:
        spec = methodology.action(name)
        if case.step in spec.sources and not case.closed:
            from resolveflow._ledger import load_evidence as _load_evidence
            from resolveflow.guards import GuardContext

            record, _, _ = _load_evidence(spec, evidence)
            context = GuardContext(step=case.step, history=case.history, evidence=record, at=case.now())
            assert engine.decide(case.step, name, context) == engine.decide_through_transitions(
                case.step, name, context
            )
        with contextlib.suppress(resolveflow.Refused, resolveflow.InvalidEvidence):
            case.fire(name, evidence, actor="t")


def test_only_answers_that_cannot_depend_on_the_case_are_remembered() -> None:
    """check() remembers a decision per (step, action) only when every guard waits for evidence."""
    m = resolveflow.get_methodology("seven-as", "1.0")
    case = resolveflow.open_case(m, case_id="MEMO-1")
    for name, evidence in [
        ("acknowledge_feelings", {"feelings": "Upset."}),
        ("hear_grievances", {"points": ["late"], "customer_finished": True}),
        ("give_apology", {"statement": "Sorry."}),
        ("give_assurance", {"commitment": "We will fix it."}),
    ]:
        assert case.check(name).allowed
        case.fire(name, evidence, actor="a")
    assert case.check("complete_plan").allowed is False  # not from this step: nothing remembered
    assert case.check("agree_plan").pending == ("plan_is_sound",)
    for (step, action), decision in m._engine.memo.items():
        _, condition = m._engine.route(step, action)
        assert not condition.plain, action  # no guard of it can look at the case
        assert decision.allowed and decision.action == action
    assert ("agree", "agree_plan") in m._engine.memo  # SoundPlan reads the evidence only
    other = resolveflow.open_case(m, case_id="MEMO-2")  # another case, same step: the same answer object
    assert other.check("acknowledge_feelings") is m._engine.memo[("acknowledge", "acknowledge_feelings")]
