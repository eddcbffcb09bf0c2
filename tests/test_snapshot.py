"""Snapshots: JSON round trips, and every kind of edit rejected at the first bad entry."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from typing import Any

import attrs
import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

import resolveflow
from resolveflow._history import format_time, genesis_hash
from resolveflow._snapshot import _stored_time
from tests._tiny import loop_methodology
from tests.conftest import T0, FakeClock


def walked_case() -> resolveflow.Case:
    clock = FakeClock()
    case = resolveflow.open_case(
        resolveflow.get_methodology("seven-as", "1.0"), case_id="SNAP-1", clock=clock
    )
    case.fire("acknowledge_feelings", {"feelings": "upset"}, actor="ana")
    clock.advance(minutes=5)
    case.fire("hear_grievances", {"points": ["late", "rude"], "customer_finished": True}, actor="ana")
    case.fire("give_apology", {"statement": "sorry"}, actor="ana")
    case.fire("give_assurance", {"commitment": "we will fix it"}, actor="ana")
    case.fire(
        "agree_plan",
        {
            "agreed_with": "Bo",
            "items": [
                {"id": "refund", "description": "refund", "due": (T0 + dt.timedelta(days=2)).isoformat()}
            ],
        },
        actor="ben",
    )
    return case


def snap() -> dict[str, Any]:
    return json.loads(json.dumps(walked_case().snapshot()))


def test_snapshot_is_json_and_restores_exactly() -> None:
    case = walked_case()
    data = case.snapshot()
    assert json.loads(json.dumps(data)) == data
    assert data["methodology"] == {"id": "seven-as", "version": "1.0"}
    assert data["case_id"] == "SNAP-1" and data["step"] == "act" and data["outcome"] is None
    restored = resolveflow.restore(json.loads(json.dumps(data)))
    assert restored.history == case.history
    assert (restored.step, restored.id, restored.methodology) == (case.step, case.id, case.methodology)
    assert restored.verify_chain()


def test_restored_case_carries_on() -> None:
    restored = resolveflow.restore(snap(), clock=FakeClock(T0 + dt.timedelta(days=1)))
    restored.fire("complete_item", {"item_id": "refund"}, actor="ana")
    restored.fire("complete_plan", actor="ana")
    assert restored.step == "accomplish"


def expect_bad(data: object, entry: int | None, match: str) -> resolveflow.InvalidSnapshot:
    with pytest.raises(resolveflow.InvalidSnapshot, match=match) as info:
        resolveflow.restore(data)
    assert info.value.entry == entry
    return info.value


def test_edited_claimed_step() -> None:
    data = snap()
    data["step"] = "accomplish"
    expect_bad(data, None, "claims step 'accomplish'")


def test_edited_claimed_outcome() -> None:
    data = snap()
    data["outcome"] = "resolved"
    expect_bad(data, None, "claims outcome")


def test_edited_evidence_breaks_the_hash() -> None:
    data = snap()
    data["history"][2]["evidence"]["statement"] = "we are not sorry"
    expect_bad(data, 3, "hash mismatch")


def test_edited_entry_step() -> None:
    data = snap()
    data["history"][1]["step"] = "assure"
    expect_bad(data, 2, "claims to lead to 'assure'")


def test_removed_entry_is_a_gap() -> None:
    data = snap()
    del data["history"][1]
    expect_bad(data, 2, "sequence number 3 where 2")


def test_reordered_entries() -> None:
    data = snap()
    data["history"][1], data["history"][2] = data["history"][2], data["history"][1]
    expect_bad(data, 2, "sequence number")


def test_renumbered_after_removal_is_caught_by_the_step() -> None:
    data = snap()
    del data["history"][1]
    for i, entry in enumerate(data["history"], start=1):
        entry["seq"] = i
    expect_bad(data, 2, "from step")


def test_evidence_that_fails_its_guard() -> None:
    """A forged entry with a fresh, correct hash is still replayed through the guards."""
    case = resolveflow.open_case(
        resolveflow.get_methodology("seven-as", "1.0"), case_id="F", clock=FakeClock()
    )
    case.fire("acknowledge_feelings", {"feelings": "upset"}, actor="a")
    data = json.loads(json.dumps(case.snapshot()))
    previous = data["history"][0]["hash"]
    from resolveflow._history import entry_hash

    body = {
        "seq": 2,
        "action": "hear_grievances",
        "from_step": "air_grievances",
        "step": "apologize",
        "actor": "a",
        "at": data["history"][0]["at"],
        "evidence": {"points": ["x"], "customer_finished": False},
    }
    data["history"].append({**body, "hash": entry_hash(previous, body)})
    data["step"] = "apologize"
    expect_bad(data, 2, "guards refuse it now: customer_finished")


def test_entry_moved_to_another_case() -> None:
    data = snap()
    data["case_id"] = "SNAP-2"
    expect_bad(data, 1, "hash mismatch")


def test_unknown_version_and_methodology() -> None:
    data = snap()
    data["methodology"]["version"] = "9.9"
    expect_bad(data, None, "claims version '9.9'")
    data["opened_with"] = "9.9"
    expect_bad(data, None, "no version '9.9'")
    data["methodology"] = {"id": "nope", "version": "1.0"}
    expect_bad(data, None, "unknown methodology 'nope'")


def test_unknown_action_in_history() -> None:
    data = snap()
    data["history"][0]["action"] = "skip_ahead"
    expect_bad(data, 1, "unknown action 'skip_ahead'")


def test_evidence_invalid_in_history() -> None:
    data = snap()
    data["history"][0]["evidence"] = {"feelings": ""}
    expect_bad(data, 1, "evidence does not validate")


def test_time_travel_in_history() -> None:
    data = snap()
    data["history"][1]["at"] = "2020-01-01T00:00:00+00:00"
    expect_bad(data, 2, "earlier than the last entry")
    data = snap()
    data["history"][1]["at"] = "2026-01-05T09:05:00"
    expect_bad(data, 2, "no time zone")
    data["history"][1]["at"] = "yesterday"
    expect_bad(data, 2, "not an ISO 8601")


def test_non_canonical_content() -> None:
    data = snap()
    data["history"][1]["at"] = "2026-01-05T10:05:00+01:00"  # same instant, other offset
    expect_bad(data, 2, "canonical")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.pop("history"), "missing keys"),
        (lambda d: d.update(extra=1), "unexpected keys"),
        (lambda d: d.update(format="other/2"), "'format' must be"),
        (lambda d: d.update(methodology="seven-as"), "'methodology' must be"),
        (lambda d: d.update(history="none"), "'history' must be a list"),
        (lambda d: d.update(case_id=""), "case_id"),
        (lambda d: d["history"][0].pop("hash"), "exactly the keys"),
        (lambda d: d["history"].__setitem__(0, "entry"), "exactly the keys"),
        (lambda d: d["history"][0].update(seq=True), "sequence number"),
        (lambda d: d["history"][0].update(actor=""), "actor"),
    ],
)
def test_malformed_snapshots(mutate: Any, match: str) -> None:
    data = snap()
    mutate(data)
    with pytest.raises(resolveflow.InvalidSnapshot, match=match):
        resolveflow.restore(data)


@pytest.mark.parametrize("data", [None, [], "snapshot", 3])
def test_not_a_mapping(data: object) -> None:
    expect_bad(data, None, "expected a mapping")


@given(data=st.data())
def test_any_single_field_edit_is_rejected(data: st.DataObject) -> None:
    """Change one scalar anywhere in the history: restore must refuse."""
    original = snap()
    edited = copy.deepcopy(original)
    index = data.draw(st.integers(0, len(edited["history"]) - 1))
    entry = edited["history"][index]
    key = data.draw(st.sampled_from(sorted(entry)))
    value = entry[key]
    replacement = data.draw(
        st.one_of(st.text(max_size=8), st.integers(), st.none(), st.booleans()).filter(lambda v: v != value)
    )
    entry[key] = replacement
    with pytest.raises(resolveflow.InvalidSnapshot) as info:
        resolveflow.restore(edited)
    assert info.value.entry is not None and info.value.entry <= index + 1


def test_restore_with_an_unregistered_methodology() -> None:
    mine = attrs.evolve(resolveflow.get_methodology("engage"), id="my-engage")
    case = resolveflow.open_case(mine, case_id="M")
    case.fire("engage_fully", {"notes": "x"}, actor="a")
    data = case.snapshot()
    with pytest.raises(resolveflow.InvalidSnapshot, match="unknown methodology 'my-engage'"):
        resolveflow.restore(data)
    assert resolveflow.restore(data, methodology=mine).step == "empathize"
    with pytest.raises(resolveflow.InvalidSnapshot, match=r"not engage@1\.1"):
        resolveflow.restore(data, methodology=resolveflow.get_methodology("engage"))


def test_truncation_is_caught_with_the_stored_head() -> None:
    case = walked_case()
    head = case.head
    data = json.loads(json.dumps(case.snapshot()))
    assert resolveflow.restore(data, head=head).head == head
    data["history"] = data["history"][:-1]
    data["step"] = "agree"
    # Without the head, a history cut short and relabelled is still a valid (shorter) case...
    assert resolveflow.restore(data).step == "agree"
    # ...with it, the cut is caught.
    with pytest.raises(resolveflow.InvalidSnapshot, match="expected head"):
        resolveflow.restore(data, head=head)


def test_bad_time_in_history_is_reported_once() -> None:
    data = snap()
    data["history"][0]["at"] = "2026-01-05T09:00:00"
    with pytest.raises(resolveflow.InvalidSnapshot) as info:
        resolveflow.restore(data)
    assert str(info.value).count("invalid snapshot") == 1
    assert not info.value.reason.startswith("invalid snapshot")


def test_empty_case_head_is_the_genesis() -> None:
    one = resolveflow.open_case("engage", case_id="A")
    two = resolveflow.open_case("engage", case_id="B")
    assert one.head != two.head and len(one.head) == 64


def _decided_case(value: float | None) -> resolveflow.Case:
    case = resolveflow.open_case("five-steps", case_id="NUM-1")
    case.fire("hear_account", {"summary": "The refund never came."}, actor="ana")
    case.fire("record_cause", {"cause": "A lost form", "findings": "Nobody sent it."}, actor="ana")
    decision = {"solution": "Refund now", "answers": "The lost money", "value": value}
    case.fire("decide_solution", decision, actor="ana")
    return case


def test_numbers_in_stored_evidence_compare_by_value() -> None:
    """A float written as 12 (JavaScript's JSON.stringify drops '.0') restores to the same case."""
    case = _decided_case(12.0)
    data = json.loads(json.dumps(case.snapshot()))
    assert data["history"][2]["evidence"]["value"] == 12.0
    data["history"][2]["evidence"]["value"] = 12
    restored = resolveflow.restore(data)
    assert restored.history == case.history and restored.head == case.head
    assert type(restored.history[2].evidence_json["value"]) is float


def test_evidence_spelled_differently_is_not_canonical() -> None:
    """The same record from other JSON (an optional key left out) is refused: it is not what was stored."""
    case = _decided_case(None)
    data = json.loads(json.dumps(case.snapshot()))
    del data["history"][2]["evidence"]["value"]  # loads to the very same record
    expect_bad(data, 3, "not in canonical form")


def test_a_changed_number_is_a_hash_mismatch() -> None:
    case = _decided_case(12.0)
    data = json.loads(json.dumps(case.snapshot()))
    data["history"][2]["evidence"]["value"] = 12.5
    expect_bad(data, 3, "hash mismatch")


_OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))


