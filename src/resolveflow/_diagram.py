"""Diagrams of a methodology, drawn from the model: Mermaid, Graphviz DOT and SVG.

Every drawing is computed from the :class:`~resolveflow.Methodology` itself, one
edge per action and source step, so it shows exactly the transitions a case can
take: a hand-drawn diagram drifts, a generated one cannot. Given a case, the
drawing also shows where the case is, the steps it went through and the edges
it took.

Mermaid and DOT are plain text and need nothing installed. SVG renders the DOT
with Graphviz, which is optional and imported only when an SVG is asked for.
"""

from __future__ import annotations

import importlib
import re
import textwrap
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Final

import attrs

from resolveflow._case import Case
from resolveflow._methodology import Methodology, Outcome, Step
from resolveflow._registry import resolve as _resolve
from resolveflow.exceptions import DiagramUnavailable, InvalidInput

_INSTALL_HINT: Final = (
    "install the Python package with pip install 'resolveflow[diagrams]' and the Graphviz system "
    "package that provides the 'dot' program (apt-get install graphviz, brew install graphviz, "
    "or see https://graphviz.org/download/)"
)

# One palette for both formats, so a Mermaid page and an SVG of the same case look alike.
_SUCCESS_FILL, _SUCCESS_LINE = "#d3f9d8", "#2b8a3e"
_FAILURE_FILL, _FAILURE_LINE = "#ffe3e3", "#c92a2a"
_VISITED = "#1971c2"
_CURRENT = "#e8590c"
_PLAIN = "#495057"

# Highlighting only touches the border, never the fill: a closed case's current
# step is an outcome, and it must keep its successful / unsuccessful colour.
_MERMAID_CLASSES: Final = {
    "successful": f"fill:{_SUCCESS_FILL},stroke:{_SUCCESS_LINE},color:#1b4332",
    "unsuccessful": f"fill:{_FAILURE_FILL},stroke:{_FAILURE_LINE},color:#5c1111",
    "visited": f"stroke:{_VISITED},stroke-width:2px",
    "current": f"stroke:{_CURRENT},stroke-width:4px,font-weight:bold",
}

# These words open statements in Mermaid's state-diagram grammar (checked against
# Mermaid 11), so a step with such an id breaks the parse when named bare. A leading
# underscore, which no step id can have, keeps it apart from every real id.
_MERMAID_RESERVED: Final = frozenset(
    {
        "accdescr",
        "acctitle",
        "class",
        "classdef",
        "click",
        "default",
        "href",
        "note",
        "scale",
        "state",
        "statediagram",
        "style",
    }
)
# Mermaid reads "#name;" as an entity, so these become entities themselves: quotes
# end a state's description, ':' and ';' end a transition label, '%' can open a
# directive, and '<', '>', '&' would otherwise be taken for markup.
_MERMAID_ENTITIES: Final = {
    '"': "#quot;",
    "#": "#35;",
    ";": "#59;",
    ":": "#58;",
    "%": "#37;",
    "&": "#amp;",
    "<": "#lt;",
    ">": "#gt;",
}
# Mermaid turns any line containing "direction LR" (TB, BT, RL) into a layout
# statement, wherever it occurs; writing the 'd' as an entity defuses it.
_MERMAID_DIRECTION: Final = re.compile(r"d(?=irection\s+(?:tb|bt|rl|lr))", re.IGNORECASE)

# Not a valid step id (those start with a letter), so it never clashes with one.
_DOT_START: Final = "__start__"
_OUTCOME_WRAP: Final = 14


@attrs.frozen(kw_only=True)
class _Trail:
    """What a case adds to a drawing: where it is, where it was, which edges it took."""

    current: str | None = None
    visited: frozenset[str] = frozenset()
    taken: Mapping[tuple[str, str], int] = attrs.field(factory=dict)  # (action, source) -> times


@attrs.frozen(kw_only=True)
class _Edge:
    source: str
    target: str
    action: str
    title: str
    guards: tuple[str, ...]
    guard_notes: tuple[str, ...]
    taken: int

    def label(self, separator: str) -> str:
        """``action [guard, guard] ✓``: the guards after ``separator`` (a space, or a line break)."""
        guards = f"{separator}[{', '.join(self.guards)}]" if self.guards else ""
        return f"{self.action}{guards}{_taken_mark(self.taken)}"


