"""Diagrams show exactly the methodology's edges, highlight a case truthfully, and render.

Both text formats are parsed back (strictly: every line must be understood)
into edge sets and compared with the methodology's (action, source, target)
triples, for the built-ins and for random methodologies. The DOT is also read
back by Graphviz itself, and the SVG really renders.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import sys
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import resolveflow
from resolveflow import Action, Methodology, Outcome, Step
from resolveflow.diagrams import to_dot, to_mermaid, to_svg
from resolveflow.guards import AfterStep, Rule
from resolveflow.methodologies import BUILTINS
from tests._builtin_support import as_json, happy_path
from tests.conftest import FakeClock

HAVE_DOT = shutil.which("dot") is not None
# CI installs Graphviz (scripts/_system.sh), so there a missing dot is a failure, not a skip.
needs_dot = pytest.mark.skipif(
    not HAVE_DOT and os.environ.get("CI") != "true", reason="Graphviz 'dot' is not installed"
)

Triple = tuple[str, str, str]  # (action, source, target)


def flat(text: str) -> str:
    """A title as diagrams show it: one line, without control characters (not allowed in SVG)."""
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") or c in "\ufffe\uffff" else c for c in text)
    return " ".join(kept.split())


def triples(methodology: Methodology) -> set[Triple]:
    return {
        (action.name, source, action.target_from(source))
        for action in methodology.actions
        for source in action.sources
    }


def guard_names(methodology: Methodology) -> dict[Triple, tuple[str, ...]]:
    return {
        (action.name, source, action.target_from(source)): tuple(g.name for g in action.guards)
        for action in methodology.actions
        for source in action.sources
    }


def walked(methodology: Methodology, steps: int, clock: FakeClock) -> resolveflow.Case:
    """A case of a built-in that took the first ``steps`` actions of its happy path, evidence as JSON."""
    case = resolveflow.open_case(methodology, case_id="DIAGRAM-1", clock=clock)
    for action, make in happy_path(methodology)[:steps]:
        clock.advance(minutes=5)
        case.fire(action, as_json(make(clock)), actor="agent-7")
    return case


# --- reading Mermaid back -------------------------------------------------------------


@attrs.define
class MermaidDiagram:
    titles: dict[str, str] = attrs.field(factory=dict)
    starts: list[str] = attrs.field(factory=list)
    ends: list[str] = attrs.field(factory=list)
    edges: dict[Triple, tuple[tuple[str, ...], str]] = attrs.field(factory=dict)  # -> (guards, mark)
    class_defs: set[str] = attrs.field(factory=set)
    classes: dict[str, set[str]] = attrs.field(factory=dict)


M_STATE = re.compile(r'    state "([^"\n]*)" as (\w+)')
M_START = re.compile(r"    \[\*\] --> (\w+)")
M_END = re.compile(r"    (\w+) --> \[\*\]")
M_EDGE = re.compile(r"    (\w+) --> (\w+) : (\w+)(?: \[(\w+(?:, \w+)*)\])?(?: (✓(?:×\d+)?))?")
M_CLASSDEF = re.compile(r"    classDef (\w+) [^\s;]+")
M_CLASS = re.compile(r"    class (\w+(?:,\w+)*) (\w+)")
M_ENTITY = re.compile(r"#(\w+);")


def mermaid_node(name: str) -> str:
    # to_mermaid writes a step whose id is a Mermaid keyword as _<id>; no step id starts with "_".
    return name[1:] if name.startswith("_") else name


def mermaid_unescape(text: str) -> str:
    def entity(match: re.Match[str]) -> str:
        name = match.group(1)
        return chr(int(name)) if name.isdigit() else html.unescape(f"&{name};")

    return M_ENTITY.sub(entity, text)


def parse_mermaid(text: str) -> MermaidDiagram:
    assert text.endswith("\n")
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    diagram = MermaidDiagram()
    for line in lines[1:]:
        if match := M_STATE.fullmatch(line):
            title, node = match.groups()
            assert mermaid_node(node) not in diagram.titles, f"declared twice: {line!r}"
            diagram.titles[mermaid_node(node)] = mermaid_unescape(title)
        elif match := M_START.fullmatch(line):
            diagram.starts.append(mermaid_node(match.group(1)))
        elif match := M_END.fullmatch(line):
            diagram.ends.append(mermaid_node(match.group(1)))
        elif match := M_EDGE.fullmatch(line):
            source, target, action, guards, mark = match.groups()
            key = (action, mermaid_node(source), mermaid_node(target))
            assert key not in diagram.edges, f"edge drawn twice: {line!r}"
            diagram.edges[key] = (tuple(guards.split(", ")) if guards else (), mark or "")
        elif match := M_CLASSDEF.fullmatch(line):
            diagram.class_defs.add(match.group(1))
        elif match := M_CLASS.fullmatch(line):
            ids, name = match.groups()
            assert name not in diagram.classes, f"class applied twice: {line!r}"
            diagram.classes[name] = {mermaid_node(i) for i in ids.split(",")}
        else:
            raise AssertionError(f"unexpected Mermaid line: {line!r}")
    assert set(diagram.classes) <= diagram.class_defs, "a class is applied but never defined"
    return diagram


# --- reading DOT back -------------------------------------------------------------------

D_STRING = r'"(?:[^"\\]|\\.)*"'
D_ATTRS = rf"(?: \[((?:\w+={D_STRING}(?:, )?)*)\])?"
D_NODE = re.compile(rf"    ({D_STRING}){D_ATTRS};")
D_EDGE = re.compile(rf"    ({D_STRING}) -> ({D_STRING}){D_ATTRS};")
D_DEFAULTS = re.compile(rf"    (graph|node|edge){D_ATTRS};")
D_PAIR = re.compile(rf"(\w+)=({D_STRING})")


def dot_unescape(text: str) -> str:
    """Graphviz's label escapes as to_dot uses them: \\n is a line break, \\x is x."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text, flags=re.S)


