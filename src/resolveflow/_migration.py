"""The record of a move from one version of a methodology to another (a leaf).

A stored case stays on the version it was opened with until it is migrated.
A :class:`Migration` declares how the old version's steps map onto the new
one; :func:`migrate` checks, on the case's recorded history, that the new
version's rules still hold (no required step becomes skippable, the case is
not stranded where the new guards can never pass) and then records the move
as a ``migrate_version`` entry in the hash chain. Restore replays the entries
before it with the old version and those after it with the new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput, InvalidMethodology

MIGRATE_ACTION: Final = "migrate_version"
MAX_NAME: Final = 100
"""The longest id, version or step id a migration may name: no methodology has a longer one."""


def _steps(value: Mapping[str, str]) -> Mapping[str, str]:
    # Only a mapping: dict() of anything else fails with a bare TypeError or ValueError.
    if not isinstance(value, Mapping):
        raise InvalidMethodology(
            f"steps must map old step ids to new step ids, like {{'offer': 'present_solution'}}; "
            f"got {shown(value)}",
            where="migration",
        )
    return dict(value)


def _is_name(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= MAX_NAME


@attrs.frozen(kw_only=True)
class Migration:
    """How cases move from one version of a methodology to another.

    Attributes:
        methodology_id: the methodology both versions belong to.
        from_version: the version cases are on now.
        to_version: the version they move to.
        steps: old step id -> new step id, for every step a case might be at
            (steps whose id is unchanged may be left out).

    Example:
        >>> Migration(methodology_id="engage", from_version="1.0", to_version="1.1",
        ...           steps={"present_solution": "present_solution"}).to_version
        '1.1'
    """

    methodology_id: str
    from_version: str
    to_version: str
    steps: Mapping[str, str] = attrs.field(factory=dict, converter=_steps, eq=False)

    def __attrs_post_init__(self) -> None:
        for name in ("methodology_id", "from_version", "to_version"):
            value = getattr(self, name)
            if not _is_name(value):
                raise InvalidMethodology(
                    f"{name} must be non-blank text of at most {MAX_NAME} characters, got {shown(value)}",
                    where="migration",
                )
        if self.from_version == self.to_version:
            raise InvalidMethodology("from_version and to_version are the same", where="migration")
        for old, new in self.steps.items():
            if not _is_name(old) or not _is_name(new):
                raise InvalidMethodology(
                    f"steps maps step ids to step ids (non-blank text of at most {MAX_NAME} characters), "
                    f"got {shown(old)}: {shown(new)}",
                    where="migration",
                )

    def target_step(self, old: str) -> str:
        """Where a case at ``old`` lands in the new version."""
        return self.steps.get(old, old)

    def to_json(self) -> dict[str, Any]:
        """The migration as recorded in the history."""
        return {
            "methodology_id": self.methodology_id,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "steps": dict(sorted(self.steps.items())),
        }

    @classmethod
    def from_json(cls, data: object) -> Migration:
        """Read a recorded migration back; raises InvalidInput when it is malformed."""
        if not isinstance(data, Mapping) or set(data) != {
            "methodology_id",
            "from_version",
            "to_version",
            "steps",
        }:
            raise InvalidInput(
                "a migration entry records methodology_id, from_version, to_version and steps",
                argument="evidence",
            )
        steps = data["steps"]
        if not isinstance(steps, Mapping):
            raise InvalidInput("the migration's steps must be a mapping", argument="evidence")
        try:
            return cls(
                methodology_id=data["methodology_id"],
                from_version=data["from_version"],
                to_version=data["to_version"],
                steps=steps,
            )
        except InvalidMethodology as error:
            raise InvalidInput(str(error), argument="evidence") from error
