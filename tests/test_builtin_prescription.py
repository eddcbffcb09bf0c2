"""prescription: every rule its module docstring claims.

Rules (src/resolveflow/methodologies/prescription.py, encoded from the article its ``source`` cites):
- none of the three steps can be skipped;
- acknowledge takes accountability (accepts_accountability must be true);
- remedy_now records an immediate action taken no later than it is recorded;
- prevent_recurrence records a procedure change, training or a system fix;
- a customer who cannot be satisfied closes at cannot_satisfy, unsuccessful;
- a closed case refuses everything with case_closed.

Version 1.1 (issue 13), each gap played through the public API against 1.0 first:
- "now" is bounded: a remedy time older than the window (24 hours by default, a parameter
  of the guard remedy_taken_now, visible in the definition and its file form) is refused;
- the not-satisfied outcome comes only after a remedy, and records the offer and the answer;
- prevention records that the customer was told what will change;
- open 1.0 cases migrate at every step; closed ones stay on 1.0.
"""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import resolveflow
from resolveflow.exceptions import InvalidMethodology, InvalidMethodologyFile
from resolveflow.files import (
    dump_methodology,
    methodology_from_dict,
    methodology_from_text,
    methodology_to_dict,
)
from resolveflow.guards import NotOlderThan
from resolveflow.methodologies import PRESCRIPTION, PRESCRIPTION_1_0_TO_1_1, PRESCRIPTION_1_1
from resolveflow.methodologies.prescription import REMEDY_WINDOW_HOURS
from tests._builtin_support import (
    ACTOR,
    LATER_HAPPY_PATHS,
    assert_invalid,
    assert_moves,
    assert_refused,
    case_at,
    iso,
    methodology,
    walk,
)
from tests.conftest import FakeClock

ID = "prescription"
ACK = {"customer_perspective": "Charged twice; the rent bounced.", "accepts_accountability": True}
WHY = {"reason": "Wants compensation far beyond the loss."}


def remedy(taken_at: dt.datetime) -> dict[str, str]:
    return {"action": "Credit issued", "taken_at": iso(taken_at)}


def test_acknowledging_without_accountability_is_refused(clock: FakeClock) -> None:
    case = case_at(ID, "acknowledge", clock)
    assert_refused(
        case,
        "acknowledge_problem",
        {**ACK, "accepts_accountability": False},
        [("accountability_accepted", ("accepts_accountability=True",))],
    )
    assert_invalid(
        case, "acknowledge_problem", {"customer_perspective": "Charged twice."}, ("accepts_accountability",)
    )
    assert_moves(case, "acknowledge_problem", ACK, "remedy_now")


@pytest.mark.parametrize(
    "delta", [dt.timedelta(seconds=1), dt.timedelta(days=1)], ids=["a-second-ahead", "tomorrow"]
)
def test_a_remedy_taken_in_the_future_is_refused(clock: FakeClock, delta: dt.timedelta) -> None:
    case = case_at(ID, "remedy_now", clock)
    assert_refused(case, "remedy", remedy(clock.now + delta), [("remedy_already_taken", ("taken_at",))])


@pytest.mark.parametrize("delta", [dt.timedelta(0), -dt.timedelta(hours=2)], ids=["now", "earlier"])
def test_a_remedy_taken_now_or_earlier_is_recorded(clock: FakeClock, delta: dt.timedelta) -> None:
    case = case_at(ID, "remedy_now", clock)
    assert_moves(case, "remedy", remedy(clock.now + delta), "prevent_recurrence")


def test_a_remedy_records_when_it_was_taken(clock: FakeClock) -> None:
    case = case_at(ID, "remedy_now", clock)
    assert_invalid(case, "remedy", {"action": "Credit issued"}, ("taken_at",))
    assert_invalid(
        case, "remedy", {"action": "Credit issued", "taken_at": "2026-01-05T09:00:00"}, ("taken_at",)
    )


