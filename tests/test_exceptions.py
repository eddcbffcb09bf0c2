"""The exception tree: one root, the documented shape, and context on every error."""

from __future__ import annotations

import copy
import datetime as dt
import inspect
import re

import pytest

import resolveflow
from resolveflow import exceptions
from resolveflow.exceptions import (
    InvalidEvidence,
    InvalidInput,
    InvalidMethodology,
    InvalidSnapshot,
    Refused,
    ResolveflowError,
    UnknownAction,
    UnknownMethodology,
)

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


# --- the tree --------------------------------------------------------------------


def documented_tree() -> tuple[str, dict[str, tuple[str, str]]]:
    """(root, {child: (drawn parent, description)}) parsed from the module docstring's drawing."""
    doc = exceptions.__doc__
    assert doc
    lines = doc.split("The tree::", 1)[1].strip("\n").splitlines()
    drawing = []
    for line in lines:
        if not line.strip():
            break
        drawing.append(line.rstrip()[4:])  # the drawing is indented by four spaces
    root = drawing[0].strip()
    children: dict[str, tuple[str, str]] = {}
    parents = [root]  # parents[depth] is the last class drawn at that depth
    for line in drawing[1:]:
        match = re.fullmatch(r"((?:[│ ]   )*)[├└]── (\w+)\s+(.+)", line)
        assert match, f"unexpected line in the drawing: {line!r}"
        depth = len(match.group(1)) // 4 + 1
        del parents[depth:]
        children[match.group(2)] = (parents[depth - 1], match.group(3))
        parents.append(match.group(2))
    return root, children


def public_exception_classes() -> dict[str, type[BaseException]]:
    return {
        name: obj
        for name, obj in vars(exceptions).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == exceptions.__name__
    }


@pytest.mark.parametrize("name", exceptions.__all__)
def test_every_exported_exception_derives_from_the_root(name: str) -> None:
    cls = getattr(exceptions, name)
    assert inspect.isclass(cls)
    assert issubclass(cls, ResolveflowError)
    assert issubclass(cls, Exception)
    if name in resolveflow.__all__:  # the ones most code catches are re-exported, the same class
        assert getattr(resolveflow, name) is cls
    assert cls.__doc__
    assert cls.__doc__.strip()


def test_all_lists_every_exception_class() -> None:
    assert sorted(exceptions.__all__) == sorted(public_exception_classes())


def test_docstring_tree_matches_the_classes() -> None:
    root, children = documented_tree()
    assert root == "ResolveflowError"
    assert getattr(exceptions, root) is ResolveflowError
    assert set(children) | {root} == set(exceptions.__all__)
    for name, (parent, description) in children.items():
        cls = getattr(exceptions, name)
        # drawn under its nearest resolveflow base class, and under no other
        ours = [c for c in cls.__mro__[1:] if c.__module__ == exceptions.__name__]
        assert ours[0] is getattr(exceptions, parent), (name, parent, ours)
        assert description.strip(), name
    assert ResolveflowError.__bases__ == (Exception,)


def test_docstring_tree_has_no_duplicates() -> None:
    doc = exceptions.__doc__ or ""
    drawn = re.findall(r"[├└]── (\w+)", doc)
    assert len(drawn) == len(set(drawn))


def test_stdlib_bases_allow_familiar_except_clauses() -> None:
    assert issubclass(InvalidMethodology, ValueError)
    assert issubclass(UnknownMethodology, LookupError)
    assert issubclass(UnknownAction, LookupError)
    assert issubclass(InvalidEvidence, ValueError)
    assert issubclass(InvalidInput, ValueError)
    assert issubclass(InvalidSnapshot, ValueError)


# --- context attributes on errors raised by real calls ------------------------------


@pytest.fixture
def case() -> resolveflow.Case:
    return resolveflow.open_case("seven-as", case_id="exc-1")


