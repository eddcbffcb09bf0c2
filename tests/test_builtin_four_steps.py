"""four-steps: every rule its module docstring claims, in 1.0 and in 1.1.

Rules (src/resolveflow/methodologies/four_steps.py, encoded from the article its ``source`` cites):
- the assessment comes after the customer's own account was recorded at listen,
  sorts the cause into employee conduct, miscommunication or expectations not
  met, and records a lesson for the procedures manual;
- a solution is offered only once the incident has been assessed;
- 1.0: the case closes only with an update to the procedures or guidelines;
- 1.1: the offer also needs the agent to have shown, at the offer step, that
  they understand why the customer is unhappy; the case closes by citing
  guidance that already covers the lesson or by proposing a change;
- 1.0 stays registered unchanged, and its open cases migrate to 1.1 at any step.

The 1.0 tests open 1.0 explicitly (``methodology`` in tests/_builtin_support.py).
"""

from __future__ import annotations

from typing import Any

import pytest

import resolveflow
from resolveflow import evidence as ev
from resolveflow.files import definition_digest
from resolveflow.methodologies import FOUR_STEPS, FOUR_STEPS_1_0_TO_1_1, FOUR_STEPS_1_1
from tests._builtin_support import (
    ACTOR,
    HAPPY_PATHS,
    assert_invalid,
    assert_moves,
    assert_refused,
    case_at,
    fire,
    methodology,
    refusal_pairs,
)
from tests.conftest import FakeClock
from tests.test_builtin_methodologies import _guidance_strings, copied, source_fingerprint

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


# --- 1.1 -------------------------------------------------------------------------

DIGEST_1_0 = "sha256:2c24c820e2b2377923fa2588db59a00619bcb034c2eb800e44e215726ac56596"
UNDERSTANDING = {"why_unhappy": "You took the day off for the installation and it is still not finished."}
GUIDANCE = {"reference": "Installer guidelines, section 4: sign-off with the customer"}
PROPOSAL = {"document": "Installer guidelines", "change": "Add a sign-off sheet the customer signs."}
# The 1.1 happy path: (step the action is taken at, action, evidence).
PATH_1_1: list[tuple[str, str, dict[str, Any]]] = [
    ("listen", "hear_customer", ACCOUNT),
    ("assess", "record_assessment", ASSESSMENT),
    ("offer_solution", "show_understanding", UNDERSTANDING),
    ("offer_solution", "make_offer", OFFER),
    ("empower", "cite_guidance", GUIDANCE),
]


def open_1_1(clock: FakeClock, case_id: str = "CASE-11") -> resolveflow.Case:
    return resolveflow.open_case(resolveflow.get_methodology(ID, "1.1"), case_id=case_id, clock=clock)


def carry_on(case: resolveflow.Case, clock: FakeClock, *, upto: str | None = None) -> None:
    """Take the 1.1 happy path from the case's current step (its first action there), up to ``upto``."""
    started = False
    for step, action, evidence in PATH_1_1:
        if case.step == upto:
            return
        started = started or step == case.step
        if started:
            assert case.step == step
            fire(case, action, evidence, clock=clock)


def test_1_1_is_the_latest_and_1_0_stays_exactly_as_it_was() -> None:
    assert resolveflow.versions(ID) == ["1.0", "1.1"]
    assert resolveflow.get_methodology(ID) is FOUR_STEPS_1_1
    assert resolveflow.get_methodology(ID, "1.0") is FOUR_STEPS
    # Stored 1.0 cases bind this digest: 1.0 must never change.
    assert definition_digest(FOUR_STEPS) == DIGEST_1_0
    assert [a.name for a in FOUR_STEPS.actions] == [
        "hear_customer",
        "record_assessment",
        "make_offer",
        "update_procedures",
    ]
    assert (FOUR_STEPS_1_1.source, FOUR_STEPS_1_1.required_steps) == (
        FOUR_STEPS.source,
        FOUR_STEPS.required_steps,
    )


def test_1_1_verifies() -> None:
    report = resolveflow.verify(FOUR_STEPS_1_1)
    assert report.ok, report.findings
    assert report.findings == ()


def test_1_1_guidance_does_not_copy_the_source() -> None:
    assert copied(_guidance_strings(FOUR_STEPS_1_1), source_fingerprint(ID)) == {}


def test_1_1_offer_is_refused_until_understanding_is_shown(clock: FakeClock) -> None:
    case = open_1_1(clock)
    carry_on(case, clock, upto="offer_solution")
    refused = assert_refused(case, "make_offer", OFFER, [("understanding_shown", ("understanding_shown",))])
    assert "understand why they are unhappy" in refused.refusals[0].message
    assert "show_understanding" in refused.refusals[0].message
    assert_invalid(case, "show_understanding", {"why_unhappy": "  "}, ("why_unhappy",))
    # Recording it keeps the case at the offer step, then the offer goes through.
    assert_moves(case, "show_understanding", UNDERSTANDING, "offer_solution")
    assert_moves(case, "make_offer", OFFER, "empower")
    # 1.0 lets the same offer through without it: this is what 1.1 adds.
    old = case_at(ID, "offer_solution", clock, case_id="C-1.0")
    assert_moves(old, "make_offer", OFFER, "empower")


