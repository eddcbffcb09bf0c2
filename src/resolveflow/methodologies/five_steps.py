"""Five steps to defuse a customer-service problem: listen, analyze, decide, address, evaluate.

Steps and ordering rules are encoded from the article cited in ``source``; the
guidance is written for resolveflow, in its own words.

Rules encoded as guards:
- no apology before the customer's account has been heard (an apology is
  offered only from analyze onwards, and only with the account on record);
- decide records a specific solution and the loss or discomfort it answers,
  or a judgement that the case cannot be resolved;
- address may hand the case to a designated colleague; the history stays;
- evaluate is required whether the case was solved or judged unresolvable,
  and records how long it took, how it went and the customer's feedback.

Version 1.1 (``FIVE_STEPS_1_1``, the latest; ``FIVE_STEPS`` is 1.0, unchanged, and
``FIVE_STEPS_1_0_TO_1_1`` moves open 1.0 cases on) adds:
- a remedy the customer refuses: judge_unresolvable is offered at address too,
  and the closing ``ResponseEvaluation`` records whether the remedy was accepted;
  close_resolved needs it accepted (and delivered), close_unresolvable needs it not;
- the go-to rep for difficult customers as the role ``go_to_rep``: hand_off from
  any working step, after which only the colleague it names or a holder of the
  role may act (``NamedActor`` on every action);
- the area of the business the complaint concerns, on the closing evaluation.
"""

from __future__ import annotations

import attrs

from resolveflow import evidence as ev
from resolveflow._guards import EvidenceIs, NamedActor, Requires
from resolveflow._methodology import Action, Methodology, Outcome, Step
from resolveflow._migration import Migration

FIVE_STEPS = Methodology(
    id="five-steps",
    version="1.0",
    title="Five steps to defuse an unhappy customer",
    source=(
        'Blog post giving "five steps to diffusing" an unhappy customer\'s complaint (listen, '
        "analyze, decide, address, evaluate); it names no author or publisher"
    ),
    description=(
        "Hear the customer out, find the cause, decide a specific remedy proportionate to the "
        "loss, deliver it with the right attitude, and always evaluate afterwards."
    ),
    initial="listen",
    required_steps=("listen", "analyze", "decide", "address", "evaluate"),
    steps=(
        Step(
            id="listen",
            title="Listen",
            prompts=(
                "Let the customer explain; speak only to clarify or to show you understand.",
                "Hold the apology until you know what it is for.",
            ),
            checklist=("The customer's view of the problem is written down.",),
        ),
        Step(
            id="analyze",
            title="Analyze the problem",
            prompts=(
                "Work out who or what caused it: a misunderstanding with staff, "
                "logistics, or the quality of the product or service.",
            ),
            checklist=("The cause is identified.",),
        ),
        Step(
            id="decide",
            title="Decide what to do",
            prompts=(
                "Choose a specific remedy, not a vague promise.",
                "Make it proportionate to the money lost or the trouble suffered.",
                "If nothing can be done, record why and go straight to the evaluation.",
            ),
            checklist=("The remedy is concrete and proportionate.",),
        ),
        Step(
            id="address",
            title="Address the problem sincerely",
            prompts=(
                "Present the remedy respectfully; a condescending tone undoes a good remedy.",
                "If a colleague is better at difficult conversations, hand the case over.",
            ),
            checklist=("The remedy was communicated.",),
        ),
        Step(
            id="evaluate",
            title="Evaluate the response",
            prompts=(
                "Look back at how the case was handled, how long it took and how well it worked.",
                "Ask the customer for feedback where you can.",
            ),
            checklist=("Time taken, assessment and feedback are recorded.",),
        ),
    ),
    outcomes=(
        Outcome(
            id="resolved",
            title="Resolved",
            successful=True,
            guidance=("Solved and evaluated.",),
        ),
        Outcome(
            id="unresolvable",
            title="Judged unresolvable",
            successful=False,
            guidance=("Not solvable, but evaluated so the team can learn from it.",),
        ),
    ),
    actions=(
        Action(
            name="hear_account",
            sources="listen",
            target="analyze",
            title="Customer's account heard",
            evidence=ev.CustomerAccount,
        ),
        Action(
            name="apologize",
            sources=("analyze", "decide", "address", "evaluate"),
            target=None,
            title="Apologise",
            evidence=ev.Apology,
            description="Available once the customer's account has been heard.",
            guards=(
                Requires(
                    record=ev.CustomerAccount,
                    name="account_heard_before_apology",
                    message="Hear the customer's account before apologising.",
                ),
            ),
        ),
        Action(
            name="record_cause",
            sources="analyze",
            target="decide",
            title="Cause identified",
            evidence=ev.CauseAnalysis,
        ),
        Action(
            name="decide_solution",
            sources="decide",
            target="address",
            title="Specific solution decided",
            evidence=ev.SolutionDecision,
        ),
        Action(
            name="judge_unresolvable",
            sources="decide",
            target="evaluate",
            title="Judge it unresolvable",
            evidence=ev.UnresolvableJudgement,
        ),
        Action(
            name="hand_off",
            sources="address",
            target=None,
            title="Hand to a designated colleague",
            evidence=ev.Handoff,
        ),
        Action(
            name="deliver_solution",
            sources="address",
            target="evaluate",
            title="Solution delivered",
            evidence=ev.SolutionDelivery,
            guards=(
                Requires(
                    record=ev.SolutionDecision,
                    name="solution_decided",
                    message="Decide a specific solution before delivering it.",
                ),
            ),
        ),
        Action(
            name="close_resolved",
            sources="evaluate",
            target="resolved",
            title="Evaluated: resolved",
            evidence=ev.ClosingEvaluation,
            guards=(
                Requires(
                    record=ev.SolutionDelivery,
                    name="solution_delivered",
                    message="Only a case whose solution was delivered can close as resolved.",
                ),
            ),
        ),
        Action(
            name="close_unresolvable",
            sources="evaluate",
            target="unresolvable",
            title="Evaluated: unresolvable",
            evidence=ev.ClosingEvaluation,
            guards=(
                Requires(
                    record=ev.UnresolvableJudgement,
                    name="judged_unresolvable",
                    message="Close as unresolvable only after judging it so at the decide step.",
                ),
            ),
        ),
    ),
)


