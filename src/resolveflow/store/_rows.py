"""Between cases and rows: what is written for an entry, and how rows become entries again."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import sqlalchemy as sa

from resolveflow._canonical import MAX_DEPTH, MAX_SAFE_INTEGER, canonical_text
from resolveflow._case import Case
from resolveflow._clock import check_time
from resolveflow._history import HistoryEntry, canonical_json, format_time
from resolveflow._ledger import Ledger, check_actor, load_evidence
from resolveflow._methodology import Methodology
from resolveflow._migration import MIGRATE_ACTION
from resolveflow._schema import INVALID, Errors, record_codec
from resolveflow._shown import shown
from resolveflow._snapshot import FORMAT_OF_RECIPE, SNAPSHOT_FORMAT, definitions_of
from resolveflow.exceptions import InvalidInput
from resolveflow.store._tables import deadlines

# Every promise a case has made is "overdue" by the end of time: the deadlines
# table keeps exactly what case.overdue() would report at some later moment.
END_OF_TIME: Final = _dt.datetime.max.replace(tzinfo=_dt.UTC)


def of_case(
    table: sa.Table, tenant: str | sa.BindParameter[Any], case_id: str | sa.BindParameter[Any]
) -> sa.ColumnElement[bool]:
    """The rows of one case of one tenant: a case id alone never names a case."""
    return sa.and_(table.c.tenant == tenant, table.c.case_id == case_id)


def one_case(table: sa.Table) -> sa.ColumnElement[bool]:
    """:func:`of_case`, with the ``tenant`` and ``case_id`` bind parameters (for queries built once)."""
    return of_case(table, sa.bindparam("tenant"), sa.bindparam("case_id"))


def same_case(table: sa.Table, other: sa.Table) -> sa.ColumnElement[bool]:
    """A join on the case: its tenant and its id."""
    return sa.and_(table.c.tenant == other.c.tenant, table.c.case_id == other.c.case_id)


def entry_row(tenant: str, case_id: str, entry: HistoryEntry, seal: str | None = None) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "case_id": case_id,
        "seq": entry.seq,
        "action": entry.action,
        "from_step": entry.from_step,
        "step": entry.step,
        "actor": entry.actor,
        "actor_roles": canonical_text(sorted(entry.roles)) if entry.roles else None,
        "at": entry.at,
        "evidence": entry.evidence_json,
        "hash": entry.hash,
        "seal": seal,
    }


_NOT_IN_SNAPSHOT: Final = frozenset({"actor_roles", "seal"})  # folded into "actor"; the seals go apart
ENTRY_COLUMNS: Final = (
    "seq",
    "action",
    "from_step",
    "step",
    "actor",
    "actor_roles",
    "at",
    "evidence",
    "hash",
    "seal",
)

# What the actor_roles column holds when resolveflow wrote it; anything else is handed on as it
# is, for the replay to refuse, so an edited value never reaches a JSON parser.
_ROLES_TEXT: Final = re.compile(r'\["[a-z][a-z0-9_]{0,99}"(?:,"[a-z][a-z0-9_]{0,99}"){0,31}\]')


def stored_roles(text: object) -> object:
    """The actor_roles column as a snapshot entry's ``roles``: a list, or the raw value when edited."""
    if isinstance(text, str) and _ROLES_TEXT.fullmatch(text):
        return json.loads(text)
    return text