def _taken_mark(times: int) -> str:
    # Mermaid state diagrams cannot style one edge, so the label carries the mark;
    # the count tells a loop taken three times from one taken once.
    if times == 0:
        return ""
    return " ✓" if times == 1 else f" ✓×{times}"


def _trail(methodology: Methodology, case: Case | None) -> _Trail:
    if case is None:
        return _Trail()
    if not isinstance(case, Case):
        raise InvalidInput(f"expected a Case or None, got {type(case).__name__}", argument="case")
    if case.methodology != methodology:
        ran = case.methodology
        raise InvalidInput(
            f"the case runs {ran.id}@{ran.version}, not {methodology.id}@{methodology.version}; "
            "draw it with case.methodology",
            argument="case",
        )
    taken = Counter((entry.action, entry.from_step) for entry in case.history)
    return _Trail(current=case.step, visited=frozenset(case.path) - {case.step}, taken=dict(taken))


def _one_line(text: str) -> str:
    """Text for a label: whitespace runs become one space, and control characters go.

    A newline would end a Mermaid statement, and control characters (or U+FFFE,
    U+FFFF) are not allowed in the XML of an SVG.
    """
    kept = "".join(
        " " if unicodedata.category(char) in ("Cc", "Cs") or char in "\ufffe\uffff" else char for char in text
    )
    return " ".join(kept.split())


def _title(node: Step | Outcome) -> str:
    # A title of nothing but control characters would be an empty label; Mermaid rejects that.
    return _one_line(node.title) or node.id


def _nodes(methodology: Methodology) -> tuple[Step | Outcome, ...]:
    return (*methodology.steps, *methodology.outcomes)


def _edges(methodology: Methodology, trail: _Trail) -> list[_Edge]:
    """One edge per (action, source), in declaration order: the output is deterministic."""
    return [
        _Edge(
            source=source,
            target=action.target_from(source),
            action=action.name,
            title=action.title,
            guards=tuple(guard.name for guard in action.guards),
            guard_notes=tuple(guard.describe() for guard in action.guards),
            taken=trail.taken.get((action.name, source), 0),
        )
        for action in methodology.actions
        for source in action.sources
    ]


def _classes(methodology: Methodology, trail: _Trail) -> dict[str, list[str]]:
    """Step ids per style class, classes in a fixed order; a closed case's outcome gets two."""
    return {
        "successful": [o.id for o in methodology.outcomes if o.successful],
        "unsuccessful": [o.id for o in methodology.outcomes if not o.successful],
        "visited": [n.id for n in _nodes(methodology) if n.id in trail.visited],
        "current": [n.id for n in _nodes(methodology) if n.id == trail.current],
    }


# --- Mermaid ----------------------------------------------------------------------------


def _mermaid_id(step_id: str) -> str:
    return f"_{step_id}" if step_id in _MERMAID_RESERVED else step_id


def _mermaid_text(text: str) -> str:
    escaped = "".join(_MERMAID_ENTITIES.get(char, char) for char in _one_line(text))
    return _MERMAID_DIRECTION.sub(lambda match: f"#{ord(match.group())};", escaped)


