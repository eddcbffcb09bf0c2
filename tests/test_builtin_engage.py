"""engage: every rule its module docstring claims.

Rules (src/resolveflow/methodologies/engage.py, encoded from the article its ``source`` cites):
- empathy and an apology for the inconvenience are always allowed at empathize;
- an apology admitting the company caused the problem is refused unless a
  recorded liability review found the company at fault;
- the case resolves only when the customer accepts the solution; a declined
  solution is recorded and the case stays to present another.

Version 1.1 (the second half of this file) adds, each played against 1.0 first:
- empathy that admits or agrees the company is at fault is refused like such an
  apology, unless the latest legal review found the company at fault;
- only an actor holding the role ``legal`` records that review;
- every solution presented needs the agent's attestation that the customer is calmer;
- ``not_accepted`` ends a case whose customer declined every solution, after at
  least one was presented and declined and the best one was among them;
- open 1.0 cases migrate at every step; what 1.0 recorded does not stand in for
  what 1.1 requires (a free-text review, a declined solution without the attestation).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import resolveflow
import resolveflow.exceptions
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


# --- version 1.1 (issue 13): the gaps 1.0 left open --------------------------------------

V10 = "1.0"
V11 = "1.1"
AGENT = "agent-7"
LEE = resolveflow.Actor("lee", roles={"agent", "legal"})  # the desk's demo agent who signs off legal matters
NOT_LEGAL = resolveflow.Actor("ana", roles={"agent"})
BLAMING = {"statement": "You are right, our warehouse wrecked it.", "admits_fault": True}
KIND = {"statement": "That must be really frustrating.", "admits_fault": False}
BLAME_REFUSAL = [("fault_admission_needs_liability_review", ("legal_review:company_at_fault",))]
CALM = {"solution": "Replacement by courier tomorrow", "customer_calmer": True}
CALM_REFUSAL = [("customer_calmer_first", ("customer_calmer=True",))]
LAST_ANSWER = {"customer_answer": "Only a full refund plus damages.", "best_solution_presented": True}


def open_on(version: str, case_id: str = "EN-11") -> resolveflow.Case:
    return resolveflow.open_case(resolveflow.get_methodology(ID, version), case_id=case_id, clock=FakeClock())


def play_to(case: resolveflow.Case, step: str) -> resolveflow.Case:
    """Walk a case of either version to ``step`` with each version's own happy-path evidence."""
    empathy = {"statement": "That must be really frustrating."}
    if case.methodology.version == V11:
        empathy = KIND
    if case.step == "engage" and step != "engage":
        case.fire("engage_fully", {"notes": "The parcel arrived broken."}, actor=AGENT)
    if case.step == "empathize" and step == "present_solution":
        case.fire("show_empathy", empathy, actor=AGENT)
    assert case.step == step
    return case


def legal_review(case: resolveflow.Case, at_fault: bool, actor: resolveflow.Actor = LEE) -> None:
    case.fire("record_liability_review", {"company_at_fault": at_fault}, actor=actor)


def codes(decision: resolveflow.Decision) -> list[tuple[str, tuple[str, ...]]]:
    return [(r.code, r.missing) for r in decision.refusals]


def test_1_1_is_the_latest_1_0_is_unchanged_and_1_1_verifies() -> None:
    from resolveflow.files import definition_digest
    from resolveflow.methodologies import BUILTINS, ENGAGE, ENGAGE_1_1

    assert resolveflow.get_methodology(ID) is ENGAGE_1_1
    assert resolveflow.get_methodology(ID, V10) is ENGAGE
    assert ENGAGE in BUILTINS and ENGAGE_1_1 in BUILTINS
    # Cases opened on 1.0 bind this digest: 1.0 must never change.
    assert definition_digest(ENGAGE) == DIGEST_1_0
    assert ENGAGE_1_1.roles == ("legal",) and ENGAGE.roles == ()
    assert ENGAGE_1_1.required_steps == ENGAGE.required_steps
    assert not resolveflow.verify(ENGAGE_1_1).findings


DIGEST_1_0 = "sha256:8d3392c5b69bf30339e00083426b867a87ce2732103259dadd667036efe02c8a"


