"""The history index a ledger keeps gives the answers a plain scan of the history gives.

It is extended in place entry by entry (never rebuilt), knows no concrete
record, and takes what records promise from the records themselves.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import resolveflow
from resolveflow import evidence as ev
from resolveflow._index import HistoryIndex
from resolveflow.guards import GuardContext
from resolveflow.testing import ManualClock, action_sequences
from tests._tiny import loop_methodology

DUE = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@attrs.frozen
class FollowUpPlan(ev.Plan):
    """A subclass: guards asking for a Plan must see it too."""


def _plan(cls: type[ev.Plan], *ids: str) -> ev.Plan:
    return cls(
        agreed_with="Ms Ortiz", items=tuple(ev.PlanItem(id=i, description=f"do {i}", due=DUE) for i in ids)
    )


# The first moves of a seven-as case, with valid evidence, up to the plan.
OPENING: list[tuple[str, dict[str, Any]]] = [
    ("acknowledge_feelings", {"feelings": "Upset."}),
    ("hear_grievances", {"points": ["late"], "customer_finished": True}),
    ("give_apology", {"statement": "Sorry."}),
    ("give_assurance", {"commitment": "We will fix it."}),
]


def opened(case_id: str, moves: int) -> resolveflow.Case:
    """A seven-as case that has taken the first ``moves`` moves of OPENING."""
    case = resolveflow.open_case(
        resolveflow.get_methodology("seven-as", "1.0"), case_id=case_id, clock=ManualClock()
    )
    for name, evidence in OPENING[:moves]:
        case.fire(name, evidence, actor="a")
    return case


_RECORDS = st.sampled_from(
    [
        None,
        _plan(ev.Plan, "a", "b"),
        _plan(ev.Plan, "c"),
        _plan(FollowUpPlan, "a", "d"),
        ev.ItemCompletion(item_id="a"),
        ev.ItemCompletion(item_id="b"),
        ev.ItemCompletion(item_id="c"),
        ev.ItemCompletion(item_id="d"),
        ev.Apology(statement="Sorry."),
        ev.Reschedule(resume_at=DUE, reason="Too upset"),
    ]
)
_STEPS = st.sampled_from(["a", "b", "c"])


# --- the reference: scans, written the obvious way -----------------------------


def scan_where(records: list[Any], kind: type) -> list[int]:
    return [i for i, r in enumerate(records) if isinstance(r, kind)]


def scan_open_items(records: list[Any]) -> list[str]:
    """Item ids of the latest plan not completed since it was agreed."""
    plans = scan_where(records, ev.Plan)
    if not plans:
        return []
    plan = records[plans[-1]]
    done = {r.item_id for r in records[plans[-1] :] if isinstance(r, ev.ItemCompletion)}
    return [item.id for item in plan.items if item.id not in done]


def scan_follow_up(records: list[Any]) -> bool:
    """A call-back is open only while the reschedule is the latest entry."""
    return bool(records) and isinstance(records[-1], ev.Reschedule)


@given(st.lists(st.tuples(_RECORDS, _STEPS), max_size=25))
def test_the_index_answers_like_a_scan_after_every_entry(moves: list[tuple[Any, str]]) -> None:
    index = HistoryIndex("a")
    records: list[Any] = []
    path = ["a"]
    for n, (record, step) in enumerate(moves, start=1):
        at = DUE + dt.timedelta(minutes=n)
        index.add("act", path[-1], step, at, record)
        records.append(record)
        path.append(step)
        assert index.count == n
        for kind in (ev.Plan, FollowUpPlan, ev.ItemCompletion, ev.Apology, ev.Reschedule):
            assert index.where(kind) == scan_where(records, kind), kind
            positions = scan_where(records, kind)
            assert index.latest_position(kind) == (positions[-1] if positions else None)
        items = [p.ref for p in index.promises.values() if p.kind == ev.PLAN_ITEM]
        assert items == scan_open_items(records)
        follow_ups = [p for p in index.promises.values() if p.kind == ev.FOLLOW_UP]
        assert bool(follow_ups) == scan_follow_up(records)
        assert index.visited == set(path)
        for step in set(path):
            entries = [i for i in range(1, len(path)) if path[i] == step and path[i - 1] != step]
            expected = DUE + dt.timedelta(minutes=entries[-1]) if entries else None
            if expected is None and path[0] == step:
                expected = DUE + dt.timedelta(minutes=1)
            assert index.entered.get(step) == expected, step


@given(action_sequences("seven-as", max_size=25))
def test_the_ledger_context_answers_like_a_context_built_from_the_history(
    walk: list[tuple[str, Any]],
) -> None:
    case = resolveflow.open_case("seven-as", case_id="F-1", clock=ManualClock())
    for name, evidence in walk:
        with contextlib.suppress(resolveflow.Refused, resolveflow.InvalidEvidence):
            case.fire(name, evidence, actor="walk")
    records = [e.evidence for e in case.history]
    by_hand = GuardContext(step=case.step, history=case.history, evidence=None, at=case.now())
    ledger = case._ledger
    from resolveflow._guards import make_context
    from resolveflow._ledger import Entries

    kept = make_context(
        case.step, Entries(list(case.history), len(case.history)), None, case.now(), None, ledger.index
    )
    for context in (by_hand, kept):
        for kind in (ev.Plan, ev.ItemCompletion, ev.Acknowledgement, ev.Reschedule):
            found = scan_where(records, kind)
            assert context.recorded(kind) == tuple(records[i] for i in found)
            assert context.latest(kind) == (records[found[-1]] if found else None)
            steps = [e.from_step for e in case.history]
            assert context.recorded(kind, at_step="act") == tuple(
                records[i] for i in found if steps[i] == "act"
            )
        assert [p.ref for p in context.open_promises(ev.PLAN_ITEM)] == scan_open_items(records)
        for step in {e.from_step for e in case.history}:
            assert context.acted_at(step) == {e.actor for e in case.history if e.from_step == step}
        completions = context.recorded(ev.ItemCompletion, after=ev.Plan)
        plans = scan_where(records, ev.Plan)
        assert completions == (
            tuple(r for r in records[plans[-1] :] if isinstance(r, ev.ItemCompletion)) if plans else ()
        )
        assert all(context.visited(s) for s in case.path)


def test_recorded_keeps_isinstance_meaning_for_tuples_object_and_abcs() -> None:
    """What a guard of your own may pass to recorded(): anything isinstance accepts."""

    class Heard(abc.ABC):  # noqa: B024 - a marker ABC with no abstract methods
        pass

    Heard.register(ev.Grievances)
    case = opened("E-3", 2)
    context = GuardContext(step=case.step, history=case.history, evidence=None, at=case.now())
    both = tuple(e.evidence for e in case.history)
    assert context.recorded((ev.Acknowledgement, ev.Grievances)) == both
    assert context.recorded(object) == both
    assert context.recorded(Heard) == (both[1],) and context.latest(Heard) == both[1]
    assert context.latest((ev.Acknowledgement, ev.Grievances)) == both[1]


def test_a_replay_decides_each_plan_guard_from_the_index_it_keeps() -> None:
    """Restoring a long plan-heavy case gives the same case (the index is kept in step)."""
    case = opened("F-2", 4)
    for round_ in range(5):
        ids = [f"r{round_}-{k}" for k in range(3)]
        due = (case.now() + dt.timedelta(days=2)).isoformat()
        items = [{"id": i, "description": "step", "due": due} for i in ids]
        case.fire("agree_plan", {"agreed_with": "Ms Ortiz", "items": items}, actor="a")
        for item in ids:
            case.fire("complete_item", {"item_id": item}, actor="a")
        case.fire("complete_plan", actor="a")
        if round_ < 4:
            case.fire("revise_plan", {"satisfied": False}, actor="a")
    case.fire("confirm_satisfaction", {"satisfied": True}, actor="a")
    restored = resolveflow.restore(case.snapshot())
    assert restored.history == case.history and restored.step == "resolved"


def test_a_ledger_builds_its_index_once_and_extends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """fire() never rebuilds the index from the history: one index per ledger, extended in place."""
    made: list[HistoryIndex] = []
    original = HistoryIndex.__init__

    def counting(self: HistoryIndex, initial: str) -> None:
        made.append(self)
        original(self, initial)

    monkeypatch.setattr(HistoryIndex, "__init__", counting)
    clock = ManualClock()
    case = resolveflow.open_case(_callbacks(), case_id="C-F", clock=clock)
    assert len(made) == 1
    index = case._ledger.index
    for n in range(10):
        case.check("promise")
        case.fire("promise", Callback(when=clock() + dt.timedelta(days=1), topic=f"t{n}"), actor="a")
        case.view()
    assert len(made) == 1 and case._ledger.index is index and index.count == 10


def test_guards_see_a_read_only_history() -> None:
    seen: list[Any] = []

    def look(context: GuardContext) -> bool:
        seen.append(context.history)
        return True

    m = resolveflow.get_methodology("engage")
    action = m.actions[0]
    peeking = attrs.evolve(
        m,
        version="9.0",
        actions=(
            attrs.evolve(
                action,
                guards=(*action.guards, resolveflow.guards.Rule(name="look", message="-", predicate=look)),
            ),
            *m.actions[1:],
        ),
    )
    case = resolveflow.open_case(peeking, case_id="R-1")
    case.fire(action.name, {"notes": "Broken."}, actor="a")
    history = seen[-1]
    assert len(history) == 0 and list(history) == [] and history == ()
    with pytest.raises((AttributeError, TypeError)):
        history.append(case.history[0])  # type: ignore[attr-defined]


# --- promises: a record of your own that promises something --------------------


@attrs.frozen(kw_only=True)
class Callback:
    """A call-back promised to the customer."""

    when: dt.datetime = ev.field(title="When")
    topic: str = ev.field(title="About")

    def promises_made(self) -> tuple[ev.Promise, ...]:
        return (
            ev.Promise(
                kind="callback", ref=self.topic, description=f"Call about {self.topic}", due=self.when
            ),
        )


@attrs.frozen(kw_only=True)
class CallbackDone:
    """The call-back happened."""

    topic: str = ev.field(title="About")

    def promises_kept(self) -> tuple[tuple[str, str | None], ...]:
        return (("callback", self.topic),)


def _callbacks() -> resolveflow.Methodology:
    return loop_methodology("callbacks", promise=Callback, call=CallbackDone)


def test_a_third_party_record_promises_and_keeps_without_touching_the_core() -> None:
    clock = ManualClock()
    case = resolveflow.open_case(_callbacks(), case_id="P-1", clock=clock)
    soon = clock() + dt.timedelta(hours=1)
    case.fire("promise", Callback(when=soon, topic="refund"), actor="a")
    case.fire("promise", Callback(when=soon + dt.timedelta(hours=1), topic="parcel"), actor="a")
    assert case.overdue(soon) == ()
    late = soon + dt.timedelta(hours=3)
    assert [(o.kind, o.ref) for o in case.overdue(late)] == [("callback", "refund"), ("callback", "parcel")]
    case.fire("call", CallbackDone(topic="refund"), actor="a")
    assert [o.ref for o in case.overdue(late)] == ["parcel"]
    assert resolveflow.restore(case.snapshot(), methodology=_callbacks()).overdue(late) == case.overdue(late)


@attrs.frozen(kw_only=True)
class BadPromise:
    """A record whose hook returns the wrong thing."""

    note: str = ev.field(title="Note")

    def promises_made(self) -> object:
        return ["not a promise"]


def test_a_hook_that_returns_something_else_is_refused_and_changes_nothing() -> None:
    m = loop_methodology("bad-hook", note=BadPromise)
    case = resolveflow.open_case(m, case_id="B-1")
    with pytest.raises(
        resolveflow.exceptions.InvalidMethodology, match=r"BadPromise\.promises_made.*Promise values"
    ):
        case.fire("note", {"note": "x"}, actor="a")
    assert case.history == () and case.overdue() == ()
