"""resolveflow: customer-recovery methodologies as guarded, provable state machines.

Open a case with a methodology, ask it which actions are possible and why the
others are refused, and record each step with its evidence. The case's state
comes only from its hash-chained history.

The top level has what most code needs: cases, methodologies, the registry,
verification and the errors most code catches. The rest is in a public module
per role: :mod:`resolveflow.guards` (guard kinds, refusals, guard kinds of your
own), :mod:`resolveflow.evidence` (the records actions take),
:mod:`resolveflow.files` (methodology files), :mod:`resolveflow.diagrams`,
:mod:`resolveflow.exceptions` (every error), :mod:`resolveflow.store` and
:mod:`resolveflow.testing`.

Example:
    >>> import resolveflow
    >>> case = resolveflow.open_case("prescription", case_id="T-1")
    >>> case.check("remedy").refusals[0].code
    'not_from_this_step'
    >>> _ = case.fire("acknowledge_problem", {
    ...     "customer_perspective": "Order arrived a week late.",
    ...     "accepts_accountability": True}, actor="ana")
    >>> case.step
    'remedy_now'
"""

from __future__ import annotations

import datetime

from resolveflow import diagrams, evidence, exceptions, files, guards
from resolveflow._actor import Actor
from resolveflow._case import Case
from resolveflow._clock import Clock
from resolveflow._escalation import Escalation
from resolveflow._events import Event
from resolveflow._history import HistoryEntry
from resolveflow._i18n import Catalog, message_template
from resolveflow._ledger import Decision
from resolveflow._ledger import Ledger as _Ledger
from resolveflow._methodology import Action, Methodology, Outcome, Step
from resolveflow._migration import Migration
from resolveflow._public import publish as _publish
from resolveflow._registry import (
    available,
    get_methodology,
    load_directory,
    origin_of,
    register,
    unregister,
    versions,
)
from resolveflow._registry import resolve as _resolve
from resolveflow._seal import KeyRing
from resolveflow._snapshot import restore_ledger as _restore_ledger
from resolveflow._verify import Finding, PathStep, VerificationReport, verify
from resolveflow._view import ActionView, CaseView, OverdueItem, Progress
from resolveflow.exceptions import (
    ConcurrencyConflict,
    InvalidEvidence,
    InvalidInput,
    InvalidSnapshot,
    Refused,
    ResolveflowError,
    UnknownAction,
    UnknownMethodology,
)
from resolveflow.guards import Refusal

__all__ = [
    "Action",
    "ActionView",
    "Actor",
    "Case",
    "CaseView",
    "Catalog",
    "Clock",
    "ConcurrencyConflict",
    "Decision",
    "Escalation",
    "Event",
    "Finding",
    "HistoryEntry",
    "InvalidEvidence",
    "InvalidInput",
    "InvalidSnapshot",
    "KeyRing",
    "Methodology",
    "Migration",
    "Outcome",
    "OverdueItem",
    "PathStep",
    "Progress",
    "Refusal",
    "Refused",
    "ResolveflowError",
    "Step",
    "UnknownAction",
    "UnknownMethodology",
    "VerificationReport",
    "available",
    "diagrams",
    "evidence",
    "exceptions",
    "files",
    "get_methodology",
    "guards",
    "load_directory",
    "message_template",
    "migrate",
    "open_case",
    "origin_of",
    "register",
    "restore",
    "unregister",
    "verify",
    "versions",
]

__version__ = "0.1.0.dev0"


def open_case(methodology: Methodology | str, *, case_id: str, clock: Clock | None = None) -> Case:
    """Open a new case at the methodology's initial step.

    Args:
        methodology: a Methodology, or the id of a registered one (latest version).
        case_id: your system's id for the case.
        clock: a callable returning the current aware datetime (default: UTC now);
            every time the case reads goes through it.

    Raises:
        UnknownMethodology: the id is not registered (the error lists those that are).
        InvalidInput: blank case id or a clock that is not callable.

    Example:
        >>> import resolveflow
        >>> resolveflow.open_case("seven-as", case_id="T-2").step
        'acknowledge'
    """
    return Case(_Ledger(_resolve(methodology), case_id), clock=clock)


