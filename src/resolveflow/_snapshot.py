"""Snapshots: a ledger as JSON data, and back, every entry replayed through the ledger.

:func:`restore_ledger` is the only way back from stored data. It rebuilds the
ledger by running each entry through the same path :meth:`Case.fire` takes
(``Ledger.accept``; a migration entry through ``Ledger.migrated``, the checks
:func:`resolveflow.migrate` makes), and each entry must be byte for byte what
was stored before it is appended, so a snapshot edited in any way that changes
its meaning is rejected at the first bad entry.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, NoReturn

from resolveflow._actor import actor_from_json
from resolveflow._digest import DIGEST, definition_digest
from resolveflow._history import JCS, SORTED_JSON, HistoryEntry, canonical_json, format_time
from resolveflow._ledger import Ledger
from resolveflow._methodology import Methodology
from resolveflow._migration import MIGRATE_ACTION, Migration
from resolveflow._seal import NOT_SEALED, NOT_VERIFIED, KeyRing, chain_seals
from resolveflow._shown import shown
from resolveflow.exceptions import (
    DefinitionMismatch,
    InvalidEvidence,
    InvalidInput,
    InvalidSnapshot,
    Refused,
    ResolveflowError,
    UnknownMethodology,
)

SNAPSHOT_FORMAT: Final = "resolveflow.case/2"
"""The format ``case.snapshot()`` writes: entries hashed over RFC 8785 (JCS) text."""
# Each format names the recipe its hashes were made with; format 1 (before 0.1) hashed
# Python's sorted JSON. Its snapshots restore, and the case keeps that recipe.
FORMATS: Final = {"resolveflow.case/1": SORTED_JSON, SNAPSHOT_FORMAT: JCS}
FORMAT_OF_RECIPE: Final = {recipe: name for name, recipe in FORMATS.items()}
_SNAPSHOT_KEYS: Final = frozenset({"format", "methodology", "case_id", "step", "outcome", "history"})
# "definitions" binds each version's definition digest; snapshots written before it existed
# lack it and restore under whatever is registered (their next snapshot carries it).
_OPTIONAL_SNAPSHOT_KEYS: Final = frozenset({"opened_with", "definitions", "seals"})
_MAX_VERSION_CHARS: Final = 100
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
        _bad(f"'at' is not an ISO 8601 date-time: {shown(value)}", entry)
    if parsed.utcoffset() is None:
        _bad(f"'at' has no time zone: {shown(value)}", entry)
    try:
        return parsed if parsed.tzinfo is _dt.UTC else parsed.astimezone(_dt.UTC)
    except OverflowError:
        _bad(f"'at' is outside the years 1 to 9999 in UTC: {shown(value)}", entry)


def _stored_time(value: object, entry: int) -> _dt.datetime:
    """A replayed entry's time, which must be spelled exactly as resolveflow writes it."""
    if type(value) is str and _CANONICAL_AT.fullmatch(value) is not None:
        parsed = _dt.datetime.fromisoformat(value)  # "+00:00": timezone.utc, nothing to check
        if parsed.tzinfo is _dt.UTC:
            return parsed
    parsed = _parse_time(value, entry)  # the precise complaint, if there is one
    if not isinstance(value, str) or _CANONICAL_AT.fullmatch(value) is None:
        _bad(
            f"its content is not in canonical form (edited by hand?): 'at' is {shown(value)}, "
            f"resolveflow writes {format_time(parsed)!r}",
            entry,
        )
    return parsed


def snapshot_of(ledger: Ledger, keys: KeyRing | None = None) -> dict[str, Any]:
    """A ledger as JSON-compatible data; see :meth:`resolveflow.Case.snapshot`."""
    outcome = ledger.methodology.outcome(ledger.step)
    out: dict[str, Any] = {
        "format": FORMAT_OF_RECIPE[ledger.recipe],
        "methodology": {"id": ledger.methodology.id, "version": ledger.methodology.version},
        "opened_with": ledger.opened_with,
        "definitions": definitions_of(ledger),
        "case_id": ledger.case_id,
        "step": ledger.step,
        "outcome": outcome.id if outcome else None,
        "history": [entry.to_json() for entry in ledger.entries],
    }
    if keys is not None:
        out["seals"] = chain_seals(keys, ledger.genesis, [entry.hash for entry in ledger.entries])
    return out


