"""Reading and writing YAML, TOML and JSON text, with positions for error messages.

This layer knows nothing about methodologies: it turns text into plain data
(and back), remembers where each key path sits in a YAML file, and reports
syntax errors with a line and column where the format gives them. PyYAML is
imported only when YAML is used, so the core keeps its two dependencies.

TOML is written by a small emitter here rather than a dependency: the file
format needs only tables, arrays of tables, strings, numbers, booleans and
arrays, and TOML has no null (keys whose value is None are left out, which
is how the file format spells "absent").
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import math
import re
import tomllib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

if TYPE_CHECKING:
    import yaml

Path = tuple[str | int, ...]

FORMATS: Final = ("yaml", "toml", "json")
_FORMAT_OF_SUFFIX: Final[Mapping[str, str]] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".json": "json",
}
FILE_SUFFIXES: Final = tuple(_FORMAT_OF_SUFFIX)
"""The file extensions methodology files may have (lowercase; compare ``suffix.lower()``)."""


@attrs.frozen
class Mark:
    """A 1-based line and column in a file."""

    line: int
    column: int


class SyntaxProblem(Exception):
    """Text that is not valid YAML/TOML/JSON, or valid but unusable (duplicate keys)."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None, path: Path = ()):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.path = path


class Positions:
    """Where each key path of a parsed YAML file starts (JSON and TOML do not say).

    Found on demand by following the path through the composed nodes: a
    position is needed only for an error message, so a file that loads never
    pays for them. The nodes are read after construction, when merge keys
    (``<<``) have been flattened into them, so paths match the data built.
    """

    def __init__(self, root: Any = None) -> None:
        self._root = root

    def _follow(self, path: Path) -> tuple[Any, Any, int]:
        """The key node (None for a list item or the top) and value node of the longest prefix found.

        Also returns that prefix's length.
        """
        key, value = None, self._root
        for reached, part in enumerate(path):
            step = _child(value, part)
            if step is None:
                return key, value, reached
            key, value = step
        return key, value, len(path)

    def find(self, path: Path, *, at_key: bool = False) -> Mark | None:
        """The position of ``path``, or of its nearest ancestor that has one.

        Args:
            path: the key path.
            at_key: point at the key (an unexpected key) rather than its value.
        """
        if self._root is None:
            return None
        key, value, reached = self._follow(path)
        on_key = at_key and key is not None and reached == len(path)
        return _mark(key.start_mark if on_key else value.start_mark)

    def raw(self, path: Path) -> str | None:
        """The scalar exactly as written at ``path`` (to suggest quoting it), if known."""
        if self._root is None:
            return None
        _, value, reached = self._follow(path)
        found = reached == len(path) and value.id == "scalar"
        return str(value.value) if found else None


def _child(node: Any, part: str | int) -> tuple[Any, Any] | None:
    """The (key node, value node) of ``part`` in a mapping or list node, or None."""
    if node.id == "mapping" and isinstance(part, str):
        # The last pair wins, as in the data: keys merged in (<<) come before the mapping's own.
        for key, value in reversed(node.value):
            if key.id == "scalar" and key.value == part:
                return key, value
    elif node.id == "sequence" and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None


def format_of(suffix: str) -> str | None:
    """The format for a file extension such as ``.yml``, or None."""
    return _FORMAT_OF_SUFFIX.get(suffix.lower())


# --- parsing ------------------------------------------------------------------


def parse(text: str, fmt: str) -> tuple[object, Positions | None]:
    """Parse text in one of :data:`FORMATS`.

    Returns:
        The data, and the positions of its key paths when the format gives them.

    Raises:
        SyntaxProblem: invalid text, or a key given twice in one mapping.
    """
    try:
        if fmt == "yaml":
            return _parse_yaml(text)
        if fmt == "json":
            data: object = _parse_json(text)
        elif fmt == "toml":
            data = _parse_toml(text)
        else:
            raise ValueError(f"unknown format {fmt!r}")
    except RecursionError:
        # The parsers recurse per level of nesting: refused, whatever the recursion limit.
        raise SyntaxProblem(_TOO_DEEP) from None
    _check_depth(data)
    return data, None


