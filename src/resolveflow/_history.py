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
from collections.abc import Mapping
from typing import Any

import attrs


def canonical_json(value: object) -> bytes:
    """Bytes that are equal exactly when the JSON values are equal."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def genesis_hash(methodology_id: str, version: str, case_id: str) -> str:
    """The hash the first entry chains from: it binds the history to its case."""
    seed = {"case_id": case_id, "methodology": methodology_id, "version": version}
    return hashlib.sha256(canonical_json(seed)).hexdigest()


def format_time(at: _dt.datetime) -> str:
    """Times in the history are stored in UTC, ISO 8601."""
    return at.astimezone(_dt.UTC).isoformat()


def entry_hash(previous: str, body: Mapping[str, Any]) -> str:
    return hashlib.sha256(previous.encode("ascii") + b"\n" + canonical_json(body)).hexdigest()


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One accepted action, as recorded.

    Attributes:
        seq: 1-based position in the history, without gaps.
        action: the action's name.
        from_step: the step the case was at when the action was taken.
        step: the step the action led to.
        actor: who took it (your user id or name).
        at: when it was taken (time-zone aware, UTC).
        evidence: the typed evidence record, or None for actions that record none.
        evidence_json: the same evidence as canonical JSON data (what is hashed and stored).
        hash: SHA-256 over the previous hash and this entry's content.

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
    evidence_json: Any = attrs.field(repr=False)
    hash: str

    def body(self) -> dict[str, Any]:
        """The hashed content: everything but the hash itself."""
        return {
            "seq": self.seq,
            "action": self.action,
            "from_step": self.from_step,
            "step": self.step,
            "actor": self.actor,
            "at": format_time(self.at),
            "evidence": self.evidence_json,
        }

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON-compatible data, the form snapshots and stores keep."""
        out = self.body()
        out["hash"] = self.hash
        return out
