"""The prescription: acknowledge the problem, remedy it now, prevent it recurring.

Steps and ordering rules are encoded from the article cited in ``source``; the
guidance is written for resolveflow, in its own words.

Rules encoded as guards:
- none of the three steps can be skipped;
- acknowledge restates the problem from the customer's side and takes
  accountability, without excuses;
- remedy_now records an immediate action and when it was taken (not later
  than the time it is recorded);
- prevent_recurrence records a measure: a procedure change, training or a
  system fix;
- a customer who cannot be satisfied closes at a separate, unsuccessful outcome.
"""

from __future__ import annotations

from resolveflow import evidence as ev
from resolveflow._guards import EvidenceIs, NotLaterThanNow, Requires
from resolveflow._methodology import Action, Methodology, Outcome, Step

PRESCRIPTION = Methodology(
    id="prescription",
    version="1.0",
    title="The prescription for satisfying unhappy customers",
    source=(
        '"The Prescription for Satisfying Unhappy Customers", article by Crossroads Professional '
        "Coaching, published on LinkedIn"
    ),
    description=(
        "Three ingredients, all required: own the problem as the customer sees it, act on it "
        "now, and show what will keep it from happening again."
    ),
    initial="acknowledge",
    required_steps=("acknowledge", "remedy_now", "prevent_recurrence"),
    steps=(
        Step(
            id="acknowledge",
            title="Acknowledge the problem",
            prompts=(
                "Sum up what went wrong and how it hurts, as the customer experiences it.",
                "Own your part plainly; no excuses and no defending how it happened.",
            ),
            checklist=("The customer agrees you understood.", "Accountability is accepted."),
        ),
        Step(
            id="remedy_now",
            title="Remedy it now",
            prompts=(
                "Tell the customer what you are doing right now, e.g. faster shipping, "
                "a rushed replacement, a credit.",
                "Even when the fix takes time, the first action happens today.",
            ),
            checklist=("An immediate action is under way.",),
        ),
        Step(
            id="prevent_recurrence",
            title="Prevent it recurring",
            prompts=(
                "Explain what will stop it happening again: a changed procedure, "
                "training, or a fix to the system.",
            ),
            checklist=("A prevention measure is in place.",),
        ),
    ),
    outcomes=(
        Outcome(
            id="resolved",
            title="Resolved",
            successful=True,
            guidance=("All three ingredients were given.",),
        ),
        Outcome(
            id="cannot_satisfy",
            title="Customer cannot be satisfied",
            successful=False,
            guidance=("Some customers cannot be satisfied; the reason is recorded.",),
        ),
    ),
    actions=(
        Action(
            name="acknowledge_problem",
            sources="acknowledge",
            target="remedy_now",
            title="Problem acknowledged, accountability taken",
            evidence=ev.ProblemAcknowledgement,
            guards=(
                EvidenceIs(
                    field="accepts_accountability",
                    equals=True,
                    name="accountability_accepted",
                    message="Acknowledging the problem means accepting accountability for your part.",
                ),
            ),
        ),
        Action(
            name="remedy",
            sources="remedy_now",
            target="prevent_recurrence",
            title="Immediate remedy under way",
            evidence=ev.ImmediateRemedy,
            guards=(
                Requires(
                    record=ev.ProblemAcknowledgement,
                    name="problem_acknowledged",
                    message="Acknowledge the problem before remedying it.",
                ),
                NotLaterThanNow(
                    field="taken_at",
                    name="remedy_already_taken",
                    message="Record the remedy once it has been taken; its time cannot be in the future.",
                ),
            ),
        ),
        Action(
            name="commit_prevention",
            sources="prevent_recurrence",
            target="resolved",
            title="Prevention measure in place",
            evidence=ev.PreventionMeasure,
            guards=(
                Requires(
                    record=ev.ImmediateRemedy,
                    name="remedy_recorded",
                    message="Remedy the problem now before turning to prevention.",
                ),
            ),
        ),
        Action(
            name="declare_cannot_satisfy",
            sources=("acknowledge", "remedy_now", "prevent_recurrence"),
            target="cannot_satisfy",
            title="The customer cannot be satisfied",
            evidence=ev.UnresolvableJudgement,
        ),
    ),
)
