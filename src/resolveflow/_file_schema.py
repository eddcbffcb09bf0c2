"""The JSON Schema of methodology files, and plain-language messages for its errors.

The schema is published (``methodology_schema()``) so that editors can
complete and check files as they are typed; the loader validates with the very
same schema before building anything, so an editor and resolveflow never
disagree about what is well formed. Cross-references (an action's target
naming a step, a guard naming a record) cannot be expressed in JSON Schema and
are checked by the loader afterwards.

Every object is closed (``additionalProperties: false``): a misspelt key is an
error, not an ignored line. The guard part comes from the table of guard kinds
(_guard_kinds.py), so a registered kind is in the schema too. Guards and record
fields are validated per kind
with ``if``/``then`` rather than ``oneOf``, because a validator can then say
"unexpected key 'field' for a requires guard" instead of "not valid under any
of the given schemas".
"""

from __future__ import annotations

import copy
import datetime as _dt
import difflib
import functools
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from resolveflow._file_patterns import (
    ID_PATTERN,
    NAME_PATTERN,
    NON_BLANK_PATTERN,
    PATTERN_HINTS,
    RECORD_NAME_PATTERN,
    VERSION_PATTERN,
    _name,
    _record_ref,
    _text,
    _texts,
)
from resolveflow._guard_kinds import KindTable, current_table, guard_schema
from resolveflow._schema import JSONSCHEMA_DIALECT
from resolveflow._shown import shown

FORMAT_VERSION: Final = 1
"""The file format version this resolveflow reads and writes (the ``resolveflow:`` key)."""

SCHEMA_ID: Final = f"urn:resolveflow:methodology-file:{FORMAT_VERSION}"

_COMMON_FIELD_KEYS: Final = ("type", "title", "description", "optional")
FIELD_TYPES: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    # type: (required keys besides 'type', optional keys besides title/description/optional)
    "text": ((), ("max_length",)),
    "number": ((), ("minimum", "maximum")),
    "integer": ((), ("minimum", "maximum")),
    "boolean": ((), ()),
    "datetime": ((), ()),
    "choice": (("choices",), ()),
    "list": (("of",), ("min_items", "max_items")),
    "record": (("record",), ()),
}
# What a list may hold: no limits or titles on items (an item's metadata has
# nowhere to live on an attrs field), and no lists of lists.
ITEM_TYPES: Final[Mapping[str, tuple[str, ...]]] = {
    "text": (),
    "number": (),
    "integer": (),
    "boolean": (),
    "datetime": (),
    "choice": ("choices",),
    "record": ("record",),
}


_FIELD_PROPERTIES: Final[Mapping[str, dict[str, Any]]] = {
    "type": {
        "title": "field type",
        "description": "What the field holds.",
        "enum": list(FIELD_TYPES),
    },
    "title": _text("Title", "The label a form shows (default: the field name, capitalised)."),
    "description": _text("Description", "Help text under the label."),
    "optional": {
        "type": "boolean",
        "title": "Optional",
        "description": "When true the field may be left out or null.",
    },
    "max_length": {"type": "integer", "minimum": 1, "title": "Maximum length", "description": "text only."},
    "minimum": {"type": "number", "title": "Minimum", "description": "number, integer: lowest allowed."},
    "maximum": {"type": "number", "title": "Maximum", "description": "number, integer: highest allowed."},
    "choices": {
        "type": "array",
        "title": "Choices",
        "description": "choice: the allowed values.",
        "minItems": 1,
        "uniqueItems": True,
        "items": {"type": "string", "minLength": 1, "pattern": NON_BLANK_PATTERN},
    },
    "of": {"$ref": "#/$defs/item"},
    "min_items": {"type": "integer", "minimum": 0, "title": "Fewest items", "description": "list only."},
    "max_items": {"type": "integer", "minimum": 0, "title": "Most items", "description": "list only."},
    "record": _record_ref("Record", "record: the record type this field holds (built-in or declared)."),
}


