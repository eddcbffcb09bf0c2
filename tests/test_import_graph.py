"""Imports point one way: no module of resolveflow imports itself back, even for types.

The graph is read from the source with ``ast``, so it includes imports made
only for type checking (``if TYPE_CHECKING:``) and imports inside functions:
a loop there is a loop in the design, even when it never runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "resolveflow"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in (SRC / PACKAGE).rglob("*.py")}


def _imports(path: Path, name: str, known: Mapping[str, Path]) -> set[str]:
    """The resolveflow modules a file imports (the nearest known module for each name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from package import submodule" imports the submodule.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith(PACKAGE):
                found.add(target)
                break
    return found


def import_graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(path, name, known) for name, path in known.items()}


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_graph_is_read_from_the_whole_package() -> None:
    graph = import_graph()
    assert {"resolveflow", "resolveflow._ledger", "resolveflow.store._store"} <= set(graph)
    assert "resolveflow._index" in graph["resolveflow._ledger"]
    # A type-only import counts: _guards imports HistoryEntry only for annotations.
    assert "resolveflow._history" in graph["resolveflow._guards"]


def test_no_module_imports_itself_back() -> None:
    assert cycles(import_graph()) == []


def test_refusal_and_migration_are_leaves() -> None:
    graph = import_graph()
    for leaf in ("resolveflow._refusal", "resolveflow._migration", "resolveflow._promise"):
        # _shown imports nothing, and exceptions imports it already.
        assert graph[leaf] <= {"resolveflow._slots", "resolveflow._shown", "resolveflow.exceptions"}, leaf


def test_the_core_knows_no_concrete_evidence_record() -> None:
    graph = import_graph()
    for core in ("_engine", "_ledger", "_index", "_guards", "_view", "_case", "_history", "_snapshot"):
        assert "resolveflow.evidence" not in graph[f"resolveflow.{core}"], core
        assert "resolveflow.methodologies._guards" not in graph[f"resolveflow.{core}"], core


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_the_cycle_finder_finds_loops(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(graph) == expected
