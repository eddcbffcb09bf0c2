"""Checking a migration against a case's recorded history, with the proofs of ``_verify``.

:func:`check_migration` says where an open case would land in the new
version and every reason not to move it: a wrong version, a closed case, a
step with no counterpart, a required step the case would skip, or guards the
case could never pass with what it has recorded. The :class:`Migration`
record itself is a leaf (``_migration.py``); this module sits above the
proofs it uses.
"""

from __future__ import annotations

from resolveflow._methodology import Methodology, Outcome
from resolveflow._migration import Migration
from resolveflow._refusal import Refusal
from resolveflow._verify import _Explorer


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