def _field_schema() -> dict[str, Any]:
    branches = []
    for kind, (required, optional) in FIELD_TYPES.items():
        keys = (*_COMMON_FIELD_KEYS, *required, *optional)
        then: dict[str, Any] = {
            "properties": {key: {} for key in keys},
            "required": ["type", *required],
            "additionalProperties": False,
        }
        if kind == "integer":
            then["properties"] = {
                **then["properties"],
                "minimum": {"type": "integer"},
                "maximum": {"type": "integer"},
            }
        branches.append({"if": {"properties": {"type": {"const": kind}}, "required": ["type"]}, "then": then})
    return {
        "title": "Field",
        "description": "One field of an evidence record.",
        "type": "object",
        "properties": dict(_FIELD_PROPERTIES),
        "required": ["type"],
        "additionalProperties": False,
        "allOf": branches,
    }


def _item_schema() -> dict[str, Any]:
    branches = []
    for kind, required in ITEM_TYPES.items():
        branches.append(
            {
                "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                "then": {
                    "properties": {key: {} for key in ("type", *required)},
                    "required": ["type", *required],
                    "additionalProperties": False,
                },
            }
        )
    return {
        "title": "List item",
        "description": "What each item of a list field holds.",
        "type": "object",
        "properties": {
            "type": {
                "title": "item type",
                "description": "What each item holds (lists of lists are not supported).",
                "enum": list(ITEM_TYPES),
            },
            "choices": _FIELD_PROPERTIES["choices"],
            "record": _FIELD_PROPERTIES["record"],
        },
        "required": ["type"],
        "additionalProperties": False,
        "allOf": branches,
    }


