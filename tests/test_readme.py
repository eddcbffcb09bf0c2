"""The README's opening example runs and prints what the README says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_opening_example_prints_what_it_promises() -> None:
    code = blocks("python")[0]
    assert len(code.strip().splitlines()) <= 16, "the opening example should stay short"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == blocks("text")[0]


def test_setup_commands_exist() -> None:
    commands = blocks("bash")[0]
    root = README.parent
    for script in re.findall(r"^\./(\S+)", commands, flags=re.M):
        assert (root / script).is_file(), script
    ci = (root / ".ci" / "run").read_text(encoding="utf-8")
    assert "./scripts/test" in ci
