"""Events: what a case tells its listeners, in an envelope fit for webhooks.

Every accepted action produces an ``action_accepted`` event, followed by a
``case_closed`` event when it reached an outcome; listeners that ask for them
also get ``action_refused`` events. The envelope is stable and JSON-ready.
Listeners run after the entry is in the history: a listener that raises is
logged and skipped, and never undoes the recorded action.
"""

from __future__ import annotations

import datetime as _dt
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import attrs

from resolveflow._refusal import Refusal

if TYPE_CHECKING:
    from resolveflow._history import HistoryEntry
    from resolveflow._methodology import Methodology

EVENT_TYPES: Final = ("action_accepted", "action_refused", "case_closed")
_log = logging.getLogger("resolveflow.events")

# Event ids are derived from the case, the sequence number and the type, so a
# webhook consumer can de-duplicate retries; refusals carry a random part.
_NAMESPACE: Final = uuid.UUID("6f1c9a52-3b0e-4d8e-9d1b-5a0c2f7e4b11")


@attrs.frozen(kw_only=True)
class Event:
    """One thing that happened to a case.

    Attributes:
        event_id: unique id (stable for accepted actions and closings, so that
            repeated deliveries can be recognised).
        type: ``action_accepted``, ``action_refused`` or ``case_closed``.
        case_id: the case.
        methodology: ``{"id": ..., "version": ...}``.
        seq: the history entry's sequence number (for a refusal: the last one).
        action: the action taken or refused.
        previous_step: the step before.
        current_step: the step after (unchanged for a refusal).
        time: when (UTC).
        actor: who.
        outcome: the outcome id for ``case_closed``, else None.
        refusals: the reasons, for ``action_refused``.

    Example:
        >>> import resolveflow
        >>> seen = []
        >>> case = resolveflow.open_case("engage", case_id="E-1")
        >>> _ = case.subscribe(seen.append)
        >>> _ = case.fire("engage_fully", {"notes": "Parcel lost."}, actor="ana")
        >>> [e.type for e in seen], seen[0].to_json()["current_step"]
        (['action_accepted'], 'empathize')
    """

    event_id: str
    type: str
    case_id: str
    methodology: dict[str, str] = attrs.field(eq=False)
    seq: int
    action: str
    previous_step: str
    current_step: str
    time: _dt.datetime
    actor: str
    outcome: str | None = None
    refusals: tuple[Refusal, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The envelope as JSON-compatible data."""
        return {
            "event_id": self.event_id,
            "type": self.type,
            "case_id": self.case_id,
            "methodology": dict(self.methodology),
            "seq": self.seq,
            "action": self.action,
            "previous_step": self.previous_step,
            "current_step": self.current_step,
            "time": self.time.astimezone(_dt.UTC).isoformat(),
            "actor": self.actor,
            "outcome": self.outcome,
            "refusals": [r.to_json() for r in self.refusals],
        }


def stable_id(case_id: str, seq: int, kind: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{case_id}\x00{seq}\x00{kind}"))


def accepted_events(
    case_id: str, methodology: Methodology, entry: HistoryEntry, previous: str
) -> list[Event]:
    """The events of an accepted entry: ``action_accepted``, then ``case_closed`` if it reached an outcome.

    ``methodology`` is the definition the case was on once the entry was
    recorded (the target version, for a migration's entry). The store's outbox
    writes exactly these, so a stored event and a subscriber's are the same.
    """
    accepted = Event(
        event_id=stable_id(case_id, entry.seq, "action_accepted"),
        type="action_accepted",
        case_id=case_id,
        methodology={"id": methodology.id, "version": methodology.version},
        seq=entry.seq,
        action=entry.action,
        previous_step=previous,
        current_step=entry.step,
        time=entry.at,
        actor=entry.actor,
    )
    outcome = methodology.outcome(entry.step)
    if outcome is None:
        return [accepted]
    closed = attrs.evolve(
        accepted,
        event_id=stable_id(case_id, entry.seq, "case_closed"),
        type="case_closed",
        outcome=outcome.id,
    )
    return [accepted, closed]


def random_id() -> str:
    return str(uuid.uuid4())


Listener = Callable[[Event], object]


@attrs.frozen
class Subscription:
    listener: Listener
    refusals: bool


def deliver(subscriptions: tuple[Subscription, ...], events: list[Event]) -> None:
    """Call every listener with every event it asked for; a failing listener is logged, not raised."""
    for event in events:
        for subscription in subscriptions:
            if event.type == "action_refused" and not subscription.refusals:
                continue
            try:
                subscription.listener(event)
            except Exception:
                _log.exception(
                    "listener %r failed on %s for case %s; the action stays recorded",
                    subscription.listener,
                    event.type,
                    event.case_id,
                )
