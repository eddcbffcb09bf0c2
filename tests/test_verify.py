"""verify(): proofs and counterexamples, on broken methodologies and on random graphs."""

from __future__ import annotations

import itertools
import json

import attrs
import pytest
from hypothesis import given

import resolveflow
from resolveflow import Action, Methodology, Outcome, Step
from resolveflow import evidence as ev
from resolveflow.methodologies import BUILTINS
from tests.strategies import random_methodologies


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_builtins_verify_clean(methodology: Methodology) -> None:
    report = resolveflow.verify(methodology)
    assert report.ok, str(report)
    assert report.findings == ()
    assert report.methodology == methodology.key
    assert "verified" in str(report)


def linear(*extra_actions: Action, extra_steps: tuple[Step, ...] = (), **changes: object) -> Methodology:
    """a -> b -> c -> done, required a, b, c; plus whatever a test adds."""
    base = Methodology(
        id="linear",
        version="1.0",
        title="Linear",
        source="tests",
        steps=(Step(id="a", title="A"), Step(id="b", title="B"), Step(id="c", title="C"), *extra_steps),
        outcomes=(
            Outcome(id="done", title="Done", successful=True),
            Outcome(id="lost", title="Lost", successful=False),
        ),
        actions=(
            Action(name="ab", sources="a", target="b", title="a to b"),
            Action(name="bc", sources="b", target="c", title="b to c"),
            Action(name="finish", sources="c", target="done", title="finish"),
            Action(name="give_up", sources=("a", "b", "c"), target="lost", title="give up"),
            *extra_actions,
        ),
        initial="a",
        required_steps=("a", "b", "c"),
    )
    return attrs.evolve(base, **changes) if changes else base


def only(report: resolveflow.VerificationReport) -> resolveflow.Finding:
    assert len(report.findings) == 1, str(report)
    return report.findings[0]


def test_linear_is_clean() -> None:
    assert resolveflow.verify(linear()).ok


def test_shortcut_around_a_required_step() -> None:
    finding = only(resolveflow.verify(linear(Action(name="jump", sources="a", target="c", title="jump"))))
    assert finding.code == "required_step_skippable"
    assert finding.step == "b"
    assert finding.actions == ("jump", "finish")
    assert [(p.from_step, p.to_step) for p in finding.path] == [("a", "c"), ("c", "done")]
    assert "without passing 'b'" in finding.message


def test_shortcut_straight_to_the_outcome() -> None:
    finding = only(resolveflow.verify(linear(Action(name="win", sources="b", target="done", title="win"))))
    assert (finding.code, finding.step, finding.actions) == ("required_step_skippable", "c", ("ab", "win"))


def test_a_guard_that_blocks_the_shortcut_is_a_proof() -> None:
    guarded = Action(
        name="jump", sources="a", target="c", title="jump", guards=(resolveflow.guards.AfterStep(step="b"),)
    )
    report = resolveflow.verify(linear(guarded))
    # The jump can never pass its guard from 'a': no skip, but a dead action.
    assert report.codes() == ("guard_never_satisfiable",)
    assert report.findings[0].action == "jump"


def test_evidence_guard_blocks_the_shortcut() -> None:
    record_at_b = attrs.evolve(linear().actions[1], evidence=ev.Assurance)
    jump = Action(
        name="jump", sources=("a", "b"), target="c", title="jump",
        guards=(resolveflow.guards.Requires(record=ev.Assurance),),
    )  # fmt: skip
    m = linear(jump)
    m = attrs.evolve(m, actions=(m.actions[0], record_at_b, *m.actions[2:]))
    report = resolveflow.verify(m)
    # The assurance is recorded when leaving b, so the jump can pass from neither a nor b.
    assert report.codes() == ("guard_never_satisfiable", "guard_never_satisfiable")
    assert [(f.action, f.step) for f in report.findings] == [("jump", "a"), ("jump", "b")]


def test_required_steps_out_of_order() -> None:
    finding = only(resolveflow.verify(linear(required_steps=("b", "a", "c"))))
    assert finding.code == "required_steps_out_of_order"
    assert finding.step == "a"
    assert finding.actions == ("ab", "bc", "finish")


def test_unreachable_step() -> None:
    report = resolveflow.verify(
        linear(
            Action(name="island_exit", sources="island", target="done", title="leave"),
            extra_steps=(Step(id="island", title="Island"),),
        )
    )
    finding = only(report)
    assert (finding.code, finding.step, finding.path) == ("unreachable_step", "island", ())


def test_dead_end() -> None:
    report = resolveflow.verify(
        linear(
            Action(name="fall", sources="b", target="pit", title="fall"),
            Action(name="scream", sources="pit", target=None, title="scream"),
            extra_steps=(Step(id="pit", title="Pit"),),
        )
    )
    finding = only(report)
    assert (finding.code, finding.step, finding.actions) == ("dead_end", "pit", ("ab", "fall"))


