"""docs/guard-kinds.md: its example registers a guard kind, loads a file using it and runs a case."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from resolveflow.guards import guard_kinds, unregister_guard_kind

PAGE = Path(__file__).resolve().parents[1] / "docs" / "guard-kinds.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)


def test_the_page_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (yaml_file,) = blocks("yaml")
    (tmp_path / "goodwill.yaml").write_text(yaml_file, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    before = guard_kinds()
    namespace: dict[str, object] = {}
    try:
        for block in blocks("python"):
            exec(compile(block, str(PAGE), "exec"), namespace)
        assert [kind.name for kind in guard_kinds()] == [*(k.name for k in before), "at_most"]
    finally:
        for kind in guard_kinds():
            if kind not in before:
                unregister_guard_kind(kind.name)
    assert guard_kinds() == before


def test_the_page_is_in_the_site_navigation() -> None:
    mkdocs = (PAGE.parents[1] / "mkdocs.yml").read_text(encoding="utf-8")
    assert "guard-kinds.md" in mkdocs