MAX_DEPTH: Final = 32
"""How deep a methodology file may nest mappings and lists (real ones need about 8)."""
_TOO_DEEP: Final = f"nested more than {MAX_DEPTH} levels deep"
MAX_EXPANDED: Final = 100_000
"""How many values a YAML file's aliases may add to what it writes out (an alias bomb is refused).

What the file writes itself is bounded by its size, as for JSON and TOML; only
the expansion aliases add is capped.
"""
MAX_DIGITS: Final = 30
"""The longest integer a methodology file may write (limits in files are small numbers)."""


def _check_depth(data: object) -> None:
    """Refuse data nested deeper than MAX_DEPTH, without recursion (the walkers after it recurse)."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            if level > MAX_DEPTH:
                raise SyntaxProblem(_TOO_DEEP)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, level + 1) for child in children)


def import_yaml() -> Any:
    try:
        import yaml
    except ImportError as error:  # pragma: no cover - the 'files' extra installs it
        raise ImportError("YAML methodology files need PyYAML: pip install 'resolveflow[files]'") from error
    return yaml


def _mark(mark: Any) -> Mark:
    return Mark(mark.line + 1, mark.column + 1)


# What YAML allows in a stream (YAML 1.1, 5.1): PyYAML's reader refuses the rest, libyaml's too
# but only once it reaches them, and a lone surrogate cannot even be handed to libyaml.
_NOT_YAML: Final = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _check_characters(text: str) -> None:
    """Refuse a character YAML does not allow (a control character, a lone surrogate), with its place."""
    found = _NOT_YAML.search(text)
    if found is None:
        return
    start = found.start()
    line_start = text.rfind("\n", 0, start) + 1
    raise SyntaxProblem(
        f"invalid YAML: the character U+{ord(found.group()):04X} is not allowed in a YAML file; "
        "write it as an escape (\\x..) inside double quotes",
        line=text.count("\n", 0, start) + 1,
        column=start - line_start + 1,
    )


_LIBYAML_TOO_DEEP: Final = "exceeded maximum nesting depth"
_NESTING_PROBE: Final = "[" * 1_100 + "]" * 1_100


@functools.cache
def _loader_class(yaml: Any) -> Any:
    """libyaml's loader (composing in C, several times faster), or PyYAML's own when it is unfit.

    libyaml composes nodes by C recursion: only one that refuses deep nesting
    itself (libyaml 0.2.6 stops at 1,000 levels) can be handed text nested a
    million levels deep. An older one gets the pure-Python loader, whose
    recursion ends in a RecursionError, refused as too deep.
    """
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return yaml.SafeLoader
    probe = loader(_NESTING_PROBE)
    try:
        probe.get_single_node()
    except yaml.YAMLError:
        return loader  # refused: libyaml bounds its own nesting
    finally:
        probe.dispose()
    return yaml.SafeLoader  # pragma: no cover - a libyaml without a nesting limit


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is composed and built.

    PyYAML makes a node and two marks for every value, several objects a
    character: the collector's passes over them, which find nothing to free,
    took more than half of the load. Turned back on only if it was on, so a
    program that keeps it off keeps it off.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _parse_yaml(text: str) -> tuple[object, Positions]:
    yaml = import_yaml()
    _check_characters(text)
    with _collector_paused():
        return _compose_and_build(yaml, _loader_class(yaml)(text))


def _compose_and_build(yaml: Any, loader: Any) -> tuple[object, Positions]:
    """Compose the nodes, check them, build the data; PyYAML's errors become SyntaxProblems."""
    try:
        try:
            node = loader.get_single_node()
            if node is None:
                return None, Positions()
            _check_yaml_graph(node)
            data = loader.construct_document(node)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            problem = error.problem or error.context or "not valid YAML"
            raise SyntaxProblem(
                _TOO_DEEP if problem == _LIBYAML_TOO_DEEP else f"invalid YAML: {problem}",
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            ) from error
        except yaml.YAMLError as error:
            raise SyntaxProblem(f"invalid YAML: {error}") from error
        except RecursionError:
            raise SyntaxProblem(_TOO_DEEP) from None
        except ValueError as error:  # int() of a number past Python's digit limit
            raise SyntaxProblem(f"invalid YAML: {error}") from None
    finally:
        loader.dispose()
    return data, Positions(node)


