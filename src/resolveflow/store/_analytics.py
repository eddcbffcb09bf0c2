"""How stored cases were handled: figures computed from the history rows.

The methodologies ask owners to look back at each case: how long each step took,
how cases ended, which rules agents ran into, what had to be reopened or
rescheduled, and which promises are late. Everything here reads the stored
rows in one pass (the rows were verified when they were written; a full
re-verification of every case is :meth:`Store.load`'s job, not a report's).
"""

from __future__ import annotations

import collections
import datetime as _dt
import math
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import attrs
import sqlalchemy as sa

from resolveflow._clock import check_time
from resolveflow._methodology import Methodology
from resolveflow._shown import shown
from resolveflow.evidence import Reschedule
from resolveflow.exceptions import InvalidInput, TamperedHistory, UnknownMethodology
from resolveflow.store import _engine, _rows, _unreadable
from resolveflow.store._args import text_arg
from resolveflow.store._tables import NO_TENANT, cases, deadlines, entries, refusals


@runtime_checkable
class Store(Protocol):
    """What analytics reads of a :class:`~resolveflow.store.Store` (a protocol, so imports point one way)."""

    @property
    def engine(self) -> sa.Engine: ...

    @property
    def record_refusals(self) -> bool: ...

    @property
    def tenant(self) -> str | None: ...

    def _now(self) -> _dt.datetime: ...

    def _methodology(self, methodology_id: str, version: str) -> Methodology: ...


_STREAM = 5000


@attrs.frozen(kw_only=True)
class StepTime:
    """How long cases stayed at one step of one methodology (completed stays only).

    Attributes:
        methodology_id: the methodology.
        step: the step.
        count: how many stays ended (a case that came back counts twice).
        median: the median stay.
        p90: nine stays in ten were at most this long.
    """

    methodology_id: str
    step: str
    count: int
    median: _dt.timedelta
    p90: _dt.timedelta


@attrs.frozen(kw_only=True)
class OutcomeCount:
    """How many cases of a methodology ended at an outcome (``outcome=None``: still open)."""

    methodology_id: str
    outcome: str | None
    count: int


@attrs.frozen(kw_only=True)
class ResolutionTime:
    """From opening to an outcome, for the cases of a methodology that reached it."""

    methodology_id: str
    outcome: str
    count: int
    median: _dt.timedelta
    p90: _dt.timedelta


@attrs.frozen(kw_only=True)
class Revisits:
    """Cases that went back to a step they had left (reopened) or were put off to a later time.

    Attributes:
        methodology_id: the methodology.
        cases: cases with at least one entry.
        reopened: cases that returned to a step they had already left
            (a plan revised after the customer was not satisfied, say).
        rescheduled: cases with a follow-up scheduled for later.
    """

    methodology_id: str
    cases: int
    reopened: int
    rescheduled: int


@attrs.frozen(kw_only=True)
class RefusalCount:
    """How often agents hit one refusal code (needs ``record_refusals=True``).

    Attributes:
        methodology_id: the methodology.
        code: the refusal code, e.g. ``"plan_recorded"``.
        count: how many refused calls carried it.
        actions: the actions it refused, most frequent first.
    """

    methodology_id: str
    code: str
    count: int
    actions: tuple[str, ...]


@attrs.frozen(kw_only=True)
class OverdueCount:
    """Promises past due on the open cases of a methodology, by kind."""

    methodology_id: str
    kind: str
    count: int
    oldest_due: _dt.datetime


@attrs.frozen(kw_only=True)
class Analytics:
    """Every figure of the report, as data.

    Attributes:
        now: the time overdue items were judged by.
        cases: stored cases counted.
        entries: history entries read.
        outcomes: cases per methodology and outcome.
        time_in_step: median and p90 stay per methodology and step, in step order.
        resolution: median and p90 time to each outcome.
        revisits: reopened and rescheduled cases per methodology.
        refusals: the most frequent refusal codes, most frequent first.
        overdue: overdue promises per methodology and kind.
        refusals_recorded: False when the store does not record refusals.
    """

    now: _dt.datetime
    cases: int
    entries: int
    outcomes: tuple[OutcomeCount, ...]
    time_in_step: tuple[StepTime, ...]
    resolution: tuple[ResolutionTime, ...]
    revisits: tuple[Revisits, ...]
    refusals: tuple[RefusalCount, ...]
    overdue: tuple[OverdueCount, ...]
    refusals_recorded: bool


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        raise ValueError("no values")
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _spread(values: list[float]) -> tuple[_dt.timedelta, _dt.timedelta]:
    values.sort()
    return (
        _dt.timedelta(seconds=quantile(values, 0.5)),
        _dt.timedelta(seconds=quantile(values, 0.9)),
    )


