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

Version 1.1 (``PRESCRIPTION_1_1``, the latest; ``PRESCRIPTION`` is 1.0, unchanged, and
``PRESCRIPTION_1_0_TO_1_1`` moves open 1.0 cases on) changes:
- "now" is bounded: the remedy's ``taken_at`` may lie at most
  :data:`REMEDY_WINDOW_HOURS` hours (the parameter of the guard ``remedy_taken_now``,
  a ``NotOlderThan``) before the time it is recorded;
- the unsuccessful outcome is for a customer still not satisfied after a
  sincere remedy: ``declare_cannot_satisfy`` is offered only at
  prevent_recurrence, after the remedy, and records a ``CustomerNotSatisfied``
  (what was offered, the customer's answer, the agent's word that the attempt
  was sincere) instead of a reason the case cannot be resolved;
- prevention records a ``PreventionExplained``: the measure and the agent's
  word that the customer was told what will change.
The text names no roles, so 1.1 declares none: anyone may take any action.
"""

from __future__ import annotations

from typing import Final

import attrs

from resolveflow import evidence as ev
from resolveflow._guards import EvidenceIs, NotLaterThanNow, Requires
from resolveflow._methodology import Action, Methodology, Outcome, Step
from resolveflow._migration import Migration
from resolveflow.methodologies._guards import NotOlderThan

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


# --- version 1.1 ----------------------------------------------------------------------------
#
# Closer to the article (1.0 above stays exactly as it was: cases bind a digest of it):
# - the remedy happens now, so its time is bounded from below as well as from above;
# - the article refuses the "nothing we can do" shrug: the unsuccessful outcome is the customer
#   who is still not satisfied after a sincere remedy, so it comes after the remedy and
#   records the offer and the answer;
# - the prevention step is about telling the customer, so the agent attests that they did.

REMEDY_WINDOW_HOURS: Final = 24
"""How recent a remedy must be to count as "now" in 1.1 (the ``hours`` of ``remedy_taken_now``).

A day: the first action happens today even when the full fix takes longer. A
team that wants another window changes ``hours`` (or ``days``/``minutes``) of
that guard, for instance in the methodology's file form, and registers the
result under a version of its own.
"""

_ACTIONS_10 = {a.name: a for a in PRESCRIPTION.actions}
_STEPS_10 = {s.id: s for s in PRESCRIPTION.steps}

PRESCRIPTION_1_1 = attrs.evolve(
    PRESCRIPTION,
    version="1.1",
    description=(
        "Three ingredients, all required: own the problem as the customer sees it, act on it "
        "today, and tell the customer what will keep it from happening again. A customer still "
        "not satisfied after a sincere remedy closes unsuccessfully, with the offer and their "
        "answer on record."
    ),
    steps=(
        _STEPS_10["acknowledge"],
        attrs.evolve(
            _STEPS_10["remedy_now"],
            prompts=(
                "Tell the customer what you are doing right now, e.g. faster shipping, "
                "a rushed replacement, a credit.",
                "Even when the fix takes time, the first action happens today: a remedy "
                f"taken more than {REMEDY_WINDOW_HOURS} hours ago does not count as now.",
                "There is always something you can do; saying nothing can be done is not a remedy.",
            ),
        ),
        attrs.evolve(
            _STEPS_10["prevent_recurrence"],
            prompts=(
                "Tell the customer what will stop it happening again: a changed procedure, "
                "training, or a fix to the system.",
                "If the customer is still not satisfied after the remedy, record what you offered "
                "and what they answered.",
            ),
            checklist=("A prevention measure is in place.", "The customer was told what will change."),
        ),
    ),
    outcomes=(
        PRESCRIPTION.outcomes[0],
        Outcome(
            id="cannot_satisfy",
            title="Customer not satisfied after the remedy",
            successful=False,
            guidance=(
                "A remedy was offered in earnest and the customer is still not satisfied; "
                "the offer and their answer are recorded.",
            ),
        ),
    ),
    actions=(
        _ACTIONS_10["acknowledge_problem"],
        attrs.evolve(
            _ACTIONS_10["remedy"],
            guards=(
                *_ACTIONS_10["remedy"].guards,
                NotOlderThan(
                    field="taken_at",
                    hours=REMEDY_WINDOW_HOURS,
                    name="remedy_taken_now",
                    message=(
                        f"The remedy is what you do now: record an action taken within the last "
                        f"{REMEDY_WINDOW_HOURS} hours, or take one today."
                    ),
                ),
            ),
        ),
        Action(
            name="commit_prevention",
            sources="prevent_recurrence",
            target="resolved",
            title="Prevention measure in place and explained",
            evidence=ev.PreventionExplained,
            guards=(
                Requires(
                    record=ev.ImmediateRemedy,
                    name="remedy_recorded",
                    message="Remedy the problem now before turning to prevention.",
                ),
                EvidenceIs(
                    field="customer_told",
                    equals=True,
                    name="customer_told_what_changes",
                    message="Tell the customer what will change to keep it from happening again.",
                ),
            ),
        ),
        Action(
            name="declare_cannot_satisfy",
            sources="prevent_recurrence",
            target="cannot_satisfy",
            title="The customer is not satisfied after the remedy",
            evidence=ev.CustomerNotSatisfied,
            description="Only after a remedy was offered: record the offer and the customer's answer.",
            guards=(
                Requires(
                    record=ev.ImmediateRemedy,
                    name="remedy_offered_first",
                    message="Offer the customer a remedy first; only then can they be found not satisfied.",
                ),
                EvidenceIs(
                    field="sincere_attempt",
                    equals=True,
                    name="sincere_attempt_made",
                    message="Close this way only after a sincere attempt to put things right.",
                ),
            ),
        ),
    ),
)

PRESCRIPTION_1_0_TO_1_1 = Migration(methodology_id="prescription", from_version="1.0", to_version="1.1")
"""Moves prescription cases from 1.0 to 1.1: the steps keep their ids, so nothing is mapped."""
