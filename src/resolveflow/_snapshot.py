"""Snapshots back to cases: every entry replayed through evidence, guards and the hash chain.

:func:`restore_case` is the only way back from stored data. It rebuilds the
case by running each entry through the same path :meth:`Case.fire` takes
(a migration entry through the same checks :func:`resolveflow.migrate`
makes), then insists that the result is byte for byte what was stored, so a
snapshot edited in any way that changes its meaning is rejected at the first
bad entry.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Any, Final, NoReturn

from resolveflow._case import SNAPSHOT_FORMAT, Case, Clock, _check_actor
from resolveflow._history import HistoryEntry, canonical_json
from resolveflow._methodology import Methodology
from resolveflow._migration import MIGRATE_ACTION, Migration
from resolveflow.exceptions import (
    InvalidEvidence,
    InvalidInput,
    InvalidSnapshot,
    Refused,
    ResolveflowError,
    UnknownMethodology,
)

_SNAPSHOT_KEYS: Final = frozenset({"format", "methodology", "case_id", "step", "outcome", "history"})
_OPTIONAL_SNAPSHOT_KEYS: Final = frozenset({"opened_with"})
_ENTRY_KEYS: Final = frozenset({"seq", "action", "from_step", "step", "actor", "at", "evidence", "hash"})


def _bad(reason: str, entry: int | None = None) -> NoReturn:
    raise InvalidSnapshot(reason, entry=entry)


def _parse_time(value: object, entry: int) -> _dt.datetime:
    if not isinstance(value, str):
        _bad(f"'at' must be an ISO 8601 string, got {type(value).__name__}", entry)
    try:
        parsed = _dt.datetime.fromisoformat(value)
    except ValueError:
        _bad(f"'at' is not an ISO 8601 date-time: {value!r}", entry)
    if parsed.utcoffset() is None:
        _bad(f"'at' has no time zone: {value!r}", entry)
    return parsed.astimezone(_dt.UTC)


def restore_case(
    snapshot: object,
    *,
    resolve: Callable[[str, str], Methodology],
    clock: Clock | None = None,
    head: str | None = None,
) -> Case:
    """Rebuild a case from a snapshot by replaying it; see :func:`resolveflow.restore`."""
    if not isinstance(snapshot, Mapping):
        _bad(f"expected a mapping (the dict from case.snapshot()), got {type(snapshot).__name__}")
    if snapshot.get("format") != SNAPSHOT_FORMAT:
        _bad(f"'format' must be {SNAPSHOT_FORMAT!r}, got {snapshot.get('format')!r}")
    extra = set(snapshot) - _SNAPSHOT_KEYS - _OPTIONAL_SNAPSHOT_KEYS
    missing = _SNAPSHOT_KEYS - set(snapshot)
    if extra or missing:
        _bad(f"unexpected keys {sorted(extra)} / missing keys {sorted(missing)}")
    ref = snapshot["methodology"]
    if not (
        isinstance(ref, Mapping)
        and set(ref) == {"id", "version"}
        and all(isinstance(v, str) for v in ref.values())
    ):
        _bad("'methodology' must be {'id': str, 'version': str}")
    opened_with = snapshot.get("opened_with", ref["version"])
    if not isinstance(opened_with, str):
        _bad("'opened_with' must be a version string")
    try:
        methodology = resolve(ref["id"], opened_with)
    except UnknownMethodology as error:
        raise InvalidSnapshot(str(error)) from error
    try:
        case = Case(methodology, case_id=snapshot["case_id"], clock=clock)
    except InvalidInput as error:
        raise InvalidSnapshot(str(error)) from error
    history = snapshot["history"]
    if not isinstance(history, list | tuple):
        _bad("'history' must be a list of entries")
    for index, raw in enumerate(history, start=1):
        _replay_entry(case, raw, index, resolve)
    if case.methodology.version != ref["version"]:
        _bad(f"claims version {ref['version']!r} but its history leads to {case.methodology.version!r}")
    if case.step != snapshot["step"]:
        _bad(f"claims step {snapshot['step']!r} but its history leads to {case.step!r}")
    outcome = case.outcome
    if (outcome.id if outcome else None) != snapshot["outcome"]:
        _bad(f"claims outcome {snapshot['outcome']!r} but its history leads to {case.step!r}")
    if head is not None and case.head != head:
        _bad(
            f"its history ends at entry {len(case.history)} with hash {case.head[:12]}…, "
            f"not at the expected head {head[:12]}…: entries were removed or added"
        )
    return case


def _replay_migration(
    case: Case, raw: Mapping[str, Any], index: int, resolve: Callable[[str, str], Methodology]
) -> tuple[HistoryEntry, Methodology]:
    try:
        migration = Migration.from_json(raw["evidence"])
        target = resolve(migration.methodology_id, migration.to_version)
        entry = case._migration_entry(
            migration, target, _check_actor(raw["actor"]), _parse_time(raw["at"], index)
        )
    except Refused as error:
        raise InvalidSnapshot(f"the migration is refused: {', '.join(error.codes)}", entry=index) from error
    except InvalidSnapshot:
        raise
    except ResolveflowError as error:
        raise InvalidSnapshot(str(error), entry=index) from error
    return entry, target


def _replay_entry(case: Case, raw: object, index: int, resolve: Callable[[str, str], Methodology]) -> None:
    if not isinstance(raw, Mapping) or set(raw) != _ENTRY_KEYS:
        keys = sorted(raw) if isinstance(raw, Mapping) else type(raw).__name__
        _bad(f"an entry has exactly the keys {sorted(_ENTRY_KEYS)}, got {keys}", index)
    if type(raw["seq"]) is not int or raw["seq"] != index:
        _bad(f"sequence number {raw['seq']!r} where {index} was expected (gap or reorder)", index)
    if raw["from_step"] != case.step:
        _bad(f"recorded from step {raw['from_step']!r} but the case was at {case.step!r}", index)
    if raw["action"] == MIGRATE_ACTION:
        entry, target = _replay_migration(case, raw, index, resolve)
        _check_replayed(entry, raw, index)
        object.__setattr__(case, "_methodology", target)
        object.__setattr__(case, "_history", (*case.history, entry))
        return
    action = case.methodology.action(raw["action"]) if isinstance(raw["action"], str) else None
    if action is None:
        _bad(f"unknown action {raw['action']!r} in {case.methodology.id}", index)
    try:
        actor = _check_actor(raw["actor"])
        entry = case._apply(action, raw["evidence"], actor, _parse_time(raw["at"], index))
    except InvalidEvidence as error:
        raise InvalidSnapshot(f"evidence does not validate: {error}", entry=index) from error
    except Refused as error:
        raise InvalidSnapshot(f"the guards refuse it now: {', '.join(error.codes)}", entry=index) from error
    except InvalidSnapshot:
        raise
    except ResolveflowError as error:
        raise InvalidSnapshot(str(error), entry=index) from error
    _check_replayed(entry, raw, index)
    object.__setattr__(case, "_history", (*case.history, entry))


def _check_replayed(entry: HistoryEntry, raw: Mapping[str, Any], index: int) -> None:
    if entry.step != raw["step"]:
        _bad(f"claims to lead to {raw['step']!r} but {entry.action!r} leads to {entry.step!r}", index)
    # Compared as canonical JSON: 1.0 == 1 in Python, but not in the hashed bytes.
    stored = {k: v for k, v in raw.items() if k != "hash"}
    try:
        stored_json = canonical_json(stored)
    except (TypeError, ValueError, UnicodeEncodeError):
        _bad("it is not plain JSON data", index)
    if canonical_json(entry.body()) != stored_json:
        _bad("its content is not in canonical form (edited by hand?)", index)
    if entry.hash != raw["hash"]:
        _bad("hash mismatch: the entry or one before it was altered", index)
