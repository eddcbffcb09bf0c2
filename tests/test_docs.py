"""The documentation stays true: the quickstart runs, and each built-in has a complete page.

- Every ```python block of docs/quickstart.md runs, in order, in one namespace.
- Each built-in methodology's page (docs/methodologies/<id>.md) cites its
  source file and names every step, outcome and action (as inline code), and
  its Mermaid diagram has exactly the methodology's edges, with every guard
  name on the edge's label.
- Relative links between doc pages, including #anchors, resolve.
"""

from __future__ import annotations

import contextlib
import io
import re
import unicodedata
from pathlib import Path, PurePosixPath

import pytest

from resolveflow import Methodology
from resolveflow.methodologies import BUILTINS

DOCS = Path(__file__).resolve().parents[1] / "docs"
QUICKSTART = DOCS / "quickstart.md"
EDGE = re.compile(r"^\s*(\w+|\[\*\])\s*-->\s*(\w+|\[\*\])\s*(?::\s*(\w+)(?:\s*\[([^\]]*)\])?)?\s*$")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def fenced(text: str, language: str) -> list[str]:
    """The bodies of the ```<language> blocks, in order."""
    return re.findall(rf"^```{re.escape(language)}[ \t]*\n(.*?)^```[ \t]*$", text, flags=re.M | re.S)


def page(methodology_id: str) -> str:
    path = DOCS / "methodologies" / f"{methodology_id}.md"
    assert path.is_file(), f"no documentation page for built-in {methodology_id!r}: {path}"
    return path.read_text(encoding="utf-8")


# --- quickstart ---------------------------------------------------------------


def test_quickstart_runs_top_to_bottom() -> None:
    blocks = fenced(QUICKSTART.read_text(encoding="utf-8"), "python")
    assert len(blocks) >= 5, "the quickstart should show its steps as python blocks"
    namespace: dict[str, object] = {"__name__": "quickstart"}
    with contextlib.redirect_stdout(io.StringIO()):
        for number, block in enumerate(blocks, start=1):
            code = compile(block, f"{QUICKSTART.name} (python block {number})", "exec")
            exec(code, namespace)


def test_fenced_finds_python_blocks_only() -> None:
    text = "```python\na = 1\n```\n\n```console\n$ pip\n```\n\n```python\nb = 2\n```\n"
    assert fenced(text, "python") == ["a = 1\n", "b = 2\n"]


# --- one page per built-in ------------------------------------------------------


def expected_names(methodology: Methodology) -> list[str]:
    steps = [s.id for s in methodology.steps]
    outcomes = [o.id for o in methodology.outcomes]
    actions = [a.name for a in methodology.actions]
    return steps + outcomes + actions


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_page_cites_the_source_file(methodology: Methodology) -> None:
    text = page(methodology.id)
    assert PurePosixPath(methodology.source).name in text, f"cite {methodology.source}"


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_page_names_every_step_outcome_and_action(methodology: Methodology) -> None:
    text = page(methodology.id)
    # As inline code: a bare word would match inside other words ("act" in "action").
    missing = [name for name in expected_names(methodology) if f"`{name}`" not in text]
    assert not missing, f"docs/methodologies/{methodology.id}.md does not mention: {missing}"


def diagram_edges(text: str) -> set[tuple[str, str, str, tuple[str, ...]]]:
    diagrams = [d for d in fenced(text, "mermaid") if d.lstrip().startswith("stateDiagram-v2")]
    assert len(diagrams) == 1, "expected exactly one ```mermaid stateDiagram-v2 block"
    edges = set()
    for line in diagrams[0].splitlines()[1:]:
        if not line.strip():
            continue
        match = EDGE.match(line)
        assert match, f"unexpected diagram line: {line!r}"
        source, target, action, guards = match.groups()
        if action is None:
            continue  # [*] --> initial, outcome --> [*]
        names = tuple(g.strip() for g in guards.split(",")) if guards else ()
        edges.add((source, target, action, names))
    return edges


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_diagram_matches_the_methodology(methodology: Methodology) -> None:
    expected = {
        (source, action.target_from(source), action.name, tuple(g.name for g in action.guards))
        for action in methodology.actions
        for source in action.sources
    }
    actual = diagram_edges(page(methodology.id))
    assert actual == expected, (
        f"diagram of {methodology.id}: missing {sorted(expected - actual)}, extra {sorted(actual - expected)}"
    )
    text = page(methodology.id)
    assert f"[*] --> {methodology.initial}" in text
    for outcome in methodology.outcomes:
        assert f"{outcome.id} --> [*]" in text


def test_one_page_per_builtin_and_no_stale_pages() -> None:
    pages = {p.stem for p in (DOCS / "methodologies").glob("*.md")} - {"index"}
    assert pages == {m.id for m in BUILTINS}


# --- links ----------------------------------------------------------------------


def slug(heading: str) -> str:
    """The anchor Python-Markdown's toc extension (used by MkDocs) gives a heading."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.M)}


def test_slug_matches_mkdocs() -> None:
    assert slug("Checking the graph: `verify()`") == "checking-the-graph-verify"
    assert slug("A detached cursor instead of `add_model`") == "a-detached-cursor-instead-of-add_model"


@pytest.mark.parametrize("path", sorted(DOCS.rglob("*.md")), ids=lambda p: str(p.relative_to(DOCS)))
def test_relative_links_resolve(path: Path) -> None:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # http:, https:, mailto:
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.is_file() or (anchor and anchor not in anchors(linked)):
            broken.append(target)
    assert not broken, f"{path.relative_to(DOCS)}: broken links {broken}"