def test_refused(case: resolveflow.Case) -> None:
    with pytest.raises(Refused) as info:
        case.fire("complete_plan", actor="ana", at=T0)
    error = info.value
    assert error.action == "complete_plan"
    assert error.step == "acknowledge"
    assert len(error.refusals) == 1
    assert isinstance(error.refusals[0], resolveflow.Refusal)
    assert error.codes == ("not_from_this_step",)
    message = str(error)
    assert "'complete_plan'" in message
    assert "'acknowledge'" in message
    assert "[not_from_this_step]" in message
    assert "acknowledge_feelings" in message  # what can be done here instead
    assert case.history == ()


def test_refused_by_a_guard(case: resolveflow.Case) -> None:
    case.fire("acknowledge_feelings", {"feelings": "Angry"}, actor="ana", at=T0)
    with pytest.raises(Refused) as info:
        case.fire("hear_grievances", {"points": ["Late"], "customer_finished": False}, actor="ana", at=T0)
    assert info.value.codes == ("customer_finished",)
    assert info.value.step == "air_grievances"
    assert "Let the customer finish" in str(info.value)
    assert len(case.history) == 1


def test_invalid_evidence(case: resolveflow.Case) -> None:
    with pytest.raises(InvalidEvidence) as info:
        case.fire("acknowledge_feelings", {"feelings": 3, "extra": 1}, actor="ana", at=T0)
    error = info.value
    assert error.action == "acknowledge_feelings"
    assert error.paths == ("extra", "feelings")
    assert all(isinstance(p, str) and p for _, p in error.errors)
    message = str(error)
    assert "'acknowledge_feelings'" in message
    assert "extra" in message
    assert "feelings" in message
    assert case.history == ()


def test_invalid_evidence_when_none_given(case: resolveflow.Case) -> None:
    with pytest.raises(InvalidEvidence) as info:
        case.fire("acknowledge_feelings", actor="ana", at=T0)
    assert info.value.paths == ("",)
    assert "<evidence>" in str(info.value)


def test_unknown_action(case: resolveflow.Case) -> None:
    with pytest.raises(UnknownAction) as info:
        case.fire("fly_away", actor="ana", at=T0)
    error = info.value
    assert error.action == "fly_away"
    assert error.step == "acknowledge"
    assert error.methodology == "seven-as"
    assert error.available == ("acknowledge_feelings",)
    message = str(error)
    assert "'fly_away'" in message
    assert "acknowledge_feelings" in message
    with pytest.raises(UnknownAction):
        case.check("fly_away")


def test_unknown_action_on_a_closed_case() -> None:
    closed = resolveflow.open_case(resolveflow.get_methodology("prescription", "1.0"), case_id="exc-2")
    closed.fire("declare_cannot_satisfy", {"reason": "Wants what we cannot give."}, actor="ana", at=T0)
    assert closed.closed
    with pytest.raises(UnknownAction) as info:
        closed.fire("fly_away", actor="ana", at=T0)
    assert info.value.available == ()
    assert "closed" in str(info.value)


def test_unknown_methodology() -> None:
    with pytest.raises(UnknownMethodology) as info:
        resolveflow.get_methodology("no-such-flow")
    error = info.value
    assert error.methodology_id == "no-such-flow"
    assert error.version is None
    assert "seven-as" in error.available
    assert "seven-as" in str(error)
    with pytest.raises(UnknownMethodology) as info:
        resolveflow.get_methodology("seven-as", "7.7")
    assert info.value.version == "7.7"
    assert "1.0" in info.value.available
    assert "'7.7'" in str(info.value)


def test_invalid_input(case: resolveflow.Case) -> None:
    with pytest.raises(InvalidInput) as info:
        case.fire("acknowledge_feelings", {"feelings": "Angry"}, actor="  ")
    assert info.value.argument == "actor"
    assert str(info.value).startswith("actor: ")
    with pytest.raises(InvalidInput) as info:
        case.fire("acknowledge_feelings", {"feelings": "Angry"}, actor="ana", at=dt.datetime(2026, 1, 5))
    assert info.value.argument == "at"
    assert "time zone" in str(info.value)
    with pytest.raises(InvalidInput) as info:
        resolveflow.open_case("seven-as", case_id="")
    assert info.value.argument == "case_id"
    assert case.history == ()


