"""Evidence records <-> JSON: one description per record class, three uses.

A record class (a frozen attrs class) is compiled once into a tree of codecs.
The same tree produces the JSON Schema a UI renders a form from, validates and
converts the JSON a CRM's form posts back (reporting every bad field by path),
and dumps a record to the canonical JSON that the history hashes. Keeping all
three in one place is what guarantees that "valid per the schema" and
"accepted by fire()" never drift apart; a property test holds them together
against the jsonschema package. The fast path for input that is already valid
and canonical (``load`` then ``dump`` in one pass) is in ``_fast_evidence``.

The core depends only on attrs and transitions, so this is written by hand
over the small set of field types evidence needs.
"""

from __future__ import annotations

import datetime as _dt
import enum
import functools
import math
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Final

import attrs

from resolveflow._canonical import MAX_SAFE_INTEGER
from resolveflow._shown import shown
from resolveflow.exceptions import InvalidMethodology

METADATA_KEY: Final = "resolveflow"
_NON_BLANK: Final = re.compile(r"\S")
JSONSCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"

Errors = list[tuple[str, str]]


class _Invalid:
    """Marker returned by a codec when the value was wrong (errors already noted)."""


INVALID: Final = _Invalid()


def is_encodable(text: str) -> bool:
    """Whether text is real Unicode: JSON parsers let lone surrogates through, hashing cannot."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


class _Codec:
    def schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def load(self, value: object, path: str, errors: Errors) -> object:
        raise NotImplementedError

    def dump(self, value: object) -> object:
        return value


@attrs.frozen
class _Str(_Codec):
    max_length: int | None = None

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string", "minLength": 1, "pattern": r"\S"}
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        return out

    def load(self, value: object, path: str, errors: Errors) -> object:
        if not isinstance(value, str):
            errors.append((path, f"expected a string, got {_describe(value)}"))
            return INVALID
        if not _NON_BLANK.search(value):
            errors.append((path, "must not be blank"))
            return INVALID
        if not is_encodable(value):
            errors.append(
                (path, "contains a lone surrogate, which is not a character (check the form's encoding)")
            )
            return INVALID
        if self.max_length is not None and len(value) > self.max_length:
            errors.append((path, f"must be at most {self.max_length} characters"))
            return INVALID
        return value


@attrs.frozen
class _Number(_Codec):
    integer: bool
    minimum: float | None = None
    maximum: float | None = None

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer" if self.integer else "number"}
        minimum, maximum = self.minimum, self.maximum
        if self.integer:  # the integers every JSON reader keeps exactly (see load)
            minimum = -MAX_SAFE_INTEGER if minimum is None else max(minimum, -MAX_SAFE_INTEGER)
            maximum = MAX_SAFE_INTEGER if maximum is None else min(maximum, MAX_SAFE_INTEGER)
        if minimum is not None:
            out["minimum"] = minimum
        if maximum is not None:
            out["maximum"] = maximum
        return out

    def load(self, value: object, path: str, errors: Errors) -> object:
        kind = "an integer" if self.integer else "a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append((path, f"expected {kind}, got {_describe(value)}"))
            return INVALID
        # An int is always finite; math.isfinite would convert it to float and overflow.
        if isinstance(value, float) and not math.isfinite(value):
            errors.append((path, f"expected {kind}, got a non-finite number"))
            return INVALID
        if self.integer:
            # JSON Schema counts 3.0 as an integer; accept it the same way.
            if isinstance(value, float):
                if not value.is_integer():
                    errors.append((path, f"expected {kind}, got {shown(value)}"))
                    return INVALID
                value = int(value)
            if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
                # Past 2**53 JSON readers (JavaScript's among them) round, and the hash could not be
                # reproduced; a 10,000-digit number would also cost more than its size to print.
                errors.append((path, "must be between -(2**53 - 1) and 2**53 - 1"))
                return INVALID
        elif isinstance(value, int):
            try:
                value = float(value)
            except OverflowError:
                errors.append((path, "is too large for a number field"))
                return INVALID
        if self.minimum is not None and value < self.minimum:
            errors.append((path, f"must be at least {self.minimum:g}"))
            return INVALID
        if self.maximum is not None and value > self.maximum:
            errors.append((path, f"must be at most {self.maximum:g}"))
            return INVALID
        return value


@attrs.frozen
class _Bool(_Codec):
    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}

    def load(self, value: object, path: str, errors: Errors) -> object:
        if not isinstance(value, bool):
            errors.append((path, f"expected true or false, got {_describe(value)}"))
            return INVALID
        return value


# RFC 3339 "date-time", which JSON Schema's format means: Python's fromisoformat is wider.
_RFC3339: Final = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?")


def parse_rfc3339(value: str, path: str, errors: Errors) -> _dt.datetime | None:
    """Parse an RFC 3339 date-time with its offset, noting what is wrong otherwise."""
    match = _RFC3339.fullmatch(value)
    if match is None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        errors.append((path, "needs a time and a time zone, e.g. 2026-01-31T09:30:00+00:00"))
        return None
    if match is None:
        errors.append(
            (path, f"expected an RFC 3339 date-time such as 2026-01-31T09:30:00Z, got {shown(value)}")
        )
        return None
    date, time, fraction, offset = match.groups()
    if offset is None:
        errors.append((path, "needs a time zone, e.g. 2026-01-31T09:30:00+00:00"))
        return None
    micro = (fraction or "")[:7]  # at most microseconds: the dot and six digits
    zone = "+00:00" if offset in ("Z", "z") else offset
    try:
        return _dt.datetime.fromisoformat(f"{date}T{time}{micro}{zone}")
    except ValueError:
        errors.append((path, f"is not a real date and time: {shown(value)}"))
        return None


@attrs.frozen
class _DateTime(_Codec):
    def schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}

    def load(self, value: object, path: str, errors: Errors) -> object:
        if isinstance(value, _dt.datetime):
            parsed = value
        elif isinstance(value, str):
            found = parse_rfc3339(value, path, errors)
            if found is None:
                return INVALID
            parsed = found
        else:
            errors.append((path, f"expected an ISO 8601 date-time string, got {_describe(value)}"))
            return INVALID
        offset = parsed.utcoffset()
        if offset is None:
            errors.append((path, "needs a time zone, e.g. 2026-01-31T09:30:00+00:00"))
            return INVALID
        if offset.seconds % 60 or offset.microseconds:
            # RFC 3339 offsets are whole minutes: anything finer could not be stored and read back.
            errors.append((path, "has a time-zone offset with seconds; use whole minutes (or UTC)"))
            return INVALID
        return parsed

    def dump(self, value: object) -> object:
        return value.isoformat() if isinstance(value, _dt.datetime) else value


@attrs.frozen
class _Enum(_Codec):
    enum_cls: type[enum.Enum]

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": [m.value for m in self.enum_cls]}

    def load(self, value: object, path: str, errors: Errors) -> object:
        if isinstance(value, self.enum_cls):
            return value
        for member in self.enum_cls:
            if member.value == value and isinstance(value, str):
                return member
        allowed = ", ".join(repr(m.value) for m in self.enum_cls)
        errors.append((path, f"expected one of {allowed}, got {shown(value)}"))
        return INVALID

    def dump(self, value: object) -> object:
        return value.value if isinstance(value, enum.Enum) else value


@attrs.frozen
class _Array(_Codec):
    item: _Codec
    min_items: int | None = None
    max_items: int | None = None

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "array", "items": self.item.schema()}
        if self.min_items is not None:
            out["minItems"] = self.min_items
        if self.max_items is not None:
            out["maxItems"] = self.max_items
        return out

    def load(self, value: object, path: str, errors: Errors) -> object:
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, list | tuple):
            errors.append((path, f"expected an array, got {_describe(value)}"))
            return INVALID
        if self.min_items is not None and len(value) < self.min_items:
            errors.append((path, f"needs at least {self.min_items} item(s)"))
            return INVALID
        if self.max_items is not None and len(value) > self.max_items:
            errors.append((path, f"allows at most {self.max_items} item(s)"))
            return INVALID
        before = len(errors)
        items = [self.item.load(v, f"{path}[{i}]", errors) for i, v in enumerate(value)]
        return INVALID if len(errors) > before else tuple(items)

    def dump(self, value: object) -> object:
        if isinstance(value, list | tuple):
            return [self.item.dump(v) for v in value]
        return value


@attrs.frozen
class _Optional(_Codec):
    inner: _Codec

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [self.inner.schema(), {"type": "null"}]}

    def load(self, value: object, path: str, errors: Errors) -> object:
        return None if value is None else self.inner.load(value, path, errors)

    def dump(self, value: object) -> object:
        return None if value is None else self.inner.dump(value)


@attrs.frozen
class _Field:
    name: str  # the JSON key and the constructor argument (attrs' alias)
    attr: str  # the attribute it is stored under
    codec: _Codec
    required: bool
    title: str
    description: str | None

    @property
    def is_datetime(self) -> bool:
        codec = self.codec.inner if isinstance(self.codec, _Optional) else self.codec
        return isinstance(codec, _DateTime)


@attrs.frozen(eq=False)
class RecordCodec(_Codec):
    """The compiled description of one evidence record class."""

    cls: type
    title: str
    description: str | None
    fields: tuple[_Field, ...]

    def schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for f in self.fields:
            prop = dict(f.codec.schema())
            prop["title"] = f.title
            if f.description:
                prop["description"] = f.description
            properties[f.name] = prop
        out: dict[str, Any] = {
            "type": "object",
            "title": self.title,
            "properties": properties,
            "required": [f.name for f in self.fields if f.required],
            "additionalProperties": False,
        }
        if self.description:
            out["description"] = self.description
        return out

    def load(self, value: object, path: str, errors: Errors) -> object:
        if isinstance(value, self.cls):
            # A typed record goes through the same checks as JSON would.
            value = self.dump(value)
        if not isinstance(value, Mapping):
            errors.append((path, f"expected an object ({self.title}), got {_describe(value)}"))
            return INVALID
        before = len(errors)
        known = {f.name for f in self.fields}
        for key in value:
            if key not in known:
                expected = ", ".join(sorted(known)) or "none"
                errors.append((_join(path, str(key)), f"unexpected field; fields are: {expected}"))
        kwargs: dict[str, object] = {}
        for f in self.fields:
            if f.name not in value:
                if f.required:
                    errors.append((_join(path, f.name), "is required"))
                continue
            loaded = f.codec.load(value[f.name], _join(path, f.name), errors)
            kwargs[f.name] = loaded
        if len(errors) > before:
            return INVALID
        try:
            return self.cls(**kwargs)
        except (TypeError, ValueError) as error:
            # The record's own attrs validators have the last word.
            errors.append((path, str(error) or type(error).__name__))
            return INVALID

    def dump(self, value: object) -> object:
        if not isinstance(value, self.cls):
            return value
        return {f.name: f.codec.dump(getattr(value, f.attr)) for f in self.fields}


def _title_from_name(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _codec_for(annotation: Any, meta: Mapping[str, Any], where: str) -> _Codec:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1 and len(args) == 2:
            return _Optional(_codec_for(inner[0], meta, where))
        raise InvalidMethodology(
            f"unions other than 'X | None' are not supported, got {annotation!r}", where=where
        )
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _Array(
                _codec_for(args[0], {}, where),
                min_items=meta.get("min_items"),
                max_items=meta.get("max_items"),
            )
        raise InvalidMethodology(f"use tuple[X, ...] for a list of values, got {annotation!r}", where=where)
    if annotation is bool:
        return _Bool()
    if annotation is int:
        return _Number(True, meta.get("minimum"), meta.get("maximum"))
    if annotation is float:
        return _Number(False, meta.get("minimum"), meta.get("maximum"))
    if annotation is str:
        return _Str(meta.get("max_length"))
    if annotation is _dt.datetime:
        return _DateTime()
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        if not all(isinstance(m.value, str) for m in annotation):
            raise InvalidMethodology(f"enum {annotation.__name__} needs string values", where=where)
        return _Enum(annotation)
    if isinstance(annotation, type) and attrs.has(annotation):
        return record_codec(annotation)
    supported = "str, int, float, bool, datetime, a str Enum, an attrs record, tuple[X, ...], X | None"
    raise InvalidMethodology(
        f"field type {annotation!r} is not supported; use one of: {supported}", where=where
    )


# Bounded: files make record classes without end (see _file_records.MAX_RECORD_CLASSES).
@functools.lru_cache(maxsize=8192)
def record_codec(cls: type) -> RecordCodec:
    """Compile (once) the codec of an attrs evidence record class.

    Raises:
        InvalidMethodology: the class is not an attrs class or has a field
            whose type evidence cannot carry.
    """
    where = f"evidence record {getattr(cls, '__qualname__', cls)!r}"
    if not (isinstance(cls, type) and attrs.has(cls)):
        raise InvalidMethodology(
            "evidence must be an attrs class (decorate it with @attrs.frozen)", where=where
        )
    try:
        hints = typing.get_type_hints(cls)
    except Exception as error:  # NameError and friends from unresolved annotations
        raise InvalidMethodology(f"cannot resolve field types: {error}", where=where) from error
    fields = []
    for a in attrs.fields(cls):
        if not a.init:
            continue
        meta = a.metadata.get(METADATA_KEY, {})
        annotation = hints.get(a.name, a.type)
        codec = _codec_for(annotation, meta, f"{where} field {a.name!r}")
        fields.append(
            _Field(
                name=a.alias or a.name,
                attr=a.name,
                codec=codec,
                required=a.default is attrs.NOTHING,
                title=meta.get("title") or _title_from_name(a.alias or a.name),
                description=meta.get("description"),
            )
        )
    doc = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ").strip() or None
    return RecordCodec(
        cls=cls,
        title=getattr(cls, "__evidence_title__", None) or _title_from_name(_snake(cls.__name__)),
        description=doc,
        fields=tuple(fields),
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def record_key(cls: type) -> str:
    """The snake_case name a record type goes by in messages and ``missing`` lists."""
    return _snake(cls.__name__)


EMPTY_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "object",
    "title": "No evidence",
    "properties": {},
    "additionalProperties": False,
}