@given(
    when=st.datetimes(
        min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=_OFFSETS
    ),
    spelling=st.sampled_from(["iso", "utc", "z", "space", "micro", "minutes"]),
)
def test_a_stored_time_is_accepted_exactly_when_it_is_spelled_as_resolveflow_writes_it(
    when: dt.datetime, spelling: str
) -> None:
    utc = format_time(when)
    text = {
        "iso": when.isoformat(),
        "utc": utc,
        "z": utc.replace("+00:00", "Z"),
        "space": utc.replace("T", " "),
        "micro": when.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "minutes": when.astimezone(dt.UTC).isoformat(timespec="minutes"),
    }[spelling]
    if text == utc:
        assert _stored_time(text, 1) == when
    else:
        with pytest.raises(resolveflow.InvalidSnapshot, match="canonical form"):
            _stored_time(text, 1)


def test_stored_evidence_with_tuples_for_arrays_restores() -> None:
    """Decoders that give tuples for JSON arrays (msgpack's use_list=False) keep the same meaning."""
    data = snap()
    for raw in data["history"]:
        if isinstance(raw["evidence"], dict):
            raw["evidence"] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw["evidence"].items()}
    assert any(
        isinstance(v, tuple) for raw in data["history"] if raw["evidence"] for v in raw["evidence"].values()
    )
    assert resolveflow.restore(data).history == walked_case().history