def dot_unquote(text: str) -> str:
    assert text.startswith('"')
    assert text.endswith('"')
    return dot_unescape(text[1:-1])


def dot_attrs(text: str | None) -> dict[str, str]:
    pairs = D_PAIR.findall(text or "")
    assert len({k for k, _ in pairs}) == len(pairs), f"an attribute is set twice: {text}"
    return {key: dot_unquote(value) for key, value in pairs}


@attrs.define
class DotDiagram:
    name: str = ""
    nodes: dict[str, dict[str, str]] = attrs.field(factory=dict)
    start_edges: list[tuple[str, dict[str, str]]] = attrs.field(factory=list)
    edges: dict[Triple, dict[str, str]] = attrs.field(factory=dict)


def dot_edge_label(label: str) -> tuple[str, tuple[str, ...], str]:
    match = re.fullmatch(r"(\w+)(?:\n\[(\w+(?:, \w+)*)\])?(?: (✓(?:×\d+)?))?", label)
    assert match, f"unexpected edge label {label!r}"
    action, guards, mark = match.groups()
    return action, tuple(guards.split(", ")) if guards else (), mark or ""


def parse_dot(text: str) -> DotDiagram:
    lines = text.splitlines()
    assert text.endswith("}\n")
    header = re.fullmatch(rf"digraph ({D_STRING}) {{", lines[0])
    assert header, lines[0]
    diagram = DotDiagram(name=dot_unquote(header.group(1)))
    for line in lines[1:-1]:
        if D_DEFAULTS.fullmatch(line):
            continue
        if match := D_NODE.fullmatch(line):
            node = dot_unquote(match.group(1))
            assert node not in diagram.nodes, f"node declared twice: {line!r}"
            diagram.nodes[node] = dot_attrs(match.group(2))
        elif match := D_EDGE.fullmatch(line):
            source, target = dot_unquote(match.group(1)), dot_unquote(match.group(2))
            found = dot_attrs(match.group(3))
            if source == "__start__":
                diagram.start_edges.append((target, found))
                continue
            action, _, _ = dot_edge_label(found["label"])
            assert (action, source, target) not in diagram.edges, f"edge drawn twice: {line!r}"
            diagram.edges[(action, source, target)] = found
        else:
            raise AssertionError(f"unexpected DOT line: {line!r}")
    return diagram


