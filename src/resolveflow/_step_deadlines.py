"""Step deadlines: the time limits a methodology declares, as promises derived from the history.

A :class:`~resolveflow.guards.WithinDeadline` guard ``(step=S, limit)`` on an
action says the action may be taken only until ``limit`` after the case last
entered ``S``. While the case is at a step that action leaves, and has
entered ``S``, that is a promise made by the methodology itself:

- kind ``"step_deadline"`` (:data:`STEP_DEADLINE`);
- ref ``"<action>:<guard name>"`` (cut to the deadlines table's 200
  characters with a digest of the whole when longer);
- description: the guard's message;
- due: when the case last entered ``S`` (as the guard computes it) plus the limit.

It is kept when the case leaves the step: the promises of the step it reaches
are worked out afresh, and a case that enters ``S`` again gets a new due time.

Only a guard the action requires outright counts. An action's guards must all
pass, so every ``WithinDeadline`` among them is required; a guard that held
one as an alternative or a negation would not make it a promise (resolveflow
has no such composite guards, and a guard class of one's own that wraps a
``WithinDeadline`` is not looked into).

**Derived, not recorded.** Nothing in an entry says any of this: the promises
come from the methodology version the case is on, its current step and the
times it entered steps, which the case's index keeps. So they change only when
an entry is recorded, and a replay, a restore, a kept ledger or an import gives
the same ones. What to work out per step is read from the methodology once and
kept on it (``Methodology._step_deadlines``), so the cost per entry is a lookup
and one addition per declared deadline.

They are not among ``GuardContext.open_promises()``: those are what the
records promised and settle; a step deadline is what the guards themselves
enforce, and guards that look at open promises keep their meaning.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

import attrs

from resolveflow._guards import WithinDeadline
from resolveflow._promise import STEP_DEADLINE, Promise

if TYPE_CHECKING:
    from resolveflow._methodology import Methodology

MAX_REF: Final = 200  # the deadlines table's ref column
_DIGEST: Final = 16
# Text no database column can hold (PostgreSQL refuses NUL; neither encodes a lone surrogate).
_UNSTORABLE: Final = re.compile(r"[\x00\ud800-\udfff]")


@attrs.frozen
class Declared:
    """One step deadline a step's actions declare: where its time runs from and for how long."""

    ref: str
    step: str
    limit: _dt.timedelta
    description: str


def deadline_ref(action: str, guard: str) -> str:
    """``"<action>:<guard>"``; longer than 200 characters, cut with a digest of the whole.

    Action and guard names are snake_case, so a cut ref (it holds ``~``) never
    equals another's uncut one.

    Example:
        >>> deadline_ref("finish", "in_time")
        'finish:in_time'
        >>> len(deadline_ref("finish", "x" * 300))
        200
    """
    ref = f"{action}:{guard}"
    if len(ref) <= MAX_REF:
        return ref
    digest = hashlib.sha256(ref.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST]
    return f"{ref[: MAX_REF - _DIGEST - 1]}~{digest}"


def _declared_at(methodology: Methodology, step: str) -> tuple[Declared, ...]:
    found: list[Declared] = []
    for action in methodology.actions_from(step):
        for guard in action.guards:
            if not isinstance(guard, WithinDeadline):
                continue
            try:
                limit = guard.limit
            except OverflowError:  # more days than a timedelta holds: it can never come due
                continue
            found.append(
                Declared(
                    ref=deadline_ref(action.name, guard.name),
                    step=guard.step,
                    limit=limit,
                    description=_UNSTORABLE.sub("\ufffd", guard.message),
                )
            )
    return tuple(found)


def declared(methodology: Methodology, step: str) -> tuple[Declared, ...]:
    """The step deadlines the actions leaving ``step`` declare (worked out once per methodology and step)."""
    cache = methodology._step_deadlines
    found = cache.get(step)
    if found is None:
        found = cache[step] = _declared_at(methodology, step)
    return found


def step_deadlines(
    methodology: Methodology, step: str, entered: Mapping[str, _dt.datetime]
) -> tuple[Promise, ...]:
    """The open step deadlines of a case at ``step``, given when it last entered each step.

    Example:
        >>> import datetime, resolveflow
        >>> m = resolveflow.get_methodology("engage")
        >>> step_deadlines(m, m.initial, {})
        ()
    """
    out: list[Promise] = []
    for item in declared(methodology, step):
        since = entered.get(item.step)
        if since is None:
            continue  # not at that step yet: the guard passes, nothing is promised
        try:
            due = since + item.limit
        except OverflowError:  # past the year 9999: it can never come due
            continue
        out.append(Promise(kind=STEP_DEADLINE, ref=item.ref, description=item.description, due=due))
    return tuple(out)
