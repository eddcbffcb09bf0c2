"""Case: one running resolution, sealed, with its state derived from its history.

A case has no writable state. Its step is the step the last history entry led
to, and the history only grows through :meth:`Case.fire`, which runs the same
path as :meth:`Case.check` and then appends one hash-chained entry. Snapshots
are plain JSON data; restoring them (``_snapshot.py``) replays every entry
through evidence validation, the guards and the hash chain.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, NoReturn

import attrs

from resolveflow._events import Event, Listener, Subscription, deliver, random_id, stable_id
from resolveflow._facts import HistoryFacts, carry_over
from resolveflow._guards import Refusal, make_context
from resolveflow._history import (
    HistoryEntry,
    canonical_text,
    chain_hash,
    entry_hash,
    format_time,
    genesis_hash,
    new_entry,
)
from resolveflow._methodology import Action, Methodology, Outcome, Step
from resolveflow._migration import MIGRATE_ACTION, Migration, check_migration
from resolveflow._schema import INVALID, Errors, is_encodable, record_codec
from resolveflow._slots import slot_writer

if TYPE_CHECKING:
    from resolveflow._view import CaseView
from resolveflow.evidence import Reschedule
from resolveflow.exceptions import (
    InvalidEvidence,
    InvalidInput,
    Refused,
    UnknownAction,
)

Clock = Callable[[], _dt.datetime]
"""A callable returning the current time, time-zone aware (e.g. ``ManualClock`` in tests)."""
SNAPSHOT_FORMAT: Final = "resolveflow.case/1"
_MAX_ID: Final = 200


def system_clock() -> _dt.datetime:
    """The default clock: the current UTC time."""
    return _dt.datetime.now(_dt.UTC)


@attrs.frozen(kw_only=True)
class Decision:
    """The answer to "may this action be taken now?".

    Attributes:
        action: the action asked about.
        allowed: True when nothing refuses it.
        refusals: every reason it is refused (empty when allowed).
        target: the step it would lead to.
        pending: names of guards that read the evidence and were not checked
            because no evidence was given; they run when it is.

    Example:
        >>> import resolveflow
        >>> case = resolveflow.open_case("prescription", case_id="c-1")
        >>> case.check("remedy").allowed
        False
    """

    action: str
    allowed: bool
    refusals: tuple[Refusal, ...]
    target: str
    pending: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible data for an API response."""
        return {
            "action": self.action,
            "allowed": self.allowed,
            "refusals": [r.to_json() for r in self.refusals],
            "target": self.target,
            "pending": list(self.pending),
        }


# check() makes one per refused answer, from checked values (see _slots.py).
_MakeDecision = Callable[[str, bool, tuple[Refusal, ...], str, tuple[str, ...]], Decision]
_make_decision: Final[_MakeDecision] = slot_writer(
    Decision, "action", "allowed", "refusals", "target", "pending"
)