def graphviz_edges(dot: str) -> set[Triple]:
    """The edges as Graphviz itself reads the DOT (its JSON output), not as our regexes do."""
    import graphviz

    data = json.loads(graphviz.pipe("dot", "json", dot.encode("utf-8")))
    names = {o["_gvid"]: o["name"] for o in data["objects"]}
    found = set()
    for edge in data.get("edges", []):
        source, target = names[edge["tail"]], names[edge["head"]]
        if source != "__start__":
            found.add((dot_edge_label(dot_unescape(edge["label"]))[0], source, target))
    return found


# --- the model, exactly ------------------------------------------------------------------


def assert_mermaid_is_the_model(methodology: Methodology, text: str) -> MermaidDiagram:
    diagram = parse_mermaid(text)
    assert set(diagram.edges) == triples(methodology)
    assert {k: guards for k, (guards, _) in diagram.edges.items()} == guard_names(methodology)
    assert diagram.starts == [methodology.initial]
    assert diagram.ends == [o.id for o in methodology.outcomes]
    assert list(diagram.titles) == list(methodology.step_ids)
    for node_id, title in diagram.titles.items():
        # Never empty: Mermaid rejects state "" as x, so a title of only control characters shows the id.
        assert title == (flat(methodology.node(node_id).title) or node_id)
    assert diagram.classes.get("successful", set()) == set(methodology.successful_outcomes)
    assert diagram.classes.get("unsuccessful", set()) == {
        o.id for o in methodology.outcomes if not o.successful
    }
    return diagram


def assert_dot_is_the_model(methodology: Methodology, text: str) -> DotDiagram:
    diagram = parse_dot(text)
    assert diagram.name == methodology.id
    assert set(diagram.edges) == triples(methodology)
    labels = {k: dot_edge_label(a["label"]) for k, a in diagram.edges.items()}
    assert {k: guards for k, (_, guards, _) in labels.items()} == guard_names(methodology)
    assert [target for target, _ in diagram.start_edges] == [methodology.initial]
    assert list(diagram.nodes) == ["__start__", *methodology.step_ids]
    for node_id in methodology.step_ids:
        node = methodology.node(node_id)
        found = diagram.nodes[node_id]
        assert found["tooltip"] == node_id
        assert " ".join(found["label"].split()) == (flat(node.title) or node_id)
        assert (found.get("shape") == "doublecircle") == isinstance(node, Outcome)
    return diagram


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_mermaid_has_exactly_the_builtins_edges(methodology: Methodology) -> None:
    diagram = assert_mermaid_is_the_model(methodology, to_mermaid(methodology))
    assert all(mark == "" for _, mark in diagram.edges.values()), "no case, nothing is marked taken"
    assert not {"visited", "current"} & (set(diagram.classes) | diagram.class_defs)


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_dot_has_exactly_the_builtins_edges(methodology: Methodology) -> None:
    text = to_dot(methodology)
    diagram = assert_dot_is_the_model(methodology, text)
    assert all("penwidth" not in a for a in diagram.edges.values()), "no case, nothing is highlighted"
    if HAVE_DOT:
        assert graphviz_edges(text) == triples(methodology)


def test_a_methodology_id_draws_the_registered_methodology() -> None:
    four_steps = resolveflow.get_methodology("four-steps")
    assert to_mermaid("four-steps") == to_mermaid(four_steps)
    assert to_dot("four-steps") == to_dot(four_steps)


