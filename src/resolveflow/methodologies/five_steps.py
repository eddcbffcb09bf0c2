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
"""

from __future__ import annotations

from resolveflow import evidence as ev
from resolveflow._guards import Requires
from resolveflow._methodology import Action, Methodology, Outcome, Step

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
