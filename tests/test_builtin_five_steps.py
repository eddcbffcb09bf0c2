"""five-steps: every rule its module docstring claims.

Rules (src/resolveflow/methodologies/five_steps.py, encoded from the article its ``source`` cites):
- no apology before the customer's account was heard: refused at listen,
  allowed from analyze on;
- decide records a specific solution and the loss it answers, or judges the
  case unresolvable;
- address may hand the case to a colleague; the case stays and keeps its history;
- close_resolved needs the solution delivered, close_unresolvable the judgement;
  both outcomes pass through evaluate, and only "resolved" is successful.
"""

from __future__ import annotations

import pytest

import resolveflow
from tests._builtin_support import (
    ACTOR,
    REQUIRED_STEPS,
    assert_invalid,
    assert_moves,
    assert_refused,
    case_at,
    fire,
    methodology,
)
from tests.conftest import FakeClock

ID = "five-steps"
APOLOGY = {"statement": "I am sorry this happened."}
DECISION = {"solution": "Refund the duplicate charge", "answers": "The money lost"}
JUDGEMENT = {"reason": "The product was discontinued by the maker."}
DELIVERY = {"summary": "Explained the refund politely."}
EVALUATION = {"minutes_taken": 40, "how_it_went": "Long but calm."}
APOLOGY_STEPS = ("step:analyze", "step:decide", "step:address", "step:evaluate")


def unresolvable_case(clock: FakeClock) -> resolveflow.Case:
    case = case_at(ID, "decide", clock)
    fire(case, "judge_unresolvable", JUDGEMENT, clock=clock)
    assert case.step == "evaluate"
    return case


def test_apology_is_refused_at_listen(clock: FakeClock) -> None:
    case = case_at(ID, "listen", clock)
    assert_refused(case, "apologize", APOLOGY, [("not_from_this_step", APOLOGY_STEPS)])


@pytest.mark.parametrize("step", ["analyze", "decide", "address"])
def test_apology_is_allowed_from_analyze_on_and_stays_at_the_step(clock: FakeClock, step: str) -> None:
    case = case_at(ID, step, clock)
    path = case.path
    assert_moves(case, "apologize", {**APOLOGY, "admits_fault": True}, step)
    assert case.path == path


@pytest.mark.parametrize("route", ["delivered", "judged_unresolvable"])
def test_apology_is_also_allowed_at_evaluate(clock: FakeClock, route: str) -> None:
    """The docstring says an apology is offered "from analyze onwards"; evaluate comes after analyze.

    At evaluate the agent still talks to the customer (it asks for their
    feedback), and the source only warns against *opening* with an apology.
    """
    case = case_at(ID, "evaluate", clock) if route == "delivered" else unresolvable_case(clock)
    assert_moves(case, "apologize", APOLOGY, "evaluate")


def test_decide_can_go_to_address(clock: FakeClock) -> None:
    case = case_at(ID, "decide", clock)
    assert_moves(case, "decide_solution", {**DECISION, "value": 12.5}, "address")


def test_decide_needs_a_specific_solution_and_what_it_answers(clock: FakeClock) -> None:
    case = case_at(ID, "decide", clock)
    assert_invalid(case, "decide_solution", {"solution": "Refund"}, ("answers",))
    assert_invalid(case, "decide_solution", {**DECISION, "value": -1}, ("value",))


def test_decide_can_judge_the_case_unresolvable(clock: FakeClock) -> None:
    case = case_at(ID, "decide", clock)
    assert_moves(case, "judge_unresolvable", JUDGEMENT, "evaluate")


def test_hand_off_keeps_the_case_at_address_with_its_history(clock: FakeClock) -> None:
    case = case_at(ID, "address", clock)
    before = case.history
    path = case.path
    entry = assert_moves(case, "hand_off", {"to": "Sam", "reason": "Better with difficult calls."}, "address")
    assert case.history[: len(before)] == before
    assert [e.hash for e in case.history[: len(before)]] == [e.hash for e in before]
    assert (entry.from_step, entry.step) == ("address", "address")
    assert case.path == path
    assert case.verify_chain()
    # The colleague carries on from where it was.
    case.fire("deliver_solution", DELIVERY, actor="sam")
    assert case.step == "evaluate"
    assert case.history[-1].actor == "sam"
    assert case.history[-2].actor == ACTOR


def test_hand_off_only_at_address(clock: FakeClock) -> None:
    case = case_at(ID, "decide", clock)
    assert_refused(
        case,
        "hand_off",
        {"to": "Sam", "reason": "Better with difficult calls."},
        [("not_from_this_step", ("step:address",))],
    )


def test_close_resolved_requires_the_solution_delivered(clock: FakeClock) -> None:
    case = unresolvable_case(clock)
    assert_refused(case, "close_resolved", EVALUATION, [("solution_delivered", ("solution_delivery",))])


