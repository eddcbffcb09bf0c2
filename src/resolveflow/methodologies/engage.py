"""Engage, empathise, present a solution, without blaming the company prematurely.

Steps and ordering rules are encoded from the article cited in ``source``; the
guidance is written for resolveflow, in its own words.

Rules encoded as guards:
- empathy and an apology for the inconvenience are always allowed at empathize;
- an apology that admits the company caused the problem is refused unless a
  recorded liability review found the company at fault;
- the case resolves only when the customer accepts the solution presented;
  a declined solution is recorded and another one presented.

Version 1.1 (``ENGAGE_1_1``, the latest; ``ENGAGE`` is 1.0, unchanged, and
``ENGAGE_1_0_TO_1_1`` moves open 1.0 cases on) adds:
- the no-blame rule covers the empathy statement too: an ``EmpathyStatement``
  that admits or agrees the company is at fault is refused, like such an
  apology, unless the latest ``LegalReview`` found the company at fault;
- the liability review is a ``LegalReview`` that only an actor holding the
  role ``legal`` may record (``HasRole``); who reviewed is the entry's actor;
- every solution presented (``SolutionPresented``) carries the agent's
  attestation that the customer was calmer and ready to listen, and is
  refused without it;
- an unsuccessful outcome, ``not_accepted``, for a customer who takes none of
  the solutions: only after at least one solution was presented (calm) and
  declined, and with the agent's attestation that the best solution they have
  was among them.
"""

from __future__ import annotations

import attrs

from resolveflow import evidence as ev
from resolveflow._guards import EvidenceIs, HasRole, Requires
from resolveflow._methodology import Action, Methodology, Outcome, Step
from resolveflow._migration import Migration
from resolveflow.methodologies._guards import FaultNeedsLiabilityReview

ENGAGE = Methodology(
    id="engage",
    version="1.0",
    title="Engage, empathise, present a solution",
    source=(
        "Short guide for small businesses without a customer-service team, with the sections "
        '"Engage" and "Don\'t Blame the Company"; a blog post that names no author or publisher'
    ),
    description=(
        "Give the customer your full attention, empathise and apologise for the inconvenience "
        "without admitting liability, then present your best solution."
    ),
    initial="engage",
    required_steps=("engage", "empathize", "present_solution"),
    steps=(
        Step(
            id="engage",
            title="Engage fully",
            prompts=(
                "Stop everything else and give the customer your full attention.",
                "On the phone, type only to note what the customer tells you.",
            ),
            checklist=("What the customer said is recorded.",),
        ),
        Step(
            id="empathize",
            title="Empathise",
            prompts=(
                "Show you understand how the situation affects them; apologising for the "
                "inconvenience is fine.",
                "Do not say the company caused it unless a liability review confirmed it.",
            ),
            checklist=("The customer is calmer and ready to hear a solution.",),
        ),
        Step(
            id="present_solution",
            title="Present your best solution",
            prompts=("Offer the best solution you have to a customer who is ready to listen.",),
            checklist=("The customer's response to the solution is recorded.",),
        ),
    ),
    outcomes=(
        Outcome(
            id="resolved",
            title="Resolved",
            successful=True,
            guidance=("The customer accepted the solution.",),
        ),
    ),
    actions=(
        Action(
            name="engage_fully",
            sources="engage",
            target="empathize",
            title="Customer heard with full attention",
            evidence=ev.Engagement,
        ),
        Action(
            name="record_liability_review",
            sources="empathize",
            target=None,
            title="Record a liability review",
            evidence=ev.LiabilityReview,
        ),
        Action(
            name="apologize",
            sources="empathize",
            target=None,
            title="Apologise",
            evidence=ev.Apology,
            guards=(FaultNeedsLiabilityReview(),),
        ),
        Action(
            name="show_empathy",
            sources="empathize",
            target="present_solution",
            title="Empathy shown, customer ready",
            evidence=ev.Empathy,
        ),
        Action(
            name="solution_accepted",
            sources="present_solution",
            target="resolved",
            title="Customer accepts the solution",
            evidence=ev.SolutionResponse,
            guards=(
                EvidenceIs(
                    field="accepted",
                    equals=True,
                    name="solution_accepted_by_customer",
                    message="Close as resolved only when the customer accepts the solution.",
                ),
            ),
        ),
        Action(
            name="solution_declined",
            sources="present_solution",
            target=None,
            title="Customer declines: record it and try another",
            evidence=ev.SolutionResponse,
            guards=(
                EvidenceIs(
                    field="accepted",
                    equals=False,
                    name="solution_declined_by_customer",
                    message="Record a declined solution only when the customer declined it.",
                ),
            ),
        ),
    ),
)
"""Version 1.0, kept exactly as first shipped: stored cases bind the digest of this definition."""


# --- version 1.1 ----------------------------------------------------------------------------
#
# Closer to the article (1.0 above stays exactly as it was: cases bind a digest of it):
# - agreeing with the customer that the company is to blame is the same slip whether it comes
#   in an apology or while empathising, so one rule (one refusal code) covers both;
# - the article sends the agent to the business's lawyer before any admission: the review is
#   recorded by a holder of the legal role, and that person (the entry's actor) is the reviewer;
# - a solution goes to a customer who has calmed down: the agent attests it with each one;
# - a customer can turn down every solution: the case then ends, unsuccessfully, on record.

LEGAL = "legal"
"""The role that records liability reviews in engage 1.1 (e.g. the business's lawyer)."""

