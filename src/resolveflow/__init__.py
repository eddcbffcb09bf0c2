"""resolveflow: customer-recovery methodologies as guarded, provable state machines.

Open a case with a methodology, ask it which actions are possible and why the
others are refused, and record each step with its evidence. The case's state
comes only from its hash-chained history.

Example:
    >>> import resolveflow
    >>> case = resolveflow.open_case("prescription", case_id="T-1")
    >>> case.check("remedy").refusals[0].code
    'not_from_this_step'
    >>> _ = case.fire("acknowledge_problem", {
    ...     "customer_perspective": "Order arrived a week late.",
    ...     "accepts_accountability": True}, actor="ana")
    >>> case.step
    'remedy_now'
"""

from __future__ import annotations

from resolveflow import evidence
from resolveflow._case import ActionView, Case, Clock, Decision, OverdueItem
from resolveflow._case import restore_case as _restore_case
from resolveflow._guards import (
    ENGINE_REFUSAL_CODES,
    AfterStep,
    AllPlanItemsDone,
    EvidenceIs,
    FaultNeedsLiabilityReview,
    Guard,
    GuardContext,
    LaterThanNow,
    Need,
    NotLaterThanNow,
    PlanHasOpenItems,
    PlanItemOpen,
    Refusal,
    Requires,
    Rule,
    SoundPlan,
)
from resolveflow._history import HistoryEntry
from resolveflow._methodology import Action, Methodology, Outcome, Step
from resolveflow._registry import available, get_methodology, register, unregister, versions
from resolveflow._verify import Finding, PathStep, VerificationReport, verify
from resolveflow.exceptions import (
    InvalidEvidence,
    InvalidInput,
    InvalidMethodology,
    InvalidSnapshot,
    Refused,
    ResolveflowError,
    UnknownAction,
    UnknownMethodology,
)

__all__ = [
    "Action",
    "ActionView",
    "AfterStep",
    "AllPlanItemsDone",
    "Case",
    "Clock",
    "Decision",
    "ENGINE_REFUSAL_CODES",
    "EvidenceIs",
    "FaultNeedsLiabilityReview",
    "Finding",
    "Guard",
    "GuardContext",
    "HistoryEntry",
    "InvalidEvidence",
    "InvalidInput",
    "InvalidMethodology",
    "InvalidSnapshot",
    "LaterThanNow",
    "Methodology",
    "Need",
    "NotLaterThanNow",
    "Outcome",
    "OverdueItem",
    "PathStep",
    "PlanHasOpenItems",
    "PlanItemOpen",
    "Refusal",
    "Refused",
    "Requires",
    "ResolveflowError",
    "Rule",
    "SoundPlan",
    "Step",
    "UnknownAction",
    "UnknownMethodology",
    "VerificationReport",
    "available",
    "evidence",
    "get_methodology",
    "open_case",
    "register",
    "restore",
    "unregister",
    "verify",
    "versions",
]

__version__ = "0.1.0.dev0"


def _resolve(methodology: Methodology | str) -> Methodology:
    if isinstance(methodology, Methodology):
        return methodology
    if isinstance(methodology, str):
        return get_methodology(methodology)
    raise InvalidInput(
        f"expected a Methodology or a methodology id, got {type(methodology).__name__}",
        argument="methodology",
    )


def open_case(methodology: Methodology | str, *, case_id: str, clock: Clock | None = None) -> Case:
    """Open a new case at the methodology's initial step.

    Args:
        methodology: a Methodology, or the id of a registered one (latest version).
        case_id: your system's id for the case.
        clock: a callable returning the current aware datetime (default: UTC now);
            every time the case reads goes through it.

    Raises:
        UnknownMethodology: the id is not registered (the error lists those that are).
        InvalidInput: blank case id or a clock that is not callable.

    Example:
        >>> import resolveflow
        >>> resolveflow.open_case("seven-as", case_id="T-2").step
        'acknowledge'
    """
    return Case(_resolve(methodology), case_id=case_id, clock=clock)


def restore(
    snapshot: object,
    *,
    methodology: Methodology | None = None,
    clock: Clock | None = None,
    head: str | None = None,
) -> Case:
    """Rebuild a case from ``case.snapshot()``, replaying every entry.

    Each entry goes back through evidence validation, the guards (at the
    entry's own time) and the hash chain; the result is only returned when the
    whole history replays to exactly the step and outcome the snapshot claims.

    Args:
        snapshot: the dict from :meth:`Case.snapshot` (e.g. after ``json.loads``).
        methodology: the methodology to replay with, when it is not registered;
            its id and version must match the snapshot's.
        clock: the restored case's clock.
        head: the ``case.head`` you stored when the snapshot was taken; when
            given, a history cut short (and relabelled) is rejected too.

    Raises:
        InvalidSnapshot: anything does not replay; ``.entry`` names the first
            bad history entry.

    Example:
        >>> import resolveflow
        >>> case = resolveflow.open_case("engage", case_id="T-3")
        >>> resolveflow.restore(case.snapshot()).step
        'engage'
    """

    def resolve(methodology_id: str, version: str) -> Methodology:
        if methodology is None:
            return get_methodology(methodology_id, version)
        if methodology.key != (methodology_id, version):
            raise InvalidSnapshot(
                f"the snapshot is for {methodology_id}@{version}, not {methodology.id}@{methodology.version}"
            )
        return methodology

    return _restore_case(snapshot, resolve=resolve, clock=clock, head=head)
