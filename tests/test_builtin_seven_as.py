"""seven-as: every rule its module docstring claims, refused with its code and changing nothing.

Rules (src/resolveflow/methodologies/seven_as.py, encoded from the article its ``source`` cites):
- the grievances step ends only when the customer has finished;
- the plan's items are due in the future and uniquely named (plan_is_sound);
- act completes the plan item by item; overdue items show in case.overdue();
- accomplish needs every item done; resolved only on confirmed satisfaction,
  otherwise the plan is revised (back to agree) and the new plan carried out;
- a customer too upset at assure is rescheduled to a later time and the case
  resumes at assure.
"""

from __future__ import annotations

import datetime as dt

import pytest

import resolveflow
from tests._builtin_support import (
    REQUIRED_STEPS,
    assert_invalid,
    assert_moves,
    assert_refused,
    case_at,
    fire,
    is_subsequence,
    iso,
    seven_as_plan,
)
from tests.conftest import FakeClock

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
