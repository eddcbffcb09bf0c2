"""Typed evidence records: what an agent must record to move a case on.

Each record is a frozen attrs class. An action names the record type it
records; a CRM can pass either an instance or the JSON its form posted
(validated against the action's ``evidence_schema``). Your own records work
the same way: decorate a class with ``@attrs.frozen(kw_only=True)`` and
annotate its fields with ``str``, ``int``, ``float``, ``bool``,
``datetime`` (time-zone aware), a string ``Enum``, another record,
``tuple[X, ...]`` or ``X | None``; :func:`field` adds the title, description
and limits a form shows. Text fields must not be blank.

Example:
    >>> import attrs
    >>> from resolveflow import evidence
    >>> @attrs.frozen(kw_only=True)
    ... class Refund:
    ...     '''A refund issued to the customer.'''
    ...     amount: float = evidence.field(title="Amount", minimum=0)
    ...     reference: str = evidence.field(description="Payment reference")
    >>> Refund(amount=12.5, reference="R-1").amount
    12.5
"""

from __future__ import annotations

import datetime
import enum
from typing import Any

import attrs

from resolveflow._promise import STEP_DEADLINE as _STEP_DEADLINE
from resolveflow._promise import Promise
from resolveflow._public import publish as _publish
from resolveflow._schema import METADATA_KEY

PLAN_ITEM = "plan_item"
"""The kind of the promises a :class:`Plan` makes, one per item."""
FOLLOW_UP = "follow_up"
"""The kind of the promise a :class:`Reschedule` makes: to talk again at a time."""
STEP_DEADLINE = _STEP_DEADLINE
"""``"step_deadline"``: the kind of the methodology's own promises, its ``WithinDeadline`` guards on
leaving the current step (see :meth:`resolveflow.Case.overdue`); no record may promise it."""

__all__ = [
    "FOLLOW_UP",
    "PLAN_ITEM",
    "STEP_DEADLINE",
    "Accomplishment",
    "Acknowledgement",
    "Apology",
    "Assurance",
    "CauseAnalysis",
    "CauseAssessment",
    "CauseCategory",
    "ClosingEvaluation",
    "CustomerAccount",
    "CustomerNotSatisfied",
    "Empathy",
    "EmpathyStatement",
    "Engagement",
    "ExistingGuidance",
    "Grievances",
    "Handoff",
    "ImmediateRemedy",
    "ItemCompletion",
    "ItemPriority",
    "LegalReview",
    "LiabilityReview",
    "NoSolutionAccepted",
    "Plan",
    "PlanItem",
    "PreventionExplained",
    "PreventionKind",
    "PreventionMeasure",
    "PrioritisedPlan",
    "PrioritisedPlanItem",
    "ProblemAcknowledgement",
    "ProcedureUpdate",
    "Promise",
    "ProposedChange",
    "Reschedule",
    "ResponseEvaluation",
    "SatisfactionConfirmation",
    "SolutionDecision",
    "SolutionDelivery",
    "SolutionDiscussion",
    "SolutionOffer",
    "SolutionPresented",
    "SolutionResponse",
    "UnderstandingShown",
    "UnresolvableJudgement",
    "field",
]


def field(
    *,
    title: str | None = None,
    description: str | None = None,
    default: Any = attrs.NOTHING,
    minimum: float | None = None,
    maximum: float | None = None,
    max_length: int | None = None,
    min_items: int | None = None,
    max_items: int | None = None,
) -> Any:
    """Declare an evidence field with what a form needs to show and check.

    Args:
        title: the label a form shows (default: the field name, capitalised).
        description: help text under the label.
        default: makes the field optional.
        minimum: lowest allowed number.
        maximum: highest allowed number.
        max_length: longest allowed text.
        min_items: fewest items in a ``tuple[X, ...]`` field.
        max_items: most items in a ``tuple[X, ...]`` field.

    Returns:
        An attrs field carrying that metadata.

    Example:
        >>> import attrs
        >>> @attrs.frozen(kw_only=True)
        ... class Note:
        ...     text: str = field(title="Note", max_length=500)
        >>> Note(text="called back").text
        'called back'
    """
    meta = {
        key: value
        for key, value in {
            "title": title,
            "description": description,
            "minimum": minimum,
            "maximum": maximum,
            "max_length": max_length,
            "min_items": min_items,
            "max_items": max_items,
        }.items()
        if value is not None
    }
    return attrs.field(default=default, metadata={METADATA_KEY: meta})


