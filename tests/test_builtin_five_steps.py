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
