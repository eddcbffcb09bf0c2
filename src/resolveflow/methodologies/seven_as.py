"""The seven A's: acknowledge, air grievances, apologize, assure, agree, act, accomplish.

Steps and ordering rules are encoded from the article cited in ``source``; the
guidance is written for resolveflow, in its own words.

Rules encoded as guards:
- the grievances step ends only when the customer has finished;
- agree records a written plan whose items are dated in the future and
  uniquely named; nothing is acted on or accomplished without it;
- act completes the plan item by item (overdue items show in ``case.overdue()``);
- accomplish is reached only with every item done, and the case is resolved
  only when the customer confirms satisfaction (otherwise the plan is revised);
- a customer too upset at assure is rescheduled to a later time and the case
  resumes at assure.

Version 1.1 (``SEVEN_AS_1_1``, the latest; ``SEVEN_AS`` is 1.0, unchanged, and
``SEVEN_AS_1_0_TO_1_1`` moves open 1.0 cases on) adds:
- the assurance comes first: give_assurance records it and stays at assure; only
  then may the case be rescheduled, or move on to agree with discuss_solutions,
  which records that the customer is ready to talk solutions through;
- resume is held to the time the reschedule agreed (``NotBefore``);
- plan items carry a priority: a plan starts with pressing items, long-term ones
  fall due no earlier than them and are done after them; everything is done
  before the customer is asked about the result;
- the closing record attests that the customer was thanked and told the agent
  will do their best to keep it from happening again.
"""

from __future__ import annotations

import attrs

from resolveflow import evidence as ev
from resolveflow._guards import EvidenceIs, LaterThanNow, NotBefore, Requires
from resolveflow._methodology import Action, Methodology, Outcome, Step
from resolveflow._migration import Migration
from resolveflow.methodologies._guards import (
    AllPlanItemsDone,
    PlanHasOpenItems,
    PlanItemOpen,
    PressingDoneFirst,
    PressingPlannedFirst,
    SoundPlan,
)

