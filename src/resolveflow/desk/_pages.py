"""What each page shows, computed from resolveflow's public API; the templates only lay it out."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

import resolveflow
import resolveflow.store

from ._forms import Field, build_fields, has_fields, unplaced_errors, unwrap


@dataclass
class Submission:
    """A form that came back: what was typed, and what the library said about it."""

    action: str
    values: Mapping[str, str]
    key: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    refusals: tuple[resolveflow.Refusal, ...] = ()
    extra_rows: tuple[str, ...] = ()


@dataclass
class Notice:
    """The banner at the top of a case page: what just happened."""

    kind: str  # ok or error
    title: str
    text: str = ""
    refusals: tuple[resolveflow.Refusal, ...] = ()


@dataclass
class ActionForm:
    """An enabled action, as a form."""

    view: resolveflow.ActionView
    target_title: str
    stays: bool
    fields: list[Field]
    form_errors: list[tuple[str, str]]
    refusals: tuple[resolveflow.Refusal, ...]
    key: str
    submitted: bool


@dataclass
class Shown:
    """Recorded evidence made readable: text, a list, or labelled pairs (nested as the evidence is)."""

    kind: str
    text: str = ""
    items: list[Shown] = field(default_factory=list)
    pairs: list[tuple[str, Shown]] = field(default_factory=list)


class Clock:
    """Time as the desk sees it: the store's clock, shown in the desk's zone."""

    def __init__(self, zone: ZoneInfo, now: resolveflow.Clock) -> None:
        self.zone = zone
        self.now = now

    def show(self, moment: dt.datetime) -> str:
        local = moment.astimezone(self.zone)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"

    def relative(self, moment: dt.datetime) -> str:
        delta = moment - self.now()
        text = duration(abs(delta.total_seconds()))
        return f"in {text}" if delta.total_seconds() > 0 else f"{text} ago"


def duration(seconds: float) -> str:
    """A short human duration: under a minute, 45 min, 3 h 10 min, 2 d 4 h."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def new_key() -> str:
    """An idempotency key for one rendered form: a double submit records once."""
    return secrets.token_urlsafe(12)


def _methodology(methodology_id: str, version: str) -> resolveflow.Methodology | None:
    try:
        return resolveflow.get_methodology(methodology_id, version)
    except resolveflow.UnknownMethodology:
        return None


def step_title(methodology: resolveflow.Methodology | None, step: str) -> str:
    if methodology is None:
        return step
    try:
        return methodology.node(step).title
    except (KeyError, resolveflow.ResolveflowError):
        return step


# --- the case list ----------------------------------------------------------------------


@dataclass
class Row:
    summary: resolveflow.store.CaseSummary
    methodology_title: str
    step_title: str
    outcome_title: str | None
    successful: bool
    overdue: list[resolveflow.store.Deadline]


async def all_cases(store: resolveflow.store.AsyncStore) -> list[resolveflow.store.CaseSummary]:
    """Every stored case: the store lists by step or outcome, so ask for open ones and each outcome."""
    found = {s.case_id: s for s in await store.cases_by_outcome(None)}
    outcomes = {o.id for mid in resolveflow.available() for o in resolveflow.get_methodology(mid).outcomes}
    for outcome in sorted(outcomes):
        found.update((s.case_id, s) for s in await store.cases_by_outcome(outcome))
    return list(found.values())


async def case_rows(
    store: resolveflow.store.AsyncStore, now: dt.datetime
) -> tuple[list[Row], list[Row], list[resolveflow.store.Deadline]]:
    """(open, closed) rows, most recently changed first, and the overdue promises that flag them."""
    deadlines = await store.overdue(now)
    late: dict[str, list[resolveflow.store.Deadline]] = {}
    for deadline in deadlines:
        late.setdefault(deadline.case_id, []).append(deadline)
    rows = []
    for summary in await all_cases(store):
        methodology = _methodology(summary.methodology_id, summary.methodology_version)
        outcome = methodology.outcome(summary.step) if methodology else None
        rows.append(
            Row(
                summary=summary,
                methodology_title=methodology.title if methodology else summary.methodology_id,
                step_title=step_title(methodology, summary.step),
                outcome_title=outcome.title if outcome else summary.outcome,
                successful=bool(outcome and outcome.successful),
                overdue=late.get(summary.case_id, []),
            )
        )
    rows.sort(key=lambda r: r.summary.updated_at, reverse=True)
    open_rows = [r for r in rows if r.summary.outcome is None]
    return open_rows, [r for r in rows if r.summary.outcome is not None], deadlines


# --- the case page ----------------------------------------------------------------------


def _field_errors_from_refusals(refusals: Iterable[resolveflow.Refusal]) -> dict[str, list[str]]:
    """Refusals whose ``missing`` names a field (``items[0].due``, ``customer_finished=True``) mark it."""
    marked: dict[str, list[str]] = {}
    for refusal in refusals:
        for missing in refusal.missing:
            marked.setdefault(missing.split("=", 1)[0], []).append(refusal.message)
    return marked


