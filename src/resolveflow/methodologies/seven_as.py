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
"""

from __future__ import annotations

from resolveflow import evidence as ev
from resolveflow._guards import EvidenceIs, LaterThanNow, Requires
from resolveflow._methodology import Action, Methodology, Outcome, Step
from resolveflow.methodologies._guards import AllPlanItemsDone, PlanHasOpenItems, PlanItemOpen, SoundPlan

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
