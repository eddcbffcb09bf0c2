"""The guards of the recovery methodologies: plans, their items, liability, and recent-enough times.

They know the recovery records of :mod:`resolveflow.evidence` (a plan's items
are promises of kind ``"plan_item"``, see ``Plan.promises_made``) and ask the
generic :class:`~resolveflow.guards.GuardContext` about them; the core knows
none of them. Methodologies of your own use them like any other guard kind.
"""

from __future__ import annotations

import datetime as _dt

import attrs

from resolveflow import evidence as ev
from resolveflow._guards import Guard, GuardContext, Need, _check_code
from resolveflow._promise import Promise
from resolveflow._refusal import Refusal
from resolveflow._schema import record_codec, record_key
from resolveflow.exceptions import InvalidMethodology

__all__ = [
    "AllPlanItemsDone",
    "FaultNeedsLiabilityReview",
    "NotOlderThan",
    "PlanHasOpenItems",
    "PlanItemOpen",
    "PressingDoneFirst",
    "PressingPlannedFirst",
    "SoundPlan",
]

# --- seven-as 1.1: the most pressing problems first ---------------------------------------


@attrs.frozen(kw_only=True)
class PressingPlannedFirst(Guard):
    """A prioritised plan has a pressing item, and no long-term item falls due before a pressing one.

    Plain :class:`~resolveflow.evidence.Plan` records carry no priority and pass.
    The refusal names ``priority:pressing`` when no item is pressing, else the
    ``items[i].due`` of each long-term item due too early.

    Example:
        >>> from resolveflow.guards import PressingPlannedFirst
        >>> PressingPlannedFirst().name, PressingPlannedFirst().uses_evidence
        ('pressing_planned_first', True)
    """

    name: str = "pressing_planned_first"
    message: str = (
        "Plan the most pressing problems first: mark at least one item pressing, and give every "
        "long-term item a due time no earlier than the last pressing item's."
    )
    uses_evidence: bool = attrs.field(default=True, init=False)

    def check(self, context: GuardContext) -> Refusal | None:
        plan = context.evidence
        if not isinstance(plan, ev.PrioritisedPlan):
            return None
        pressing = [item.due for item in plan.items if item.priority is ev.ItemPriority.PRESSING]
        if not pressing:
            return self.refuse("priority:pressing")
        last_pressing = max(pressing)
        early = [
            f"items[{index}].due"
            for index, item in enumerate(plan.items)
            if item.priority is ev.ItemPriority.LONG_TERM and item.due < last_pressing
        ]
        return self.refuse(*early) if early else None

    def describe(self) -> str:
        return "pressing items planned first"


@attrs.frozen(kw_only=True)
class PressingDoneFirst(Guard):
    """A long-term item of a prioritised plan is done only once its pressing items are all done.

    Items of a plain :class:`~resolveflow.evidence.Plan` (a case migrated from
    seven-as 1.0 mid-plan) have no priority and keep no order. The refusal names
    each pressing item still open as ``plan_item:<id>``.

    Example:
        >>> from resolveflow.guards import PressingDoneFirst
        >>> PressingDoneFirst().describe()
        'pressing items done first'
    """

    name: str = "pressing_done_first"
    message: str = "Finish the pressing items of the plan before a long-term one."
    uses_evidence: bool = attrs.field(default=True, init=False)

    def check(self, context: GuardContext) -> Refusal | None:
        completion = context.evidence
        plan = context.latest(ev.Plan)
        if not isinstance(completion, ev.ItemCompletion) or not isinstance(plan, ev.PrioritisedPlan):
            return None
        priorities = {item.id: item.priority for item in plan.items}
        if priorities.get(completion.item_id) is not ev.ItemPriority.LONG_TERM:
            return None
        waiting = [
            str(promise.ref)
            for promise in _open_items(context)
            if priorities.get(str(promise.ref)) is ev.ItemPriority.PRESSING
        ]
        if not waiting:
            return None
        return self.refuse(
            *(f"plan_item:{ref}" for ref in waiting),
            message=f"{self.message} Still open: {', '.join(waiting)}.",
        )

    def describe(self) -> str:
        return "pressing items done first"

    def needs(self) -> tuple[Need, ...]:
        return (Need(record=ev.Plan),)