def to_mermaid(methodology: Methodology | str, *, case: Case | None = None) -> str:
    """A Mermaid ``stateDiagram-v2`` of a methodology, optionally showing a case on it.

    Step and outcome ids are the node ids (an id that is a Mermaid keyword, such
    as ``note``, is drawn as ``_note``) and titles are their descriptions. There
    is one edge per action and source step, labelled with the action's name and
    its guards' names in brackets; an action that stays where it is (target None)
    is a loop. Outcomes lead to ``[*]`` and are styled ``successful`` or
    ``unsuccessful``. With a case, its current step gets the ``current`` class,
    the other steps on its path ``visited``, and the label of each edge it took
    ends in ``✓`` (``✓×3`` when taken three times).

    Args:
        methodology: a Methodology, or the id of a registered one (latest version).
        case: a case of this methodology to highlight, or None.

    Returns:
        The diagram text, ending in a newline; the same input gives the same text.

    Raises:
        UnknownMethodology: the id is not registered.
        InvalidInput: ``case`` is not a Case of this methodology.

    Example:
        >>> print(to_mermaid("four-steps"))  # doctest: +ELLIPSIS
        stateDiagram-v2
            state "Listen" as listen
        ...
            [*] --> listen
            listen --> assess : hear_customer
            assess --> offer_solution : record_assessment [customer_account_first]
        ...
            resolved --> [*]
            classDef successful fill:#d3f9d8,stroke:#2b8a3e,color:#1b4332
            class resolved successful
        <BLANKLINE>
    """
    model = _resolve(methodology)
    trail = _trail(model, case)
    lines = ["stateDiagram-v2"]
    lines.extend(f'    state "{_mermaid_text(_title(n))}" as {_mermaid_id(n.id)}' for n in _nodes(model))
    lines.append(f"    [*] --> {_mermaid_id(model.initial)}")
    lines.extend(
        f"    {_mermaid_id(e.source)} --> {_mermaid_id(e.target)} : {_mermaid_text(e.label(' '))}"
        for e in _edges(model, trail)
    )
    lines.extend(f"    {_mermaid_id(o.id)} --> [*]" for o in model.outcomes)
    used = {name: ids for name, ids in _classes(model, trail).items() if ids}
    lines.extend(f"    classDef {name} {_MERMAID_CLASSES[name]}" for name in used)
    lines.extend(f"    class {','.join(map(_mermaid_id, ids))} {name}" for name, ids in used.items())
    return "\n".join(lines) + "\n"


# --- Graphviz ---------------------------------------------------------------------------


def _dot_string(text: str) -> str:
    # Backslashes are doubled so that Graphviz's label escapes (\N, \l ...) stay literal text.
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _dot_attrs(pairs: Iterable[tuple[str, str]]) -> str:
    # A later pair overrides an earlier one in place (a dict keeps the first position),
    # so each attribute is written once and the order stays fixed.
    return ", ".join(f"{key}={_dot_string(value)}" for key, value in dict(pairs).items())


def _dot_statement(subject: str, pairs: Iterable[tuple[str, str]]) -> str:
    return f"    {subject} [{_dot_attrs(pairs)}];"


def _dot_node(node: Step | Outcome, trail: _Trail) -> str:
    if isinstance(node, Outcome):
        fill, line = (_SUCCESS_FILL, _SUCCESS_LINE) if node.successful else (_FAILURE_FILL, _FAILURE_LINE)
        # A circle grows with its widest line: wrapping keeps a long title's circle small.
        label = textwrap.fill(
            _title(node), width=_OUTCOME_WRAP, break_long_words=False, break_on_hyphens=False
        )
        pairs = [("label", label), ("tooltip", node.id), ("shape", "doublecircle")]
        pairs += [("fillcolor", fill), ("color", line)]
    else:
        pairs = [("label", _title(node)), ("tooltip", node.id)]
    if node.id == trail.current:
        pairs += [("color", _CURRENT), ("penwidth", "3"), ("fontname", "Helvetica-Bold")]
    elif node.id in trail.visited:
        pairs += [("color", _VISITED), ("penwidth", "2")]
    return _dot_statement(_dot_string(node.id), pairs)


def _dot_edge(source: str, target: str, pairs: list[tuple[str, str]], taken: bool) -> str:
    if taken:
        pairs = [*pairs, ("color", _VISITED), ("fontcolor", _VISITED), ("penwidth", "2")]
    suffix = f" [{_dot_attrs(pairs)}]" if pairs else ""
    return f"    {_dot_string(source)} -> {_dot_string(target)}{suffix};"