def test_guard_labels_are_names_and_loops_are_drawn_on_their_step() -> None:
    mermaid = to_mermaid(resolveflow.get_methodology("seven-as", "1.0"))
    assert "    act --> act : complete_item [plan_recorded, plan_has_open_items, plan_item_open]\n" in mermaid
    assert "    agree --> act : agree_plan [plan_is_sound]\n" in mermaid
    assert "    give_apology" not in mermaid  # an action is never drawn as a node
    dot = to_dot(resolveflow.get_methodology("five-steps", "1.0"))
    # One loop per source of a stay-put action.
    for step in ("analyze", "decide", "address", "evaluate"):
        assert f'"{step}" -> "{step}" [label="apologize\\n[account_heard_before_apology]"' in dot


@pytest.mark.parametrize("draw", [to_mermaid, to_dot], ids=["mermaid", "dot"])
@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_output_is_deterministic(draw: Any, methodology: Methodology, clock: FakeClock) -> None:
    # An equal methodology built anew (not the same object) draws the same text.
    copy = attrs.evolve(methodology)
    assert copy is not methodology
    assert draw(methodology) == draw(copy)
    case = walked(methodology, 2, clock)
    assert draw(methodology, case=case) == draw(methodology, case=case)


# --- random methodologies --------------------------------------------------------------

STEP_IDS = ("s0", "s1", "s2", "s3", "s4")
OUTCOME_IDS = ("win", "lose")
titles = st.text(min_size=1, max_size=30).filter(lambda t: t.strip() != "")


@st.composite
def random_methodologies(draw: st.DrawFn) -> Methodology:
    """Steps s0..s4 (a prefix), outcomes win/lose, random multi-source, looping and guarded actions."""
    count = draw(st.integers(1, len(STEP_IDS)))
    steps = STEP_IDS[:count]
    targets = st.one_of(st.none(), st.sampled_from([*steps, *OUTCOME_IDS]))
    actions = []
    for index in range(draw(st.integers(0, 7))):
        sources = draw(st.lists(st.sampled_from(steps), min_size=1, max_size=count, unique=True))
        guards: list[Any] = [AfterStep(step=s) for s in draw(st.lists(st.sampled_from(steps), unique=True))]
        if draw(st.booleans()):
            guards.append(Rule(name=f"rule_{index}", message="A rule.", predicate=lambda ctx: True))
        action_title = draw(titles)
        actions.append(
            Action(name=f"a{index}", sources=sources, target=draw(targets), title=action_title, guards=guards)
        )
    return Methodology(
        id="random",
        version="1.0",
        title=draw(titles),
        source="hypothesis",
        steps=[Step(id=s, title=draw(titles)) for s in steps],
        outcomes=[
            Outcome(id="win", title=draw(titles), successful=True),
            Outcome(id="lose", title=draw(titles), successful=False),
        ],
        actions=actions,
        initial=draw(st.sampled_from(steps)),
        required_steps=[steps[0]],
    )


@given(random_methodologies())
def test_mermaid_has_exactly_the_edges_of_random_methodologies(methodology: Methodology) -> None:
    assert_mermaid_is_the_model(methodology, to_mermaid(methodology))


@given(random_methodologies())
def test_dot_has_exactly_the_edges_of_random_methodologies(methodology: Methodology) -> None:
    text = to_dot(methodology)
    assert_dot_is_the_model(methodology, text)
    if HAVE_DOT:
        # Arbitrary titles (quotes, backslashes, newlines, controls) break neither the DOT nor the SVG.
        assert graphviz_edges(text) == triples(methodology)
        ET.fromstring(to_svg(methodology).encode("utf-8"))


# --- text Mermaid would misread --------------------------------------------------------


def one_step(step_id: str = "listen", title: str = "Listen", outcome_title: str = "Done") -> Methodology:
    return Methodology(
        id="tiny",
        version="1.0",
        title="Tiny",
        source="tests",
        steps=[Step(id=step_id, title=title)],
        outcomes=[Outcome(id="done", title=outcome_title, successful=True)],
        actions=[
            Action(name="note_it", sources=step_id, target=None, title="Note"),
            Action(name="finish", sources=step_id, target="done", title="Finish"),
        ],
        initial=step_id,
        required_steps=[step_id],
    )