class _Walker:
    """Folds the entry rows of each case, in order, into the running figures."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.stays: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
        self.to_outcome: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
        self.seen: collections.Counter[str] = collections.Counter()
        self.reopened: collections.Counter[str] = collections.Counter()
        self.rescheduled: collections.Counter[str] = collections.Counter()
        self.entries = 0
        self._reschedule_actions: dict[tuple[str, str], frozenset[str]] = {}

    def _reschedules(self, methodology_id: str, version: str) -> frozenset[str]:
        key = (methodology_id, version)
        found = self._reschedule_actions.get(key)
        if found is None:
            try:
                methodology = self._store._methodology(methodology_id, version)
            except UnknownMethodology:
                found = frozenset({"reschedule"})
            else:
                found = frozenset(a.name for a in methodology.actions if a.evidence is Reschedule)
            self._reschedule_actions[key] = found
        return found

    def case(self, rows: list[Any]) -> None:
        first = rows[0]
        methodology_id = first.methodology_id
        reschedules = self._reschedules(methodology_id, first.methodology_version)
        self.seen[methodology_id] += 1
        entered = first.created_at
        left: set[str] = set()
        reopened = rescheduled = False
        for row in rows:
            self.entries += 1
            rescheduled = rescheduled or row.action in reschedules
            if row.step == row.from_step:
                continue
            self.stays[(methodology_id, row.from_step)].append((row.at - entered).total_seconds())
            left.add(row.from_step)
            reopened = reopened or row.step in left
            entered = row.at
        if first.outcome is not None:
            last = rows[-1]
            self.to_outcome[(methodology_id, first.outcome)].append(
                (last.at - first.created_at).total_seconds()
            )
        self.reopened[methodology_id] += reopened
        self.rescheduled[methodology_id] += rescheduled


def _step_order(store: Store, methodology_id: str, version: str) -> list[str]:
    try:
        methodology = store._methodology(methodology_id, version)
    except UnknownMethodology:
        return []
    return [step.id for step in methodology.steps]


def _case_groups(rows: Iterable[Any]) -> Iterable[list[Any]]:
    group: list[Any] = []
    for row in rows:
        if group and row.case_id != group[0].case_id:
            yield group
            group = []
        group.append(row)
    if group:
        yield group


_Rows = list[Any]


def _read(
    conn: sa.Connection, only: Any, walker: _Walker, when: _dt.datetime
) -> tuple[_Rows, _Rows, _Rows, _Rows]:
    """Every row the figures need, in one transaction; the history streamed through the walker."""
    counted = only(sa.select(cases.c.methodology_id, cases.c.outcome, sa.func.count().label("n")))
    outcome_rows = list(conn.execute(counted.group_by(cases.c.methodology_id, cases.c.outcome)))
    # Sorted here: SQLite puts NULL (open) first, PostgreSQL last.
    outcome_rows.sort(key=lambda r: (r.methodology_id, r.outcome is not None, r.outcome or ""))
    versions = conn.execute(
        only(sa.select(cases.c.methodology_id, sa.func.max(cases.c.methodology_version))).group_by(
            cases.c.methodology_id
        )
    ).all()
    query = only(
        sa.select(
            entries.c.case_id,
            entries.c.action,
            entries.c.from_step,
            entries.c.step,
            entries.c.at,
            cases.c.methodology_id,
            cases.c.methodology_version,
            cases.c.outcome,
            cases.c.created_at,
        ).join(cases, _rows.same_case(cases, entries))
    ).order_by(entries.c.case_id, entries.c.seq)
    with conn.execution_options(stream_results=True, yield_per=_STREAM).execute(query) as history:
        for group in _case_groups(history):
            walker.case(group)
    refusal_rows = conn.execute(
        only(
            sa.select(refusals.c.case_id, cases.c.methodology_id, refusals.c.action, refusals.c.codes).join(
                cases, _rows.same_case(cases, refusals)
            )
        )
    ).all()
    overdue_rows = conn.execute(
        only(
            sa.select(
                cases.c.methodology_id,
                deadlines.c.kind,
                sa.func.count().label("n"),
                sa.func.min(deadlines.c.due).label("oldest"),
            )
            .join(cases, _rows.same_case(cases, deadlines))
            .where(deadlines.c.due < when)
        )
        .group_by(cases.c.methodology_id, deadlines.c.kind)
        .order_by(cases.c.methodology_id, deadlines.c.kind)
    ).all()
    return outcome_rows, list(versions), list(refusal_rows), list(overdue_rows)


def _first_unreadable(conn: sa.Connection, only: Any) -> TamperedHistory | None:
    """The first row that does not decode, table by table, as its case's TamperedHistory."""
    sources: list[tuple[sa.Select[Any], sa.Column[Any], str]] = [
        (only(sa.select(cases)).order_by(cases.c.case_id), cases.c.case_id, "rows"),
        (
            only(sa.select(entries).join(cases, _rows.same_case(cases, entries))).order_by(
                entries.c.case_id, entries.c.seq
            ),
            entries.c.case_id,
            "entry rows",
        ),
        (
            only(sa.select(refusals).join(cases, _rows.same_case(cases, refusals))).order_by(refusals.c.id),
            refusals.c.case_id,
            "refusal rows",
        ),
        (
            only(sa.select(deadlines).join(cases, _rows.same_case(cases, deadlines))).order_by(
                deadlines.c.case_id, deadlines.c.kind, deadlines.c.ref
            ),
            deadlines.c.case_id,
            "deadline rows",
        ),
    ]
    for query, case_column, rows in sources:
        found = _unreadable.unreadable_row(conn, query, case_column, rows)
        if found is not None:
            return found
    return None


