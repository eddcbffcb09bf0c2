"""seven-as: every rule its module docstring claims, refused with its code and changing nothing.

Rules (src/resolveflow/methodologies/seven_as.py, encoded from the article its ``source`` cites):
- the grievances step ends only when the customer has finished;
- the plan's items are due in the future and uniquely named (plan_is_sound);
- act completes the plan item by item; overdue items show in case.overdue();
- accomplish needs every item done; resolved only on confirmed satisfaction,
  otherwise the plan is revised (back to agree) and the new plan carried out;
- a customer too upset at assure is rescheduled to a later time and the case
  resumes at assure;
- 1.1: the assurance comes before a reschedule or the talk about solutions; resume
  waits for the agreed time; plans put pressing items first and long-term ones after;
  the close records the thanks and that it should not recur;
- 1.0 stays registered unchanged, and its open cases migrate to 1.1 at any step.

The 1.0 tests open 1.0 explicitly (``case_at`` in tests/_builtin_support.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import resolveflow
from resolveflow import evidence as ev
from resolveflow.files import definition_digest
from resolveflow.methodologies import SEVEN_AS, SEVEN_AS_1_0_TO_1_1, SEVEN_AS_1_1
from tests._builtin_support import (
    ACTOR,
    REQUIRED_STEPS,
    assert_invalid,
    assert_moves,
    assert_refused,
    case_at,
    fire,
    is_subsequence,
    iso,
    refusal_pairs,
    seven_as_plan,
)
from tests.conftest import FakeClock
from tests.test_builtin_methodologies import _guidance_strings, copied, source_fingerprint

ID = "seven-as"
DAY = dt.timedelta(days=1)


def at_act(clock: FakeClock, *items: tuple[str, dt.timedelta]) -> resolveflow.Case:
    """A case at act with a plan of these items (default: a due in 1 day, b in 3)."""
    case = case_at(ID, "agree", clock)
    fire(case, "agree_plan", seven_as_plan(clock, *(items or (("a", DAY), ("b", 3 * DAY)))))
    assert case.step == "act"
    return case


def at_accomplish(clock: FakeClock) -> resolveflow.Case:
    case = at_act(clock)
    fire(case, "complete_item", {"item_id": "a"}, clock=clock)
    fire(case, "complete_item", {"item_id": "b"}, clock=clock)
    fire(case, "complete_plan", clock=clock)
    assert case.step == "accomplish"
    return case


# --- grievances ---------------------------------------------------------------------


def test_grievances_need_the_customer_to_have_finished(clock: FakeClock) -> None:
    case = case_at(ID, "air_grievances", clock)
    assert_refused(
        case,
        "hear_grievances",
        {"points": ["Late delivery"], "customer_finished": False},
        [("customer_finished", ("customer_finished=True",))],
    )
    # Without evidence the rule is pending, not silently passed.
    decision = case.check("hear_grievances")
    assert "customer_finished" in decision.pending
    assert_invalid(case, "hear_grievances", {"points": ["Late delivery"]}, ("customer_finished",))
    assert_moves(
        case, "hear_grievances", {"points": ["Late delivery"], "customer_finished": True}, "apologize"
    )


def test_no_step_can_be_skipped_from_acknowledge(clock: FakeClock) -> None:
    case = case_at(ID, "acknowledge", clock)
    assert_refused(
        case,
        "hear_grievances",
        {"points": ["x"], "customer_finished": True},
        [("not_from_this_step", ("step:air_grievances",))],
    )
    assert_refused(
        case,
        "agree_plan",
        seven_as_plan(clock, ("a", DAY)),
        [("not_from_this_step", ("step:agree",))],
    )


# --- the plan -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "missing"),
    [
        pytest.param([("a", dt.timedelta(0))], ("items[0].due",), id="due-now"),
        pytest.param([("a", DAY), ("b", -DAY)], ("items[1].due",), id="due-in-the-past"),
        pytest.param([("a", DAY), ("a", 2 * DAY)], ("items[1].id",), id="duplicate-id"),
        pytest.param(
            [("a", -dt.timedelta(minutes=1)), ("a", DAY)], ("items[0].due", "items[1].id"), id="both"
        ),
    ],
)
def test_plan_items_must_be_due_in_the_future_with_unique_ids(
    clock: FakeClock, items: list[tuple[str, dt.timedelta]], missing: tuple[str, ...]
) -> None:
    case = case_at(ID, "agree", clock)
    assert_refused(case, "agree_plan", seven_as_plan(clock, *items), [("plan_is_sound", missing)])
    assert case.step == "agree"


def test_a_plan_needs_items_with_due_times(clock: FakeClock) -> None:
    case = case_at(ID, "agree", clock)
    assert_invalid(
        case,
        "agree_plan",
        {"agreed_with": "Ms Ortiz", "items": [{"id": "a", "description": "Fix it"}]},
        ("items[0].due",),
    )
    assert_invalid(case, "agree_plan", {"agreed_with": "Ms Ortiz", "items": []}, ("items",))


def test_a_sound_plan_moves_to_act(clock: FakeClock) -> None:
    case = case_at(ID, "agree", clock)
    assert_moves(case, "agree_plan", seven_as_plan(clock, ("a", dt.timedelta(seconds=1))), "act")


# --- acting on the plan -------------------------------------------------------------


def test_complete_item_needs_an_open_item_of_the_plan(clock: FakeClock) -> None:
    case = at_act(clock)
    assert_refused(case, "complete_item", {"item_id": "zzz"}, [("plan_item_open", ("item_id",))])
    assert_moves(case, "complete_item", {"item_id": "a"}, "act")
    # Done already: not open any more.
    assert_refused(case, "complete_item", {"item_id": "a"}, [("plan_item_open", ("item_id",))])
    assert_moves(case, "complete_item", {"item_id": "b"}, "act")
    # Nothing left to complete.
    assert_refused(
        case,
        "complete_item",
        {"item_id": "b"},
        [("plan_has_open_items", ()), ("plan_item_open", ("item_id",))],
    )


def test_complete_plan_needs_every_item_done(clock: FakeClock) -> None:
    case = at_act(clock, ("a", DAY), ("b", 2 * DAY), ("c", 3 * DAY))
    assert_refused(
        case,
        "complete_plan",
        None,
        [("all_plan_items_done", ("plan_item:a", "plan_item:b", "plan_item:c"))],
    )
    fire(case, "complete_item", {"item_id": "b"}, clock=clock)
    assert_refused(case, "complete_plan", None, [("all_plan_items_done", ("plan_item:a", "plan_item:c"))])
    fire(case, "complete_item", {"item_id": "c"}, clock=clock)
    fire(case, "complete_item", {"item_id": "a"}, clock=clock)
    assert_moves(case, "complete_plan", None, "accomplish")


# --- accomplishing: satisfaction or revision ----------------------------------------


def test_confirm_satisfaction_refused_when_the_customer_is_not_satisfied(clock: FakeClock) -> None:
    case = at_accomplish(clock)
    assert_refused(
        case,
        "confirm_satisfaction",
        {"satisfied": False, "comment": "Still wobbly."},
        [("customer_satisfied", ("satisfied=True",))],
    )
    assert_refused(
        case,
        "revise_plan",
        {"satisfied": True},
        [("customer_not_satisfied", ("satisfied=False",))],
    )
    assert_moves(case, "confirm_satisfaction", {"satisfied": True}, "resolved")
    assert case.outcome is not None
    assert case.outcome.successful


def test_revise_plan_goes_back_to_agree_and_the_new_plan_must_be_carried_out(clock: FakeClock) -> None:
    case = at_accomplish(clock)
    assert_moves(case, "revise_plan", {"satisfied": False, "comment": "Still wobbly."}, "agree", clock)
    assert_refused(case, "complete_item", {"item_id": "a"}, [("not_from_this_step", ("step:act",))])
    assert_refused(case, "complete_plan", None, [("not_from_this_step", ("step:act",))])
    # The revised plan reuses id "a": its earlier completion must not count.
    fire(case, "agree_plan", seven_as_plan(clock, ("a", 2 * DAY), ("c", 4 * DAY)), clock=clock)
    assert case.step == "act"
    assert_refused(case, "complete_plan", None, [("all_plan_items_done", ("plan_item:a", "plan_item:c"))])
    # "b" belonged to the old plan only.
    assert_refused(case, "complete_item", {"item_id": "b"}, [("plan_item_open", ("item_id",))])
    fire(case, "complete_item", {"item_id": "a"}, clock=clock)
    assert_refused(case, "complete_plan", None, [("all_plan_items_done", ("plan_item:c",))])
    fire(case, "complete_item", {"item_id": "c"}, clock=clock)
    assert_moves(case, "complete_plan", None, "accomplish", clock)
    assert_moves(case, "confirm_satisfaction", {"satisfied": True}, "resolved", clock)
    assert is_subsequence(REQUIRED_STEPS[ID], case.path)
    assert case.path[-4:] == ("agree", "act", "accomplish", "resolved")


def test_a_revised_plan_must_be_sound_at_the_time_it_is_agreed(clock: FakeClock) -> None:
    case = at_accomplish(clock)
    first_plan_due = clock.now + DAY
    fire(case, "revise_plan", {"satisfied": False}, clock=clock)
    clock.advance(days=5)
    plan = {"agreed_with": "Ms Ortiz", "items": [{"id": "a", "description": "x", "due": iso(first_plan_due)}]}
    assert_refused(case, "agree_plan", plan, [("plan_is_sound", ("items[0].due",))])


# --- rescheduling -------------------------------------------------------------------


@pytest.mark.parametrize("delta", [dt.timedelta(0), -dt.timedelta(hours=1)], ids=["now", "past"])
def test_reschedule_needs_a_later_time(clock: FakeClock, delta: dt.timedelta) -> None:
    case = case_at(ID, "assure", clock)
    assert_refused(
        case,
        "reschedule",
        {"resume_at": iso(clock.now + delta), "reason": "Too upset to talk."},
        [("resume_in_future", ("resume_at",))],
    )


def test_a_rescheduled_case_resumes_at_assure(clock: FakeClock) -> None:
    case = case_at(ID, "assure", clock)
    assert_moves(
        case,
        "reschedule",
        {"resume_at": iso(clock.now + dt.timedelta(hours=3)), "reason": "Too upset to talk."},
        "rescheduled",
    )
    assert_refused(
        case, "give_assurance", {"commitment": "We will fix it."}, [("not_from_this_step", ("step:assure",))]
    )
    assert_refused(
        case, "agree_plan", seven_as_plan(clock, ("a", DAY)), [("not_from_this_step", ("step:agree",))]
    )
    clock.advance(hours=3, minutes=1)
    assert_moves(case, "resume", None, "assure")
    assert_moves(case, "give_assurance", {"commitment": "We will fix it."}, "agree", clock)
    assert case.path == (
        "acknowledge",
        "air_grievances",
        "apologize",
        "assure",
        "rescheduled",
        "assure",
        "agree",
    )


# --- overdue ------------------------------------------------------------------------


def test_overdue_shows_open_plan_items_past_due(clock: FakeClock) -> None:
    case = at_act(clock)
    due_a = clock.now + DAY
    due_b = clock.now + 3 * DAY
    assert case.overdue() == ()
    # Exactly at the due time it is not yet past due.
    assert case.overdue(due_a) == ()
    clock.advance(days=2)
    assert case.overdue() == (
        resolveflow.OverdueItem(kind="plan_item", ref="a", description="Do a", due=due_a),
    )
    fire(case, "complete_item", {"item_id": "a"})
    assert case.overdue() == ()
    clock.advance(days=2)
    assert [(o.kind, o.ref, o.due) for o in case.overdue()] == [("plan_item", "b", due_b)]
    fire(case, "complete_item", {"item_id": "b"})
    assert case.overdue() == ()
    fire(case, "complete_plan", clock=clock)
    fire(case, "confirm_satisfaction", {"satisfied": True}, clock=clock)
    assert case.closed
    assert case.overdue(clock.now + 365 * DAY) == ()


def test_overdue_lists_every_open_item_past_due(clock: FakeClock) -> None:
    case = at_act(clock, ("a", DAY), ("b", DAY), ("c", 10 * DAY))
    assert [o.ref for o in case.overdue(clock.now + 2 * DAY)] == ["a", "b"]
    assert [o.ref for o in case.overdue(clock.now + 11 * DAY)] == ["a", "b", "c"]


def test_overdue_shows_a_missed_follow_up(clock: FakeClock) -> None:
    case = case_at(ID, "assure", clock)
    resume_at = clock.now + dt.timedelta(hours=3)
    fire(case, "reschedule", {"resume_at": iso(resume_at), "reason": "Too upset to talk."})
    clock.advance(hours=2)
    assert case.overdue() == ()
    clock.advance(hours=2)
    assert case.overdue() == (
        resolveflow.OverdueItem(
            kind="follow_up", ref="reschedule", description="Too upset to talk.", due=resume_at
        ),
    )
    fire(case, "resume")
    assert case.overdue() == ()


def test_overdue_after_a_revision_is_about_the_new_plan(clock: FakeClock) -> None:
    case = at_accomplish(clock)
    fire(case, "revise_plan", {"satisfied": False}, clock=clock)
    clock.advance(days=10)  # the old plan's dues are long past, but it was done
    assert case.overdue() == ()
    fire(case, "agree_plan", seven_as_plan(clock, ("a", DAY)))
    assert case.overdue() == ()
    clock.advance(days=2)
    assert [(o.kind, o.ref) for o in case.overdue()] == [("plan_item", "a")]


# --- 1.1 ------------------------------------------------------------------------------
#
# Each gap 1.1 closes is played through the public API twice: 1.0 lets the situation
# through, 1.1 refuses it with its own code (or reaches the new branch).

DIGEST_1_0 = "sha256:f2f4e2faf3598fef78d2fa6a02971d3a60600255979cdac033adbe56fbd04cef"
HOUR = dt.timedelta(hours=1)
FEELINGS = {"feelings": "Angry the sofa arrived damaged."}
GRIEVANCES = {"points": ["Damaged leg", "Nobody called back"], "customer_finished": True}
APOLOGY = {"statement": "I am sorry for the damage and the silence."}
ASSURANCE = {"commitment": "We will put this right this week."}
READY = {
    "customer_ready": True,
    "customer_expects": "A sofa that stands by the weekend.",
    "we_can_offer": "A new leg by courier, then a call to check.",
}
CLOSE = {"satisfied": True, "thanked": True, "recurrence_assured": True}


def open_1_1(clock: FakeClock, case_id: str = "CASE-11") -> resolveflow.Case:
    return resolveflow.open_case(SEVEN_AS_1_1, case_id=case_id, clock=clock)


def at_assure_1_1(clock: FakeClock, case_id: str = "CASE-11") -> resolveflow.Case:
    case = open_1_1(clock, case_id)
    for action, evidence in (
        ("acknowledge_feelings", FEELINGS),
        ("hear_grievances", GRIEVANCES),
        ("give_apology", APOLOGY),
    ):
        fire(case, action, evidence, clock=clock)
    assert case.step == "assure"
    return case


def prioritised_plan(clock: FakeClock, *items: tuple[str, dt.timedelta, str]) -> dict[str, Any]:
    """A 1.1 plan: (id, due from now, priority) per item."""
    return {
        "agreed_with": "Ms Ortiz",
        "items": [
            {"id": item_id, "description": f"Do {item_id}", "due": iso(clock.now + due), "priority": priority}
            for item_id, due, priority in items
        ],
    }


def at_act_1_1(clock: FakeClock, *items: tuple[str, dt.timedelta, str]) -> resolveflow.Case:
    case = at_assure_1_1(clock)
    fire(case, "give_assurance", ASSURANCE, clock=clock)
    fire(case, "discuss_solutions", READY, clock=clock)
    fire(case, "agree_plan", prioritised_plan(clock, *items), clock=clock)
    assert case.step == "act"
    return case


def open_items(case: resolveflow.Case) -> list[str]:
    """The plan items still open (every open promise is past due a century from now)."""
    later = case.history[-1].at + dt.timedelta(days=36500)
    return [str(item.ref) for item in case.overdue(later) if item.kind == "plan_item"]


def finish_1_1(case: resolveflow.Case, clock: FakeClock) -> None:
    """Carry a 1.1 case from wherever it is to resolved, the way 1.1 asks at each step."""
    for _ in range(20):
        step = case.step
        if step == "resolved":
            return
        if step == "acknowledge":
            fire(case, "acknowledge_feelings", FEELINGS, clock=clock)
        elif step == "air_grievances":
            fire(case, "hear_grievances", GRIEVANCES, clock=clock)
        elif step == "apologize":
            fire(case, "give_apology", APOLOGY, clock=clock)
        elif step == "assure":
            if not case.check("discuss_solutions", READY).allowed:
                fire(case, "give_assurance", ASSURANCE, clock=clock)
            fire(case, "discuss_solutions", READY, clock=clock)
        elif step == "rescheduled":
            reschedule = [e for e in case.history if e.action == "reschedule"][-1]
            clock.now = max(clock.now, reschedule.evidence.resume_at)
            fire(case, "resume")
        elif step == "agree":
            fire(case, "agree_plan", prioritised_plan(clock, ("leg", DAY, "pressing")), clock=clock)
        elif step == "act":
            for ref in open_items(case):
                fire(case, "complete_item", {"item_id": ref}, clock=clock)
            fire(case, "complete_plan", clock=clock)
        elif step == "accomplish":
            fire(case, "confirm_satisfaction", CLOSE, clock=clock)
    raise AssertionError(f"stuck at {case.step}")


def test_1_1_is_the_latest_and_1_0_stays_exactly_as_it_was() -> None:
    assert resolveflow.versions(ID) == ["1.0", "1.1"]
    assert resolveflow.get_methodology(ID) is SEVEN_AS_1_1
    assert resolveflow.get_methodology(ID, "1.0") is SEVEN_AS
    # Stored 1.0 cases bind this digest: 1.0 must never change.
    assert definition_digest(SEVEN_AS) == DIGEST_1_0
    assert (SEVEN_AS_1_1.source, SEVEN_AS_1_1.required_steps) == (SEVEN_AS.source, SEVEN_AS.required_steps)
    assert [s.id for s in SEVEN_AS_1_1.steps] == [s.id for s in SEVEN_AS.steps]
    # The text names nobody but "you" and the customer: no roles.
    assert SEVEN_AS_1_1.roles == ()


def test_1_1_verifies() -> None:
    report = resolveflow.verify(SEVEN_AS_1_1)
    assert report.ok, report.findings
    assert report.findings == ()


def test_1_1_guidance_does_not_copy_the_source() -> None:
    assert copied(_guidance_strings(SEVEN_AS_1_1), source_fingerprint(ID)) == {}


def test_1_1_happy_path_reaches_resolved_through_every_required_step(clock: FakeClock) -> None:
    case = open_1_1(clock)
    finish_1_1(case, clock)
    assert case.outcome is not None
    assert case.outcome.successful
    assert is_subsequence(REQUIRED_STEPS[ID], case.path)
    assert [e.action for e in case.history][3:5] == ["give_assurance", "discuss_solutions"]


# --- gap: the assurance comes before a reschedule ----------------------------------------


def test_1_1_no_reschedule_before_the_assurance(clock: FakeClock) -> None:
    later = {"resume_at": iso(clock.now + 3 * HOUR), "reason": "Too upset to talk it through."}
    # 1.0 lets the case go straight to a reschedule, no commitment on record.
    old = case_at(ID, "assure", clock, case_id="OLD")
    assert_moves(old, "reschedule", later, "rescheduled")
    assert not any(isinstance(e.evidence, ev.Assurance) for e in old.history)

    case = at_assure_1_1(clock)
    later = {"resume_at": iso(clock.now + 3 * HOUR), "reason": "Too upset to talk it through."}
    refused = assert_refused(case, "reschedule", later, [("assurance_given", ("assurance",))])
    assert "give_assurance" in refused.refusals[0].message
    # Assure first (the case stays at assure), then the reschedule is allowed.
    assert_moves(case, "give_assurance", ASSURANCE, "assure")
    assert_moves(case, "reschedule", later, "rescheduled")


def test_1_1_solutions_are_discussed_after_the_assurance_and_only_with_a_ready_customer(
    clock: FakeClock,
) -> None:
    case = at_assure_1_1(clock)
    assert_refused(case, "discuss_solutions", READY, [("assurance_given", ("assurance",))])
    fire(case, "give_assurance", ASSURANCE, clock=clock)
    refused = assert_refused(
        case,
        "discuss_solutions",
        {**READY, "customer_ready": False},
        [("customer_ready", ("customer_ready=True",))],
    )
    assert "reschedule" in refused.refusals[0].message
    assert_invalid(case, "discuss_solutions", {**READY, "customer_expects": " "}, ("customer_expects",))
    assert_moves(case, "discuss_solutions", READY, "agree")
    # 1.0 has no such step: the assurance itself moves the case on.
    old = case_at(ID, "assure", clock, case_id="OLD")
    assert_moves(old, "give_assurance", ASSURANCE, "agree")


# --- gap: resume is held to the agreed time -----------------------------------------------


def test_1_1_resume_waits_for_the_agreed_time(clock: FakeClock) -> None:
    old = case_at(ID, "assure", clock, case_id="OLD")
    fire(old, "reschedule", {"resume_at": iso(clock.now + 3 * HOUR), "reason": "Upset."})
    clock.advance(minutes=10)
    assert_moves(old, "resume", None, "assure")  # 1.0: ten minutes later is fine

    case = at_assure_1_1(clock)
    fire(case, "give_assurance", ASSURANCE, clock=clock)
    resume_at = clock.now + 3 * HOUR
    fire(case, "reschedule", {"resume_at": iso(resume_at), "reason": "Upset."})
    clock.advance(minutes=10)
    refused = assert_refused(
        case, "resume", None, [("not_before_agreed_time", (f"not_before:{resume_at.isoformat()}",))]
    )
    assert "time agreed" in refused.refusals[0].message
    guard = SEVEN_AS_1_1.action("resume").guards[0]
    assert isinstance(guard, resolveflow.guards.NotBefore)
    assert (guard.record, guard.field) == (ev.Reschedule, "resume_at")
    clock.now = resume_at
    assert_moves(case, "resume", None, "assure")
    # Back at assure the assurance stands: the case may move on or be rescheduled again.
    assert case.check("discuss_solutions", READY).allowed


@settings(max_examples=40, deadline=None)
@given(
    wait=st.timedeltas(min_value=dt.timedelta(minutes=1), max_value=dt.timedelta(days=30)),
    called=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=40)),
)
def test_1_1_resume_is_allowed_exactly_from_the_agreed_time(wait: dt.timedelta, called: dt.timedelta) -> None:
    clock = FakeClock()
    case = at_assure_1_1(clock)
    fire(case, "give_assurance", ASSURANCE)
    resume_at = clock.now + wait
    fire(case, "reschedule", {"resume_at": iso(resume_at), "reason": "Upset."})
    clock.now = case.history[-1].at + called
    decision = case.check("resume")
    assert decision.allowed == (clock.now >= resume_at)
    if not decision.allowed:
        assert refusal_pairs(decision.refusals) == [
            ("not_before_agreed_time", (f"not_before:{resume_at.isoformat()}",))
        ]


# --- gap: the close records the thanks and the word that it will not recur -----------------


def test_1_1_the_close_records_thanks_and_that_it_should_not_recur(clock: FakeClock) -> None:
    old = at_accomplish(clock)
    assert_moves(old, "confirm_satisfaction", {"satisfied": True}, "resolved")  # 1.0: nothing else asked

    case = at_act_1_1(clock, ("leg", DAY, "pressing"))
    fire(case, "complete_item", {"item_id": "leg"}, clock=clock)
    fire(case, "complete_plan", clock=clock)
    assert case.step == "accomplish"
    assert_invalid(case, "confirm_satisfaction", {"satisfied": True}, ("thanked", "recurrence_assured"))
    assert_refused(
        case,
        "confirm_satisfaction",
        {**CLOSE, "thanked": False},
        [("customer_thanked", ("thanked=True",))],
    )
    assert_refused(
        case,
        "confirm_satisfaction",
        {**CLOSE, "recurrence_assured": False},
        [("recurrence_assured", ("recurrence_assured=True",))],
    )
    assert_refused(
        case,
        "confirm_satisfaction",
        {"satisfied": False, "thanked": False, "recurrence_assured": False},
        [
            ("customer_satisfied", ("satisfied=True",)),
            ("customer_thanked", ("thanked=True",)),
            ("recurrence_assured", ("recurrence_assured=True",)),
        ],
    )
    entry = assert_moves(case, "confirm_satisfaction", {**CLOSE, "comment": "Thank you."}, "resolved")
    assert entry.evidence == ev.Accomplishment(
        satisfied=True, thanked=True, recurrence_assured=True, comment="Thank you."
    )


def test_1_1_a_dissatisfied_customer_still_revises_the_plan(clock: FakeClock) -> None:
    case = at_act_1_1(clock, ("leg", DAY, "pressing"))
    fire(case, "complete_item", {"item_id": "leg"}, clock=clock)
    fire(case, "complete_plan", clock=clock)
    assert_moves(case, "revise_plan", {"satisfied": False, "comment": "Still wobbly."}, "agree")
    finish_1_1(case, clock)
    assert case.path[-4:] == ("agree", "act", "accomplish", "resolved")


# --- gap: the most pressing problems first --------------------------------------------------


@pytest.mark.parametrize(
    ("items", "missing"),
    [
        pytest.param([("care", 5 * DAY, "long_term")], ("priority:pressing",), id="no-pressing-item"),
        pytest.param(
            [("leg", 2 * DAY, "pressing"), ("care", DAY, "long_term"), ("call", 3 * DAY, "pressing")],
            ("items[1].due",),
            id="long-term-due-before-a-pressing-item",
        ),
    ],
)
def test_1_1_a_plan_starts_with_the_pressing_items(
    clock: FakeClock, items: list[tuple[str, dt.timedelta, str]], missing: tuple[str, ...]
) -> None:
    case = at_act_1_1(clock, ("x", DAY, "pressing"))
    fire(case, "complete_item", {"item_id": "x"}, clock=clock)
    fire(case, "complete_plan", clock=clock)
    fire(case, "revise_plan", {"satisfied": False}, clock=clock)
    assert case.step == "agree"
    refused = assert_refused(
        case, "agree_plan", prioritised_plan(clock, *items), [("pressing_planned_first", missing)]
    )
    assert "pressing" in refused.refusals[0].message
    # A long-term item due with the last pressing one, or after it, is fine.
    assert_moves(
        case,
        "agree_plan",
        prioritised_plan(clock, ("leg", 2 * DAY, "pressing"), ("care", 2 * DAY, "long_term")),
        "act",
    )


def test_1_1_plan_items_default_to_pressing_and_reject_other_priorities(clock: FakeClock) -> None:
    case = at_assure_1_1(clock)
    fire(case, "give_assurance", ASSURANCE, clock=clock)
    fire(case, "discuss_solutions", READY, clock=clock)
    assert_invalid(
        case, "agree_plan", prioritised_plan(clock, ("leg", DAY, "urgent")), ("items[0].priority",)
    )
    entry = assert_moves(case, "agree_plan", seven_as_plan(clock, ("leg", DAY)), "act")
    assert isinstance(entry.evidence, ev.PrioritisedPlan)
    assert isinstance(entry.evidence, ev.Plan)  # every plan guard still applies
    assert entry.evidence.items[0].priority is ev.ItemPriority.PRESSING


def test_1_1_long_term_items_wait_for_the_pressing_ones(clock: FakeClock) -> None:
    # 1.0 has no priorities: any item may be done first.
    old = at_act(clock, ("leg", DAY), ("care", 10 * DAY))
    assert_moves(old, "complete_item", {"item_id": "care"}, "act")

    case = at_act_1_1(
        clock, ("leg", DAY, "pressing"), ("call", 2 * DAY, "pressing"), ("care", 10 * DAY, "long_term")
    )
    refused = assert_refused(
        case,
        "complete_item",
        {"item_id": "care"},
        [("pressing_done_first", ("plan_item:leg", "plan_item:call"))],
    )
    assert "leg, call" in refused.refusals[0].message
    # Pressing items in any order among themselves.
    assert_moves(case, "complete_item", {"item_id": "call"}, "act")
    assert_refused(case, "complete_item", {"item_id": "care"}, [("pressing_done_first", ("plan_item:leg",))])
    assert_moves(case, "complete_item", {"item_id": "leg"}, "act")
    # The long-term item is still part of the plan: accomplish waits for it too.
    assert_refused(case, "complete_plan", None, [("all_plan_items_done", ("plan_item:care",))])
    assert_moves(case, "complete_item", {"item_id": "care"}, "act")
    assert_moves(case, "complete_plan", None, "accomplish")


PRIORITY = st.sampled_from(["pressing", "long_term"])


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(st.tuples(PRIORITY, st.integers(min_value=1, max_value=30)), min_size=1, max_size=6),
    order=st.randoms(use_true_random=False),
)
def test_1_1_plan_and_completion_order_follow_the_priorities(
    items: list[tuple[str, int]], order: Any
) -> None:
    clock = FakeClock()
    case = at_assure_1_1(clock)
    fire(case, "give_assurance", ASSURANCE)
    fire(case, "discuss_solutions", READY)
    plan = prioritised_plan(clock, *((f"i{n}", dt.timedelta(days=d), p) for n, (p, d) in enumerate(items)))
    pressing_dues = [d for p, d in items if p == "pressing"]
    sound = bool(pressing_dues) and all(d >= max(pressing_dues) for p, d in items if p == "long_term")
    assert case.check("agree_plan", plan).allowed == sound
    if not sound:
        return
    fire(case, "agree_plan", plan)
    priority = {f"i{n}": p for n, (p, _) in enumerate(items)}
    remaining = list(priority)
    order.shuffle(remaining)
    while remaining:
        ref = remaining.pop(0)
        pressing_open = [r for r in open_items(case) if priority[r] == "pressing"]
        allowed = priority[ref] == "pressing" or not pressing_open
        assert case.check("complete_item", {"item_id": ref}).allowed == allowed
        if allowed:
            fire(case, "complete_item", {"item_id": ref})
        else:
            remaining.append(ref)
    assert case.check("complete_plan").allowed


# --- migrating 1.0 cases ----------------------------------------------------------------------


def at_1_0(clock: FakeClock, where: str) -> resolveflow.Case:
    """A 1.0 case at a step of its happy path, or at one of its in-between situations."""
    if where == "rescheduled":
        case = case_at(ID, "assure", clock, case_id=f"MIG-{where}")
        fire(case, "reschedule", {"resume_at": iso(clock.now + 3 * HOUR), "reason": "Upset."}, clock=clock)
    elif where == "act-open-items":
        case = case_at(ID, "act", clock, case_id=f"MIG-{where}")
        assert open_items(case) == ["leg", "call"]
    elif where == "act-one-done":
        case = case_at(ID, "act", clock, case_id=f"MIG-{where}")
        fire(case, "complete_item", {"item_id": "leg"}, clock=clock)
    else:
        case = case_at(ID, where, clock, case_id=f"MIG-{where}")
    assert case.methodology is SEVEN_AS
    return case


@pytest.mark.parametrize(
    "where",
    [
        "acknowledge",
        "air_grievances",
        "apologize",
        "assure",
        "rescheduled",
        "agree",
        "act-open-items",
        "act-one-done",
        "accomplish",
    ],
)
def test_a_1_0_case_migrates_at_any_step_and_carries_on(clock: FakeClock, where: str) -> None:
    old = at_1_0(clock, where)
    step = old.step
    before = old.history
    moved = resolveflow.migrate(old, SEVEN_AS_1_0_TO_1_1, actor="ops")
    assert old.history == before, "the old object is left as it was"
    assert (moved.methodology.version, moved.opened_with, moved.step) == ("1.1", "1.0", step)
    assert moved.history[-1].action == "migrate_version"
    assert moved.history[:-1] == before
    finish_1_1(moved, clock)
    assert moved.closed
    assert moved.outcome is not None
    assert moved.outcome.successful
    assert isinstance(moved.history[-1].evidence, ev.Accomplishment)
    again = resolveflow.restore(moved.snapshot())
    assert again.head == moved.head
    assert again.step == "resolved"


def test_a_migrated_rescheduled_case_keeps_its_time_and_then_assures(clock: FakeClock) -> None:
    old = at_1_0(clock, "rescheduled")
    resume_at = old.history[-1].evidence.resume_at
    moved = resolveflow.migrate(old, SEVEN_AS_1_0_TO_1_1, actor="ops")
    # The 1.0 reschedule's time holds under 1.1.
    assert refusal_pairs(moved.check("resume").refusals) == [
        ("not_before_agreed_time", (f"not_before:{resume_at.isoformat()}",))
    ]
    clock.now = resume_at
    moved.fire("resume", actor=ACTOR)
    # 1.0 rescheduled without an assurance: under 1.1 it is given before anything else.
    assert refusal_pairs(moved.check("discuss_solutions", READY).refusals) == [
        ("assurance_given", ("assurance",))
    ]
    moved.fire("give_assurance", ASSURANCE, actor=ACTOR)
    assert moved.check("discuss_solutions", READY).allowed


def test_a_migrated_1_0_plan_has_no_priorities_so_any_item_goes_first(clock: FakeClock) -> None:
    old = at_act(clock, ("leg", DAY), ("care", 10 * DAY))
    moved = resolveflow.migrate(old, SEVEN_AS_1_0_TO_1_1, actor="ops")
    assert moved.check("complete_item", {"item_id": "care"}).allowed
    moved.fire("complete_item", {"item_id": "care"}, actor=ACTOR)
    moved.fire("complete_item", {"item_id": "leg"}, actor=ACTOR)
    moved.fire("complete_plan", actor=ACTOR)
    # The close asks what 1.1 asks, whatever version the case was opened on.
    assert refusal_pairs(moved.check("confirm_satisfaction", {**CLOSE, "thanked": False}).refusals) == [
        ("customer_thanked", ("thanked=True",))
    ]


def test_a_closed_1_0_case_stays_on_1_0(clock: FakeClock) -> None:
    case = at_accomplish(clock)
    fire(case, "confirm_satisfaction", {"satisfied": True}, clock=clock)
    with pytest.raises(resolveflow.Refused) as info:
        resolveflow.migrate(case, SEVEN_AS_1_0_TO_1_1, actor="ops")
    assert [r.code for r in info.value.refusals] == ["case_closed"]
    assert case.methodology is SEVEN_AS
