"""Moving an in-flight case to a new version of its methodology.

A stored case stays on the version it was opened with until it is migrated.
A :class:`Migration` declares how the old version's steps map onto the new
one; :func:`migrate` checks, on the case's recorded history, that the new
version's rules still hold (no required step becomes skippable, the case is
not stranded where the new guards can never pass) and then records the move
as a ``migrate_version`` entry in the hash chain. Restore replays the entries
before it with the old version and those after it with the new one.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Final

import attrs

from resolveflow._guards import Refusal
from resolveflow._methodology import Methodology, Outcome
from resolveflow.exceptions import InvalidInput, InvalidMethodology

MIGRATE_ACTION: Final = "migrate_version"


def _steps(value: Mapping[str, str]) -> Mapping[str, str]:
    return dict(value)


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
            if not isinstance(value, str) or not value.strip():
                raise InvalidMethodology(f"{name} must be non-blank text, got {value!r}", where="migration")
        if self.from_version == self.to_version:
            raise InvalidMethodology("from_version and to_version are the same", where="migration")
        for old, new in self.steps.items():
            if not isinstance(old, str) or not isinstance(new, str):
                raise InvalidMethodology(
                    f"steps maps step ids to step ids, got {old!r}: {new!r}", where="migration"
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


def check_migration(
    migration: Migration,
    *,
    source: Methodology,
    target: Methodology,
    step: str,
    visits: list[str],
    records: list[tuple[type, str]],
) -> tuple[str, tuple[Refusal, ...]]:
    """Where the case would land, and every reason the migration is refused (empty: allowed).

    Args:
        migration: the declared mapping.
        source: the methodology version the case is on.
        target: the version it would move to.
        step: the case's current step.
        visits: the steps the case has been at, in order (old ids).
        records: ``(record type, step it was recorded at)`` for every recorded evidence.
    """
    from resolveflow._verify import _Explorer

    refusals: list[Refusal] = []
    if (migration.methodology_id, migration.from_version) != source.key:
        refusals.append(
            Refusal(
                code="migration_wrong_version",
                message=f"the migration is from {migration.methodology_id}@{migration.from_version}; "
                f"the case is on {source.id}@{source.version}",
            )
        )
    if (migration.methodology_id, migration.to_version) != target.key:
        refusals.append(
            Refusal(
                code="migration_wrong_target",
                message=f"the migration is to {migration.methodology_id}@{migration.to_version}, "
                f"not {target.id}@{target.version}",
            )
        )
    if source.outcome(step) is not None:
        refusals.append(
            Refusal(code="case_closed", message="a closed case stays on the version it closed under")
        )
    landing = migration.target_step(step)
    mapped_visits = [migration.target_step(s) for s in visits]
    unknown = sorted({s for s in mapped_visits if s not in target.step_ids})
    if unknown:
        refusals.append(
            Refusal(
                code="migration_unmapped_step",
                message=f"steps {', '.join(unknown)} do not exist in version {target.version}; "
                "map them in the migration's steps",
                missing=tuple(f"step:{s}" for s in unknown),
            )
        )
    if refusals:
        return landing, tuple(refusals)
    if isinstance(target.node(landing), Outcome):
        return landing, (
            Refusal(
                code="migration_unmapped_step",
                message=f"an open case cannot be mapped onto outcome {landing!r}",
                missing=(f"step:{landing}",),
            ),
        )
    explorer = _Explorer(target)
    mapped_records = [(record, migration.target_step(at)) for record, at in records]
    start = explorer.state_after(mapped_visits, mapped_records)
    parents, _ = explorer.explore(start)
    required = target.required_steps
    successful = set(target.successful_outcomes)
    finishes = [state for state in parents if state[0] in successful]
    if not finishes:
        refusals.append(
            Refusal(
                code="migration_strands_case",
                message=f"in version {target.version}, no successful outcome can be reached from {landing!r} "
                "with what the case has recorded: the new guards need evidence it never collected",
            )
        )
    elif any(state[2] < len(required) for state in finishes):
        skipped = sorted(
            {required[state[2]] for state in finishes if state[2] < len(required)}, key=required.index
        )
        refusals.append(
            Refusal(
                code="migration_skips_required_step",
                message=f"at {landing!r} in version {target.version}, the case could reach success "
                f"without having passed {', '.join(skipped)} in the required order",
                missing=tuple(f"step:{s}" for s in skipped),
            )
        )
    return landing, tuple(refusals)


def migration_time(at: object) -> _dt.datetime | None:
    """Validate an optional explicit time (the case applies its own rules after)."""
    if at is None or isinstance(at, _dt.datetime):
        return at
    raise InvalidInput(f"expected a datetime, got {type(at).__name__}", argument="at")
