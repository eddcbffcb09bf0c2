"""The guard kinds methodology files can hold: one table for the schema, the loader and the writer.

Each kind is one :class:`GuardKind` entry: the name a file uses (``kind:
requires``), the :class:`~resolveflow.guards.Guard` class it builds, and its fields,
each a :class:`GuardField` saying which key it is in a file, which keyword of
the class it fills, and its type. The type says how the value is checked by
the JSON Schema, read from a file and written back (a record reference becomes
a record class and back, a step reference must name a working step, a
``datetime`` is ISO 8601 text with a time zone ...). Every kind also takes
``name`` and ``message``, added from ``defaults`` (may a file leave them out?).

Adding a kind is one entry, for resolveflow's own kinds below as for a third
party's, which calls :func:`register_guard_kind`. Writing a guard leaves out an
optional key when the guard built without it is equal, so a guard class should
compare by value (an ``attrs.frozen`` class does) for files to round-trip.

Guard classes are imported here, and only here, for the files layer.
"""

from __future__ import annotations

import enum
import functools
import inspect
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from resolveflow._file_records import ErrorAt, Records, RecordWriter, did_you_mean
from resolveflow._guard_fields import (
    _COMMON_KEYS,
    _SNAKE,
    FIELD_TYPES,
    GuardField,
    GuardKind,
    Path,
    ReadContext,
    WriteContext,
    _field_schema,
    _Invalid,
    _read,
    _written,
)
from resolveflow._guards import (
    AfterStep,
    EvidenceIs,
    Guard,
    HasRole,
    LaterThanNow,
    NamedActor,
    NotBefore,
    NotLaterThanNow,
    OtherThan,
    Requires,
    Rule,
    WithinDeadline,
)
from resolveflow.exceptions import InvalidMethodology, InvalidMethodologyFile
from resolveflow.methodologies._guards import (
    AllPlanItemsDone,
    FaultNeedsLiabilityReview,
    NotOlderThan,
    PlanHasOpenItems,
    PlanItemOpen,
    PressingDoneFirst,
    PressingPlannedFirst,
    SoundPlan,
)

if TYPE_CHECKING:
    from resolveflow._methodology import Action


# --- the table ---------------------------------------------------------------------


def _check_kind(kind: GuardKind, known: Mapping[str, GuardKind]) -> None:
    """Refuse an entry the schema, the loader or the writer could not handle."""
    where = f"guard kind {kind.name!r}"
    if not isinstance(kind.name, str) or not _SNAKE.fullmatch(kind.name):
        raise InvalidMethodology(
            "guard kind names are what a file writes after 'kind:': lowercase letters, digits and "
            f"underscores, starting with a letter, e.g. 'credit_limit'; got {kind.name!r}",
            where="guard kind",
        )
    if kind.name in known:
        raise InvalidMethodology(
            f"the name is already taken by {known[kind.name].guard.__qualname__}; "
            f"choose another (taken: {', '.join(known)})",
            where=where,
        )
    guard = kind.guard
    if not isinstance(guard, type) or not issubclass(guard, Guard) or guard is Guard:
        raise InvalidMethodology(f"expected a Guard subclass, got {guard!r}", where=where)
    if issubclass(guard, Rule):
        raise InvalidMethodology("a Rule holds Python code, which a file cannot", where=where)
    for other in known.values():
        if other.guard is guard:
            raise InvalidMethodology(
                f"{guard.__qualname__} is already the guard kind {other.name!r}; a class is one kind",
                where=where,
            )
    if not isinstance(kind.description, str) or not kind.description.strip():
        raise InvalidMethodology("needs a description (the JSON Schema shows it to editors)", where=where)
    seen: dict[str, GuardField] = {}
    for field in kind.fields:
        _check_field(field, seen, where)
        seen[field.key] = field
    _check_keywords(kind, where)


