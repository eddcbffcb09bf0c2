"""Evidence records in methodology files: built-in names, declared records, and back.

A file names built-in records by their snake_case key (``customer_account``)
and may declare its own under ``records``. Declared records become frozen
attrs classes (``attrs.make_class`` with ``evidence.field`` metadata), so they
get the same JSON Schema forms and validation as records written in Python.

Actions compare their evidence class by identity, so generated classes are
cached by (methodology id, record name, its place among the file's records,
definition of the record and of every record inside it): loading one file
twice gives equal methodologies. The version is left out on purpose: a record
that a later version of the id declares exactly as an earlier one did (same
definition, same place) is the same class, so the later version's guards see
the records a migrated case made under the earlier one. The loader adds to the
cache only once a whole file has built.

Writing goes the other way: a built-in record is written as its key, a
generated class as the definition it came from, and a record class written in
Python as an equivalent definition when a file can express it without loss.
"""

from __future__ import annotations

import collections
import datetime as _dt
import difflib
import enum
import functools
import json
import keyword
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Protocol

import attrs

from resolveflow import evidence as ev
from resolveflow._file_patterns import RECORD_NAME_PATTERN
from resolveflow._schema import (
    METADATA_KEY,
    RecordCodec,
    _Array,
    _Bool,
    _Codec,
    _DateTime,
    _Enum,
    _Number,
    _Optional,
    _Str,
    record_codec,
    record_key,
)

Path = tuple[str | int, ...]

RECORD_NAME: Final = re.compile(RECORD_NAME_PATTERN)
INFO_ATTR: Final = "__resolveflow_file_record__"


class ErrorAt(Protocol):
    """Makes the error to raise for a key path of the file being loaded."""

    def __call__(self, path: Path, reason: str, *, at_key: bool = False) -> Exception: ...