def restore(
    snapshot: object,
    *,
    methodology: Methodology | None = None,
    clock: Clock | None = None,
    head: str | None = None,
    keys: KeyRing | None = None,
) -> Case:
    """Rebuild a case from ``case.snapshot()``, replaying every entry.

    Each entry goes back through evidence validation, the guards (at the
    entry's own time) and the hash chain; the result is only returned when the
    whole history replays to exactly the step and outcome the snapshot claims.

    Args:
        snapshot: the dict from :meth:`Case.snapshot` (e.g. after ``json.loads``).
        methodology: the methodology to replay with, when it is not registered
            (for a migrated case: its current version; earlier ones come from
            the registry).
        clock: the restored case's clock.
        head: the ``case.head`` you stored when the snapshot was taken; when
            given, a history cut short (and relabelled) is rejected too.
        keys: the :class:`KeyRing` the snapshot was sealed with
            (``case.snapshot(keys=...)``): an entry whose seal verifies is
            trusted without running its guards again; one whose seal does not
            verify is refused, and so is an unsealed one unless the ring
            ``accept_unsealed`` (then it is replayed through its guards).

    Raises:
        InvalidSnapshot: anything does not replay; ``.entry`` names the first
            bad history entry.

    Example:
        >>> import resolveflow
        >>> case = resolveflow.open_case("engage", case_id="T-3")
        >>> resolveflow.restore(case.snapshot()).step
        'engage'
    """

    def resolve(methodology_id: str, version: str) -> Methodology:
        if methodology is not None and methodology.key == (methodology_id, version):
            return methodology
        try:
            # Versions a migrated case passed through come from the registry.
            return get_methodology(methodology_id, version)
        except UnknownMethodology:
            if methodology is None:
                raise
            raise InvalidSnapshot(
                f"the snapshot is for {methodology_id}@{version}, not {methodology.id}@{methodology.version}"
            ) from None

    if keys is not None and not isinstance(keys, KeyRing):
        raise InvalidInput(f"expected a resolveflow.KeyRing, got {type(keys).__name__}", argument="keys")
    ledger = _restore_ledger(snapshot, resolve=resolve, head=head, keys=keys)
    return Case(ledger, clock=clock)


def migrate(
    case: Case,
    migration: Migration,
    *,
    actor: str,
    at: datetime.datetime | None = None,
    target: Methodology | None = None,
) -> Case:
    """Move an open case to another version of its methodology, recorded in its history.

    The case's recorded history is checked against the new version: the
    migration is refused when a required step of the new version would be
    skipped (it lies before the landing step and the case never passed it),
    when the new guards could never let the case reach a successful outcome
    with the evidence it has, when a step has no counterpart, or when the case
    is closed. Otherwise a ``migrate_version`` entry is appended to the hash
    chain and a new Case on the target version is returned (the given one is
    left as it was). Restoring the snapshot needs both versions registered
    (or ``target`` passed to ``restore`` for the last one).

    Args:
        case: the case to move.
        migration: the declared step mapping between the two versions.
        actor: who performs the migration.
        at: when (default: the case's clock).
        target: the new version, when it is not registered.

    Raises:
        Refused: with every reason (codes ``migration_skips_required_step``,
            ``migration_strands_case``, ``migration_unmapped_step``,
            ``migration_wrong_version``, ``migration_wrong_target``, ``case_closed``).
        UnknownMethodology: the target version is not registered and not given.

    Example:
        >>> import attrs, resolveflow
        >>> v1 = resolveflow.get_methodology("engage", "1.0")
        >>> v2 = attrs.evolve(v1, version="2.0")
        >>> case = resolveflow.open_case(v1, case_id="M-1")
        >>> moved = resolveflow.migrate(case, resolveflow.Migration(
        ...     methodology_id="engage", from_version="1.0", to_version="2.0"), actor="ops", target=v2)
        >>> moved.methodology.version, moved.history[-1].action, moved.opened_with
        ('2.0', 'migrate_version', '1.0')
    """
    if not isinstance(case, Case):
        raise InvalidInput(f"expected a Case, got {type(case).__name__}", argument="case")
    if not isinstance(migration, Migration):
        raise InvalidInput(f"expected a Migration, got {type(migration).__name__}", argument="migration")
    chosen = target or get_methodology(migration.methodology_id, migration.to_version)
    return case._migrated(migration, chosen, actor=actor, at=at)


# Last, so that names the top level re-exports from a public module keep it (Refusal, the errors).
_publish(__name__, globals(), __all__)
