"""The history index guards read gives the answers a plain scan of the history gives."""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import threading
from types import SimpleNamespace
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import resolveflow
from resolveflow import evidence as ev
from resolveflow._facts import HistoryFacts, facts_of
from resolveflow._guards import GuardContext, make_context
from resolveflow.testing import ManualClock, action_sequences

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
    case = resolveflow.open_case("seven-as", case_id=case_id, clock=ManualClock())
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
    ]
)


# --- the reference: scans, written the obvious way -----------------------------


def scan_where(records: list[Any], kind: type) -> list[int]:
    return [i for i, r in enumerate(records) if isinstance(r, kind)]


def scan_open_items(records: list[Any]) -> tuple[ev.PlanItem, ...] | None:
    plans = scan_where(records, ev.Plan)
    if not plans:
        return None
    plan = records[plans[-1]]
    done = {r.item_id for r in records[plans[-1] :] if isinstance(r, ev.ItemCompletion)}
    return tuple(item for item in plan.items if item.id not in done)


@given(st.lists(_RECORDS, max_size=25))
def test_the_index_answers_like_a_scan_after_every_entry(records: list[Any]) -> None:
    facts = HistoryFacts()
    for n, record in enumerate(records, start=1):
        facts.add(SimpleNamespace(evidence=record))  # type: ignore[arg-type]  # only .evidence is read
        seen = records[:n]
        assert facts.count == n
        for kind in (ev.Plan, FollowUpPlan, ev.ItemCompletion, ev.Apology, ev.Reschedule):
            assert facts.where(kind) == scan_where(seen, kind), kind
            positions = scan_where(seen, kind)
            assert facts.latest_position(kind) == (positions[-1] if positions else None)
        assert facts.open_plan_items() == scan_open_items(seen)


@given(action_sequences("seven-as", max_size=25))
def test_guard_context_answers_match_a_scan_on_real_walks(walk: list[tuple[str, Any]]) -> None:
    case = resolveflow.open_case("seven-as", case_id="F-1", clock=ManualClock())
    for name, evidence in walk:
        with contextlib.suppress(resolveflow.Refused, resolveflow.InvalidEvidence):
            case.fire(name, evidence, actor="walk")
    records = [e.evidence for e in case.history]
    context = GuardContext(step=case.step, history=case.history, evidence=None, at=case.now())
    for kind in (ev.Plan, ev.ItemCompletion, ev.Acknowledgement, ev.Reschedule):
        assert context.recorded(kind) == tuple(records[i] for i in scan_where(records, kind))
        found = scan_where(records, kind)
        assert context.latest(kind) == (records[found[-1]] if found else None)
        steps = [e.from_step for e in case.history]
        assert context.recorded(kind, at_step="act") == tuple(records[i] for i in found if steps[i] == "act")
    assert context.open_plan_items() == scan_open_items(records)
    # An index handed in for a shorter history is not trusted: the context rebuilds it.
    stale = make_context(case.step, case.history, None, case.now(), None, HistoryFacts())
    assert stale.open_plan_items() == scan_open_items(records)


def test_an_evolved_context_indexes_its_own_history() -> None:
    """attrs.evolve with another history of the same length must not answer from the old index."""
    first = opened("E-1", 2)
    context = GuardContext(step=first.step, history=first.history, evidence=None, at=first.now())
    assert isinstance(context.latest(ev.Grievances), ev.Grievances)  # the index is built now
    other = resolveflow.open_case("engage", case_id="E-2", clock=ManualClock())
    other.fire("engage_fully", {"notes": "Broken parcel."}, actor="a")
    other.fire("show_empathy", {"statement": "I see."}, actor="a")
    moved = attrs.evolve(context, history=other.history)
    assert moved.latest(ev.Grievances) is None and moved.recorded(ev.Acknowledgement) == ()


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


def _walked_history(case_id: str, steps: int) -> tuple[Any, ...]:
    return opened(case_id, steps).history


def test_the_recent_index_cache_is_keyed_by_the_history_object_itself() -> None:
    history = _walked_history("C-1", 3)
    first = facts_of(history)
    assert facts_of(history) is first  # the same tuple: reused
    copy = history[:1] + history[1:]  # equal, but another object: never confused with it
    assert copy is not history and facts_of(copy) is not first
    assert facts_of(copy).where(ev.Apology) == first.where(ev.Apology) == [2]


