"""Guard kinds: what each one passes and refuses, on hand-built GuardContexts."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import attrs
import pytest

import resolveflow
from resolveflow import HistoryEntry, Refusal
from resolveflow import evidence as ev
from resolveflow.guards import (
    AfterStep,
    AllPlanItemsDone,
    EvidenceIs,
    FaultNeedsLiabilityReview,
    Guard,
    GuardContext,
    LaterThanNow,
    NotLaterThanNow,
    PlanHasOpenItems,
    PlanItemOpen,
    Requires,
    Rule,
    SoundPlan,
)
from resolveflow.methodologies import BUILTINS

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
CODE = re.compile(r"^[a-z][a-z0-9_]*\Z")


# --- building contexts ---------------------------------------------------------


def entry(seq: int, from_step: str, step: str, evidence: object = None, action: str = "act") -> HistoryEntry:
    """A HistoryEntry made by hand (guards only read from_step, step and evidence)."""
    return HistoryEntry(
        seq=seq,
        action=action,
        from_step=from_step,
        step=step,
        actor="ana",
        at=T0,
        evidence=evidence,
        hash="0" * 64,
    )


def ctx(
    step: str = "here",
    history: tuple[HistoryEntry, ...] = (),
    evidence: object = None,
    at: dt.datetime = T0,
) -> GuardContext:
    return GuardContext(step=step, history=history, evidence=evidence, at=at)


def plan(*item_ids: str, due: dt.datetime = T0 + DAY) -> ev.Plan:
    return ev.Plan(
        items=tuple(ev.PlanItem(id=i, description=f"Do {i}", due=due) for i in item_ids),
        agreed_with="Customer",
    )


def seven_as_at_act(at: dt.datetime = T0) -> resolveflow.Case:
    """A real seven-as case at 'act', with a two-item plan (refund, call)."""
    case = resolveflow.open_case(resolveflow.get_methodology("seven-as", "1.0"), case_id="guards-1")
    steps: list[tuple[str, object]] = [
        ("acknowledge_feelings", ev.Acknowledgement(feelings="Frustrated")),
        ("hear_grievances", ev.Grievances(points=("Late parcel",), customer_finished=True)),
        ("give_apology", ev.Apology(statement="I am sorry for the trouble.")),
        ("give_assurance", ev.Assurance(commitment="We will put it right.")),
        ("agree_plan", plan("refund", "call", due=at + DAY)),
    ]
    for action, record in steps:
        case.fire(action, record, actor="ana", at=at)
    assert case.step == "act"
    return case


def context_of(case: resolveflow.Case, evidence: object = None, at: dt.datetime = T0) -> GuardContext:
    return GuardContext(step=case.step, history=case.history, evidence=evidence, at=at)


@pytest.fixture
def at_act() -> resolveflow.Case:
    return seven_as_at_act()


@pytest.fixture
def at_air_grievances() -> resolveflow.Case:
    case = resolveflow.open_case(resolveflow.get_methodology("seven-as", "1.0"), case_id="guards-2")
    case.fire("acknowledge_feelings", {"feelings": "Angry"}, actor="ana", at=T0)
    return case


# --- Refusal and GuardContext ---------------------------------------------------


def test_refusal() -> None:
    r = Refusal(code="requires_plan", message="Agree a plan first.", missing=("plan",))
    assert r.to_json() == {"code": "requires_plan", "message": "Agree a plan first.", "missing": ["plan"]}
    assert Refusal(code="x", message="y").missing == ()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        r.code = "other"  # type: ignore[misc]


def test_guard_context_reads_real_history(at_act: resolveflow.Case) -> None:
    c = context_of(at_act)
    assert [type(r) for r in c.recorded(ev.Plan)] == [ev.Plan]
    assert c.recorded(ev.Plan, at_step="agree") == c.recorded(ev.Plan)
    assert c.recorded(ev.Plan, at_step="act") == ()
    assert c.latest(ev.Apology) == ev.Apology(statement="I am sorry for the trouble.")
    assert c.latest(ev.ItemCompletion) is None
    for step in ("acknowledge", "air_grievances", "apologize", "assure", "agree", "act"):
        assert c.visited(step), step
    assert not c.visited("accomplish")
    assert not c.visited("rescheduled")


def test_latest_is_the_most_recent() -> None:
    history = (entry(1, "a", "b", plan("x")), entry(2, "b", "c", plan("y")))
    assert ctx(history=history).latest(ev.Plan) == plan("y")
    assert ctx(history=history).recorded(ev.Plan) == (plan("x"), plan("y"))


# --- Requires -------------------------------------------------------------------


def test_requires_defaults() -> None:
    g = Requires(record=ev.Plan)
    assert g.name == "requires_plan"
    assert g.message == "Record the plan first."
    assert g.uses_evidence is False
    assert g.references() == ()
    assert g.describe() == "requires plan"
    at = Requires(record=ev.CustomerAccount, at_step="listen")
    assert at.name == "requires_customer_account"
    assert at.message == "Record the customer account at step 'listen' first."
    assert at.references() == ("listen",)
    assert at.describe() == "requires customer_account @ listen"


def test_requires_custom_name_and_message() -> None:
    g = Requires(record=ev.Plan, name="plan_recorded", message="Agree a plan.")
    assert (g.name, g.message) == ("plan_recorded", "Agree a plan.")
    assert g.check(ctx()) == Refusal(code="plan_recorded", message="Agree a plan.", missing=("plan",))


def test_requires_on_real_history(at_act: resolveflow.Case, at_air_grievances: resolveflow.Case) -> None:
    g = Requires(record=ev.Plan)
    assert g.check(context_of(at_act)) is None
    assert g.check(context_of(at_air_grievances)) == Refusal(
        code="requires_plan", message="Record the plan first.", missing=("plan",)
    )
    assert Requires(record=ev.Plan, at_step="agree").check(context_of(at_act)) is None
    refused = Requires(record=ev.Plan, at_step="act").check(context_of(at_act))
    assert refused is not None
    assert refused.code == "requires_plan"
    assert refused.missing == ("plan",)
    assert "'act'" in refused.message
    assert Requires(record=ev.ItemCompletion).check(context_of(at_act)).missing == ("item_completion",)


def test_requires_ignores_the_proposed_evidence() -> None:
    # The record must already be in the history; proposing it is not enough.
    assert Requires(record=ev.Plan).check(ctx(evidence=plan("x"))) is not None


def test_requires_rejects_a_non_attrs_record() -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="attrs class"):
        Requires(record=dict)


# --- AfterStep ------------------------------------------------------------------


def test_after_step_defaults() -> None:
    g = AfterStep(step="listen")
    assert g.name == "after_listen"
    assert g.message == "The case must go through step 'listen' first."
    assert g.describe() == "after listen"
    assert g.references() == ("listen",)
    assert g.uses_evidence is False
    custom = AfterStep(step="listen", name="heard_first", message="Listen first.")
    assert custom.check(ctx()) == Refusal(
        code="heard_first", message="Listen first.", missing=("step:listen",)
    )


def test_after_step_counts_the_current_initial_step() -> None:
    g = AfterStep(step="listen")
    assert g.check(ctx(step="listen")) is None
    assert g.check(ctx(step="other")) == Refusal(
        code="after_listen", message="The case must go through step 'listen' first.", missing=("step:listen",)
    )


def test_after_step_on_history() -> None:
    history = (entry(1, "listen", "analyze"), entry(2, "analyze", "decide"))
    assert AfterStep(step="listen").check(ctx("decide", history)) is None  # the initial step
    assert AfterStep(step="analyze").check(ctx("decide", history)) is None
    assert AfterStep(step="decide").check(ctx("decide", history)) is None  # where it is now
    assert AfterStep(step="address").check(ctx("decide", history)).missing == ("step:address",)


def test_after_step_on_real_history(at_act: resolveflow.Case) -> None:
    c = context_of(at_act)
    assert AfterStep(step="acknowledge").check(c) is None
    assert AfterStep(step="agree").check(c) is None
    assert AfterStep(step="accomplish").check(c).code == "after_accomplish"


# --- EvidenceIs -----------------------------------------------------------------


SATISFIED = EvidenceIs(
    field="satisfied", equals=True, name="customer_satisfied", message="Must be satisfied."
)


def test_evidence_is() -> None:
    assert SATISFIED.uses_evidence is True
    assert SATISFIED.check(ctx(evidence=ev.SatisfactionConfirmation(satisfied=True))) is None
    assert SATISFIED.check(ctx(evidence=ev.SatisfactionConfirmation(satisfied=False))) == Refusal(
        code="customer_satisfied", message="Must be satisfied.", missing=("satisfied=True",)
    )
    # a record without the field does not satisfy it
    assert SATISFIED.check(ctx(evidence=ev.Apology(statement="Sorry"))).code == "customer_satisfied"
    assert SATISFIED.describe() == "satisfied = True"


def test_evidence_is_compares_with_equality_not_truthiness() -> None:
    g = EvidenceIs(field="satisfied", equals=False, name="not_satisfied", message="Only if not satisfied.")
    assert g.check(ctx(evidence=ev.SatisfactionConfirmation(satisfied=False))) is None
    assert g.check(ctx(evidence=ev.SatisfactionConfirmation(satisfied=True))).missing == ("satisfied=False",)


# --- LaterThanNow / NotLaterThanNow ---------------------------------------------


def test_later_than_now() -> None:
    g = LaterThanNow(field="resume_at", name="resume_in_future", message="Later than now, please.")
    assert g.check(ctx(evidence=ev.Reschedule(resume_at=T0 + DAY, reason="Upset"))) is None
    for when in (T0, T0 - DAY):
        assert g.check(ctx(evidence=ev.Reschedule(resume_at=when, reason="Upset"))) == Refusal(
            code="resume_in_future", message="Later than now, please.", missing=("resume_at",)
        )
    assert g.describe() == "resume_at > now"


def test_not_later_than_now() -> None:
    g = NotLaterThanNow(field="taken_at", name="already_taken", message="Must already have happened.")
    remedy = ev.ImmediateRemedy
    fields = {f.name for f in attrs.fields(remedy)}
    assert "taken_at" in fields
    base = {"action": "Refunded the order"}
    assert g.check(ctx(evidence=remedy(**base, taken_at=T0 - DAY))) is None
    assert g.check(ctx(evidence=remedy(**base, taken_at=T0))) is None
    assert g.check(ctx(evidence=remedy(**base, taken_at=T0 + DAY))).missing == ("taken_at",)
    assert g.describe() == "taken_at <= now"


# --- plans ----------------------------------------------------------------------


def test_sound_plan() -> None:
    g = SoundPlan()
    assert g.name == "plan_is_sound"
    assert g.check(ctx(evidence=plan("a", "b"))) is None
    bad = ev.Plan(
        items=(
            ev.PlanItem(id="a", description="Past", due=T0 - DAY),
            ev.PlanItem(id="a", description="Same id", due=T0 + DAY),
            ev.PlanItem(id="b", description="Now", due=T0),
        ),
        agreed_with="Customer",
    )
    refusal = g.check(ctx(evidence=bad))
    assert refusal is not None
    assert refusal.code == "plan_is_sound"
    assert refusal.missing == ("items[0].due", "items[1].id", "items[2].due")
    # not a plan: nothing to say
    assert g.check(ctx(evidence=ev.Apology(statement="Sorry"))) is None


def test_plan_item_open(at_act: resolveflow.Case) -> None:
    g = PlanItemOpen()
    assert g.check(context_of(at_act, ev.ItemCompletion(item_id="refund"))) is None
    refusal = g.check(context_of(at_act, ev.ItemCompletion(item_id="nope")))
    assert refusal is not None
    assert refusal.code == "plan_item_open"
    assert refusal.missing == ("item_id",)
    assert "Open items: refund, call" in refusal.message
    assert "'nope'" in refusal.message
    at_act.fire("complete_item", ev.ItemCompletion(item_id="refund"), actor="ana", at=T0)
    again = g.check(context_of(at_act, ev.ItemCompletion(item_id="refund")))
    assert again is not None
    assert "Open items: call;" in again.message
    assert g.check(context_of(at_act, ev.ItemCompletion(item_id="call"))) is None


def test_plan_item_open_without_a_plan() -> None:
    refusal = PlanItemOpen().check(ctx(evidence=ev.ItemCompletion(item_id="x")))
    assert refusal is not None
    assert "Open items: none" in refusal.message


def test_plan_has_open_items(at_act: resolveflow.Case) -> None:
    g = PlanHasOpenItems()
    assert g.check(ctx()) == Refusal(code="plan_has_open_items", message=g.message, missing=())
    assert g.check(context_of(at_act)) is None
    for item in ("refund", "call"):
        at_act.fire("complete_item", ev.ItemCompletion(item_id=item), actor="ana", at=T0)
    assert g.check(context_of(at_act)).code == "plan_has_open_items"


def test_all_plan_items_done(at_act: resolveflow.Case) -> None:
    g = AllPlanItemsDone()
    assert g.check(ctx()) == Refusal(code="all_plan_items_done", message=g.message, missing=("plan",))
    assert g.check(context_of(at_act)).missing == ("plan_item:refund", "plan_item:call")
    at_act.fire("complete_item", ev.ItemCompletion(item_id="refund"), actor="ana", at=T0)
    assert g.check(context_of(at_act)).missing == ("plan_item:call",)
    at_act.fire("complete_item", ev.ItemCompletion(item_id="call"), actor="ana", at=T0)
    assert g.check(context_of(at_act)) is None


def test_completions_only_count_against_the_current_plan() -> None:
    history = (
        entry(1, "agree", "act", plan("a")),
        entry(2, "act", "act", ev.ItemCompletion(item_id="a")),
        entry(3, "act", "agree"),
        entry(4, "agree", "act", plan("a", "b")),
    )
    assert AllPlanItemsDone().check(ctx("act", history)).missing == ("plan_item:a", "plan_item:b")
    assert PlanItemOpen().check(ctx("act", history, ev.ItemCompletion(item_id="a"))) is None
    assert PlanHasOpenItems().check(ctx("act", history)) is None
    done = ctx("act", history[:2])
    assert AllPlanItemsDone().check(done) is None
    assert PlanHasOpenItems().check(done) is not None


# --- FaultNeedsLiabilityReview -------------------------------------------------


def test_fault_needs_liability_review() -> None:
    g = FaultNeedsLiabilityReview()
    regret = ev.Apology(statement="Sorry for the trouble.")
    fault = ev.Apology(statement="We caused this.", admits_fault=True)
    assert g.check(ctx(evidence=regret)) is None
    assert g.check(ctx(evidence=fault)) == Refusal(
        code="fault_admission_needs_liability_review",
        message=g.message,
        missing=("liability_review:company_at_fault",),
    )
    cleared = (entry(1, "a", "a", ev.LiabilityReview(reviewer="Legal", company_at_fault=False)),)
    assert g.check(ctx(history=cleared, evidence=fault)) is not None
    at_fault = (entry(1, "a", "a", ev.LiabilityReview(reviewer="Legal", company_at_fault=True)),)
    assert g.check(ctx(history=at_fault, evidence=fault)) is None
    # only the latest review counts
    reversed_ = (*at_fault, entry(2, "a", "a", ev.LiabilityReview(reviewer="Legal", company_at_fault=False)))
    assert g.check(ctx(history=reversed_, evidence=fault)) is not None


# --- evidence guards are pending without evidence ----------------------------------


EVIDENCE_GUARDS = [
    SATISFIED,
    LaterThanNow(field="resume_at", name="resume_in_future", message="Later."),
    NotLaterThanNow(field="taken_at", name="already_taken", message="Earlier."),
    SoundPlan(),
    PlanItemOpen(),
    FaultNeedsLiabilityReview(),
]
OTHER_GUARDS = [
    Requires(record=ev.Plan),
    AfterStep(step="listen"),
    PlanHasOpenItems(),
    AllPlanItemsDone(),
    Rule(name="a_rule", message="A rule.", predicate=lambda c: True),
]


@pytest.mark.parametrize("guard", EVIDENCE_GUARDS, ids=lambda g: g.name)
def test_evidence_guards_pass_without_evidence(guard: Guard) -> None:
    assert guard.uses_evidence is True
    assert guard.check(ctx()) is None


@pytest.mark.parametrize("guard", OTHER_GUARDS, ids=lambda g: g.name)
def test_other_guards_do_not_use_evidence(guard: Guard) -> None:
    assert guard.uses_evidence is False


def test_uses_evidence_cannot_be_switched_off() -> None:
    with pytest.raises(TypeError):
        SoundPlan(uses_evidence=False)  # type: ignore[call-arg]


def test_check_without_evidence_leaves_evidence_guards_pending(at_air_grievances: resolveflow.Case) -> None:
    decision = at_air_grievances.check("hear_grievances", at=T0)
    assert decision.allowed
    assert decision.pending == ("customer_finished",)
    refused = at_air_grievances.check(
        "hear_grievances", {"points": ["Late"], "customer_finished": False}, at=T0
    )
    assert not refused.allowed
    assert refused.pending == ()
    assert [(r.code, r.missing) for r in refused.refusals] == [
        ("customer_finished", ("customer_finished=True",))
    ]


# --- Rule -----------------------------------------------------------------------


def _rule(result: Any) -> Rule:
    return Rule(name="my_rule", message="My rule says no.", predicate=lambda c: result)


def test_rule_results() -> None:
    assert _rule(True).check(ctx()) is None
    assert _rule(False).check(ctx()) == Refusal(code="my_rule", message="My rule says no.", missing=())
    assert _rule(["a", "b"]).check(ctx()) == Refusal(
        code="my_rule", message="My rule says no.", missing=("a", "b")
    )
    assert _rule(()).check(ctx()) is None
    assert _rule([]).check(ctx()) is None
    assert _rule(x for x in ("gen",)).check(ctx()).missing == ("gen",)
    assert _rule([1, 2]).check(ctx()).missing == ("1", "2")


def test_rule_sees_the_context() -> None:
    seen: list[GuardContext] = []

    def predicate(c: GuardContext) -> bool:
        seen.append(c)
        return c.at.weekday() < 5

    g = Rule(name="on_a_weekday", message="Only on weekdays.", predicate=predicate)
    monday = ctx(at=T0)
    assert g.check(monday) is None
    assert seen == [monday]
    assert g.check(ctx(at=T0 + 5 * DAY)).code == "on_a_weekday"  # a Saturday
    assert g.describe() == "on_a_weekday"
    assert g.uses_evidence is False
    assert Rule(name="r", message="m", predicate=predicate, uses_evidence=True).uses_evidence is True


# --- every kind ------------------------------------------------------------------


class AlwaysNo(Guard):
    name = "always_no"
    message = "Never."

    def check(self, context: GuardContext) -> Refusal | None:
        return self.refuse("something", "else")


def test_custom_guard_subclass() -> None:
    g = AlwaysNo()
    assert g.check(ctx()) == Refusal(code="always_no", message="Never.", missing=("something", "else"))
    assert g.refuse(message="Other.") == Refusal(code="always_no", message="Other.")
    assert g.describe() == "always_no"
    assert g.references() == ()


def test_guard_is_abstract() -> None:
    with pytest.raises(TypeError):
        Guard()  # type: ignore[abstract]


@pytest.mark.parametrize("guard", [*EVIDENCE_GUARDS, *OTHER_GUARDS, AlwaysNo()], ids=lambda g: g.name)
def test_describe_and_names(guard: Guard) -> None:
    assert isinstance(guard.describe(), str)
    assert guard.describe().strip()
    assert CODE.match(guard.name)
    assert guard.message.strip()


def test_builtin_guard_codes_are_refusal_codes() -> None:
    for m in BUILTINS:
        for action in m.actions:
            for guard in action.guards:
                assert CODE.match(guard.name), (m.id, action.name, guard.name)
                assert guard.describe().strip()
                assert guard.message.strip()


def test_a_guard_refusal_is_the_same_as_one_built_by_hand() -> None:
    guard = Requires(record=ev.Plan)
    made = guard.refuse("plan")
    by_hand = Refusal(code="requires_plan", message=guard.message, missing=("plan",))
    assert made == by_hand and hash(made) == hash(by_hand) and repr(made) == repr(by_hand)