_NO_BLAME_IN_APOLOGY = FaultNeedsLiabilityReview(
    review=ev.LegalReview,
    message=(
        "Apologise for the inconvenience, but do not say the company caused the problem until "
        "a legal review (recorded by someone with the legal role) has found the company at fault."
    ),
)
_NO_BLAME_IN_EMPATHY = FaultNeedsLiabilityReview(
    review=ev.LegalReview,
    message=(
        "Empathise without agreeing that the company is to blame: that needs a legal review "
        "(recorded by someone with the legal role) that found the company at fault."
    ),
)
_CUSTOMER_CALMER = EvidenceIs(
    field="customer_calmer",
    equals=True,
    name="customer_calmer_first",
    message=(
        "Present a solution only once the customer is calmer and ready to listen: keep listening "
        "and empathising until then, and tick customer_calmer when they are."
    ),
)


def _action_1_0(name: str) -> Action:
    """An action 1.1 keeps exactly as 1.0 has it."""
    return next(action for action in ENGAGE.actions if action.name == name)


ENGAGE_1_1 = attrs.evolve(
    ENGAGE,
    version="1.1",
    roles=(LEGAL,),
    description=(
        "Give the customer your full attention, empathise and apologise for the inconvenience "
        "without blaming the company until someone with the legal role has reviewed liability, "
        "then present your best solution once the customer is calmer; a customer who takes no "
        "solution closes the case as not accepted."
    ),
    steps=(
        ENGAGE.steps[0],
        Step(
            id="empathize",
            title="Empathise",
            prompts=(
                "Show you understand how the situation affects them; apologising for the "
                "inconvenience is fine.",
                "Do not agree that the company caused it, in an apology or while empathising, "
                "unless a legal review found the company at fault.",
                "Not sure about liability? Ask a colleague with the legal role to record a review.",
            ),
            checklist=("Nothing said blames the company without a legal review behind it.",),
        ),
        Step(
            id="present_solution",
            title="Present your best solution",
            prompts=(
                "Wait until the customer has calmed down and is ready to listen; until then, keep "
                "listening and acknowledging how they feel.",
                "Offer the best solution you have and record their answer.",
                "If they turn down everything, including your best solution, close the case as not accepted.",
            ),
            checklist=(
                "The customer was calmer when each solution was presented.",
                "The customer's response to each solution is recorded.",
            ),
        ),
    ),
    outcomes=(
        ENGAGE.outcomes[0],
        Outcome(
            id="not_accepted",
            title="No solution accepted",
            successful=False,
            guidance=("The customer declined every solution presented, the best one included.",),
        ),
    ),
    actions=(
        _action_1_0("engage_fully"),
        Action(
            name="record_liability_review",
            sources="empathize",
            target=None,
            title="Record a legal review of liability",
            evidence=ev.LegalReview,
            description="Only someone with the legal role; the review is theirs, as the entry's actor.",
            guards=(
                HasRole(
                    role=LEGAL,
                    name="liability_review_by_legal",
                    message="Only someone with the legal role (e.g. the business's lawyer) may record "
                    "a liability review.",
                ),
            ),
        ),
        Action(
            name="apologize",
            sources="empathize",
            target=None,
            title="Apologise",
            evidence=ev.Apology,
            guards=(_NO_BLAME_IN_APOLOGY,),
        ),
        Action(
            name="show_empathy",
            sources="empathize",
            target="present_solution",
            title="Empathy shown, without blame",
            evidence=ev.EmpathyStatement,
            guards=(_NO_BLAME_IN_EMPATHY,),
        ),
        Action(
            name="solution_accepted",
            sources="present_solution",
            target="resolved",
            title="Customer accepts the solution",
            evidence=ev.SolutionPresented,
            guards=(_CUSTOMER_CALMER, _action_1_0("solution_accepted").guards[0]),
        ),
        Action(
            name="solution_declined",
            sources="present_solution",
            target=None,
            title="Customer declines: record it and try another",
            evidence=ev.SolutionPresented,
            guards=(_CUSTOMER_CALMER, _action_1_0("solution_declined").guards[0]),
        ),
        Action(
            name="close_not_accepted",
            sources="present_solution",
            target="not_accepted",
            title="Customer accepts no solution",
            evidence=ev.NoSolutionAccepted,
            description="After at least one solution was presented and declined.",
            guards=(
                Requires(
                    record=ev.SolutionPresented,
                    at_step="present_solution",
                    name="solution_declined_first",
                    message="Close as not accepted only after presenting at least one solution "
                    "(to a calmer customer) that the customer declined: record it with solution_declined.",
                ),
                EvidenceIs(
                    field="best_solution_presented",
                    equals=True,
                    name="best_solution_presented",
                    message="Close as not accepted only once the best solution you have was presented "
                    "and declined.",
                ),
            ),
        ),
    ),
)
"""Version 1.1, the latest: no blame while empathising either, legal reviews by the legal role,
solutions only to a calmer customer, and a ``not_accepted`` outcome."""

ENGAGE_1_0_TO_1_1 = Migration(methodology_id="engage", from_version="1.0", to_version="1.1")
"""Moves open engage cases from 1.0 to 1.1; every step keeps its id, so nothing is mapped.

What 1.0 recorded stays in the history but does not meet 1.1's rules: a 1.0
``LiabilityReview`` (a free-text reviewer) does not count as a ``LegalReview``, so
admitting fault after the move needs a review by the legal role; a 1.0 declined
``SolutionResponse`` carries no calm attestation, so ``close_not_accepted`` needs a
solution presented and declined under 1.1 first."""