# --- version 1.1 ----------------------------------------------------------------------------
#
# Closer to the article (1.0 above stays exactly as it was: cases bind a digest of it):
# - a remedy the customer refuses can end unresolvable: judge_unresolvable is offered at
#   address too, and the closing evaluation records whether the remedy was accepted; only an
#   accepted remedy closes resolved, anything else closes unresolvable (both after evaluate);
# - the hand-off goes to the business's go-to rep for difficult customers, from any working
#   step; once handed off, only the person it names or a holder of the role may act;
# - the evaluation names the area of the business the complaint concerns.

GO_TO_REP = "go_to_rep"
_WORKING_STEPS = ("listen", "analyze", "decide", "address", "evaluate")

_HANDED_OFF = NamedActor(
    record=ev.Handoff,
    field="to",
    or_role=GO_TO_REP,
    name="handed_off",
    message="The case was handed off: only the colleague it names, or a go-to rep, may act on it now.",
)


def _prompts_11(step: Step) -> Step:
    extra = {
        "address": (
            "Present the remedy respectfully; a condescending tone undoes a good remedy.",
            "If the customer refuses the remedy and nothing else can be offered, judge the case "
            "unresolvable; it is still evaluated.",
        ),
        "evaluate": (
            "Look back at how the case was handled, how long it took and how well it worked.",
            "Record whether the customer accepted the remedy and which area of the business the "
            "complaint concerns, so areas that keep drawing complaints show up.",
            "Ask the customer for feedback where you can.",
        ),
    }
    prompts = extra.get(step.id, step.prompts)
    return attrs.evolve(
        step,
        prompts=(*prompts, "If you are struggling, hand the case to the go-to rep for difficult customers."),
    )


def _guarded(action: Action) -> Action:
    return attrs.evolve(action, guards=(*action.guards, _HANDED_OFF))


_ACTIONS_10 = {a.name: a for a in FIVE_STEPS.actions}

FIVE_STEPS_1_1 = attrs.evolve(
    FIVE_STEPS,
    version="1.1",
    roles=(GO_TO_REP,),
    description=(
        "Hear the customer out, find the cause, decide a specific remedy proportionate to the "
        "loss, deliver it with the right attitude (or hand a difficult case to the go-to rep), and "
        "always evaluate afterwards, whether the remedy was accepted or the case is unresolvable."
    ),
    steps=tuple(_prompts_11(s) for s in FIVE_STEPS.steps),
    outcomes=(
        attrs.evolve(FIVE_STEPS.outcomes[0], guidance=("Remedy accepted, and evaluated.",)),
        attrs.evolve(
            FIVE_STEPS.outcomes[1],
            guidance=("No remedy, or one the customer refused; evaluated so the team can learn from it.",),
        ),
    ),
    actions=tuple(
        _guarded(a)
        for a in (
            _ACTIONS_10["hear_account"],
            _ACTIONS_10["apologize"],
            _ACTIONS_10["record_cause"],
            _ACTIONS_10["decide_solution"],
            attrs.evolve(
                _ACTIONS_10["judge_unresolvable"],
                sources=("decide", "address"),
                description="At address: the customer refused the remedy and nothing else can be offered.",
            ),
            Action(
                name="hand_off",
                sources=_WORKING_STEPS,
                target=None,
                title="Hand to the go-to rep",
                evidence=ev.Handoff,
                description="From any working step; afterwards only that colleague or a go-to rep acts.",
            ),
            _ACTIONS_10["deliver_solution"],
            Action(
                name="close_resolved",
                sources="evaluate",
                target="resolved",
                title="Evaluated: resolved",
                evidence=ev.ResponseEvaluation,
                guards=(
                    Requires(
                        record=ev.SolutionDelivery,
                        name="solution_delivered",
                        message="Only a case whose solution was delivered can close as resolved.",
                    ),
                    EvidenceIs(
                        field="remedy_accepted",
                        equals=True,
                        name="remedy_accepted",
                        message="The customer did not accept the remedy: close the case as unresolvable.",
                    ),
                ),
            ),
            Action(
                name="close_unresolvable",
                sources="evaluate",
                target="unresolvable",
                title="Evaluated: unresolvable",
                evidence=ev.ResponseEvaluation,
                guards=(
                    EvidenceIs(
                        field="remedy_accepted",
                        equals=False,
                        name="remedy_not_accepted",
                        message="The customer accepted the remedy: close the case as resolved.",
                    ),
                ),
            ),
        )
    ),
)

FIVE_STEPS_1_0_TO_1_1 = Migration(methodology_id="five-steps", from_version="1.0", to_version="1.1")
"""Moves five-steps cases from 1.0 to 1.1: the steps keep their ids, so nothing is mapped."""