def to_dot(methodology: Methodology | str, *, case: Case | None = None) -> str:
    """A Graphviz DOT digraph of a methodology, optionally showing a case on it.

    The same content as :func:`to_mermaid`: node names are the step and outcome
    ids (labelled with their titles), a start point leads to the initial step,
    outcomes are double circles, green when successful and red when not, and
    each action and source step is one edge labelled with the action's name and
    its guards' names in brackets (hover an edge in the SVG for the action's
    title and what each guard checks). With a case, the current step has a thick
    orange border, the other steps on its path a blue one, and the edges it took
    are blue, their labels marked ``✓`` as in Mermaid.

    Args:
        methodology: a Methodology, or the id of a registered one (latest version).
        case: a case of this methodology to highlight, or None.

    Returns:
        The DOT source, ending in a newline; the same input gives the same text.

    Raises:
        UnknownMethodology: the id is not registered.
        InvalidInput: ``case`` is not a Case of this methodology.

    Example:
        >>> print(to_dot("four-steps"))  # doctest: +ELLIPSIS
        digraph "four-steps" {
        ...
            "__start__" -> "listen";
            "listen" -> "assess" [label="hear_customer", tooltip="Customer's account recorded"];
        ...
        }
        <BLANKLINE>
    """
    model = _resolve(methodology)
    trail = _trail(model, case)
    title = f"{_one_line(model.title) or model.id} ({model.id} {model.version})"
    font = ("fontname", "Helvetica")
    box = [("shape", "box"), ("style", "rounded,filled"), ("fillcolor", "#ffffff"), ("color", _PLAIN), font]
    lines = [
        f"digraph {_dot_string(model.id)} {{",
        _dot_statement("graph", [("label", title), ("labelloc", "t"), font]),
        _dot_statement("node", box),
        _dot_statement("edge", [("color", _PLAIN), font, ("fontsize", "10")]),
        _dot_statement(_dot_string(_DOT_START), [("shape", "point"), ("width", "0.2"), ("label", "")]),
    ]
    lines.extend(_dot_node(node, trail) for node in _nodes(model))
    lines.append(_dot_edge(_DOT_START, model.initial, [], taken=case is not None))
    for edge in _edges(model, trail):
        notes = (f"{guard}: {note}" for guard, note in zip(edge.guards, edge.guard_notes, strict=True))
        tooltip = _one_line("; ".join([edge.title, *notes]))
        pairs = [("label", edge.label("\n")), ("tooltip", tooltip)]
        lines.append(_dot_edge(edge.source, edge.target, pairs, taken=edge.taken > 0))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _graphviz() -> ModuleType:
    try:
        # Imported here, not at the top: Mermaid and DOT work without the extra.
        return importlib.import_module("graphviz")
    except ImportError as error:
        raise DiagramUnavailable(
            f"SVG diagrams need the 'graphviz' Python package, which is not installed; {_INSTALL_HINT}. "
            "to_mermaid() and to_dot() need neither."
        ) from error


def to_svg(methodology: Methodology | str, *, case: Case | None = None) -> str:
    """An SVG image of :func:`to_dot`'s diagram, rendered by Graphviz.

    Needs the ``diagrams`` extra (``pip install 'resolveflow[diagrams]'``) and
    the Graphviz system package, whose ``dot`` program does the layout. Each
    step's node carries its id as the SVG ``<title>``.

    Args:
        methodology: a Methodology, or the id of a registered one (latest version).
        case: a case of this methodology to highlight, or None.

    Returns:
        The SVG document as text.

    Raises:
        ResolveflowError: the graphviz package or the ``dot`` program is
            missing (the message says how to install them), or Graphviz failed.
        UnknownMethodology: the id is not registered.
        InvalidInput: ``case`` is not a Case of this methodology.

    Example:
        >>> svg = to_svg("four-steps")
        >>> "<title>listen</title>" in svg
        True
    """
    source = to_dot(methodology, case=case)
    graphviz = _graphviz()
    try:
        svg: str = graphviz.Source(source).pipe(format="svg", encoding="utf-8", quiet=True)
    except graphviz.ExecutableNotFound as error:
        raise DiagramUnavailable(
            f"SVG diagrams need Graphviz's 'dot' program, which was not found on PATH; {_INSTALL_HINT}"
        ) from error
    except graphviz.CalledProcessError as error:
        detail = error.stderr.decode("utf-8", "replace").strip() if error.stderr else str(error)
        raise DiagramUnavailable(f"Graphviz could not render the diagram: {detail}") from error
    return svg