def _check_yaml_graph(root: Any) -> None:
    """Refuse nesting past MAX_DEPTH, more than MAX_EXPANDED values, and duplicate keys.

    One pass over the composed node graph, before anything recurses into it or
    expands it, without recursion itself. Aliases make the graph a DAG whose
    tree can be exponentially larger than the file (a few hundred bytes can
    stand for billions of values): each container's expanded size and height
    are computed once and reused wherever it is aliased, so the pass is linear
    in the file. Scalars are counted where they stand, never pushed.
    """
    measured: dict[int, tuple[int, int]] = {}  # id -> (values once expanded, levels)
    on_path: set[int] = set()
    written = (
        1  # values the file writes out, each counted once: a subtree's expansion beyond them is aliases'
    )
    stack: list[tuple[Any, Path, bool]] = [(root, (), False)]
    while stack:
        node, path, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            measured[key] = size, _ = _measure(node, measured)
            if size > MAX_EXPANDED + written:
                raise SyntaxProblem(
                    f"its aliases expand it by more than {MAX_EXPANDED:,} values; write the values out"
                )
            continue
        if key in measured or key in on_path:  # an alias: to a node measured, or to an enclosing one
            continue
        if len(on_path) >= MAX_DEPTH:
            raise SyntaxProblem(_TOO_DEEP)
        on_path.add(key)
        written += len(node.value) * (2 if node.id == "mapping" else 1)
        stack.append((node, path, True))
        # Pushed last to first, so that the first duplicate key in the file is the one reported.
        stack.extend(reversed(_containers(node, path)))


def _containers(node: Any, path: Path) -> list[tuple[Any, Path, bool]]:
    """The mapping and list nodes inside ``node``, with their key paths; refuses a duplicate key."""
    found: list[tuple[Any, Path, bool]] = []
    if node.id == "sequence":
        for index, item in enumerate(node.value):
            if item.id != "scalar":
                found.append((item, (*path, index), False))
        return found
    seen: set[str] = set()
    for key, value in node.value:
        name: str | None = None
        if key.id != "scalar":  # a mapping or list as a key: refused later, measured now
            found.append((key, path, False))
        elif key.tag != _MERGE:  # several merge keys (<<) are allowed
            name = key.value
            # PyYAML keeps the last of two equal keys silently; in a methodology that
            # hides a mistake (two 'target's, two records with one name), so refuse.
            if name in seen:
                raise SyntaxProblem(
                    f"duplicate key {name!r}: each key may appear once in a mapping",
                    line=key.start_mark.line + 1,
                    column=key.start_mark.column + 1,
                    path=(*path, name),
                )
            seen.add(name)
        if value.id != "scalar":
            found.append((value, (*path, name) if name is not None else path, False))
    return found


_MERGE: Final = "tag:yaml.org,2002:merge"