def snapshot_entry(values: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """An entry row as ``case.snapshot()`` writes entries, for ``resolveflow.restore``.

    ``prefix`` reads the entry's columns under labels such as ``entry_seq``.
    An actor with roles is written as ``{"id", "roles"}``, as the entry hashed it.
    """
    out = {name: values[prefix + name] for name in ENTRY_COLUMNS if name not in _NOT_IN_SNAPSHOT}
    roles = values[prefix + "actor_roles"]
    if roles is not None:
        out["actor"] = {"id": out["actor"], "roles": stored_roles(roles)}
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


def definitions_text_of(ledger: Ledger) -> str:
    """What the definitions column holds for the case a ledger records."""
    return canonical_text(definitions_of(ledger))


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


def case_row(tenant: str, case: Case, *, created_at: _dt.datetime) -> dict[str, Any]:
    outcome = case.outcome
    last = case.history[-1] if case.history else None
    return {
        "tenant": tenant,
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


def promises(tenant: str, case: Case) -> list[dict[str, Any]]:
    """The case's open plan items and pending follow-up, as deadline rows."""
    return [
        {
            "tenant": tenant,
            "case_id": case.id,
            "methodology_id": case.methodology.id,
            "kind": item.kind,
            "ref": item.ref,
            "description": item.description,
            "due": item.due,
        }
        for item in case.overdue(END_OF_TIME)
    ]


def request_print(case: Case, action: object, evidence: object, actor: object, at: object) -> str | None:
    """What makes two requests "the same" for an idempotency key; None for a request fire() refuses.

    The request is checked as ``Case.fire`` checks it before the step and the
    guards: the action exists, the actor and the time are valid, the evidence
    validates. One that fails could never have been recorded under a key, so
    the store skips the key and lets ``Case.fire`` raise exactly the error the
    same call without a key gets (hostile evidence never reaches the hashing).
    The evidence is taken in its canonical form, so that a typed record and the
    JSON a form posted compare equal.
    """
    spec = case.methodology.action(action) if isinstance(action, str) else None
    if spec is None:
        return None
    try:
        who = check_actor(actor)
        when = None if at is None else check_time(at, "at")
    except InvalidInput:
        return None
    _, data, errors = load_evidence(spec, evidence)
    if errors:
        return None
    request = {
        "action": spec.name,
        "evidence": data,
        "actor": who.to_json(),  # the id alone without roles: keys made before roles still match
        "at": None if when is None else format_time(when),
    }
    return hashlib.sha256(canonical_json(request)).hexdigest()


# --- deadline rows that every database can keep ------------------------------------------

_DEADLINE_TEXT: Final = ("kind", "ref", "description")


def _deadline_problem(row: dict[str, Any]) -> tuple[str, str] | None:
    for column in _DEADLINE_TEXT:
        value = row[column]
        limit = getattr(deadlines.c[column].type, "length", None)
        if "\x00" in value:
            return value, "contains NUL (\\x00), which a database text column cannot hold"
        if limit is not None and len(value) > limit:
            return value, f"is longer than the {limit} characters of the deadline's {column}"
    return None


def _path_of_text(data: object, text: str) -> str:
    """Where ``text`` is in JSON data (``items[0].description``), or "" when it is not there."""
    stack: list[tuple[str, object]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if value == text and isinstance(value, str):
            return path
        if isinstance(value, dict):
            stack.extend((f"{path}.{k}" if path else k, v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(value))))
    return ""


def unstorable_promise(rows: Iterable[dict[str, Any]], evidence: object) -> tuple[str, str] | None:
    """``(evidence path, problem)`` for a promise no database column can keep as it is, else None.

    A promise's text becomes a row of the deadlines table: PostgreSQL refuses
    NUL in text and text longer than its column, SQLite takes both. The store
    refuses both on every backend, naming the evidence field the text came from.
    """
    for row in rows:
        found = _deadline_problem(row)
        if found is not None:
            text, problem = found
            return _path_of_text(evidence, text), f"{shown(text)} {problem}"
    return None


# --- JSON columns, read back -------------------------------------------------------------

MAX_DIGITS: Final = len(str(MAX_SAFE_INTEGER))
"""The longest integer in a stored JSON column: the store never writes one beyond +-(2**53 - 1)."""


class UnreadableJSON(ValueError):
    """A JSON column holds text the store never writes (raised while a row is decoded)."""


# A JSON string (escapes and all), or a bracket: enough to measure nesting without parsing.
_STRING_OR_BRACKET: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def _too_deep(text: str) -> bool:
    """Whether JSON text nests arrays and objects deeper than MAX_DEPTH (linear, no recursion)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False  # the usual case: too few brackets to be too deep
    depth = 0
    for token in _STRING_OR_BRACKET.finditer(text):
        mark = text[token.start()]
        if mark in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif mark != '"':
            depth -= 1
    return False


def _stored_int(digits: str) -> int:
    if len(digits) > MAX_DIGITS and len(digits.lstrip("-")) > MAX_DIGITS:
        raise UnreadableJSON(f"a number of more than {MAX_DIGITS} digits, which the store never writes")
    return int(digits)


def _stored_float(digits: str) -> float:
    value = float(digits)
    if not math.isfinite(value):
        raise UnreadableJSON(f"the number {shown(digits)} is too large for a double")
    return value


def _no_constant(name: str) -> object:
    raise UnreadableJSON(f"{name} is not a JSON number")


def load_json(text: object) -> object:
    """A JSON column's value, decoded with bounds: the engines' ``json_deserializer``.

    Text the store never writes (not JSON, nested deeper than
    ``_canonical.MAX_DEPTH``, an integer of more than MAX_DIGITS digits, NaN or a number
    too large for a double) raises :class:`UnreadableJSON` before it can cost
    more than one pass over the text; the store reports it as TamperedHistory.

    Example:
        >>> load_json('{"notes": "Late."}')
        {'notes': 'Late.'}
        >>> load_json("[" * 101 + "]" * 101)
        Traceback (most recent call last):
        ...
        resolveflow.store._rows.UnreadableJSON: nested more than 100 arrays and objects deep
    """
    if isinstance(text, bytes | bytearray | memoryview):  # psycopg passes the raw bytes
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableJSON("the JSON is not UTF-8") from None
    if not isinstance(text, str):
        raise UnreadableJSON(f"expected JSON text, got {shown(text)}")
    if _too_deep(text):
        raise UnreadableJSON(f"nested more than {MAX_DEPTH} arrays and objects deep")
    try:
        return json.loads(text, parse_int=_stored_int, parse_float=_stored_float, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise UnreadableJSON(f"not JSON: {error.msg} at character {error.pos}") from None