# Gap 1: the no-blame rule covers empathising, not only the apology.


def test_1_0_let_an_empathy_statement_blame_the_company() -> None:
    old = play_to(open_on(V10), "empathize")
    old.fire("show_empathy", {"statement": BLAMING["statement"]}, actor=AGENT)  # nothing could stop it
    assert old.step == "present_solution"


def test_1_1_empathy_that_blames_the_company_is_refused_without_a_legal_review() -> None:
    case = play_to(open_on(V11), "empathize")
    assert_refused(case, "show_empathy", BLAMING, BLAME_REFUSAL)
    refusal = case.check("show_empathy", BLAMING).refusals[0]
    assert "legal" in refusal.message and "empathise" in refusal.message.lower()
    # Empathy that stays clear of blame needs no review; the flag defaults to "no blame".
    assert case.check("show_empathy", KIND).allowed
    assert case.check("show_empathy", {"statement": KIND["statement"]}).allowed
    # Without evidence the rule is pending, so the button is not falsely disabled.
    assert "fault_admission_needs_liability_review" in case.check("show_empathy").pending


def test_1_1_a_legal_review_that_found_no_fault_still_refuses_blame() -> None:
    case = play_to(open_on(V11), "empathize")
    legal_review(case, at_fault=False)
    assert_refused(case, "show_empathy", BLAMING, BLAME_REFUSAL)
    assert_refused(case, "apologize", SORRY_WE_CAUSED_IT, BLAME_REFUSAL)


def test_1_1_a_legal_review_that_found_fault_allows_agreeing_with_the_customer() -> None:
    case = play_to(open_on(V11), "empathize")
    legal_review(case, at_fault=True)
    case.fire("apologize", SORRY_WE_CAUSED_IT, actor=AGENT)
    entry = case.fire("show_empathy", BLAMING, actor=AGENT)
    assert entry.evidence.admits_fault is True and case.step == "present_solution"


@settings(max_examples=60, deadline=None)
@given(findings=st.lists(st.booleans(), max_size=4), blames=st.booleans(), apology=st.booleans())
def test_1_1_blame_is_allowed_exactly_when_the_latest_legal_review_found_fault(
    findings: list[bool], blames: bool, apology: bool
) -> None:
    case = play_to(open_on(V11), "empathize")
    for at_fault in findings:
        legal_review(case, at_fault)
    action = "apologize" if apology else "show_empathy"
    allowed = case.check(action, {"statement": "Sorry about all this.", "admits_fault": blames}).allowed
    assert allowed == (not blames or (bool(findings) and findings[-1]))


# Gap 2: the liability review is recorded by someone holding the legal role.


def test_1_0_took_a_liability_review_from_anyone_with_a_free_text_reviewer() -> None:
    old = play_to(open_on(V10), "empathize")
    old.fire("record_liability_review", review(True), actor="anyone")
    old.fire("apologize", SORRY_WE_CAUSED_IT, actor="anyone")  # the gap 1.1 closes


def test_1_1_only_the_legal_role_records_a_liability_review() -> None:
    case = play_to(open_on(V11), "empathize")
    for actor in (AGENT, NOT_LEGAL):
        decision = case.check("record_liability_review", {"company_at_fault": True}, actor=actor)
        assert codes(decision) == [("liability_review_by_legal", ("role:legal",))]
        with pytest.raises(resolveflow.Refused) as info:
            legal_review(case, True, actor=actor)  # type: ignore[arg-type]
        assert info.value.codes == ("liability_review_by_legal",)
    assert "liability_review_by_legal" in case.check("record_liability_review").pending
    entry = case.fire(
        "record_liability_review", {"company_at_fault": True, "notes": "Our packing."}, actor=LEE
    )
    # The reviewer is whoever recorded it, with the roles they held, in the hash chain.
    assert (entry.actor, entry.roles) == ("lee", frozenset({"agent", "legal"}))
    assert case.verify_chain()


def test_1_1_a_review_names_no_free_text_reviewer() -> None:
    case = play_to(open_on(V11), "empathize")
    decision = case.check("record_liability_review", review(True), actor=LEE)
    assert [r.code for r in decision.refusals] == ["invalid_evidence"]
    assert decision.refusals[0].missing == ("reviewer",)