# --- hearing the customer ---------------------------------------------------


@attrs.frozen(kw_only=True)
class CustomerAccount:
    """The customer's own account of what went wrong, in their terms."""

    summary: str = field(
        title="What happened, as the customer tells it",
        description="Write down the customer's view, even if you think you already know.",
        max_length=4000,
    )
    desired_outcome: str | None = field(
        default=None,
        title="What the customer would like",
        description="Optional: the result the customer hopes for, if they said.",
        max_length=1000,
    )


@attrs.frozen(kw_only=True)
class Acknowledgement:
    """Recognition of how the customer feels, without judging it."""

    feelings: str = field(
        title="How the customer feels",
        description="Name the feeling you heard (frustrated, let down ...) and that you take it seriously.",
        max_length=1000,
    )


@attrs.frozen(kw_only=True)
class Grievances:
    """Everything the customer needed to say, heard out in full."""

    points: tuple[str, ...] = field(
        title="Points the customer raised",
        description="One entry per concern, in the customer's terms.",
        min_items=1,
    )
    customer_finished: bool = field(
        title="The customer has finished",
        description="Tick only once the customer has said everything they wanted to.",
    )


class CauseCategory(enum.Enum):
    """Where an incident came from, as the four-steps assessment sorts it."""

    EMPLOYEE_CONDUCT = "employee_conduct"
    MISCOMMUNICATION = "miscommunication"
    EXPECTATIONS_NOT_MET = "expectations_not_met"


@attrs.frozen(kw_only=True)
class CauseAssessment:
    """The facts gathered about an incident, its cause and the lesson for the procedures manual."""

    cause: CauseCategory = field(title="Cause", description="Which kind of failure this was.")
    findings: str = field(title="Findings", description="The facts you gathered.", max_length=4000)
    lesson: str = field(
        title="Lesson for the operating-procedures manual",
        description="What the team should do differently so it does not happen again.",
        max_length=2000,
    )


@attrs.frozen(kw_only=True)
class CauseAnalysis:
    """Who or what caused the customer's unhappiness."""

    cause: str = field(
        title="Cause",
        description="E.g. a misunderstanding with a colleague, a delivery problem, product quality.",
        max_length=500,
    )
    findings: str = field(title="Findings", max_length=4000)


# --- apologising and reassuring -----------------------------------------------


@attrs.frozen(kw_only=True)
class Apology:
    """An apology given to the customer."""

    statement: str = field(title="What you said", max_length=2000)
    admits_fault: bool = field(
        default=False,
        title="Admits the company caused the problem",
        description="Tick if it says the company was at fault, beyond regret for the inconvenience.",
    )


@attrs.frozen(kw_only=True)
class LiabilityReview:
    """The outcome of checking the company's liability before admitting fault."""

    reviewer: str = field(
        title="Reviewed by", description="Who reviewed liability (e.g. the business's lawyer)."
    )
    company_at_fault: bool = field(title="The company is at fault")
    notes: str | None = field(default=None, title="Notes", max_length=2000)


@attrs.frozen(kw_only=True)
class Assurance:
    """The commitment that the customer's concerns will be dealt with."""

    commitment: str = field(title="What you committed to", max_length=2000)


@attrs.frozen(kw_only=True)
class Reschedule:
    """A later time to continue, when the customer is still too upset to talk it through."""

    resume_at: datetime.datetime = field(
        title="Continue at", description="When you will talk again (must be later than now)."
    )
    reason: str = field(title="Why", max_length=1000)

    def promises_made(self) -> tuple[Promise, ...]:
        """A call-back at ``resume_at``, kept by whatever the case does next."""
        return (
            Promise(
                kind=FOLLOW_UP, ref=None, description=self.reason, due=self.resume_at, until_next_action=True
            ),
        )


@attrs.frozen(kw_only=True)
class Engagement:
    """Evidence that the customer had the agent's full attention."""

    notes: str = field(
        title="What the customer told you",
        description="Record only what the customer said; do nothing else while they talk.",
        max_length=4000,
    )


@attrs.frozen(kw_only=True)
class Empathy:
    """What the agent said to show they understand the customer's situation."""

    statement: str = field(title="What you said", max_length=2000)


# --- engage 1.1 ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class EmpathyStatement:
    """What the agent said to empathise, and whether it sided with the customer against the company.

    Example:
        >>> EmpathyStatement(statement="That must have ruined your morning.").admits_fault
        False
    """

    statement: str = field(title="What you said", max_length=2000)
    admits_fault: bool = field(
        default=False,
        title="Admits or agrees the company is at fault",
        description="Tick if you said, or agreed with the customer, that the company caused the problem.",
    )