def _check_codes(conn: sa.Connection, tenant: str, refusal_rows: _Rows) -> None:
    """Each refusal row's codes are a list of codes (an edited one could be any JSON)."""
    for case_id, _, _, codes in refusal_rows:
        if not (isinstance(codes, list) and all(isinstance(code, str) for code in codes)):
            raise TamperedHistory(
                f"one of its refusal rows holds {shown(codes)} as its codes, not a list of codes",
                case_id=case_id,
                entry=_unreadable.stored_last_seq(conn, tenant, case_id),
            )


def analyze(store: Store, *, now: _dt.datetime | None = None, methodology_id: str | None = None) -> Analytics:
    """Compute how the stored cases were handled.

    Args:
        store: the store to read.
        now: the time to judge overdue promises by (default: the store's clock).
        methodology_id: only this methodology's cases.

    Returns:
        An :class:`Analytics` record (``report`` prints it).

    Raises:
        InvalidInput: not a store; a naive time; a methodology id that is
            blank, longer than 200 characters or holds NUL or a lone surrogate.
        TamperedHistory: a row does not decode (an edited time or JSON
            column), naming its case (and entry, for an entry row).
        StoreUnavailable: the database cannot be used.

    Example:
        >>> import os, tempfile, resolveflow.store
        >>> tmp = tempfile.TemporaryDirectory()
        >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
        >>> store.create_schema()
        >>> _ = store.open_case("engage", case_id="C-1")
        >>> [(o.methodology_id, o.outcome, o.count) for o in resolveflow.store.analyze(store).outcomes]
        [('engage', None, 1)]
        >>> store.close(); tmp.cleanup()
    """
    if not isinstance(store, Store):
        raise InvalidInput(f"expected a resolveflow.store.Store, got {shown(store)}", argument="store")
    when = store._now() if now is None else check_time(now, "now")
    if methodology_id is not None:
        methodology_id = text_arg(methodology_id, "methodology_id")

    tenant = store.tenant or NO_TENANT

    def only(query: sa.Select[Any]) -> sa.Select[Any]:
        # Every query reads the cases table: its tenant is the store's.
        query = query.where(cases.c.tenant == tenant)
        return query if methodology_id is None else query.where(cases.c.methodology_id == methodology_id)

    walker = _Walker(store)
    with _engine.read(store.engine, "analyze") as conn:
        try:
            outcome_rows, versions, refusal_rows, overdue_rows = _read(conn, only, walker, when)
        except Exception as error:
            if not _unreadable.unreadable(error):
                raise
            found = _first_unreadable(conn, only)
            if found is None:  # the failure did not happen again: nothing to name
                raise
            raise found from error
        _check_codes(conn, tenant, refusal_rows)

    order = {mid: _step_order(store, mid, version) for mid, version in versions}

    def step_rank(key: tuple[str, str]) -> tuple[str, int, str]:
        steps = order.get(key[0], [])
        return (key[0], steps.index(key[1]) if key[1] in steps else len(steps), key[1])

    time_in_step = []
    for key in sorted(walker.stays, key=step_rank):
        median, p90 = _spread(walker.stays[key])
        time_in_step.append(
            StepTime(methodology_id=key[0], step=key[1], count=len(walker.stays[key]), median=median, p90=p90)
        )
    resolution = []
    for (mid, outcome), values in sorted(walker.to_outcome.items()):
        median, p90 = _spread(values)
        resolution.append(
            ResolutionTime(methodology_id=mid, outcome=outcome, count=len(values), median=median, p90=p90)
        )
    codes: collections.Counter[tuple[str, str]] = collections.Counter()
    actions: dict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for _, mid, action, refused_codes in refusal_rows:
        for code in refused_codes:
            codes[(mid, code)] += 1
            actions[(mid, code)][action] += 1
    top = sorted(codes.items(), key=lambda item: (-item[1], item[0]))
    return Analytics(
        now=when,
        cases=sum(row.n for row in outcome_rows),
        entries=walker.entries,
        outcomes=tuple(OutcomeCount(methodology_id=m, outcome=o, count=n) for m, o, n in outcome_rows),
        time_in_step=tuple(time_in_step),
        resolution=tuple(resolution),
        revisits=tuple(
            Revisits(
                methodology_id=mid,
                cases=walker.seen[mid],
                reopened=walker.reopened[mid],
                rescheduled=walker.rescheduled[mid],
            )
            for mid in sorted(walker.seen)
        ),
        refusals=tuple(
            RefusalCount(
                methodology_id=mid,
                code=code,
                count=n,
                actions=tuple(a for a, _ in actions[(mid, code)].most_common()),
            )
            for (mid, code), n in top
        ),
        overdue=tuple(
            OverdueCount(methodology_id=m, kind=k, count=n, oldest_due=oldest)
            for m, k, n, oldest in overdue_rows
        ),
        refusals_recorded=store.record_refusals or bool(refusal_rows),
    )