def test_the_recent_index_cache_forgets_the_oldest_and_stays_right() -> None:
    histories = [_walked_history(f"C-{n}", 1 + n % 4) for n in range(40)]
    for history in histories:
        facts_of(history)
    for history in histories:  # the early ones were evicted and are rebuilt, with the same answers
        facts = facts_of(history)
        assert facts.count == len(history)
        assert facts.where(ev.Acknowledgement) == [0]
        assert facts.where(ev.Apology) == ([2] if len(history) >= 3 else [])


def test_each_thread_keeps_its_own_recent_indexes() -> None:
    history = _walked_history("C-T", 2)
    mine = facts_of(history)
    theirs: list[HistoryFacts] = []
    worker = threading.Thread(target=lambda: theirs.append(facts_of(history)))
    worker.start()
    worker.join()
    assert theirs[0] is not mine and theirs[0].where(ev.Grievances) == mine.where(ev.Grievances) == [1]


@given(st.lists(_RECORDS, max_size=25))
def test_moving_an_index_forward_matches_building_it_and_leaves_the_old_one(records: list[Any]) -> None:
    entries = [SimpleNamespace(evidence=r) for r in records]
    steps = [HistoryFacts()]
    for entry in entries:
        steps.append(steps[-1].extended(entry))  # type: ignore[arg-type]  # only .evidence is read
    for n, facts in enumerate(steps):  # every intermediate index still answers for its own prefix
        seen = records[:n]
        assert facts.count == n
        for kind in (ev.Plan, FollowUpPlan, ev.ItemCompletion, ev.Apology):
            assert facts.where(kind) == scan_where(seen, kind)
        assert facts.open_plan_items() == scan_open_items(seen)


def test_a_fire_moves_the_index_of_the_fired_case_forward() -> None:
    case = opened("C-F", 3)
    before = facts_of(case.history)
    case.fire("reschedule", {"resume_at": "2030-01-01T09:00:00+00:00", "reason": "Too upset"}, actor="a")
    after = facts_of(case.history)  # carried over from `before`, not rebuilt from the history
    assert after is not before and before.count == 3 and after.count == 4
    assert after.where(ev.Reschedule) == [3] and before.where(ev.Reschedule) == []


class _NoMemo(dict):  # type: ignore[type-arg]
    """An Engine.memo that never keeps anything."""

    def __setitem__(self, key: object, value: object) -> None:
        pass


def _play(walks: list[list[tuple[str, Any]]], prefix: str) -> list[object]:
    """Interleave the walks on one case each; note every check of the step's actions and every fire."""
    m = resolveflow.get_methodology("seven-as")
    cases = [
        resolveflow.open_case(m, case_id=f"{prefix}-{n}", clock=ManualClock()) for n in range(len(walks))
    ]
    seen: list[object] = []
    for turn in range(max(map(len, walks), default=0)):
        for case, walk in zip(cases, walks, strict=True):
            if turn >= len(walk):
                continue
            seen.extend(case.check(a.name).to_json() for a in m.actions_from(case.step))
            name, evidence = walk[turn]
            try:
                seen.append(case.fire(name, evidence, actor="walk").to_json())
            except (resolveflow.Refused, resolveflow.InvalidEvidence) as error:
                seen.append(repr(error))
    seen.extend(case.snapshot() for case in cases)
    return seen


@given(st.lists(action_sequences("seven-as", max_size=15), min_size=1, max_size=3))
def test_the_caches_never_change_an_answer(walks: list[list[tuple[str, Any]]]) -> None:
    """Interleaved cases answer the same with the index cache and the per-step memo as without them."""
    with_caches = _play(walks, "W")
    engine = resolveflow.get_methodology("seven-as")._engine
    saved = engine.memo
    try:
        object.__setattr__(engine, "memo", _NoMemo())
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("resolveflow._guards.facts_of", HistoryFacts)  # a fresh index every time
            patch.setattr("resolveflow._case.carry_over", lambda old, new: None)
            without = _play(walks, "W")
    finally:
        object.__setattr__(engine, "memo", saved)
    assert with_caches == without
