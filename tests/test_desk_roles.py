"""The desk's demo agents can take every action of every methodology the desk offers.

The desk offers the latest version of every registered methodology. Each role
those versions declare must be held by at least one demo agent (otherwise an
action on the desk can be taken by nobody, e.g. a five-steps hand-off without
a ``go_to_rep``), and at least one demo agent must hold none of them, to show
role refusals. Computed from the registry, so a role added to a methodology
later fails here, naming the role, until a demo agent gets it. docs/desk.md's
table of demo agents matches ``DEMO_AGENTS``.
"""

from __future__ import annotations

import re
from pathlib import Path

import resolveflow
from tests._optional import import_or_skip

# The desk's dependencies are optional (pip install -e '.[desk]'): without them, skip (not under CI).
auth = import_or_skip("resolveflow.desk._auth", "desk")

DESK_PAGE = Path(__file__).resolve().parents[1] / "docs" / "desk.md"


def declared_roles() -> dict[str, list[str]]:
    """Each role a methodology on the desk declares -> the methodologies (id@version) declaring it."""
    found: dict[str, list[str]] = {}
    for methodology_id in resolveflow.available():
        latest = resolveflow.get_methodology(methodology_id)
        for role in latest.roles:
            found.setdefault(role, []).append(f"{latest.id}@{latest.version}")
    return found


def test_every_declared_role_is_held_by_a_demo_agent() -> None:
    held = {role for demo in auth.DEMO_AGENTS for role in demo.roles}
    missing = {role: where for role, where in declared_roles().items() if role not in held}
    assert not missing, (
        "no demo agent holds these roles, so nobody on the desk can take the actions that need "
        f"them (role: methodologies declaring it): {missing}; give each to a demo agent in "
        "src/resolveflow/desk/_auth.py and in docs/desk.md's table"
    )


def test_some_demo_agent_holds_none_of_the_declared_roles() -> None:
    special = set(declared_roles())
    assert special, "no methodology declares a role: this test would prove nothing"
    plain = [demo.id for demo in auth.DEMO_AGENTS if not special & set(demo.roles)]
    assert plain, "every demo agent holds a methodology role: keep one without, to show refusals"


def test_desk_page_lists_the_demo_agents_as_seeded() -> None:
    text = DESK_PAGE.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z]+)` \| ([a-z_, ]+) \| `([a-z]+-demo)` \|", text, flags=re.M)
    assert rows, "docs/desk.md has no table of demo agents"
    listed = {agent: (tuple(roles.split(", ")), password) for agent, roles, password in rows}
    seeded = {demo.id: (tuple(sorted(demo.roles)), demo.password) for demo in auth.DEMO_AGENTS}
    assert listed == seeded
    assert all(password == f"{agent}-demo" for agent, (_, password) in seeded.items())