def _build_schema(guard: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": JSONSCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "resolveflow methodology file",
        "description": (
            "A customer-recovery methodology: its steps, the actions between them, the guards "
            "checked before each action, its outcomes and the evidence records it collects."
        ),
        "type": "object",
        "properties": {
            "resolveflow": {
                "const": FORMAT_VERSION,
                "title": "Format version",
                "description": f"The version of this file format; always {FORMAT_VERSION}.",
            },
            "id": {
                "type": "string",
                "pattern": ID_PATTERN,
                "title": "Id",
                "description": "Lowercase words joined by hyphens, e.g. 'seven-as'; stable across versions.",
            },
            "version": {
                "type": "string",
                "pattern": VERSION_PATTERN,
                "title": "Version",
                "description": 'Dotted numbers as text, e.g. "1.0" (quote it in YAML and TOML).',
            },
            "title": _text("Title", "A human title."),
            "source": _text("Source", "Where the steps and rules come from (a citation)."),
            "description": _text("Description", "An optional summary."),
            "initial": _name("Initial step", "The step a new case starts at."),
            "required_steps": {
                "type": "array",
                "title": "Required steps",
                "description": "The steps, in order, every path to a successful outcome must pass through.",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"type": "string", "pattern": NAME_PATTERN},
            },
            "roles": {
                "type": "array",
                "title": "Roles",
                "description": (
                    "The roles its guards name (snake_case words, e.g. legal); the CRM grants them to "
                    "the people who act."
                ),
                "uniqueItems": True,
                "maxItems": 100,
                "items": {"type": "string", "pattern": NAME_PATTERN, "maxLength": 100},
            },
            "escalations": {
                "type": "array",
                "title": "Escalations",
                "description": (
                    "What the deadline worker does when a promise is missed: per promise kind, the grace "
                    "after its due time and the action it takes as a system actor with its own role."
                ),
                "maxItems": 100,
                "items": {"$ref": "#/$defs/escalation"},
            },
            "records": {
                "type": "object",
                "title": "Evidence records",
                "description": (
                    "Evidence record types declared by this file, by name; actions and guards name "
                    "them like the built-in records (customer_account, plan ...)."
                ),
                "propertyNames": {"pattern": RECORD_NAME_PATTERN},
                "additionalProperties": {"$ref": "#/$defs/record"},
            },
            "steps": {
                "type": "array",
                "title": "Steps",
                "description": "The working steps, in their usual order.",
                "minItems": 1,
                "items": {"$ref": "#/$defs/step"},
            },
            "outcomes": {
                "type": "array",
                "title": "Outcomes",
                "description": "The terminal steps; at least one must be successful.",
                "minItems": 1,
                "items": {"$ref": "#/$defs/outcome"},
            },
            "actions": {
                "type": "array",
                "title": "Actions",
                "description": "Every action between the steps.",
                "items": {"$ref": "#/$defs/action"},
            },
        },
        "required": [
            "resolveflow",
            "id",
            "version",
            "title",
            "source",
            "initial",
            "required_steps",
            "steps",
            "outcomes",
            "actions",
        ],
        "additionalProperties": False,
        "$defs": {
            "escalation": {
                "title": "Escalation",
                "description": "The action the deadline worker takes when a promise of a kind is missed.",
                "type": "object",
                "properties": {
                    "kind": {
                        "type": "string",
                        "pattern": "^[a-z][a-z0-9_]{0,19}$",
                        "title": "Promise kind",
                        "description": "e.g. plan_item or follow_up; leave it out for every kind.",
                    },
                    "action": _name("Action", "The action the worker takes (an action of this methodology)."),
                    "role": {
                        "type": "string",
                        "pattern": NAME_PATTERN,
                        "maxLength": 100,
                        "title": "Role",
                        "description": "The role the worker acts with (declared in roles).",
                    },
                    "actor": _text("Actor", "The id the worker acts as (default resolveflow-worker)."),
                    "grace": {
                        "type": "object",
                        "title": "Grace",
                        "description": "How long after its due time an open promise counts as missed.",
                        "properties": {
                            unit: {"type": "integer", "minimum": 0, "maximum": limit}
                            for unit, limit in (
                                ("days", 366),
                                ("hours", 8784),
                                ("minutes", 527_040),
                                ("seconds", 31_622_400),
                            )
                        },
                        "additionalProperties": False,
                    },
                    "evidence": {
                        "type": "object",
                        "title": "Evidence",
                        "description": "The evidence the action is taken with, as JSON.",
                        "additionalProperties": {"description": "A field of the action's evidence record."},
                    },
                },
                "required": ["action", "role"],
                "additionalProperties": False,
            },
            "step": {
                "title": "Step",
                "description": "A step a case can be at, with the guidance an agent sees there.",
                "type": "object",
                "properties": {
                    "id": _name("Id", "The step's id, stable across versions."),
                    "title": _text("Title", "A short heading for the UI."),
                    "prompts": _texts("Prompts", "Short things to say or ask at this step."),
                    "checklist": _texts("Checklist", "What to have done before moving on."),
                },
                "required": ["id", "title"],
                "additionalProperties": False,
            },
            "outcome": {
                "title": "Outcome",
                "description": "A terminal step: where a case ends.",
                "type": "object",
                "properties": {
                    "id": _name("Id", "The outcome's id; a closed case's step."),
                    "title": _text("Title", "A short heading for the UI."),
                    "successful": {
                        "type": "boolean",
                        "title": "Successful",
                        "description": "Whether reaching it means the customer was won back.",
                    },
                    "guidance": _texts("Guidance", "What to tell the agent once the case is closed here."),
                },
                "required": ["id", "title", "successful"],
                "additionalProperties": False,
            },
            "action": {
                "title": "Action",
                "description": "A named event that moves a case from one of its sources to its target.",
                "type": "object",
                "properties": {
                    "name": _name("Name", "The trigger a UI sends, e.g. 'agree_plan'."),
                    "title": _text("Title", "A label for the button or form."),
                    "description": _text("Description", "Optional longer help for the form."),
                    "sources": {
                        "type": ["string", "array"],
                        "title": "Sources",
                        "description": "The step(s) it can be taken from: one id or a list of ids.",
                        "pattern": NAME_PATTERN,
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"type": "string", "pattern": NAME_PATTERN},
                    },
                    "target": {
                        "type": ["string", "null"],
                        "pattern": NAME_PATTERN,
                        "title": "Target",
                        "description": (
                            "The step or outcome it leads to; null or absent records the evidence "
                            "and leaves the case where it is."
                        ),
                    },
                    "evidence": {
                        "type": ["string", "null"],
                        "pattern": RECORD_NAME_PATTERN,
                        "title": "Evidence",
                        "description": (
                            "The record this action records: a built-in record (customer_account, "
                            "plan ...) or one declared under 'records'. Absent: none."
                        ),
                    },
                    "guards": {
                        "type": "array",
                        "title": "Guards",
                        "description": "Rules checked before the action.",
                        "items": {"$ref": "#/$defs/guard"},
                    },
                },
                "required": ["name", "title", "sources"],
                "additionalProperties": False,
            },
            "guard": guard,
            "record": {
                "title": "Evidence record",
                "description": "An evidence record type: what an action records, as a form.",
                "type": "object",
                "properties": {
                    "title": _text("Title", "The form's title (default: the name, capitalised)."),
                    "description": _text("Description", "Help shown above the form."),
                    "fields": {
                        "type": "object",
                        "title": "Fields",
                        "description": "The record's fields by name, in form order.",
                        "minProperties": 1,
                        "propertyNames": {"pattern": NAME_PATTERN},
                        "additionalProperties": {"$ref": "#/$defs/field"},
                    },
                },
                "required": ["fields"],
                "additionalProperties": False,
            },
            "field": _field_schema(),
            "item": _item_schema(),
        },
    }