@attrs.frozen(kw_only=True)
class LegalReview:
    """A liability review signed off by someone holding the legal role (who it was is the entry's actor).

    Example:
        >>> LegalReview(company_at_fault=False, notes="Courier's fault under our terms.").company_at_fault
        False
    """

    company_at_fault: bool = field(
        title="The company is at fault",
        description="Your finding as the legal reviewer; only a finding of fault lets agents admit it.",
    )
    notes: str | None = field(default=None, title="Notes", max_length=2000)


@attrs.frozen(kw_only=True)
class SolutionPresented:
    """A solution presented to the customer, whether they were calm enough to hear it, and their answer.

    Example:
        >>> SolutionPresented(solution="Refund today", customer_calmer=True, accepted=False).accepted
        False
    """

    solution: str = field(title="Solution presented", max_length=2000)
    customer_calmer: bool = field(
        default=False,
        title="The customer was calmer and ready to listen",
        description="Tick only if the customer had calmed down enough to hear a solution when you gave it.",
    )
    accepted: bool = field(title="The customer accepted it")


@attrs.frozen(kw_only=True)
class NoSolutionAccepted:
    """The end of a case whose customer would take none of the solutions presented.

    Example:
        >>> NoSolutionAccepted(customer_answer="Only a full refund").best_solution_presented
        False
    """

    customer_answer: str = field(
        title="The customer's last answer",
        description="What the customer still wants, or why they turned everything down.",
        max_length=2000,
    )
    best_solution_presented: bool = field(
        default=False,
        title="You presented the best solution you have",
        description="Tick only if the best solution you could offer was among those declined.",
    )


# --- agreeing and acting ------------------------------------------------------


@attrs.frozen(kw_only=True)
class PlanItem:
    """One promised task with its due time."""

    id: str = field(title="Item id", description="Short, unique within the plan.", max_length=64)
    description: str = field(title="What will be done", max_length=1000)
    due: datetime.datetime = field(title="Due", description="When it is promised by.")


@attrs.frozen(kw_only=True)
class Plan:
    """The written plan agreed with the customer: what will be done, and when."""

    items: tuple[PlanItem, ...] = field(title="Plan items", min_items=1)
    agreed_with: str = field(
        title="Agreed with", description="The customer (or their representative) who agreed."
    )

    def promises_kept(self) -> tuple[tuple[str, str | None], ...]:
        """A new plan replaces the items of the one before."""
        return ((PLAN_ITEM, None),)

    def promises_made(self) -> tuple[Promise, ...]:
        """Each item, due at its time."""
        return tuple(
            Promise(kind=PLAN_ITEM, ref=item.id, description=item.description, due=item.due)
            for item in self.items
        )


@attrs.frozen(kw_only=True)
class ItemCompletion:
    """A plan item done."""

    item_id: str = field(title="Item id", description="The id of the plan item that is done.")
    note: str | None = field(default=None, title="Note", max_length=1000)

    def promises_kept(self) -> tuple[tuple[str, str | None], ...]:
        """The item it names."""
        return ((PLAN_ITEM, self.item_id),)


@attrs.frozen(kw_only=True)
class SatisfactionConfirmation:
    """The customer's answer when asked whether they are satisfied with the result."""

    satisfied: bool = field(title="The customer is satisfied")
    comment: str | None = field(default=None, title="Customer's comment", max_length=2000)


# --- seven-as 1.1 ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SolutionDiscussion:
    """The talk about solutions that follows the assurance, once the customer is ready for it.

    Example:
        >>> SolutionDiscussion(customer_ready=True, customer_expects="A working sofa by Friday",
        ...                    we_can_offer="A new leg by courier and a refund of the fee").customer_ready
        True
    """

    customer_ready: bool = field(
        title="The customer is calm and willing to work on solutions",
        description="As you judge it; if they are still too upset, arrange another time to talk instead.",
    )
    customer_expects: str = field(
        title="What the customer expects",
        description="Their side of the exchange, as specific as they can make it.",
        max_length=2000,
    )
    we_can_offer: str = field(
        title="What we can offer",
        description="Your side of the exchange: concrete remedies, the most pressing problems first.",
        max_length=2000,
    )


class ItemPriority(enum.Enum):
    """How urgent a plan item is: the pressing problems are dealt with before the long-term ones."""

    PRESSING = "pressing"
    LONG_TERM = "long_term"


