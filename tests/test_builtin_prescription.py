"""prescription: every rule its module docstring claims.

Rules (src/resolveflow/methodologies/prescription.py, encoded from the article its ``source`` cites):
- none of the three steps can be skipped;
- acknowledge takes accountability (accepts_accountability must be true);
- remedy_now records an immediate action taken no later than it is recorded;
- prevent_recurrence records a procedure change, training or a system fix;
- a customer who cannot be satisfied closes at cannot_satisfy, unsuccessful;
- a closed case refuses everything with case_closed.
"""

from __future__ import annotations

import datetime as dt

import pytest

import resolveflow
from tests._builtin_support import (
    assert_invalid,
    assert_moves,
    assert_refused,
    case_at,
    iso,
    methodology,
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
