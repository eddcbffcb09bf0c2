"""Guards: the rules checked before an action, the refusals they give, and guard kinds for files.

A guard never answers a bare False: it passes (None) or gives a
:class:`Refusal` with a stable ``code``, a readable ``message`` and what is
``missing``. Every guard of an action is checked, so a refusal lists them all.

- declarative kinds that files, diagrams and ``verify`` understand:
  :class:`Requires`, :class:`AfterStep`, :class:`EvidenceIs`,
  :class:`LaterThanNow`, :class:`NotLaterThanNow`, :class:`NotBefore`,
  :class:`WithinDeadline`;
- who may act (see :class:`resolveflow.Actor`): :class:`HasRole`,
  :class:`OtherThan` (four eyes) and :class:`NamedActor` (a hand-off's target);
- the recovery guards of the built-in methodologies: :class:`SoundPlan`,
  :class:`PlanItemOpen`, :class:`PlanHasOpenItems`, :class:`AllPlanItemsDone`,
  :class:`PressingPlannedFirst`, :class:`PressingDoneFirst`,
  :class:`FaultNeedsLiabilityReview`, :class:`NotOlderThan` (a time recent
  enough, e.g. a remedy taken "now");
- :class:`Rule`, a Python predicate, when nothing declarative fits;
- the API for a kind of your own: subclass :class:`Guard`, read the case
  through :class:`GuardContext`, declare what it needs with :class:`Need`, and
  make it usable in files with :func:`register_guard_kind` and
  :class:`GuardField` (see the guide "Writing a guard kind").

Example:
    >>> import resolveflow
    >>> from resolveflow import evidence
    >>> from resolveflow.guards import AfterStep, Requires
    >>> guard = Requires(record=evidence.Apology, name="needs_apology", message="Apologise first.")
    >>> guard.needs()
    (Need(record=<class 'resolveflow.evidence.Apology'>, at_step=None, step=None),)
    >>> AfterStep(step="listen", name="listen_first", message="Listen first.").references()
    ('listen',)
"""

from __future__ import annotations

from resolveflow._guard_fields import GuardField, GuardKind
from resolveflow._guard_kinds import guard_kinds, register_guard_kind, unregister_guard_kind
from resolveflow._guards import (
    AfterStep,
    EvidenceIs,
    Guard,
    GuardContext,
    HasRole,
    LaterThanNow,
    NamedActor,
    Need,
    NotBefore,
    NotLaterThanNow,
    OtherThan,
    Requires,
    Rule,
    WithinDeadline,
)
from resolveflow._public import publish as _publish
from resolveflow._refusal import ENGINE_REFUSAL_CODES, Refusal
from resolveflow.methodologies._guards import (
    AllPlanItemsDone,
    FaultNeedsLiabilityReview,
    NotOlderThan,
    PlanHasOpenItems,
    PlanItemOpen,
    PressingDoneFirst,
    PressingPlannedFirst,
    SoundPlan,
)

__all__ = [
    "ENGINE_REFUSAL_CODES",
    "AfterStep",
    "AllPlanItemsDone",
    "EvidenceIs",
    "FaultNeedsLiabilityReview",
    "Guard",
    "GuardContext",
    "GuardField",
    "GuardKind",
    "HasRole",
    "LaterThanNow",
    "NamedActor",
    "Need",
    "NotBefore",
    "NotLaterThanNow",
    "NotOlderThan",
    "OtherThan",
    "PlanHasOpenItems",
    "PlanItemOpen",
    "PressingDoneFirst",
    "PressingPlannedFirst",
    "Refusal",
    "Requires",
    "Rule",
    "SoundPlan",
    "WithinDeadline",
    "guard_kinds",
    "register_guard_kind",
    "unregister_guard_kind",
]

_publish(__name__, globals(), __all__)
