"""Four steps to a successful resolution: listen, assess, offer a solution, empower.

Steps and ordering rules are encoded from the article cited in ``source``; the
guidance is written for resolveflow, in its own words.

Rules encoded as guards:
- the assessment comes after the customer's own account has been recorded,
  and sorts the cause into employee conduct, miscommunication or expectations
  not met, with a lesson for the operating-procedures manual;
- a solution is offered only once the incident has been assessed;
- the case closes only with an update to the procedures or guidelines that
  equips staff for the next time.
"""

from __future__ import annotations

from resolveflow import evidence as ev
from resolveflow._guards import Requires
from resolveflow._methodology import Action, Methodology, Outcome, Step

FOUR_STEPS = Methodology(
    id="four-steps",
    version="1.0",
    title="Four steps to a successful resolution",
    source=(
        'R2R Marketing, blog article setting out "four steps to a successful resolution" with an '
        "unhappy customer: listen, assess, offer a solution, empower your employees"
    ),
    description=(
        "Hear the customer's side, find the cause and the lesson, make things right, "
        "and turn the lesson into procedures that equip the team."
    ),
    initial="listen",
    required_steps=("listen", "assess", "offer_solution", "empower"),
    steps=(
        Step(
            id="listen",
            title="Listen",
            prompts=(
                "Ask the customer what happened, even if you believe you already know.",
                "Let them describe the problem as they see it.",
            ),
            checklist=("The customer's account is written down in their terms.",),
        ),
        Step(
            id="assess",
            title="Assess the incident",
            prompts=(
                "Gather the facts and decide what caused it: how someone behaved, "
                "a miscommunication, or an expectation that was not met.",
                "Write down what the team should learn from it.",
            ),
            checklist=("Cause category chosen.", "Lesson for the procedures manual written."),
        ),
        Step(
            id="offer_solution",
            title="Offer a solution",
            prompts=(
                "Show you understand why the customer is unhappy, then say clearly "
                "and promptly what you will do to make it right.",
            ),
            checklist=("A concrete solution was offered.",),
        ),
        Step(
            id="empower",
            title="Empower your team",
            prompts=(
                "Update the procedures manual or guidelines so that anyone on the team "
                "can handle the same situation well next time.",
            ),
            checklist=("The procedures or guidelines were updated.",),
        ),
    ),
    outcomes=(
        Outcome(
            id="resolved",
            title="Resolved",
            successful=True,
            guidance=("The customer was answered and the team is better equipped.",),
        ),
    ),
    actions=(
        Action(
            name="hear_customer",
            sources="listen",
            target="assess",
            title="Customer's account recorded",
            evidence=ev.CustomerAccount,
        ),
        Action(
            name="record_assessment",
            sources="assess",
            target="offer_solution",
            title="Assessment recorded",
            evidence=ev.CauseAssessment,
            guards=(
                Requires(
                    record=ev.CustomerAccount,
                    at_step="listen",
                    name="customer_account_first",
                    message="Record the customer's own account before assessing the incident.",
                ),
            ),
        ),
        Action(
            name="make_offer",
            sources="offer_solution",
            target="empower",
            title="Solution offered",
            evidence=ev.SolutionOffer,
            guards=(
                Requires(
                    record=ev.CauseAssessment,
                    name="incident_assessed",
                    message="Assess the incident before offering a solution.",
                ),
            ),
        ),
        Action(
            name="update_procedures",
            sources="empower",
            target="resolved",
            title="Procedures or guidelines updated",
            evidence=ev.ProcedureUpdate,
            guards=(
                Requires(
                    record=ev.CauseAssessment,
                    name="lesson_recorded",
                    message="The procedures update needs the lesson recorded at the assessment.",
                ),
            ),
        ),
    ),
)