def definitions_of(ledger: Ledger) -> dict[str, str]:
    """Each version the history was recorded under, with its definition's digest."""
    return {m.version: definition_digest(m) for m in ledger.definitions}


def _bound_definitions(snapshot: Mapping[str, Any], history: object) -> dict[str, str] | None:
    """The snapshot's ``definitions``, checked for shape; None for a snapshot from before them."""
    if "definitions" not in snapshot:
        return None
    found = snapshot["definitions"]
    # One version to start with and one per migration entry: more cannot be the case's own.
    most = 1 + (len(history) if isinstance(history, list | tuple) else 0)
    if not isinstance(found, Mapping) or not 1 <= len(found) <= most:
        _bad(
            "'definitions' must map each version the history was recorded under to its digest "
            f"('sha256:' and 64 hex digits), got {shown(found)}"
        )
    for version, digest in found.items():
        if not (isinstance(version, str) and len(version) <= _MAX_VERSION_CHARS):
            _bad(f"'definitions' has a key that is not a version: {shown(version)}")
        if not (isinstance(digest, str) and DIGEST.fullmatch(digest)):
            _bad(f"'definitions' gives {shown(version)} {shown(digest)}, not 'sha256:' and 64 hex digits")
    return dict(found)


def _binding(
    resolve: Callable[[str, str], Methodology], bound: dict[str, str] | None
) -> Callable[[str, str], Methodology]:
    """``resolve``, refusing a definition whose digest is not the one the snapshot recorded."""
    if bound is None:
        return resolve

    def resolve_bound(methodology_id: str, version: str) -> Methodology:
        methodology = resolve(methodology_id, version)
        expected = bound.get(version)
        if expected is None:
            _bad(f"'definitions' has no digest for {methodology_id}@{version}, which the history passes")
        found = definition_digest(methodology)
        if found != expected:
            raise DefinitionMismatch(
                methodology_id=methodology_id, version=version, expected=expected, found=found
            )
        return methodology

    return resolve_bound


def _seals(snapshot: Mapping[str, Any], history: object, keys: KeyRing | None) -> list[object] | None:
    """The snapshot's seals, one per entry (None where an entry has none); None: not asked to check."""
    found = snapshot.get("seals")
    if found is not None and (
        not isinstance(found, list | tuple)
        or not isinstance(history, list | tuple)
        or len(found) != len(history)
        or not all(seal is None or isinstance(seal, str) for seal in found)
    ):
        _bad("'seals' must be a list with one seal (or null) per history entry")
    if keys is None:
        return None  # without the keys nothing can be checked: every entry is replayed
    if found is None:
        return [None] * len(history) if isinstance(history, list | tuple) else []
    return list(found)


def restore_ledger(
    snapshot: object,
    *,
    resolve: Callable[[str, str], Methodology],
    head: str | None = None,
    keys: KeyRing | None = None,
) -> Ledger:
    """Rebuild a ledger from a snapshot by replaying it; see :func:`resolveflow.restore`."""
    if not isinstance(snapshot, Mapping):
        _bad(f"expected a mapping (the dict from case.snapshot()), got {type(snapshot).__name__}")
    found = snapshot.get("format")
    recipe = FORMATS.get(found) if isinstance(found, str) else None
    if recipe is None:
        _bad(f"'format' must be one of {sorted(FORMATS)}, got {shown(found)}")
    extra = set(snapshot) - _SNAPSHOT_KEYS - _OPTIONAL_SNAPSHOT_KEYS
    missing = _SNAPSHOT_KEYS - set(snapshot)
    if extra or missing:
        _bad(f"unexpected keys {sorted(map(shown, extra))} / missing keys {sorted(missing)}")
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
    history = snapshot["history"]
    bound = _bound_definitions(snapshot, history)
    resolve = _binding(resolve, bound)
    try:
        methodology = resolve(ref["id"], opened_with)
    except UnknownMethodology as error:
        raise InvalidSnapshot(str(error)) from error
    try:
        ledger = Ledger(methodology, snapshot["case_id"], recipe=recipe)
    except InvalidInput as error:
        raise InvalidSnapshot(str(error)) from error
    if not isinstance(history, list | tuple):
        _bad("'history' must be a list of entries")
    seals = _seals(snapshot, history, keys)
    previous = ledger.genesis  # what the next seal covers: the last seal, or the last hash if unsealed
    for index, raw in enumerate(history, start=1):
        sealed = False
        if seals is not None and keys is not None:
            seal: object = seals[index - 1]
            stated = raw.get("hash") if isinstance(raw, Mapping) else None
            if seal is None:
                if not keys.accept_unsealed:
                    _bad(f"{NOT_SEALED} (reseal histories recorded before sealing)", index)
            elif isinstance(stated, str) and keys.verifies(seal, previous, stated):
                sealed = True
            else:
                _bad(NOT_VERIFIED, index)
            previous = seal if isinstance(seal, str) else str(stated)
        ledger = replay_entry(ledger, raw, index, resolve, sealed=sealed)
    if ledger.methodology.version != ref["version"]:
        _bad(
            f"claims version {shown(ref['version'])} but its history leads to {ledger.methodology.version!r}"
        )
    if bound is not None and bound.keys() != {m.version for m in ledger.definitions}:
        _bad(f"'definitions' names versions the history does not pass through: {shown(sorted(bound))}")
    step = ledger.step
    if step != snapshot["step"]:
        _bad(f"claims step {shown(snapshot['step'])} but its history leads to {step!r}")
    outcome = ledger.methodology.outcome(step)
    if (outcome.id if outcome else None) != snapshot["outcome"]:
        _bad(f"claims outcome {shown(snapshot['outcome'])} but its history leads to {step!r}")
    if head is not None and ledger.head != head:
        _bad(
            f"its history ends at entry {len(ledger)} with hash {ledger.head[:12]}…, "
            f"not at the expected head {str(head)[:12]}…: entries were removed or added"
        )
    return ledger