def did_you_mean(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@functools.cache
def builtin_records() -> dict[str, type]:
    found = {}
    for name in ev.__all__:
        obj = getattr(ev, name)
        if isinstance(obj, type) and attrs.has(obj) and obj is not ev.Promise:
            found[record_key(obj)] = obj
    return found


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


@attrs.frozen
class RecordInfo:
    """What a class generated from a file remembers, so it can be written back."""

    name: str
    definition: Mapping[str, Any]
    position: int


CACHE_LOCK: Final = threading.RLock()
# (methodology id, record name, place in the file, canonical definition) -> generated class, so that
# loading one definition twice gives the same classes. Bounded: a server loading many
# distinct texts must not keep every class it ever made (the oldest are forgotten; loading
# such a text again makes new, equal-by-definition classes).
RECORD_CLASSES: collections.OrderedDict[tuple[str, str, str, str], type] = collections.OrderedDict()
MAX_RECORD_CLASSES: Final = 4096


def remember_class(key: tuple[str, str, str, str], cls: type) -> None:
    """Keep a generated class for reuse, forgetting the oldest beyond MAX_RECORD_CLASSES."""
    with CACHE_LOCK:
        if key not in RECORD_CLASSES:
            RECORD_CLASSES[key] = cls
            while len(RECORD_CLASSES) > MAX_RECORD_CLASSES:
                RECORD_CLASSES.popitem(last=False)


_FIELD_KEY_ORDER: Final = (
    "type",
    "title",
    "description",
    "optional",
    "max_length",
    "minimum",
    "maximum",
    "choices",
    "of",
    "min_items",
    "max_items",
    "record",
)
_LIMITS: Final = ("minimum", "maximum", "max_length", "min_items", "max_items")
_PY_TYPES: Final[Mapping[str, type]] = {
    "text": str,
    "number": float,
    "integer": int,
    "boolean": bool,
    "datetime": _dt.datetime,
}


def normal_field(spec: Mapping[str, Any]) -> dict[str, Any]:
    """One spelling per field definition: key order fixed, ``optional: false`` dropped."""
    out = {key: spec[key] for key in _FIELD_KEY_ORDER if key in spec}
    if out.get("optional") is False:
        del out["optional"]
    if "of" in out:
        out["of"] = normal_field(out["of"])
    return out


def normal_record(definition: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: definition[key] for key in ("title", "description") if key in definition}
    out["fields"] = {name: normal_field(spec) for name, spec in definition["fields"].items()}
    return out


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def references(definition: Mapping[str, Any]) -> list[tuple[Path, str]]:
    """(path inside the definition, record name) for every record a definition uses."""
    found: list[tuple[Path, str]] = []
    for name, spec in definition["fields"].items():
        if spec["type"] == "record":
            found.append((("fields", name, "record"), spec["record"]))
        elif spec["type"] == "list" and spec["of"]["type"] == "record":
            found.append((("fields", name, "of", "record"), spec["of"]["record"]))
    return found


def unknown_record(name: str, declared: Iterable[str]) -> str:
    declared = list(declared)
    builtins = sorted(builtin_records())
    mine = f"records declared in this file: {', '.join(declared)}; " if declared else ""
    return (
        f"unknown record {name!r}{did_you_mean(name, [*declared, *builtins])}; "
        f"{mine}built-in records: {', '.join(builtins)}"
    )


@attrs.define
class Records:
    """Resolves record names (built-in or declared in the file) to classes."""

    error: ErrorAt
    key: tuple[str, str]
    declared: dict[str, dict[str, Any]]
    classes: dict[str, type] = attrs.field(factory=dict)
    new: dict[tuple[str, str, str, str], type] = attrs.field(factory=dict)
    used: set[str] = attrs.field(factory=set)

    @classmethod
    def build(cls, data: Mapping[str, Any], error: ErrorAt) -> Records:
        raw = data.get("records", {})
        records = cls(error, (data["id"], data["version"]), {})
        for name, definition in raw.items():
            path: Path = ("records", name)
            if name in builtin_records():
                raise error(
                    path, f"{name!r} is the name of a built-in record; choose another name", at_key=True
                )
            records._check_definition(path, definition)
            records.declared[name] = normal_record(definition)
        for name, definition in records.declared.items():
            for inner, ref in references(definition):
                if ref not in records.declared and ref not in builtin_records():
                    raise error(("records", name, *inner), unknown_record(ref, records.declared))
        for name in records.declared:
            records._cycle_check(name, [])
        for position, name in enumerate(records.declared):
            records._make(name, position)
        return records

    def _check_definition(self, path: Path, definition: Mapping[str, Any]) -> None:
        for name, spec in definition["fields"].items():
            field_path = (*path, "fields", name)
            if keyword.iskeyword(name):
                raise self.error(
                    field_path,
                    f"{name!r} is a Python keyword; choose another name (e.g. {name + '_'!r})",
                    at_key=True,
                )
            for low, high in (("minimum", "maximum"), ("min_items", "max_items")):
                if low in spec and high in spec and spec[low] > spec[high]:
                    raise self.error(
                        (*field_path, high), f"{high} {spec[high]!r} is less than {low} {spec[low]!r}"
                    )

    def _cycle_check(self, name: str, stack: list[str]) -> None:
        if name in stack:
            cycle = " -> ".join([*stack[stack.index(name) :], name])
            raise self.error(
                ("records", stack[0]), f"records contain each other in a cycle: {cycle}", at_key=True
            )
        for _, ref in references(self.declared[name]):
            if ref in self.declared:
                self._cycle_check(ref, [*stack, name])

    def _closure(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        pending = [name]
        while pending:
            current = pending.pop()
            if current in found or current not in self.declared:
                continue
            found[current] = self.declared[current]
            pending.extend(ref for _, ref in references(self.declared[current]))
        return found

    def _make(self, name: str, position: int) -> type:
        if name in self.classes:
            return self.classes[name]
        # The key covers every record this one contains: a changed inner record is a new outer class.
        # The place is in it because the class remembers it (files are written back in that order);
        # the version is not, so that versions of one id share the records they declare alike.
        cache_key = (self.key[0], name, str(position), _canonical(self._closure(name)))
        with CACHE_LOCK:
            cached = RECORD_CLASSES.get(cache_key)
        if cached is None:
            cached = self._generate(name, position)
            self.new[cache_key] = cached
        self.classes[name] = cached
        return cached

    def _resolve(self, name: str) -> type:
        if name in self.declared:
            return self._make(name, list(self.declared).index(name))
        return builtin_records()[name]

    def _annotation(self, class_name: str, field: str, spec: Mapping[str, Any]) -> Any:
        kind = spec["type"]
        if kind in _PY_TYPES:
            return _PY_TYPES[kind]
        if kind == "choice":
            return make_enum(f"{class_name}{_camel(field)}", spec["choices"])
        if kind == "record":
            return self._resolve(spec["record"])
        return tuple[self._annotation(class_name, field, spec["of"]), ...]  # type: ignore[misc]

    def _generate(self, name: str, position: int) -> type:
        definition = self.declared[name]
        class_name = _camel(name)
        annotations: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        for field, spec in definition["fields"].items():
            annotation = self._annotation(class_name, field, spec)
            optional = bool(spec.get("optional"))
            annotations[field] = annotation | None if optional else annotation
            limits = {key: spec[key] for key in _LIMITS if key in spec}
            fields[field] = ev.field(
                title=spec.get("title"),
                description=spec.get("description"),
                default=None if optional else attrs.NOTHING,
                **limits,
            )
        body = {
            "__annotations__": annotations,
            "__doc__": definition.get("description"),
            "__module__": __name__,
            "__evidence_title__": definition.get("title"),
            INFO_ATTR: RecordInfo(name=name, definition=definition, position=position),
        }
        return attrs.make_class(class_name, fields, frozen=True, kw_only=True, class_body=body)

    def get(self, name: str, path: Path) -> type:
        if name not in self.declared and name not in builtin_records():
            raise self.error(path, unknown_record(name, self.declared))
        self.used.add(name)
        return self._resolve(name)

    def check_all_used(self) -> None:
        reachable = set()
        pending = list(self.used)
        while pending:
            name = pending.pop()
            if name in reachable or name not in self.declared:
                continue
            reachable.add(name)
            pending.extend(ref for _, ref in references(self.declared[name]))
        for name in self.declared:
            if name not in reachable:
                # A Methodology only knows the records its actions use: an unused one would
                # vanish on the next dump, so say so now.
                raise self.error(
                    ("records", name),
                    f"record {name!r} is declared but no action records or requires it; use it or remove it",
                    at_key=True,
                )


_ENUM_MEMBER: Final = re.compile(r"[a-z][a-z0-9_]*")


def make_enum(name: str, choices: list[str]) -> type[enum.Enum]:
    members = [c.upper() if _ENUM_MEMBER.fullmatch(c) else f"CHOICE_{i}" for i, c in enumerate(choices)]
    if len(set(members)) != len(members):
        members = [f"CHOICE_{i}" for i in range(len(choices))]
    made: type[enum.Enum] = enum.Enum(name, list(zip(members, choices, strict=True)), module=__name__)  # type: ignore[misc]
    return made


def field_codec(record: type, field: str) -> _Codec | None:
    for f in record_codec(record).fields:
        if f.attr == field:
            return f.codec
    return None


def is_datetime(codec: _Codec) -> bool:
    return isinstance(codec.inner if isinstance(codec, _Optional) else codec, _DateTime)


@attrs.define
class RecordWriter:
    """The names a file uses for record classes, and the definitions to declare under ``records``."""

    fail: Callable[[Path, str], Exception]
    names: dict[type, str] = attrs.field(factory=dict)
    owners: dict[str, type] = attrs.field(factory=dict)
    definitions: list[tuple[tuple[int, int], str, dict[str, Any]]] = attrs.field(factory=list)

    def declared(self) -> dict[str, dict[str, Any]]:
        """The definitions to write, generated ones in their file's order, then the others."""
        ordered = sorted(self.definitions, key=lambda entry: entry[0])
        return {name: definition for _, name, definition in ordered}

    def record(self, cls: type, path: Path) -> str:
        """The name a file uses for ``cls``, declaring it (and what it contains) if needed."""
        if cls in self.names:
            return self.names[cls]
        key = record_key(cls)
        builtin = builtin_records().get(key)
        if builtin is cls:
            self.names[cls] = key
            return key
        info = cls.__dict__.get(INFO_ATTR)
        name = info.name if isinstance(info, RecordInfo) else key
        if builtin is not None or not RECORD_NAME.fullmatch(name):
            raise self.fail(
                path,
                f"record class {cls.__qualname__} would be named {name!r} in a file, which "
                + ("is a built-in record's name" if builtin is not None else "is not a valid record name")
                + "; rename the class",
            )
        if name in self.owners and self.owners[name] is not cls:
            raise self.fail(path, f"two different record classes are both named {name!r}; rename one")
        self.owners[name] = cls
        self.names[cls] = name
        if isinstance(info, RecordInfo):
            definition = dict(info.definition)
            order = (0, info.position)
            # Its inner records are generated classes of the same file, or built-ins: declare them too.
            for inner_path, ref in references(definition):
                inner = self._inner_class(cls, inner_path)
                if inner is not None and ref not in builtin_records():
                    self.record(inner, path)
        else:
            definition = self._from_python(cls, path)
            order = (1, len(self.definitions))
        self.definitions.append((order, name, definition))
        return name

    def _inner_class(self, cls: type, inner_path: Path) -> type | None:
        codec = field_codec(cls, str(inner_path[1]))
        while isinstance(codec, _Optional | _Array):
            codec = codec.inner if isinstance(codec, _Optional) else codec.item
        return codec.cls if isinstance(codec, RecordCodec) else None

    def _from_python(self, cls: type, path: Path) -> dict[str, Any]:
        """A file definition for a record class written in Python, when nothing would be lost."""
        codec = record_codec(cls)
        where = f"record class {cls.__qualname__}"
        if "__attrs_post_init__" in vars(cls):
            raise self.fail(
                path, f"{where} checks itself in __attrs_post_init__, which a file cannot express"
            )
        attributes = attrs.fields_dict(cls)
        fields: dict[str, Any] = {}
        for f in codec.fields:
            attribute = attributes[f.attr]
            about = f"{where}, field {f.name!r}"
            if attribute.validator is not None or attribute.converter is not None:
                raise self.fail(path, f"{about} has a validator or converter, which a file cannot express")
            if f.attr != f.name:
                raise self.fail(path, f"{about} is stored as {f.attr!r}; a file needs one name")
            optional = not f.required
            if optional and (attribute.default is not None or not isinstance(f.codec, _Optional)):
                raise self.fail(path, f"{about} defaults to {attribute.default!r}; files only know null")
            if f.required and isinstance(f.codec, _Optional):
                raise self.fail(path, f"{about} may be null but is required; a file cannot express that")
            inner = f.codec.inner if isinstance(f.codec, _Optional) else f.codec
            spec: dict[str, Any] = {"type": ""}
            meta = attribute.metadata.get(METADATA_KEY, {})
            for key in ("title", "description"):
                if meta.get(key):
                    spec[key] = meta[key]
            if optional:
                spec["optional"] = True
            spec.update(self._spec(inner, f"{about}", path, item=False))
            fields[f.name] = normal_field(spec)
        definition: dict[str, Any] = {}
        title = getattr(cls, "__evidence_title__", None)
        if title:
            definition["title"] = title
        if codec.description:
            definition["description"] = codec.description
        definition["fields"] = fields
        return definition

    def _spec(self, codec: _Codec, about: str, path: Path, *, item: bool) -> dict[str, Any]:
        limits: dict[str, Any] = {}
        if isinstance(codec, _Str):
            if codec.max_length is not None:
                limits["max_length"] = codec.max_length
            spec: dict[str, Any] = {"type": "text"}
        elif isinstance(codec, _Number):
            spec = {"type": "integer" if codec.integer else "number"}
            bounds = (("minimum", codec.minimum), ("maximum", codec.maximum))
            limits.update({k: v for k, v in bounds if v is not None})
        elif isinstance(codec, _Bool):
            spec = {"type": "boolean"}
        elif isinstance(codec, _DateTime):
            spec = {"type": "datetime"}
        elif isinstance(codec, _Enum):
            spec = {"type": "choice", "choices": [m.value for m in codec.enum_cls]}
        elif isinstance(codec, RecordCodec):
            spec = {"type": "record", "record": self.record(codec.cls, path)}
        elif isinstance(codec, _Array) and not item:
            spec = {"type": "list", "of": self._spec(codec.item, about, path, item=True)}
            counts = (("min_items", codec.min_items), ("max_items", codec.max_items))
            limits.update({k: v for k, v in counts if v is not None})
        else:
            raise self.fail(
                path, f"{about} has a type a file cannot express (lists of lists, optional items)"
            )
        if item and limits:
            raise self.fail(path, f"{about}: limits on list items cannot be written to a file")
        return {**spec, **limits}