@pytest.mark.parametrize("keyword", ["state", "note", "class", "classdef", "default", "style", "click"])
def test_step_ids_that_are_mermaid_keywords_are_prefixed(keyword: str) -> None:
    methodology = one_step(keyword)
    text = to_mermaid(methodology)
    # Mermaid reads "state --> x" or "note ..." as the start of another statement.
    names = re.findall(r"(\w+) -->|--> (\w+)|as (\w+)$|^    class (\w+)", text, flags=re.M)
    assert keyword not in {name for found in names for name in found}, text
    assert f'    state "Listen" as _{keyword}\n' in text
    assert f"    _{keyword} --> _{keyword} : note_it\n" in text
    assert_mermaid_is_the_model(methodology, text)
    assert_dot_is_the_model(methodology, to_dot(methodology))


@pytest.mark.parametrize(
    "title",
    [
        'Say "sorry"',
        "Case #12; urgent",
        "Note: call back",
        "Set direction LR now",
        '%%{init: {"theme": "dark"}}%%',
        "<b>bold</b> & co",
        "two\nlines",
        "back\\slash",
    ],
)
def test_titles_are_escaped_for_mermaid_and_dot(title: str) -> None:
    methodology = one_step(title=title, outcome_title=title)
    mermaid = to_mermaid(methodology)
    body = "\n".join(line for line in mermaid.splitlines() if line.lstrip().startswith("state "))
    for line in body.splitlines():
        description = M_STATE.fullmatch(line)
        assert description, line
        raw = M_ENTITY.sub("", description.group(1))
        assert not set(raw) & set(':;#%<>&"'), f"unescaped character in {line!r}"
        assert not re.search(r"direction\s+(tb|bt|rl|lr)", raw, flags=re.I)
    assert_mermaid_is_the_model(methodology, mermaid)
    dot = to_dot(methodology)
    assert_dot_is_the_model(methodology, dot)
    if HAVE_DOT:
        assert graphviz_edges(dot) == triples(methodology)


# --- highlighting a case -----------------------------------------------------------------


def walks() -> list[tuple[Methodology, int]]:
    """Each built-in at the start, after one and two actions, and at the end of its happy path."""
    cases = []
    for methodology in BUILTINS:
        for steps in sorted({0, 1, 2, len(happy_path(methodology))}):
            cases.append((methodology, steps))
    return cases


@pytest.mark.parametrize(
    ("methodology", "steps"), walks(), ids=lambda v: v.id if isinstance(v, Methodology) else str(v)
)
def test_a_case_is_highlighted_where_it_is_and_where_it_went(
    methodology: Methodology, steps: int, clock: FakeClock
) -> None:
    case = walked(methodology, steps, clock)
    assert len(case.history) == steps
    taken = Counter((e.action, e.from_step, e.step) for e in case.history)
    visited = set(case.path) - {case.step}

    mermaid = assert_mermaid_is_the_model(methodology, to_mermaid(methodology, case=case))
    assert mermaid.classes["current"] == {case.step}
    assert mermaid.classes.get("visited", set()) == visited
    for triple, (_, mark) in mermaid.edges.items():
        times = taken[triple]
        assert mark == ("" if times == 0 else "✓" if times == 1 else f"✓×{times}"), triple

    dot = assert_dot_is_the_model(methodology, to_dot(methodology, case=case))
    current = dot.nodes[case.step]
    assert (current["color"], current["penwidth"]) == ("#e8590c", "3")
    for node_id in methodology.step_ids:
        if node_id in visited:
            assert (dot.nodes[node_id]["color"], dot.nodes[node_id]["penwidth"]) == ("#1971c2", "2")
        elif node_id != case.step:
            assert "penwidth" not in dot.nodes[node_id]
    assert dot.start_edges[0][1].get("color") == "#1971c2", "every case starts at the initial step"
    for triple, found in dot.edges.items():
        assert (found.get("color") == "#1971c2") == (taken[triple] > 0), triple
        assert dot_edge_label(found["label"])[2] == mermaid.edges[triple][1]