# Gap 3: the solution goes to a calmer customer, as the agent attests.


def test_1_0_presented_a_solution_with_no_word_on_the_customer_being_calmer() -> None:
    old = play_to(open_on(V10), "present_solution")
    old.fire("solution_declined", {"solution": "Store credit", "accepted": False}, actor=AGENT)
    old.fire("solution_accepted", {"solution": "Refund", "accepted": True}, actor=AGENT)
    assert old.outcome is not None and old.outcome.id == "resolved"


@pytest.mark.parametrize(("action", "accepted"), [("solution_accepted", True), ("solution_declined", False)])
def test_1_1_a_solution_is_refused_until_the_agent_attests_the_customer_is_calmer(
    action: str, accepted: bool
) -> None:
    case = play_to(open_on(V11), "present_solution")
    for unattested in ({"solution": CALM["solution"]}, {**CALM, "customer_calmer": False}):
        assert_refused(case, action, {**unattested, "accepted": accepted}, CALM_REFUSAL)
    assert_moves(case, action, {**CALM, "accepted": accepted}, "resolved" if accepted else "present_solution")


def test_1_1_both_rules_of_a_solution_are_reported_together() -> None:
    case = play_to(open_on(V11), "present_solution")
    decision = case.check("solution_accepted", {"solution": "Refund", "accepted": False})
    assert codes(decision) == [*CALM_REFUSAL, ("solution_accepted_by_customer", ("accepted=True",))]


# Gap 4: a customer who accepts no solution ends the case, unsuccessfully, on record.


def test_1_0_had_no_way_to_end_a_case_the_customer_would_not_settle() -> None:
    old = play_to(open_on(V10), "present_solution")
    assert {o.id for o in old.methodology.outcomes} == {"resolved"}
    old.fire("solution_declined", {"solution": "Store credit", "accepted": False}, actor=AGENT)
    assert [a.name for a in old.actions() if a.target is not None and a.target != "present_solution"] == [
        "solution_accepted"
    ]
    with pytest.raises(resolveflow.UnknownAction):
        old.check("close_not_accepted", LAST_ANSWER)


def test_1_1_not_accepted_needs_a_declined_solution_first() -> None:
    case = play_to(open_on(V11), "present_solution")
    assert_refused(
        case, "close_not_accepted", LAST_ANSWER, [("solution_declined_first", ("solution_presented",))]
    )
    case.fire("solution_declined", {**CALM, "accepted": False}, actor=AGENT)
    assert_refused(
        case,
        "close_not_accepted",
        {"customer_answer": LAST_ANSWER["customer_answer"]},
        [("best_solution_presented", ("best_solution_presented=True",))],
    )
    assert_moves(case, "close_not_accepted", LAST_ANSWER, "not_accepted")
    assert case.outcome is not None and case.outcome.id == "not_accepted"
    assert not case.outcome.successful
    assert case.path == ("engage", "empathize", "present_solution", "not_accepted")
    assert "not_accepted" not in case.methodology.successful_outcomes


def test_1_1_not_accepted_is_reached_only_from_present_solution() -> None:
    for step in ("engage", "empathize"):
        case = play_to(open_on(V11, f"EN-{step}"), step)
        assert_refused(
            case, "close_not_accepted", LAST_ANSWER, [("not_from_this_step", ("step:present_solution",))]
        )


# Migrating open 1.0 cases to 1.1.


@pytest.mark.parametrize("step", ["engage", "empathize", "present_solution"])
def test_a_1_0_case_migrates_to_1_1_at_each_step_and_carries_on(step: str) -> None:
    from resolveflow.methodologies import ENGAGE_1_0_TO_1_1

    old = play_to(open_on(V10), step)
    moved = resolveflow.migrate(old, ENGAGE_1_0_TO_1_1, actor="ops")
    assert (moved.methodology.version, moved.opened_with, moved.step) == (V11, V10, step)
    assert moved.history[-1].action == "migrate_version" and moved.verify_chain()
    assert old.methodology.version == V10  # the given case is left as it was
    play_to(moved, "present_solution")
    moved.fire("solution_accepted", {**CALM, "accepted": True}, actor=AGENT)
    assert moved.outcome is not None and moved.outcome.id == "resolved"
    assert resolveflow.restore(moved.snapshot()).head == moved.head


