"""HTML forms generated from an action's ``evidence_schema``, and the posted form turned back into evidence.

The desk knows no methodology: every form comes from the JSON Schema that
``case.actions()`` hands out. An input's ``name`` is the evidence path the
library uses in its errors (``items[0].due``), so an ``InvalidEvidence`` error
lands on the input it is about without any mapping table.

Values are converted only as far as HTML forces us to (text to numbers, a
ticked box to ``true``, a local date-time to an aware UTC one); anything that
does not convert is passed on as typed, so that resolveflow's validation, and
its messages, stay the single source of truth.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

# Strings longer than this get a textarea: a one-line input hides most of a long answer.
TEXTAREA_FROM = 200
# The most rows a repeatable fieldset takes: a posted row number past it is refused, not allocated.
MAX_ROWS = 100
_ROW = re.compile(r"^(?P<array>.+?)\[(?P<index>[0-9]+)\](?P<rest>.*)$")
_MISSING = object()


class TooManyRows(ValueError):
    """A posted row number past :data:`MAX_ROWS` (no form the desk renders has that many rows)."""


@dataclass
class Field:
    """One input (or group of inputs) of a generated form, ready for the template.

    ``kind`` picks the widget: text, textarea, integer, number, checkbox, select,
    datetime, lines (one string per line), group (an object), rows (a
    repeatable fieldset for an array of objects) or json (the fallback for a
    schema the desk has no widget for).
    """

    name: str
    kind: str
    label: str
    help: str | None = None
    required: bool = False
    value: str = ""
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    errors: list[str] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)
    min_items: int = 0
    option_labels: dict[str, str] = field(default_factory=dict)
    flagged: bool = False  # named by a refusal: marked, its message shown once with the reasons

    @property
    def checked(self) -> bool:
        return self.value == "true"


def unwrap(schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """``anyOf: [X, null]`` (an optional field) becomes X, with nullable=True."""
    variants = schema.get("anyOf")
    if isinstance(variants, list):
        real = [v for v in variants if v.get("type") != "null"]
        if len(real) == 1 and len(real) < len(variants):
            merged = {**real[0], **{k: v for k, v in schema.items() if k != "anyOf"}}
            return merged, True
    return schema, False


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if "enum" in schema:
        return "select"
    if kind == "string":
        if schema.get("format") == "date-time":
            return "datetime"
        # Names and ids come without a limit; every free-text answer in the schemas has one.
        limit = schema.get("maxLength")
        return "textarea" if limit is not None and limit > TEXTAREA_FROM else "text"
    if kind in ("integer", "number"):
        return str(kind)
    if kind == "boolean":
        return "checkbox"
    if kind == "object" and isinstance(schema.get("properties"), Mapping):
        return "group"
    if kind == "array":
        items, _ = unwrap(schema.get("items", {}))
        item_kind = _kind(items)
        if item_kind == "group":
            return "rows"
        if item_kind in ("text", "textarea", "integer", "number", "select", "datetime"):
            return "lines"
    return "json"


def row_count(values: Mapping[str, str], name: str) -> int:
    """How many rows of the array ``name`` the posted values hold (0 when none).

    Raises:
        TooManyRows: a row number is :data:`MAX_ROWS` or more.
    """
    prefix = f"{name}["
    found = [
        match["index"]
        for key in values
        if key.startswith(prefix) and (match := _ROW.match(key)) and match["array"] == name
    ]
    # Compare the digits' length first: int() of thousands of digits is refused (or slow).
    if any(len(index) > len(str(MAX_ROWS)) or int(index) >= MAX_ROWS for index in found):
        raise TooManyRows(f"A form has at most {MAX_ROWS} rows of {name!r}.")
    return max(int(index) for index in found) + 1 if found else 0


def build_fields(
    schema: Mapping[str, Any],
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    *,
    extra_rows: Iterable[str] = (),
    prefix: str = "",
) -> list[Field]:
    """The fields of an object schema, filled with posted values and errors by path.

    Args:
        schema: an object schema (an action's ``evidence_schema``).
        values: posted raw values by input name (for redisplay), or None for a fresh form.
        errors: messages by evidence path.
        extra_rows: names of repeatable fieldsets that get one more empty row
            (the "add another" button).
        prefix: the path of the object inside the evidence ("" at the top).
    """
    values = values or {}
    errors = errors or {}
    more = set(extra_rows)
    required = set(schema.get("required", ()))
    built = []
    for key, raw_child in schema.get("properties", {}).items():
        child, nullable = unwrap(raw_child)
        name = f"{prefix}.{key}" if prefix else key
        kind = _kind(child)
        item = Field(
            name=name,
            kind=kind,
            label=str(child.get("title") or key.replace("_", " ").capitalize()),
            help=child.get("description"),
            required=key in required and not nullable and kind != "checkbox",
            value=values.get(name, ""),
            errors=list(errors.get(name, ())),
        )
        if kind == "select":
            item.options = tuple(str(o) for o in child["enum"])
        elif kind in ("integer", "number"):
            item.minimum = child.get("minimum")
            item.maximum = child.get("maximum")
        elif kind in ("text", "textarea"):
            item.max_length = child.get("maxLength")
        elif kind == "group":
            item.children = build_fields(child, values, errors, extra_rows=more, prefix=name)
        elif kind == "rows":
            item_schema, _ = unwrap(child["items"])
            item.min_items = int(child.get("minItems", 0))
            count = max(row_count(values, name), item.min_items, 1) + (1 if name in more else 0)
            count = min(count, MAX_ROWS)
            item.rows = [
                build_fields(item_schema, values, errors, extra_rows=more, prefix=f"{name}[{n}]")
                for n in range(count)
            ]
        built.append(item)
    return built


def unplaced_errors(fields: list[Field], errors: Mapping[str, list[str]]) -> list[tuple[str, str]]:
    """Errors whose path names no input on the form (the evidence as a whole, say)."""
    names: set[str] = set()

    def collect(items: list[Field]) -> None:
        for item in items:
            names.add(item.name)
            collect(item.children)
            for row in item.rows:
                collect(row)

    collect(fields)
    return [(path, message) for path, messages in errors.items() if path not in names for message in messages]


# --- posted form -> evidence ------------------------------------------------------------


def _is_blank_row(values: Mapping[str, str], row_prefix: str) -> bool:
    return not any(v.strip() for k, v in values.items() if k.startswith(row_prefix))


def compact_rows(schema: Mapping[str, Any], values: Mapping[str, str], prefix: str = "") -> dict[str, str]:
    """The posted values with empty rows of repeatable fieldsets dropped and the rest renumbered.

    The form always offers a spare empty row; dropping it here (and renumbering)
    keeps the row numbers of the evidence, and so of its error paths, equal to
    the rows shown when the form is redisplayed.
    """
    result = dict(values)
    for key, raw_child in schema.get("properties", {}).items():
        child, _ = unwrap(raw_child)
        name = f"{prefix}.{key}" if prefix else key
        if _kind(child) != "rows":
            continue
        item_schema, _ = unwrap(child["items"])
        count = row_count(result, name)
        moved: dict[str, str] = {}
        kept = 0
        for index in range(count):
            old = f"{name}[{index}]"
            if _is_blank_row(result, old):
                continue
            new = f"{name}[{kept}]"
            row = {k: v for k, v in result.items() if k.startswith(old)}
            row = compact_rows(item_schema, row, old)
            moved.update({new + k[len(old) :]: v for k, v in row.items()})
            kept += 1
        result = {k: v for k, v in result.items() if not k.startswith(f"{name}[")}
        result.update(moved)
    return result


def _local_time(raw: str, zone: ZoneInfo) -> object:
    """A datetime-local value (no zone) read in the desk's zone, as an aware UTC ISO string."""
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        return raw
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC).isoformat()