def test_trap_cycle_with_no_way_out() -> None:
    report = resolveflow.verify(
        linear(
            Action(name="enter", sources="c", target="x", title="enter"),
            Action(name="xy", sources="x", target="y", title="x to y"),
            Action(name="yx", sources="y", target="x", title="y to x"),
            extra_steps=(Step(id="x", title="X"), Step(id="y", title="Y")),
        )
    )
    assert report.codes() == ("trap", "trap")
    x, y = report.findings
    assert (x.step, x.actions) == ("x", ("ab", "bc", "enter"))
    assert (y.step, y.actions) == ("y", ("ab", "bc", "enter", "xy"))


def test_guard_on_evidence_never_recorded() -> None:
    needs_plan = Action(
        name="act_on_plan", sources="b", target="c", title="act",
        guards=(resolveflow.guards.Requires(record=ev.Plan, name="plan_recorded"),),
    )  # fmt: skip
    m = linear()
    m = attrs.evolve(m, actions=(m.actions[0], needs_plan, *m.actions[2:]))
    report = resolveflow.verify(m)
    # The only way from b to c needs a plan nobody records: a dead action and,
    # as a consequence, c and done are unreachable.
    assert report.codes() == (
        "no_successful_outcome",
        "unreachable_step",
        "unreachable_step",
        "guard_never_satisfiable",
    )
    finding = report.findings[-1]
    assert (finding.action, finding.guard, finding.step, finding.actions) == (
        "act_on_plan",
        "plan_recorded",
        "b",
        ("ab",),
    )
    assert "needs plan" in finding.message


def test_guard_satisfiable_on_some_path_is_not_a_finding() -> None:
    """Branch-selection guards (evidence present on one branch only) are legitimate."""
    report = resolveflow.verify(resolveflow.get_methodology("five-steps"))
    assert report.ok


def test_report_json_and_text() -> None:
    report = resolveflow.verify(linear(Action(name="jump", sources="a", target="c", title="jump")))
    data = json.loads(json.dumps(report.to_json()))
    assert data["ok"] is False
    assert data["findings"][0]["path"][0] == {"action": "jump", "from_step": "a", "to_step": "c"}
    assert "a --jump--> c" in str(report)


def test_verify_rejects_non_methodologies() -> None:
    with pytest.raises(resolveflow.InvalidInput, match="Methodology"):
        resolveflow.verify("seven-as")  # type: ignore[arg-type]


# --- random graphs: verify agrees with brute-force path enumeration ---------


def walks(m: Methodology, max_len: int) -> itertools.chain[list[Action]]:
    def extend(node: str, path: list[Action]) -> itertools.chain[list[Action]]:
        yield path
        if len(path) >= max_len or m.outcome(node):
            return
        for action in m.actions_from(node):
            yield from extend(action.target_from(node), [*path, action])

    return itertools.chain(extend(m.initial, []))


def is_subsequence(needle: tuple[str, ...], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(step in it for step in needle)


@given(random_methodologies())
def test_skip_findings_agree_with_brute_force(m: Methodology) -> None:
    report = resolveflow.verify(m)
    skips = [f for f in report.findings if f.code.startswith("required_step")]
    shortest_brute = None
    for path in walks(m, 7):
        visited = [m.initial]
        node = m.initial
        for action in path:
            node = action.target_from(node)
            visited.append(node)
        skipped = node == "win" and not is_subsequence(m.required_steps, visited)
        if skipped and (shortest_brute is None or len(path) < shortest_brute):
            shortest_brute = len(path)
    if shortest_brute is not None:
        assert skips, f"brute force found a skip of length {shortest_brute}; verify found none"
        assert min(len(f.path) for f in skips) <= shortest_brute
    for finding in skips:
        # Every counterexample is a real walk: fire it on a real case.
        case = resolveflow.open_case(m, case_id="cx")
        for step in finding.path:
            entry = case.fire(step.action, actor="prover")
            assert entry.step == step.to_step
        assert case.outcome is not None and case.outcome.successful
        assert not is_subsequence(m.required_steps, list(case.path))
    if not skips:
        assert shortest_brute is None


@given(random_methodologies())
def test_reachability_findings_agree_with_brute_force(m: Methodology) -> None:
    report = resolveflow.verify(m)
    reachable = {m.initial}
    frontier = [m.initial]
    while frontier:
        node = frontier.pop()
        for action in m.actions_from(node):
            nxt = action.target_from(node)
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    unreachable = {f.step for f in report.findings if f.code == "unreachable_step"}
    assert unreachable == set(m.step_ids) - reachable
    assert ("no_successful_outcome" in report.codes()) == ("win" not in reachable)
