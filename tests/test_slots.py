"""Objects made by the hot paths' slot writers are the objects attrs' __init__ makes."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

import resolveflow
from resolveflow._guards import GuardContext, make_context
from resolveflow._slots import slot_writer


@attrs.frozen(kw_only=True, weakref_slot=False)
class Pair:
    left: int
    right: str = "r"


def test_a_slot_writer_fills_every_named_slot_in_order() -> None:
    make = slot_writer(Pair, "left", "right")
    made = make(1, "x")
    assert made == Pair(left=1, right="x") and repr(made) == repr(Pair(left=1, right="x"))
    assert hash(made) == hash(Pair(left=1, right="x"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.left = 2  # type: ignore[misc]


def test_a_slot_writer_refuses_a_name_that_is_no_slot() -> None:
    with pytest.raises(AttributeError, match="middle"):
        slot_writer(Pair, "left", "middle")


def test_a_made_guard_context_equals_the_constructed_one() -> None:
    case = resolveflow.open_case("engage", case_id="S-1")
    case.fire("engage_fully", {"notes": "x"}, actor="ana")
    at = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    made = make_context(case.step, case.history, None, at, None, None)
    built = GuardContext(step=case.step, history=case.history, evidence=None, at=at)
    assert made == built and repr(made) == repr(built)
    assert made.recorded(type(case.history[0].evidence)) == (case.history[0].evidence,)