@pytest.mark.parametrize("kind", ["procedure_change", "training", "system_fix"])
def test_each_prevention_kind_resolves(clock: FakeClock, kind: str) -> None:
    case = case_at(ID, "prevent_recurrence", clock)
    assert_moves(case, "commit_prevention", {"kind": kind, "description": "Stop it recurring."}, "resolved")
    assert case.outcome is not None
    assert case.outcome.successful


@pytest.mark.parametrize("kind", ["apology", "PROCEDURE_CHANGE", "", None])
def test_any_other_prevention_kind_is_invalid(clock: FakeClock, kind: object) -> None:
    case = case_at(ID, "prevent_recurrence", clock)
    assert_invalid(case, "commit_prevention", {"kind": kind, "description": "Be nicer."}, ("kind",))


def test_no_step_can_be_skipped(clock: FakeClock) -> None:
    case = case_at(ID, "acknowledge", clock)
    assert_refused(case, "remedy", remedy(clock.now), [("not_from_this_step", ("step:remedy_now",))])
    assert_refused(
        case,
        "commit_prevention",
        {"kind": "training", "description": "Coach the clerk."},
        [("not_from_this_step", ("step:prevent_recurrence",))],
    )
    case = case_at(ID, "remedy_now", clock, case_id="C-2")
    assert_refused(
        case,
        "commit_prevention",
        {"kind": "training", "description": "Coach the clerk."},
        [("not_from_this_step", ("step:prevent_recurrence",))],
    )


@pytest.mark.parametrize("step", ["acknowledge", "remedy_now", "prevent_recurrence"])
def test_declare_cannot_satisfy_reaches_the_unsuccessful_outcome(clock: FakeClock, step: str) -> None:
    case = case_at(ID, step, clock)
    assert_moves(case, "declare_cannot_satisfy", WHY, "cannot_satisfy")
    assert case.closed
    assert case.outcome is not None
    assert case.outcome.id == "cannot_satisfy"
    assert not case.outcome.successful
    assert "cannot_satisfy" not in methodology(ID).successful_outcomes


def _assert_refuses_everything(case: resolveflow.Case, clock: FakeClock) -> None:
    valid = {
        "acknowledge_problem": ACK,
        "remedy": remedy(clock.now),
        "commit_prevention": {"kind": "training", "description": "Coach the clerk."},
        "declare_cannot_satisfy": WHY,
    }
    assert set(valid) == {a.name for a in methodology(ID).actions}
    for action, evidence in valid.items():
        assert_refused(case, action, evidence, [("case_closed", ())])
        assert_refused(case, action, None, [("case_closed", ())])
    assert case.actions() == ()


def test_a_resolved_case_refuses_everything(clock: FakeClock) -> None:
    case = case_at(ID, "prevent_recurrence", clock)
    assert_moves(
        case, "commit_prevention", {"kind": "training", "description": "Coach the clerk."}, "resolved"
    )
    _assert_refuses_everything(case, clock)


def test_a_case_that_cannot_be_satisfied_refuses_everything(clock: FakeClock) -> None:
    case = case_at(ID, "remedy_now", clock)
    assert_moves(case, "declare_cannot_satisfy", WHY, "cannot_satisfy")
    _assert_refuses_everything(case, clock)


# --- version 1.1 (issue 13): the gaps 1.0 left open --------------------------------------

V11 = "1.1"
WINDOW = dt.timedelta(hours=REMEDY_WINDOW_HOURS)
PREVENTION = {"kind": "system_fix", "description": "Invoices are deduplicated before sending."}
NOT_SATISFIED = {
    "remedy_offered": "The duplicate charge credited today and next month free.",
    "customer_answer": "Not enough: wants a year free or will cancel.",
    "sincere_attempt": True,
}


