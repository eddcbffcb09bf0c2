"""Engage, empathise, present a solution, without blaming the company prematurely.

Steps and ordering rules are encoded from the article cited in ``source``; the
guidance is written for resolveflow, in its own words.

Rules encoded as guards:
- empathy and an apology for the inconvenience are always allowed at empathize;
- an apology that admits the company caused the problem is refused unless a
  recorded liability review found the company at fault;
- the case resolves only when the customer accepts the solution presented;
  a declined solution is recorded and another one presented.
"""

from __future__ import annotations

from resolveflow import evidence as ev
from resolveflow._guards import EvidenceIs
from resolveflow._methodology import Action, Methodology, Outcome, Step
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
