"""The example Django CRM's own tests (pytest-django), run in a subprocess on SQLite and on PostgreSQL.

The main suite never configures Django (pytest-django is installed and loads
as a plugin, but finds no DJANGO_SETTINGS_MODULE): the example project runs
with its own settings in its own process, as a CRM's test suite would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests._optional import import_or_skip

import_or_skip("django", "django")
import_or_skip("pytest_django", "test")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "django_crm"


def run_example(tmp_path: Path, **env: str) -> tuple[str, float]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_", "DATABASE_URL"))}
    clean.update(PYTHONPATH=str(ROOT / "src"), **env)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=EXAMPLE,
        env=clean,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary), output[-3000:]
    assert not re.search(r"failed|error|skipped|xfail", summary), summary
    return summary, elapsed


def test_the_example_crm_passes_on_sqlite(tmp_path: Path) -> None:
    summary, elapsed = run_example(
        tmp_path, SQLITE_PATH=str(tmp_path / "crm.sqlite3"), SQLITE_TEST_PATH=str(tmp_path / "test.sqlite3")
    )
    print(f"sqlite: {summary} ({elapsed:.1f} s)")


def test_the_example_crm_passes_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    url = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    summary, elapsed = run_example(tmp_path, DATABASE_URL=url)
    print(f"postgresql: {summary} ({elapsed:.1f} s)")


# --- docs/django.md is the example project -------------------------------------------
GUIDE = ROOT / "docs" / "django.md"
FENCE = re.compile(r'^```python(?: title="(?P<title>[^"]+)")?\n(?P<body>.*?)^```[ \t]*$', re.M | re.S)


def guide_blocks() -> list[tuple[str | None, str]]:
    return [(m["title"], m["body"]) for m in FENCE.finditer(GUIDE.read_text(encoding="utf-8"))]


def test_the_guide_shows_whole_files_of_the_example_project() -> None:
    titled = [(title, body) for title, body in guide_blocks() if title]
    assert {title for title, _ in titled} >= {
        "examples/django_crm/tickets/models.py",
        "examples/django_crm/tickets/services.py",
        "examples/django_crm/tickets/admin.py",
    }
    for title, body in titled:
        assert (ROOT / title).read_text(encoding="utf-8") == body, f"docs/django.md differs from {title}"


def excerpt_of(snippet: str, source: str) -> bool:
    """Whether ``snippet`` is consecutive lines of ``source``, shown with their common indent removed."""
    wanted = textwrap.dedent(snippet).splitlines()
    lines = source.splitlines()
    return any(
        textwrap.dedent("\n".join(lines[i : i + len(wanted)])).splitlines() == wanted
        for i in range(len(lines) - len(wanted) + 1)
    )


def test_the_guide_s_other_snippets_are_excerpts_of_the_example_project() -> None:
    sources = [path.read_text(encoding="utf-8") for path in sorted(EXAMPLE.rglob("*.py"))]
    excerpts = [body for title, body in guide_blocks() if not title]
    assert excerpts
    for body in excerpts:
        assert any(excerpt_of(body, source) for source in sources), f"not in examples/django_crm: {body!r}"


def test_an_excerpt_must_match_line_for_line() -> None:
    source = "def f():\n    if x:\n        return 1\n"
    assert excerpt_of("if x:\n    return 1\n", source)
    assert not excerpt_of("if x:\nreturn 1\n", source)
    assert not excerpt_of("if y:\n    return 1\n", source)