def _number(raw: str, integer: bool) -> object:
    try:
        if integer:
            return int(raw)
        number = float(raw)
    except ValueError:
        return raw
    if not math.isfinite(number):
        return raw
    return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number


def _scalar(schema: Mapping[str, Any], raw: str, zone: ZoneInfo) -> object:
    kind = _kind(schema)
    text = raw.replace("\r\n", "\n")
    if not text.strip():
        return _MISSING
    if kind == "datetime":
        return _local_time(text.strip(), zone)
    if kind in ("integer", "number"):
        return _number(text.strip(), kind == "integer")
    return text


def _json(raw: str) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def to_evidence(
    schema: Mapping[str, Any], values: Mapping[str, str], zone: ZoneInfo, prefix: str = ""
) -> dict[str, Any]:
    """The evidence JSON for ``fire`` from posted values (already through :func:`compact_rows`)."""
    evidence: dict[str, Any] = {}
    for key, raw_child in schema.get("properties", {}).items():
        child, _ = unwrap(raw_child)
        name = f"{prefix}.{key}" if prefix else key
        kind = _kind(child)
        value: object
        if kind == "checkbox":
            value = values.get(name) == "true"
        elif kind == "group":
            value = to_evidence(child, values, zone, name)
        elif kind == "rows":
            item_schema, _ = unwrap(child["items"])
            value = [
                to_evidence(item_schema, values, zone, f"{name}[{n}]") for n in range(row_count(values, name))
            ]
        elif kind == "lines":
            item_schema, _ = unwrap(child["items"])
            converted = (
                _scalar(item_schema, line.strip(), zone) for line in values.get(name, "").splitlines()
            )
            value = [v for v in converted if v is not _MISSING]
        elif kind == "json":
            raw = values.get(name, "")
            value = _json(raw) if raw.strip() else _MISSING
        else:
            value = _scalar(child, values.get(name, ""), zone)
        if value is not _MISSING:
            evidence[key] = value
    return evidence


def has_fields(schema: Mapping[str, Any]) -> bool:
    """True when the action records evidence (its schema has properties)."""
    return bool(schema.get("properties"))


def errors_by_path(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """``InvalidEvidence.errors`` (path, message) pairs grouped by path."""
    grouped: dict[str, list[str]] = {}
    for path, message in pairs:
        grouped.setdefault(path, []).append(message)
    return grouped
