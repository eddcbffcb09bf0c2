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
import resolveflow.guards
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
    """What just happened: at the top of the case page, or in the form of the action it is about."""

    kind: str  # ok or error
    title: str
    text: str = ""
    action: str | None = None  # shown in this action's form (a refusal, invalid evidence)


@dataclass
class Reason:
    """A refusal in words: the guard's message and what is missing, named as the form names it."""

    code: str  # kept out of the text: the page shows it only as a data attribute
    message: str
    missing: list[str]


@dataclass
class ActionForm:
    """An enabled action, as a form."""

    view: resolveflow.ActionView
    target_title: str
    stays: bool
    fields: list[Field]
    form_errors: list[tuple[str, str]]
    reasons: list[Reason]
    key: str
    submitted: bool
    pending: list[str]


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


def span(delta: dt.timedelta) -> str:
    """A timedelta as :func:`duration` shows it."""
    return duration(delta.total_seconds())


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


@dataclass(frozen=True)
class Filters:
    """The case list's filters, from its query string; empty means "any"."""

    step: str = ""
    outcome: str = ""  # "", "open", "closed" or an outcome's id
    overdue: bool = False
    agent: str = ""

    @property
    def active(self) -> bool:
        return bool(self.step or self.outcome or self.overdue or self.agent)

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Filters:
        def value(name: str) -> str:
            text = query.get(name, "").strip()
            return text if len(text) <= 200 and text.isprintable() else ""

        return cls(
            step=value("step"),
            outcome=value("outcome"),
            overdue=query.get("overdue") == "1",
            agent=value("agent"),
        )


async def _acted_on_by(store: resolveflow.store.AsyncStore, case_id: str, agent: str) -> bool:
    """Whether ``agent`` recorded any entry of the case (its history read page by page)."""
    after = 0
    while True:
        page = await store.history(case_id, after_seq=after, limit=200)
        if any(entry.actor == agent for entry in page.entries):
            return True
        if page.next_after_seq is None:
            return False
        after = page.next_after_seq


async def filtered(store: resolveflow.store.AsyncStore, rows: list[Row], filters: Filters) -> list[Row]:
    """The rows the filters keep; the agent filter reads the histories of the rows left by the others."""
    kept = [
        row
        for row in rows
        if (not filters.step or row.summary.step == filters.step)
        and (
            not filters.outcome
            or (filters.outcome == "open" and row.summary.outcome is None)
            or (filters.outcome == "closed" and row.summary.outcome is not None)
            or row.summary.outcome == filters.outcome
        )
        and (not filters.overdue or row.overdue)
    ]
    if filters.agent:
        kept = [row for row in kept if await _acted_on_by(store, row.summary.case_id, filters.agent)]
    return kept


def filter_choices(rows: list[Row]) -> dict[str, list[tuple[str, str]]]:
    """The values each filter offers, from the cases there are: (value, label) pairs."""
    steps = sorted(
        {(r.summary.step, r.step_title) for r in rows if r.summary.outcome is None}, key=lambda p: p[1]
    )
    outcomes = sorted(
        {(r.summary.step, r.outcome_title or r.summary.step) for r in rows if r.summary.outcome}
    )
    return {
        "step": steps,
        "outcome": [("open", "Open"), ("closed", "Closed (any outcome)"), *outcomes],
    }


# --- promises and reports ---------------------------------------------------------------


@dataclass
class Day:
    label: str
    deadlines: list[resolveflow.store.Deadline]


async def promise_calendar(
    store: resolveflow.store.AsyncStore, clock: Clock, days: int
) -> tuple[list[resolveflow.store.Deadline], list[Day]]:
    """(the overdue promises, oldest first; the ones due in the next ``days`` days, by local day)."""
    now = clock.now()
    overdue = await store.overdue(now)
    soon = [d for d in await store.overdue(now + dt.timedelta(days=days)) if d.due > now]
    by_day: dict[dt.date, list[resolveflow.store.Deadline]] = {}
    for deadline in sorted(soon, key=lambda d: d.due):
        by_day.setdefault(deadline.due.astimezone(clock.zone).date(), []).append(deadline)
    today = now.astimezone(clock.zone).date()
    names = {today: "Today", today + dt.timedelta(days=1): "Tomorrow"}
    calendar = [Day(names.get(day, f"{day:%A %d %B}"), found) for day, found in by_day.items()]
    return sorted(overdue, key=lambda d: d.due), calendar


def chart(analytics: resolveflow.store.Analytics) -> Markup:
    """The report's time-in-step chart, inline (its labels are escaped by the store)."""
    svg = resolveflow.store.time_in_step_svg(analytics)
    return Markup(svg[svg.index("<svg") :])


# --- the case page ----------------------------------------------------------------------


# How far ahead "every open plan item" looks: a plan item always has a due time, and none is
# promised further out than this.
_FOREVER = dt.timedelta(days=365 * 100)


def open_plan_items(case: resolveflow.Case, now: dt.datetime) -> dict[str, str]:
    """The open items of the case's plan, id -> description (the promises not kept yet)."""
    return {
        item.ref: item.description for item in case.overdue(now=now + _FOREVER) if item.kind == "plan_item"
    }


def _words(name: str) -> str:
    return name.replace("_", " ")


