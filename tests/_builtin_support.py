"""Helpers for the built-in methodology tests: JSON happy paths and refusal checks.

Everything here goes through the public API (``import resolveflow``). Evidence
is always posted as JSON data (dicts, lists, ISO 8601 strings), round-tripped
through ``json`` so nothing Python-only can slip in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

import resolveflow
from tests.conftest import FakeClock

ACTOR = "agent-7"
BUILTIN_VERSION = "1.0"

# The contract: the required steps of every built-in, in order.
REQUIRED_STEPS: dict[str, tuple[str, ...]] = {
    "four-steps": ("listen", "assess", "offer_solution", "empower"),
    "seven-as": ("acknowledge", "air_grievances", "apologize", "assure", "agree", "act", "accomplish"),
    "five-steps": ("listen", "analyze", "decide", "address", "evaluate"),
    "engage": ("engage", "empathize", "present_solution"),
    "prescription": ("acknowledge", "remedy_now", "prevent_recurrence"),
}

BUILTIN_IDS = tuple(REQUIRED_STEPS)


def methodology(methodology_id: str) -> resolveflow.Methodology:
    """The built-in version, even if another test registered a newer one under the same id."""
    return resolveflow.get_methodology(methodology_id, BUILTIN_VERSION)


def open_builtin(methodology_id: str, clock: FakeClock, case_id: str = "CASE-1") -> resolveflow.Case:
    return resolveflow.open_case(methodology(methodology_id), case_id=case_id, clock=clock)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def as_json(evidence: Any) -> Any:
    """What a CRM form would post: the evidence after a JSON round trip."""
    return None if evidence is None else json.loads(json.dumps(evidence))


def fire(
    case: resolveflow.Case, action: str, evidence: Any = None, *, clock: FakeClock | None = None
) -> resolveflow.HistoryEntry:
    """Fire with JSON evidence, a few minutes after the previous action."""
    if clock is not None:
        clock.advance(minutes=5)
    return case.fire(action, as_json(evidence), actor=ACTOR)


def is_subsequence(needle: Sequence[str], haystack: Sequence[str]) -> bool:
    it = iter(haystack)
    return all(step in it for step in needle)


def refusal_pairs(refusals: Sequence[resolveflow.Refusal]) -> list[tuple[str, tuple[str, ...]]]:
    return [(r.code, r.missing) for r in refusals]


def _state(case: resolveflow.Case) -> tuple[Any, ...]:
    return (case.step, case.history, json.dumps(case.snapshot(), sort_keys=True))


def assert_refused(
    case: resolveflow.Case,
    action: str,
    evidence: Any,
    expected: list[tuple[str, tuple[str, ...]]],
) -> resolveflow.Refused:
    """check() and fire() both refuse with exactly these (code, missing) pairs, and nothing changes."""
    before = _state(case)
    step = case.step
    decision = case.check(action, as_json(evidence))
    assert not decision.allowed, f"check({action!r}) allowed it"
    assert refusal_pairs(decision.refusals) == expected
    with pytest.raises(resolveflow.Refused) as info:
        case.fire(action, as_json(evidence), actor=ACTOR)
    refused = info.value
    assert refusal_pairs(refused.refusals) == expected
    assert refused.action == action
    assert refused.step == step
    assert all(r.message.strip() for r in refused.refusals)
    assert _state(case) == before, "a refused call changed the case"
    return refused


def assert_invalid(
    case: resolveflow.Case, action: str, evidence: Any, paths: tuple[str, ...]
) -> resolveflow.InvalidEvidence:
    """Evidence the schema rejects: InvalidEvidence naming these paths, and nothing changes."""
    before = _state(case)
    decision = case.check(action, as_json(evidence))
    assert refusal_pairs(decision.refusals) == [("invalid_evidence", paths)]
    with pytest.raises(resolveflow.InvalidEvidence) as info:
        case.fire(action, as_json(evidence), actor=ACTOR)
    assert info.value.paths == paths
    assert _state(case) == before, "invalid evidence changed the case"
    return info.value


def assert_moves(
    case: resolveflow.Case, action: str, evidence: Any, to: str, clock: FakeClock | None = None
) -> resolveflow.HistoryEntry:
    """check() allows it, then fire() appends exactly one entry leading to ``to``."""
    before = case.history
    from_step = case.step
    decision = case.check(action, as_json(evidence))
    assert decision.allowed, refusal_pairs(decision.refusals)
    assert decision.target == to
    entry = fire(case, action, evidence, clock=clock)
    assert case.history[:-1] == before
    assert case.history[-1] is entry
    assert (entry.action, entry.from_step, entry.step, entry.actor) == (action, from_step, to, ACTOR)
    assert case.step == to
    return entry


# --- JSON evidence for each action of the happy paths -------------------------

Walk = list[tuple[str, Callable[[FakeClock], Any]]]


def seven_as_plan(clock: FakeClock, *items: tuple[str, dt.timedelta]) -> dict[str, Any]:
    return {
        "agreed_with": "Ms Ortiz",
        "items": [
            {"id": item_id, "description": f"Do {item_id}", "due": iso(clock.now + delta)}
            for item_id, delta in items
        ],
    }


HAPPY_PATHS: dict[str, Walk] = {
    "four-steps": [
        (
            "hear_customer",
            lambda c: {
                "summary": "The installer left without finishing and nobody called.",
                "desired_outcome": "Finish the job this week.",
            },
        ),
        (
            "record_assessment",
            lambda c: {
                "cause": "miscommunication",
                "findings": "The job sheet listed one room instead of two.",
                "lesson": "Read the job sheet back to the customer when booking.",
            },
        ),
        ("make_offer", lambda c: {"description": "Return tomorrow at no charge and discount 10%."}),
        (
            "update_procedures",
            lambda c: {"document": "Booking procedure", "change": "Job sheets are read back on booking."},
        ),
    ],
    "seven-as": [
        ("acknowledge_feelings", lambda c: {"feelings": "Angry the sofa arrived damaged."}),
        (
            "hear_grievances",
            lambda c: {"points": ["Damaged leg", "Nobody called back"], "customer_finished": True},
        ),
        ("give_apology", lambda c: {"statement": "I am sorry for the damage and the silence."}),
        ("give_assurance", lambda c: {"commitment": "We will put this right this week."}),
        (
            "agree_plan",
            lambda c: seven_as_plan(c, ("leg", dt.timedelta(days=2)), ("call", dt.timedelta(days=3))),
        ),
        ("complete_item", lambda c: {"item_id": "leg", "note": "Fitted a new leg."}),
        ("complete_item", lambda c: {"item_id": "call"}),
        ("complete_plan", lambda c: None),
        ("confirm_satisfaction", lambda c: {"satisfied": True, "comment": "Thanks."}),
    ],
    "five-steps": [
        ("hear_account", lambda c: {"summary": "Charged twice for one order."}),
        ("record_cause", lambda c: {"cause": "Payment retry bug", "findings": "Two captures on one order."}),
        (
            "decide_solution",
            lambda c: {"solution": "Refund the duplicate charge", "answers": "The money lost", "value": 49.5},
        ),
        ("deliver_solution", lambda c: {"summary": "Explained the refund politely, with a reference."}),
        (
            "close_resolved",
            lambda c: {
                "minutes_taken": 25,
                "how_it_went": "Calm call, refund issued.",
                "customer_feedback": "Quick and fair.",
            },
        ),
    ],
    "engage": [
        ("engage_fully", lambda c: {"notes": "The parcel arrived broken."}),
        ("show_empathy", lambda c: {"statement": "That must be really frustrating before a birthday."}),
        ("solution_accepted", lambda c: {"solution": "Replacement by courier tomorrow", "accepted": True}),
    ],
    "prescription": [
        (
            "acknowledge_problem",
            lambda c: {
                "customer_perspective": "The invoice charged them twice.",
                "accepts_accountability": True,
            },
        ),
        ("remedy", lambda c: {"action": "Credit issued", "taken_at": iso(c.now)}),
        ("commit_prevention", lambda c: {"kind": "system_fix", "description": "Deduplicate invoices."}),
    ],
}

# Later versions of a built-in whose happy path differs from 1.0's.
LATER_HAPPY_PATHS: dict[tuple[str, str], Walk] = {
    ("four-steps", "1.1"): [
        *HAPPY_PATHS["four-steps"][:2],
        (
            "show_understanding",
            lambda c: {"why_unhappy": "You took a day off for a job that is still half done."},
        ),
        HAPPY_PATHS["four-steps"][2],
        ("cite_guidance", lambda c: {"reference": "Booking procedure, step 3: read the job sheet back"}),
    ],
    ("seven-as", "1.1"): [
        *HAPPY_PATHS["seven-as"][:4],
        (
            "discuss_solutions",
            lambda c: {
                "customer_ready": True,
                "customer_expects": "A sofa that stands, and a call when it is fixed.",
                "we_can_offer": "A new leg by courier this week, then a call to check.",
            },
        ),
        (
            "agree_plan",
            lambda c: seven_as_plan(c, ("leg", dt.timedelta(days=2)), ("call", dt.timedelta(days=3))),
        ),
        *HAPPY_PATHS["seven-as"][5:8],
        (
            "confirm_satisfaction",
            lambda c: {"satisfied": True, "thanked": True, "recurrence_assured": True, "comment": "Thanks."},
        ),
    ],
    ("five-steps", "1.1"): [
        *HAPPY_PATHS["five-steps"][:-1],
        (
            "close_resolved",
            lambda c: {
                "minutes_taken": 25,
                "how_it_went": "Calm call, refund issued.",
                "remedy_accepted": True,
                "area": "payments",
            },
        ),
    ],
    ("engage", "1.1"): [
        HAPPY_PATHS["engage"][0],
        (
            "show_empathy",
            lambda c: {
                "statement": "That must be really frustrating before a birthday.",
                "admits_fault": False,
            },
        ),
        (
            "solution_accepted",
            lambda c: {
                "solution": "Replacement by courier tomorrow",
                "customer_calmer": True,
                "accepted": True,
            },
        ),
    ],
    ("prescription", "1.1"): [
        *HAPPY_PATHS["prescription"][:2],
        (
            "commit_prevention",
            lambda c: {"kind": "system_fix", "description": "Deduplicate invoices.", "customer_told": True},
        ),
    ],
}


def happy_path(m: resolveflow.Methodology) -> Walk:
    """The happy path of this very version of a built-in."""
    return LATER_HAPPY_PATHS.get(m.key) or HAPPY_PATHS[m.id]


def walk(case: resolveflow.Case, clock: FakeClock, actions: Walk, *, upto: str | None = None) -> None:
    """Fire a walk's actions in order; stop before the first action taken at step ``upto``."""
    for action, make in actions:
        if upto is not None and case.step == upto:
            return
        fire(case, action, make(clock), clock=clock)
    if upto is not None:
        assert case.step == upto, f"the walk never reached {upto!r}"


def case_at(methodology_id: str, step: str, clock: FakeClock, case_id: str = "CASE-1") -> resolveflow.Case:
    """A fresh case walked along the happy path to ``step``."""
    case = open_builtin(methodology_id, clock, case_id)
    walk(case, clock, HAPPY_PATHS[methodology_id], upto=step)
    return case