def test_invalid_snapshot(case: resolveflow.Case) -> None:
    case.fire("acknowledge_feelings", {"feelings": "Angry"}, actor="ana", at=T0)
    case.fire("hear_grievances", {"points": ["Late"], "customer_finished": True}, actor="ana", at=T0)
    snapshot = case.snapshot()
    tampered = copy.deepcopy(snapshot)
    tampered["history"][1]["actor"] = "mallory"
    with pytest.raises(InvalidSnapshot) as info:
        resolveflow.restore(tampered)
    assert info.value.entry == 2
    assert info.value.reason
    assert "history entry 2" in str(info.value)
    with pytest.raises(InvalidSnapshot) as info:
        resolveflow.restore({"format": "nope"})
    assert info.value.entry is None
    assert "format" in info.value.reason
    assert resolveflow.restore(snapshot).history == case.history


def test_invalid_methodology_where() -> None:
    with pytest.raises(InvalidMethodology) as info:
        resolveflow.Step(id="Bad Id", title="X")
    assert info.value.where == "step"
    assert str(info.value).startswith("step: ")


# --- constructing each error directly ------------------------------------------------


def test_direct_construction_keeps_context() -> None:
    refusal = resolveflow.Refusal(code="c", message="M.")
    cases = [
        (InvalidMethodology("bad", where="action 'x'"), {"where": "action 'x'"}, "action 'x': bad"),
        (InvalidMethodology("bad"), {"where": ""}, "bad"),
        (
            UnknownMethodology("m", available=["a", "b"]),
            {"methodology_id": "m", "version": None, "available": ("a", "b")},
            "a, b",
        ),
        (UnknownMethodology("m"), {"available": ()}, "none"),
        (
            UnknownAction("x", step="s", methodology="m", available=["y"]),
            {"action": "x", "step": "s", "methodology": "m", "available": ("y",)},
            "'x'",
        ),
        (
            InvalidEvidence(action="a", errors=[("f", "is required")]),
            {"action": "a", "errors": (("f", "is required"),), "paths": ("f",)},
            "f: is required",
        ),
        (InvalidInput("blank", argument="actor"), {"argument": "actor"}, "actor: blank"),
        (
            Refused(action="a", step="s", refusals=[refusal]),
            {"action": "a", "step": "s", "refusals": (refusal,), "codes": ("c",)},
            "[c] M.",
        ),
        (InvalidSnapshot("broken", entry=3), {"entry": 3, "reason": "broken"}, "history entry 3: broken"),
        (InvalidSnapshot("broken"), {"entry": None}, "invalid snapshot: broken"),
    ]
    for error, attributes, needle in cases:
        assert isinstance(error, ResolveflowError)
        for name, value in attributes.items():
            assert getattr(error, name) == value, (type(error).__name__, name)
        assert needle in str(error), (type(error).__name__, str(error))


def test_catching_the_root(case: resolveflow.Case) -> None:
    failures = [
        lambda: resolveflow.get_methodology("no-such-flow"),
        lambda: case.fire("fly_away", actor="ana"),
        lambda: case.fire("complete_plan", actor="ana"),
        lambda: case.fire("acknowledge_feelings", {}, actor="ana"),
        lambda: case.fire("acknowledge_feelings", {"feelings": "x"}, actor=""),
        lambda: resolveflow.restore([]),
        lambda: resolveflow.Step(id="", title="x"),
        lambda: resolveflow.open_case(42, case_id="x"),
    ]
    for fail in failures:
        with pytest.raises(ResolveflowError) as info:
            fail()
        assert str(info.value)
    assert case.history == ()
