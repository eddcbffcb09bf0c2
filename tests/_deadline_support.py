"""A methodology whose missed plan items escalate, for the deadline worker's tests.

In a module of its own, light to import: the kill tests load it in the worker
processes they start (tests/test_events_done_when.py).
"""

from __future__ import annotations

import datetime as dt

import resolveflow
from resolveflow import evidence as ev
from resolveflow._escalation import Escalation
from resolveflow.guards import HasRole


def escalating(
    *, escalation_role: str = "supervisor", grace: dt.timedelta = dt.timedelta(hours=2)
) -> resolveflow.Methodology:
    """One step with a plan, item completions, an escalation only a supervisor may take, and a close."""
    return resolveflow.Methodology(
        id="escalating",
        version="1.0",
        title="Escalating",
        source="A methodology made up for a test.",
        initial="open",
        required_steps=("open",),
        roles=("supervisor", "agent"),
        steps=(resolveflow.Step(id="open", title="Open"),),
        outcomes=(resolveflow.Outcome(id="done", title="Done", successful=True),),
        actions=(
            resolveflow.Action(
                name="agree_plan", title="Plan", sources="open", target="open", evidence=ev.Plan
            ),
            resolveflow.Action(
                name="complete_item", title="Done", sources="open", target="open", evidence=ev.ItemCompletion
            ),
            resolveflow.Action(
                name="escalate",
                title="Escalate",
                sources="open",
                target="open",
                guards=(HasRole(role="supervisor"),),
            ),
            resolveflow.Action(name="close", title="Close", sources="open", target="done"),
        ),
        escalations=(Escalation(kind="plan_item", action="escalate", role=escalation_role, grace=grace),),
    )
