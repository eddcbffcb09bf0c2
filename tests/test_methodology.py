"""Methodology, Step, Outcome and Action: construction-time validation and the read API."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import resolveflow
from resolveflow import Action, Methodology, Outcome, Step
from resolveflow import evidence as ev
from resolveflow.exceptions import InvalidMethodology
from resolveflow.guards import AfterStep, EvidenceIs, Requires, Rule
from resolveflow.methodologies import BUILTINS

# --- a small valid methodology to break, one mistake at a time -----------------


def steps() -> tuple[Step, ...]:
    return (
        Step(id="listen", title="Listen", prompts=("What happened?",)),
        Step(id="fix", title="Fix it", checklist=("Fixed",)),
        Step(id="confirm", title="Confirm"),
    )


def outcomes() -> tuple[Outcome, ...]:
    return (
        Outcome(id="resolved", title="Resolved", successful=True),
        Outcome(id="lost", title="Lost", successful=False),
    )


def actions() -> tuple[Action, ...]:
    return (
        Action(
            name="hear",
            sources="listen",
            target="fix",
            title="Hear the customer",
            evidence=ev.CustomerAccount,
        ),
        Action(
            name="repair",
            sources="fix",
            target="confirm",
            title="Repair",
            guards=(Requires(record=ev.CustomerAccount, at_step="listen"), AfterStep(step="listen")),
        ),
        Action(name="note", sources=("fix", "confirm"), target=None, title="Add a note"),
        Action(name="close", sources="confirm", target="resolved", title="Close"),
        Action(name="give_up", sources=("listen", "fix", "confirm"), target="lost", title="Give up"),
    )


def spec(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "demo",
        "version": "1.0",
        "title": "Demo methodology",
        "source": "tests/test_methodology.py",
        "steps": steps(),
        "actions": actions(),
        "outcomes": outcomes(),
        "initial": "listen",
        "required_steps": ("listen", "fix", "confirm"),
    }
    fields.update(overrides)
    return fields


def build(**overrides: Any) -> Methodology:
    return Methodology(**spec(**overrides))


def with_action(action: Action, *, keep: tuple[str, ...] | None = None) -> Methodology:
    """The demo methodology plus one extra (usually faulty) action."""
    base = actions() if keep is None else tuple(a for a in actions() if a.name in keep)
    return build(actions=(*base, action))


@contextlib.contextmanager
def raises_invalid(*needles: str) -> Iterator[pytest.ExceptionInfo[InvalidMethodology]]:
    """pytest.raises(InvalidMethodology), and the message must contain every needle."""
    with pytest.raises(InvalidMethodology) as info:
        yield info
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in the message: {message!r}"


STEP_LIST = "listen, fix, confirm"


def test_the_demo_methodology_is_valid() -> None:
    m = build()
    assert m.key == ("demo", "1.0")
    assert isinstance(m, Methodology)


# --- identity: id, version, title, source ------------------------------------


@pytest.mark.parametrize(
    "bad_id", ["Seven As", "seven_as", "Seven-as", "", "-seven", "seven-", "seven--as", "7as", None, 7]
)
def test_bad_methodology_id(bad_id: object) -> None:
    with raises_invalid(repr(bad_id), "hyphens", "'seven-as'") as info:
        build(id=bad_id)
    assert info.value.where == "methodology"


@pytest.mark.parametrize("good_id", ["seven-as", "a", "four-steps", "x1-2y"])
def test_good_methodology_ids(good_id: str) -> None:
    assert build(id=good_id).id == good_id


def test_methodology_id_with_a_trailing_newline_is_rejected() -> None:
    # `$` in a regular expression also matches just before a final newline.
    with raises_invalid(repr("demo\n")):
        build(id="demo\n")


@pytest.mark.parametrize(
    "bad_version", ["v1", "1.0.0.0", "", "1.", ".1", "1..0", "1.0-beta", "one", None, 1.0]
)
def test_bad_version(bad_version: object) -> None:
    with raises_invalid(repr(bad_version), "methodology 'demo'", "dotted numbers", "'1.0'"):
        build(version=bad_version)


@pytest.mark.parametrize("good_version", ["1", "1.0", "1.10", "2.0.3", "10.20.30"])
def test_good_versions(good_version: str) -> None:
    assert build(version=good_version).version == good_version


def test_version_with_a_trailing_newline_is_rejected() -> None:
    with raises_invalid(repr("1.0\n")):
        build(version="1.0\n")


@pytest.mark.parametrize("field", ["title", "source"])
@pytest.mark.parametrize("blank", ["", "   ", "\n\t", None, 3])
def test_blank_title_or_source(field: str, blank: object) -> None:
    with raises_invalid("methodology 'demo'", field, "non-blank", repr(blank)):
        build(**{field: blank})


# --- steps and outcomes ------------------------------------------------------


def test_duplicate_step_ids() -> None:
    twice = (*steps(), Step(id="fix", title="Fix again"))
    with raises_invalid("methodology 'demo'", "'fix'", "twice", "unique"):
        build(steps=twice)


def test_step_id_shared_with_an_outcome() -> None:
    clash = (*outcomes(), Outcome(id="confirm", title="Confirmed", successful=True))
    with raises_invalid("methodology 'demo'", "'confirm'", "unique"):
        build(outcomes=clash)


def test_no_steps() -> None:
    with raises_invalid("methodology 'demo'", "at least one step"):
        build(steps=(), actions=(), initial="listen")


def test_no_outcomes() -> None:
    with raises_invalid("methodology 'demo'", "at least one outcome"):
        build(outcomes=(), actions=actions()[:3])


def test_no_successful_outcome() -> None:
    only_lost = (Outcome(id="lost", title="Lost", successful=False),)
    with raises_invalid("methodology 'demo'", "successful outcome"):
        build(outcomes=only_lost, actions=tuple(a for a in actions() if a.name != "close"))


@pytest.mark.parametrize("initial", ["nowhere", "resolved", "lost", ""])
def test_initial_step_unknown_or_an_outcome(initial: str) -> None:
    with raises_invalid("methodology 'demo'", f"initial step {initial!r}", STEP_LIST) as info:
        build(initial=initial)
    # the list offered as "right" holds working steps only
    assert "resolved" not in str(info.value).split(":", 2)[-1]


def test_steps_must_be_step_objects() -> None:
    with raises_invalid("steps must hold Step", "'resolved'"):
        build(steps=(*steps(), Outcome(id="resolved", title="R", successful=True)))


def test_outcomes_must_be_outcome_objects() -> None:
    with raises_invalid("outcomes must hold Outcome", "'extra'"):
        build(outcomes=(*outcomes(), Step(id="extra", title="Extra")))


@pytest.mark.parametrize("bad", ["Listen", "listen-now", "1st", "", "with space", None])
def test_step_and_outcome_ids_must_be_snake_case(bad: object) -> None:
    with raises_invalid(repr(bad), "lowercase letters, digits and underscores") as info:
        Step(id=bad, title="X")
    assert info.value.where == "step"
    with raises_invalid(repr(bad), "lowercase letters") as info:
        Outcome(id=bad, title="X", successful=True)
    assert info.value.where == "outcome"


def test_step_id_with_a_trailing_newline_is_rejected() -> None:
    with raises_invalid(repr("listen\n")):
        Step(id="listen\n", title="Listen")


def test_step_and_outcome_texts_must_not_be_blank() -> None:
    with raises_invalid("step 'listen'", "title"):
        Step(id="listen", title=" ")
    with raises_invalid("step 'listen'", "prompt"):
        Step(id="listen", title="Listen", prompts=("ok", ""))
    with raises_invalid("step 'listen'", "checklist"):
        Step(id="listen", title="Listen", checklist=("  ",))
    with raises_invalid("outcome 'won'", "title"):
        Outcome(id="won", title="", successful=True)
    with raises_invalid("outcome 'won'", "guidance"):
        Outcome(id="won", title="Won", successful=True, guidance=("",))
    with raises_invalid("outcome 'won'", "True or False"):
        Outcome(id="won", title="Won", successful=1)  # type: ignore[arg-type]


def test_single_strings_become_one_item_tuples() -> None:
    step = Step(id="listen", title="Listen", prompts="What happened?", checklist="Heard")
    assert step.prompts == ("What happened?",)
    assert step.checklist == ("Heard",)
    assert Action(name="go", sources="listen", target=None, title="Go").sources == ("listen",)
    assert build(required_steps="listen").required_steps == ("listen",)


# --- actions -----------------------------------------------------------------


def test_action_with_an_unknown_source_lists_the_steps() -> None:
    bad = Action(name="jump", sources=("listen", "elsewhere"), target="fix", title="Jump")
    with raises_invalid("action 'jump'", "'elsewhere'", "listen", "fix", "confirm") as info:
        with_action(bad)
    assert info.value.where == "methodology 'demo', action 'jump'"


def test_action_with_an_unknown_target_lists_the_steps() -> None:
    bad = Action(name="jump", sources="listen", target="nowhere", title="Jump")
    with raises_invalid("action 'jump'", "target 'nowhere'", "listen", "fix", "confirm"):
        with_action(bad)


@pytest.mark.parametrize("outcome", ["resolved", "lost"])
def test_action_leaving_an_outcome(outcome: str) -> None:
    bad = Action(name="reopen", sources=outcome, target="listen", title="Reopen")
    with raises_invalid("action 'reopen'", repr(outcome), "outcome", "no action may leave an outcome"):
        with_action(bad)


def test_actions_may_lead_to_an_outcome_or_nowhere() -> None:
    m = build()
    assert m.action("close").target == "resolved"
    assert m.action("note").target is None


def test_two_actions_with_the_same_name() -> None:
    twin = Action(name="repair", sources="confirm", target="fix", title="Repair again")
    with raises_invalid("action 'repair'", "two actions", "several sources"):
        with_action(twin)


@pytest.mark.parametrize("name", ["fix", "resolved"])
def test_action_named_like_a_step_or_outcome(name: str) -> None:
    bad = Action(name=name, sources="listen", target="confirm", title="Odd")
    with raises_invalid(f"action {name!r}", "step or outcome"):
        with_action(bad)


def test_duplicate_sources_in_one_action() -> None:
    with raises_invalid("action 'repair'", "source twice", "'fix'") as info:
        Action(name="repair", sources=("fix", "listen", "fix"), target="confirm", title="Repair")
    assert info.value.where == "action 'repair'"


def test_action_needs_a_source() -> None:
    with raises_invalid("action 'repair'", "at least one source"):
        Action(name="repair", sources=(), target="confirm", title="Repair")


@pytest.mark.parametrize("bad", ["Repair", "re-pair", "9lives", "", "re pair", None])
def test_action_name_must_be_snake_case(bad: object) -> None:
    with raises_invalid(repr(bad), "lowercase letters", "'offer_solution'") as info:
        Action(name=bad, sources="fix", target="confirm", title="Repair")
    assert info.value.where == "action"


def test_action_title_must_not_be_blank() -> None:
    with raises_invalid("action 'repair'", "title"):
        Action(name="repair", sources="fix", target="confirm", title="  ")


def test_actions_must_be_action_objects() -> None:
    with raises_invalid("actions must hold Action", "got a dict"):  # named by its type: a repr is unbounded
        build(actions=(*actions(), {"name": "close"}))


# --- guards ------------------------------------------------------------------


def _rule(name: str, result: bool = True) -> Rule:
    return Rule(name=name, message="A rule.", predicate=lambda ctx: result)


@pytest.mark.parametrize("bad", ["CamelCase", "with-hyphen", "with space", "1st", "_private", "", "é"])
def test_guard_names_must_be_snake_case(bad: str) -> None:
    with raises_invalid(repr(bad), "refusal codes", "Rule guard"):
        _rule(bad)
    if bad:  # an empty name means "use the default" for these kinds
        with raises_invalid(repr(bad), "AfterStep guard"):
            AfterStep(step="listen", name=bad)
        with raises_invalid(repr(bad), "Requires guard"):
            Requires(record=ev.Plan, name=bad)
    with raises_invalid(repr(bad), "EvidenceIs guard"):
        EvidenceIs(field="satisfied", equals=True, name=bad, message="Must be satisfied.")


def test_guard_default_name_built_from_a_bad_step_id_is_rejected() -> None:
    with raises_invalid("'after_Not A Step'"):
        AfterStep(step="Not A Step")


def test_guard_name_with_a_trailing_newline_is_rejected() -> None:
    with raises_invalid(repr("ok\n")):
        _rule("ok\n")


def test_non_string_guard_name_is_an_invalid_methodology_not_a_type_error() -> None:
    with raises_invalid("5"):
        Rule(name=5, message="m", predicate=lambda ctx: True)  # type: ignore[arg-type]


def test_two_guards_with_the_same_name_on_one_action() -> None:
    with raises_invalid("action 'repair'", "'same'", "distinct name"):
        Action(
            name="repair",
            sources="fix",
            target="confirm",
            title="Repair",
            guards=(_rule("same"), _rule("other"), _rule("same", result=False)),
        )


def test_same_guard_name_on_two_actions_is_fine() -> None:
    a = Action(name="one", sources="listen", target="fix", title="One", guards=(_rule("same"),))
    b = Action(name="two", sources="fix", target="confirm", title="Two", guards=(_rule("same"),))
    build(actions=(a, b, *actions()[2:]))


def test_default_names_can_collide() -> None:
    with raises_invalid("'requires_plan'"):
        Action(
            name="act",
            sources="fix",
            target="confirm",
            title="Act",
            guards=(Requires(record=ev.Plan), Requires(record=ev.Plan, at_step="listen")),
        )


@pytest.mark.parametrize(
    "guard",
    [Requires(record=ev.CustomerAccount, at_step="nowhere"), AfterStep(step="nowhere")],
    ids=["Requires", "AfterStep"],
)
def test_guard_referencing_an_unknown_step(guard: Any) -> None:
    bad = Action(name="jump", sources="fix", target="confirm", title="Jump", guards=(guard,))
    with raises_invalid(
        "action 'jump'", f"guard {guard.name!r}", "'nowhere'", "does not exist", "listen, fix, confirm"
    ):
        with_action(bad)


@pytest.mark.parametrize(
    "guard",
    [Requires(record=ev.CustomerAccount, at_step="resolved"), AfterStep(step="resolved")],
    ids=["Requires", "AfterStep"],
)
def test_guard_referencing_an_outcome_is_rejected(guard: Any) -> None:
    # No action leaves an outcome, so a case at an action's source can never have
    # been at an outcome nor recorded anything there: such a guard can never pass.
    bad = Action(name="jump", sources="fix", target="confirm", title="Jump", guards=(guard,))
    with raises_invalid("action 'jump'", "'resolved'"):
        with_action(bad)


@pytest.mark.parametrize("not_a_guard", [lambda ctx: True, "requires_plan", None, ev.Plan])
def test_non_guard_objects_in_guards(not_a_guard: object) -> None:
    with raises_invalid("action 'repair'", "Guard instances", "Requires"):
        Action(name="repair", sources="fix", target="confirm", title="Repair", guards=(not_a_guard,))


def test_guard_message_must_not_be_blank() -> None:
    # Steps, outcomes and actions reject blank text; a refusal with an empty message
    # would tell the agent nothing.
    with pytest.raises(InvalidMethodology):
        Rule(name="needs_a_message", message="  ", predicate=lambda ctx: True)


# --- required steps ----------------------------------------------------------


def test_required_steps_empty() -> None:
    with raises_invalid("methodology 'demo'", "required_steps", "at least one step"):
        build(required_steps=())


@pytest.mark.parametrize("bad", ["nowhere", "resolved"])
def test_required_step_unknown_or_an_outcome(bad: str) -> None:
    with raises_invalid("methodology 'demo'", f"required step {bad!r}", STEP_LIST):
        build(required_steps=("listen", bad))


def test_required_steps_duplicated_names_the_step() -> None:
    with raises_invalid("methodology 'demo'", "required_steps", "twice", "'fix'"):
        build(required_steps=("listen", "fix", "confirm", "fix"))


# --- evidence ----------------------------------------------------------------


class NotAnAttrsClass:
    text: str


@pytest.mark.parametrize("bad", [dict, str, NotAnAttrsClass, "Plan", 42])
def test_evidence_must_be_an_attrs_class(bad: object) -> None:
    with raises_invalid("attrs class", "evidence record"):
        Action(name="record", sources="fix", target="confirm", title="Record", evidence=bad)


def test_unhashable_evidence_is_an_invalid_methodology_not_a_type_error() -> None:
    with raises_invalid("attrs class"):
        Action(name="record", sources="fix", target="confirm", title="Record", evidence=[ev.Plan])


def test_evidence_with_unsupported_field_type() -> None:
    @attrs.frozen(kw_only=True)
    class Bad:
        when: complex

    with raises_invalid("'when'", "not supported"):
        Action(name="record", sources="fix", target="confirm", title="Record", evidence=Bad)


def test_custom_attrs_evidence_is_accepted() -> None:
    @attrs.frozen(kw_only=True)
    class Refund:
        amount: float = ev.field(minimum=0)
        reference: str = ev.field()

    a = Action(name="refund", sources="fix", target="confirm", title="Refund", evidence=Refund)
    assert a.evidence is Refund
    assert with_action(a).action("refund") is a


# --- wrong types that must still be reported as InvalidMethodology -------------


@pytest.mark.parametrize(
    "overrides",
    [
        lambda: {"initial": ["listen"]},
        # The Action itself refuses a non-text target, before any methodology sees it.
        lambda: {"actions": (Action(name="go", sources="listen", target=["fix"], title="Go"),)},
        lambda: {"required_steps": (["listen"],)},
    ],
    ids=["initial-list", "target-list", "required-list"],
)
def test_unhashable_references_are_invalid_methodology(overrides: Any) -> None:
    with pytest.raises(InvalidMethodology):
        build(**overrides())


# --- a valid methodology: immutable, comparable, queryable ---------------------


@pytest.mark.parametrize(
    ("obj", "attribute", "value"),
    [
        (build(), "id", "other"),
        (build(), "initial", "fix"),
        (build(), "steps", ()),
        (build(), "_engine", None),
        (Step(id="listen", title="Listen"), "title", "Other"),
        (Outcome(id="won", title="Won", successful=True), "successful", False),
        (actions()[0], "target", "confirm"),
        (Requires(record=ev.Plan), "name", "other"),
    ],
)
def test_definitions_are_immutable(obj: object, attribute: str, value: object) -> None:
    before = getattr(obj, attribute)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(obj, attribute, value)
    assert getattr(obj, attribute) == before


def test_collections_are_tuples() -> None:
    m = build(steps=list(steps()), actions=list(actions()), outcomes=list(outcomes()))
    assert isinstance(m.steps, tuple)
    assert isinstance(m.actions, tuple)
    assert isinstance(m.outcomes, tuple)
    assert isinstance(m.required_steps, tuple)


def test_equal_definitions_compare_equal() -> None:
    a, b = build(), build()
    assert a is not b
    assert a == b
    assert hash(a) == hash(b)
    assert a._engine is not b._engine  # each has its own engine, which is not compared
    assert a != build(version="1.1")
    assert a != build(title="Another title")
    assert a != build(actions=actions()[:-1])


def test_evolve_revalidates() -> None:
    m = build()
    newer = attrs.evolve(m, version="2.0")
    assert newer.version == "2.0"
    assert newer.action("hear") == m.action("hear")
    with pytest.raises(InvalidMethodology):
        attrs.evolve(m, initial="resolved")


def test_node() -> None:
    m = build()
    assert m.node("listen") == steps()[0]
    assert isinstance(m.node("listen"), Step)
    assert m.node("lost") == outcomes()[1]
    assert isinstance(m.node("lost"), Outcome)
    with pytest.raises(KeyError, match=r"no step 'nowhere'.*listen, fix, confirm, resolved, lost"):
        m.node("nowhere")


def test_outcome() -> None:
    m = build()
    assert m.outcome("resolved") == outcomes()[0]
    assert m.outcome("lost") == outcomes()[1]
    assert m.outcome("fix") is None
    assert m.outcome("nowhere") is None


def test_action_lookup() -> None:
    m = build()
    for a in m.actions:
        assert m.action(a.name) is a
    assert m.action("nowhere") is None
    assert m.action("listen") is None


def test_actions_from() -> None:
    m = build()
    assert [a.name for a in m.actions_from("listen")] == ["hear", "give_up"]
    assert [a.name for a in m.actions_from("fix")] == ["repair", "note", "give_up"]
    assert [a.name for a in m.actions_from("confirm")] == ["note", "close", "give_up"]
    assert m.actions_from("resolved") == ()
    assert m.actions_from("nowhere") == ()


def test_step_ids_and_successful_outcomes() -> None:
    m = build()
    assert m.step_ids == ("listen", "fix", "confirm", "resolved", "lost")
    assert m.successful_outcomes == ("resolved",)
    both = (Outcome(id="won", title="Won", successful=True), *outcomes())
    assert build(outcomes=both).successful_outcomes == ("won", "resolved")


def test_target_from() -> None:
    m = build()
    note = m.action("note")
    assert note.target is None
    assert note.target_from("fix") == "fix"
    assert note.target_from("confirm") == "confirm"
    assert m.action("close").target_from("confirm") == "resolved"


def test_evidence_schema() -> None:
    m = build()
    schema = m.action("hear").evidence_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "summary" in schema["properties"]
    assert m.action("close").evidence_schema()["$schema"].endswith("2020-12/schema")


@pytest.mark.parametrize("m", BUILTINS, ids=lambda m: m.id)
def test_builtins_are_consistent(m: Methodology) -> None:
    assert m.initial in m.step_ids
    assert m.outcome(m.initial) is None
    assert m.successful_outcomes
    assert set(m.required_steps) <= set(m.step_ids)
    for a in m.actions:
        assert m.action(a.name) is a
        for source in a.sources:
            assert a in m.actions_from(source)
    for o in m.outcomes:
        assert m.actions_from(o.id) == ()
    assert resolveflow.get_methodology(m.id, m.version) == m


# --- property-based: random small methodologies ---------------------------------

NAMES = st.from_regex(re.compile(r"[a-z][a-z0-9_]{0,7}"), fullmatch=True)


@st.composite
def methodology_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A linear chain of steps to a successful outcome, plus random extra edges."""
    n_steps = draw(st.integers(1, 5))
    n_outcomes = draw(st.integers(1, 3))
    n_extra = draw(st.integers(0, 5))
    names = draw(st.lists(NAMES, min_size=n_steps + n_outcomes + n_extra + 1, unique=True))
    # prefixes keep the kinds apart: s_ steps, o_ outcomes, g_ chain and x_ extra actions
    step_ids = [f"s_{n}" for n in names[:n_steps]]
    outcome_ids = [f"o_{n}" for n in names[n_steps : n_steps + n_outcomes]]
    extra_names = names[n_steps + n_outcomes : n_steps + n_outcomes + n_extra]
    successes = [True, *draw(st.lists(st.booleans(), min_size=n_outcomes - 1, max_size=n_outcomes - 1))]
    chain = [
        Action(
            name=f"g_{i}",
            sources=step_ids[i],
            target=([*step_ids, outcome_ids[0]])[i + 1],
            title=f"Go {i}",
        )
        for i in range(n_steps)
    ]
    extras = []
    for name in extra_names:
        sources = draw(st.lists(st.sampled_from(step_ids), min_size=1, max_size=n_steps, unique=True))
        target = draw(st.none() | st.sampled_from(step_ids + outcome_ids))
        guards = draw(
            st.lists(st.sampled_from(step_ids), max_size=2, unique=True).map(
                lambda refs: tuple(AfterStep(step=ref) for ref in refs)
            )
        )
        extras.append(Action(name=f"x_{name}", sources=sources, target=target, title=name, guards=guards))
    all_actions = draw(st.permutations(chain + extras))
    required = draw(st.lists(st.sampled_from(step_ids), min_size=1, unique=True))
    return {
        "id": draw(st.from_regex(re.compile(r"[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,4}){0,2}"), fullmatch=True)),
        "version": draw(
            st.from_regex(re.compile(r"(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){0,2}"), fullmatch=True)
        ),
        "title": "Random",
        "source": "hypothesis",
        "steps": tuple(Step(id=s, title=s.title()) for s in step_ids),
        "outcomes": tuple(
            Outcome(id=o, title=o.title(), successful=ok)
            for o, ok in zip(outcome_ids, successes, strict=True)
        ),
        "actions": tuple(all_actions),
        "initial": draw(st.sampled_from(step_ids)),
        "required_steps": tuple(required),
    }


