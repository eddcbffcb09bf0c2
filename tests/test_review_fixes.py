"""Regressions found in review: lone surrogates, second-level offsets, non-canonical numbers,
migrated cases in the store."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import attrs
import pytest

import resolveflow
import resolveflow.store
from tests.conftest import FakeClock


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


def test_offsets_with_seconds_are_refused_so_every_case_restores(clock: FakeClock) -> None:
    case = resolveflow.open_case("seven-as", case_id="O-1", clock=clock)
    case.fire("acknowledge_feelings", {"feelings": "upset"}, actor="a")
    case.fire("hear_grievances", {"points": ["x"], "customer_finished": True}, actor="a")
    case.fire("give_apology", {"statement": "sorry"}, actor="a")
    odd = dt.timezone(dt.timedelta(hours=1, seconds=30))
    with pytest.raises(resolveflow.InvalidEvidence, match="whole minutes"):
        case.fire(
            "reschedule", {"resume_at": dt.datetime(2026, 2, 1, 9, tzinfo=odd), "reason": "x"}, actor="a"
        )
    assert resolveflow.restore(case.snapshot()).step == "assure"


def test_numbers_in_a_snapshot_must_be_the_canonical_ones() -> None:
    case = resolveflow.open_case("engage", case_id="N-1")
    case.fire("engage_fully", {"notes": "x"}, actor="a")
    data = json.loads(json.dumps(case.snapshot()))
    data["history"][0]["seq"] = 1.0
    with pytest.raises(resolveflow.InvalidSnapshot, match="sequence number"):
        resolveflow.restore(data)


def test_the_store_loads_a_migrated_case(tmp_path: Path, clock: FakeClock) -> None:
    v1 = resolveflow.get_methodology("engage", "1.0")
    v2 = attrs.evolve(v1, version="7.0")
    resolveflow.register(v2, origin="tests")
    try:
        case = resolveflow.open_case(v1, case_id="M-1", clock=clock)
        case.fire("engage_fully", {"notes": "x"}, actor="a")
        moved = resolveflow.migrate(
            case,
            resolveflow.Migration(methodology_id="engage", from_version="1.0", to_version="7.0"),
            actor="ops",
        )
        store = resolveflow.store.connect(str(tmp_path / "m.db"), clock=clock)
        store.create_schema()
        store.import_cases([moved])
        loaded = store.load("M-1")
        assert loaded.history == moved.history and loaded.methodology.version == "7.0"
        page = store.history("M-1", limit=1)
        assert [e.action for e in page] == ["engage_fully"] and page.next_after_seq == 1
        rest = store.history("M-1", after_seq=1)
        assert [e.action for e in rest] == ["migrate_version"] and rest.next_after_seq is None
        store.fire("M-1", "show_empathy", {"statement": "I see."}, actor="a")
        assert store.load("M-1").step == "present_solution"
        store.close()
    finally:
        resolveflow.unregister("engage", "7.0")