def label_for(schema: Mapping[str, Any], path: str) -> str | None:
    """The form's label for an evidence path (``items[0].due`` -> "Items, row 1: Due"), or None."""
    parts: list[str] = []
    current: Mapping[str, Any] = unwrap(schema)[0]
    for piece in path.split("."):
        name, _, index = piece.partition("[")
        child = current.get("properties", {}).get(name)
        if not isinstance(child, Mapping):
            return None
        child = unwrap(child)[0]
        label = str(child.get("title") or _words(name).capitalize())
        if index:
            number = index.rstrip("]")
            if not number.isdigit():
                return None
            label = f"{label}, row {int(number) + 1}"
            child = unwrap(child.get("items", {}))[0]
        parts.append(label)
        current = child
    return ": ".join(parts)


def missing_in_words(
    missing: str,
    schema: Mapping[str, Any],
    methodology: resolveflow.Methodology,
    open_items: Mapping[str, str],
) -> str:
    """One ``Refusal.missing`` entry as an agent reads it.

    ``customer_finished=True`` -> "“The customer has finished” ticked", ``items[0].due``
    -> "Items, row 1: Due", ``plan_item:leg`` -> "plan item “leg” (Courier a replacement leg)",
    ``step:agree`` -> "the step “Agree a plan”"; anything else with its underscores as spaces.
    """
    path, equals, value = missing.partition("=")
    label = label_for(schema, path)
    if label is not None:
        if not equals:
            return f"“{label}”"
        wanted = {"True": "ticked", "true": "ticked", "False": "not ticked", "false": "not ticked"}
        return f"“{label}” {wanted.get(value, 'set to ' + value)}"
    kind, colon, ref = missing.partition(":")
    if colon and kind == "step":
        return f"the step “{step_title(methodology, ref)}”"
    if colon and ref:
        described = open_items.get(ref) if kind == "plan_item" else None
        return f"{_words(kind)} “{ref}”" + (f" ({described})" if described else "")
    if missing == "<evidence>":
        return "the form's answers"
    return _words(missing)


def reasons_in_words(
    refusals: Iterable[resolveflow.Refusal],
    schema: Mapping[str, Any],
    methodology: resolveflow.Methodology,
    open_items: Mapping[str, str],
) -> list[Reason]:
    return [
        Reason(
            code=r.code,
            message=r.message,
            missing=[missing_in_words(m, schema, methodology, open_items) for m in r.missing],
        )
        for r in refusals
    ]


def _flag(fields: list[Field], paths: set[str]) -> None:
    """Mark the inputs a refusal names (red, aria-invalid), without repeating its message."""
    for item in fields:
        item.flagged = item.name in paths
        _flag(item.children, paths)
        for row in item.rows:
            _flag(row, paths)


def _item_field(case: resolveflow.Case, action: str, schema: Mapping[str, Any]) -> str | None:
    """The input that names a plan item, for an action guarded by ``PlanItemOpen``: its one required
    text field (the record, not the schema, says which field it keeps its promise by)."""
    spec = case.methodology.action(action)
    if spec is None or not any(isinstance(g, resolveflow.guards.PlanItemOpen) for g in spec.guards):
        return None
    props = schema.get("properties", {})
    texts = [k for k in schema.get("required", ()) if unwrap(props.get(k, {}))[0].get("type") == "string"]
    return texts[0] if len(texts) == 1 else None


def action_form(
    case: resolveflow.Case,
    view: resolveflow.ActionView,
    submission: Submission | None,
    open_items: Mapping[str, str],
) -> ActionForm:
    mine = submission if submission is not None and submission.action == view.name else None
    schema = view.evidence_schema
    refusals = mine.refusals if mine else ()
    fields = (
        build_fields(
            schema,
            mine.values if mine else None,
            mine.errors if mine else {},
            extra_rows=mine.extra_rows if mine else (),
        )
        if has_fields(schema)
        else []
    )
    _flag(fields, {m.split("=", 1)[0] for r in refusals for m in r.missing})
    item_field = _item_field(case, view.name, schema)
    for item in fields:
        if item.name == item_field:
            # A plan item is chosen from the open ones, not typed: the case knows them.
            item.kind = "select"
            item.options = tuple(open_items)
            item.option_labels = {ref: f"{description} ({ref})" for ref, description in open_items.items()}
            item.help = "The items of the agreed plan that are not done yet." if open_items else None
    placed = unplaced_errors(fields, mine.errors if mine else {})
    return ActionForm(
        view=view,
        target_title=step_title(case.methodology, view.target),
        stays=view.target == case.step,
        fields=fields,
        form_errors=[(label_for(schema, path) or "The answers", message) for path, message in placed],
        reasons=reasons_in_words(refusals, schema, case.methodology, open_items),
        key=mine.key if mine else new_key(),
        submitted=mine is not None,
        pending=[_words(name) for name in view.pending],
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
    open_items = open_plan_items(case, clock.now())
    enabled = [action_form(case, a, submission, open_items) for a in view.actions if a.enabled]
    refused = [a for a in view.actions if not a.enabled]
    svg, mermaid = diagram(case)
    return {
        "case": case,
        "view": view,
        "expected_seq": len(case.history),
        "forms": enabled,
        "refused": refused,
        "refused_titles": {a.name: step_title(case.methodology, a.target) for a in refused},
        "refused_reasons": {
            a.name: reasons_in_words(a.refusals, a.evidence_schema, case.methodology, open_items)
            for a in refused
        },
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