def case_11(clock: FakeClock, step: str, version: str = V11, case_id: str = "RX-11") -> resolveflow.Case:
    """A case on ``version`` walked along that version's happy path to ``step``."""
    m = resolveflow.get_methodology(ID, version)
    case = resolveflow.open_case(m, case_id=case_id, clock=clock)
    walk(case, clock, LATER_HAPPY_PATHS.get(m.key) or [], upto=step)
    return case


def carry_on(case: resolveflow.Case, clock: FakeClock) -> None:
    """Take the rest of 1.1's happy path from wherever the case is."""
    for action, make in LATER_HAPPY_PATHS[(ID, V11)]:
        spec = PRESCRIPTION_1_1.action(action)
        assert spec is not None
        if case.step in spec.sources:
            clock.advance(minutes=5)
            case.fire(action, make(clock), actor=ACTOR)


def test_1_1_is_the_latest_verified_and_1_0_stays_available() -> None:
    assert resolveflow.get_methodology(ID) is PRESCRIPTION_1_1
    assert resolveflow.get_methodology(ID, "1.0") is PRESCRIPTION
    assert resolveflow.verify(PRESCRIPTION_1_1).ok, resolveflow.verify(PRESCRIPTION_1_1)
    assert PRESCRIPTION_1_1.required_steps == PRESCRIPTION.required_steps
    assert PRESCRIPTION_1_1.roles == ()  # the article names no role
    assert resolveflow.available() == sorted(set(resolveflow.available()))


# "Remedy it right now": how recent counts as now ------------------------------------------


def test_1_0_accepts_a_remedy_taken_a_year_ago_and_1_1_refuses_it(clock: FakeClock) -> None:
    a_year_ago = clock.now - dt.timedelta(days=365)
    old = case_at(ID, "remedy_now", clock)
    assert_moves(old, "remedy", remedy(a_year_ago), "prevent_recurrence")  # the gap
    case = case_11(clock, "remedy_now")
    refused = assert_refused(case, "remedy", remedy(a_year_ago), [("remedy_taken_now", ("taken_at",))])
    (refusal,) = refused.refusals
    assert "24 hours" in refusal.message
    assert iso(clock.now - WINDOW) in refusal.message  # the earliest time it would take
    assert_moves(case, "remedy", remedy(clock.now - dt.timedelta(hours=3)), "prevent_recurrence")


def test_1_1_still_refuses_a_remedy_in_the_future(clock: FakeClock) -> None:
    case = case_11(clock, "remedy_now")
    tomorrow = remedy(clock.now + dt.timedelta(days=1))
    assert_refused(case, "remedy", tomorrow, [("remedy_already_taken", ("taken_at",))])


@settings(max_examples=150, deadline=None)
@given(
    older=st.integers(min_value=1, max_value=400 * 86_400 * 1_000_000),
    within=st.integers(min_value=0, max_value=int(WINDOW.total_seconds()) * 1_000_000),
)
def test_any_remedy_older_than_the_window_is_refused_and_any_within_it_accepted(
    older: int, within: int
) -> None:
    """On the fake clock: now - window - (a microsecond or more) is refused; now - [0, window] passes."""
    clock = FakeClock()
    case = case_11(clock, "remedy_now")
    too_old = remedy(clock.now - WINDOW - dt.timedelta(microseconds=older))
    decision = case.check("remedy", too_old)
    assert [(r.code, r.missing) for r in decision.refusals] == [("remedy_taken_now", ("taken_at",))]
    recent = remedy(clock.now - dt.timedelta(microseconds=within))
    assert case.check("remedy", recent).allowed
    entry = case.fire("remedy", recent, actor=ACTOR)
    assert entry.evidence.taken_at == clock.now - dt.timedelta(microseconds=within)