def test_close_unresolvable_requires_the_unresolvable_judgement(clock: FakeClock) -> None:
    case = case_at(ID, "evaluate", clock)
    assert_refused(
        case, "close_unresolvable", EVALUATION, [("judged_unresolvable", ("unresolvable_judgement",))]
    )


def test_resolved_passes_through_evaluate(clock: FakeClock) -> None:
    case = case_at(ID, "evaluate", clock)
    assert_invalid(case, "close_resolved", {"how_it_went": "Fine."}, ("minutes_taken",))
    assert_moves(case, "close_resolved", EVALUATION, "resolved")
    assert case.path == (*REQUIRED_STEPS[ID], "resolved")
    assert case.outcome is not None
    assert case.outcome.successful


def test_unresolvable_passes_through_evaluate_and_is_not_successful(clock: FakeClock) -> None:
    case = unresolvable_case(clock)
    assert_moves(
        case, "close_unresolvable", {**EVALUATION, "customer_feedback": "Disappointed."}, "unresolvable"
    )
    assert case.path == ("listen", "analyze", "decide", "evaluate", "unresolvable")
    assert case.closed
    assert case.outcome is not None
    assert case.outcome.id == "unresolvable"
    assert not case.outcome.successful
    assert "unresolvable" not in methodology(ID).successful_outcomes


def test_every_outcome_is_reached_only_from_evaluate() -> None:
    m = methodology(ID)
    outcomes = {o.id for o in m.outcomes}
    assert outcomes == {"resolved", "unresolvable"}
    for action in m.actions:
        if action.target in outcomes:
            assert action.sources == ("evaluate",), action.name


def test_deliver_needs_the_address_step(clock: FakeClock) -> None:
    case = case_at(ID, "decide", clock)
    assert_refused(case, "deliver_solution", DELIVERY, [("not_from_this_step", ("step:address",))])


# --- version 1.1 (issue 13): the gaps 1.0 left open --------------------------------------

V11 = "1.1"
REP = resolveflow.Actor("rita", roles={"go_to_rep"})
HANDOFF = {"to": "sam", "reason": "Sam is our go-to rep for difficult customers."}
EVALUATION_11 = {"minutes_taken": 30, "how_it_went": "Calm.", "area": "deliveries"}


def case_11(version: str = V11) -> resolveflow.Case:
    return resolveflow.open_case(resolveflow.get_methodology(ID, version), case_id="5S-11", clock=FakeClock())


def play_to(case: resolveflow.Case, step: str, actor: str = ACTOR) -> resolveflow.Case:
    plan = [
        ("hear_account", {"summary": "Delivered late twice."}),
        ("record_cause", {"cause": "logistics", "findings": "Courier backlog."}),
        ("decide_solution", DECISION),
        ("deliver_solution", DELIVERY),
    ]
    order = ("listen", "analyze", "decide", "address", "evaluate")
    for source, (action, evidence) in zip(order, plan, strict=False):
        if case.step == step:
            break
        if case.step == source:
            case.fire(action, evidence, actor=actor)
    assert case.step == step
    return case


def test_1_1_is_the_latest_and_1_0_stays_available() -> None:
    from resolveflow.methodologies import FIVE_STEPS, FIVE_STEPS_1_1

    assert resolveflow.get_methodology(ID).version == V11
    assert resolveflow.get_methodology(ID, "1.0") is FIVE_STEPS
    assert resolveflow.get_methodology(ID, V11) is FIVE_STEPS_1_1
    assert not resolveflow.verify(FIVE_STEPS_1_1).findings


def test_1_1_a_refused_remedy_takes_the_unresolvable_branch_from_address() -> None:
    old = play_to(case_11("1.0"), "address")
    assert_refused(old, "judge_unresolvable", JUDGEMENT, [("not_from_this_step", ("step:decide",))])
    case = play_to(case_11(), "address")
    case.fire("judge_unresolvable", {"reason": "The customer refused the refund."}, actor=ACTOR)
    assert case.step == "evaluate"
    refused = case.check("close_resolved", {**EVALUATION_11, "remedy_accepted": False})
    assert {r.code for r in refused.refusals} == {"solution_delivered", "remedy_accepted"}
    case.fire("close_unresolvable", {**EVALUATION_11, "remedy_accepted": False}, actor=ACTOR)
    assert case.outcome is not None and case.outcome.id == "unresolvable"
    assert case.path == ("listen", "analyze", "decide", "address", "evaluate", "unresolvable")


