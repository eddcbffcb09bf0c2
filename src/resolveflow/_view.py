"""The UI contract: everything a CRM screen needs about a case, in one JSON-ready value.

``case.view()`` gathers the current step's title and guidance, progress along
the required steps, every action leaving the step (enabled or refused with
reasons, with the JSON Schema of its form), overdue promises, time spent per
step and the history, optionally translated. A UI renders it without knowing
the methodology.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs

from resolveflow._i18n import Translate, translate_schema
from resolveflow._ledger import Ledger
from resolveflow._methodology import Step
from resolveflow._refusal import Refusal


@attrs.frozen(kw_only=True)
class ActionView:
    """One action leaving the current step, as a UI would show it.

    Attributes:
        name: the action's name (what to send back to ``fire``).
        title: a button or form label.
        target: where it leads.
        enabled: True when nothing refuses it now (evidence guards pending).
        refusals: why it is disabled.
        pending: evidence guards that will be checked on submission.
        evidence_schema: the JSON Schema of the form to fill in.
        description: longer help, if any.
    """

    name: str
    title: str
    target: str
    enabled: bool
    refusals: tuple[Refusal, ...]
    pending: tuple[str, ...]
    evidence_schema: dict[str, Any] = attrs.field(eq=False, repr=False)
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible data for an API response."""
        return {
            "name": self.name,
            "title": self.title,
            "target": self.target,
            "enabled": self.enabled,
            "refusals": [r.to_json() for r in self.refusals],
            "pending": list(self.pending),
            "evidence_schema": self.evidence_schema,
            "description": self.description,
        }


@attrs.frozen(kw_only=True)
class OverdueItem:
    """Something promised to the customer whose due time has passed.

    Attributes:
        kind: ``"plan_item"``, ``"follow_up"``, ``"step_deadline"`` (a time limit the
            methodology sets on an action leaving the current step) or a record's own kind.
        ref: the plan item's id, the action that scheduled the follow-up, or
            ``"<action>:<guard name>"`` for a step deadline.
        description: what was promised.
        due: when it was due.
    """

    kind: str
    ref: str
    description: str
    due: _dt.datetime


@attrs.frozen(kw_only=True)
class Progress:
    """Where the case stands on the way to a successful outcome.

    Attributes:
        position: the current step's place among the required steps (1-based;
            equals ``total`` once the case succeeded).
        total: how many required steps there are.
        done: the required steps already passed, in order.
        remaining: the required steps still ahead.
    """

    position: int
    total: int
    done: tuple[str, ...]
    remaining: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible data."""
        return {
            "position": self.position,
            "total": self.total,
            "done": list(self.done),
            "remaining": list(self.remaining),
        }


@attrs.frozen(kw_only=True)
class CaseView:
    """A case as a UI shows it; see :meth:`resolveflow.Case.view`.

    Attributes:
        case_id: the case.
        methodology: ``{"id", "version", "title"}``.
        step: ``{"id", "title", "prompts", "checklist"}`` of the current step,
            or of the outcome (``prompts`` then holds its guidance).
        outcome: ``{"id", "title", "successful"}`` once closed, else None.
        progress: where the case stands.
        actions: every action leaving the current step.
        overdue: promises past due.
        durations: seconds spent in each step so far (the current one up to now).
        history: the entries, as JSON.
        at: the time the view was computed for.
    """

    case_id: str
    methodology: dict[str, str]
    step: dict[str, Any]
    outcome: dict[str, Any] | None
    progress: Progress
    actions: tuple[ActionView, ...]
    overdue: tuple[OverdueItem, ...]
    durations: dict[str, float]
    history: tuple[dict[str, Any], ...]
    at: _dt.datetime

    def to_json(self) -> dict[str, Any]:
        """The view as JSON-compatible data (what an API endpoint returns)."""
        return {
            "case_id": self.case_id,
            "methodology": dict(self.methodology),
            "step": self.step,
            "outcome": self.outcome,
            "progress": self.progress.to_json(),
            "actions": [a.to_json() for a in self.actions],
            "overdue": [
                {"kind": o.kind, "ref": o.ref, "description": o.description, "due": o.due.isoformat()}
                for o in self.overdue
            ],
            "durations": dict(self.durations),
            "history": list(self.history),
            "at": self.at.isoformat(),
        }


def progress_of(ledger: Ledger) -> Progress:
    """Where the case stands among its methodology's required steps."""
    required = ledger.methodology.required_steps
    # In the current version's step ids, also for steps visited before a migration.
    path = tuple(ledger.path())
    outcome = ledger.methodology.outcome(ledger.step)
    # Steps behind the current one, matched in the required order.
    behind = path if outcome is not None else path[:-1]
    done: list[str] = []
    for step in behind:
        if len(done) < len(required) and required[len(done)] == step:
            done.append(step)
    if outcome is not None:
        # Closed: successful cases went all the way; the others stopped after what they passed.
        position = len(required) if outcome.successful else len(done)
    else:
        position = min(len(done) + 1, len(required))
    return Progress(
        position=position,
        total=len(required),
        done=tuple(done),
        remaining=tuple(required[len(done) :]),
    )