def test_now_is_the_case_clock_when_the_remedy_is_recorded(clock: FakeClock) -> None:
    case = case_11(clock, "remedy_now")
    taken = remedy(clock.now)
    assert case.check("remedy", taken).allowed
    clock.advance(hours=REMEDY_WINDOW_HOURS, seconds=1)  # the agent records it the next day
    assert [r.code for r in case.check("remedy", taken).refusals] == ["remedy_taken_now"]
    # fire(at=...) is judged at that time, like every guard.
    entry = case.fire("remedy", taken, actor=ACTOR, at=clock.now - dt.timedelta(hours=2))
    assert entry.step == "prevent_recurrence"


def test_the_window_is_a_parameter_of_the_definition_and_of_its_file_form() -> None:
    remedy_action = PRESCRIPTION_1_1.action("remedy")
    assert remedy_action is not None
    (window,) = [g for g in remedy_action.guards if g.name == "remedy_taken_now"]
    assert isinstance(window, NotOlderThan)
    assert (window.field, window.days, window.hours, window.minutes) == (
        "taken_at",
        0,
        REMEDY_WINDOW_HOURS,
        0,
    )
    assert window.limit == WINDOW == dt.timedelta(days=1)
    data = methodology_to_dict(PRESCRIPTION_1_1)
    (remedy_data,) = [a for a in data["actions"] if a["name"] == "remedy"]
    assert {
        k: v
        for k, v in remedy_data["guards"][-1].items()
        if k in ("kind", "field", "hours", "days", "minutes")
    } == {"kind": "not_older_than", "field": "taken_at", "hours": 24}
    assert methodology_from_dict(data) == PRESCRIPTION_1_1
    for fmt in ("yaml", "toml", "json"):
        assert methodology_from_text(dump_methodology(PRESCRIPTION_1_1, fmt), fmt) == PRESCRIPTION_1_1


def _with_window(data: dict[str, object], **window: object) -> dict[str, object]:
    copy = json.loads(json.dumps(data))
    (remedy_data,) = [a for a in copy["actions"] if a["name"] == "remedy"]
    guard = remedy_data["guards"][-1]
    for key in ("days", "hours", "minutes"):
        guard.pop(key, None)
    guard.update(window)
    return copy


def test_a_file_can_set_another_window_and_a_bad_one_is_refused_where_it_is() -> None:
    data = {**methodology_to_dict(PRESCRIPTION_1_1), "id": "our-prescription", "version": "1.0"}
    shift = methodology_from_dict(_with_window(data, hours=4))
    action = shift.action("remedy")
    assert action is not None
    assert [g.limit for g in action.guards if isinstance(g, NotOlderThan)] == [dt.timedelta(hours=4)]
    for bad, says in [
        ({}, "the window is empty"),
        ({"hours": 0}, "the window is empty"),
        ({"days": 400}, "longer than 366 days"),
        ({"hours": -1}, "must be at least 0"),
        ({"hours": 1.5}, "integer"),
    ]:
        with pytest.raises(InvalidMethodologyFile) as info:
            methodology_from_dict(_with_window(data, **bad))
        assert "actions[1].guards[2]" in info.value.key_path, (bad, info.value.key_path)
        assert says in info.value.reason, (bad, info.value.reason)


@pytest.mark.parametrize(
    ("window", "says"),
    [
        ({}, "the window is empty"),
        ({"hours": 0, "days": 0, "minutes": 0}, "the window is empty"),
        ({"hours": -1}, "hours must be a whole number of zero or more, got -1"),
        ({"days": 1.5}, "days must be a whole number"),
        ({"minutes": True}, "minutes must be a whole number"),
        ({"hours": "24"}, "hours must be a whole number"),
        ({"days": 367}, "longer than 366 days"),
        ({"days": 10**30}, "longer than 366 days"),
    ],
)
def test_a_bad_window_is_refused_when_the_methodology_is_made(window: dict[str, object], says: str) -> None:
    with pytest.raises(InvalidMethodology) as info:
        NotOlderThan(field="taken_at", name="remedy_taken_now", message="Recent, please.", **window)  # type: ignore[arg-type]
    assert says in str(info.value)
    assert "remedy_taken_now" in str(info.value)