@given(methodology_specs())
def test_random_valid_methodologies_construct(fields: dict[str, Any]) -> None:
    m = Methodology(**fields)
    assert m == Methodology(**fields)
    step_ids = [s.id for s in m.steps]
    assert m.step_ids == (*step_ids, *(o.id for o in m.outcomes))
    # actions_from partitions the (action, source) pairs by source, in declaration order
    pairs = [(a.name, s) for a in m.actions for s in a.sources]
    collected = [(a.name, s) for s in m.step_ids for a in m.actions_from(s)]
    assert sorted(collected) == sorted(pairs)
    assert len(collected) == len(set(collected))
    for s in m.step_ids:
        listed = m.actions_from(s)
        assert all(s in a.sources for a in listed)
        assert list(listed) == [a for a in m.actions if s in a.sources]
    for o in m.outcomes:
        assert m.actions_from(o.id) == ()
    for a in m.actions:
        assert m.action(a.name) is a
        for s in a.sources:
            assert a.target_from(s) == (s if a.target is None else a.target)


def _edits(fields: dict[str, Any]) -> dict[str, Any]:
    """Named ways to break a valid spec, each applied on its own."""
    steps_, outcomes_, actions_ = fields["steps"], fields["outcomes"], fields["actions"]
    first, outcome = steps_[0].id, outcomes_[0].id
    return {
        "bad_id": {"id": "Not Valid"},
        "underscore_id": {"id": "has_underscore"},
        "bad_version": {"version": "v1"},
        "four_part_version": {"version": "1.0.0.0"},
        "blank_title": {"title": " "},
        "blank_source": {"source": ""},
        "duplicate_step": {"steps": (*steps_, Step(id=first, title="Again"))},
        "step_shares_outcome_id": {"steps": (*steps_, Step(id=outcome, title="Clash"))},
        "no_steps": {"steps": ()},
        "no_outcomes": {"outcomes": ()},
        "no_success": {"outcomes": tuple(attrs.evolve(o, successful=False) for o in outcomes_)},
        "initial_unknown": {"initial": "zz_unknown"},
        "initial_outcome": {"initial": outcome},
        "unknown_source": {
            "actions": (*actions_, Action(name="zz", sources="zz_nowhere", target=None, title="Z"))
        },
        "unknown_target": {
            "actions": (*actions_, Action(name="zz", sources=first, target="zz_nowhere", title="Z"))
        },
        "leaves_outcome": {
            "actions": (*actions_, Action(name="zz", sources=outcome, target=first, title="Z"))
        },
        "duplicate_action": {"actions": (*actions_, actions_[0])},
        "action_named_like_step": {
            "actions": (*actions_, Action(name=first, sources=first, target=None, title="Z"))
        },
        "guard_unknown_step": {
            "actions": (
                *actions_,
                Action(
                    name="zz", sources=first, target=None, title="Z", guards=(AfterStep(step="zz_nowhere"),)
                ),
            )
        },
        "required_empty": {"required_steps": ()},
        "required_unknown": {"required_steps": (*fields["required_steps"], "zz_nowhere")},
        "required_outcome": {"required_steps": (*fields["required_steps"], outcome)},
        "required_duplicate": {"required_steps": (*fields["required_steps"], fields["required_steps"][0])},
    }


EDIT_NAMES = (
    "bad_id",
    "underscore_id",
    "bad_version",
    "four_part_version",
    "blank_title",
    "blank_source",
    "duplicate_step",
    "step_shares_outcome_id",
    "no_steps",
    "no_outcomes",
    "no_success",
    "initial_unknown",
    "initial_outcome",
    "unknown_source",
    "unknown_target",
    "leaves_outcome",
    "duplicate_action",
    "action_named_like_step",
    "guard_unknown_step",
    "required_empty",
    "required_unknown",
    "required_outcome",
    "required_duplicate",
)


@given(methodology_specs(), st.sampled_from(EDIT_NAMES))
def test_random_invalid_edits_are_rejected(fields: dict[str, Any], edit: str) -> None:
    edits = _edits(fields)
    assert set(edits) == set(EDIT_NAMES)
    broken = {**fields, **edits[edit]}
    with pytest.raises(InvalidMethodology) as info:
        Methodology(**broken)
    assert str(info.value)
    assert info.value.where