@attrs.frozen(kw_only=True)
class PrioritisedPlanItem(PlanItem):
    """A plan item that says whether it relieves a pressing problem or a long-term one.

    Example:
        >>> import datetime
        >>> item = PrioritisedPlanItem(id="leg", description="Courier a new leg",
        ...     due=datetime.datetime(2026, 3, 4, tzinfo=datetime.timezone.utc))
        >>> item.priority
        <ItemPriority.PRESSING: 'pressing'>
    """

    priority: ItemPriority = field(
        default=ItemPriority.PRESSING,
        title="Priority",
        description="Pressing: relieves an urgent problem, done first. Long term: may come later.",
    )


@attrs.frozen(kw_only=True)
class PrioritisedPlan(Plan):
    """A written plan whose items carry a priority; it counts as a :class:`Plan` for every guard.

    Example:
        >>> import datetime
        >>> due = datetime.datetime(2026, 3, 4, tzinfo=datetime.timezone.utc)
        >>> plan = PrioritisedPlan(agreed_with="Ms Ortiz", items=(
        ...     PrioritisedPlanItem(id="leg", description="Courier a new leg", due=due),
        ...     PrioritisedPlanItem(id="care", description="Send care instructions",
        ...                         due=due + datetime.timedelta(days=20),
        ...                         priority=ItemPriority.LONG_TERM),
        ... ))
        >>> isinstance(plan, Plan), [p.ref for p in plan.promises_made()]
        (True, ['leg', 'care'])
    """

    items: tuple[PrioritisedPlanItem, ...] = field(title="Plan items", min_items=1)


@attrs.frozen(kw_only=True)
class Accomplishment:
    """The close of the case: the customer is satisfied, was thanked, and heard it should not recur.

    Example:
        >>> Accomplishment(satisfied=True, thanked=True, recurrence_assured=True).comment is None
        True
    """

    satisfied: bool = field(title="The customer is satisfied")
    thanked: bool = field(
        title="You thanked the customer",
        description="For the chance to put things right.",
    )
    recurrence_assured: bool = field(
        title="You told them you will do your best to keep it from happening again",
    )
    comment: str | None = field(default=None, title="Customer's comment", max_length=2000)


# --- solutions ----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SolutionOffer:
    """The solution offered to the customer."""

    description: str = field(title="Solution offered", max_length=2000)


@attrs.frozen(kw_only=True)
class SolutionDecision:
    """A specific solution and the loss or discomfort it answers."""

    solution: str = field(
        title="Specific solution", description="Concrete, not a vague assurance.", max_length=2000
    )
    answers: str = field(
        title="Loss or discomfort it answers",
        description="What the customer lost or suffered that this makes good.",
        max_length=1000,
    )
    value: float | None = field(
        default=None, title="Value", description="Optional: money involved.", minimum=0
    )


@attrs.frozen(kw_only=True)
class UnresolvableJudgement:
    """Why no solution can be offered."""

    reason: str = field(title="Why this cannot be resolved", max_length=2000)


@attrs.frozen(kw_only=True)
class SolutionDelivery:
    """How the solution was communicated to the customer."""

    summary: str = field(title="What you told the customer", max_length=2000)


@attrs.frozen(kw_only=True)
class Handoff:
    """Passing the case to a designated colleague; the history stays with the case."""

    to: str = field(title="Hand to", description="The colleague taking the case over.")
    reason: str = field(title="Why", max_length=1000)


@attrs.frozen(kw_only=True)
class SolutionResponse:
    """The customer's response to the solution presented."""

    solution: str = field(title="Solution presented", max_length=2000)
    accepted: bool = field(title="The customer accepted it")


@attrs.frozen(kw_only=True)
class ClosingEvaluation:
    """How the case was handled, looked back on after it ended."""

    minutes_taken: int = field(
        title="Time taken (minutes)", description="How long dealing with it took.", minimum=0
    )
    how_it_went: str = field(title="How it went", max_length=4000)
    customer_feedback: str | None = field(
        default=None,
        title="Customer's feedback",
        description="Ask the customer where you can; leave empty if they gave none.",
        max_length=4000,
    )


# --- the prescription and procedures ------------------------------------------


@attrs.frozen(kw_only=True)
class ProblemAcknowledgement:
    """The problem restated from the customer's side, with accountability taken."""

    customer_perspective: str = field(title="The problem as the customer experiences it", max_length=4000)
    accepts_accountability: bool = field(
        title="Accountability accepted",
        description="Our part is owned without excuses.",
    )


