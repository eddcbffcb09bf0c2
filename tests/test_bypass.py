"""No bypass: every route around the guards that Python or transitions offers is closed."""

from __future__ import annotations

import copy
import pickle
from types import SimpleNamespace

import pytest

import resolveflow
from tests.conftest import FakeClock


@pytest.fixture
def case() -> resolveflow.Case:
    return resolveflow.open_case("prescription", case_id="BY-1", clock=FakeClock())


# What transitions would add to a model it drives: a method per event and per state.
SHORTCUTS_PER_EVENT = ("{}", "may_{}")
SHORTCUTS_PER_STATE = ("to_{}", "may_to_{}", "is_{}")
MACHINE_METHODS = ("trigger", "may_trigger", "set_state", "get_triggers", "state", "machine")


def shortcuts_on(obj: object, methodology: resolveflow.Methodology) -> list[str]:
    """The attributes of ``obj`` that would fire an action or jump to a step without the guards.

    The names come from the methodology's own transitions machine: its events (the
    actions) and its states (the steps and outcomes).
    """
    machine = methodology._engine._machine
    names = [form.format(event) for event in machine.events for form in SHORTCUTS_PER_EVENT]
    names += [form.format(state) for state in machine.states for form in SHORTCUTS_PER_STATE]
    names += MACHINE_METHODS
    return [name for name in names if hasattr(obj, name)]


@pytest.mark.parametrize("methodology", resolveflow.available())
def test_no_to_state_or_trigger_shortcuts(methodology: str) -> None:
    case = resolveflow.open_case(methodology, case_id="BY")
    m = case.methodology
    machine = m._engine._machine
    # The machine's events and states are the methodology's actions, steps and outcomes...
    assert set(machine.events) == {action.name for action in m.actions}
    assert set(machine.states) == {*m.step_ids, *(outcome.id for outcome in m.outcomes)}
    # ...it has no auto-transitions (to_<state> events) and drives no model.
    assert not any(event.startswith("to_") for event in machine.events)
    assert not machine.models
    # The case offers none of the shortcuts a transitions model would have.
    assert shortcuts_on(case, m) == []


def test_the_shortcut_check_finds_a_shortcut() -> None:
    """Guard against a check that cannot fail: an object with the shortcuts is caught."""
    m = resolveflow.get_methodology("prescription")
    model = SimpleNamespace(to_resolved=lambda: None, acknowledge_problem=lambda: None, trigger=None)
    assert shortcuts_on(model, m) == ["acknowledge_problem", "to_resolved", "trigger"]


@pytest.mark.parametrize("attribute", ["step", "outcome", "history", "state", "_history", "id"])
def test_state_cannot_be_assigned(case: resolveflow.Case, attribute: str) -> None:
    with pytest.raises(AttributeError, match="read-only"):
        setattr(case, attribute, "resolved")
    assert case.step == "acknowledge"


def test_state_cannot_be_deleted(case: resolveflow.Case) -> None:
    with pytest.raises(AttributeError):
        del case._history
    assert case.history == ()


def test_no_instance_dict(case: resolveflow.Case) -> None:
    with pytest.raises(AttributeError):
        _ = case.__dict__
    with pytest.raises(TypeError):
        vars(case)


def test_history_is_immutable(case: resolveflow.Case) -> None:
    case.fire(
        "acknowledge_problem", {"customer_perspective": "late", "accepts_accountability": True}, actor="a"
    )
    history = case.history
    assert isinstance(history, tuple)
    with pytest.raises(TypeError):
        history[0] = history[0]  # type: ignore[index]
    with pytest.raises(AttributeError):
        history[0].step = "resolved"  # type: ignore[misc]


@pytest.mark.parametrize(
    "copier",
    [pickle.dumps, copy.copy, copy.deepcopy, lambda c: pickle.dumps(c, protocol=2)],
    ids=["pickle", "copy", "deepcopy", "pickle2"],
)
def test_cannot_pickle_or_copy(case: resolveflow.Case, copier: object) -> None:
    with pytest.raises(TypeError, match="snapshot"):
        copier(case)  # type: ignore[operator]


def test_methodology_is_frozen() -> None:
    m = resolveflow.get_methodology("prescription")
    with pytest.raises(AttributeError):
        m.initial = "prevent_recurrence"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        m.actions[0].guards = ()  # type: ignore[misc]
    assert m.actions[0].guards


def test_forged_snapshot_cannot_skip_a_step(case: resolveflow.Case) -> None:
    data = case.snapshot()
    data["step"] = "resolved"
    data["outcome"] = "resolved"
    with pytest.raises(resolveflow.InvalidSnapshot):
        resolveflow.restore(data)


def test_forged_history_with_valid_hashes_cannot_skip_a_step(case: resolveflow.Case) -> None:
    """Someone who recomputes every hash still cannot jump from acknowledge to resolved."""
    from resolveflow._history import entry_hash, genesis_hash

    body = {
        "seq": 1,
        "action": "commit_prevention",
        "from_step": "acknowledge",
        "step": "resolved",
        "actor": "mallory",
        "at": "2026-01-05T09:00:00+00:00",
        "evidence": {"kind": "training", "description": "x"},
    }
    data = case.snapshot()
    data["history"] = [{**body, "hash": entry_hash(genesis_hash("prescription", "1.0", "BY-1"), body)}]
    data["step"] = "resolved"
    data["outcome"] = "resolved"
    with pytest.raises(resolveflow.InvalidSnapshot, match=r"from step 'acknowledge'|refuse") as info:
        resolveflow.restore(data)
    assert info.value.entry == 1


def test_engine_cursor_is_not_reachable_from_a_case(case: resolveflow.Case) -> None:
    """The case holds no transitions model: its slots are its ledger, clock and listeners."""
    assert sorted(type(case).__slots__) == ["_clock", "_ledger", "_listeners", "_sealed"]
    assert sorted(type(case._ledger).__slots__) == [
        "_entries",
        "_genesis",
        "_tuple",
        "case_id",
        "definitions",
        "index",
        "methodology",
        "opened_with",
        "recipe",
    ]
    assert not any("cursor" in name.lower() for name in dir(case))
