"""Four steps to a successful resolution: listen, assess, offer a solution, empower.

Steps and ordering rules are encoded from the article cited in ``source``; the
guidance is written for resolveflow, in its own words.

Two versions ship. :data:`FOUR_STEPS` (1.0) is kept exactly as it was, so
stored cases keep their definition digest; :data:`FOUR_STEPS_1_1` is the
latest, and :data:`FOUR_STEPS_1_0_TO_1_1` moves open 1.0 cases onto it (no
step changed its id).

Rules encoded as guards in 1.0:
- the assessment comes after the customer's own account has been recorded,
  and sorts the cause into employee conduct, miscommunication or expectations
  not met, with a lesson for the operating-procedures manual;
- a solution is offered only once the incident has been assessed;
- the case closes only with an update to the procedures or guidelines that
  equips staff for the next time.

1.1 keeps the first two and adds or changes:
- the offer is made only after the agent has shown the customer, at the
  offer step, that they understand why the customer is unhappy (an
  ``UnderstandingShown`` statement, checked by ``understanding_shown``);
- the case closes by matching the lesson either to guidance the team already
  has (``cite_guidance``, an ``ExistingGuidance`` reference) or to a proposed
  change (``propose_change``, a ``ProposedChange``): staff are equipped in
  advance, and a case no longer forces a change of procedure of its own.
"""

from __future__ import annotations

import attrs

from resolveflow import evidence as ev
from resolveflow._guards import Requires
from resolveflow._methodology import Action, Methodology, Outcome, Step
from resolveflow._migration import Migration

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
"""Version 1.0, kept exactly as first shipped: stored cases bind the digest of this definition."""


def _action_1_0(name: str) -> Action:
    """An action 1.1 keeps exactly as 1.0 has it."""
    return next(action for action in FOUR_STEPS.actions if action.name == name)


def _step_1_0(step_id: str) -> Step:
    """A step 1.1 keeps exactly as 1.0 has it."""
    return next(step for step in FOUR_STEPS.steps if step.id == step_id)


_LESSON_RECORDED = Requires(
    record=ev.CauseAssessment,
    name="lesson_recorded",
    message="Closing the case needs the lesson recorded at the assessment.",
)

FOUR_STEPS_1_1 = attrs.evolve(
    FOUR_STEPS,
    version="1.1",
    description=(
        "Hear the customer's side, find the cause and the lesson, show you understand "
        "before making things right, and match the lesson to guidance that equips the team: "
        "guidance it already has, or a proposed change."
    ),
    steps=(
        _step_1_0("listen"),
        _step_1_0("assess"),
        Step(
            id="offer_solution",
            title="Offer a solution",
            prompts=(
                "First tell the customer, in your own words, why they are unhappy, so they "
                "know you understand; record what you said.",
                "Then say clearly and promptly what you will do to make it right.",
            ),
            checklist=(
                "The customer heard that you understand why they are unhappy.",
                "A concrete solution was offered.",
            ),
        ),
        Step(
            id="empower",
            title="Empower your team",
            prompts=(
                "Check the lesson against the procedures manual and company guidelines.",
                "If they already cover it, cite where; if not, propose the change that would "
                "let anyone on the team handle the same situation well next time.",
            ),
            checklist=("The lesson is matched to existing guidance or to a proposed change.",),
        ),
    ),
    outcomes=(
        Outcome(
            id="resolved",
            title="Resolved",
            successful=True,
            guidance=(
                "The customer was answered, and the team has guidance for the next time, "
                "or a change to it has been proposed.",
            ),
        ),
    ),
    actions=(
        _action_1_0("hear_customer"),
        _action_1_0("record_assessment"),
        Action(
            name="show_understanding",
            sources="offer_solution",
            target=None,
            title="Understanding shown to the customer",
            evidence=ev.UnderstandingShown,
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
                Requires(
                    record=ev.UnderstandingShown,
                    at_step="offer_solution",
                    name="understanding_shown",
                    message=(
                        "Show the customer that you understand why they are unhappy before "
                        "offering a solution: record what you told them with show_understanding."
                    ),
                ),
            ),
        ),
        Action(
            name="cite_guidance",
            sources="empower",
            target="resolved",
            title="Lesson covered by existing guidance",
            evidence=ev.ExistingGuidance,
            guards=(_LESSON_RECORDED,),
        ),
        Action(
            name="propose_change",
            sources="empower",
            target="resolved",
            title="Change to the procedures or guidelines proposed",
            evidence=ev.ProposedChange,
            guards=(_LESSON_RECORDED,),
        ),
    ),
)
"""Version 1.1, the latest: the offer needs understanding shown first; the lesson closes the
case through existing guidance or a proposed change."""

FOUR_STEPS_1_0_TO_1_1 = Migration(methodology_id="four-steps", from_version="1.0", to_version="1.1")
"""Moves open 1.0 cases onto 1.1; every step keeps its id, so nothing needs mapping.

A case at ``offer_solution`` records ``show_understanding`` before its offer; a case at
``empower`` closes with ``cite_guidance`` or ``propose_change``."""
