"""The seven-as workload: a full walk with valid evidence, and its guards in plain Python.

The walk is the one a CRM records for a case that goes well:
acknowledge -> air grievances -> apologize -> assure -> agree a plan with
three items -> complete each item -> complete the plan -> confirm
satisfaction (10 events). Every contender gets the same typed evidence
records, built once, and the same decision time ``AT``.

``CONDITIONS`` is seven-as's guard logic written by hand, the way a
developer using transitions or python-statemachine directly would write it:
one predicate per action over ``(history, evidence, at)``, where a history
entry is ``(action, from_step, step, evidence, at)``. As in resolveflow, a
guard that reads the proposed evidence passes when no evidence is given (a
check without a form), and every guard of an action must pass.
"""

# Every guard takes (history, evidence, at), whether it reads them all or not.
# ruff: noqa: ARG001

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from resolveflow import evidence as ev
from resolveflow.methodologies import SEVEN_AS

METHODOLOGY: Final = SEVEN_AS
AT: Final = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ACTOR: Final = "bench-agent"

Entry = tuple[str, str, str, Any, dt.datetime]
"""A plain history entry: (action, from_step, step, evidence, at)."""

Condition = Callable[[Sequence[Entry], Any, dt.datetime], bool]

_PLAN = ev.Plan(
    agreed_with="Ms Ortiz",
    items=(
        ev.PlanItem(id="leg", description="Replace the broken leg", due=AT + dt.timedelta(days=2)),
        ev.PlanItem(id="call", description="Call to confirm the repair", due=AT + dt.timedelta(days=3)),
        ev.PlanItem(id="voucher", description="Send the goodwill voucher", due=AT + dt.timedelta(days=4)),
    ),
)

WALK: Final[tuple[tuple[str, Any], ...]] = (
    ("acknowledge_feelings", ev.Acknowledgement(feelings="Angry that the sofa arrived damaged.")),
    ("hear_grievances", ev.Grievances(points=("Damaged leg", "Nobody called back"), customer_finished=True)),
    ("give_apology", ev.Apology(statement="I am sorry for the damage and for the silence.")),
    ("give_assurance", ev.Assurance(commitment="We will put this right this week.")),
    ("agree_plan", _PLAN),
    ("complete_item", ev.ItemCompletion(item_id="leg", note="Fitted a new leg.")),
    ("complete_item", ev.ItemCompletion(item_id="call")),
    ("complete_item", ev.ItemCompletion(item_id="voucher")),
    ("complete_plan", None),
    ("confirm_satisfaction", ev.SatisfactionConfirmation(satisfied=True, comment="Thanks for sorting it.")),
)
"""(action, typed evidence) for the whole walk; ends at ``resolved``."""

FINAL_STEP: Final = "resolved"


# --- the guards, by hand ------------------------------------------------------


def _open_items(history: Sequence[Entry]) -> tuple[ev.PlanItem, ...] | None:
    latest = None
    for index, entry in enumerate(history):
        if isinstance(entry[3], ev.Plan):
            latest = index
    if latest is None:
        return None
    plan: ev.Plan = history[latest][3]
    done = {e[3].item_id for e in history[latest:] if isinstance(e[3], ev.ItemCompletion)}
    return tuple(item for item in plan.items if item.id not in done)


def plan_recorded(history: Sequence[Entry], evidence: Any, at: dt.datetime) -> bool:
    return any(isinstance(entry[3], ev.Plan) for entry in history)


def plan_has_open_items(history: Sequence[Entry], evidence: Any, at: dt.datetime) -> bool:
    return bool(_open_items(history))


def plan_item_open(history: Sequence[Entry], evidence: Any, at: dt.datetime) -> bool:
    if not isinstance(evidence, ev.ItemCompletion):
        return True
    return evidence.item_id in {item.id for item in _open_items(history) or ()}


def all_plan_items_done(history: Sequence[Entry], evidence: Any, at: dt.datetime) -> bool:
    open_items = _open_items(history)
    return open_items is not None and not open_items


def plan_is_sound(history: Sequence[Entry], evidence: Any, at: dt.datetime) -> bool:
    if not isinstance(evidence, ev.Plan):
        return True
    ids = [item.id for item in evidence.items]
    return len(set(ids)) == len(ids) and all(item.due > at for item in evidence.items)


def customer_finished(history: Sequence[Entry], evidence: Any, at: dt.datetime) -> bool:
    return evidence is None or evidence.customer_finished is True


def resume_in_future(history: Sequence[Entry], evidence: Any, at: dt.datetime) -> bool:
    return evidence is None or evidence.resume_at > at


def customer_satisfied(history: Sequence[Entry], evidence: Any, at: dt.datetime) -> bool:
    return evidence is None or evidence.satisfied is True


def customer_not_satisfied(history: Sequence[Entry], evidence: Any, at: dt.datetime) -> bool:
    return evidence is None or evidence.satisfied is False


def _all(*guards: Condition) -> Condition:
    def condition(history: Sequence[Entry], evidence: Any, at: dt.datetime) -> bool:
        return all(guard(history, evidence, at) for guard in guards)

    return condition


def _always(history: Sequence[Entry], evidence: Any, at: dt.datetime) -> bool:
    return True


CONDITIONS: Final[Mapping[str, Condition]] = {
    "acknowledge_feelings": _always,
    "hear_grievances": customer_finished,
    "give_apology": _always,
    "give_assurance": _always,
    "reschedule": resume_in_future,
    "resume": _always,
    "agree_plan": plan_is_sound,
    "complete_item": _all(plan_recorded, plan_has_open_items, plan_item_open),
    "complete_plan": _all(plan_recorded, all_plan_items_done),
    "confirm_satisfaction": _all(all_plan_items_done, customer_satisfied),
    "revise_plan": customer_not_satisfied,
}
"""One condition per action: the conjunction of the action's guards."""


def check_positions() -> list[tuple[int, str, tuple[str, ...]]]:
    """Where along the walk check() is measured: (events taken, step, actions leaving it).

    One position per step the walk passes (acknowledge ... accomplish), each
    taken at its first arrival, so that every action of the methodology that
    leaves a step on the walk is checked once per round.
    """
    positions: list[tuple[int, str, tuple[str, ...]]] = []
    seen: set[str] = set()
    step = METHODOLOGY.initial
    for index, (action, _) in enumerate(WALK):
        if step not in seen:
            seen.add(step)
            positions.append((index, step, tuple(a.name for a in METHODOLOGY.actions_from(step))))
        spec = METHODOLOGY.action(action)
        assert spec is not None
        step = spec.target_from(step)
    return positions