@attrs.frozen(kw_only=True)
class ActionView:
    """One action leaving the current step, as a UI would show it.

    Attributes:
        name: the action's name (what to send back to ``fire``).
        title: a button or form label.
        target: where it leads.
        enabled: True when nothing refuses it now (evidence guards pending).
        refusals: why it is disabled.
        pending: evidence guards that will be checked on submission.
        evidence_schema: the JSON Schema of the form to fill in.
        description: longer help, if any.
    """

    name: str
    title: str
    target: str
    enabled: bool
    refusals: tuple[Refusal, ...]
    pending: tuple[str, ...]
    evidence_schema: dict[str, Any] = attrs.field(eq=False, repr=False)
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible data for an API response."""
        return {
            "name": self.name,
            "title": self.title,
            "target": self.target,
            "enabled": self.enabled,
            "refusals": [r.to_json() for r in self.refusals],
            "pending": list(self.pending),
            "evidence_schema": self.evidence_schema,
            "description": self.description,
        }


@attrs.frozen(kw_only=True)
class OverdueItem:
    """Something promised to the customer whose due time has passed.

    Attributes:
        kind: ``"plan_item"`` or ``"follow_up"``.
        ref: the plan item's id, or the action that scheduled the follow-up.
        description: what was promised.
        due: when it was due.
    """

    kind: str
    ref: str
    description: str
    due: _dt.datetime


@functools.lru_cache(maxsize=4096)
def _allowed(action: str, target: str, pending: tuple[str, ...]) -> Decision:
    """An allowed Decision depends on nothing else, and is immutable: one object per answer."""
    return Decision(action=action, allowed=True, refusals=(), target=target, pending=pending)


def _check_case_id(case_id: object) -> str:
    if (
        not isinstance(case_id, str)
        or not case_id.strip()
        or len(case_id) > _MAX_ID
        or not is_encodable(case_id)
    ):
        raise InvalidInput(
            f"a case id must be non-blank text of at most {_MAX_ID} characters, got {case_id!r}",
            argument="case_id",
        )
    return case_id


def _check_actor(actor: object) -> str:
    if (
        not isinstance(actor, str)
        or not actor.strip()
        or len(actor) > _MAX_ID
        or not (actor.isascii() or is_encodable(actor))
    ):
        raise InvalidInput(
            f"the actor must be non-blank text of at most {_MAX_ID} characters "
            f"(your user's id or name), got {actor!r}",
            argument="actor",
        )
    return actor


def check_time(at: object, argument: str) -> _dt.datetime:
    """A time-zone aware datetime in UTC; naive times are ambiguous and refused (InvalidInput)."""
    if type(at) is _dt.datetime and at.tzinfo is _dt.UTC:
        return at  # the common case, and the one on every hot path
    if not isinstance(at, _dt.datetime):
        raise InvalidInput(f"expected a datetime, got {type(at).__name__}", argument=argument)
    if at.utcoffset() is None:
        raise InvalidInput(
            "needs a time zone (e.g. datetime.now(timezone.utc)); naive times are ambiguous",
            argument=argument,
        )
    return at.astimezone(_dt.UTC)


def _load_evidence(action: Action, evidence: object) -> tuple[object | None, Any, Errors]:
    """Validate evidence for an action: (record, canonical JSON, errors)."""
    errors: Errors = []
    if action.evidence is None:
        if evidence is None or (isinstance(evidence, Mapping) and not evidence):
            return None, None, errors
        errors.append(("", "this action records no evidence; pass none"))
        return None, None, errors
    if evidence is None:
        title = record_codec(action.evidence).title.lower()
        errors.append(("", f"this action records a {title}; none was given"))
        return None, None, errors
    codec = record_codec(action.evidence)
    # Well-formed input (what fire() and restore() nearly always get) in one pass;
    # anything unusual takes the full path below, which names every problem.
    fast = codec.load_dump(evidence)
    if fast is not None:
        return fast[0], fast[1], errors
    if not isinstance(evidence, Mapping | action.evidence):
        errors.append(
            (
                "",
                f"expected a {action.evidence.__name__} or a JSON object, got {type(evidence).__name__}",
            )
        )
        return None, None, errors
    record = codec.load(evidence, "", errors)
    if record is INVALID or errors:
        return None, None, errors
    return record, codec.dump(record), errors


class Case:
    """One customer-recovery case: a methodology, a current step and a sealed history.

    Do not construct it directly: use :func:`resolveflow.open_case` or
    :func:`resolveflow.restore`. Its state cannot be assigned; the only way
    forward is :meth:`fire`, through every guard.

    Example:
        >>> import resolveflow
        >>> case = resolveflow.open_case("prescription", case_id="T-100")
        >>> case.step
        'acknowledge'
        >>> [a.name for a in case.actions()]
        ['acknowledge_problem', 'declare_cannot_satisfy']
    """

    __slots__ = ("_clock", "_history", "_id", "_listeners", "_methodology", "_sealed", "_translated")

    _methodology: Methodology
    _id: str
    _history: tuple[HistoryEntry, ...]
    _clock: Clock
    _listeners: tuple[Subscription, ...]
    # Every entry's (from_step, step) in the current version's ids once the case has
    # been migrated; None before (the recorded ids are the current ones). Kept up to
    # date by _append so that guards never rescan the history for migrations.
    _translated: tuple[tuple[str, str], ...] | None

    def __init__(self, methodology: Methodology, *, case_id: str, clock: Clock | None = None) -> None:
        if not isinstance(methodology, Methodology):
            raise InvalidInput(
                f"expected a Methodology, got {type(methodology).__name__}", argument="methodology"
            )
        if clock is not None and not callable(clock):
            raise InvalidInput("a clock is a callable returning an aware datetime", argument="clock")
        object.__setattr__(self, "_methodology", methodology)
        object.__setattr__(self, "_id", _check_case_id(case_id))
        object.__setattr__(self, "_history", ())
        object.__setattr__(self, "_clock", clock or system_clock)
        object.__setattr__(self, "_listeners", ())
        object.__setattr__(self, "_translated", None)
        object.__setattr__(self, "_sealed", True)

    # --- sealing: no writable state, no copies that skip restore -------------

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(
            f"a Case is read-only ({name!r} cannot be set): move it on with fire(), "
            "which checks every guard; its step comes from its history"
        )

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"a Case is read-only ({name!r} cannot be deleted)")

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError(
            "a Case cannot be pickled or copied; use case.snapshot() and resolveflow.restore(), "
            "which re-check every entry"
        )

    def __repr__(self) -> str:
        return (
            f"<Case {self._id!r} {self._methodology.id}@{self._methodology.version} "
            f"step={self.step!r} entries={len(self._history)}>"
        )

    # --- reading -------------------------------------------------------------

    @property
    def id(self) -> str:
        """The case id your system gave it."""
        return self._id

    @property
    def methodology(self) -> Methodology:
        """The methodology (and version) the case runs."""
        return self._methodology

    @property
    def step(self) -> str:
        """The current step's id: the step the last entry led to, or the initial step."""
        return self._history[-1].step if self._history else self._methodology.initial

    @property
    def current(self) -> Step | Outcome:
        """The current Step (or, once closed, the Outcome), with its guidance."""
        return self._methodology.node(self.step)

    @property
    def outcome(self) -> Outcome | None:
        """The outcome the case ended at, or None while it is open."""
        return self._methodology.outcome(self.step)

    @property
    def closed(self) -> bool:
        """True once the case is at an outcome."""
        return self.outcome is not None

    @property
    def history(self) -> tuple[HistoryEntry, ...]:
        """Every accepted action, oldest first."""
        return self._history

    @property
    def path(self) -> tuple[str, ...]:
        """The steps the case has been at, in order, including the current one."""
        start = self._history[0].from_step if self._history else self._methodology.initial
        return (start, *(e.step for e in self._history if e.step != e.from_step))

    @property
    def opened_with(self) -> str:
        """The methodology version the case was opened with (it differs after a migration)."""
        for entry in self._history:
            if isinstance(entry.evidence, Migration):
                return entry.evidence.from_version
        return self._methodology.version

    def now(self) -> _dt.datetime:
        """The case's clock reading (UTC)."""
        return check_time(self._clock(), "clock")

    @property
    def head(self) -> str:
        """The hash of the last entry (or of the empty history): store it to detect truncation.

        A snapshot cut short and relabelled still replays; keeping the head
        elsewhere (your case table) and passing it to ``restore(head=...)``
        catches that.
        """
        return self._history[-1].hash if self._history else self._genesis()

    def _when(self, at: _dt.datetime | None) -> _dt.datetime:
        """The time of a call: an explicit ``at``, or the clock, never before the last entry."""
        last = self._history[-1].at if self._history else None
        if at is not None:
            return self._forward(check_time(at, "at"))
        when = check_time(self._clock(), "clock")
        # Several servers share a case: a clock a little behind the last writer's
        # must not make the case unusable, so the clock is read as no earlier.
        return max(when, last) if last is not None else when

    # --- deciding ------------------------------------------------------------

    def _action(self, name: object) -> Action:
        action = self._methodology.action(name) if isinstance(name, str) else None
        if action is None:
            raise UnknownAction(
                repr(name) if not isinstance(name, str) else name,
                step=self.step,
                methodology=self._methodology.id,
                available=[a.name for a in self._methodology.actions_from(self.step)],
                closed=self.closed,
            )
        return action

    def _structural_refusal(self, action: Action, step: str) -> Refusal | None:
        """A closed case or a wrong step refuses before evidence or guards are looked at."""
        if step in action.sources:
            return None  # a step an action leaves is never an outcome
        outcome = self._methodology.outcome(step)
        if outcome is not None:
            return Refusal(
                code="case_closed",
                message=f"The case is closed at {outcome.title!r}; no action can be taken.",
            )
        here = ", ".join(a.name for a in self._methodology.actions_from(step)) or "none"
        return Refusal(
            code="not_from_this_step",
            message=(
                f"{action.title!r} can only be taken at {', '.join(action.sources)}; "
                f"the case is at {step!r}, where the actions are: {here}."
            ),
            missing=tuple(f"step:{s}" for s in action.sources),
        )

    def _decide(
        self, action: Action, step: str, record: object | None, at: _dt.datetime
    ) -> tuple[str | None, tuple[Refusal, ...], tuple[str, ...]]:
        refusal = self._structural_refusal(action, step)
        if refusal is not None:
            return None, (refusal,), ()
        return self._run_guards(action, step, record, at)

    def _run_guards(
        self,
        action: Action,
        step: str,
        record: object | None,
        at: _dt.datetime,
        facts: HistoryFacts | None = None,
    ) -> tuple[str | None, tuple[Refusal, ...], tuple[str, ...]]:
        dest, condition = self._methodology._engine.route(step, action.name)
        if record is None:
            if not condition.plain:  # nothing to look at until the evidence comes
                return dest, (), condition.waiting
        elif not condition.guards:
            return dest, (), ()
        context = make_context(step, self._history, record, at, self._translated, facts)
        target, refusals, pending = condition.decide(dest, context)
        return target, tuple(refusals), tuple(pending)

    def check(self, action: str, evidence: object = None, *, at: _dt.datetime | None = None) -> Decision:
        """Say whether an action may be taken now, and why not; changes nothing.

        Without evidence, guards that read the evidence are left ``pending``;
        with evidence, the evidence is validated (problems become an
        ``invalid_evidence`` refusal whose ``missing`` lists the field paths)
        and every guard runs.

        Args:
            action: the action's name.
            evidence: optional typed record or JSON mapping.
            at: the time to decide for (default: the case's clock).

        Returns:
            A :class:`Decision` listing every refusal.

        Raises:
            UnknownAction: the methodology has no such action.
            InvalidInput: ``at`` is naive or earlier than the last entry.

        Example:
            >>> import resolveflow
            >>> case = resolveflow.open_case("seven-as", case_id="c-2")
            >>> [r.code for r in case.check("complete_plan").refusals]
            ['not_from_this_step']
        """
        spec = self._action(action)
        when = self._when(at)
        step = self.step
        record: object | None = None
        refusal = self._structural_refusal(spec, step)
        if refusal is None and evidence is None:
            # An action none of whose guards can run without evidence gets the same
            # answer at a step whatever the case holds: made once per methodology version.
            engine = self._methodology._engine
            known: Decision | None = engine.memo.get((step, spec.name))
            if known is not None:
                return known
            dest, condition = engine.route(step, spec.name)
            if not condition.plain:
                known = engine.memo[(step, spec.name)] = _allowed(spec.name, dest, condition.waiting)
                return known
        if refusal is None and evidence is not None:
            record, _, errors = _load_evidence(spec, evidence)
            if errors:
                return Decision(
                    action=spec.name,
                    allowed=False,
                    refusals=(
                        Refusal(
                            code="invalid_evidence",
                            message="The evidence is not valid: "
                            + "; ".join(f"{p or '<evidence>'}: {m}" for p, m in errors),
                            missing=tuple(p or "<evidence>" for p, _ in errors),
                        ),
                    ),
                    target=spec.target_from(step),
                )
        if refusal is not None:
            refusals: tuple[Refusal, ...] = (refusal,)
            pending: tuple[str, ...] = ()
        else:
            _, refusals, pending = self._run_guards(spec, step, record, when)
        if not refusals:
            return _allowed(spec.name, spec.target_from(step), pending if record is None else ())
        return _make_decision(
            spec.name, False, refusals, spec.target_from(step), pending if record is None else ()
        )

    def actions(self, *, at: _dt.datetime | None = None) -> tuple[ActionView, ...]:
        """Every action leaving the current step, enabled or not, with its form schema.

        Example:
            >>> import resolveflow
            >>> case = resolveflow.open_case("engage", case_id="c-3")
            >>> [(a.name, a.enabled) for a in case.actions()]
            [('engage_fully', True)]
        """
        when = self._when(at)
        step = self.step
        views = []
        for spec in self._methodology.actions_from(step):
            _, refusals, pending = self._decide(spec, step, None, when)
            views.append(
                ActionView(
                    name=spec.name,
                    title=spec.title,
                    target=spec.target_from(step),
                    enabled=not refusals,
                    refusals=refusals,
                    pending=pending,
                    evidence_schema=spec.evidence_schema(),
                    description=spec.description,
                )
            )
        return tuple(views)

    # --- acting --------------------------------------------------------------

    def fire(
        self,
        action: str,
        evidence: object = None,
        *,
        actor: str,
        at: _dt.datetime | None = None,
    ) -> HistoryEntry:
        """Take an action: validate the evidence, check every guard, record one entry.

        Args:
            action: the action's name.
            evidence: a typed record, or a JSON mapping valid for the action's
                ``evidence_schema``; None for actions that record nothing.
            actor: who takes it (your user's id or name).
            at: when (time-zone aware; default: the case's clock). It may not
                be earlier than the last entry.

        Returns:
            The new :class:`HistoryEntry` (already in ``case.history``).

        Raises:
            UnknownAction: the methodology has no such action.
            InvalidInput: blank actor, naive time or a time before the last entry.
            InvalidEvidence: the evidence does not match the schema (paths inside).
            Refused: a guard (or the step, or a closed case) refuses it.

        Example:
            >>> import resolveflow
            >>> case = resolveflow.open_case("engage", case_id="c-4")
            >>> entry = case.fire("engage_fully", {"notes": "Parcel arrived broken."}, actor="ana")
            >>> case.step, entry.seq
            ('empathize', 1)
        """
        spec = self._action(action)
        who = _check_actor(actor)
        when = self._when(at)
        before = self._history[-1].step if self._history else self._methodology.initial
        try:
            entry, _ = self._apply(spec, before, evidence, who, when)
        except Refused as refused:
            if any(s.refusals for s in self._listeners):
                deliver(self._listeners, [self._refusal_event(spec.name, refused, who, when)])
            raise
        self._append(entry)
        if self._listeners:
            deliver(self._listeners, self._events_for(entry, before))
        return entry

    # --- events --------------------------------------------------------------

    def subscribe(self, listener: Listener, *, refusals: bool = False) -> Callable[[], None]:
        """Call ``listener`` with an :class:`~resolveflow.Event` for every accepted action and closing.

        Listeners run after the entry is recorded; one that raises is logged
        (logger ``resolveflow.events``) and never undoes the action.

        Args:
            listener: any callable taking an Event.
            refusals: also send ``action_refused`` events.

        Returns:
            A function that unsubscribes the listener.

        Example:
            >>> import resolveflow
            >>> case = resolveflow.open_case("prescription", case_id="L-1")
            >>> stop = case.subscribe(print, refusals=True)
            >>> stop()
        """
        if not callable(listener):
            raise InvalidInput(f"a listener must be callable, got {listener!r}", argument="listener")
        subscription = Subscription(listener, bool(refusals))
        object.__setattr__(self, "_listeners", (*self._listeners, subscription))

        def unsubscribe() -> None:
            object.__setattr__(self, "_listeners", tuple(s for s in self._listeners if s is not subscription))

        return unsubscribe

    def _envelope(self) -> dict[str, str]:
        return {"id": self._methodology.id, "version": self._methodology.version}

    def _events_for(self, entry: HistoryEntry, previous: str) -> list[Event]:
        events = [
            Event(
                event_id=stable_id(self._id, entry.seq, "action_accepted"),
                type="action_accepted",
                case_id=self._id,
                methodology=self._envelope(),
                seq=entry.seq,
                action=entry.action,
                previous_step=previous,
                current_step=entry.step,
                time=entry.at,
                actor=entry.actor,
            )
        ]
        outcome = self._methodology.outcome(entry.step)
        if outcome is not None:
            events.append(
                attrs.evolve(
                    events[0],
                    event_id=stable_id(self._id, entry.seq, "case_closed"),
                    type="case_closed",
                    outcome=outcome.id,
                )
            )
        return events

    def _refusal_event(self, action: str, refused: Refused, actor: str, at: _dt.datetime) -> Event:
        return Event(
            event_id=random_id(),
            type="action_refused",
            case_id=self._id,
            methodology=self._envelope(),
            seq=len(self._history),
            action=action,
            previous_step=self.step,
            current_step=self.step,
            time=at,
            actor=actor,
            refusals=refused.refusals,
        )

    def _forward(self, at: _dt.datetime) -> _dt.datetime:
        if self._history and at < self._history[-1].at:
            raise InvalidInput(
                f"{format_time(at)} is earlier than the last entry "
                f"({format_time(self._history[-1].at)}); history only moves forward",
                argument="at",
            )
        return at

    def _apply(
        self,
        spec: Action,
        step: str,
        evidence: object,
        actor: str,
        at: _dt.datetime,
        at_text: str | None = None,
        facts: HistoryFacts | None = None,
    ) -> tuple[HistoryEntry, Any]:
        """Everything fire() does short of appending: the path restore() replays too.

        Returns the entry and its evidence as the canonical JSON data it was hashed with.

        ``step`` is the current step and ``at`` a checked UTC time no earlier than the
        last entry (the callers establish both); ``at_text`` is ``format_time(at)``
        when the caller already has it (a replayed entry's stored time), and
        ``facts`` an index of the history that a replay keeps up to date.
        """
        refusal = self._structural_refusal(spec, step)
        if refusal is not None:
            raise Refused(action=spec.name, step=step, refusals=(refusal,))
        record, data, errors = _load_evidence(spec, evidence)
        if errors:
            raise InvalidEvidence(action=spec.name, errors=errors)
        target, refusals, _ = self._run_guards(spec, step, record, at, facts)  # structure checked above
        if refusals or target is None:
            raise Refused(action=spec.name, step=step, refusals=refusals)
        return self._next_entry(spec.name, target, actor, at, record, data, at_text), data

    def _next_entry(
        self,
        action: str,
        step: str,
        actor: str,
        at: _dt.datetime,
        record: object | None,
        data: Any,
        at_text: str | None = None,
    ) -> HistoryEntry:
        """The entry that would follow the current last one, hashed onto the chain."""
        history = self._history
        if history:
            last = history[-1]
            seq, from_step, previous = last.seq + 1, last.step, last.hash
        else:
            seq, from_step, previous = 1, self._methodology.initial, self._genesis()
        digest = chain_hash(
            previous,
            seq=seq,
            action=action,
            from_step=from_step,
            step=step,
            actor=actor,
            at=format_time(at) if at_text is None else at_text,
            evidence=canonical_text(data),
        )
        return new_entry(seq, action, from_step, step, actor, at, record, digest)

    def _append(self, entry: HistoryEntry) -> None:
        """Add an accepted entry; the one place the history grows."""
        old = self._history
        object.__setattr__(self, "_history", (*old, entry))
        carry_over(old, self._history)  # the guards' index of the history, if one is at hand
        if isinstance(entry.evidence, Migration):
            object.__setattr__(self, "_translated", self._translated_steps())
        elif self._translated is not None:
            object.__setattr__(self, "_translated", (*self._translated, (entry.from_step, entry.step)))

    def _genesis(self) -> str:
        return genesis_hash(self._methodology.id, self.opened_with, self._id)

    def _translated_steps(self) -> tuple[tuple[str, str], ...] | None:
        """Every entry's (from_step, step) in the current version's ids; None if never migrated."""
        migrations = [i for i, e in enumerate(self._history) if isinstance(e.evidence, Migration)]
        if not migrations:
            return None
        out: list[tuple[str, str]] = []
        for index, entry in enumerate(self._history):
            source, target = entry.from_step, entry.step
            for later in migrations:
                if later < index:
                    continue
                mapping = self._history[later].evidence
                assert isinstance(mapping, Migration)
                # The migration entry's own from_step is old, its step already new.
                if later == index:
                    source = mapping.target_step(source)
                    continue
                source, target = mapping.target_step(source), mapping.target_step(target)
            out.append((source, target))
        return tuple(out)

    def _in_current_terms(self) -> tuple[list[str], list[tuple[type, str]]]:
        """Visited steps and (record type, step) pairs, in the current version's step ids."""
        if not self._history:
            return [self._methodology.initial], []
        steps = self._translated_steps() or tuple((e.from_step, e.step) for e in self._history)
        visits = [steps[0][0], *(to for source, to in steps if to != source)]
        records = [
            (type(e.evidence), source)
            for e, (source, _) in zip(self._history, steps, strict=True)
            if e.evidence is not None and not isinstance(e.evidence, Migration)
        ]
        return visits, records

    def _migration_entry(
        self, migration: Migration, target: Methodology, actor: str, at: _dt.datetime
    ) -> HistoryEntry:
        """The entry that moves this case onto ``target``; raises Refused with every reason not to."""
        self._forward(at)
        visits, records = self._in_current_terms()
        landing, refusals = check_migration(
            migration, source=self._methodology, target=target, step=self.step, visits=visits, records=records
        )
        if refusals:
            raise Refused(action=MIGRATE_ACTION, step=self.step, refusals=refusals)
        return self._next_entry(MIGRATE_ACTION, landing, actor, at, migration, migration.to_json())

    def _migrated(
        self, migration: Migration, target: Methodology, *, actor: str, at: _dt.datetime | None
    ) -> Case:
        entry = self._migration_entry(migration, target, _check_actor(actor), self._when(at))
        moved = Case(target, case_id=self._id, clock=self._clock)
        object.__setattr__(moved, "_history", self._history)
        moved._append(entry)
        object.__setattr__(moved, "_listeners", self._listeners)
        if moved._listeners:
            deliver(moved._listeners, moved._events_for(entry, self.step))
        return moved

    def verify_chain(self) -> bool:
        """Recompute the hash chain; True when every entry still matches.

        Example:
            >>> import resolveflow
            >>> resolveflow.open_case("engage", case_id="c-5").verify_chain()
            True
        """
        previous = self._genesis()
        for index, entry in enumerate(self._history, start=1):
            if entry.seq != index or entry_hash(previous, entry.body()) != entry.hash:
                return False
            previous = entry.hash
        return True

    # --- the UI contract -----------------------------------------------------

    def view(
        self,
        *,
        at: _dt.datetime | None = None,
        translate: Callable[[str], str] | None = None,
        opened_at: _dt.datetime | None = None,
    ) -> CaseView:
        """Everything a UI shows for the case: step and guidance, progress, actions, deadlines, history.

        Args:
            at: the time to compute for (default: the case's clock).
            translate: a gettext-like callable (e.g. a :class:`~resolveflow.Catalog`)
                applied to titles, guidance, refusal messages and form labels.
            opened_at: when the case was opened, if your system knows, so the
                first step's duration counts from then.

        Example:
            >>> import resolveflow
            >>> view = resolveflow.open_case("seven-as", case_id="V-1").view()
            >>> view.step["title"], view.progress.position, view.progress.total
            ('Acknowledge their feelings', 1, 7)
            >>> sorted(view.to_json())[:3]
            ['actions', 'at', 'case_id']
        """
        from resolveflow._view import build_view

        when = self._when(at)
        return build_view(self, at=when, translate=translate, opened_at=opened_at)

    def durations(
        self, now: _dt.datetime | None = None, *, opened_at: _dt.datetime | None = None
    ) -> dict[str, float]:
        """Seconds spent at each step so far, the current step up to ``now``.

        Without ``opened_at`` the first step counts from the first entry (the
        history does not know when the case was opened).

        Example:
            >>> import resolveflow
            >>> resolveflow.open_case("engage", case_id="D-1").durations()
            {}
        """
        from resolveflow._view import durations_of

        when = self._when(now)
        return durations_of(self, when, None if opened_at is None else check_time(opened_at, "opened_at"))

    # --- deadlines -----------------------------------------------------------

    def overdue(self, now: _dt.datetime | None = None) -> tuple[OverdueItem, ...]:
        """Promises past their due time: open plan items, and a missed follow-up.

        Args:
            now: the time to judge by (default: the case's clock).

        Example:
            >>> import resolveflow
            >>> resolveflow.open_case("seven-as", case_id="c-6").overdue()
            ()
        """
        when = self.now() if now is None else check_time(now, "now")
        found: list[OverdueItem] = []
        if self.closed:
            return ()
        open_items = HistoryFacts(self._history).open_plan_items() or ()
        found.extend(
            OverdueItem(kind="plan_item", ref=item.id, description=item.description, due=item.due)
            for item in open_items
            if item.due < when
        )
        last = self._history[-1] if self._history else None
        if last is not None and isinstance(last.evidence, Reschedule) and last.evidence.resume_at < when:
            found.append(
                OverdueItem(
                    kind="follow_up",
                    ref=last.action,
                    description=last.evidence.reason,
                    due=last.evidence.resume_at,
                )
            )
        return tuple(found)

    # --- snapshots -----------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The case as JSON-compatible data: methodology id and version, case id, history.

        Example:
            >>> import json, resolveflow
            >>> snap = resolveflow.open_case("engage", case_id="c-7").snapshot()
            >>> snap["methodology"], snap["step"]
            ({'id': 'engage', 'version': '1.0'}, 'engage')
        """
        outcome = self.outcome
        return {
            "format": SNAPSHOT_FORMAT,
            "methodology": {"id": self._methodology.id, "version": self._methodology.version},
            "opened_with": self.opened_with,
            "case_id": self._id,
            "step": self.step,
            "outcome": outcome.id if outcome else None,
            "history": [entry.to_json() for entry in self._history],
        }
