"""Regenerate the Mermaid diagrams in the docs from the methodologies themselves.

Each shipped methodology (the Python built-ins and the files in
src/resolveflow/methodologies/files/) has a page, docs/methodologies/<id>.md,
that holds its diagram between ``<!-- diagram:start -->`` and
``<!-- diagram:end -->``; docs/diagrams.md holds one example of a case
highlighted on its methodology. This script rewrites those blocks with
``to_mermaid``, so the docs show exactly the edges the engine allows;
tests/test_docs.py fails when a page was not regenerated.

Usage (from the repository root)::

    .venv/bin/python scripts/gen_docs_diagrams.py          # rewrite the pages
    .venv/bin/python scripts/gen_docs_diagrams.py --check  # exit 1 if any page is stale
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import resolveflow
from resolveflow.diagrams import to_mermaid
from resolveflow.files import load_methodology
from resolveflow.methodologies import BUILTINS, FOUR_STEPS_1_1

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FILES = ROOT / "src" / "resolveflow" / "methodologies" / "files"
START = "<!-- diagram:start -->"
END = "<!-- diagram:end -->"
EXAMPLE_PAGE = DOCS / "diagrams.md"


def mermaid_block(diagram: str) -> str:
    """What goes between the markers: the diagram as a fenced ```mermaid block."""
    return f"\n```mermaid\n{diagram}```\n"


def replace_block(text: str, diagram: str, *, where: Path) -> str:
    """The page with the text between its one pair of markers replaced by the diagram."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise SystemExit(f"{where}: needs exactly one {START} ... {END} pair, in that order")
    head, rest = text.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}{mermaid_block(diagram)}{END}{tail}"


def example_case() -> resolveflow.Case:
    """The case drawn in docs/diagrams.md: four-steps 1.1, two actions in (evidence as a CRM posts it)."""
    moment = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # fixed: the same case every run
    case = resolveflow.open_case(FOUR_STEPS_1_1, case_id="FS-7", clock=lambda: moment)
    case.fire("hear_customer", {"summary": "Waited 40 minutes for a table we had booked."}, actor="ana")
    case.fire(
        "record_assessment",
        {
            "cause": "miscommunication",
            "findings": "The booking was taken for the wrong evening.",
            "lesson": "Read the date back to the caller when taking a booking.",
        },
        actor="ana",
    )
    return case


def shipped() -> list[resolveflow.Methodology]:
    """Every methodology resolveflow ships, every version: the Python built-ins, then files."""
    return [*BUILTINS, *(load_methodology(path) for path in sorted(FILES.glob("*.toml")))]


def latest(methodologies: list[resolveflow.Methodology]) -> list[resolveflow.Methodology]:
    """The latest version of each id (a page shows that one; e.g. five-steps 1.1, not 1.0)."""
    newest: dict[str, resolveflow.Methodology] = {}
    for m in methodologies:
        kept = newest.get(m.id)
        if kept is None or _version(m.version) > _version(kept.version):
            newest[m.id] = m
    return list(newest.values())


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def expected_pages() -> dict[Path, str]:
    """Every page that holds a generated diagram, with the content it should have."""
    pages: dict[Path, str] = {}
    for methodology in latest(shipped()):
        path = DOCS / "methodologies" / f"{methodology.id}.md"
        pages[path] = replace_block(path.read_text(encoding="utf-8"), to_mermaid(methodology), where=path)
    example = to_mermaid(FOUR_STEPS_1_1, case=example_case())
    pages[EXAMPLE_PAGE] = replace_block(EXAMPLE_PAGE.read_text(encoding="utf-8"), example, where=EXAMPLE_PAGE)
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in expected_pages().items():
        if path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.write_text(text, encoding="utf-8")
    verb = "stale" if args.check else "rewrote"
    for path in stale:
        print(f"{verb}: {path}")
    if args.check and stale:
        print(f"run: python {Path(__file__).relative_to(ROOT)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