def _check_keywords(kind: GuardKind, where: str) -> None:
    """Every field fills a keyword the class takes (name and message included)."""
    try:
        parameters = inspect.signature(kind.guard).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - a class without a readable signature
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return
    takes = [p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for field in kind.all_fields():
        if field.attr not in takes:
            raise InvalidMethodology(
                f"the key {field.key!r} fills the keyword {field.attr!r}, which "
                f"{kind.guard.__qualname__}() does not take; it takes: {', '.join(takes) or 'none'}",
                where=where,
            )


def _check_field(field: GuardField, seen: Mapping[str, GuardField], where: str) -> None:
    if not isinstance(field, GuardField):
        raise InvalidMethodology(f"fields must be GuardField entries, got {field!r}", where=where)
    if not isinstance(field.key, str) or not _SNAKE.fullmatch(field.key):
        raise InvalidMethodology(f"field keys are snake_case words, got {field.key!r}", where=where)
    where = f"{where}, field {field.key!r}"
    if field.key in _COMMON_KEYS:
        raise InvalidMethodology(
            f"'{field.key}' is a key of every guard kind; do not list it (see GuardKind.defaults)",
            where=where,
        )
    if field.key in seen:
        raise InvalidMethodology("the key is listed twice", where=where)
    if field.type not in FIELD_TYPES:
        raise InvalidMethodology(
            f"unknown field type {field.type!r}{did_you_mean(str(field.type), FIELD_TYPES)}; "
            f"types are: {', '.join(FIELD_TYPES)}",
            where=where,
        )
    if not isinstance(field.description, str) or not field.description.strip():
        raise InvalidMethodology("needs a description (the JSON Schema shows it to editors)", where=where)
    if (field.type == "choice") != (isinstance(field.choices, type) and issubclass(field.choices, enum.Enum)):
        raise InvalidMethodology(
            "a choice field, and only a choice field, gives choices: an Enum", where=where
        )
    if field.choices is not None and not all(
        isinstance(m.value, str | int) and not isinstance(m.value, bool) for m in field.choices
    ):
        raise InvalidMethodology("choices must have text or integer values, to be written", where=where)
    if field.minimum is not None and field.type not in ("integer", "number"):
        raise InvalidMethodology("only integer and number fields take a minimum", where=where)
    needs = {"evidence_value": "evidence_field", "record_field": "record"}.get(field.type)
    if needs is not None:
        target = seen.get(field.of) if isinstance(field.of, str) else None
        if target is None or target.type != needs:
            raise InvalidMethodology(
                f"a {field.type} field names, with 'of', an earlier {needs} key of its kind; "
                f"got {field.of!r}",
                where=where,
            )
    elif field.of is not None:
        raise InvalidMethodology("only evidence_value and record_field fields take 'of'", where=where)
    if field.datetime and field.type not in ("evidence_field", "record_field"):
        raise InvalidMethodology("only evidence_field and record_field fields take datetime", where=where)


_EVIDENCE_TIME: Final = GuardField(
    "field", "evidence_field", "The date-time field of this action's evidence.", datetime=True
)
_BUILTIN: Final = (
    GuardKind(
        "requires",
        Requires,
        "The case must already hold a record of this type (optionally made at a given step).",
        (
            GuardField(
                "record",
                "record",
                "The evidence record that must already be on the case (built-in or declared).",
            ),
            GuardField(
                "at_step",
                "step",
                "Only records made by an action taken at this step count.",
                required=False,
            ),
        ),
        defaults=True,
    ),
    GuardKind(
        "after_step",
        AfterStep,
        "The case must have passed through this step.",
        (GuardField("step", "step", "The step the case must have passed through."),),
        defaults=True,
    ),
    GuardKind(
        "evidence_is",
        EvidenceIs,
        "A field of this action's evidence must have a given value.",
        (
            GuardField("field", "evidence_field", "The field of this action's evidence."),
            GuardField(
                "equals",
                "evidence_value",
                "The value the field must have (a valid value of that field).",
                of="field",
            ),
        ),
    ),
    GuardKind(
        "later_than_now",
        LaterThanNow,
        "A date-time field of this action's evidence must be later than the time of the action.",
        (
            GuardField(
                "field", "evidence_field", "The date-time field of this action's evidence.", datetime=True
            ),
        ),
    ),
    GuardKind(
        "not_later_than_now",
        NotLaterThanNow,
        "A date-time field of this action's evidence must not be later than the time of the action.",
        (
            GuardField(
                "field", "evidence_field", "The date-time field of this action's evidence.", datetime=True
            ),
        ),
    ),
    GuardKind(
        "not_before",
        NotBefore,
        "Not before the time held in the latest record of a type (passes while there is none).",
        (
            GuardField("record", "record", "The record holding the time (built-in or declared)."),
            GuardField("field", "record_field", "The record's date-time field.", of="record", datetime=True),
        ),
    ),
    GuardKind(
        "has_role",
        HasRole,
        "Only someone holding this role may take the action (a role the methodology declares).",
        (GuardField("role", "name", "The role, one of the methodology's roles."),),
        defaults=True,
    ),
    GuardKind(
        "other_than",
        OtherThan,
        "Four eyes: not anyone who took an action at this step (passes while nobody has).",
        (GuardField("step", "step", "The step whose actors may not take this action."),),
        defaults=True,
    ),
    GuardKind(
        "named_actor",
        NamedActor,
        "Only the person named in the latest record of a type (e.g. a hand-off's target), or a role.",
        (
            GuardField("record", "record", "The record naming who may act (built-in or declared)."),
            GuardField("field", "record_field", "The record's field holding the actor's id.", of="record"),
            GuardField(
                "or_role",
                "name",
                "A role whose holders may act too (the team behind the named person).",
                required=False,
            ),
        ),
        defaults=True,
    ),
    GuardKind(
        "within",
        WithinDeadline,
        "Only within a time limit after the case (last) entered a step.",
        (
            GuardField("step", "step", "The step the time runs from."),
            GuardField("days", "integer", "Days allowed.", required=False, minimum=0),
            GuardField("hours", "integer", "Hours allowed.", required=False, minimum=0),
            GuardField("minutes", "integer", "Minutes allowed.", required=False, minimum=0),
        ),
    ),
    GuardKind(
        "not_older_than",
        NotOlderThan,
        "A date-time field of this action's evidence must lie within a window before the time of the action.",
        (
            _EVIDENCE_TIME,
            GuardField("days", "integer", "Days the window reaches back.", required=False, minimum=0),
            GuardField("hours", "integer", "Hours the window reaches back.", required=False, minimum=0),
            GuardField("minutes", "integer", "Minutes the window reaches back.", required=False, minimum=0),
        ),
    ),
    GuardKind(
        "sound_plan",
        SoundPlan,
        "A proposed plan has unique item ids and every item due later than the agreement.",
        defaults=True,
    ),
    GuardKind(
        "plan_item_open",
        PlanItemOpen,
        "A completion must name an item of the current plan that is not done yet.",
        defaults=True,
    ),
    GuardKind(
        "plan_has_open_items",
        PlanHasOpenItems,
        "There must be an open plan item to complete.",
        defaults=True,
    ),
    GuardKind(
        "pressing_planned_first",
        PressingPlannedFirst,
        "A prioritised plan has a pressing item, and no long-term item falls due before a pressing one.",
        defaults=True,
    ),
    GuardKind(
        "pressing_done_first",
        PressingDoneFirst,
        "A long-term item of a prioritised plan is done only once its pressing items are all done.",
        defaults=True,
    ),
    GuardKind(
        "all_plan_items_done",
        AllPlanItemsDone,
        "Every item of the current plan must be done.",
        defaults=True,
    ),
    GuardKind(
        "fault_needs_liability_review",
        FaultNeedsLiabilityReview,
        "A statement that admits fault needs a liability review that found the company at fault.",
        (
            GuardField(
                "review",
                "record",
                "The review record whose company_at_fault counts (default: liability_review).",
                required=False,
            ),
        ),
        defaults=True,
    ),
)


@attrs.frozen(eq=False)
class KindTable:
    """The guard kinds at one moment: a load or a dump uses one table from start to end.

    Compared and hashed by identity, so caches (the schema, its validator) key on it.
    """

    kinds: Mapping[str, GuardKind]
    by_class: Mapping[type, GuardKind]

    @classmethod
    def of(cls, kinds: Iterable[GuardKind]) -> KindTable:
        listed = {kind.name: kind for kind in kinds}
        return cls(listed, {kind.guard: kind for kind in listed.values()})

    # --- the schema ---

    def guard_schema(self) -> dict[str, Any]:
        """``$defs.guard`` of the file schema: per-kind keys and types, checked with if/then."""
        branches = []
        by_key: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for kind in self.kinds.values():
            properties: dict[str, Any] = {"kind": {}}
            for field in kind.all_fields():
                schema = _field_schema(field)
                properties[field.key] = schema
                by_key.setdefault(field.key, []).append((kind.name, schema))
            branches.append(
                {
                    "if": {"properties": {"kind": {"const": kind.name}}, "required": ["kind"]},
                    "then": {
                        "description": f"{kind.name}: {kind.description}",
                        "properties": properties,
                        "required": ["kind", *(f.key for f in kind.all_fields() if f.required)],
                        "additionalProperties": False,
                    },
                }
            )
        properties = {
            "kind": {
                "title": "guard kind",
                "description": "Which rule this is: "
                + " ".join(f"{k.name}: {k.description}" for k in self.kinds.values()),
                "enum": list(self.kinds),
            }
        }
        for key, schemas in by_key.items():
            properties[key] = _merged(schemas, len(self.kinds))
        return {
            "title": "Guard",
            "description": "A declarative rule checked before the action; every failing one is reported.",
            "type": "object",
            "properties": properties,
            "required": ["kind"],
            "additionalProperties": False,
            "allOf": branches,
        }

    # --- file data -> Guard ---

    def read(
        self,
        spec: Mapping[str, Any],
        path: Path,
        evidence: type | None,
        records: Records,
        error: ErrorAt,
        attempt: Callable[[Path, Callable[[], Guard]], Guard],
    ) -> Guard:
        """Build the guard a file's (schema-valid) guard data describes."""
        kind = self.kinds[spec["kind"]]
        ctx = ReadContext(kind, spec, path, evidence, records, error)
        kwargs: dict[str, Any] = {}
        for field in kind.all_fields():
            if field.key not in spec:
                continue
            try:
                value = _read(field, spec[field.key], ctx)
                ctx.read[field.key] = value
                if field.load is not None:
                    value = field.load(value)
            except InvalidMethodologyFile:
                raise  # already at its key path
            except (_Invalid, ValueError, TypeError) as problem:
                raise error((*path, field.key), str(problem)) from problem
            kwargs[field.attr] = value
        return attempt(path, lambda: kind.guard(**kwargs))

    # --- Guard -> file data ---

    def write(self, guard: Guard, action: Action, path: Path, writer: RecordWriter) -> dict[str, Any]:
        """The file's data for a guard of a kind in this table."""
        kind = self.by_class.get(type(guard))
        about = f"action {action.name!r}, guard {getattr(guard, 'name', '?')!r}"
        if kind is None:
            if isinstance(guard, Rule):
                raise writer.fail(
                    path,
                    f"{about} is a Rule (a Python predicate); files hold only declarative guards "
                    f"({', '.join(self.kinds)}). Keep this methodology in Python, or replace the rule",
                )
            raise writer.fail(
                path,
                f"{about} is a {type(guard).__qualname__}, a guard kind written in Python; files hold "
                f"only the kinds registered for files: {', '.join(self.kinds)} "
                "(register_guard_kind makes a guard class one of them)",
            )
        ctx = WriteContext(kind, guard, action, path, writer)
        # The guard's own values; None is "left out", where a key may be.
        present = {f.key: getattr(guard, f.attr, None) for f in kind.all_fields()}
        kept = [f for f in kind.all_fields() if f.required or present[f.key] is not None]
        omitted = self._omitted(kind, guard, {f.attr: present[f.key] for f in kept}, kept)
        out: dict[str, Any] = {"kind": kind.name}
        for field in kept:
            if field.key in omitted:
                continue
            try:
                value = present[field.key]
                if field.dump is not None and value is not None:
                    value = field.dump(value)
                out[field.key] = _written(field, value, ctx)
            except InvalidMethodologyFile:
                raise  # already at its key path
            except (_Invalid, ValueError, TypeError) as problem:
                raise writer.fail((*path, field.key), f"{about}: {problem}") from problem
        return out

    @staticmethod
    def _omitted(
        kind: GuardKind, guard: Guard, given: Mapping[str, Any], fields: Sequence[GuardField]
    ) -> set[str]:
        """The optional keys a file can leave out: the guard built without them is the same."""
        keywords = dict(given)
        omitted: set[str] = set()
        for field in fields:
            if field.required:
                continue
            trial = {attr: value for attr, value in keywords.items() if attr != field.attr}
            try:
                same = kind.guard(**trial) == guard
            except Exception:  # the key is needed when the guard cannot do without it
                same = False
            if same:
                omitted.add(field.key)
                keywords = trial
        return omitted


def _merged(schemas: Sequence[tuple[str, dict[str, Any]]], total: int) -> dict[str, Any]:
    """One key's top-level property: its type when every kind agrees, and what it means per kind."""
    shapes = [{k: v for k, v in s.items() if k not in ("title", "description")} for _, s in schemas]
    out: dict[str, Any] = dict(shapes[0]) if all(s == shapes[0] for s in shapes) else {}
    meanings: dict[str, list[str]] = {}
    for kind, schema in schemas:
        meanings.setdefault(schema["description"], []).append(kind)
    if len(meanings) == 1 and len(schemas) == total:
        description = next(iter(meanings))
    else:
        description = " ".join(f"{', '.join(kinds)}: {text}" for text, kinds in meanings.items())
    return {"title": schemas[0][1]["title"], "description": description, **out}


_LOCK: Final = threading.Lock()
_current: KindTable = KindTable.of(())


def _register_all(kinds: Iterable[GuardKind]) -> None:
    global _current
    with _LOCK:
        table = dict(_current.kinds)
        for kind in kinds:
            _check_kind(kind, table)
            table[kind.name] = kind
        _current = KindTable.of(table.values())


_register_all(_BUILTIN)
BUILTIN_KINDS: Final = tuple(kind.name for kind in _BUILTIN)


def current_table() -> KindTable:
    """The guard kinds registered now."""
    return _current


def guard_kinds() -> tuple[GuardKind, ...]:
    """Every guard kind methodology files can hold: resolveflow's own, then the registered ones."""
    return tuple(_current.kinds.values())


def register_guard_kind(
    name: str,
    guard: type[Guard],
    *,
    description: str,
    fields: Sequence[GuardField] = (),
    defaults: bool = False,
) -> GuardKind:
    """Make a Guard subclass usable in methodology files, as ``kind: <name>``.

    From then on the JSON Schema lists the kind, files may use it and
    methodologies holding such guards can be written as files.

    Args:
        name: what a file writes after ``kind:`` (snake_case, not already taken).
        guard: the Guard subclass; built with the fields as keyword arguments.
            Make it compare by value (``attrs.frozen``) so files round-trip.
        description: what the guard checks, shown by editors.
        fields: its keys besides ``kind``, ``name`` and ``message``.
        defaults: the class has a default ``name`` and ``message`` (files may
            leave them out); otherwise files must give both.

    Returns:
        The registered entry.

    Raises:
        InvalidMethodology: a bad or taken name, a class already registered
            (or not a Guard subclass, or a Rule), or a malformed field.

    Example:
        >>> import attrs
        >>> from resolveflow.guards import Guard, GuardContext, Refusal
        >>> @attrs.frozen(kw_only=True)
        ... class Quiet(Guard):
        ...     name: str = "quiet"
        ...     message: str = "Never refuses."
        ...     def check(self, context: GuardContext) -> Refusal | None:
        ...         return None
        >>> register_guard_kind("quiet", Quiet, description="Never refuses.", defaults=True).name
        'quiet'
        >>> unregister_guard_kind("quiet")
    """
    kind = GuardKind(name, guard, description, tuple(fields), defaults)
    _register_all([kind])
    return kind


def unregister_guard_kind(name: str) -> None:
    """Remove a kind added with :func:`register_guard_kind` (resolveflow's own kinds stay).

    Raises:
        InvalidMethodology: it is one of resolveflow's kinds, or not registered.
    """
    global _current
    with _LOCK:
        if name in BUILTIN_KINDS:
            raise InvalidMethodology(
                "resolveflow's own guard kinds cannot be removed", where=f"guard kind {name!r}"
            )
        if name not in _current.kinds:
            raise InvalidMethodology(
                f"no such guard kind; registered: {', '.join(_current.kinds)}", where=f"guard kind {name!r}"
            )
        _current = KindTable.of(k for k in _current.kinds.values() if k.name != name)


@functools.lru_cache(maxsize=8)
def guard_schema(table: KindTable) -> dict[str, Any]:
    """The guard part of the schema for a table (cached; do not modify)."""
    return table.guard_schema()