def durations_of(ledger: Ledger, now: _dt.datetime, opened_at: _dt.datetime | None) -> dict[str, float]:
    """Seconds per step; the first step counts from ``opened_at`` when known, else from the first entry."""
    totals: dict[str, float] = {}
    history = ledger.entries
    entered = opened_at if opened_at is not None else (history[0].at if history else None)
    current = history[0].from_step if history else ledger.step
    for entry in history:
        if entry.step == entry.from_step:
            continue
        if entered is not None:
            totals[current] = totals.get(current, 0.0) + max((entry.at - entered).total_seconds(), 0.0)
        current, entered = entry.step, entry.at
    if ledger.methodology.outcome(ledger.step) is None and entered is not None:
        totals[current] = totals.get(current, 0.0) + max((now - entered).total_seconds(), 0.0)
    return totals


def _translate_refusal(refusal: Refusal, translate: Translate) -> Refusal:
    message = translate(refusal.message)
    if message == refusal.message:
        keyed = translate(f"refusal:{refusal.code}")
        if keyed != f"refusal:{refusal.code}":
            message = keyed
    return attrs.evolve(refusal, message=message)


def _translate_action(view: ActionView, translate: Translate) -> ActionView:
    return attrs.evolve(
        view,
        title=translate(view.title),
        description=translate(view.description) if view.description else None,
        refusals=tuple(_translate_refusal(r, translate) for r in view.refusals),
        evidence_schema=translate_schema(view.evidence_schema, translate),
    )


def build_view(
    ledger: Ledger,
    *,
    actions: tuple[ActionView, ...],
    overdue: tuple[OverdueItem, ...],
    at: _dt.datetime,
    translate: Translate | None,
    opened_at: _dt.datetime | None,
) -> CaseView:
    """The view of a case (``Case.view`` decides the actions and the overdue promises)."""
    t: Translate = translate or (lambda message: message)
    m = ledger.methodology
    node = m.node(ledger.step)
    if isinstance(node, Step):
        step = {
            "id": node.id,
            "title": t(node.title),
            "prompts": [t(p) for p in node.prompts],
            "checklist": [t(c) for c in node.checklist],
        }
    else:
        step = {
            "id": node.id,
            "title": t(node.title),
            "prompts": [t(g) for g in node.guidance],
            "checklist": [],
        }
    outcome = m.outcome(ledger.step)
    return CaseView(
        case_id=ledger.case_id,
        methodology={"id": m.id, "version": m.version, "title": t(m.title)},
        step=step,
        outcome=None
        if outcome is None
        else {"id": outcome.id, "title": t(outcome.title), "successful": outcome.successful},
        progress=progress_of(ledger),
        actions=tuple(_translate_action(v, t) for v in actions),
        overdue=overdue,
        durations=durations_of(ledger, at, opened_at),
        history=tuple(e.to_json() for e in ledger.entries),
        at=at,
    )