def replay_entry(
    ledger: Ledger,
    raw: object,
    index: int,
    resolve: Callable[[str, str], Methodology],
    *,
    sealed: bool = False,
) -> Ledger:
    """Append one stored entry (the ledger a migration entry moves to, else the same one)."""
    if not (type(raw) is dict or isinstance(raw, Mapping)) or raw.keys() != _ENTRY_KEYS:
        keys = sorted(map(shown, raw)) if isinstance(raw, Mapping) else type(raw).__name__
        _bad(f"an entry has exactly the keys {sorted(_ENTRY_KEYS)}, got {keys}", index)
    if type(raw["seq"]) is not int or raw["seq"] != index:
        _bad(f"sequence number {shown(raw['seq'])} where {index} was expected (gap or reorder)", index)
    step = ledger.step
    if raw["from_step"] != step:
        _bad(f"recorded from step {shown(raw['from_step'])} but the case was at {step!r}", index)

    def expect(entry: HistoryEntry, data: Any) -> None:
        _check_replayed(entry, data, raw, index)

    try:
        actor = actor_from_json(raw["actor"])
        at = ledger.forward(_stored_time(raw["at"], index))
        if raw["action"] == MIGRATE_ACTION:
            migration = Migration.from_json(raw["evidence"])
            target = resolve(migration.methodology_id, migration.to_version)
            return ledger.migrated(migration, target, actor, at, expect=expect)
        action = ledger.methodology.action(raw["action"]) if type(raw["action"]) is str else None
        if action is None:
            _bad(f"unknown action {shown(raw['action'])} in {ledger.methodology.id}", index)
        ledger.accept(action, raw["evidence"], actor, at, at_text=raw["at"], expect=expect, sealed=sealed)
    except InvalidEvidence as error:
        raise InvalidSnapshot(f"evidence does not validate: {error}", entry=index) from error
    except Refused as error:
        what = "the migration is refused" if raw["action"] == MIGRATE_ACTION else "the guards refuse it now"
        raise InvalidSnapshot(f"{what}: {', '.join(error.codes)}", entry=index) from error
    except DefinitionMismatch as error:
        raise DefinitionMismatch(
            methodology_id=error.methodology_id,
            version=error.version,
            expected=error.expected,
            found=error.found,
            entry=index,  # the migration entry that moved the case onto that version
        ) from None
    except InvalidSnapshot:
        raise
    except ResolveflowError as error:
        raise InvalidSnapshot(str(error), entry=index) from error
    return ledger


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
        _bad(f"claims to lead to {shown(raw['step'])} but {entry.action!r} leads to {entry.step!r}", index)
    if data != raw["evidence"] and not _same_json(data, raw["evidence"]):
        _bad("its content is not in canonical form (edited by hand?): the evidence differs", index)
    if entry.hash != raw["hash"]:
        _bad("hash mismatch: the entry or one before it was altered", index)
