"""Declarative methodology files: YAML, TOML or JSON <-> Methodology.

A file is one in-memory dict form (see docs/files.md); the three formats are
thin layers over it. Loading runs in a fixed order so that the first problem
reported is the one to fix first, always at the same place:

1. parse the text (syntax errors carry the format's line and column);
2. validate against the published JSON Schema (the earliest error in the
   document wins);
3. resolve records, cross-references and guard fields, each error naming its
   key path (and, for YAML, its line and column);
4. build the Methodology, giving each Step/Outcome/Action error its element's
   key path.

Nothing is registered or cached until the whole file has built: a file never
half-loads. Records declared in a file become attrs classes, cached by
(methodology id, version, record name, definition) so that loading the same
file twice gives equal methodologies (actions compare evidence classes by
identity).
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path as FilePath
from typing import Any, Final, TypeVar

import attrs

from resolveflow._escalation import escalation_from_dict, escalation_to_dict
from resolveflow._file_formats import (
    FILE_SUFFIXES,
    FORMATS,
    EmitProblem,
    Positions,
    SyntaxProblem,
    emit,
    format_of,
    parse,
)
from resolveflow._file_records import (
    CACHE_LOCK,
    Records,
    RecordWriter,
    did_you_mean,
    remember_class,
)
from resolveflow._file_schema import (
    FORMAT_VERSION,
    describe_value,
    first_problem,
    methodology_schema,
    schema_for,
)
from resolveflow._guard_kinds import KindTable, current_table
from resolveflow._methodology import Action, Methodology, Outcome, Step
from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput, InvalidMethodology, InvalidMethodologyFile

__all__ = [
    "InvalidMethodologyFile",
    "dump_methodology",
    "load_methodology",
    "methodology_from_dict",
    "methodology_from_text",
    "methodology_schema",
    "methodology_to_dict",
]

Path = tuple[str | int, ...]
T = TypeVar("T")

_IDENTIFIER_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,79}")  # longer keys are shown cut short


def format_path(path: Iterable[str | int]) -> str:
    """``("actions", 2, "target")`` -> ``"actions[2].target"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{shown(part)}]"  # a key from the file: cut short, whatever its length
    return out


@attrs.frozen
class _Where:
    """Turns a key path into an error at the right place."""

    origin: str
    positions: Positions | None

    def error(self, path: Path, reason: str, *, at_key: bool = False) -> InvalidMethodologyFile:
        mark = self.positions.find(path, at_key=at_key) if self.positions is not None else None
        return InvalidMethodologyFile(
            reason,
            file=self.origin,
            line=mark.line if mark else None,
            column=mark.column if mark else None,
            key_path=format_path(path),
        )

    def attempt(self, path: Path, make: Callable[[], T]) -> T:
        """Build one element; its InvalidMethodology gets the element's key path."""
        try:
            return make()
        except InvalidMethodologyFile:
            raise
        except InvalidMethodology as error:
            raise self.error(path, str(error)) from error


# --- dict -> Methodology -----------------------------------------------------------


def _plain(value: object, path: Path, where: _Where, active: set[int]) -> object:
    """A private deep copy with lists for tuples; non-text keys and loops are refused."""
    if isinstance(value, Mapping | list | tuple):
        if id(value) in active:
            raise where.error(path, "the data contains itself (a YAML alias to an enclosing item?)")
        active = active | {id(value)}
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise where.error(
                    path, f"keys must be text, got {describe_value(key)}; put the key in quotes"
                )
            out[key] = _plain(item, (*path, key), where, active)
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, (*path, index), where, active) for index, item in enumerate(value)]
    return value


@functools.lru_cache(maxsize=8)
def _validator(table: KindTable) -> Any:
    try:
        import jsonschema  # type: ignore[import-untyped, unused-ignore]
    except ImportError as error:  # pragma: no cover - the 'files' extra installs it
        raise ImportError("methodology files need jsonschema: pip install 'resolveflow[files]'") from error
    return jsonschema.Draft202012Validator(schema_for(table))