def test_a_loop_taken_twice_is_counted(clock: FakeClock) -> None:
    seven_as = resolveflow.get_methodology("seven-as", "1.0")
    case = walked(seven_as, 7, clock)  # agree_plan, then complete_item for both plan items
    assert case.step == "act"
    text = to_mermaid(seven_as, case=case)
    assert (
        "    act --> act : complete_item [plan_recorded, plan_has_open_items, plan_item_open] ✓×2\n" in text
    )
    assert "    class act current\n" in text


def test_a_closed_case_keeps_its_outcome_colour(clock: FakeClock) -> None:
    prescription = resolveflow.get_methodology("prescription", "1.0")
    case = resolveflow.open_case(prescription, case_id="P-9", clock=clock)
    case.fire(
        "acknowledge_problem",
        json.loads('{"customer_perspective": "Charged twice.", "accepts_accountability": true}'),
        actor="ana",
    )
    case.fire(
        "declare_cannot_satisfy", json.loads('{"reason": "Wants a refund of every order."}'), actor="ana"
    )
    mermaid = parse_mermaid(to_mermaid(prescription, case=case))
    assert mermaid.classes["unsuccessful"] == {"cannot_satisfy"}
    assert mermaid.classes["current"] == {"cannot_satisfy"}
    assert mermaid.classes["visited"] == {"acknowledge", "remedy_now"}
    node = parse_dot(to_dot(prescription, case=case)).nodes["cannot_satisfy"]
    assert (node["shape"], node["fillcolor"], node["color"]) == ("doublecircle", "#ffe3e3", "#e8590c")


def test_a_case_of_another_methodology_is_refused(clock: FakeClock) -> None:
    case = resolveflow.open_case("engage", case_id="E-1", clock=clock)
    for draw in (to_mermaid, to_dot, to_svg):
        with pytest.raises(resolveflow.InvalidInput, match=r"case: the case runs engage@1\.1") as info:
            draw("four-steps", case=case)
        assert info.value.argument == "case"
        with pytest.raises(resolveflow.InvalidInput, match="expected a Case"):
            draw("four-steps", case="E-1")  # type: ignore[arg-type]


def test_bad_methodology_arguments() -> None:
    with pytest.raises(resolveflow.UnknownMethodology):
        to_mermaid("no-such-flow")
    with pytest.raises(resolveflow.InvalidInput, match="expected a Methodology or a methodology id"):
        to_dot(42)  # type: ignore[arg-type]


# --- SVG ---------------------------------------------------------------------------------

SVG_NS = "{http://www.w3.org/2000/svg}"


@needs_dot
@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_svg_renders_every_step(methodology: Methodology, clock: FakeClock) -> None:
    for case in (None, walked(methodology, 2, clock)):
        svg = to_svg(methodology, case=case)
        root = ET.fromstring(svg.encode("utf-8"))
        assert root.tag == f"{SVG_NS}svg"
        node_titles = {
            group.findtext(f"{SVG_NS}title")
            for group in root.iter(f"{SVG_NS}g")
            if group.get("class") == "node"
        }
        assert node_titles == {"__start__", *methodology.step_ids}
        for step_id in methodology.step_ids:
            assert step_id in svg


def test_mermaid_and_dot_need_no_graphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    assert to_mermaid("engage").startswith("stateDiagram-v2\n")
    assert to_dot("engage").startswith('digraph "engage" {\n')


def test_svg_without_the_graphviz_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(resolveflow.ResolveflowError) as info:
        to_svg("engage")
    message = str(info.value)
    assert "'graphviz' Python package" in message
    assert "pip install 'resolveflow[diagrams]'" in message
    assert "Graphviz system package" in message
    assert isinstance(info.value.__cause__, ImportError)


def test_svg_without_the_dot_program_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import graphviz  # noqa: F401 - the test extra installs it: its absence must fail, not skip

    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot on PATH
    with pytest.raises(resolveflow.ResolveflowError) as info:
        to_svg("engage")
    message = str(info.value)
    assert "'dot' program, which was not found on PATH" in message
    assert "pip install 'resolveflow[diagrams]'" in message
    assert "apt-get install graphviz" in message