@functools.lru_cache(maxsize=8)
def schema_for(table: KindTable) -> dict[str, Any]:
    """The file schema with a table's guard kinds (cached per table: do not modify it)."""
    return _build_schema(guard_schema(table))


def methodology_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of methodology files, for editors and CI.

    Point your editor at it to get completion and checking while writing a
    file (e.g. save it as ``methodology.schema.json`` and start a YAML file
    with ``# yaml-language-server: $schema=methodology.schema.json``).
    Cross-references (targets, record names) are checked when loading.
    Guard kinds registered with ``register_guard_kind`` are in it.

    Returns:
        A fresh copy of the schema, safe to modify.

    Example:
        >>> schema = methodology_schema()
        >>> schema["$schema"]
        'https://json-schema.org/draft/2020-12/schema'
        >>> schema["required"][:3]
        ['resolveflow', 'id', 'version']
    """
    # Imported here: the guard kinds' module builds on this one (patterns, helpers).
    return copy.deepcopy(schema_for(current_table()))


# --- turning validation errors into messages -----------------------------------

Path = tuple[str | int, ...]


@attrs.frozen
class SchemaProblem:
    """One schema violation, said plainly.

    Attributes:
        path: where it is; for an unexpected or misnamed key, the key itself.
        message: what was expected.
        at_key: the position to show is the key's, not its value's.
        wants_text: a non-text scalar was given where text was expected, so
            quoting it is the likely fix.
    """

    path: Path
    message: str
    at_key: bool = False
    wants_text: bool = False


_TYPE_WORDS: Final = {
    "string": "text",
    "array": "a list",
    "object": "a mapping",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def describe_value(value: object) -> str:
    """A value's kind as a file author calls it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, _dt.datetime):
        return "a date-time"
    if isinstance(value, _dt.date):
        return "a date"
    if isinstance(value, _dt.time):
        return "a time"
    return type(value).__name__


def _listed(values: Sequence[object]) -> str:
    return ", ".join(str(v) for v in values)


def _first_in_order(instance: Mapping[str, Any], keys: Sequence[str]) -> str:
    wanted = set(keys)
    for key in instance:
        if key in wanted:
            return key
    return keys[0]


def _kind_phrase(schema_path: Sequence[object], path: Path, instance: object) -> str:
    """' for a requires guard' when the error comes from a per-kind branch."""
    if "then" not in schema_path or not isinstance(instance, Mapping):
        return ""
    if "kind" in instance:
        return f" for a {instance['kind']} guard"
    if path and path[-1] == "of":
        return f" for a {instance.get('type')} list item"
    return f" for a {instance.get('type')} field"


def problem_from_error(error: Any) -> SchemaProblem:
    """Translate one ``jsonschema.ValidationError`` into a :class:`SchemaProblem`."""
    path: Path = tuple(error.absolute_path)
    validator = error.validator
    instance = error.instance
    schema = error.schema
    value = error.validator_value
    schema_path = list(error.relative_schema_path)
    if "propertyNames" in schema_path:
        hint = PATTERN_HINTS.get(schema.get("pattern", ""), "")
        return SchemaProblem((*path, instance), f"{shown(instance)} is not a valid name; {hint}", at_key=True)
    if validator == "type":
        wanted = value if isinstance(value, list) else [value]
        expected = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in wanted)
        wants_text = "string" in wanted and not isinstance(instance, list | dict | type(None))
        return SchemaProblem(
            path, f"expected {expected}, got {describe_value(instance)}", wants_text=wants_text
        )
    if validator == "required":
        missing = [key for key in value if key not in instance]
        key = missing[0] if missing else value[0]
        phrase = _kind_phrase(schema_path, path, instance)
        return SchemaProblem(path, f"missing required key {key!r}{phrase}")
    if validator == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        extras = [key for key in instance if key not in allowed]
        key = _first_in_order(instance, extras) if extras else ""
        phrase = _kind_phrase(schema_path, path, instance)
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return SchemaProblem(
            (*path, key) if key else path,
            f"unexpected key {shown(key)}{phrase}{hint}; allowed keys are: {_listed(allowed)}",
            at_key=bool(key),
        )
    if validator == "enum":
        what = schema.get("title", "value")
        return SchemaProblem(path, f"unknown {what} {shown(instance)}; expected one of: {_listed(value)}")
    if validator == "const":
        if path == ("resolveflow",):
            return SchemaProblem(
                path,
                f"this file is format version {shown(instance)}, and this resolveflow reads "
                f"format version {FORMAT_VERSION}",
            )
        return SchemaProblem(path, f"expected {value!r}, got {describe_value(instance)}")
    if validator == "pattern":
        hint = PATTERN_HINTS.get(value, f"expected text matching {value}")
        if value == NON_BLANK_PATTERN:
            return SchemaProblem(path, "must not be blank")
        return SchemaProblem(path, f"{shown(instance)} is not valid here; {hint}")
    if validator == "minLength":
        return SchemaProblem(path, "must not be empty")
    if validator == "minItems":
        return SchemaProblem(path, f"needs at least {value} item(s)")
    if validator == "minProperties":
        return SchemaProblem(path, f"needs at least {value} entry")
    if validator == "uniqueItems":
        seen: list[object] = []
        for item in instance:
            if item in seen:
                return SchemaProblem(path, f"lists {shown(item)} twice")
            seen.append(item)
        return SchemaProblem(path, "lists an item twice")
    if validator == "minimum":
        return SchemaProblem(path, f"must be at least {value}, got {shown(instance)}")
    return SchemaProblem(path, str(error.message))