@attrs.frozen(kw_only=True)
class ImmediateRemedy:
    """What is being done right now, and when it was done."""

    action: str = field(
        title="Action taken now", description="E.g. overnight shipping, a credit.", max_length=2000
    )
    taken_at: datetime.datetime = field(title="When it was taken")


class PreventionKind(enum.Enum):
    """The kinds of measure that keep a problem from recurring."""

    PROCEDURE_CHANGE = "procedure_change"
    TRAINING = "training"
    SYSTEM_FIX = "system_fix"


@attrs.frozen(kw_only=True)
class PreventionMeasure:
    """A measure that stops the problem from happening again."""

    kind: PreventionKind = field(title="Kind of measure")
    description: str = field(title="The measure", max_length=2000)


# prescription 1.1: the customer hears what will change; an unsatisfied customer is recorded
# by what was offered and how they answered, never by a reason the case "cannot" be resolved.


@attrs.frozen(kw_only=True)
class PreventionExplained:
    """A measure that stops the problem recurring, and the agent's word that the customer was told.

    Example:
        >>> PreventionExplained(kind=PreventionKind.TRAINING, description="Coach the clerk on refunds.",
        ...                     customer_told=True).customer_told
        True
    """

    kind: PreventionKind = field(title="Kind of measure")
    description: str = field(title="What will change", max_length=2000)
    customer_told: bool = field(
        title="The customer was told what will change",
        description="As the agent attests: the measure was explained to the customer, not only filed.",
    )


@attrs.frozen(kw_only=True)
class CustomerNotSatisfied:
    """A customer still not satisfied after a remedy was offered: what was offered and their answer.

    Example:
        >>> record = CustomerNotSatisfied(remedy_offered="A full credit and overnight replacement",
        ...                               customer_answer="Wants three months free", sincere_attempt=True)
        >>> record.sincere_attempt
        True
    """

    remedy_offered: str = field(
        title="What was offered",
        description="The remedy, and anything more, put to the customer.",
        max_length=2000,
    )
    customer_answer: str = field(
        title="The customer's answer",
        description="What the customer said to the offer, as close to their words as you can.",
        max_length=2000,
    )
    sincere_attempt: bool = field(
        title="A sincere attempt was made",
        description="As the agent attests: the offer was a serious effort to put things right.",
    )


@attrs.frozen(kw_only=True)
class ProcedureUpdate:
    """A change to the procedures manual or company guidelines."""

    document: str = field(title="Document", description="The procedures manual or guideline that changed.")
    change: str = field(title="What changed", max_length=4000)


# --- five-steps 1.1 -----------------------------------------------------------


@attrs.frozen(kw_only=True)
class ResponseEvaluation:
    """The look back at the end of the case: how it went, whether the remedy was accepted, and where."""

    minutes_taken: int = field(
        title="Time taken (minutes)", description="How long dealing with it took.", minimum=0
    )
    how_it_went: str = field(title="How it went", max_length=4000)
    remedy_accepted: bool = field(
        title="The customer accepted the remedy",
        description="As the agent attests; false when no remedy was offered or the customer refused it.",
    )
    area: str = field(
        title="Area of the business",
        description="What the complaint was about (e.g. deliveries, billing), so recurring areas show up.",
        max_length=200,
    )
    customer_feedback: str | None = field(
        default=None,
        title="Customer's feedback",
        description="Ask the customer where you can; leave empty if they gave none.",
        max_length=4000,
    )


# --- four-steps 1.1 -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class UnderstandingShown:
    """What the agent said to make clear they understand why the customer is unhappy."""

    why_unhappy: str = field(
        title="Why the customer is unhappy, as you told it back to them",
        description="Put their reason in your own words and say it to them before offering anything.",
        max_length=2000,
    )


@attrs.frozen(kw_only=True)
class ExistingGuidance:
    """The procedures manual or guideline that already covers a case's lesson."""

    reference: str = field(
        title="Guidance that already covers it",
        description="The document and section the team can follow next time.",
        max_length=500,
    )


@attrs.frozen(kw_only=True)
class ProposedChange:
    """A change proposed to the procedures manual or company guidelines."""

    document: str = field(title="Document", description="The procedures manual or guideline to change.")
    change: str = field(title="Proposed change", max_length=4000)


_publish(__name__, globals(), __all__)  # Promise, defined in resolveflow._promise
