"""The table of declared roles on docs/concepts/actors.md is the registry's (issue 13)."""

from __future__ import annotations

import re
from pathlib import Path

import resolveflow
import resolveflow.methodologies
from resolveflow.methodologies import BUILTINS

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "concepts" / "actors.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| (`[^|]+`)(?: (\d+\.\d+))? \| (.+) \|$", re.M)


def table() -> dict[str, tuple[str | None, set[str]]]:
    """methodology id -> (the version the row names, the roles it lists)."""
    part = PAGE.split("## Which methodologies declare roles", 1)[1].split("\n## ", 1)[0]
    found: dict[str, tuple[str | None, set[str]]] = {}
    for ids, version, roles in ROW.findall(part):
        listed = set(re.findall(r"`([a-z_]+)`", roles)) if not roles.startswith("none") else set()
        for methodology_id in re.findall(r"`([a-z0-9-]+)`", ids):
            found[methodology_id] = (version or None, listed)
    return found


def shipped_ids() -> set[str]:
    """The built-ins and the shipped files (not what other tests may have registered in this process)."""
    files = Path(resolveflow.methodologies.__file__).parent / "files"
    return {m.id for m in BUILTINS} | {path.stem.split("@")[0] for path in files.glob("*.toml")}


def test_every_shipped_methodology_is_in_the_table_with_its_latest_roles() -> None:
    rows = table()
    assert set(rows) == shipped_ids(), sorted(set(rows) ^ shipped_ids())
    for methodology_id, (version, roles) in rows.items():
        latest = resolveflow.get_methodology(methodology_id)
        assert roles == set(latest.roles), (methodology_id, roles, latest.roles)
        if roles:
            assert version == latest.version, (methodology_id, version, latest.version)
