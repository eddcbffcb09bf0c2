"""Sealed histories: a keyed MAC chained over the entries; a forged history is refused without the key."""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import resolveflow
import resolveflow.testing
from resolveflow import KeyRing
from resolveflow._history import entry_hash
from resolveflow._ledger import Ledger
from tests._counting import GuardRuns
from tests._tiny import loop_methodology

NOTES = loop_methodology("seal-notes", note=resolveflow.evidence.Engagement)
K1, K2 = secrets.token_bytes(32), secrets.token_bytes(32)
RING = KeyRing(keys={"k1": K1}, current="k1")


def case_of(length: int = 5) -> resolveflow.Case:
    case = resolveflow.open_case(NOTES, case_id="S-1")
    for n in range(length):
        case.fire("note", {"notes": f"call {n}"}, actor="ana")
    return case


def restore(snapshot: dict[str, Any], **kwargs: Any) -> resolveflow.Case:
    return resolveflow.restore(json.loads(json.dumps(snapshot)), methodology=NOTES, **kwargs)


def forge(snapshot: dict[str, Any], index: int, notes: str) -> dict[str, Any]:
    """Change entry ``index`` (0-based) and recompute every hash from it on: the chain holds again."""
    forged = copy.deepcopy(snapshot)
    history = forged["history"]
    history[index]["evidence"]["notes"] = notes
    previous = history[index - 1]["hash"] if index else Ledger(NOTES, "S-1").genesis
    for entry in history[index:]:
        body = {k: v for k, v in entry.items() if k != "hash"}
        entry["hash"] = entry_hash(previous, body)
        previous = entry["hash"]
    return forged


def test_a_sealed_restore_trusts_each_verified_entry_without_its_guards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = case_of(6)
    sealed = case.snapshot(keys=RING)
    assert len(sealed["seals"]) == 6 and all(s.startswith("k1:") for s in sealed["seals"])
    runs = GuardRuns(monkeypatch)
    restored = restore(sealed, keys=RING)
    assert runs.count == 0
    assert restored.history == case.history and restored.head == case.head
    restore(sealed)  # without the keys: every entry through its guards, as ever
    assert runs.count == 6


def test_a_forged_entry_with_recomputed_hashes_is_refused_with_the_keys() -> None:
    sealed = case_of(5).snapshot(keys=RING)
    forged = forge(sealed, 2, "the customer agreed to pay twice")
    # Without the key the forgery passes: its guards allow it and its hashes hold.
    assert restore(forged).history[2].evidence.notes == "the customer agreed to pay twice"
    with pytest.raises(resolveflow.InvalidSnapshot) as info:
        restore(forged, keys=RING)
    assert info.value.entry == 3 and "seal does not verify" in info.value.reason


@settings(max_examples=25, deadline=None)
@given(index=st.integers(0, 4), junk=st.binary(min_size=32, max_size=32))
def test_any_seal_replaced_is_refused_at_its_entry(index: int, junk: bytes) -> None:
    sealed = case_of(5).snapshot(keys=RING)
    sealed["seals"][index] = f"k1:{junk.hex()}"
    with pytest.raises(resolveflow.InvalidSnapshot) as info:
        restore(sealed, keys=RING)
    assert info.value.entry == index + 1


def test_unsealed_entries_are_refused_unless_the_ring_accepts_them(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = case_of(3).snapshot()
    with pytest.raises(resolveflow.InvalidSnapshot, match="not sealed") as info:
        restore(plain, keys=RING)
    assert info.value.entry == 1
    lenient = attrs.evolve(RING, accept_unsealed=True)
    runs = GuardRuns(monkeypatch)
    assert len(restore(plain, keys=lenient).history) == 3
    assert runs.count == 3  # replayed through the guards


def test_a_seal_stripped_from_the_middle_breaks_the_next_one() -> None:
    sealed = case_of(4).snapshot(keys=RING)
    sealed["seals"][1] = None
    with pytest.raises(resolveflow.InvalidSnapshot) as info:
        restore(sealed, keys=attrs.evolve(RING, accept_unsealed=True))
    assert info.value.entry == 3


def test_rotation_old_keys_verify_the_current_one_seals() -> None:
    case = case_of(3)
    old = case.snapshot(keys=RING)
    rotated = KeyRing(keys={"k1": K1, "k2": K2}, current="k2")
    assert restore(old, keys=rotated).history == case.history  # k1's seals still verify
    resealed = restore(old, keys=rotated).snapshot(keys=rotated)  # re-sealed with k2
    assert all(s.startswith("k2:") for s in resealed["seals"])
    only_new = KeyRing(keys={"k2": K2}, current="k2")
    assert restore(resealed, keys=only_new).history == case.history
    with pytest.raises(resolveflow.InvalidSnapshot, match="key this ring does not hold"):
        restore(old, keys=only_new)


def test_a_migrated_case_restores_sealed() -> None:
    v1 = resolveflow.get_methodology("engage", "1.0")
    v2 = attrs.evolve(v1, version="1.9")
    with resolveflow.testing.registered(v2):
        case = resolveflow.open_case(v1, case_id="M-1")
        case.fire("engage_fully", {"notes": "Broken."}, actor="ana")
        moved = resolveflow.migrate(
            case,
            resolveflow.Migration(methodology_id="engage", from_version="1.0", to_version="1.9"),
            actor="ops",
        )
        moved.fire("show_empathy", {"statement": "I see."}, actor="ana")
        restored = resolveflow.restore(moved.snapshot(keys=RING), keys=RING)
        assert restored.history == moved.history and restored.methodology.version == "1.9"


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: KeyRing(keys={}, current="k1"), "keys"),
        (lambda: KeyRing(keys={"k1": b"short"}, current="k1"), "keys"),
        (lambda: KeyRing(keys={"k1": "a string, not bytes" * 3}, current="k1"), "keys"),
        (lambda: KeyRing(keys={"bad id!": K1}, current="bad id!"), "keys"),
        (lambda: KeyRing(keys={f"k{n}": K1 for n in range(65)}, current="k1"), "keys"),
        (lambda: KeyRing(keys={"k1": K1}, current="k2"), "current"),
        (lambda: KeyRing(keys={"k1": K1}, current="k1", accept_unsealed="yes"), "accept_unsealed"),
        (lambda: case_of(1).snapshot(keys={"k1": K1}), "keys"),
        (lambda: resolveflow.restore(case_of(1).snapshot(), methodology=NOTES, keys=K1), "keys"),
    ],
)
def test_bad_rings_are_refused_by_name(make: Any, argument: str) -> None:
    with pytest.raises(resolveflow.InvalidInput) as info:
        make()
    assert info.value.argument == argument


def test_a_secret_never_shows() -> None:
    ring = KeyRing(keys={"k1": K1, "k2": K2}, current="k2")
    for text in (repr(ring), str(ring)):
        assert K1.hex() not in text and str(K1) not in text and "k2" in text
    with pytest.raises(resolveflow.InvalidInput) as info:
        KeyRing(keys={"k1": K1[:31]}, current="k1")
    assert K1[:31].hex() not in str(info.value) and str(K1[:31]) not in str(info.value)


@pytest.mark.parametrize("seals", [["k1:00"], "k1:00", [1, 2, 3, 4, 5], [None] * 4])
def test_malformed_seals_are_an_invalid_snapshot(seals: object) -> None:
    sealed = case_of(5).snapshot(keys=RING)
    sealed["seals"] = seals
    with pytest.raises(resolveflow.InvalidSnapshot, match="'seals' must be a list"):
        restore(sealed, keys=RING)