SEVEN_AS = Methodology(
    id="seven-as",
    version="1.0",
    title="The seven A's of managing an unhappy customer",
    source=(
        "Article on handling an unhappy customer with \"seven 'A's\" (acknowledge, air grievances, "
        "apologize, assure, agree, act, accomplish), written for owners of home-based businesses "
        "and franchises; published on BusinessOpportunity.com, author not named"
    ),
    description=(
        "Validate feelings, let the customer say everything, apologise regardless of fault, "
        "commit to fixing it, agree a dated written plan, carry it out, and confirm the result."
    ),
    initial="acknowledge",
    required_steps=(
        "acknowledge",
        "air_grievances",
        "apologize",
        "assure",
        "agree",
        "act",
        "accomplish",
    ),
    steps=(
        Step(
            id="acknowledge",
            title="Acknowledge their feelings",
            prompts=(
                "Tell the customer you can hear they are upset and that you take it seriously.",
                "Do not weigh whether the feeling is justified; recognising it is the point.",
            ),
            checklist=("The customer's feeling is named back to them.",),
        ),
        Step(
            id="air_grievances",
            title="Let them air their grievances",
            prompts=(
                "Invite the customer to tell you everything that is bothering them.",
                "Stay calm and do not interrupt, even if what they say is harsh.",
            ),
            checklist=("Every concern is written down.", "The customer has finished speaking."),
        ),
        Step(
            id="apologize",
            title="Apologise",
            prompts=("Apologise for the mistakes made; if you see none, apologise for the trouble caused.",),
            checklist=("An apology was given, whoever was at fault.",),
        ),
        Step(
            id="assure",
            title="Assure them it will be dealt with",
            prompts=(
                "Commit to putting things right to the customer's satisfaction.",
                "If the customer is still too upset to talk it through, offer to continue later.",
                "When they are ready, discuss what they expect and what you can offer, "
                "most pressing problems first.",
            ),
            checklist=("A commitment was made.",),
        ),
        Step(
            id="rescheduled",
            title="Waiting to talk again",
            prompts=("Call back at the agreed time and pick up where you left off.",),
            checklist=("The follow-up time is in the customer's calendar and yours.",),
        ),
        Step(
            id="agree",
            title="Agree a written plan",
            prompts=(
                "Write down what will be done and by when, so both sides know exactly what is promised.",
            ),
            checklist=("Every promise has a due time.", "The customer agreed to the plan."),
        ),
        Step(
            id="act",
            title="Act on the plan",
            prompts=("Carry out each item and mark it done; keep to the dates you promised.",),
            checklist=("No item is past its due time.",),
        ),
        Step(
            id="accomplish",
            title="Accomplish what was promised",
            prompts=(
                "Check with the customer that they are satisfied with the result.",
                "Thank them for the chance to put it right and say how you will keep it from recurring.",
            ),
            checklist=("The customer confirmed they are satisfied.",),
        ),
    ),
    outcomes=(
        Outcome(
            id="resolved",
            title="Resolved",
            successful=True,
            guidance=("Every promise was kept and the customer is satisfied.",),
        ),
    ),
    actions=(
        Action(
            name="acknowledge_feelings",
            sources="acknowledge",
            target="air_grievances",
            title="Feelings acknowledged",
            evidence=ev.Acknowledgement,
        ),
        Action(
            name="hear_grievances",
            sources="air_grievances",
            target="apologize",
            title="Grievances heard out",
            evidence=ev.Grievances,
            guards=(
                EvidenceIs(
                    field="customer_finished",
                    equals=True,
                    name="customer_finished",
                    message="Let the customer finish saying everything before moving on.",
                ),
            ),
        ),
        Action(
            name="give_apology",
            sources="apologize",
            target="assure",
            title="Apology given",
            evidence=ev.Apology,
        ),
        Action(
            name="give_assurance",
            sources="assure",
            target="agree",
            title="Assurance given, ready to agree a plan",
            evidence=ev.Assurance,
        ),
        Action(
            name="reschedule",
            sources="assure",
            target="rescheduled",
            title="Too upset now: continue later",
            evidence=ev.Reschedule,
            guards=(
                LaterThanNow(
                    field="resume_at",
                    name="resume_in_future",
                    message="The time to talk again must be later than now.",
                ),
            ),
        ),
        Action(
            name="resume",
            sources="rescheduled",
            target="assure",
            title="Resume the conversation",
        ),
        Action(
            name="agree_plan",
            sources="agree",
            target="act",
            title="Plan agreed in writing",
            evidence=ev.Plan,
            guards=(SoundPlan(),),
        ),
        Action(
            name="complete_item",
            sources="act",
            target=None,
            title="Mark a plan item done",
            evidence=ev.ItemCompletion,
            guards=(
                Requires(
                    record=ev.Plan,
                    name="plan_recorded",
                    message="Nothing can be acted on before a written plan is agreed.",
                ),
                PlanHasOpenItems(),
                PlanItemOpen(),
            ),
        ),
        Action(
            name="complete_plan",
            sources="act",
            target="accomplish",
            title="Every item done: check with the customer",
            guards=(
                Requires(
                    record=ev.Plan,
                    name="plan_recorded",
                    message="Nothing can be accomplished before a written plan is agreed.",
                ),
                AllPlanItemsDone(),
            ),
        ),
        Action(
            name="confirm_satisfaction",
            sources="accomplish",
            target="resolved",
            title="Customer confirms satisfaction",
            evidence=ev.SatisfactionConfirmation,
            guards=(
                AllPlanItemsDone(),
                EvidenceIs(
                    field="satisfied",
                    equals=True,
                    name="customer_satisfied",
                    message=(
                        "The case is resolved only when the customer confirms they are satisfied; "
                        "otherwise revise the plan with them."
                    ),
                ),
            ),
        ),
        Action(
            name="revise_plan",
            sources="accomplish",
            target="agree",
            title="Customer not satisfied: agree a revised plan",
            evidence=ev.SatisfactionConfirmation,
            guards=(
                EvidenceIs(
                    field="satisfied",
                    equals=False,
                    name="customer_not_satisfied",
                    message="Revise the plan only when the customer says they are not satisfied.",
                ),
            ),
        ),
    ),
)
"""Version 1.0, kept exactly as first shipped: stored cases bind the digest of this definition."""


# --- version 1.1 ----------------------------------------------------------------------------
#
# Closer to the article (1.0 above stays exactly as it was):
# - the commitment is given before anything else happens at assure, so a reschedule follows it;
# - the call-back time the reschedule agreed holds: resume is refused before it;
# - the plan puts the pressing problems first, long-term ones after;
# - the close records the thanks and the word that it should not happen again.


def _action_1_0(name: str) -> Action:
    """An action 1.1 keeps exactly as 1.0 has it."""
    return next(action for action in SEVEN_AS.actions if action.name == name)


def _step_1_0(step_id: str) -> Step:
    """A step 1.1 keeps exactly as 1.0 has it."""
    return next(step for step in SEVEN_AS.steps if step.id == step_id)


_ASSURANCE_GIVEN = Requires(
    record=ev.Assurance,
    name="assurance_given",
    message=(
        "First assure the customer their concerns will be dealt with (give_assurance); "
        "only then arrange another time or talk solutions through."
    ),
)

