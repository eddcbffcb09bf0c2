"""The guards of the recovery methodologies: plans, their items, and liability.

They know the recovery records of :mod:`resolveflow.evidence` (a plan's items
are promises of kind ``"plan_item"``, see ``Plan.promises_made``) and ask the
generic :class:`~resolveflow.guards.GuardContext` about them; the core knows
none of them. Methodologies of your own use them like any other guard kind.
"""

from __future__ import annotations

import attrs

from resolveflow import evidence as ev
from resolveflow._guards import Guard, GuardContext, Need
from resolveflow._promise import Promise
from resolveflow._refusal import Refusal
from resolveflow._schema import record_codec, record_key
from resolveflow.exceptions import InvalidMethodology

__all__ = [
    "AllPlanItemsDone",
    "FaultNeedsLiabilityReview",
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