def test_the_window_must_name_a_datetime_field_of_the_action() -> None:
    remedy_action = PRESCRIPTION_1_1.action("remedy")
    assert remedy_action is not None
    wrong = NotOlderThan(field="action", hours=1, name="recent_text", message="Recent, please.")
    with pytest.raises(InvalidMethodology):
        attrs.evolve(
            PRESCRIPTION_1_1,
            version="9.9",
            actions=tuple(
                attrs.evolve(a, guards=(*a.guards, wrong)) if a is remedy_action else a
                for a in PRESCRIPTION_1_1.actions
            ),
        )
    assert NotOlderThan(field="taken_at", days=366, name="a_year", message="Within a year.").limit.days == 366


# The customer who cannot be satisfied, after a sincere attempt -----------------------------


@pytest.mark.parametrize("step", ["acknowledge", "remedy_now"])
def test_1_0_shrugs_before_any_remedy_and_1_1_refuses_to(clock: FakeClock, step: str) -> None:
    old = case_at(ID, step, clock)
    assert_moves(old, "declare_cannot_satisfy", WHY, "cannot_satisfy")  # the gap: no remedy offered
    case = case_11(clock, step, case_id="RX-S")
    refused = assert_refused(
        case, "declare_cannot_satisfy", NOT_SATISFIED, [("not_from_this_step", ("step:prevent_recurrence",))]
    )
    assert "prevent_recurrence" in refused.refusals[0].message
    assert "declare_cannot_satisfy" not in {a.name for a in case.actions()}


def test_1_1_records_what_was_offered_and_the_customers_answer(clock: FakeClock) -> None:
    case = case_11(clock, "prevent_recurrence")
    # 1.0's record was a reason it "cannot be resolved"; 1.1 asks for the offer and the answer.
    assert_invalid(
        case,
        "declare_cannot_satisfy",
        WHY,
        ("reason", "remedy_offered", "customer_answer", "sincere_attempt"),
    )
    assert_invalid(
        case, "declare_cannot_satisfy", {**NOT_SATISFIED, "customer_answer": "  "}, ("customer_answer",)
    )
    entry = assert_moves(case, "declare_cannot_satisfy", NOT_SATISFIED, "cannot_satisfy")
    assert isinstance(entry.evidence, resolveflow.evidence.CustomerNotSatisfied)
    assert entry.evidence.remedy_offered == NOT_SATISFIED["remedy_offered"]
    assert entry.evidence.customer_answer == NOT_SATISFIED["customer_answer"]
    assert case.path == ("acknowledge", "remedy_now", "prevent_recurrence", "cannot_satisfy")
    assert case.outcome is not None and not case.outcome.successful
    remedies = [e for e in case.history if isinstance(e.evidence, resolveflow.evidence.ImmediateRemedy)]
    assert len(remedies) == 1 and remedies[0].seq < entry.seq


def test_1_1_needs_the_agents_word_that_the_attempt_was_sincere(clock: FakeClock) -> None:
    case = case_11(clock, "prevent_recurrence")
    assert_refused(
        case,
        "declare_cannot_satisfy",
        {**NOT_SATISFIED, "sincere_attempt": False},
        [("sincere_attempt_made", ("sincere_attempt=True",))],
    )


def test_1_1_every_way_to_not_satisfied_passes_the_remedy() -> None:
    """Structural: only remedy enters prevent_recurrence, the one step the outcome is offered from."""
    into = {
        a.name
        for a in PRESCRIPTION_1_1.actions
        for s in a.sources
        if a.target_from(s) == "prevent_recurrence"
    }
    assert into == {"remedy"}
    closing = [a for a in PRESCRIPTION_1_1.actions if a.target == "cannot_satisfy"]
    assert [(a.name, a.sources) for a in closing] == [("declare_cannot_satisfy", ("prevent_recurrence",))]
    assert "remedy_offered_first" in {g.name for g in closing[0].guards}


