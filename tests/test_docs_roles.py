"""Every methodology page has a "Roles" part listing exactly the roles its latest version declares.

Issue 13: the people who may take an action are part of the rules, so each
page under docs/methodologies/ has a ``## Roles`` heading (the same on every
page, so readers and links find it). With roles, the part holds a table whose
first column names each role in backticks; without, it says
"Roles: none" and why. Parametrised over every page, so a page that lacks the
part, or lists a role the methodology does not declare (or misses one it
does), fails on its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import resolveflow

PAGES_DIR = Path(__file__).resolve().parents[1] / "docs" / "methodologies"
PAGES = sorted(p for p in PAGES_DIR.glob("*.md") if p.stem != "index")
HEADING = "## Roles"
ROLE_ROW = re.compile(r"^\|\s*`([a-z][a-z0-9_]*)`\s*\|", re.M)
NO_ROLES = "Roles: none"


def roles_part(text: str) -> str:
    """The text under the one ``## Roles`` heading, up to the next heading of that level."""
    lines = text.splitlines()
    starts = [number for number, line in enumerate(lines) if line.rstrip() == HEADING]
    assert len(starts) == 1, f"expected exactly one {HEADING!r} heading, found {len(starts)}"
    part: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if line.startswith("## ") or line.startswith("# "):
            break
        part.append(line)
    return "\n".join(part)


def test_the_pages_are_found() -> None:
    assert {p.stem for p in PAGES} >= {"iso-10002", "five-steps", "four-steps", "heard"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_lists_exactly_the_roles_of_the_latest_version(page: Path) -> None:
    methodology = resolveflow.get_methodology(page.stem)  # the latest version, which the page describes
    part = roles_part(page.read_text(encoding="utf-8"))
    listed = ROLE_ROW.findall(part)
    assert len(listed) == len(set(listed)), f"{page.name}: a role is listed twice: {listed}"
    assert set(listed) == set(methodology.roles), (
        f"{page.name} lists roles {sorted(listed)} under {HEADING!r}; "
        f"{methodology.id}@{methodology.version} declares {sorted(methodology.roles)}"
    )
    if not methodology.roles:
        assert NO_ROLES in part, f"{page.name}: say {NO_ROLES!r} (and why) under {HEADING!r}"
    else:
        assert NO_ROLES not in part


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (
            "## Roles\n\n| role | who |\n|---|---|\n| `legal` | a lawyer |\n\n## Outcomes\n| `x` | y |\n",
            ["legal"],
        ),
        ("## Roles\n\nRoles: none — the source names none.\n\n## Outcomes\n| `x` | y |\n", []),
    ],
)
def test_the_roles_part_ends_at_the_next_heading(text: str, found: list[str]) -> None:
    assert ROLE_ROW.findall(roles_part(text)) == found


def test_a_page_without_the_heading_is_caught() -> None:
    with pytest.raises(AssertionError, match="exactly one '## Roles' heading"):
        roles_part("# x\n\n## Steps\n\n| `legal` | y |\n")
