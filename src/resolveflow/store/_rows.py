"""Between cases and rows: what is written for an entry, and how rows become entries again."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Final

import sqlalchemy as sa

from resolveflow._canonical import canonical_text
from resolveflow._case import Case
from resolveflow._history import HistoryEntry, canonical_json, format_time
from resolveflow._methodology import Methodology
from resolveflow._migration import MIGRATE_ACTION
from resolveflow._schema import INVALID, Errors, record_codec
from resolveflow._snapshot import FORMAT_OF_RECIPE, SNAPSHOT_FORMAT

# Every promise a case has made is "overdue" by the end of time: the deadlines
# table keeps exactly what case.overdue() would report at some later moment.
END_OF_TIME: Final = _dt.datetime.max.replace(tzinfo=_dt.UTC)


def entry_row(case_id: str, entry: HistoryEntry) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "seq": entry.seq,
        "action": entry.action,
        "from_step": entry.from_step,
        "step": entry.step,
        "actor": entry.actor,
        "at": entry.at,
        "evidence": entry.evidence_json,
        "hash": entry.hash,
    }


ENTRY_COLUMNS: Final = ("seq", "action", "from_step", "step", "actor", "at", "evidence", "hash")


def snapshot_entry(values: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """An entry row as ``case.snapshot()`` writes entries, for ``resolveflow.restore``.

    ``prefix`` reads the entry's columns under labels such as ``entry_seq``.
    """
    out = {name: values[prefix + name] for name in ENTRY_COLUMNS}
    out["at"] = format_time(out["at"])
    return out


def opened_with(current_version: str, entries: list[dict[str, Any]]) -> str:
    """The version a case was opened with: before its first migration, if it had one."""
    for entry in entries:
        evidence = entry.get("evidence")
        if entry.get("action") == MIGRATE_ACTION and isinstance(evidence, dict):
            return str(evidence.get("from_version", current_version))
    return current_version


# The only text the definitions column holds when resolveflow wrote it: a flat object of
# versions and digests. Anything else is passed on as it is, for restore to refuse, so a
# hostile value is never handed to a JSON parser (no depth or size to bound).
_DEFINITIONS_TEXT: Final = re.compile(
    r'\{"[0-9.]{1,100}":"sha256:[0-9a-f]{64}"(?:,"[0-9.]{1,100}":"sha256:[0-9a-f]{64}")*\}'
)


def definitions_text(case: Case) -> str:
    """What the definitions column holds for a case."""
    return canonical_text(case.definitions)


def bound_definitions(case_row: sa.Row[Any]) -> object:
    """The case row's definitions as a snapshot carries them; None for a row from before them."""
    text = case_row.definitions
    if text is None:
        return None
    if isinstance(text, str) and _DEFINITIONS_TEXT.fullmatch(text):
        return json.loads(text)
    return text  # restore refuses it, naming the key


def snapshot(case_row: sa.Row[Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    out = {
        "format": FORMAT_OF_RECIPE.get(case_row.hash_recipe, SNAPSHOT_FORMAT),
        "methodology": {"id": case_row.methodology_id, "version": case_row.methodology_version},
        "opened_with": opened_with(case_row.methodology_version, entries),
        "case_id": case_row.case_id,
        "step": case_row.step,
        "outcome": case_row.outcome,
        "history": entries,
    }
    bound = bound_definitions(case_row)
    if bound is not None:
        out["definitions"] = bound
    return out


def typed_evidence(methodology: Methodology, action: str, data: object) -> object | None:
    """The evidence record of a stored entry; INVALID when the row does not load."""
    spec = methodology.action(action)
    if spec is None:
        return INVALID
    if spec.evidence is None:
        return None if data is None else INVALID
    errors: Errors = []
    record = record_codec(spec.evidence).load(data, "", errors)
    return INVALID if errors else record


def case_row(case: Case, *, created_at: _dt.datetime) -> dict[str, Any]:
    outcome = case.outcome
    last = case.history[-1] if case.history else None
    return {
        "case_id": case.id,
        "methodology_id": case.methodology.id,
        "methodology_version": case.methodology.version,
        "step": case.step,
        "outcome": outcome.id if outcome else None,
        "last_seq": len(case.history),
        "head": case.head,
        "hash_recipe": case.hash_recipe,
        "definitions": definitions_text(case),
        "created_at": created_at,
        "updated_at": last.at if last is not None else created_at,
    }


def promises(case: Case) -> list[dict[str, Any]]:
    """The case's open plan items and pending follow-up, as deadline rows."""
    return [
        {
            "case_id": case.id,
            "methodology_id": case.methodology.id,
            "kind": item.kind,
            "ref": item.ref,
            "description": item.description,
            "due": item.due,
        }
        for item in case.overdue(END_OF_TIME)
    ]


def _evidence_key(methodology: Methodology, action: object, evidence: object) -> Any:
    spec = methodology.action(action) if isinstance(action, str) else None
    if spec is not None and spec.evidence is not None and evidence is not None:
        codec = record_codec(spec.evidence)
        errors: Errors = []
        record = codec.load(evidence, "", errors)
        if record is not INVALID and not errors:
            # Canonical form: a typed record and the JSON a form posted compare equal.
            return codec.dump(record)
    if isinstance(evidence, Mapping) and not evidence:
        return None
    return json.loads(json.dumps(evidence, sort_keys=True, default=repr))


def fingerprint(methodology: Methodology, action: object, evidence: object, actor: object, at: object) -> str:
    """What makes two requests "the same" for an idempotency key."""
    when = format_time(at) if isinstance(at, _dt.datetime) and at.utcoffset() is not None else repr(at)
    request = {
        "action": repr(action) if not isinstance(action, str) else action,
        "evidence": _evidence_key(methodology, action, evidence),
        "actor": repr(actor) if not isinstance(actor, str) else actor,
        "at": None if at is None else when,
    }
    return hashlib.sha256(canonical_json(request)).hexdigest()
