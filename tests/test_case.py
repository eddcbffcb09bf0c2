"""Case: check, actions, fire, bad input, time, overdue."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import resolveflow
from resolveflow import evidence as ev
from tests.conftest import T0, FakeClock

ACCOUNT = {"summary": "The parcel arrived broken."}


def rx(clock: FakeClock) -> resolveflow.Case:
    return resolveflow.open_case(
        resolveflow.get_methodology("prescription", "1.0"), case_id="RX-1", clock=clock
    )


def test_open_case_by_id_and_by_object(clock: FakeClock) -> None:
    by_id = resolveflow.open_case("five-steps", case_id="A", clock=clock)
    by_object = resolveflow.open_case(resolveflow.get_methodology("five-steps"), case_id="B")
    assert by_id.methodology is by_object.methodology
    assert (by_id.step, by_id.outcome, by_id.history, by_id.closed) == ("listen", None, (), False)
    assert by_id.id == "A"
    assert "five-steps@1.1" in repr(by_id)  # the latest version


@pytest.mark.parametrize("bad", ["", "   ", None, 7, "x" * 201])
def test_open_case_rejects_bad_case_ids(bad: object) -> None:
    with pytest.raises(resolveflow.InvalidInput, match="case_id"):
        resolveflow.open_case("engage", case_id=bad)  # type: ignore[arg-type]


def test_open_case_unknown_methodology_lists_the_ids() -> None:
    with pytest.raises(resolveflow.UnknownMethodology) as info:
        resolveflow.open_case("seven-bs", case_id="A")
    assert "seven-as" in str(info.value)
    assert "seven-as" in info.value.available


def test_open_case_rejects_non_methodology() -> None:
    with pytest.raises(resolveflow.InvalidInput, match="Methodology"):
        resolveflow.open_case(42, case_id="A")  # type: ignore[arg-type]


def test_check_lists_every_failing_guard(clock: FakeClock) -> None:
    case = resolveflow.open_case("seven-as", case_id="S", clock=clock)
    case.fire("acknowledge_feelings", {"feelings": "upset"}, actor="a")
    decision = case.check("hear_grievances", {"points": ["x"], "customer_finished": False})
    assert not decision.allowed
    assert [r.code for r in decision.refusals] == ["customer_finished"]
    assert decision.refusals[0].missing == ("customer_finished=True",)
    assert decision.target == "apologize"
    assert decision.to_json()["refusals"][0]["code"] == "customer_finished"


def test_check_without_evidence_leaves_evidence_guards_pending(clock: FakeClock) -> None:
    case = rx(clock)
    decision = case.check("acknowledge_problem")
    assert decision.allowed
    assert decision.pending == ("accountability_accepted",)
    with_evidence = case.check(
        "acknowledge_problem", {"customer_perspective": "late", "accepts_accountability": True}
    )
    assert with_evidence.allowed and with_evidence.pending == ()


def test_check_reports_invalid_evidence_as_a_refusal(clock: FakeClock) -> None:
    case = rx(clock)
    decision = case.check("acknowledge_problem", {"customer_perspective": " "})
    assert not decision.allowed
    (refusal,) = decision.refusals
    assert refusal.code == "invalid_evidence"
    assert set(refusal.missing) == {"customer_perspective", "accepts_accountability"}


def test_check_wrong_step_says_where_the_action_belongs(clock: FakeClock) -> None:
    case = rx(clock)
    (refusal,) = case.check("commit_prevention").refusals
    assert refusal.code == "not_from_this_step"
    assert refusal.missing == ("step:prevent_recurrence",)
    assert "acknowledge_problem" in refusal.message


def test_unknown_action_names_the_available_ones(clock: FakeClock) -> None:
    case = rx(clock)
    for call in (lambda: case.check("jump"), lambda: case.fire("jump", actor="a")):
        with pytest.raises(resolveflow.UnknownAction) as info:
            call()
        assert info.value.available == ("acknowledge_problem", "declare_cannot_satisfy")
        assert "acknowledge_problem" in str(info.value)
    with pytest.raises(resolveflow.UnknownAction):
        case.fire(None, actor="a")  # type: ignore[arg-type]


def test_actions_describe_the_ui(clock: FakeClock) -> None:
    case = resolveflow.open_case("seven-as", case_id="S", clock=clock)
    (view,) = case.actions()
    assert (view.name, view.target, view.enabled, view.refusals) == (
        "acknowledge_feelings",
        "air_grievances",
        True,
        (),
    )
    assert view.evidence_schema["properties"]["feelings"]["type"] == "string"
    assert view.to_json()["evidence_schema"] == view.evidence_schema


def test_fire_records_one_entry_with_typed_evidence(clock: FakeClock) -> None:
    case = rx(clock)
    entry = case.fire(
        "acknowledge_problem",
        ev.ProblemAcknowledgement(customer_perspective="late", accepts_accountability=True),
        actor="ana",
    )
    assert case.history == (entry,)
    assert (entry.seq, entry.action, entry.from_step, entry.step, entry.actor, entry.at) == (
        1,
        "acknowledge_problem",
        "acknowledge",
        "remedy_now",
        "ana",
        T0,
    )
    assert entry.evidence == ev.ProblemAcknowledgement(
        customer_perspective="late", accepts_accountability=True
    )
    assert entry.evidence_json == {"customer_perspective": "late", "accepts_accountability": True}
    assert len(entry.hash) == 64


def test_json_and_typed_evidence_give_the_same_entry() -> None:
    one = resolveflow.open_case("engage", case_id="E", clock=FakeClock())
    two = resolveflow.open_case("engage", case_id="E", clock=FakeClock())
    a = one.fire("engage_fully", {"notes": "broken"}, actor="x")
    b = two.fire("engage_fully", ev.Engagement(notes="broken"), actor="x")
    assert a == b


@pytest.mark.parametrize("actor", ["", "  ", None, 3, "a" * 201])
def test_fire_rejects_bad_actor_and_changes_nothing(clock: FakeClock, actor: object) -> None:
    case = rx(clock)
    with pytest.raises(resolveflow.InvalidInput) as info:
        case.fire("declare_cannot_satisfy", {"reason": "x"}, actor=actor)  # type: ignore[arg-type]
    assert info.value.argument == "actor"
    assert case.history == ()


def test_fire_rejects_naive_and_backward_times(clock: FakeClock) -> None:
    case = rx(clock)
    with pytest.raises(resolveflow.InvalidInput, match="time zone"):
        case.fire("declare_cannot_satisfy", {"reason": "x"}, actor="a", at=dt.datetime(2026, 1, 1))
    with pytest.raises(resolveflow.InvalidInput, match="datetime"):
        case.fire("declare_cannot_satisfy", {"reason": "x"}, actor="a", at="2026-01-01")  # type: ignore[arg-type]
    case.fire(
        "acknowledge_problem",
        {"customer_perspective": "late", "accepts_accountability": True},
        actor="a",
        at=T0 + dt.timedelta(hours=2),
    )
    with pytest.raises(resolveflow.InvalidInput, match="earlier than the last entry"):
        case.fire("declare_cannot_satisfy", {"reason": "x"}, actor="a", at=T0 + dt.timedelta(hours=1))
    assert len(case.history) == 1


def test_a_clock_returning_naive_time_is_reported() -> None:
    case = resolveflow.open_case("engage", case_id="E", clock=lambda: dt.datetime(2026, 1, 1))
    with pytest.raises(resolveflow.InvalidInput) as info:
        case.fire("engage_fully", {"notes": "x"}, actor="a")
    assert info.value.argument == "clock"


def test_non_callable_clock_is_rejected() -> None:
    with pytest.raises(resolveflow.InvalidInput, match="clock"):
        resolveflow.open_case("engage", case_id="E", clock="noon")  # type: ignore[arg-type]


def test_times_are_stored_in_utc(clock: FakeClock) -> None:
    case = rx(clock)
    paris = dt.timezone(dt.timedelta(hours=1))
    entry = case.fire(
        "declare_cannot_satisfy", {"reason": "x"}, actor="a", at=dt.datetime(2026, 2, 1, 10, tzinfo=paris)
    )
    assert entry.at == dt.datetime(2026, 2, 1, 9, tzinfo=dt.UTC)
    assert entry.to_json()["at"] == "2026-02-01T09:00:00+00:00"


def test_evidence_for_an_action_that_records_none(clock: FakeClock) -> None:
    case = resolveflow.open_case(resolveflow.get_methodology("seven-as", "1.0"), case_id="S", clock=clock)
    case.fire("acknowledge_feelings", {"feelings": "upset"}, actor="a")
    case.fire("hear_grievances", {"points": ["x"], "customer_finished": True}, actor="a")
    case.fire("give_apology", {"statement": "sorry"}, actor="a")
    case.fire("reschedule", {"resume_at": "2026-01-06T09:00:00Z", "reason": "upset"}, actor="a")
    with pytest.raises(resolveflow.InvalidEvidence, match="records no evidence"):
        case.fire("resume", {"note": "x"}, actor="a")
    assert case.fire("resume", {}, actor="a").evidence is None


def test_missing_evidence_is_named(clock: FakeClock) -> None:
    case = rx(clock)
    with pytest.raises(resolveflow.InvalidEvidence) as info:
        case.fire("acknowledge_problem", actor="a")
    assert "problem acknowledgement" in str(info.value)
    with pytest.raises(resolveflow.InvalidEvidence, match="expected a ProblemAcknowledgement"):
        case.fire("acknowledge_problem", ["not", "a", "mapping"], actor="a")
    with pytest.raises(resolveflow.InvalidEvidence, match="expected a ProblemAcknowledgement"):
        case.fire("acknowledge_problem", ev.Engagement(notes="wrong record"), actor="a")
    assert case.history == ()


def test_closed_case_refuses_everything(clock: FakeClock) -> None:
    case = rx(clock)
    case.fire("declare_cannot_satisfy", {"reason": "abusive"}, actor="a")
    assert case.closed and case.outcome is not None and case.outcome.id == "cannot_satisfy"
    assert case.actions() == ()
    for action in case.methodology.actions:
        decision = case.check(action.name)
        assert [r.code for r in decision.refusals] == ["case_closed"]
        with pytest.raises(resolveflow.Refused) as info:
            case.fire(action.name, {}, actor="a")
        assert info.value.codes == ("case_closed",)
    assert len(case.history) == 1


def test_refused_error_carries_context(clock: FakeClock) -> None:
    case = rx(clock)
    with pytest.raises(resolveflow.Refused) as info:
        case.fire(
            "acknowledge_problem",
            {"customer_perspective": "late", "accepts_accountability": False},
            actor="a",
        )
    error = info.value
    assert (error.action, error.step, error.codes) == (
        "acknowledge_problem",
        "acknowledge",
        ("accountability_accepted",),
    )
    assert "accountability" in str(error)


def test_path_and_current(clock: FakeClock) -> None:
    case = resolveflow.open_case("five-steps", case_id="F", clock=clock)
    case.fire("hear_account", ACCOUNT, actor="a")
    case.fire("apologize", {"statement": "sorry"}, actor="a")
    assert case.path == ("listen", "analyze")
    assert isinstance(case.current, resolveflow.Step) and case.current.id == "analyze"


@given(hours=st.lists(st.integers(min_value=0, max_value=72), min_size=1, max_size=6))
def test_entries_keep_clock_order(hours: list[int]) -> None:
    clock = FakeClock()
    case = resolveflow.open_case("five-steps", case_id="F", clock=clock)
    case.fire("hear_account", ACCOUNT, actor="a")
    for h in hours:
        clock.advance(hours=h)
        case.fire("apologize", {"statement": "sorry"}, actor="a")
    times = [e.at for e in case.history]
    assert times == sorted(times)
    assert times[-1] == clock.now


def test_overdue_plan_items_and_follow_ups(clock: FakeClock) -> None:
    case = resolveflow.open_case(resolveflow.get_methodology("seven-as", "1.0"), case_id="S", clock=clock)
    case.fire("acknowledge_feelings", {"feelings": "upset"}, actor="a")
    case.fire("hear_grievances", {"points": ["x"], "customer_finished": True}, actor="a")
    case.fire("give_apology", {"statement": "sorry"}, actor="a")
    case.fire(
        "reschedule", {"resume_at": (T0 + dt.timedelta(hours=1)).isoformat(), "reason": "upset"}, actor="a"
    )
    assert case.overdue() == ()
    clock.advance(hours=2)
    (follow_up,) = case.overdue()
    assert (follow_up.kind, follow_up.due) == ("follow_up", T0 + dt.timedelta(hours=1))
    case.fire("resume", actor="a")
    assert case.overdue() == ()
    case.fire("give_assurance", {"commitment": "fix"}, actor="a")
    due = clock.now + dt.timedelta(days=1)
    case.fire(
        "agree_plan",
        {"agreed_with": "Bo", "items": [{"id": "a", "description": "refund", "due": due.isoformat()}]},
        actor="a",
    )
    assert case.overdue(due) == ()
    (late,) = case.overdue(due + dt.timedelta(seconds=1))
    assert (late.kind, late.ref, late.description) == ("plan_item", "a", "refund")
    case.fire("complete_item", {"item_id": "a"}, actor="a")
    assert case.overdue(due + dt.timedelta(days=9)) == ()
    with pytest.raises(resolveflow.InvalidInput):
        case.overdue(dt.datetime(2026, 1, 1))


def test_check_and_actions_refuse_a_time_before_the_last_entry(clock: FakeClock) -> None:
    case = rx(clock)
    case.fire(
        "acknowledge_problem", {"customer_perspective": "late", "accepts_accountability": True}, actor="a"
    )
    earlier = T0 - dt.timedelta(minutes=1)
    with pytest.raises(resolveflow.InvalidInput, match="earlier than the last entry"):
        case.check("remedy", at=earlier)
    with pytest.raises(resolveflow.InvalidInput, match="earlier than the last entry"):
        case.actions(at=earlier)


def test_a_clock_behind_the_last_entry_reads_as_the_last_entry() -> None:
    """Another server with a slower clock wrote last: the case stays usable, time never goes back."""
    clock = FakeClock()
    case = resolveflow.open_case(
        resolveflow.get_methodology("prescription", "1.0"), case_id="skew", clock=clock
    )
    ahead = T0 + dt.timedelta(seconds=30)
    case.fire(
        "acknowledge_problem",
        {"customer_perspective": "late", "accepts_accountability": True},
        actor="server-a",
        at=ahead,
    )
    entry = case.fire("remedy", {"action": "credit", "taken_at": T0.isoformat()}, actor="server-b")
    assert entry.at == ahead
    assert case.check("commit_prevention").allowed


def test_overdue_counts_completions_by_record_not_by_action_name(clock: FakeClock) -> None:
    plan_steps = resolveflow.Methodology(
        id="tiny-plan",
        version="1.0",
        title="Tiny plan",
        source="tests",
        steps=(resolveflow.Step(id="plan", title="Plan"), resolveflow.Step(id="do", title="Do")),
        outcomes=(resolveflow.Outcome(id="done", title="Done", successful=True),),
        actions=(
            resolveflow.Action(name="agree", sources="plan", target="do", title="Agree", evidence=ev.Plan),
            resolveflow.Action(
                name="tick", sources="do", target=None, title="Tick", evidence=ev.ItemCompletion
            ),
            resolveflow.Action(
                name="finish",
                sources="do",
                target="done",
                title="Finish",
                guards=(resolveflow.guards.AllPlanItemsDone(),),
            ),
        ),
        initial="plan",
        required_steps=("plan", "do"),
    )
    case = resolveflow.open_case(plan_steps, case_id="P", clock=clock)
    due = (T0 + dt.timedelta(hours=1)).isoformat()
    case.fire(
        "agree", {"agreed_with": "Bo", "items": [{"id": "x", "description": "d", "due": due}]}, actor="a"
    )
    case.fire("tick", {"item_id": "x"}, actor="a")
    assert case.overdue(T0 + dt.timedelta(days=1)) == ()
    case.fire("finish", actor="a")


def test_unknown_action_at_a_dead_end_does_not_claim_the_case_is_closed() -> None:
    stuck = resolveflow.Methodology(
        id="stuck",
        version="1.0",
        title="Stuck",
        source="tests",
        steps=(resolveflow.Step(id="a", title="A"), resolveflow.Step(id="pit", title="Pit")),
        outcomes=(resolveflow.Outcome(id="done", title="Done", successful=True),),
        actions=(
            resolveflow.Action(name="fall", sources="a", target="pit", title="Fall"),
            resolveflow.Action(name="win", sources="a", target="done", title="Win"),
        ),
        initial="a",
        required_steps=("a",),
    )
    case = resolveflow.open_case(stuck, case_id="S")
    case.fire("fall", actor="a")
    with pytest.raises(resolveflow.UnknownAction) as info:
        case.fire("jump", actor="a")
    assert "closed" not in str(info.value)
    closed = resolveflow.open_case(stuck, case_id="T")
    closed.fire("win", actor="a")
    with pytest.raises(resolveflow.UnknownAction, match="the case is closed"):
        closed.fire("jump", actor="a")


def test_a_refused_check_is_an_ordinary_decision() -> None:
    case = resolveflow.open_case("seven-as", case_id="DEC-1")
    decision = case.check("complete_plan")
    by_hand = resolveflow.Decision(
        action="complete_plan",
        allowed=False,
        refusals=decision.refusals,
        target="accomplish",
        pending=(),
    )
    assert decision == by_hand and hash(decision) == hash(by_hand) and repr(decision) == repr(by_hand)
    assert [r.code for r in decision.refusals] == ["not_from_this_step"]


def test_lone_surrogates_are_refused_not_crashing() -> None:
    case = resolveflow.open_case("engage", case_id="S-1")
    decision = case.check("engage_fully", {"notes": "bad \ud800"})
    assert [r.code for r in decision.refusals] == ["invalid_evidence"]
    with pytest.raises(resolveflow.InvalidEvidence, match="lone surrogate"):
        case.fire("engage_fully", {"notes": "bad \ud800"}, actor="ana")
    with pytest.raises(resolveflow.InvalidInput, match="actor"):
        case.fire("engage_fully", {"notes": "ok"}, actor="ana\udc00")
    with pytest.raises(resolveflow.InvalidInput, match="case_id"):
        resolveflow.open_case("engage", case_id="C\ud800")
    assert case.history == ()
    case.fire("engage_fully", {"notes": "ok"}, actor="ana")
    data = json.loads(json.dumps(case.snapshot()))
    data["history"][0]["actor"] = "a\ud800"
    with pytest.raises(resolveflow.InvalidSnapshot):
        resolveflow.restore(data)
