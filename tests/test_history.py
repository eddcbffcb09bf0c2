"""The hash chain's two spellings agree: the fast one fire() uses and the body-dict one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import attrs
import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

import resolveflow
from resolveflow._canonical import CanonicalError
from resolveflow._history import (
    SORTED_JSON,
    HistoryEntry,
    canonical_json,
    canonical_text,
    chain_hash,
    entry_hash,
    format_time,
    genesis_hash,
    new_entry,
)

# Real text, including characters JSON must escape and ones it keeps as they are.
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30
) | st.sampled_from(['quote " here', "back\\slash", "tab\tnew\nline", "é ü 中 🙂", "\u2028", "\x00"])
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53 - 1), 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)
_TIMES = st.datetimes(
    min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
)


@given(
    previous=st.binary(min_size=32, max_size=32).map(bytes.hex),
    seq=st.integers(1, 10**6),
    action=_TEXT,
    from_step=_TEXT,
    step=_TEXT,
    actor=_TEXT,
    at=_TIMES,
    evidence=_JSON,
)
def test_chain_hash_equals_the_hash_of_the_body_dict(
    previous: str,
    seq: int,
    action: str,
    from_step: str,
    step: str,
    actor: str,
    at: dt.datetime,
    evidence: object,
) -> None:
    body = {
        "seq": seq,
        "action": action,
        "from_step": from_step,
        "step": step,
        "actor": actor,
        "at": format_time(at),
        "evidence": evidence,
    }
    fast = chain_hash(
        previous,
        seq=seq,
        action=action,
        from_step=from_step,
        step=step,
        actor=actor,
        at=format_time(at),
        evidence=canonical_text(evidence),
    )
    assert fast.hex() == entry_hash(previous, body)
    # ...and both are the documented recipe: SHA-256 over the previous hash, a newline
    # and the RFC 8785 text of the body, as the reference implementation writes it.
    assert fast == hashlib.sha256(f"{previous}\n".encode() + rfc8785.dumps(body)).digest()
    # Format 1's recipe lays the body out the same way around its own evidence text.
    legacy = chain_hash(
        previous,
        seq=seq,
        action=action,
        from_step=from_step,
        step=step,
        actor=actor,
        at=format_time(at),
        evidence=canonical_text(evidence, SORTED_JSON),
    )
    recipe = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert legacy == hashlib.sha256(f"{previous}\n{recipe}".encode()).digest()
    assert legacy.hex() == entry_hash(previous, body, SORTED_JSON)


def test_canonical_json_is_bytes_of_canonical_text() -> None:
    value = {"b": [1, 2.5, None], "a": "é"}
    assert (
        canonical_json(value)
        == canonical_text(value).encode("utf-8")
        == '{"a":"é","b":[1,2.5,null]}'.encode()
    )


def test_entries_fired_on_a_case_verify_with_the_body_recipe() -> None:
    """A walked case's stored hashes are exactly the body-dict hashes, entry by entry."""
    case = resolveflow.open_case(resolveflow.get_methodology("engage", "1.0"), case_id="H-1")
    at = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
    case.fire("engage_fully", {"notes": "Parcel arrived broken."}, actor="ana", at=at)
    assert case.verify_chain()
    first = case.history[0]
    assert first.hash == entry_hash(genesis_hash("engage", "1.0", "H-1"), first.body())


def test_format_time_normalises_other_offsets_to_utc() -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    assert format_time(dt.datetime(2026, 5, 1, 11, 0, tzinfo=paris)) == "2026-05-01T09:00:00+00:00"
    assert format_time(dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)) == "2026-05-01T09:00:00+00:00"


@given(_JSON)
def test_the_format_1_recipe_is_json_dumps_with_the_sorted_settings(value: object) -> None:
    """Snapshots of format 1 keep restoring: their recipe is Python's sorted, compact JSON."""
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert canonical_text(value, SORTED_JSON) == expected


def test_the_default_recipe_is_rfc_8785() -> None:
    assert canonical_text({"b": 100.0, "a": 1e-7, "€": 1, "😀": 2}) == '{"a":1e-7,"b":100,"€":1,"😀":2}'
    assert canonical_text({"b": 100.0}, SORTED_JSON) == '{"b":100.0}'


def test_canonical_text_refuses_what_json_cannot_carry() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_text({"x": float("nan")}, SORTED_JSON)
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        canonical_text({"x": object()}, SORTED_JSON)
    with pytest.raises(CanonicalError):
        canonical_text({"x": float("nan")})
    with pytest.raises(CanonicalError):
        canonical_text({"x": object()})


def test_an_entry_keeps_its_hash_as_raw_bytes_and_shows_hex() -> None:
    case = resolveflow.open_case("engage", case_id="H-2")
    entry = case.fire("engage_fully", {"notes": "x"}, actor="ana")
    assert len(entry.hash) == 64 and int(entry.hash, 16) >= 0
    again = attrs.evolve(entry, hash=entry.hash)  # hex in, as the store passes it
    assert again == entry and again.hash == entry.hash


@pytest.mark.parametrize(
    "bad", ["abc", "zz" * 32, b"short", 42, "ab" * 31 + "  ", "AB" * 32, " " + "ab" * 32]
)
def test_an_entry_refuses_a_hash_that_is_not_a_sha256_digest(bad: object) -> None:
    case = resolveflow.open_case("engage", case_id="H-3")
    entry = case.fire("engage_fully", {"notes": "x"}, actor="ana")
    with pytest.raises(ValueError, match="64 lower-case hex digits"):
        attrs.evolve(entry, hash=bad)


def test_the_fast_entry_constructor_makes_what_the_attrs_one_makes() -> None:
    at = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
    digest = hashlib.sha256(b"x").digest()
    fast = new_entry(3, "act", "a", "b", "ana", at, None, digest, frozenset())
    slow = HistoryEntry(
        seq=3, action="act", from_step="a", step="b", actor="ana", at=at, evidence=None, hash=digest
    )
    assert fast == slow and repr(fast) == repr(slow) and hash(fast) == hash(slow)
    with_roles = new_entry(3, "act", "a", "b", "ana", at, None, digest, frozenset({"legal"}))
    assert with_roles == attrs.evolve(slow, roles={"legal"}) and with_roles != slow
    assert fast.hash == digest.hex()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.step = "c"  # type: ignore[misc]


def test_an_entry_shows_its_hash_in_hex() -> None:
    case = resolveflow.open_case("engage", case_id="H-4")
    entry = case.fire("engage_fully", {"notes": "x"}, actor="ana")
    assert repr(entry.hash) in repr(entry)