_AFTER_CHILDREN: Final = 1 << 30
_VALIDATOR_RANK: Final = {"type": 0, "const": 1, "required": 2, "additionalProperties": 3}


def _order_of(data: object, path: Path) -> tuple[int, ...]:
    """A path's position in document order (dicts keep the order keys were read in)."""
    order = []
    node = data
    for part in path:
        if isinstance(node, Mapping):
            keys = list(node)
            order.append(keys.index(part) if part in keys else len(keys))
            node = node.get(part) if isinstance(part, str) else None
        elif isinstance(node, list) and isinstance(part, int):
            order.append(part)
            node = node[part] if 0 <= part < len(node) else None
        else:
            order.append(0)
            node = None
    return tuple(order)


def first_problem(data: object, errors: Sequence[Any]) -> SchemaProblem | None:
    """The problem to report first: earliest in the document, then by kind of error.

    Args:
        data: the validated document (its key order is the document's).
        errors: every error a jsonschema validator found.

    Returns:
        The problem, or None when there are no errors.
    """
    ranked = []
    for error in errors:
        problem = problem_from_error(error)
        rank = (
            _VALIDATOR_RANK.get(str(error.validator), len(_VALIDATOR_RANK)),
            # A per-kind branch knows the exact keys allowed: its message is the more precise.
            0 if "then" in error.schema_path else 1,
        )
        order = _order_of(data, problem.path)
        if error.validator == "required":
            # A missing key has no place of its own: report it after whatever is wrong inside
            # the same mapping (a misspelt key there is the likelier cause).
            order = (*order, _AFTER_CHILDREN)
        ranked.append(((order, rank, problem.message), problem))
    if not ranked:
        return None
    return min(ranked, key=lambda pair: pair[0])[1]