@pytest.mark.parametrize("at", ["2026-01-05T24:00:00+00:00", "2026-01-05T09:60:00+00:00"])
def test_a_time_out_of_range_is_refused_whatever_python_makes_of_it(at: str) -> None:
    with pytest.raises(resolveflow.InvalidSnapshot):
        _stored_time(at, 1)


# --- hash recipes: format 2 is RFC 8785, format 1 snapshots keep restoring -------------


@attrs.frozen(kw_only=True)
class _Refund:
    """A refund, with an amount (a float field: the recipes write it differently)."""

    amount: float = resolveflow.evidence.field(title="Amount")


def _refunds() -> resolveflow.Methodology:
    return loop_methodology("refunds", refund=_Refund)


def _legacy_snapshot(case_id: str) -> dict[str, object]:
    """A snapshot as resolveflow wrote them before RFC 8785 (format 1, Python's sorted JSON)."""
    from resolveflow._case import Case
    from resolveflow._history import SORTED_JSON
    from resolveflow._ledger import Ledger

    case = Case(Ledger(_refunds(), case_id, recipe=SORTED_JSON))
    case.fire("refund", {"amount": 100.0}, actor="ana", at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    snap = case.snapshot()
    assert snap["format"] == "resolveflow.case/1"
    return snap


def test_new_snapshots_are_format_2_and_hash_rfc_8785_text() -> None:
    case = resolveflow.open_case(_refunds(), case_id="J-1")
    entry = case.fire("refund", {"amount": 100.0}, actor="ana", at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    snap = case.snapshot()
    assert snap["format"] == "resolveflow.case/2" and case.hash_recipe == "jcs"
    body = {k: v for k, v in snap["history"][0].items() if k != "hash"}
    previous = genesis_hash("refunds", "1.0", "J-1")
    assert entry.hash == hashlib.sha256(f"{previous}\n".encode() + rfc8785.dumps(body)).hexdigest()


def test_a_format_1_snapshot_restores_and_keeps_its_recipe() -> None:
    snap = _legacy_snapshot("J-2")
    restored = resolveflow.restore(snap, methodology=_refunds())
    assert restored.hash_recipe == "json-sorted" and restored.verify_chain()
    restored.fire("refund", {"amount": 2.5}, actor="ana", at=dt.datetime(2026, 1, 6, tzinfo=dt.UTC))
    again = resolveflow.restore(restored.snapshot(), methodology=_refunds())
    assert again.snapshot() == restored.snapshot() and again.snapshot()["format"] == "resolveflow.case/1"


def test_a_snapshot_relabelled_to_the_other_recipe_is_refused() -> None:
    snap = _legacy_snapshot("J-3")
    snap["format"] = "resolveflow.case/2"  # 100.0 hashed as "100.0", read back as JCS "100"
    with pytest.raises(resolveflow.InvalidSnapshot, match="hash mismatch") as info:
        resolveflow.restore(snap, methodology=_refunds())
    assert info.value.entry == 1


@pytest.mark.parametrize("bad", ["resolveflow.case/3", None, ["resolveflow.case/2"], 2])
def test_an_unknown_format_is_refused_by_name(bad: object) -> None:
    snap = resolveflow.open_case("engage", case_id="J-4").snapshot()
    snap["format"] = bad
    with pytest.raises(resolveflow.InvalidSnapshot, match="'format' must be one of"):
        resolveflow.restore(snap)


def test_evidence_no_canonical_form_can_write_is_invalid_evidence() -> None:
    case = resolveflow.open_case(_refunds(), case_id="J-5")
    with pytest.raises(resolveflow.InvalidEvidence):
        case.fire("refund", {"amount": 10**400}, actor="ana")
    assert case.history == ()


def test_numbers_in_a_snapshot_must_be_the_canonical_ones() -> None:
    case = resolveflow.open_case("engage", case_id="N-1")
    case.fire("engage_fully", {"notes": "x"}, actor="a")
    data = json.loads(json.dumps(case.snapshot()))
    data["history"][0]["seq"] = 1.0
    with pytest.raises(resolveflow.InvalidSnapshot, match="sequence number"):
        resolveflow.restore(data)
