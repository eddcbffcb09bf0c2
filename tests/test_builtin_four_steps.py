"""four-steps: every rule its module docstring claims.

Rules (src/resolveflow/methodologies/four_steps.py, encoded from the article its ``source`` cites):
- the assessment comes after the customer's own account was recorded at listen,
  sorts the cause into employee conduct, miscommunication or expectations not
  met, and records a lesson for the procedures manual;
- a solution is offered only once the incident has been assessed;
- the case closes only with an update to the procedures or guidelines.
"""

from __future__ import annotations

import pytest

import resolveflow
from resolveflow import evidence as ev
from tests._builtin_support import (
    HAPPY_PATHS,
    assert_invalid,
    assert_moves,
    assert_refused,
    case_at,
    methodology,
)
from tests.conftest import FakeClock

ID = "four-steps"
ACCOUNT = {"summary": "The installer left without finishing."}
ASSESSMENT = {
    "cause": "employee_conduct",
    "findings": "Left early.",
    "lesson": "Check out with the customer.",
}
OFFER = {"description": "Come back tomorrow, free of charge."}
UPDATE = {"document": "Installer guidelines", "change": "Sign-off with the customer before leaving."}


def test_record_assessment_requires_the_customers_account_at_listen(clock: FakeClock) -> None:
    case = case_at(ID, "listen", clock)
    assert_refused(case, "record_assessment", ASSESSMENT, [("not_from_this_step", ("step:assess",))])
    assert_moves(case, "hear_customer", ACCOUNT, "assess")
    assert case.history[-1].from_step == "listen"
    assert_moves(case, "record_assessment", ASSESSMENT, "offer_solution")
    # The rule is also declared as a guard, so no other route could bypass it.
    guards = {g.name: g for g in methodology(ID).action("record_assessment").guards}
    guard = guards["customer_account_first"]
    assert isinstance(guard, resolveflow.guards.Requires)
    assert (guard.record, guard.at_step) == (ev.CustomerAccount, "listen")


def test_the_account_itself_is_required(clock: FakeClock) -> None:
    case = case_at(ID, "listen", clock)
    assert_invalid(case, "hear_customer", {}, ("summary",))
    assert_invalid(case, "hear_customer", {"summary": "   "}, ("summary",))


@pytest.mark.parametrize("cause", ["employee_conduct", "miscommunication", "expectations_not_met"])
def test_each_cause_category_is_accepted(clock: FakeClock, cause: str) -> None:
    case = case_at(ID, "assess", clock)
    assert_moves(case, "record_assessment", {**ASSESSMENT, "cause": cause}, "offer_solution")


@pytest.mark.parametrize("cause", ["bad_luck", "Miscommunication", "", None, 3])
def test_any_other_cause_category_is_invalid_evidence(clock: FakeClock, cause: object) -> None:
    case = case_at(ID, "assess", clock)
    assert_invalid(case, "record_assessment", {**ASSESSMENT, "cause": cause}, ("cause",))


def test_the_assessment_records_a_lesson(clock: FakeClock) -> None:
    case = case_at(ID, "assess", clock)
    assert_invalid(case, "record_assessment", {"cause": "miscommunication", "findings": "x"}, ("lesson",))


def test_a_solution_is_offered_only_after_the_assessment(clock: FakeClock) -> None:
    for step in ("listen", "assess"):
        case = case_at(ID, step, clock, case_id=f"C-{step}")
        assert_refused(case, "make_offer", OFFER, [("not_from_this_step", ("step:offer_solution",))])
    case = case_at(ID, "offer_solution", clock)
    assert_moves(case, "make_offer", OFFER, "empower")


def test_update_procedures_closes_the_case(clock: FakeClock) -> None:
    case = case_at(ID, "offer_solution", clock)
    assert_refused(case, "update_procedures", UPDATE, [("not_from_this_step", ("step:empower",))])
    assert_moves(case, "make_offer", OFFER, "empower")
    assert not case.closed
    assert_invalid(case, "update_procedures", {"document": "Installer guidelines"}, ("change",))
    assert_moves(case, "update_procedures", UPDATE, "resolved")
    assert case.closed
    assert case.outcome is not None
    assert case.outcome.successful


def test_only_update_procedures_reaches_an_outcome() -> None:
    m = methodology(ID)
    outcomes = {o.id for o in m.outcomes}
    closing = [a.name for a in m.actions if a.target in outcomes]
    assert closing == ["update_procedures"]
    assert [name for name, _ in HAPPY_PATHS[ID]][-1] == "update_procedures"