@attrs.frozen(kw_only=True)
class SoundPlan(Guard):
    """A proposed plan has unique item ids and every item due later than the agreement."""

    name: str = "plan_is_sound"
    message: str = "Each plan item needs its own id and a due time later than now."
    uses_evidence: bool = attrs.field(default=True, init=False)

    def check(self, context: GuardContext) -> Refusal | None:
        plan = context.evidence
        if not isinstance(plan, ev.Plan):
            return None
        seen: set[str] = set()
        bad: list[str] = []
        for index, item in enumerate(plan.items):
            if item.id in seen:
                bad.append(f"items[{index}].id")
            seen.add(item.id)
            if item.due <= context.at:
                bad.append(f"items[{index}].due")
        return self.refuse(*bad) if bad else None

    def describe(self) -> str:
        return "plan ids unique, dues in the future"


def _open_items(context: GuardContext) -> tuple[Promise, ...]:
    return context.open_promises(ev.PLAN_ITEM)


@attrs.frozen(kw_only=True)
class PlanItemOpen(Guard):
    """A completion must name an item of the current plan that is not done yet."""

    name: str = "plan_item_open"
    message: str = "Name an item of the agreed plan that is not done yet."
    uses_evidence: bool = attrs.field(default=True, init=False)

    def check(self, context: GuardContext) -> Refusal | None:
        completion = context.evidence
        if not isinstance(completion, ev.ItemCompletion):
            return None
        open_ids = [str(item.ref) for item in _open_items(context)]
        if completion.item_id in open_ids:
            return None
        listed = ", ".join(open_ids) or "none"
        return self.refuse(
            "item_id",
            message=f"{self.message} Open items: {listed}; got {completion.item_id!r}.",
        )

    def describe(self) -> str:
        return "item is open in the plan"

    def needs(self) -> tuple[Need, ...]:
        return (Need(record=ev.Plan),)


@attrs.frozen(kw_only=True)
class PlanHasOpenItems(Guard):
    """There must be an open plan item to complete."""

    name: str = "plan_has_open_items"
    message: str = "Every item of the plan is already done."

    def check(self, context: GuardContext) -> Refusal | None:
        return None if _open_items(context) else self.refuse()

    def describe(self) -> str:
        return "plan has open items"

    def needs(self) -> tuple[Need, ...]:
        return (Need(record=ev.Plan),)


@attrs.frozen(kw_only=True)
class AllPlanItemsDone(Guard):
    """Every item of the current plan must be done."""

    name: str = "all_plan_items_done"
    message: str = "Finish every item of the agreed plan first."

    def check(self, context: GuardContext) -> Refusal | None:
        if not context.has(ev.Plan):
            return self.refuse("plan")
        open_items = _open_items(context)
        if not open_items:
            return None
        return self.refuse(*(f"plan_item:{item.ref}" for item in open_items))

    def describe(self) -> str:
        return "all plan items done"

    def needs(self) -> tuple[Need, ...]:
        return (Need(record=ev.Plan),)


def _review_record(_: object, __: object, record: type) -> None:
    # The guard reads the review's finding; refuse a record that has none, naming what to give.
    codec = record_codec(record)
    finding = next((f for f in codec.fields if f.attr == "company_at_fault"), None)
    if finding is None:
        raise InvalidMethodology(
            f"{record.__name__} has no 'company_at_fault' field; give a review record that says "
            "whether the company is at fault, e.g. LiabilityReview or LegalReview",
            where="FaultNeedsLiabilityReview guard",
        )