def test_a_1_0_liability_review_does_not_count_after_migrating() -> None:
    """1.0's review names its reviewer in free text; 1.1 trusts only a review the legal role recorded."""
    from resolveflow.methodologies import ENGAGE_1_0_TO_1_1

    old = play_to(open_on(V10), "empathize")
    old.fire("record_liability_review", review(True), actor=AGENT)
    assert old.check("apologize", SORRY_WE_CAUSED_IT).allowed
    moved = resolveflow.migrate(old, ENGAGE_1_0_TO_1_1, actor="ops")
    assert codes(moved.check("apologize", SORRY_WE_CAUSED_IT)) == BLAME_REFUSAL
    assert codes(moved.check("show_empathy", BLAMING)) == BLAME_REFUSAL
    legal_review(moved, at_fault=True)
    moved.fire("show_empathy", BLAMING, actor=AGENT)
    assert moved.step == "present_solution"


def test_a_1_0_declined_solution_does_not_count_for_not_accepted_after_migrating() -> None:
    """A 1.0 answer carries no calm attestation: one solution is presented under 1.1 before giving up."""
    from resolveflow.methodologies import ENGAGE_1_0_TO_1_1

    old = play_to(open_on(V10), "present_solution")
    old.fire("solution_declined", {"solution": "Store credit", "accepted": False}, actor=AGENT)
    moved = resolveflow.migrate(old, ENGAGE_1_0_TO_1_1, actor="ops")
    assert codes(moved.check("close_not_accepted", LAST_ANSWER)) == [
        ("solution_declined_first", ("solution_presented",))
    ]
    moved.fire("solution_declined", {**CALM, "accepted": False}, actor=AGENT)
    moved.fire("close_not_accepted", LAST_ANSWER, actor=AGENT)
    assert moved.outcome is not None and moved.outcome.id == "not_accepted"
    again = resolveflow.restore(moved.snapshot())
    assert again.head == moved.head and again.step == "not_accepted"


def test_a_closed_1_0_case_is_not_migrated() -> None:
    from resolveflow.methodologies import ENGAGE_1_0_TO_1_1

    old = play_to(open_on(V10), "present_solution")
    old.fire("solution_accepted", {"solution": "Refund", "accepted": True}, actor=AGENT)
    with pytest.raises(resolveflow.Refused) as info:
        resolveflow.migrate(old, ENGAGE_1_0_TO_1_1, actor="ops")
    assert info.value.codes == ("case_closed",)


def test_the_no_blame_guard_wants_a_review_record_with_a_finding() -> None:
    from resolveflow import evidence
    from resolveflow.guards import FaultNeedsLiabilityReview

    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="company_at_fault") as info:
        FaultNeedsLiabilityReview(review=evidence.Empathy)
    assert "LegalReview" in str(info.value)
    # The default is 1.0's review, so 1.0 and methodology files written before 1.1 keep their meaning.
    assert FaultNeedsLiabilityReview().review is evidence.LiabilityReview


def test_1_1_round_trips_through_a_file_with_the_review_record_named() -> None:
    from resolveflow.files import methodology_from_dict, methodology_to_dict
    from resolveflow.methodologies import ENGAGE, ENGAGE_1_1

    data = methodology_to_dict(ENGAGE_1_1)
    guards = {a["name"]: a.get("guards", []) for a in data["actions"]}
    assert {
        "kind": "fault_needs_liability_review",
        "review": "legal_review",
        "message": ENGAGE_1_1.action("show_empathy").guards[0].message,
    } in guards["show_empathy"]
    assert methodology_from_dict(data) == ENGAGE_1_1
    # 1.0's guard is written exactly as before 1.1 existed: no review key.
    old = {a["name"]: a.get("guards", []) for a in methodology_to_dict(ENGAGE)["actions"]}
    assert old["apologize"] == [{"kind": "fault_needs_liability_review"}]
