"""The public testing kit itself: its strategies are right, and it catches a skippable methodology."""

from __future__ import annotations

import contextlib

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

import resolveflow
import resolveflow.testing
from resolveflow import Action
from resolveflow._schema import INVALID, record_codec
from resolveflow.methodologies import BUILTINS
from resolveflow.testing import ManualClock

PAIRS = [(m, a) for m in BUILTINS for a in m.actions]


def skippable() -> resolveflow.Methodology:
    """Prescription with a shortcut from remedy_now straight to resolved."""
    m = resolveflow.get_methodology("prescription")
    shortcut = Action(name="skip_prevention", sources="remedy_now", target="resolved", title="Skip")
    return attrs.evolve(m, id="leaky-prescription", actions=(*m.actions, shortcut))


@pytest.mark.parametrize(("methodology", "action"), PAIRS, ids=[f"{m.id}.{a.name}" for m, a in PAIRS])
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_evidence_for_is_always_valid_for_the_schema(
    methodology: resolveflow.Methodology, action: Action, data: st.DataObject
) -> None:
    value = data.draw(resolveflow.testing.evidence_for(methodology, action.name))
    if action.evidence is None:
        assert value in (None, {})
        return
    errors: list[tuple[str, str]] = []
    assert record_codec(action.evidence).load(value, "", errors) is not INVALID, errors


FIRST = [(m, a) for m, a in PAIRS if m.initial in a.sources]


@pytest.mark.parametrize(("methodology", "action"), FIRST, ids=[f"{m.id}.{a.name}" for m, a in FIRST])
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_invalid_evidence_for_is_always_rejected(
    methodology: resolveflow.Methodology, action: Action, data: st.DataObject
) -> None:
    value = data.draw(resolveflow.testing.invalid_evidence_for(methodology, action))
    # A fresh case stands where the action is possible, so only the evidence can be wrong;
    # actions of later steps are covered by the walk below.
    case = resolveflow.open_case(methodology, case_id="kit")
    with pytest.raises(resolveflow.InvalidEvidence):
        case.fire(action.name, value, actor="kit")
    assert case.history == ()


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_invalid_evidence_is_rejected_at_every_step(
    methodology: resolveflow.Methodology, data: st.DataObject
) -> None:
    """Walk somewhere, then send broken evidence for an action of that step."""
    walk = data.draw(resolveflow.testing.action_sequences(methodology, max_size=8))
    case = resolveflow.open_case(methodology, case_id="kit", clock=ManualClock())
    for name, evidence in walk:
        with contextlib.suppress(resolveflow.Refused, resolveflow.InvalidEvidence):
            case.fire(name, evidence, actor="kit")
    here = [a for a in methodology.actions_from(case.step) if a.evidence is not None]
    if not here:
        return
    action = data.draw(st.sampled_from(here))
    broken = data.draw(resolveflow.testing.invalid_evidence_for(methodology, action))
    before = case.history
    with pytest.raises(resolveflow.InvalidEvidence):
        case.fire(action.name, broken, actor="kit")
    assert case.history == before


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
@given(data=st.data())
def test_action_sequences_replay_and_refusals_change_nothing(
    methodology: resolveflow.Methodology, data: st.DataObject
) -> None:
    walk = data.draw(resolveflow.testing.action_sequences(methodology, max_size=12))
    case = resolveflow.open_case(methodology, case_id="kit", clock=ManualClock())
    for name, evidence in walk:
        before = case.history
        try:
            case.fire(name, evidence, actor="kit")
        except (resolveflow.Refused, resolveflow.InvalidEvidence):
            assert case.history == before
        else:
            assert len(case.history) == len(before) + 1


def test_action_sequences_mix_accepted_and_refused_moves() -> None:
    accepted = refused = 0

    @settings(max_examples=40, derandomize=True)
    @given(resolveflow.testing.action_sequences("seven-as", max_size=15))
    def run(walk: list[tuple[str, object]]) -> None:
        nonlocal accepted, refused
        case = resolveflow.open_case("seven-as", case_id="kit", clock=ManualClock())
        for name, evidence in walk:
            try:
                case.fire(name, evidence, actor="kit")
                accepted += 1
            except (resolveflow.Refused, resolveflow.InvalidEvidence):
                refused += 1

    run()
    assert accepted > 0 and refused > 0


def test_case_machine_catches_a_skippable_methodology_on_its_own() -> None:
    """Without the proof, the Hypothesis run alone finds the shortcut."""
    machine = resolveflow.testing.case_machine(skippable())
    # Finding it is the point; shrinking a stateful failure is slow and proves nothing more here.
    fast = settings(
        max_examples=200,
        stateful_step_count=30,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],
    )
    with pytest.raises(AssertionError, match="skipping the required order"):
        run_state_machine_as_test(machine, settings=fast)


def test_assert_no_step_skippable_fails_with_the_counterexample_path() -> None:
    with pytest.raises(AssertionError) as info:
        resolveflow.testing.assert_no_step_skippable(skippable())
    message = str(info.value)
    assert "required_step_skippable" in message
    assert "remedy_now --skip_prevention--> resolved" in message
    assert "acknowledge --acknowledge_problem--> remedy_now" in message


@pytest.mark.parametrize("methodology", resolveflow.available())
def test_assert_no_step_skippable_passes_on_builtins(methodology: str) -> None:
    resolveflow.testing.assert_no_step_skippable(methodology, max_examples=10, step_count=20)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(resolveflow.InvalidInput, match=r"no action 'fly'.*actions are"):
        resolveflow.testing.evidence_for("engage", "fly")
    with pytest.raises(resolveflow.UnknownMethodology):
        resolveflow.testing.case_machine("nope")
    with pytest.raises(resolveflow.InvalidInput, match="max_size"):
        resolveflow.testing.action_sequences("engage", max_size=-1)
    with pytest.raises(resolveflow.InvalidInput, match="Methodology"):
        resolveflow.testing.evidence_for(3, "x")  # type: ignore[arg-type]


def test_manual_clock() -> None:
    clock = ManualClock()
    start = clock()
    assert clock.advance(minutes=5) - start == __import__("datetime").timedelta(minutes=5)
    with pytest.raises(resolveflow.InvalidInput, match="forward"):
        clock.advance(minutes=-1)
    with pytest.raises(resolveflow.InvalidInput):
        ManualClock(start=__import__("datetime").datetime(2026, 1, 1))
    assert "ManualClock(" in repr(clock)


def test_plugin_fixtures(resolveflow_case, resolveflow_clock) -> None:  # type: ignore[no-untyped-def]
    case = resolveflow_case("seven-as")
    other = resolveflow_case("seven-as")
    assert case.id != other.id
    resolveflow_clock.advance(hours=3)
    entry = case.fire("acknowledge_feelings", {"feelings": "upset"}, actor="a")
    assert entry.at == resolveflow_clock.now


def test_plugin_is_registered_through_the_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_uses_fixture(resolveflow_case, resolveflow_clock):
            case = resolveflow_case("prescription", case_id="P-1")
            assert case.id == "P-1"
            assert not case.check("remedy").allowed
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_two_line_user_test_collects(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import resolveflow.testing
        from hypothesis import settings
        TestFlow = resolveflow.testing.case_machine("engage").TestCase
        TestFlow.settings = settings(max_examples=5, stateful_step_count=10, deadline=None)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