@attrs.frozen(kw_only=True)
class FaultNeedsLiabilityReview(Guard):
    """Evidence that admits fault needs a liability review that found the company at fault.

    It applies to any record with an ``admits_fault`` field (an apology, and in
    engage 1.1 the empathy statement too): when it is ticked, the latest record
    of type ``review`` must say ``company_at_fault``. ``review`` is
    ``LiabilityReview`` by default (engage 1.0); engage 1.1 uses
    ``LegalReview``, which only the legal role records.

    Example:
        >>> from resolveflow import evidence
        >>> FaultNeedsLiabilityReview(review=evidence.LegalReview).needs()
        ()
    """

    review: type = attrs.field(default=ev.LiabilityReview, validator=_review_record)
    name: str = "fault_admission_needs_liability_review"
    message: str = (
        "Apologise for the inconvenience, but do not say the company caused the problem "
        "until a liability review has confirmed the company is at fault."
    )
    uses_evidence: bool = attrs.field(default=True, init=False)

    def check(self, context: GuardContext) -> Refusal | None:
        # Checked by value, not by record type: one rule for every statement that can blame the company.
        if getattr(context.evidence, "admits_fault", False) is not True:
            return None
        review = context.latest(self.review)
        if review is not None and review.company_at_fault:
            return None
        return self.refuse(f"{record_key(self.review)}:company_at_fault")

    def describe(self) -> str:
        return "fault admitted only after liability review"


# --- prescription 1.1: how recent "now" is ----------------------------------------------

MAX_RECENT_DAYS = 366
"""The widest window :class:`NotOlderThan` takes: anything longer is not "recent" at all."""


@attrs.frozen(kw_only=True)
class NotOlderThan(Guard):
    """A date-time of the proposed evidence must lie within a window before the action's time.

    The window is the guard's parameter, in whole days, hours and/or minutes
    (positive, at most :data:`MAX_RECENT_DAYS` days), checked when the guard is
    made. Only the lower bound is checked: pair it with ``NotLaterThanNow`` to
    refuse the future too. The action's time is the case's clock (injectable),
    so "now" is what the case says it is.

    Example:
        >>> g = NotOlderThan(field="taken_at", hours=24, name="taken_today",
        ...                  message="Record an action taken within the last day.")
        >>> g.describe(), g.limit.total_seconds()
        ('taken_at within 1 day, 0:00:00 before now', 86400.0)
    """

    field: str
    days: int = 0
    hours: int = 0
    minutes: int = 0
    name: str
    message: str
    uses_evidence: bool = attrs.field(default=True, init=False)

    def __attrs_post_init__(self) -> None:
        _check_code(self.name, "NotOlderThan", self.message)
        where = f"NotOlderThan guard {self.name!r}"
        amounts = {"days": self.days, "hours": self.hours, "minutes": self.minutes}
        for key, value in amounts.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidMethodology(
                    f"{key} must be a whole number of zero or more, got {value!r}; "
                    "give the window as e.g. hours=24",
                    where=where,
                )
        if not any(amounts.values()):
            raise InvalidMethodology(
                "the window is empty: give a positive time in days, hours and/or minutes, e.g. hours=24",
                where=where,
            )
        # Bounded before any timedelta is built: a huge count would overflow date arithmetic.
        total_minutes = (self.days * 24 + self.hours) * 60 + self.minutes
        if total_minutes > MAX_RECENT_DAYS * 24 * 60:
            raise InvalidMethodology(
                f"the window of {self.days} days, {self.hours} hours and {self.minutes} minutes is longer "
                f"than {MAX_RECENT_DAYS} days; a window that long does not mean recent",
                where=where,
            )

    @property
    def limit(self) -> _dt.timedelta:
        """How far back the time may lie."""
        return _dt.timedelta(days=self.days, hours=self.hours, minutes=self.minutes)

    def evidence_fields(self) -> tuple[str, ...]:
        return (self.field,)

    def datetime_fields(self) -> tuple[str, ...]:
        return (self.field,)

    def check(self, context: GuardContext) -> Refusal | None:
        value = getattr(context.evidence, self.field, None)
        if not isinstance(value, _dt.datetime):
            return None  # no evidence yet (check() without it), or the schema has refused it already
        earliest = context.at - self.limit
        if value >= earliest:
            return None
        return self.refuse(
            self.field,
            message=f"{self.message} The earliest accepted is {earliest.isoformat()}; "
            f"got {value.isoformat()}.",
        )

    def describe(self) -> str:
        return f"{self.field} within {self.limit} before now"
