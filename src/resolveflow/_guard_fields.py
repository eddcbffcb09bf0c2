"""A guard kind as methodology files see it, and how each of its keys reads and writes.

A :class:`GuardKind` names a kind, its Guard class and its keys; a
:class:`GuardField` says what one key holds (a step, a record, a field of the
action's evidence, a number ...). This module turns such a key from file data
into the value the guard class takes, back into file data, and into its JSON
Schema. The table of kinds, the built-in kinds and the registry are in
``_guard_kinds.py``, built from these.
"""

from __future__ import annotations

import datetime as _dt
import enum
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

import attrs

from resolveflow._file_patterns import _name, _record_ref, _text
from resolveflow._file_records import ErrorAt, Records, RecordWriter, did_you_mean, field_codec, is_datetime
from resolveflow._guards import (
    Guard,
)
from resolveflow._schema import record_codec, record_key

if TYPE_CHECKING:
    from resolveflow._methodology import Action


Path = tuple[str | int, ...]

_SNAKE: Final = re.compile(r"[a-z][a-z0-9_]*")
_COMMON_KEYS: Final = ("kind", "name", "message")


_Choices = type[enum.Enum]  # named here: inside GuardField, `type` is a field
FieldType = Literal[
    "text",
    "name",
    "integer",
    "number",
    "boolean",
    "datetime",
    "choice",
    "step",
    "record",
    "evidence_field",
    "record_field",
    "evidence_value",
]
FIELD_TYPES: Final[tuple[str, ...]] = get_args(FieldType)
"""The types a :class:`GuardField` can have."""


class _Invalid(Exception):
    """A value a field cannot take; the reader turns it into an error at the field's key path."""


@attrs.frozen
class GuardField:
    """One key of a guard kind in a file, and the guard keyword it fills.

    Attributes:
        key: the key in the file, snake_case (not ``kind``, ``name`` or ``message``).
        type: how the value is checked, read and written; one of :data:`FIELD_TYPES`:
            ``text``, ``name`` (a snake_case word), ``integer``, ``number``,
            ``boolean``, ``datetime`` (ISO 8601 text with a time zone <->
            an aware ``datetime``), ``choice`` (an ``enum.Enum``, written as its
            value), ``step`` (a working step's id), ``record`` (a record name
            <-> its class), ``evidence_field`` (a field of the action's
            evidence), ``record_field`` (a field of the record named by the
            key ``of``) and ``evidence_value`` (a value of the evidence field
            named by the key ``of``).
        description: what it means, for the JSON Schema (editors show it).
        required: whether a file must give it; an optional key left out is
            not passed, so the class's default applies.
        attr: the keyword argument and attribute of the guard class (default: ``key``).
        choices: the enum of a ``choice`` field.
        minimum: the lowest ``integer`` or ``number`` allowed.
        of: the earlier key this one depends on: for ``record_field`` a ``record``
            key, for ``evidence_value`` an ``evidence_field`` key.
        datetime: an ``evidence_field`` or ``record_field`` must name a date-time field.
        load: optional conversion of the value once read (e.g. minutes -> timedelta);
            raise ``ValueError`` to refuse it.
        dump: its inverse, applied to the guard's attribute before writing.
    """

    key: str
    type: FieldType
    description: str
    required: bool = True
    attr: str = attrs.field(default=attrs.Factory(lambda field: field.key, takes_self=True))
    choices: _Choices | None = None
    minimum: float | None = None
    of: str | None = None
    datetime: bool = False
    load: Callable[[Any], Any] | None = attrs.field(default=None, eq=False)
    dump: Callable[[Any], Any] | None = attrs.field(default=None, eq=False)


def _as_tuple(fields: Iterable[GuardField]) -> tuple[GuardField, ...]:
    return tuple(fields)


@attrs.frozen
class GuardKind:
    """A guard kind methodology files can hold: its name in files, its class and its fields.

    Attributes:
        name: what a file writes after ``kind:``.
        guard: the Guard subclass it builds (exactly this class is written back as this kind).
        description: what the guard checks, for the JSON Schema.
        fields: its keys besides ``kind``, ``name`` and ``message``, in writing order.
        defaults: the class gives a default ``name`` and ``message``, so a file may
            leave them out (and the writer leaves them out when they are the defaults).
    """

    name: str
    guard: type[Guard]
    description: str
    fields: tuple[GuardField, ...] = attrs.field(default=(), converter=_as_tuple)
    defaults: bool = False

    def all_fields(self) -> tuple[GuardField, ...]:
        """Its fields, then ``name`` and ``message``."""
        return (*self.fields, *(_NAME_OPTIONAL if self.defaults else _NAME_REQUIRED))

    def keys(self) -> tuple[str, ...]:
        return ("kind", *(f.key for f in self.all_fields()))

    def step_keys(self) -> tuple[str, ...]:
        """The keys that name a working step (checked with the other cross-references)."""
        return tuple(f.key for f in self.fields if f.type == "step")


_NAME_DESCRIPTION: Final = (
    "The refusal code the guard gives (snake_case). Optional for kinds that have a default."
)
_MESSAGE_DESCRIPTION: Final = "What the agent reads when the guard refuses."
_NAME_REQUIRED: Final = (
    GuardField("name", "name", _NAME_DESCRIPTION),
    GuardField("message", "text", _MESSAGE_DESCRIPTION),
)
_NAME_OPTIONAL: Final = tuple(attrs.evolve(f, required=False) for f in _NAME_REQUIRED)


# --- reading and writing one field --------------------------------------------------


