"""engage: every rule its module docstring claims.

Rules (src/resolveflow/methodologies/engage.py, encoded from the article its ``source`` cites):
- empathy and an apology for the inconvenience are always allowed at empathize;
- an apology admitting the company caused the problem is refused unless a
  recorded liability review found the company at fault;
- the case resolves only when the customer accepts the solution; a declined
  solution is recorded and the case stays to present another.
"""

from __future__ import annotations

import pytest

from tests._builtin_support import assert_invalid, assert_moves, assert_refused, case_at
from tests.conftest import FakeClock

ID = "engage"
SORRY = {"statement": "I am so sorry for the inconvenience."}
SORRY_WE_CAUSED_IT = {"statement": "I am sorry we caused this.", "admits_fault": True}
FAULT_REFUSAL = [("fault_admission_needs_liability_review", ("liability_review:company_at_fault",))]


def review(at_fault: bool) -> dict[str, object]:
    return {"reviewer": "Company lawyer", "company_at_fault": at_fault}


@pytest.mark.parametrize(
    "apology", [SORRY, {**SORRY, "admits_fault": False}], ids=["default", "explicit-false"]
)
def test_an_apology_without_admitting_fault_is_allowed(clock: FakeClock, apology: dict[str, object]) -> None:
    case = case_at(ID, "empathize", clock)
    assert_moves(case, "apologize", apology, "empathize")
    assert_moves(case, "apologize", apology, "empathize")  # as often as needed


def test_admitting_fault_without_a_liability_review_is_refused(clock: FakeClock) -> None:
    case = case_at(ID, "empathize", clock)
    assert_refused(case, "apologize", SORRY_WE_CAUSED_IT, FAULT_REFUSAL)
    # Without evidence the rule is pending, so the button is not falsely disabled.
    assert "fault_admission_needs_liability_review" in case.check("apologize").pending


def test_a_review_finding_no_fault_still_refuses(clock: FakeClock) -> None:
    case = case_at(ID, "empathize", clock)
    assert_moves(case, "record_liability_review", review(False), "empathize")
    assert_refused(case, "apologize", SORRY_WE_CAUSED_IT, FAULT_REFUSAL)


def test_a_review_finding_the_company_at_fault_allows_admitting_it(clock: FakeClock) -> None:
    case = case_at(ID, "empathize", clock)
    assert_moves(case, "record_liability_review", review(True), "empathize")
    assert_moves(case, "apologize", SORRY_WE_CAUSED_IT, "empathize")


def test_the_latest_review_counts(clock: FakeClock) -> None:
    case = case_at(ID, "empathize", clock)
    assert_moves(case, "record_liability_review", review(True), "empathize")
    assert_moves(case, "record_liability_review", review(False), "empathize")
    assert_refused(case, "apologize", SORRY_WE_CAUSED_IT, FAULT_REFUSAL)


def test_a_review_needs_its_finding(clock: FakeClock) -> None:
    case = case_at(ID, "empathize", clock)
    assert_invalid(case, "record_liability_review", {"reviewer": "Company lawyer"}, ("company_at_fault",))


def test_apologising_is_only_at_empathize(clock: FakeClock) -> None:
    for step in ("engage", "present_solution"):
        case = case_at(ID, step, clock, case_id=f"C-{step}")
        assert_refused(case, "apologize", SORRY, [("not_from_this_step", ("step:empathize",))])


def test_a_declined_solution_keeps_the_case_at_present_solution(clock: FakeClock) -> None:
    case = case_at(ID, "present_solution", clock)
    path = case.path
    entry = assert_moves(
        case, "solution_declined", {"solution": "Store credit", "accepted": False}, "present_solution"
    )
    assert entry.evidence_json == {"solution": "Store credit", "accepted": False}
    assert case.path == path
    assert not case.closed
    assert_refused(
        case,
        "solution_declined",
        {"solution": "Refund", "accepted": True},
        [("solution_declined_by_customer", ("accepted=False",))],
    )
    assert_moves(case, "solution_accepted", {"solution": "Refund", "accepted": True}, "resolved")
    assert case.outcome is not None
    assert case.outcome.successful
    assert [e.action for e in case.history][-2:] == ["solution_declined", "solution_accepted"]


def test_solution_accepted_needs_the_customer_to_accept(clock: FakeClock) -> None:
    case = case_at(ID, "present_solution", clock)
    assert_refused(
        case,
        "solution_accepted",
        {"solution": "Store credit", "accepted": False},
        [("solution_accepted_by_customer", ("accepted=True",))],
    )
    assert_moves(case, "solution_accepted", {"solution": "Store credit", "accepted": True}, "resolved")
    assert case.closed


def test_no_solution_before_empathy(clock: FakeClock) -> None:
    case = case_at(ID, "empathize", clock)
    assert_refused(
        case,
        "solution_accepted",
        {"solution": "Refund", "accepted": True},
        [("not_from_this_step", ("step:present_solution",))],
    )
