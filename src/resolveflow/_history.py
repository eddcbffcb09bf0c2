"""History entries and the hash chain that seals them.

Each accepted action becomes one :class:`HistoryEntry`. Its hash covers the
previous entry's hash and the entry's own canonical JSON, and the first link
covers the methodology id, version and case id, so an entry cannot be edited,
dropped, reordered or moved to another case without the chain breaking.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from resolveflow._canonical import canonical_text as _jcs_text
from resolveflow._canonical import quote as _quote
from resolveflow._migration import Migration
from resolveflow._schema import record_codec
from resolveflow._slots import slot_writer

JCS: Final = "jcs"
"""The hash recipe of new histories: RFC 8785 (JSON Canonicalization Scheme) text."""
SORTED_JSON: Final = "json-sorted"
"""The recipe of histories written before 0.1 (snapshot format 1): Python's sorted, compact JSON."""
RECIPES: Final = (JCS, SORTED_JSON)

# The recipe of snapshot format 1, kept so that those snapshots restore: keys in code-point
# order, numbers as Python writes them (100.0, 1e-07). Public json API only.
_SORTED: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_text(value: object, recipe: str = JCS) -> str:
    """The canonical text of JSON data under a hash recipe (RFC 8785 unless told otherwise).

    Raises:
        CanonicalError: the value cannot be written canonically (see ``_canonical``).
    """
    if recipe == JCS:
        return _jcs_text(value)
    return _SORTED.encode(value)


def canonical_json(value: object, recipe: str = JCS) -> bytes:
    """Bytes that are equal exactly when the JSON values are equal."""
    return canonical_text(value, recipe).encode("utf-8")


def genesis_hash(methodology_id: str, version: str, case_id: str) -> str:
    """The hash the first entry chains from: it binds the history to its case."""
    seed = {"case_id": case_id, "methodology": methodology_id, "version": version}
    return hashlib.sha256(canonical_json(seed)).hexdigest()


def format_time(at: _dt.datetime) -> str:
    """Times in the history are stored in UTC, ISO 8601."""
    return (at if at.tzinfo is _dt.UTC else at.astimezone(_dt.UTC)).isoformat()


def entry_hash(previous: str, body: Mapping[str, Any], recipe: str = JCS) -> str:
    """The hash of an entry given as its body dict (what ``HistoryEntry.body()`` returns)."""
    return hashlib.sha256(previous.encode("ascii") + b"\n" + canonical_json(body, recipe)).hexdigest()


def actor_text(actor: str, roles: frozenset[str]) -> str:
    """The canonical JSON text of an entry's actor: the id alone, or ``{"id", "roles"}`` with roles sorted."""
    if not roles:
        return _quote(actor)
    return f'{{"id":{_quote(actor)},"roles":[{",".join(_quote(r) for r in sorted(roles))}]}}'


def chain_hash(
    previous: str,
    *,
    seq: int,
    action: str,
    from_step: str,
    step: str,
    actor: str,
    at: str,
    evidence: str,
    roles: frozenset[str] = frozenset(),
) -> bytes:
    """:func:`entry_hash` without building the body dict: ``evidence`` is its canonical JSON text.

    The text is laid out in the sorted key order ``canonical_json`` produces
    (the body's keys are ASCII, so both recipes order them alike, and both
    escape strings alike), so both give the same bytes (a property test holds
    them together); this one skips a dict, the key sort and a second encoding
    of the evidence. It returns the raw digest (``.hex()`` of it is what
    ``entry_hash`` returns).
    """
    text = (
        f'{previous}\n{{"action":{_quote(action)},"actor":{actor_text(actor, roles)},"at":{_quote(at)},'
        f'"evidence":{evidence},"from_step":{_quote(from_step)},"seq":{seq},"step":{_quote(step)}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).digest()


_HEX_DIGEST: Final = re.compile(r"[0-9a-f]{64}")


def _digest_of(value: str | bytes) -> bytes:
    """An entry's hash as 32 bytes, from the raw digest or its 64 lower-case hex digits."""
    if type(value) is bytes and len(value) == 32:
        return value
    if isinstance(value, str) and _HEX_DIGEST.fullmatch(value):
        return bytes.fromhex(value)
    raise ValueError(f"an entry's hash is a SHA-256 digest (64 lower-case hex digits), got {value!r}")


def evidence_to_json(record: object) -> Any:
    """An entry's evidence as JSON data: a record through its codec, a migration as it records itself."""
    if record is None:
        return None
    if isinstance(record, Migration):
        return record.to_json()
    kind: type = type(record)
    return record_codec(kind).dump(record)


# No __weakref__ slot: nothing holds entries weakly, and a case keeps one per action.
@attrs.frozen(kw_only=True, weakref_slot=False)
class HistoryEntry:
    """One accepted action, as recorded.

    Attributes:
        seq: 1-based position in the history, without gaps.
        action: the action's name.
        from_step: the step the case was at when the action was taken.
        step: the step the action led to.
        actor: who took it (your user id or name).
        roles: the roles the actor held when they took it (empty when none were given).
        at: when it was taken (time-zone aware, UTC).
        evidence: the typed evidence record, or None for actions that record none.
        evidence_json: the same evidence as canonical JSON data (what is hashed and
            stored), derived from ``evidence`` on each read: a live case keeps its
            evidence once, and nobody can edit the JSON of a recorded entry.
        hash: SHA-256 over the previous hash and this entry's content, as 64 hex
            digits (kept as the 32 raw bytes, which halves its memory).

    Example:
        >>> import resolveflow
        >>> case = resolveflow.open_case("engage", case_id="c-1")
        >>> case.history
        ()
    """

    seq: int
    action: str
    from_step: str
    step: str
    actor: str
    at: _dt.datetime
    evidence: object | None
    _digest: bytes = attrs.field(alias="hash", converter=_digest_of, repr=lambda digest: repr(digest.hex()))
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)

    @property
    def evidence_json(self) -> Any:
        """The evidence as canonical JSON data: what is hashed, stored and put in snapshots."""
        return evidence_to_json(self.evidence)

    @property
    def hash(self) -> str:
        """SHA-256 over the previous hash and this entry's content, as 64 hex digits."""
        return self._digest.hex()

    def body(self) -> dict[str, Any]:
        """The hashed content: everything but the hash itself."""
        return {
            "seq": self.seq,
            "action": self.action,
            "from_step": self.from_step,
            "step": self.step,
            # An actor without roles is recorded as the id alone, as before roles existed.
            "actor": {"id": self.actor, "roles": sorted(self.roles)} if self.roles else self.actor,
            "at": format_time(self.at),
            "evidence": self.evidence_json,
        }

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON-compatible data, the form snapshots and stores keep."""
        out = self.body()
        out["hash"] = self.hash
        return out


# fire() and restore() make one entry per action from checked values, with the digest
# already as bytes (see _slots.py: no keyword parsing, converter or frozen setattr).
new_entry: Final[
    Callable[[int, str, str, str, str, _dt.datetime, object, bytes, frozenset[str]], HistoryEntry]
] = slot_writer(
    HistoryEntry, "seq", "action", "from_step", "step", "actor", "at", "evidence", "_digest", "roles"
)