@attrs.frozen
class ReadContext:
    """What reading a guard's fields may look at: the guard's data and its action's evidence."""

    kind: GuardKind
    spec: Mapping[str, Any]
    path: Path
    evidence: type | None
    records: Records
    error: ErrorAt
    read: dict[str, Any] = attrs.field(factory=dict)  # key -> value read so far


@attrs.frozen
class WriteContext:
    """What writing a guard's fields may look at: the guard, its action and the record names."""

    kind: GuardKind
    guard: Guard
    action: Action
    path: Path
    writer: RecordWriter


def _codec(record: type | None, field_name: str, field: GuardField, ctx: ReadContext) -> Any:
    """The codec of a field of ``record`` (the action's evidence when ``field`` reads it)."""
    path = (*ctx.path, field.key)
    if record is None:
        raise ctx.error(
            path,
            f"a {ctx.kind.name} guard reads the action's evidence, but this action records none; "
            "add 'evidence' to the action",
        )
    codec = field_codec(record, field_name)
    if codec is None:
        fields = [f.attr for f in record_codec(record).fields]
        raise ctx.error(
            path,
            f"unknown field {field_name!r}{did_you_mean(field_name, fields)} of record "
            f"{record_key(record)!r}; fields are: {', '.join(fields)}",
        )
    if field.datetime and not is_datetime(codec):
        raise ctx.error(path, f"field {field_name!r} is not a datetime; {ctx.kind.name} compares a time")
    return codec


def _read(field: GuardField, value: Any, ctx: ReadContext) -> Any:
    kind = field.type
    if field.of is not None and field.of not in ctx.read:
        raise _Invalid(f"give {field.of!r} too: this key is read with it")
    if kind == "record":
        return ctx.records.get(value, (*ctx.path, field.key))
    if kind == "evidence_field":
        _codec(ctx.evidence, value, field, ctx)
        return value
    if kind == "record_field":
        assert field.of is not None  # checked when the kind was registered
        _codec(ctx.read[field.of], value, field, ctx)
        return value
    if kind == "evidence_value":
        assert field.of is not None
        name = ctx.read[field.of]
        codec = _codec(ctx.evidence, name, field, ctx)
        errors: list[tuple[str, str]] = []
        loaded = codec.load(value, "", errors)
        if errors:
            raise _Invalid(f"not a valid value of field {name!r}: {errors[0][1]}")
        return loaded
    if kind == "datetime":
        try:
            moment = _dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise _Invalid(
                f"expected a date-time with a time zone, e.g. '2027-01-31T09:00:00+00:00', got {value!r}"
            )
        return moment
    if kind == "choice":
        assert field.choices is not None
        return field.choices(value)  # the schema admits only its values
    return value  # text, name, step, integer, number, boolean: the schema checked them


def _written(field: GuardField, value: Any, ctx: WriteContext) -> Any:
    """The file's value for ``value``; raises _Invalid when the field cannot hold it."""
    kind = field.type
    if kind == "record":
        if not isinstance(value, type):
            raise _Invalid(f"expected a record class, got {value!r}")
        return ctx.writer.record(value, (*ctx.path, field.key))
    if kind == "evidence_value":
        return _value_out(field, value, ctx)
    if kind in ("text", "name", "step", "evidence_field", "record_field"):
        if not isinstance(value, str):
            raise _Invalid(f"expected text, got {value!r}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _Invalid(f"expected true or false, got {value!r}")
        return value
    if kind in ("integer", "number"):
        wanted = int if kind == "integer" else int | float
        if isinstance(value, bool) or not isinstance(value, wanted) or not math.isfinite(value):
            raise _Invalid(f"expected {'an integer' if kind == 'integer' else 'a number'}, got {value!r}")
        return value
    if kind == "datetime":
        if not isinstance(value, _dt.datetime) or value.tzinfo is None:
            raise _Invalid(f"expected a datetime with a time zone, got {value!r}")
        return value.isoformat()
    if kind == "choice":
        if not isinstance(value, enum.Enum) or type(value) is not field.choices:
            raise _Invalid(f"expected a member of {field.choices!r}, got {value!r}")
        return value.value
    raise AssertionError(kind)  # pragma: no cover - types are checked when registered


def _json_compatible(value: object) -> bool:
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, list):
        return all(_json_compatible(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_compatible(v) for k, v in value.items())
    return False


def _value_out(field: GuardField, value: object, ctx: WriteContext) -> object:
    of = next(f for f in ctx.kind.fields if f.key == field.of)
    name = getattr(ctx.guard, of.attr)
    codec = field_codec(ctx.action.evidence, name) if ctx.action.evidence is not None else None
    if codec is None:  # pragma: no cover - Action refuses a guard on a field its record lacks
        raise _Invalid(f"the action records no field {name!r}")
    dumped = codec.dump(value)
    errors: list[tuple[str, str]] = []
    # What is written must load back to the very same value.
    if not _json_compatible(dumped) or codec.load(dumped, "", errors) != value or errors:
        raise _Invalid(f"{field.attr}={value!r} is not a value field {name!r} can hold")
    return dumped


def _field_schema(field: GuardField) -> dict[str, Any]:
    title = field.key.replace("_", " ").capitalize()
    description = field.description
    kind = field.type
    if kind == "text":
        return _text(title, description)
    if kind in ("name", "step", "evidence_field", "record_field"):
        return _name(title, description)
    if kind == "record":
        return _record_ref(title, description)
    out: dict[str, Any] = {"title": title, "description": description}
    if kind in ("integer", "number", "boolean"):
        out["type"] = kind
        if field.minimum is not None:
            out["minimum"] = field.minimum
    elif kind == "datetime":
        out.update(type="string", format="date-time")
    elif kind == "choice":
        assert field.choices is not None
        out["enum"] = [member.value for member in field.choices]
    return out