# Prevention: the customer is told what will change -----------------------------------------


def test_1_0_resolves_without_telling_the_customer_and_1_1_refuses(clock: FakeClock) -> None:
    old = case_at(ID, "prevent_recurrence", clock)
    assert_moves(old, "commit_prevention", PREVENTION, "resolved")  # the gap: nothing about telling
    case = case_11(clock, "prevent_recurrence")
    assert_invalid(case, "commit_prevention", PREVENTION, ("customer_told",))
    assert_refused(
        case,
        "commit_prevention",
        {**PREVENTION, "customer_told": False},
        [("customer_told_what_changes", ("customer_told=True",))],
    )
    entry = assert_moves(case, "commit_prevention", {**PREVENTION, "customer_told": True}, "resolved")
    assert entry.evidence.customer_told is True
    assert case.outcome is not None and case.outcome.successful


# Migration from 1.0, at every step ---------------------------------------------------------


@pytest.mark.parametrize("step", ["acknowledge", "remedy_now", "prevent_recurrence"])
def test_a_1_0_case_migrates_at_every_open_step_and_carries_on(clock: FakeClock, step: str) -> None:
    old = case_at(ID, step, clock)
    moved = resolveflow.migrate(old, PRESCRIPTION_1_0_TO_1_1, actor="ops")
    assert (moved.methodology.version, moved.opened_with, moved.step) == (V11, "1.0", step)
    assert moved.history[-1].action == "migrate_version" and moved.verify_chain()
    assert old.methodology.version == "1.0" and old.step == step  # the given case is left as it was
    carry_on(moved, clock)
    assert moved.outcome is not None and moved.outcome.id == "resolved"
    again = resolveflow.restore(moved.snapshot())
    assert again.head == moved.head and again.methodology is PRESCRIPTION_1_1


def test_a_migrated_case_at_remedy_now_is_held_to_1_1s_now(clock: FakeClock) -> None:
    moved = resolveflow.migrate(case_at(ID, "remedy_now", clock), PRESCRIPTION_1_0_TO_1_1, actor="ops")
    assert_refused(
        moved, "remedy", remedy(clock.now - dt.timedelta(days=365)), [("remedy_taken_now", ("taken_at",))]
    )
    assert_refused(
        moved, "declare_cannot_satisfy", NOT_SATISFIED, [("not_from_this_step", ("step:prevent_recurrence",))]
    )


def test_a_1_0_case_whose_old_remedy_was_accepted_migrates_and_can_close_not_satisfied(
    clock: FakeClock,
) -> None:
    """The stale remedy passed under 1.0's rules; 1.1 does not re-judge what is recorded."""
    old = case_at(ID, "remedy_now", clock)
    old.fire("remedy", remedy(clock.now - dt.timedelta(days=365)), actor=ACTOR)
    moved = resolveflow.migrate(old, PRESCRIPTION_1_0_TO_1_1, actor="ops")
    assert moved.step == "prevent_recurrence"
    moved.fire("declare_cannot_satisfy", NOT_SATISFIED, actor=ACTOR)
    assert moved.outcome is not None and moved.outcome.id == "cannot_satisfy"


@pytest.mark.parametrize("closing", ["commit_prevention", "declare_cannot_satisfy"])
def test_a_closed_1_0_case_is_not_migrated(clock: FakeClock, closing: str) -> None:
    case = case_at(ID, "prevent_recurrence", clock)
    evidence = (
        {"kind": "training", "description": "Coach the clerk."} if closing == "commit_prevention" else WHY
    )
    case.fire(closing, evidence, actor=ACTOR)
    head = case.head
    with pytest.raises(resolveflow.Refused) as info:
        resolveflow.migrate(case, PRESCRIPTION_1_0_TO_1_1, actor="ops")
    assert info.value.codes == ("case_closed",)
    assert all(r.message.strip() for r in info.value.refusals)
    assert case.head == head and case.methodology.version == "1.0"