def action_form(
    case: resolveflow.Case, view: resolveflow.ActionView, submission: Submission | None
) -> ActionForm:
    mine = submission if submission is not None and submission.action == view.name else None
    schema = view.evidence_schema
    errors = dict(mine.errors) if mine else {}
    refusals = mine.refusals if mine else ()
    for path, messages in _field_errors_from_refusals(refusals).items():
        errors.setdefault(path, []).extend(messages)
    fields = (
        build_fields(
            schema, mine.values if mine else None, errors, extra_rows=mine.extra_rows if mine else ()
        )
        if has_fields(schema)
        else []
    )
    placed = unplaced_errors(fields, mine.errors if mine else {})
    return ActionForm(
        view=view,
        target_title=step_title(case.methodology, view.target),
        stays=view.target == case.step,
        fields=fields,
        form_errors=placed,
        refusals=refusals,
        key=mine.key if mine else new_key(),
        submitted=mine is not None,
    )


def _show(value: Any, schema: Mapping[str, Any] | None, clock: Clock) -> Shown:
    schema, _ = unwrap(schema or {})
    if isinstance(value, Mapping):
        props = schema.get("properties", {})
        pairs = []
        for key, item in value.items():
            if item is None:
                continue
            sub = props.get(key, {})
            label = str(unwrap(sub)[0].get("title") or key.replace("_", " ").capitalize())
            pairs.append((label, _show(item, sub, clock)))
        return Shown(kind="pairs", pairs=pairs)
    if isinstance(value, list):
        return Shown(kind="list", items=[_show(v, schema.get("items"), clock) for v in value])
    if isinstance(value, bool):
        return Shown(kind="text", text="yes" if value else "no")
    if isinstance(value, str) and schema.get("format") == "date-time":
        try:
            return Shown(kind="text", text=clock.show(dt.datetime.fromisoformat(value)))
        except ValueError:
            pass
    return Shown(kind="text", text=str(value))


@dataclass
class Entry:
    seq: int
    action_title: str
    from_title: str
    to_title: str
    moved: bool
    actor: str
    at: str
    evidence: Shown | None


def history(case: resolveflow.Case, clock: Clock) -> list[Entry]:
    """The timeline, newest first, with the evidence labelled by its schema's titles."""
    m = case.methodology
    entries = []
    for entry in case.history:
        action = m.action(entry.action)
        schema = action.evidence_schema() if action is not None else None
        entries.append(
            Entry(
                seq=entry.seq,
                action_title=action.title if action is not None else entry.action,
                from_title=step_title(m, entry.from_step),
                to_title=step_title(m, entry.step),
                moved=entry.step != entry.from_step,
                actor=entry.actor,
                at=clock.show(entry.at),
                evidence=_show(entry.evidence_json, schema, clock) if entry.evidence_json else None,
            )
        )
    return entries[::-1]


@dataclass
class ProgressStep:
    id: str
    title: str
    state: str  # done, current or todo


def progress(case: resolveflow.Case, view: resolveflow.CaseView) -> list[ProgressStep]:
    """The required steps, each done, current or still to do."""
    done = set(view.progress.done)
    return [
        ProgressStep(
            id=step,
            title=step_title(case.methodology, step),
            state="done" if step in done else ("current" if step == case.step else "todo"),
        )
        for step in case.methodology.required_steps
    ]


def diagram(case: resolveflow.Case) -> tuple[Markup | None, str | None]:
    """(inline SVG, None) when Graphviz is installed, else (None, Mermaid text) to show as source."""
    try:
        svg = resolveflow.diagrams.to_svg(case.methodology, case=case)
    except resolveflow.exceptions.DiagramUnavailable:
        return None, resolveflow.diagrams.to_mermaid(case.methodology, case=case)
    # Inline, without the XML prolog, so the SVG keeps its tooltips and scales with the page.
    # Graphviz escapes every label, so the markup is safe to embed as it is.
    return Markup(svg[svg.index("<svg") :]), None


def case_page(
    case: resolveflow.Case,
    opened_at: dt.datetime,
    clock: Clock,
    submission: Submission | None = None,
    *,
    actor: resolveflow.Actor | None = None,
) -> dict[str, Any]:
    """Everything the case template shows, for the agent looking (their roles decide what is enabled).

    ``opened_at`` is when the store opened the case (its summary's ``created_at``).
    """
    view = case.view(opened_at=opened_at, actor=actor)
    enabled = [action_form(case, a, submission) for a in view.actions if a.enabled]
    refused = [a for a in view.actions if not a.enabled]
    svg, mermaid = diagram(case)
    return {
        "case": case,
        "view": view,
        "expected_seq": len(case.history),
        "forms": enabled,
        "refused": refused,
        "refused_titles": {a.name: step_title(case.methodology, a.target) for a in refused},
        "progress": progress(case, view),
        # A loop off the required path (waiting to talk again, say) is not "step k of n".
        "side_step": not case.closed and case.step not in case.methodology.required_steps,
        "overdue": view.overdue,
        "history": history(case, clock),
        "in_step": duration(view.durations.get(case.step, 0.0)) if not case.closed else None,
        "opened": clock.show(opened_at),
        "svg": svg,
        "mermaid": mermaid,
        "submission": submission,
    }