SEVEN_AS_1_1 = attrs.evolve(
    SEVEN_AS,
    version="1.1",
    description=(
        "Validate feelings, let the customer say everything, apologise regardless of fault, "
        "commit to fixing it (then talk later if they are still too upset), agree a dated written "
        "plan with the pressing problems first, carry it out, and close by checking the result, "
        "thanking the customer and saying it should not happen again."
    ),
    steps=(
        _step_1_0("acknowledge"),
        _step_1_0("air_grievances"),
        _step_1_0("apologize"),
        Step(
            id="assure",
            title="Assure them it will be dealt with",
            prompts=(
                "Start by committing to put things right to the customer's satisfaction, and record it.",
                "If they are still too upset to talk it through, agree a later time to continue.",
                "If they are ready, talk solutions over as an exchange: what they expect and what "
                "you can offer, specific, the most pressing problems before the long-term ones.",
            ),
            checklist=("A commitment was made and recorded.", "The customer is ready, or a time is agreed."),
        ),
        Step(
            id="rescheduled",
            title="Waiting to talk again",
            prompts=("Call back at the agreed time, not before, and pick up where you left off.",),
            checklist=("The follow-up time is in the customer's calendar and yours.",),
        ),
        Step(
            id="agree",
            title="Agree a written plan",
            prompts=(
                "Write down what will be done and by when, so both sides know exactly what is promised.",
                "Mark each item pressing or long term; pressing items come first and fall due first.",
            ),
            checklist=("Every promise has a due time and a priority.", "The customer agreed to the plan."),
        ),
        Step(
            id="act",
            title="Act on the plan",
            prompts=(
                "Carry out each item and mark it done; keep to the dates you promised.",
                "Finish the pressing items before the long-term ones.",
            ),
            checklist=("No item is past its due time.",),
        ),
        Step(
            id="accomplish",
            title="Accomplish what was promised",
            prompts=(
                "Check with the customer that they are satisfied with the result.",
                "Thank them for the chance to put it right, and tell them you will do your best "
                "to keep it from happening again.",
            ),
            checklist=(
                "The customer confirmed they are satisfied.",
                "They were thanked and told it should not recur.",
            ),
        ),
    ),
    actions=(
        _action_1_0("acknowledge_feelings"),
        _action_1_0("hear_grievances"),
        _action_1_0("give_apology"),
        Action(
            name="give_assurance",
            sources="assure",
            target=None,
            title="Assurance given",
            evidence=ev.Assurance,
            description="Stays at assure: next, talk solutions through or arrange a later time.",
        ),
        Action(
            name="discuss_solutions",
            sources="assure",
            target="agree",
            title="Customer ready: solutions talked through",
            evidence=ev.SolutionDiscussion,
            guards=(
                _ASSURANCE_GIVEN,
                EvidenceIs(
                    field="customer_ready",
                    equals=True,
                    name="customer_ready",
                    message=(
                        "The customer is not ready to work on solutions yet: arrange another time "
                        "to talk (reschedule)."
                    ),
                ),
            ),
        ),
        attrs.evolve(
            _action_1_0("reschedule"),
            guards=(_ASSURANCE_GIVEN, *_action_1_0("reschedule").guards),
        ),
        attrs.evolve(
            _action_1_0("resume"),
            guards=(
                NotBefore(
                    record=ev.Reschedule,
                    field="resume_at",
                    name="not_before_agreed_time",
                    message="Resume at the time agreed with the customer, not before it.",
                ),
            ),
        ),
        attrs.evolve(
            _action_1_0("agree_plan"),
            evidence=ev.PrioritisedPlan,
            guards=(SoundPlan(), PressingPlannedFirst()),
        ),
        attrs.evolve(
            _action_1_0("complete_item"),
            guards=(*_action_1_0("complete_item").guards, PressingDoneFirst()),
        ),
        _action_1_0("complete_plan"),
        attrs.evolve(
            _action_1_0("confirm_satisfaction"),
            title="Customer satisfied, thanked, and told it should not recur",
            evidence=ev.Accomplishment,
            guards=(
                *_action_1_0("confirm_satisfaction").guards,
                EvidenceIs(
                    field="thanked",
                    equals=True,
                    name="customer_thanked",
                    message="Thank the customer for the chance to put things right before closing.",
                ),
                EvidenceIs(
                    field="recurrence_assured",
                    equals=True,
                    name="recurrence_assured",
                    message=(
                        "Tell the customer you will do your best to keep it from happening again "
                        "before closing."
                    ),
                ),
            ),
        ),
        _action_1_0("revise_plan"),
    ),
)
"""Version 1.1, the latest: assurance before a reschedule, resume held to the agreed time,
prioritised plans, and a close that records the thanks and the word that it will not recur."""

SEVEN_AS_1_0_TO_1_1 = Migration(methodology_id="seven-as", from_version="1.0", to_version="1.1")
"""Moves open seven-as cases from 1.0 to 1.1: every step keeps its id, so nothing is mapped.

A case at ``assure`` (or back there after ``resume``) records the assurance first; a plan
agreed under 1.0 has no priorities, so its items may be done in any order."""
