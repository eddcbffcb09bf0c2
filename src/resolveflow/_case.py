"""Case: one running resolution, sealed, with its state derived from its history.

A case is the public face of a ledger (``_ledger.py``), which owns the
history, its index and the one append. A case has no writable state: its
step is where the last entry led, and the history only grows through
:meth:`Case.fire`, which runs the same path as :meth:`Case.check` and then
appends one hash-chained entry. Snapshots are plain JSON data; restoring
them (``_snapshot.py``) replays every entry through the ledger.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any, Final, NoReturn

from resolveflow._actor import Actor
from resolveflow._clock import Clock, check_time, system_clock
from resolveflow._events import Event, Listener, Subscription, accepted_events, deliver, random_id
from resolveflow._history import HistoryEntry
from resolveflow._ledger import Decision, Ledger, check_actor
from resolveflow._methodology import Methodology, Outcome, Step
from resolveflow._migration import Migration
from resolveflow._seal import KeyRing
from resolveflow._shown import shown
from resolveflow._snapshot import definitions_of, snapshot_of
from resolveflow._step_deadlines import step_deadlines
from resolveflow._view import ActionView, CaseView, OverdueItem, build_view, durations_of
from resolveflow.exceptions import InvalidInput, Refused


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
        ['acknowledge_problem']
    """

    __slots__ = ("_clock", "_ledger", "_listeners", "_sealed")

    _ledger: Ledger
    _clock: Clock
    _listeners: tuple[Subscription, ...]

    def __init__(self, ledger: Ledger, *, clock: Clock | None = None) -> None:
        if not isinstance(ledger, Ledger):
            raise InvalidInput(
                "a Case is opened with resolveflow.open_case() or restored with resolveflow.restore()",
                argument="ledger",
            )
        if clock is not None and not callable(clock):
            raise InvalidInput("a clock is a callable returning an aware datetime", argument="clock")
        object.__setattr__(self, "_ledger", ledger)
        object.__setattr__(self, "_clock", clock or system_clock)
        object.__setattr__(self, "_listeners", ())
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
        m = self.methodology
        return f"<Case {self.id!r} {m.id}@{m.version} step={self.step!r} entries={len(self._ledger)}>"

    # --- reading -------------------------------------------------------------

    @property
    def id(self) -> str:
        """The case id your system gave it."""
        return self._ledger.case_id

    @property
    def methodology(self) -> Methodology:
        """The methodology (and version) the case runs."""
        return self._ledger.methodology

    @property
    def step(self) -> str:
        """The current step's id: the step the last entry led to, or the initial step."""
        return self._ledger.step

    @property
    def current(self) -> Step | Outcome:
        """The current Step (or, once closed, the Outcome), with its guidance."""
        return self.methodology.node(self.step)

    @property
    def outcome(self) -> Outcome | None:
        """The outcome the case ended at, or None while it is open."""
        return self.methodology.outcome(self.step)

    @property
    def closed(self) -> bool:
        """True once the case is at an outcome."""
        return self.outcome is not None

    @property
    def history(self) -> tuple[HistoryEntry, ...]:
        """Every accepted action, oldest first."""
        return self._ledger.entries

    @property
    def last(self) -> HistoryEntry | None:
        """The latest entry (None before the first action); cheaper than ``history[-1]``."""
        return self._ledger.last

    @property
    def path(self) -> tuple[str, ...]:
        """The steps the case has been at, in order, including the current one."""
        history = self._ledger.entries
        start = history[0].from_step if history else self.methodology.initial
        return (start, *(e.step for e in history if e.step != e.from_step))

    @property
    def opened_with(self) -> str:
        """The methodology version the case was opened with (it differs after a migration)."""
        return self._ledger.opened_with

    @property
    def definitions(self) -> dict[str, str]:
        """Each methodology version the history was recorded under, with its definition's digest.

        ``restore`` and the store refuse the case under a different definition
        registered with the same id and version (:class:`~resolveflow.exceptions.DefinitionMismatch`).

        Example:
            >>> import resolveflow
            >>> case = resolveflow.open_case("engage", case_id="D-1")
            >>> [(version, digest[:7]) for version, digest in case.definitions.items()]
            [('1.1', 'sha256:')]
        """
        return definitions_of(self._ledger)

    @property
    def hash_recipe(self) -> str:
        """How the history's hashes are made: ``"jcs"`` (RFC 8785 text), or ``"json-sorted"``
        for a case restored from a snapshot of format 1, which keeps the recipe it began with.

        Example:
            >>> import resolveflow
            >>> resolveflow.open_case("engage", case_id="R-1").hash_recipe
            'jcs'
        """
        return self._ledger.recipe

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
        return self._ledger.head

    def _when(self, at: _dt.datetime | None) -> _dt.datetime:
        """The time of a call: an explicit ``at``, or the clock, never before the last entry."""
        if at is not None:
            return self._ledger.forward(check_time(at, "at"))
        when = check_time(self._clock(), "clock")
        last = self._ledger.last
        # Several servers share a case: a clock a little behind the last writer's
        # must not make the case unusable, so the clock is read as no earlier.
        return max(when, last.at) if last is not None else when

    # --- deciding ------------------------------------------------------------

    def check(
        self,
        action: str,
        evidence: object = None,
        *,
        at: _dt.datetime | None = None,
        actor: str | Actor | None = None,
    ) -> Decision:
        """Say whether an action may be taken now, and why not; changes nothing.

        Without evidence, guards that read the evidence are left ``pending``;
        with evidence, the evidence is validated (problems become an
        ``invalid_evidence`` refusal whose ``missing`` lists the field paths)
        and every guard runs. Without an actor, guards that look at who acts
        (roles, four eyes, a hand-off's target) are left ``pending`` too.

        Args:
            action: the action's name.
            evidence: optional typed record or JSON mapping.
            at: the time to decide for (default: the case's clock).
            actor: who would take it (an id or an :class:`~resolveflow.Actor` with roles).

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
        ledger = self._ledger
        who = None if actor is None else check_actor(actor)
        return ledger.check(ledger.action(action), evidence, self._when(at), who)

    def actions(
        self, *, at: _dt.datetime | None = None, actor: str | Actor | None = None
    ) -> tuple[ActionView, ...]:
        """Every action leaving the current step, enabled or not, with its form schema.

        With ``actor``, the answer is for that person: an action their roles do
        not allow is disabled with the refusal saying which role is missing, so
        a UI can grey it out or hide it. Without, such guards are ``pending``.

        Example:
            >>> import resolveflow
            >>> case = resolveflow.open_case("engage", case_id="c-3")
            >>> [(a.name, a.enabled) for a in case.actions()]
            [('engage_fully', True)]
        """
        ledger = self._ledger
        when = self._when(at)
        who = None if actor is None else check_actor(actor)
        step = ledger.step
        views = []
        for spec in self.methodology.actions_from(step):
            _, refusals, pending = ledger.decide(spec, None, when, who)
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
        actor: str | Actor,
        at: _dt.datetime | None = None,
    ) -> HistoryEntry:
        """Take an action: validate the evidence, check every guard, record one entry.

        Args:
            action: the action's name.
            evidence: a typed record, or a JSON mapping valid for the action's
                ``evidence_schema``; None for actions that record nothing.
            actor: who takes it: your user's id, or an :class:`~resolveflow.Actor`
                with the roles your CRM grants them (recorded with the entry).
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
        ledger = self._ledger
        spec = ledger.action(action)
        who = check_actor(actor)
        when = self._when(at)
        before = ledger.step
        try:
            entry = ledger.accept(spec, evidence, who, when)
        except Refused as refused:
            if any(s.refusals for s in self._listeners):
                deliver(self._listeners, [self._refusal_event(spec.name, refused, who, when)])
            raise
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
            raise InvalidInput(f"a listener must be callable, got {shown(listener)}", argument="listener")
        subscription = Subscription(listener, bool(refusals))
        object.__setattr__(self, "_listeners", (*self._listeners, subscription))

        def unsubscribe() -> None:
            object.__setattr__(self, "_listeners", tuple(s for s in self._listeners if s is not subscription))

        return unsubscribe

    def _envelope(self) -> dict[str, str]:
        return {"id": self.methodology.id, "version": self.methodology.version}

    def _events_for(self, entry: HistoryEntry, previous: str) -> list[Event]:
        return accepted_events(self.id, self.methodology, entry, previous)

    def _refusal_event(self, action: str, refused: Refused, actor: Actor, at: _dt.datetime) -> Event:
        return Event(
            event_id=random_id(),
            type="action_refused",
            case_id=self.id,
            methodology=self._envelope(),
            seq=len(self._ledger),
            action=action,
            previous_step=self.step,
            current_step=self.step,
            time=at,
            actor=actor.id,
            refusals=refused.refusals,
        )

    def _migrated(
        self, migration: Migration, target: Methodology, *, actor: str | Actor, at: _dt.datetime | None
    ) -> Case:
        """A new case on ``target`` (see :func:`resolveflow.migrate`); this one is left as it is."""
        if not isinstance(target, Methodology):
            raise InvalidInput(
                f"expected the target version as a Methodology, or None to take it from the registry; "
                f"got {type(target).__name__}",
                argument="target",
            )
        before = self.step
        ledger = self._ledger.migrated(migration, target, check_actor(actor), self._when(at))
        moved = Case(ledger, clock=self._clock)
        object.__setattr__(moved, "_listeners", self._listeners)
        if moved._listeners:
            entry = ledger.last
            assert entry is not None
            deliver(moved._listeners, moved._events_for(entry, before))
        return moved

    def verify_chain(self) -> bool:
        """Recompute the hash chain; True when every entry still matches.

        Example:
            >>> import resolveflow
            >>> resolveflow.open_case("engage", case_id="c-5").verify_chain()
            True
        """
        return self._ledger.verify_chain()

    # --- the UI contract -----------------------------------------------------

    def view(
        self,
        *,
        at: _dt.datetime | None = None,
        translate: Callable[[str], str] | None = None,
        opened_at: _dt.datetime | None = None,
        actor: str | Actor | None = None,
    ) -> CaseView:
        """Everything a UI shows for the case: step and guidance, progress, actions, deadlines, history.

        Args:
            at: the time to compute for (default: the case's clock).
            translate: a gettext-like callable (e.g. a :class:`~resolveflow.Catalog`)
                applied to titles, guidance, refusal messages and form labels.
            opened_at: when the case was opened, if your system knows, so the
                first step's duration counts from then.
            actor: the person looking (an id or an :class:`~resolveflow.Actor`):
                the actions say what they may do and why not.

        Example:
            >>> import resolveflow
            >>> view = resolveflow.open_case("seven-as", case_id="V-1").view()
            >>> view.step["title"], view.progress.position, view.progress.total
            ('Acknowledge their feelings', 1, 7)
            >>> sorted(view.to_json())[:3]
            ['actions', 'at', 'case_id']
        """
        when = self._when(at)
        return build_view(
            self._ledger,
            actions=self.actions(at=when, actor=actor),
            overdue=self.overdue(when),
            at=when,
            translate=translate,
            opened_at=None if opened_at is None else check_time(opened_at, "opened_at"),
        )

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
        when = self._when(now)
        return durations_of(
            self._ledger, when, None if opened_at is None else check_time(opened_at, "opened_at")
        )

    # --- deadlines -----------------------------------------------------------

    def overdue(self, now: _dt.datetime | None = None) -> tuple[OverdueItem, ...]:
        """Promises past their due time: what the recorded evidence promised, and the step's deadlines.

        The built-in records promise plan items (kept by completing them) and
        call-backs (kept by the next action); records of your own can promise
        too (see :class:`resolveflow.evidence.Promise`). The methodology promises
        too: an action leaving the current step that must be taken within a time
        limit (a :class:`~resolveflow.guards.WithinDeadline` guard) is a
        ``"step_deadline"`` promise, ref ``"<action>:<guard name>"``, due that long
        after the case last entered the guard's step, kept when the case leaves
        the step. Record promises come first, oldest first, then step deadlines
        in the order of the actions.

        Args:
            now: the time to judge by (default: the case's clock).

        Example:
            >>> import resolveflow
            >>> resolveflow.open_case("seven-as", case_id="c-6").overdue()
            ()
        """
        when = self.now() if now is None else check_time(now, "now")
        if self.closed:
            return ()
        ledger = self._ledger
        index = ledger.index
        made = tuple(
            OverdueItem(kind=kind, ref=ref, description=promise.description, due=promise.due)
            for (kind, ref), promise in index.promises.items()
            if promise.due < when
        )
        declared = tuple(
            OverdueItem(
                kind=promise.kind, ref=str(promise.ref), description=promise.description, due=promise.due
            )
            for promise in step_deadlines(ledger.methodology, ledger.step, index.entered)
            if promise.due < when
        )
        return made + declared if declared else made

    # --- snapshots -----------------------------------------------------------

    def snapshot(self, *, keys: KeyRing | None = None) -> dict[str, Any]:
        """The case as JSON-compatible data: methodology id and version, case id, history.

        Args:
            keys: seal the history with the ring's current key: the snapshot
                then carries ``"seals"``, one per entry, and a restore given the
                ring trusts each entry whose seal verifies and refuses any other
                (see :class:`~resolveflow.KeyRing`).

        Example:
            >>> import json, resolveflow
            >>> snap = resolveflow.open_case("engage", case_id="c-7").snapshot()
            >>> snap["methodology"], snap["step"]
            ({'id': 'engage', 'version': '1.1'}, 'engage')
        """
        if keys is not None and not isinstance(keys, KeyRing):
            raise InvalidInput(f"expected a resolveflow.KeyRing, got {type(keys).__name__}", argument="keys")
        return snapshot_of(self._ledger, keys)


_LEDGER_SLOT: Final = Case.__dict__["_ledger"]


def case_ledger(case: Case) -> Ledger:
    """The ledger a case was made with, read from ``Case``'s own slot.

    ``case._ledger`` would go through the case's type first, and a subclass can
    put a property of its own there; the slot descriptor cannot be overridden.
    """
    try:
        ledger = _LEDGER_SLOT.__get__(case, Case)
    except AttributeError:  # a Case made without __init__ (object.__new__): the slot is empty
        ledger = None
    if not isinstance(ledger, Ledger):
        raise InvalidInput("expected a Case made by resolveflow.open_case or restore", argument="case")
    return ledger
