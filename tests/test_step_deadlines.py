"""Step deadlines: a WithinDeadline guard on an action leaving the current step is a promise.

Derived from the methodology and the history (never recorded), listed by
``Case.overdue`` once past due, kept when the case leaves the step, new when
it enters the step again; not made by a deadline that is only an alternative;
not among ``GuardContext.open_promises``. The store's side (deadline rows, the
worker) is in test_store_step_deadlines.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import resolveflow
from resolveflow import Action, Escalation, Methodology, Outcome, Step, evidence
from resolveflow._step_deadlines import deadline_ref
from resolveflow.evidence import STEP_DEADLINE
from resolveflow.exceptions import InvalidMethodology
from resolveflow.guards import Guard, GuardContext, HasRole, Refusal, Rule, WithinDeadline
from tests.conftest import T0, FakeClock

END = dt.datetime.max.replace(tzinfo=dt.UTC)
FINISH = "finish:finish_in_time"
ANSWER = "answer:answer_within_a_day"


@attrs.frozen(kw_only=True)
class AnyOf(Guard):
    """A composite of a test's own: passes when one of its guards passes (a deadline is then optional)."""

    options: tuple[Guard, ...]
    name: str = "any_of"
    message: str = "One of these must hold."

    def check(self, context: GuardContext) -> Refusal | None:
        return None if any(g.check(context) is None for g in self.options) else self.refuse()


IN_TIME = WithinDeadline(
    step="work", hours=2, name="finish_in_time", message="Finish within two hours of starting."
)


def deadline_flow(*, finish_guards: tuple[Guard, ...] = (IN_TIME,), version: str = "1.0") -> Methodology:
    """intake -> work -> done, with time limits on leaving work (one counted from intake)."""
    return Methodology(
        id="step-deadlines",
        version=version,
        title="Step deadlines",
        source="A methodology made up for a test.",
        initial="intake",
        required_steps=("intake", "work"),
        roles=("supervisor",),
        steps=(
            Step(id="intake", title="Intake"),
            Step(id="work", title="Work"),
            Step(id="review", title="Review"),
        ),
        outcomes=(
            Outcome(id="done", title="Done", successful=True),
            Outcome(id="dropped", title="Dropped", successful=False),
        ),
        actions=(
            Action(name="note", title="Note", sources="intake", target="intake"),
            Action(name="start", title="Start", sources="intake", target="work"),
            Action(name="finish", title="Finish", sources="work", target="done", guards=finish_guards),
            Action(
                name="answer",
                title="Answer",
                sources="work",
                target="work",
                guards=(
                    WithinDeadline(
                        step="intake",
                        days=1,
                        name="answer_within_a_day",
                        message="Answer within a day of the intake.",
                    ),
                ),
            ),
            Action(name="hand_back", title="Hand back", sources="work", target="intake"),
            Action(
                name="escalate",
                title="Escalate",
                sources="work",
                target="review",
                guards=(HasRole(role="supervisor"),),
            ),
            Action(name="close", title="Close", sources="review", target="done"),
            Action(name="drop", title="Drop", sources=("intake", "work", "review"), target="dropped"),
        ),
        escalations=(Escalation(kind=STEP_DEADLINE, action="escalate", role="supervisor"),),
    )


def opened(clock: FakeClock, methodology: Methodology | None = None) -> resolveflow.Case:
    return resolveflow.open_case(methodology or deadline_flow(), case_id="S-1", clock=clock)


def refs(case: resolveflow.Case, now: dt.datetime = END) -> list[tuple[str, str, dt.datetime]]:
    return [(o.kind, o.ref, o.due) for o in case.overdue(now)]


def test_a_step_deadline_is_overdue_once_past_due_and_only_then() -> None:
    clock = FakeClock()
    case = opened(clock)
    assert case.overdue(END) == ()  # at intake: no action leaving it has a time limit
    clock.advance(minutes=10)
    case.fire("start", actor="ana")
    started = clock.now
    finish_due, answer_due = started + dt.timedelta(hours=2), started + dt.timedelta(days=1)
    assert refs(case) == [(STEP_DEADLINE, FINISH, finish_due), (STEP_DEADLINE, ANSWER, answer_due)]
    assert case.overdue(finish_due) == ()  # due at that moment, not yet past it
    (late,) = case.overdue(finish_due + dt.timedelta(seconds=1))
    assert (late.kind, late.ref, late.description, late.due) == (
        STEP_DEADLINE,
        FINISH,
        "Finish within two hours of starting.",
        finish_due,
    )
    clock.advance(hours=3)
    assert [o.ref for o in case.overdue()] == [FINISH]
    assert [r.code for r in case.check("finish").refusals] == ["finish_in_time"]  # the guard agrees
    assert [o["ref"] for o in case.view().to_json()["overdue"]] == [FINISH]


def test_the_time_runs_from_when_the_case_last_entered_the_guards_step() -> None:
    clock = FakeClock()
    case = opened(clock)
    case.fire("note", actor="ana")  # the initial step counts from the first entry
    clock.advance(hours=5)
    case.fire("start", actor="ana")
    assert {r: due for _, r, due in refs(case)}[ANSWER] == T0 + dt.timedelta(days=1)


def test_a_step_deadline_is_kept_when_the_case_leaves_the_step_and_new_when_it_returns() -> None:
    clock = FakeClock()
    case = opened(clock)
    case.fire("start", actor="ana")
    clock.advance(hours=1)
    case.fire("answer", actor="ana")  # a self-loop does not enter the step again: same due times
    assert refs(case)[0][2] == T0 + dt.timedelta(hours=2)
    clock.advance(hours=5)
    assert [o.ref for o in case.overdue()] == [FINISH]
    case.fire("hand_back", actor="ana")
    assert case.overdue(END) == ()  # kept: the case left work
    clock.advance(hours=1)
    case.fire("start", actor="ana")
    assert refs(case)[0] == (STEP_DEADLINE, FINISH, clock.now + dt.timedelta(hours=2))
    assert case.overdue() == ()
    case.fire("finish", actor="ana")
    assert case.closed and case.overdue(END) == ()