def test_1_1_resolved_only_when_the_customer_accepted_the_remedy() -> None:
    case = play_to(case_11(), "evaluate")
    with pytest.raises(resolveflow.Refused) as info:
        case.fire("close_resolved", {**EVALUATION_11, "remedy_accepted": False}, actor=ACTOR)
    (refusal,) = info.value.refusals
    assert refusal.code == "remedy_accepted" and "unresolvable" in refusal.message
    refused = case.check("close_unresolvable", {**EVALUATION_11, "remedy_accepted": True})
    assert [r.code for r in refused.refusals] == ["remedy_not_accepted"]
    # Delivered but refused by the customer: unresolvable, after evaluate.
    case.fire("close_unresolvable", {**EVALUATION_11, "remedy_accepted": False}, actor=ACTOR)
    assert case.outcome is not None and not case.outcome.successful


def test_1_1_accepted_remedy_closes_resolved_and_records_the_area() -> None:
    case = play_to(case_11(), "evaluate")
    entry = case.fire("close_resolved", {**EVALUATION_11, "remedy_accepted": True}, actor=ACTOR)
    assert case.outcome is not None and case.outcome.id == "resolved"
    assert entry.evidence.area == "deliveries" and entry.evidence.remedy_accepted is True
    assert_invalid(
        play_to(case_11(), "evaluate"), "close_resolved", {**EVALUATION, "remedy_accepted": True}, ("area",)
    )


@pytest.mark.parametrize("step", ["listen", "analyze", "decide", "address", "evaluate"])
def test_1_1_hand_off_from_any_working_step_then_only_the_rep_or_the_role(step: str) -> None:
    case = play_to(case_11(), step)
    case.fire("hand_off", HANDOFF, actor=ACTOR)
    assert case.step == step
    action = next(a.name for a in case.actions() if a.name not in ("hand_off", "apologize"))
    refused = case.check(action, actor=ACTOR)
    assert [(r.code, r.missing) for r in refused.refusals if r.code == "handed_off"] == [
        ("handed_off", ("actor:sam", "role:go_to_rep"))
    ]
    with pytest.raises(resolveflow.Refused):
        case.fire("hand_off", {**HANDOFF, "to": ACTOR}, actor=ACTOR)  # nor hand it back to oneself
    assert case.check("hand_off", HANDOFF, actor="sam").allowed
    assert case.check("hand_off", HANDOFF, actor=REP).allowed


@pytest.mark.parametrize("step", ["listen", "analyze", "decide", "evaluate"])
def test_1_0_hand_off_was_only_at_address(step: str) -> None:
    old = play_to(case_11("1.0"), step)
    assert_refused(old, "hand_off", HANDOFF, [("not_from_this_step", ("step:address",))])


def test_1_0_did_not_stop_anyone_acting_after_a_hand_off() -> None:
    old = play_to(case_11("1.0"), "address")
    old.fire("hand_off", HANDOFF, actor=ACTOR)
    assert old.check("deliver_solution", DELIVERY, actor=ACTOR).allowed  # the gap 1.1 closes


def test_1_1_the_named_rep_carries_the_case_on() -> None:
    case = play_to(case_11(), "address")
    case.fire("hand_off", HANDOFF, actor=ACTOR)
    case.fire("deliver_solution", DELIVERY, actor="sam")
    case.fire("close_resolved", {**EVALUATION_11, "remedy_accepted": True}, actor=REP)
    assert case.outcome is not None and case.outcome.id == "resolved"


@pytest.mark.parametrize("step", ["listen", "analyze", "decide", "address", "evaluate"])
def test_a_1_0_case_migrates_to_1_1_mid_way_and_carries_on(step: str) -> None:
    from resolveflow.methodologies.five_steps import FIVE_STEPS_1_0_TO_1_1

    old = play_to(case_11("1.0"), step)
    moved = resolveflow.migrate(old, FIVE_STEPS_1_0_TO_1_1, actor="ops")
    assert (moved.methodology.version, moved.opened_with, moved.step) == (V11, "1.0", step)
    assert moved.history[-1].action == "migrate_version" and moved.verify_chain()
    play_to(moved, "evaluate")
    moved.fire("close_resolved", {**EVALUATION_11, "remedy_accepted": True}, actor=ACTOR)
    assert moved.outcome is not None and moved.outcome.id == "resolved"
    again = resolveflow.restore(moved.snapshot())
    assert again.head == moved.head


def test_a_1_0_case_already_judged_unresolvable_is_not_migrated_and_closes_on_1_0(clock: FakeClock) -> None:
    """No successful outcome is reachable for it in 1.1, so migrate refuses it; 1.0 still closes it."""
    from resolveflow.methodologies.five_steps import FIVE_STEPS_1_0_TO_1_1

    case = unresolvable_case(clock)
    head = case.head
    with pytest.raises(resolveflow.Refused) as info:
        resolveflow.migrate(case, FIVE_STEPS_1_0_TO_1_1, actor="ops")
    assert info.value.codes == ("migration_strands_case",)
    assert case.head == head and case.methodology.version == "1.0"
    fire(case, "close_unresolvable", EVALUATION, clock=clock)
    assert case.outcome is not None and case.outcome.id == "unresolvable"
