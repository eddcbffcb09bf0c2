"""The desk drives cases through resolveflow's public API only: no private resolveflow module.

Every module of ``resolveflow.desk`` is parsed, and each import (absolute, or
relative out of the desk's own package) and each attribute path starting at
``resolveflow`` is checked: a ``_private`` part anywhere outside the desk's
own modules fails, naming the file and line. The desk is the pattern CRMs
copy, so it must show what the public API can do on its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DESK = Path(__file__).resolve().parents[1] / "src" / "resolveflow" / "desk"
OWN = "resolveflow.desk"


def _private(dotted: str) -> bool:
    """``resolveflow._case`` or ``resolveflow.store._store``, but not the desk's own ``_app``."""
    if dotted == OWN or dotted.startswith(OWN + "."):
        return False
    return dotted.split(".")[0] == "resolveflow" and any(part.startswith("_") for part in dotted.split("."))


def _attribute_path(node: ast.Attribute) -> str | None:
    parts = [node.attr]
    value = node.value
    while isinstance(value, ast.Attribute):
        parts.append(value.attr)
        value = value.value
    if isinstance(value, ast.Name):
        parts.append(value.id)
        return ".".join(reversed(parts))
    return None


def private_uses(source: str, filename: str) -> list[str]:
    """Each use of a private resolveflow module in ``source`` (a module of the desk), as "file:line: what"."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            elif node.level == 1:
                base = f"{OWN}.{node.module}" if node.module else OWN
            else:  # out of the desk: resolveflow itself
                base = f"resolveflow.{node.module}" if node.module else "resolveflow"
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Attribute):
            path = _attribute_path(node)
            names = [path] if path and path.startswith("resolveflow.") else []
        found += [f"{filename}:{node.lineno}: {name}" for name in names if _private(name)]
    return found


def test_the_desk_imports_no_private_resolveflow_module() -> None:
    modules = sorted(DESK.glob("*.py"))
    assert len(modules) >= 8, "the desk's modules moved: update DESK"
    found = [use for path in modules for use in private_uses(path.read_text("utf-8"), path.name)]
    assert not found, f"the desk reaches into private resolveflow modules: {found}"


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("from resolveflow._case import Case", True),
        ("import resolveflow._ledger", True),
        ("from resolveflow.store._store import Store", True),
        ("from .. import _engine", True),
        ("from ..store import _heads", True),
        ("import resolveflow\nx = resolveflow.store._store.Store", True),
        ("from resolveflow import _registry", True),
        ("import resolveflow.store\nfrom resolveflow.guards import PlanItemOpen", False),
        ("from . import _auth as auth\nfrom ._forms import build_fields", False),
        ("import resolveflow\nresolveflow.diagrams.to_svg", False),
    ],
)
def test_the_check_can_fail(source: str, bad: bool) -> None:
    assert bool(private_uses(source, "x.py")) is bad