def _measure(node: Any, measured: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """A container's expanded size and height, from its children's (refused past MAX_DEPTH)."""
    size, height = 1, 0
    parts = [part for pair in node.value for part in pair] if node.id == "mapping" else node.value
    for part in parts:
        # A scalar, or an alias to an enclosing node (the data is recursive, refused later), counts one.
        child_size, child_height = measured.get(id(part), (1, 0))
        size += child_size
        height = max(height, child_height)
    height += 1
    if height > MAX_DEPTH:
        raise SyntaxProblem(_TOO_DEEP)
    return size, height


class _DuplicateKeys(dict[str, Any]):
    """A JSON object that had a key twice (json keeps the last one silently)."""

    duplicate: str = ""


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    duplicate = None
    for key, value in pairs:
        if key in result and duplicate is None:
            duplicate = key
        result[key] = value
    if duplicate is None:
        return result
    marked = _DuplicateKeys(result)
    marked.duplicate = duplicate
    return marked


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise SyntaxProblem(f"invalid JSON: a number of more than {MAX_DIGITS} digits")
    return int(digits)


def _reject_constant(name: str) -> object:
    raise SyntaxProblem(f"invalid JSON: {name} is not a JSON number")


def _find_duplicate(data: object, path: Path) -> Path | None:
    if isinstance(data, _DuplicateKeys):
        return (*path, data.duplicate)
    if isinstance(data, dict):
        for key, value in data.items():
            found = _find_duplicate(value, (*path, key))
            if found:
                return found
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found = _find_duplicate(item, (*path, index))
            if found:
                return found
    return None


def _parse_json(text: str) -> object:
    try:
        data = json.loads(
            text, object_pairs_hook=_json_object, parse_constant=_reject_constant, parse_int=_bounded_int
        )
    except json.JSONDecodeError as error:
        raise SyntaxProblem(f"invalid JSON: {error.msg}", line=error.lineno, column=error.colno) from error
    duplicate = _find_duplicate(data, ())
    if duplicate is not None:
        raise SyntaxProblem(
            f"duplicate key {duplicate[-1]!r}: each key may appear once in an object", path=duplicate
        )
    return data


_TOML_POSITION: Final = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_END: Final = re.compile(r"\s*\(at end of document\)$")


def _parse_toml(text: str) -> object:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib (3.11) puts the position only in its message: "... (at line 3, column 9)".
        message = str(error)
        line = column = None
        found = _TOML_POSITION.search(message)
        if found:
            line, column = int(found.group(1)), int(found.group(2))
            message = message[: found.start()]
        else:
            message = _TOML_END.sub(" at the end of the file", message)
        raise SyntaxProblem(f"invalid TOML: {message}", line=line, column=column) from error
    except ValueError as error:  # int() of a number past Python's digit limit
        raise SyntaxProblem(f"invalid TOML: {error}") from None


# --- writing ------------------------------------------------------------------


class EmitProblem(Exception):
    """Data the chosen format cannot hold (TOML has no null)."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def emit(data: Mapping[str, Any], fmt: str, *, omit_if_none: frozenset[str] = frozenset()) -> str:
    """Write plain data as text in one of :data:`FORMATS`, ending with a newline.

    Args:
        data: JSON-compatible data with a mapping at the top.
        fmt: ``"yaml"``, ``"toml"`` or ``"json"``.
        omit_if_none: keys that TOML may leave out when None (absent means null).

    Raises:
        EmitProblem: TOML cannot hold a null elsewhere.
    """
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "yaml":
        return _emit_yaml(data)
    if fmt == "toml":
        return _TomlWriter(omit_if_none).document(data)
    raise ValueError(f"unknown format {fmt!r}")


# With allow_unicode PyYAML writes NEL, LS, PS and CR as they are, and reads them back as
# line breaks (folded to spaces); control characters need escapes too. Double quotes escape them.
_NEEDS_ESCAPES: Final = re.compile(
    r"[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_WORD: Final = re.compile(r"[A-Za-z0-9_.-]+")


def _is_short_word_list(value: list[Any]) -> bool:
    """Step ids, record names, choices: short enough to read as ``[a, b, c]``; prose is not."""
    words = all(isinstance(v, str) and _WORD.fullmatch(v) for v in value)
    return words and sum(len(v) + 2 for v in value) <= 72


_FLOW_WIDTH: Final = 72


def _depth(value: object) -> int:
    if isinstance(value, Mapping):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def _fits_one_line(value: Mapping[str, Any]) -> bool:
    """A small mapping (a field, a guard, a short step) reads best on one line; a record does not.

    Mappings of mappings only (``fields``) stay one entry a line, whatever their size.
    """
    has_scalar = any(not isinstance(v, Mapping | list) for v in value.values())
    return has_scalar and _depth(value) <= 2 and _flow_size(value) <= _FLOW_WIDTH


def _flow_size(value: object) -> int:
    """About how long ``value`` is written on one line, or more than the width if it should not be."""
    too_long = _FLOW_WIDTH + 1
    if isinstance(value, dict):
        if not value:
            return 2
        return sum(len(k) + 2 + _flow_size(v) for k, v in value.items()) + 2
    if isinstance(value, list):
        return sum(len(v) + 2 for v in value) + 2 if _is_short_word_list(value) or not value else too_long
    if isinstance(value, str):
        return len(value) + 2 if not _NEEDS_ESCAPES.search(value) and "\n" not in value else too_long
    return len(str(value))


def _yaml_dumper() -> type[yaml.SafeDumper]:
    import_yaml()  # for its message when PyYAML is missing
    import yaml

    class Dumper(yaml.SafeDumper):
        # Overrides keep PyYAML's signatures, used or not.
        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: ARG002
            # Indent list items under their key: the layout people write by hand.
            super().increase_indent(flow, False)

        def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002
            return True

    def text(dumper: Any, value: str) -> Any:
        if _NEEDS_ESCAPES.search(value):
            style: str | None = '"'
        else:
            style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    def sequence(dumper: Any, value: list[Any]) -> Any:
        flow = _is_short_word_list(value)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)

    def mapping(dumper: Any, value: dict[str, Any]) -> Any:
        flow = _fits_one_line(value)
        return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=flow)

    Dumper.add_representer(str, text)
    Dumper.add_representer(list, sequence)
    Dumper.add_representer(dict, mapping)
    return Dumper


def _emit_yaml(data: Mapping[str, Any]) -> str:
    yaml = import_yaml()
    text: str = yaml.dump(
        dict(data),
        Dumper=_yaml_dumper(),
        sort_keys=False,
        allow_unicode=True,
        width=1_000_000,  # never fold prose: a folded line looks like two lines to an editor
        default_flow_style=False,
    )
    return text


_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")
_TOML_ESCAPES: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_INLINE_WIDTH: Final = 88


def _toml_string(value: str) -> str:
    out = []
    for char in value:
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _is_table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


@attrs.frozen
class _TomlWriter:
    omit_if_none: frozenset[str]

    def document(self, data: Mapping[str, Any]) -> str:
        lines: list[str] = []
        self._table(lines, (), data, header=None)
        return "\n".join(lines).strip("\n") + "\n"

    def _skip(self, key: str, value: object, path: Path) -> bool:
        if value is not None:
            return False
        if key in self.omit_if_none:
            return True
        raise EmitProblem("TOML has no null; write this methodology as YAML or JSON", path=(*path, key))

    def _table(self, lines: list[str], path: Path, table: Mapping[str, Any], header: str | None) -> None:
        entries = [(k, v) for k, v in table.items() if not self._skip(k, v, path)]
        inline = [(k, v) for k, v in entries if not self._nested(k, v, path)]
        if header is not None and (inline or not entries or header.startswith("[[")):
            lines.extend(("", header))
        for key, value in inline:
            lines.append(f"{_toml_key(key)} = {self._value(value, (*path, key), multiline=True)}")
        for key, value in entries:
            if not self._nested(key, value, path):
                continue
            dotted = ".".join(_toml_key(str(p)) for p in (*path, key) if isinstance(p, str))
            if _is_table_array(value):
                for index, item in enumerate(value):
                    self._table(lines, (*path, key, index), item, header=f"[[{dotted}]]")
            else:
                self._table(lines, (*path, key), value, header=f"[{dotted}]")

    def _nested(self, key: str, value: object, path: Path) -> bool:
        """Whether a value gets its own [table] or [[array of tables]] instead of `key = value`."""
        if _is_table_array(value):
            return True
        if not isinstance(value, Mapping) or not value:
            return False
        if not _fits_one_line(value) or any(_is_table_array(v) for v in value.values()):
            return True
        # Small tables read best inline; inline tables must fit on one line in TOML 1.0.
        try:
            rendered = self._value(value, (*path, key), multiline=False)
        except EmitProblem:
            return True
        return len(key) + 3 + len(rendered) > _INLINE_WIDTH

    def _value(self, value: object, path: Path, *, multiline: bool) -> str:
        if value is None:
            raise EmitProblem("TOML has no null; write this methodology as YAML or JSON", path=path)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if math.isnan(value):
                return "nan"
            if math.isinf(value):
                return "inf" if value > 0 else "-inf"
            return repr(value)
        if isinstance(value, str):
            return _toml_string(value)
        if isinstance(value, list):
            items = [self._value(v, (*path, i), multiline=False) for i, v in enumerate(value)]
            one_line = "[" + ", ".join(items) + "]"
            if not multiline or len(one_line) + len(str(path[-1])) + 3 <= _INLINE_WIDTH:
                return one_line
            return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
        if isinstance(value, Mapping):
            parts = [
                f"{_toml_key(k)} = {self._value(v, (*path, k), multiline=False)}"
                for k, v in value.items()
                if not self._skip(k, v, path)
            ]
            return "{ " + ", ".join(parts) + " }" if parts else "{}"
        raise EmitProblem(f"cannot write {type(value).__name__} to TOML", path=path)