def test_1_1_understanding_is_shown_at_the_offer_step_only(clock: FakeClock) -> None:
    case = open_1_1(clock)
    carry_on(case, clock, upto="assess")
    assert_refused(
        case, "show_understanding", UNDERSTANDING, [("not_from_this_step", ("step:offer_solution",))]
    )
    guards = {g.name: g for g in FOUR_STEPS_1_1.action("make_offer").guards}
    guard = guards["understanding_shown"]
    assert isinstance(guard, resolveflow.guards.Requires)
    assert (guard.record, guard.at_step) == (ev.UnderstandingShown, "offer_solution")
    assert "incident_assessed" in guards


@pytest.mark.parametrize(
    ("action", "evidence", "record"),
    [("cite_guidance", GUIDANCE, ev.ExistingGuidance), ("propose_change", PROPOSAL, ev.ProposedChange)],
)
def test_1_1_closes_with_existing_guidance_or_a_proposed_change(
    clock: FakeClock, action: str, evidence: dict[str, Any], record: type
) -> None:
    case = open_1_1(clock)
    carry_on(case, clock, upto="empower")
    assert_moves(case, action, evidence, "resolved")
    assert case.closed
    assert case.outcome is not None
    assert case.outcome.successful
    assert isinstance(case.history[-1].evidence, record)
    # No change of procedure was needed to close it.
    assert not any(isinstance(entry.evidence, ev.ProcedureUpdate) for entry in case.history)


def test_1_1_each_closing_choice_needs_its_own_text(clock: FakeClock) -> None:
    case = open_1_1(clock)
    carry_on(case, clock, upto="empower")
    assert_invalid(case, "cite_guidance", {}, ("reference",))
    assert_invalid(case, "cite_guidance", {"reference": " "}, ("reference",))
    assert_invalid(case, "propose_change", {"document": "Installer guidelines"}, ("change",))
    with pytest.raises(resolveflow.UnknownAction):
        case.check("update_procedures", UPDATE)
    # 1.0 knows neither: there, only a procedures update closes a case.
    old = case_at(ID, "empower", clock, case_id="C-1.0")
    with pytest.raises(resolveflow.UnknownAction):
        old.check("cite_guidance", GUIDANCE)


def test_1_1_only_the_two_lesson_actions_reach_an_outcome() -> None:
    outcomes = {o.id for o in FOUR_STEPS_1_1.outcomes}
    closing = {a.name: a for a in FOUR_STEPS_1_1.actions if a.target in outcomes}
    assert sorted(closing) == ["cite_guidance", "propose_change"]
    for action in closing.values():
        assert [g.name for g in action.guards] == ["lesson_recorded"]


# --- migrating 1.0 cases ---------------------------------------------------------


@pytest.mark.parametrize("step", ["listen", "assess", "offer_solution", "empower"])
def test_a_1_0_case_migrates_at_any_step_and_carries_on(clock: FakeClock, step: str) -> None:
    old = case_at(ID, step, clock, case_id=f"MIG-{step}")
    assert old.methodology is FOUR_STEPS
    before = old.history
    moved = resolveflow.migrate(old, FOUR_STEPS_1_0_TO_1_1, actor="ops")
    assert old.history == before, "the old object is left as it was"
    assert (moved.methodology.version, moved.opened_with, moved.step) == ("1.1", "1.0", step)
    assert moved.history[-1].action == "migrate_version"
    assert moved.history[:-1] == before
    carry_on(moved, clock)
    assert moved.step == "resolved"
    assert moved.closed
    assert moved.outcome is not None
    assert moved.outcome.successful
    again = resolveflow.restore(moved.snapshot())
    assert again.head == moved.head
    assert again.step == "resolved"


def test_a_migrated_offer_still_needs_understanding_shown(clock: FakeClock) -> None:
    moved = resolveflow.migrate(case_at(ID, "offer_solution", clock), FOUR_STEPS_1_0_TO_1_1, actor="ops")
    assert refusal_pairs(moved.check("make_offer", OFFER).refusals) == [
        ("understanding_shown", ("understanding_shown",))
    ]
    moved.fire("show_understanding", UNDERSTANDING, actor=ACTOR)
    assert moved.check("make_offer", OFFER).allowed


def test_a_closed_1_0_case_stays_on_1_0(clock: FakeClock) -> None:
    case = case_at(ID, "empower", clock)
    fire(case, "update_procedures", UPDATE, clock=clock)
    with pytest.raises(resolveflow.Refused) as info:
        resolveflow.migrate(case, FOUR_STEPS_1_0_TO_1_1, actor="ops")
    assert [r.code for r in info.value.refusals] == ["case_closed"]
    assert case.methodology is FOUR_STEPS