MAX_FILE_CHARS: Final = 2_000_000
"""The longest methodology text read (the built-ins are under 40,000 characters)."""

# Set while a methodology shipped inside the package is loaded: those files are checked by
# the test suite against the schema, so a core install without jsonschema may skip it.
_SHIPPED: Final = contextvars.ContextVar("resolveflow_shipped_file", default=False)


def _validate(data: dict[str, Any], where: _Where, table: KindTable) -> None:
    if "resolveflow" not in data:
        raise where.error(
            (),
            f"missing required key 'resolveflow': start the file with 'resolveflow: {FORMAT_VERSION}' "
            "(the version of the file format)",
        )
    try:
        validator = _validator(table)
    except ImportError:
        if _SHIPPED.get():
            return
        raise
    problem = first_problem(data, list(validator.iter_errors(data)))
    if problem is None:
        return
    reason = problem.message
    if problem.wants_text:
        raw = where.positions.raw(problem.path) if where.positions is not None else None
        reason += f'; put it in quotes: "{raw}"' if raw else "; put it in quotes"
    raise where.error(problem.path, reason, at_key=problem.at_key)


def _texts(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _check_references(data: Mapping[str, Any], where: _Where, table: KindTable) -> None:
    """Cross-references, checked here so that each error names its exact key path."""
    steps = [s["id"] for s in data["steps"]]
    outcomes = [o["id"] for o in data["outcomes"]]
    seen: dict[str, Path] = {}
    for kind in ("steps", "outcomes"):
        for index, item in enumerate(data[kind]):
            if item["id"] in seen:
                raise where.error(
                    (kind, index, "id"),
                    f"the id {item['id']!r} is already used at {format_path(seen[item['id']])}; "
                    "step and outcome ids must be unique",
                )
            seen[item["id"]] = (kind, index)
    if not any(o["successful"] for o in data["outcomes"]):
        raise where.error(("outcomes",), "needs at least one successful outcome (successful: true)")

    def working_step(path: Path, value: str) -> None:
        if value in outcomes:
            raise where.error(
                path, f"{value!r} is an outcome; a working step is needed here; steps are: {', '.join(steps)}"
            )
        if value not in steps:
            raise where.error(
                path, f"unknown step {value!r}{did_you_mean(value, steps)}; steps are: {', '.join(steps)}"
            )

    working_step(("initial",), data["initial"])
    for index, step in enumerate(data["required_steps"]):
        working_step(("required_steps", index), step)
    names: dict[str, int] = {}
    for index, action in enumerate(data["actions"]):
        path: Path = ("actions", index)
        name = action["name"]
        if name in names:
            raise where.error(
                (*path, "name"),
                f"action {name!r} is already defined at actions[{names[name]}]; "
                "give one action several sources instead",
            )
        if name in seen:
            raise where.error((*path, "name"), f"action {name!r} has the same name as a step or outcome")
        names[name] = index
        sources = action["sources"]
        if isinstance(sources, str):
            working_step((*path, "sources"), sources)
        else:
            for number, source in enumerate(sources):
                working_step((*path, "sources", number), source)
        target = action.get("target")
        if target is not None and target not in seen:
            raise where.error(
                (*path, "target"),
                f"unknown step {target!r}{did_you_mean(target, [*steps, *outcomes])}; "
                f"steps are: {', '.join(steps)}; outcomes are: {', '.join(outcomes)}",
            )
        for number, guard in enumerate(action.get("guards", ())):
            for key in table.kinds[guard["kind"]].step_keys():
                if guard.get(key) is not None:
                    working_step((*path, "guards", number, key), guard[key])


def _step(spec: Mapping[str, Any]) -> Step:
    return Step(
        id=spec["id"],
        title=spec["title"],
        prompts=_texts(spec.get("prompts")),
        checklist=_texts(spec.get("checklist")),
    )


def _outcome(spec: Mapping[str, Any]) -> Outcome:
    return Outcome(
        id=spec["id"],
        title=spec["title"],
        successful=spec["successful"],
        guidance=_texts(spec.get("guidance")),
    )


def _action(spec: Mapping[str, Any], path: Path, records: Records, where: _Where, table: KindTable) -> Action:
    evidence_name = spec.get("evidence")
    evidence = records.get(evidence_name, (*path, "evidence")) if evidence_name is not None else None
    guards = tuple(
        table.read(guard, (*path, "guards", number), evidence, records, where.error, where.attempt)
        for number, guard in enumerate(spec.get("guards", ()))
    )
    return where.attempt(
        path,
        lambda: Action(
            name=spec["name"],
            sources=_texts(spec["sources"]),
            target=spec.get("target"),
            title=spec["title"],
            evidence=evidence,
            guards=guards,
            description=spec.get("description"),
        ),
    )


def _build(raw: object, where: _Where) -> Methodology:
    data = _plain(raw, (), where, set())
    if not isinstance(data, dict):
        raise where.error(
            (),
            f"expected a mapping at the top (resolveflow: {FORMAT_VERSION}, id: ..., steps: ...), "
            f"got {describe_value(data) if data is not None else 'an empty document'}",
        )
    table = current_table()  # one table of guard kinds from validation to build
    _validate(data, where, table)
    _check_references(data, where, table)
    # One load at a time: the record classes it makes are cached only if it succeeds,
    # and a second load of the same file must find them.
    with CACHE_LOCK:
        records = Records.build(data, where.error)
        steps = [
            where.attempt(("steps", index), functools.partial(_step, s))
            for index, s in enumerate(data["steps"])
        ]
        outcomes = [
            where.attempt(("outcomes", index), functools.partial(_outcome, o))
            for index, o in enumerate(data["outcomes"])
        ]
        actions = [
            _action(a, ("actions", index), records, where, table) for index, a in enumerate(data["actions"])
        ]
        records.check_all_used()
        escalations = [
            where.attempt(("escalations", index), functools.partial(escalation_from_dict, e))
            for index, e in enumerate(data.get("escalations", ()))
        ]
        methodology = where.attempt(
            (),
            lambda: Methodology(
                id=data["id"],
                version=data["version"],
                title=data["title"],
                source=data["source"],
                description=data.get("description"),
                initial=data["initial"],
                required_steps=tuple(data["required_steps"]),
                roles=tuple(data.get("roles", ())),
                escalations=escalations,
                steps=steps,
                outcomes=outcomes,
                actions=actions,
            ),
        )
        for key, cls in records.new.items():
            remember_class(key, cls)
    return methodology


def methodology_from_dict(data: Mapping[str, Any], *, origin: str = "<dict>") -> Methodology:
    """Build a methodology from the file format's dict form (e.g. parsed by your own loader).

    Args:
        data: the dict form (docs/files.md); tuples are accepted for lists.
        origin: names the source in error messages, e.g. a database key.

    Returns:
        The methodology (not registered: pass it to ``resolveflow.register``).

    Raises:
        InvalidMethodologyFile: the data is not a valid methodology; the error's
            ``key_path`` says where.

    Example:
        >>> m = methodology_from_dict({
        ...     "resolveflow": 1, "id": "tiny", "version": "1.0", "title": "Tiny",
        ...     "source": "an example", "initial": "listen", "required_steps": ["listen"],
        ...     "steps": [{"id": "listen", "title": "Listen"}],
        ...     "outcomes": [{"id": "done", "title": "Done", "successful": True}],
        ...     "actions": [{"name": "hear", "title": "Heard", "sources": "listen",
        ...                  "target": "done", "evidence": "customer_account"}]})
        >>> m.action("hear").evidence.__name__
        'CustomerAccount'
        >>> from resolveflow.exceptions import InvalidMethodologyFile
        >>> try:
        ...     methodology_from_dict({"resolveflow": 1, "id": "Tiny"}, origin="db:42")
        ... except InvalidMethodologyFile as error:
        ...     print(error.key_path, "->", error)
        id -> db:42: id: 'Tiny' is not valid here; use lowercase words joined by hyphens, e.g. 'seven-as'
    """
    return _build(data, _Where(origin, None))


def methodology_from_text(text: str, format: str, *, origin: str = "<text>") -> Methodology:
    """Build a methodology from YAML, TOML or JSON text (e.g. stored in your database).

    Args:
        text: the file's content.
        format: ``"yaml"``, ``"toml"`` or ``"json"``.
        origin: names the source in error messages.

    Returns:
        The methodology (not registered).

    Raises:
        InvalidMethodologyFile: the text is not a valid methodology file.
        InvalidInput: unknown format.

    Example:
        >>> from resolveflow.exceptions import InvalidMethodologyFile
        >>> try:
        ...     methodology_from_text("resolveflow: 1\\nid: [x]\\n", "yaml", origin="mine.yaml")
        ... except InvalidMethodologyFile as error:
        ...     print(error.line, error.column, error.key_path, "->", error.reason)
        2 5 id -> expected text, got a list
    """
    fmt = _format_name(format, "format")
    if not isinstance(text, str):
        raise InvalidInput(f"expected the file's text as str, got {type(text).__name__}", argument="text")
    if len(text) > MAX_FILE_CHARS:
        raise InvalidMethodologyFile(
            f"the text is {len(text):,} characters; a methodology file may have at most {MAX_FILE_CHARS:,}",
            file=origin,
        )
    try:
        data, positions = parse(text, fmt)
    except SyntaxProblem as problem:
        raise InvalidMethodologyFile(
            problem.message,
            file=origin,
            line=problem.line,
            column=problem.column,
            key_path=format_path(problem.path),
        ) from problem
    return _build(data, _Where(origin, positions))


def _format_name(value: str, argument: str) -> str:
    fmt = {"yml": "yaml"}.get(value.lower(), value.lower()) if isinstance(value, str) else ""
    if fmt not in FORMATS:
        raise InvalidInput(
            f"unknown format {shown(value)}; use one of: {', '.join(FORMATS)}", argument=argument
        )
    return fmt


def _format_for(path: FilePath, argument: str) -> str:
    fmt = format_of(path.suffix)
    if fmt is None:
        raise InvalidInput(
            f"cannot tell the format of {shown(str(path))} from its extension; use one of: "
            f"{', '.join(FILE_SUFFIXES)}",
            argument=argument,
        )
    return fmt


def _file_path(value: object, argument: str) -> FilePath:
    """``value`` as a path: text or an os.PathLike that gives text; InvalidInput otherwise."""
    if isinstance(value, str | os.PathLike):
        try:
            return FilePath(value)
        except TypeError:  # an os.PathLike that gives bytes
            pass
    raise InvalidInput(
        f"expected a file path (str or os.PathLike), got {type(value).__name__}", argument=argument
    )


def _file_problem(error: OSError | ValueError) -> str:
    """Why a path could not be opened, in a few words (never the whole path again)."""
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    if isinstance(error, UnicodeError):
        return "the path is not valid text (it holds a lone surrogate)"
    return shown(str(error)).strip("'")  # "embedded null byte"


def load_methodology(path: str | os.PathLike[str], *, format: str | None = None) -> Methodology:
    """Load a methodology file: YAML (.yaml, .yml), TOML (.toml) or JSON (.json).

    Args:
        path: the file.
        format: ``"yaml"``, ``"toml"`` or ``"json"`` to override the extension.

    Returns:
        The methodology. It is not registered: pass it to ``resolveflow.register``
        to open cases by its id. Loading the same file twice gives equal
        methodologies.

    Raises:
        InvalidMethodologyFile: the file is not a valid methodology; the message
            starts with ``file:line:column: key.path:`` (line and column when
            the format gives them).
        InvalidInput: the format cannot be told from the extension.
        InvalidInput: the file cannot be read (missing, a folder, no permission),
            or ``path`` is not a path.

    Example:
        >>> import pathlib, tempfile, resolveflow
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "engage.yaml"
        >>> _ = dump_methodology(resolveflow.get_methodology("engage"), path)
        >>> load_methodology(path) == resolveflow.get_methodology("engage")
        True
    """
    file = _file_path(path, "path")
    fmt = _format_name(format, "format") if format is not None else _format_for(file, "path")
    try:
        with file.open("rb") as handle:
            raw = handle.read(MAX_FILE_CHARS * 4 + 4)  # at most 4 bytes a character in UTF-8
    except (OSError, ValueError) as error:  # ValueError: a NUL or a lone surrogate in the path
        raise InvalidInput(
            f"cannot read {shown(str(file))}: {_file_problem(error)}", argument="path"
        ) from error
    if len(raw) > MAX_FILE_CHARS * 4:
        raise InvalidMethodologyFile(
            f"the file is larger than {MAX_FILE_CHARS * 4:,} bytes; a methodology file is far smaller",
            file=str(file),
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidMethodologyFile(f"not UTF-8 text: {error.reason}", file=str(file)) from error
    return methodology_from_text(text, fmt, origin=str(file))


def load_shipped(path: str | os.PathLike[str]) -> Methodology:
    """Load a methodology file shipped inside the package (works on a core install)."""
    token = _SHIPPED.set(True)
    try:
        return load_methodology(path)
    finally:
        _SHIPPED.reset(token)


# --- Methodology -> dict -------------------------------------------------------------


def _texts_out(values: tuple[str, ...]) -> list[str]:
    return list(values)


def _writer(methodology: Methodology) -> RecordWriter:
    def fail(path: Path, reason: str) -> InvalidMethodologyFile:
        return InvalidMethodologyFile(
            f"methodology {methodology.id!r} cannot be written as a file: {reason}",
            key_path=format_path(path),
        )

    return RecordWriter(fail)


def _action_dict(action: Action, path: Path, writer: RecordWriter, table: KindTable) -> dict[str, Any]:
    out: dict[str, Any] = {"name": action.name, "title": action.title}
    if action.description is not None:
        out["description"] = action.description
    out["sources"] = list(action.sources)
    out["target"] = action.target
    if action.evidence is not None:
        out["evidence"] = writer.record(action.evidence, (*path, "evidence"))
    if action.guards:
        out["guards"] = [
            table.write(guard, action, (*path, "guards", number), writer)
            for number, guard in enumerate(action.guards)
        ]
    return out


def methodology_to_dict(methodology: Methodology) -> dict[str, Any]:
    """The file format's dict form of a methodology: JSON-compatible, keys in a fixed order.

    Records declared by a file are written back under ``records``; record
    classes written in Python are declared there too when a file can express
    them (loading such a file gives new, equivalent classes).

    Args:
        methodology: any methodology whose guards are of kinds files hold
            (resolveflow's own, or registered with ``register_guard_kind``).

    Returns:
        The dict; ``methodology_from_dict`` of it equals ``methodology``
        (for built-in and file-declared records).

    Raises:
        InvalidMethodologyFile: it holds something a file cannot express: a
            ``Rule`` or a guard class not registered as a kind (the error names
            the action and guard), or a record class with validators or non-null defaults.
        InvalidInput: ``methodology`` is not a Methodology.

    Example:
        >>> import resolveflow
        >>> data = methodology_to_dict(resolveflow.get_methodology("prescription"))
        >>> list(data)[:4], data["actions"][0]["evidence"]
        (['resolveflow', 'id', 'version', 'title'], 'problem_acknowledgement')
    """
    if not isinstance(methodology, Methodology):
        raise InvalidInput(
            f"expected a Methodology, got {type(methodology).__name__}", argument="methodology"
        )
    writer = _writer(methodology)
    table = current_table()
    actions = [_action_dict(a, ("actions", i), writer, table) for i, a in enumerate(methodology.actions)]
    out: dict[str, Any] = {
        "resolveflow": FORMAT_VERSION,
        "id": methodology.id,
        "version": methodology.version,
        "title": methodology.title,
        "source": methodology.source,
    }
    if methodology.description is not None:
        out["description"] = methodology.description
    out["initial"] = methodology.initial
    out["required_steps"] = list(methodology.required_steps)
    if methodology.roles:  # left out when empty: files (and digests) from before roles are unchanged
        out["roles"] = list(methodology.roles)
    if writer.definitions:
        out["records"] = writer.declared()
    out["steps"] = []
    for step in methodology.steps:
        item: dict[str, Any] = {"id": step.id, "title": step.title}
        if step.prompts:
            item["prompts"] = _texts_out(step.prompts)
        if step.checklist:
            item["checklist"] = _texts_out(step.checklist)
        out["steps"].append(item)
    out["outcomes"] = []
    for outcome in methodology.outcomes:
        item = {"id": outcome.id, "title": outcome.title, "successful": outcome.successful}
        if outcome.guidance:
            item["guidance"] = _texts_out(outcome.guidance)
        out["outcomes"].append(item)
    out["actions"] = actions
    if methodology.escalations:  # operating policy: left out of the digest (see _digest._form)
        out["escalations"] = [escalation_to_dict(e) for e in methodology.escalations]
    return out


def dump_methodology(methodology: Methodology, path_or_format: str | os.PathLike[str]) -> str:
    """Write a methodology as YAML, TOML or JSON: to a file, or just as text.

    Args:
        methodology: the methodology (its guards must be declarative).
        path_or_format: ``"yaml"``, ``"toml"`` or ``"json"`` to get the text
            only; any other value is a file path whose extension (.yaml,
            .yml, .toml, .json) picks the format, and the file is written.

    Returns:
        The text (also when a file was written).

    Raises:
        InvalidMethodologyFile: the methodology cannot be written as a file
            (see :func:`methodology_to_dict`), or as TOML (an ``equals: null``
            guard: TOML has no null).
        InvalidInput: the format cannot be told from the path's extension,
            ``path_or_format`` is neither text nor a path, or the file cannot be
            written (no such folder, a folder of that name, no permission).

    Example:
        >>> import resolveflow
        >>> text = dump_methodology(resolveflow.get_methodology("engage"), "toml")
        >>> text.splitlines()[:2]
        ['resolveflow = 1', 'id = "engage"']
    """
    file: FilePath | None = None
    if isinstance(path_or_format, str) and path_or_format.lower() in (*FORMATS, "yml"):
        fmt = _format_name(path_or_format, "path_or_format")
    else:
        file = _file_path(path_or_format, "path_or_format")
        fmt = _format_for(file, "path_or_format")
    data = methodology_to_dict(methodology)
    try:
        text = emit(data, fmt, omit_if_none=frozenset({"target"}))
    except EmitProblem as problem:
        raise InvalidMethodologyFile(
            f"methodology {methodology.id!r} cannot be written as {fmt.upper()}: {problem.message}",
            file=str(file) if file else None,
            key_path=format_path(problem.path),
        ) from problem
    if file is not None:
        try:
            file.write_text(text, encoding="utf-8")
        except (OSError, ValueError) as error:  # ValueError: a NUL or a lone surrogate in the path
            raise InvalidInput(
                f"cannot write {shown(str(file))}: {_file_problem(error)}", argument="path_or_format"
            ) from error
    return text
