"""Guards are checked against the action they guard, and must answer properly at run time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

import resolveflow
from resolveflow import Action, Methodology, Outcome, Refusal, Step, guards
from resolveflow import evidence as ev
from resolveflow.guards import (
    GuardContext,
    GuardField,
    guard_kinds,
    register_guard_kind,
    unregister_guard_kind,
)


def one_step(action: Action) -> Methodology:
    return Methodology(
        id="one",
        version="1.0",
        title="One",
        source="tests",
        steps=(Step(id="a", title="A"),),
        outcomes=(Outcome(id="done", title="Done", successful=True),),
        actions=(action,),
        initial="a",
        required_steps=("a",),
    )


def test_guard_reading_a_field_the_record_lacks() -> None:
    with pytest.raises(
        resolveflow.exceptions.InvalidMethodology,
        match=r"reads field 'happy'.*fields are: satisfied, comment",
    ):
        Action(
            name="close", sources="a", target="done", title="Close", evidence=ev.SatisfactionConfirmation,
            guards=(guards.EvidenceIs(field="happy", equals=True, name="happy", message="Happy?"),),
        )  # fmt: skip


def test_guard_reading_evidence_on_an_action_without_any() -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="records none"):
        Action(
            name="close", sources="a", target="done", title="Close",
            guards=(guards.EvidenceIs(field="satisfied", equals=True, name="ok", message="OK?"),),
        )  # fmt: skip
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="records none"):
        Action(name="close", sources="a", target="done", title="Close", guards=(guards.SoundPlan(),))


def test_time_guard_on_a_field_that_is_not_a_time() -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="not a datetime"):
        Action(
            name="later", sources="a", target="done", title="Later", evidence=ev.Reschedule,
            guards=(guards.LaterThanNow(field="reason", name="later", message="Later."),),
        )  # fmt: skip


class Bare(guards.Guard):
    def check(self, context: GuardContext) -> Refusal | None:
        return None


class Answers(guards.Guard):
    name = "answers"
    message = "Answers something."

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def check(self, context: GuardContext) -> Any:
        return self.answer


def test_custom_guard_without_name_or_message() -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="needs a 'name'"):
        Action(name="go", sources="a", target="done", title="Go", guards=(Bare(),))
    blank = Answers(None)
    blank.message = " "
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="non-blank 'message'"):
        Action(name="go", sources="a", target="done", title="Go", guards=(blank,))


def test_guard_names_cannot_take_engine_codes() -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="reserved"):
        Action(
            name="go", sources="a", target="done", title="Go",
            guards=(guards.Rule(name="case_closed", message="x", predicate=lambda c: True),),
        )  # fmt: skip


@pytest.mark.parametrize("answer", [False, True, "no", 0])
def test_a_guard_answering_neither_none_nor_refusal(answer: Any) -> None:
    case = resolveflow.open_case(
        one_step(Action(name="go", sources="a", target="done", title="Go", guards=(Answers(answer),))),
        case_id="G",
    )
    for call in (lambda: case.check("go"), lambda: case.fire("go", actor="x")):
        with pytest.raises(resolveflow.exceptions.InvalidMethodology, match=r"returns None .* or a Refusal"):
            call()
    assert case.history == ()


@pytest.mark.parametrize("result", [None, 1, 2.5])
def test_a_rule_predicate_answering_nonsense(result: Any) -> None:
    rule = guards.Rule(name="odd", message="Odd.", predicate=lambda ctx: result)
    case = resolveflow.open_case(
        one_step(Action(name="go", sources="a", target="done", title="Go", guards=(rule,))), case_id="R"
    )
    with pytest.raises(
        resolveflow.exceptions.InvalidMethodology, match="return True, False or the missing items"
    ):
        case.fire("go", actor="x")
    assert case.history == ()


def test_a_rule_predicate_returning_one_missing_item() -> None:
    rule = guards.Rule(name="needs_x", message="Needs x.", predicate=lambda ctx: "x")
    case = resolveflow.open_case(
        one_step(Action(name="go", sources="a", target="done", title="Go", guards=(rule,))), case_id="R"
    )
    assert case.check("go").refusals[0].missing == ("x",)


def test_rules_with_different_predicates_make_different_methodologies() -> None:
    def make(predicate: Any) -> Methodology:
        rule = guards.Rule(name="r", message="R.", predicate=predicate)
        return one_step(Action(name="go", sources="a", target="done", title="Go", guards=(rule,)))

    yes = make(lambda ctx: True)
    assert yes == attrs.evolve(yes)
    assert yes != make(lambda ctx: False)


# --- time guards: not before, within a deadline ----------------------------------


def timed_flow() -> Methodology:
    return Methodology(
        id="timed",
        version="1.0",
        title="Timed",
        source="tests",
        steps=(Step(id="a", title="A"), Step(id="waiting", title="Waiting"), Step(id="b", title="B")),
        outcomes=(
            Outcome(id="done", title="Done", successful=True),
            Outcome(id="late", title="Late", successful=False),
        ),
        actions=(
            Action(name="schedule", sources="a", target="waiting", title="Schedule", evidence=ev.Reschedule),
            Action(
                name="resume", sources="waiting", target="b", title="Resume",
                guards=(guards.NotBefore(record=ev.Reschedule, field="resume_at", name="not_yet",
                                              message="Wait for the agreed time."),),
            ),
            Action(
                name="finish", sources="b", target="done", title="Finish",
                guards=(guards.WithinDeadline(step="b", hours=2, name="in_time",
                                                   message="Finish within two hours."),),
            ),
            Action(name="give_up", sources=("a", "waiting", "b"), target="late", title="Give up"),
        ),
        initial="a",
        required_steps=("a", "waiting", "b"),
    )  # fmt: skip


def test_not_before_and_within_deadline() -> None:
    from tests.conftest import T0, FakeClock

    clock = FakeClock()
    case = resolveflow.open_case(timed_flow(), case_id="T", clock=clock)
    case.fire(
        "schedule", {"resume_at": (T0 + dt.timedelta(hours=1)).isoformat(), "reason": "busy"}, actor="a"
    )
    refusal = case.check("resume").refusals[0]
    assert (refusal.code, refusal.missing) == ("not_yet", ("not_before:2026-01-05T10:00:00+00:00",))
    assert refusal.message.endswith(" Not before 2026-01-05T10:00:00+00:00.")  # the words name the time
    clock.advance(hours=1)
    case.fire("resume", actor="a")
    clock.advance(hours=2)
    assert case.check("finish").allowed
    clock.advance(minutes=1)
    assert [r.code for r in case.check("finish").refusals] == ["in_time"]
    assert case.check("give_up").allowed
    assert resolveflow.verify(case.methodology).ok


def test_time_guards_are_checked_when_made() -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="not a datetime field of Reschedule"):
        guards.NotBefore(record=ev.Reschedule, field="reason", name="x", message="X.")
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="positive time limit"):
        guards.WithinDeadline(step="a", name="x", message="X.")
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="positive time limit"):
        guards.WithinDeadline(step="a", hours=-1, name="x", message="X.")
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="names step 'nowhere'"):
        attrs.evolve(
            timed_flow(),
            actions=(
                *timed_flow().actions,
                Action(
                    name="odd", sources="a", target=None, title="Odd",
                    guards=(guards.WithinDeadline(step="nowhere", days=1, name="x", message="X."),),
                ),
            ),
        )  # fmt: skip


def test_time_guards_round_trip_through_files() -> None:
    m = timed_flow()
    for fmt in ("yaml", "toml", "json"):
        text = resolveflow.files.dump_methodology(m, fmt)
        assert "not_before" in text and "within" in text
        assert resolveflow.files.methodology_from_text(text, fmt) == m


# --- guard kinds for methodology files ------------------------------------------------


@attrs.frozen(kw_only=True)
class Limit(guards.Guard):
    amount: int
    name: str = "within_limit"
    message: str = "Over the limit."

    def check(self, context: GuardContext) -> Refusal | None:
        return None


def limit_kind(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "name": "limit",
        "guard": Limit,
        "description": "Stays within a limit.",
        "fields": [GuardField("amount", "integer", "The limit.")],
        "defaults": True,
    }
    arguments.update(changes)
    return arguments


def test_a_registered_kind_is_listed_until_unregistered() -> None:
    kind = register_guard_kind(**limit_kind())
    try:
        assert kind in guard_kinds()
        assert kind.keys() == ("kind", "amount", "name", "message")
    finally:
        unregister_guard_kind("limit")
    assert kind not in guard_kinds()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "Limit"}, "guard kind: guard kind names are what a file writes after 'kind:'"),
        (
            {"name": "requires"},
            "guard kind 'requires': the name is already taken by Requires",
        ),
        ({"guard": ev.Plan}, "guard kind 'limit': expected a Guard subclass, got <class"),
        (
            {"guard": guards.Rule},
            "guard kind 'limit': a Rule holds Python code, which a file cannot",
        ),
        (
            {"guard": guards.Requires},
            "guard kind 'limit': Requires is already the guard kind 'requires'; a class is one kind",
        ),
        ({"description": " "}, "guard kind 'limit': needs a description"),
        (
            {"fields": [GuardField("amount", "int", "The limit.")]},
            "guard kind 'limit', field 'amount': unknown field type 'int' (did you mean 'integer'?); "
            "types are: text, name, integer,",
        ),
        ({"fields": [GuardField("Amount", "integer", "x")]}, "field keys are snake_case words, got 'Amount'"),
        ({"fields": [GuardField("message", "text", "x")]}, "'message' is a key of every guard kind"),
        (
            {"fields": [GuardField("amount", "integer", "x"), GuardField("amount", "integer", "y")]},
            "field 'amount': the key is listed twice",
        ),
        ({"fields": [GuardField("level", "choice", "x")]}, "a choice field, and only a choice field"),
        (
            {"fields": [GuardField("equals", "evidence_value", "x", of="field")]},
            "a evidence_value field names, with 'of', an earlier evidence_field key of its kind; got 'field'",
        ),
        ({"fields": [GuardField("amount", "text", "x", minimum=0)]}, "only integer and number fields take"),
        (
            {"fields": [GuardField("step", "step", "x", datetime=True)]},
            "only evidence_field and record_field",
        ),
        ({"fields": ["amount"]}, "fields must be GuardField entries, got 'amount'"),
        (
            {"fields": [GuardField("amount", "integer", "x", attr="limit")]},
            "the key 'amount' fills the keyword 'limit', which Limit() does not take; "
            "it takes: amount, name, message",
        ),
        (
            {"guard": Answers, "fields": []},
            "the key 'name' fills the keyword 'name', which Answers() does not take; it takes: answer",
        ),
    ],
)
def test_registering_a_bad_kind_says_what_is_expected(changes: dict[str, Any], message: str) -> None:
    before = guard_kinds()
    with pytest.raises(resolveflow.exceptions.InvalidMethodology) as info:
        register_guard_kind(**limit_kind(**changes))
    assert str(info.value).startswith(message) or message in str(info.value), str(info.value)
    assert guard_kinds() == before


def test_resolveflows_own_kinds_stay() -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="own guard kinds cannot be removed"):
        unregister_guard_kind("requires")
    with pytest.raises(
        resolveflow.exceptions.InvalidMethodology, match="no such guard kind; registered: requires"
    ):
        unregister_guard_kind("nothing")


def test_a_key_read_with_another_needs_it() -> None:
    @attrs.frozen(kw_only=True)
    class Since(guards.Guard):
        at: str | None = None
        record: type | None = None
        name: str = "since"
        message: str = "Not yet."

        def check(self, context: GuardContext) -> Refusal | None:
            return None

    fields = [
        GuardField("record", "record", "A record.", required=False),
        GuardField("at", "record_field", "Its time.", of="record", datetime=True, required=False),
    ]
    register_guard_kind("since", Since, description="Since a time.", fields=fields, defaults=True)
    try:
        data = resolveflow.files.methodology_to_dict(
            one_step(Action(name="go", sources="a", target="done", title="Go"))
        )
        data["actions"][0]["guards"] = [{"kind": "since", "at": "resume_at"}]
        with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile) as info:
            resolveflow.files.methodology_from_dict(data)
        assert info.value.key_path == "actions[0].guards[0].at"
        assert info.value.reason == "give 'record' too: this key is read with it"
    finally:
        unregister_guard_kind("since")
