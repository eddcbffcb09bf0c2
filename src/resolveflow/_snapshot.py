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
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, NoReturn

from resolveflow._case import SNAPSHOT_FORMAT, Case, Clock, _check_actor
from resolveflow._facts import HistoryFacts, remember
from resolveflow._history import HistoryEntry, canonical_json, format_time
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


# Exactly what format_time writes: UTC, "+00:00", microseconds only when not zero.
# Matching it here spares formatting every replayed time again to compare.
_CANONICAL_AT: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.(?!000000)[0-9]{6})?\+00:00"
)


def _parse_time(value: object, entry: int) -> _dt.datetime:
    if not isinstance(value, str):
        _bad(f"'at' must be an ISO 8601 string, got {type(value).__name__}", entry)
    try:
        parsed = _dt.datetime.fromisoformat(value)
    except ValueError:
        _bad(f"'at' is not an ISO 8601 date-time: {value!r}", entry)
    if parsed.utcoffset() is None:
        _bad(f"'at' has no time zone: {value!r}", entry)
    return parsed if parsed.tzinfo is _dt.UTC else parsed.astimezone(_dt.UTC)


def _stored_time(value: object, entry: int) -> _dt.datetime:
    """A replayed entry's time, which must be spelled exactly as resolveflow writes it."""
    if type(value) is str and _CANONICAL_AT.fullmatch(value) is not None:
        parsed = _dt.datetime.fromisoformat(value)  # "+00:00": timezone.utc, nothing to check
        if parsed.tzinfo is _dt.UTC:
            return parsed
    parsed = _parse_time(value, entry)  # the precise complaint, if there is one
    if not isinstance(value, str) or _CANONICAL_AT.fullmatch(value) is None:
        _bad(
            f"its content is not in canonical form (edited by hand?): 'at' is {value!r}, "
            f"resolveflow writes {format_time(parsed)!r}",
            entry,
        )
    return parsed


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
    facts = HistoryFacts()  # kept up to date so that replaying stays linear in the history
    for index, raw in enumerate(history, start=1):
        _replay_entry(case, raw, index, resolve, facts)
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
    remember(case.history, facts)  # the first decisions on the restored case need it
    return case


def _replay_migration(
    case: Case, raw: Mapping[str, Any], index: int, resolve: Callable[[str, str], Methodology]
) -> tuple[HistoryEntry, Methodology]:
    try:
        migration = Migration.from_json(raw["evidence"])
        target = resolve(migration.methodology_id, migration.to_version)
        entry = case._migration_entry(
            migration, target, _check_actor(raw["actor"]), _stored_time(raw["at"], index)
        )
    except Refused as error:
        raise InvalidSnapshot(f"the migration is refused: {', '.join(error.codes)}", entry=index) from error
    except InvalidSnapshot:
        raise
    except ResolveflowError as error:
        raise InvalidSnapshot(str(error), entry=index) from error
    return entry, target


def _replay_entry(
    case: Case, raw: object, index: int, resolve: Callable[[str, str], Methodology], facts: HistoryFacts
) -> None:
    if not (type(raw) is dict or isinstance(raw, Mapping)) or raw.keys() != _ENTRY_KEYS:
        keys = sorted(raw) if isinstance(raw, Mapping) else type(raw).__name__
        _bad(f"an entry has exactly the keys {sorted(_ENTRY_KEYS)}, got {keys}", index)
    if type(raw["seq"]) is not int or raw["seq"] != index:
        _bad(f"sequence number {raw['seq']!r} where {index} was expected (gap or reorder)", index)
    step = case.step
    if raw["from_step"] != step:
        _bad(f"recorded from step {raw['from_step']!r} but the case was at {step!r}", index)
    if raw["action"] == MIGRATE_ACTION:
        entry, target = _replay_migration(case, raw, index, resolve)
        _check_replayed(entry, entry.evidence_json, raw, index)
        object.__setattr__(case, "_methodology", target)
        case._append(entry)
        facts.add(entry)
        return
    action = case.methodology.action(raw["action"]) if type(raw["action"]) is str else None
    if action is None:
        _bad(f"unknown action {raw['action']!r} in {case.methodology.id}", index)
    try:
        actor = _check_actor(raw["actor"])
        at = case._forward(_stored_time(raw["at"], index))
        entry, data = case._apply(action, step, raw["evidence"], actor, at, raw["at"], facts)
    except InvalidEvidence as error:
        raise InvalidSnapshot(f"evidence does not validate: {error}", entry=index) from error
    except Refused as error:
        raise InvalidSnapshot(f"the guards refuse it now: {', '.join(error.codes)}", entry=index) from error
    except InvalidSnapshot:
        raise
    except ResolveflowError as error:
        raise InvalidSnapshot(str(error), entry=index) from error
    _check_replayed(entry, data, raw, index)
    case._append(entry)
    facts.add(entry)


def _same_json(data: object, stored: object) -> bool:
    """Whether stored evidence is the same JSON as ``data`` (tuples for arrays, say, from msgpack)."""
    try:
        return canonical_json(stored) == canonical_json(data)
    except (TypeError, ValueError, UnicodeEncodeError):
        return False


def _check_replayed(entry: HistoryEntry, data: Any, raw: Mapping[str, Any], index: int) -> None:
    """The replayed entry (hashed with evidence ``data``) must be the stored one.

    Its time was checked for canonical spelling when it was read. The hash covers
    the canonical JSON of the evidence as loaded; stored evidence that differs from
    it beyond number spelling (1 for 1.0, which JSON libraries in other languages
    write) or tuples for arrays is not what resolveflow wrote.
    """
    if entry.step != raw["step"]:
        _bad(f"claims to lead to {raw['step']!r} but {entry.action!r} leads to {entry.step!r}", index)
    if data != raw["evidence"] and not _same_json(data, raw["evidence"]):
        _bad("its content is not in canonical form (edited by hand?): the evidence differs", index)
    if entry.hash != raw["hash"]:
        _bad("hash mismatch: the entry or one before it was altered", index)
