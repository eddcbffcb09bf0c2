"""No bypass: every route around the guards that Python or transitions offers is closed."""

from __future__ import annotations

import copy
import pickle

import pytest

import resolveflow
from tests.conftest import FakeClock


@pytest.fixture
def case() -> resolveflow.Case:
    return resolveflow.open_case("prescription", case_id="BY-1", clock=FakeClock())


@pytest.mark.parametrize("methodology", resolveflow.available())
def test_no_to_state_or_trigger_shortcuts(methodology: str) -> None:
    case = resolveflow.open_case(methodology, case_id="BY")
    m = case.methodology
    names = set(dir(case))
    for step in m.step_ids:
        assert f"to_{step}" not in names
    for action in m.actions:
        assert action.name not in names
        assert f"may_{action.name}" not in names
    assert not {"trigger", "may_trigger", "set_state", "state", "machine"} & names
    assert not any(name.startswith("to_") for name in dir(m._engine._machine.events))
    assert all(not event.startswith("to_") for event in m._engine._machine.events)


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
        "index",
        "methodology",
        "opened_with",
        "recipe",
    ]
    assert not any("cursor" in name.lower() for name in dir(case))