def test_a_deadline_that_is_only_an_alternative_is_not_a_promise() -> None:
    clock = FakeClock()
    either = AnyOf(options=(IN_TIME, HasRole(role="supervisor")))
    case = opened(clock, deadline_flow(finish_guards=(either,)))
    case.fire("start", actor="ana")
    assert [r for _, r, _ in refs(case)] == [ANSWER]
    clock.advance(hours=3)
    assert case.overdue() == ()


def test_step_deadlines_are_not_among_the_guards_open_promises() -> None:
    seen: list[tuple[Any, ...]] = []

    def look(context: GuardContext) -> bool:
        seen.append(context.open_promises())
        return True

    flow = deadline_flow(finish_guards=(IN_TIME, Rule(name="look", message="Look.", predicate=look)))
    clock = FakeClock()
    case = opened(clock, flow)
    case.fire("start", actor="ana")
    clock.advance(hours=3)
    assert [o.ref for o in case.overdue()] == [FINISH]
    case.check("finish")
    assert seen == [()]


def test_restore_and_a_migration_give_the_same_step_deadlines() -> None:
    clock = FakeClock()
    case = opened(clock)
    case.fire("start", actor="ana")
    restored = resolveflow.restore(case.snapshot(), methodology=deadline_flow(), clock=clock)
    assert refs(restored) == refs(case) != []
    newer = deadline_flow(version="1.1")
    clock.advance(minutes=5)
    migration = resolveflow.Migration(methodology_id="step-deadlines", from_version="1.0", to_version="1.1")
    moved = resolveflow.migrate(case, migration, actor="ana", target=newer)
    assert refs(moved) == refs(case)  # the step times survive the version move


def test_long_guard_names_give_refs_the_deadlines_table_keeps() -> None:
    long_name = "g" * 250
    ref = deadline_ref("finish", long_name)
    assert len(ref) == 200 and ref.startswith("finish:ggg") and "~" in ref
    assert deadline_ref("finish", long_name + "h") != ref
    guard = WithinDeadline(step="work", hours=2, name=long_name, message="Quick.\x00")
    case = opened(FakeClock(), deadline_flow(finish_guards=(guard,)))
    case.fire("start", actor="ana")
    first = case.overdue(END)[0]
    assert (first.ref, first.description) == (ref, "Quick.\ufffd")  # text a database column can hold


def test_a_record_may_not_promise_the_methodologys_own_kind() -> None:
    @attrs.frozen(kw_only=True)
    class Sneaky:
        """Promises a step deadline of its own."""

        note: str = evidence.field(title="Note")

        def promises_made(self) -> tuple[evidence.Promise, ...]:
            return (evidence.Promise(kind=STEP_DEADLINE, ref="x", description="x", due=T0),)

    flow = attrs.evolve(
        deadline_flow(),
        actions=(
            *deadline_flow().actions,
            Action(name="sneak", title="Sneak", sources="intake", target=None, evidence=Sneaky),
        ),
    )
    case = opened(FakeClock(), flow)
    with pytest.raises(InvalidMethodology, match="the methodology's own"):
        case.fire("sneak", {"note": "n"}, actor="ana")
    assert case.history == ()


# --- a property: the derived promises are what the history says ----------------------------


def entered_by_history(history: Any, step: str) -> dt.datetime | None:
    """When the case last entered ``step``, read off the entries (the initial step: its first entry)."""
    moves = [e.at for e in history if e.step == step and e.from_step != step]
    if moves:
        return moves[-1]
    return history[0].at if history and history[0].from_step == step else None


def expected(case: resolveflow.Case) -> list[tuple[str, str, dt.datetime]]:
    if case.closed:
        return []
    out = []
    for action in case.methodology.actions_from(case.step):
        for guard in action.guards:
            if isinstance(guard, WithinDeadline):
                since = entered_by_history(case.history, guard.step)
                if since is not None:
                    out.append((STEP_DEADLINE, f"{action.name}:{guard.name}", since + guard.limit))
    return out


WALK = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 200)), max_size=25)


def walk(case: resolveflow.Case, clock: FakeClock, moves: list[tuple[int, int]]) -> None:
    """Take the ``n``-th action the case may take now (if any), ``minutes`` later, for each move."""
    for n, minutes in moves:
        clock.advance(minutes=minutes)
        allowed = [a.name for a in case.actions(actor=resolveflow.Actor("ana", roles={"supervisor"}))]
        allowed = [name for name in allowed if case.check(name).allowed]
        if not allowed:
            return
        case.fire(allowed[n % len(allowed)], actor=resolveflow.Actor("ana", roles={"supervisor"}))


@settings(max_examples=60, deadline=None)
@given(moves=WALK, later=st.integers(0, 3000))
def test_step_deadlines_are_what_the_history_says_after_any_walk(
    moves: list[tuple[int, int]], later: int
) -> None:
    clock = FakeClock()
    case = opened(clock)
    walk(case, clock, moves)
    assert refs(case) == expected(case)
    now = clock.now + dt.timedelta(minutes=later)
    assert refs(case, now) == [r for r in expected(case) if r[2] < now]
    replayed = resolveflow.restore(case.snapshot(), methodology=deadline_flow(), clock=clock)
    assert refs(replayed) == refs(case)
