"""A fuzz suite over the public entry points: hostile values in, only resolveflow errors out.

Each property throws values an attacker would try (deep nesting, huge
numbers, lone surrogates, control characters, extreme or broken times, odd
mapping keys) at one entry point and insists on three things: nothing but a
``ResolveflowError`` leaves it, a call that raised changed nothing, and the
memory it took stays bounded (``tracemalloc``'s peak, never wall time).

Extend it by adding a strategy to ``HOSTILE`` or a property below. It runs
``FUZZ_EXAMPLES`` examples per property (60 unless the environment says
otherwise); run it deeper on demand with ``RESOLVEFLOW_FUZZ_EXAMPLES=2000
pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import resolveflow
from resolveflow.exceptions import ResolveflowError
from resolveflow.files import methodology_from_text

FUZZ_EXAMPLES = int(os.environ.get("RESOLVEFLOW_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PEAK_BYTES = 64 * 1024 * 1024  # far above any honest call, far below an alias bomb's gigabytes


def _deep(levels: int, leaf: object = None) -> object:
    value: object = leaf
    for _ in range(levels):
        value = [value]
    return value


_TEXT = st.text(st.characters(codec=None), max_size=50) | st.sampled_from(
    ["\ud800", "a\x00b", "\u2028", "x" * 10_000, "", "   ", "[/bold]", "%s%n", "\u202e"]
)


def _huge(digits: int) -> int:
    return 10**digits  # built on use: Hypothesis shows strategies with repr(), which a 5,000-digit int breaks


_NUMBERS = (
    st.integers()
    | st.sampled_from([2**53, -(2**53)])
    | st.builds(_huge, st.sampled_from([400, 5_000]))
    | st.floats()
)
_TIMES = st.sampled_from(
    [
        dt.datetime.max.replace(tzinfo=dt.timezone(-dt.timedelta(hours=14))),
        dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=14))),
        dt.datetime(2026, 1, 1),  # naive
    ]
) | st.datetimes(timezones=st.timezones() | st.none())
# A time zone that fails to answer is tried by tests/test_hostile_inputs.py: Hypothesis itself
# hashes generated values, which such a datetime cannot survive.
_LEAVES = st.none() | st.booleans() | _NUMBERS | _TEXT | _TIMES | st.sampled_from([b"bytes", object(), len])
HOSTILE: st.SearchStrategy[Any] = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.one_of(_TEXT, st.integers(), st.tuples(st.integers())), inner, max_size=4)
    ),
    max_leaves=12,
) | st.builds(_deep, st.sampled_from([200, 5_000, 10_000]), st.sampled_from([None, {"a": 1}, "x"]))
"""Values an attacker would send: extend it and every property below tries the new ones."""


def _bounded(call: Callable[[], object]) -> object:
    """Run ``call``: its result or its ResolveflowError; anything else, or too much memory, fails."""
    tracemalloc.start()
    try:
        try:
            outcome: object = call()
        except ResolveflowError as error:
            str(error)  # the message itself must be buildable
            outcome = error
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"took {peak:,} bytes"
    return outcome


def _case() -> resolveflow.Case:
    case = resolveflow.open_case("seven-as", case_id="FZ-1")
    case.fire("acknowledge_feelings", {"feelings": "Upset about the bill."}, actor="ana")
    return case


@FUZZ
@given(action=HOSTILE | st.sampled_from(["hear_grievances", "give_apology"]), evidence=HOSTILE, actor=HOSTILE)
def test_fire_raises_only_resolveflow_errors_and_changes_nothing_on_error(
    action: Any, evidence: Any, actor: Any
) -> None:
    case = _case()
    before = case.snapshot()
    outcome = _bounded(lambda: case.fire(action, evidence, actor=actor))
    if isinstance(outcome, ResolveflowError):
        assert case.snapshot() == before


@FUZZ
@given(action=HOSTILE | st.just("hear_grievances"), evidence=HOSTILE, at=HOSTILE | _TIMES)
def test_check_answers_or_raises_only_resolveflow_errors(action: Any, evidence: Any, at: Any) -> None:
    case = _case()
    before = case.snapshot()
    _bounded(lambda: case.check(action, evidence, at=at if isinstance(at, dt.datetime) else None))
    assert case.snapshot() == before


@FUZZ
@given(evidence=HOSTILE.filter(lambda value: value is not None))
def test_check_and_fire_agree_on_any_evidence(evidence: Any) -> None:
    """Given evidence (without it, check() leaves the evidence guards pending, by design)."""
    case = _case()
    decision = _bounded(lambda: case.check("hear_grievances", evidence))
    fired = _bounded(lambda: case.fire("hear_grievances", evidence, actor="ana"))
    if isinstance(decision, resolveflow.Decision):
        assert decision.allowed == isinstance(fired, resolveflow.HistoryEntry)


_KEYS = ["format", "methodology", "case_id", "step", "outcome", "opened_with", "history"]
_ENTRY_KEYS = ["seq", "action", "from_step", "step", "actor", "at", "evidence", "hash"]


@FUZZ
@given(where=st.sampled_from(_KEYS + _ENTRY_KEYS), value=HOSTILE)
def test_restore_of_a_tampered_snapshot_raises_only_invalid_snapshot(where: str, value: Any) -> None:
    snapshot = copy.deepcopy(_case().snapshot())
    if where in _ENTRY_KEYS:
        snapshot["history"][0][where] = value
    else:
        snapshot[where] = value
    outcome = _bounded(lambda: resolveflow.restore(snapshot))
    assert isinstance(outcome, resolveflow.Case | resolveflow.InvalidSnapshot), type(outcome)


@FUZZ
@given(case_id=HOSTILE, methodology=HOSTILE | st.just("engage"))
def test_open_case_raises_only_resolveflow_errors(case_id: Any, methodology: Any) -> None:
    _bounded(lambda: resolveflow.open_case(methodology, case_id=case_id))


_SEEDS = {
    "json": '{"resolveflow": 1, "id": "fz", "version": "1.0", "x": [1, {"a": "b"}]}',
    "yaml": "resolveflow: 1\nid: fz\nanchor: &a [1, 2]\nx: [*a, *a]\n",
    "toml": 'resolveflow = 1\nid = "fz"\n[x]\na = [1, 2]\n',
}


@FUZZ
@given(fmt=st.sampled_from(sorted(_SEEDS)), cut=st.integers(0, 80), insert=_TEXT, repeat=st.integers(1, 400))
def test_methodology_text_raises_only_resolveflow_errors(
    fmt: str, cut: int, insert: str, repeat: int
) -> None:
    seed = _SEEDS[fmt]
    text = seed[:cut] + insert * min(repeat, 50) + seed[cut:]
    _bounded(lambda: methodology_from_text(text, fmt))


def test_the_fuzz_bound_catches_a_runaway() -> None:
    """The memory bound is real: an allocation past it fails the check."""
    with pytest.raises(AssertionError, match="bytes"):
        _bounded(lambda: bytearray(PEAK_BYTES + 1))
