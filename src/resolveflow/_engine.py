"""The only module that touches transitions.

One transitions ``Machine`` is built per methodology version, with no model
attached: cases are never added to it (``add_model`` is quadratic and keeps
strong references, and it would graft ``to_<step>()`` and ``trigger()``
shortcuts onto the model). The case itself stays sealed.

Decisions use a dispatch table read once from the Machine's own Events and
Transitions (:meth:`Engine._compile`): our machines attach no callbacks, so
running an event is exactly "find the transition for the source, run its one
condition, take its destination", without transitions' per-call partials,
EventData and logging. :meth:`Engine.decide_through_transitions` runs the same
decision through ``Event.trigger`` on a throw-away cursor, and a property test
holds the two together.

``auto_transitions`` is off and the guards run as a single condition per
transition that always returns a real bool (transitions compares with
``== True``); the refusals are collected on the side so that a refusal can say
why. transitions' own exceptions never leave this module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from transitions import Machine, MachineError

from resolveflow._guards import Guard, GuardContext, run_guard
from resolveflow._refusal import Refusal

# transitions logs every condition and callback at DEBUG/INFO; a CRM's root
# logger at INFO would otherwise receive a line per guard check.
logging.getLogger("transitions").setLevel(logging.WARNING)


class EngineError(RuntimeError):
    """transitions disagreed with the methodology; a bug in resolveflow, not in the caller."""


class _Cursor:
    """A detached stand-in model: carries one state through one trigger."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


class _GuardCondition:
    """The condition transitions evaluates: every guard of the action, all reported."""

    __slots__ = ("guards", "plain", "waiting")

    def __init__(self, guards: Sequence[Guard]) -> None:
        self.guards = tuple(guards)
        # Split once so that a check without evidence knows, before building a
        # GuardContext, whether any guard has anything to look at.
        self.plain = tuple(g for g in self.guards if not g.uses_evidence)
        self.waiting = tuple(g.name for g in self.guards if g.uses_evidence)

    def __call__(self, event_data: Any) -> bool:
        kwargs = event_data.kwargs
        return self.evaluate(kwargs["context"], kwargs["verdict"], kwargs["pending"])

    def decide(self, dest: str, context: GuardContext) -> tuple[str | None, list[Refusal], list[str]]:
        """``dest`` when every guard passes, with the refusals and the guards left pending."""
        verdict: list[Refusal] = []
        pending: list[str] = []
        self.evaluate(context, verdict, pending)
        return (None if verdict else dest), verdict, pending

    def evaluate(self, context: GuardContext, verdict: list[Refusal], pending: list[str]) -> bool:
        skip_evidence = context.evidence is None
        skip_actor = context.actor is None
        for guard in self.guards:
            if (skip_evidence and guard.uses_evidence) or (skip_actor and guard.uses_actor):
                pending.append(guard.name)
                continue
            refusal = run_guard(guard, context)
            if refusal is not None:
                verdict.append(refusal)
        return not verdict


class Engine:
    """Decides actions for one methodology version through a shared transitions Machine."""

    __slots__ = ("_machine", "_table", "memo", "methodology_key")

    def __init__(
        self,
        key: tuple[str, str],
        *,
        states: Sequence[str],
        initial: str,
        actions: Iterable[tuple[str, Sequence[str], str | None, Sequence[Guard]]],
    ) -> None:
        """One Machine for a methodology version ``key``.

        ``actions`` gives each action as ``(name, sources, target, guards)``; the
        methodology (``_methodology.py``) checked them before, and passes plain
        values so that this module needs nothing of it.
        """
        self.methodology_key = key
        transitions = [
            {
                "trigger": name,
                "source": source,
                "dest": target,
                "conditions": [_GuardCondition(guards)],
            }
            for name, sources, target, guards in actions
            for source in sources
        ]
        try:
            self._machine = Machine(
                model=None,
                states=list(states),
                initial=initial,
                transitions=transitions,
                auto_transitions=False,
                send_event=True,
                ignore_invalid_triggers=False,
                name=f"{key[0]}@{key[1]}",
            )
        except (
            MachineError,
            ValueError,
            AttributeError,
        ) as error:  # pragma: no cover - validated before
            raise EngineError(f"transitions rejected {key}: {error}") from error
        self._table = self._compile()
        # Answers that depend only on (step, action), filled in by Case.check: the
        # decision for an action none of whose guards can run without evidence.
        self.memo: dict[tuple[str, str], Any] = {}

    def _compile(self) -> dict[tuple[str, str], tuple[str, _GuardCondition]]:
        """The dispatch table, read off transitions' own Events and Transitions.

        Our machines attach no callbacks (no prepare/before/after, no state
        enter/exit), so running an event is exactly: find the transitions for
        the source, run the one condition, take the destination. Reading that
        once per methodology version takes transitions' per-call machinery
        (partials, EventData, callback resolution, logging) off the hot path
        while transitions still defines and validates the machine.
        """
        table: dict[tuple[str, str], tuple[str, _GuardCondition]] = {}
        for name, event in self._machine.events.items():
            for source, transitions in event.transitions.items():
                (transition,) = transitions  # one Action per name, one transition per source
                (condition,) = transition.conditions
                assert isinstance(condition.func, _GuardCondition) and condition.target is True
                table[(source, name)] = (transition.dest or source, condition.func)
        return table

    def route(self, step: str, action: str) -> tuple[str, _GuardCondition]:
        """Where ``action`` leads from ``step`` and the condition guarding it.

        The caller has already established that ``action`` leaves ``step``.
        """
        found = self._table.get((step, action))
        if found is None:
            raise EngineError(f"{self.methodology_key}: no transition for {action!r} from {step!r}")
        return found

    def decide(
        self, step: str, action: str, context: GuardContext
    ) -> tuple[str | None, list[Refusal], list[str]]:
        """Run ``action`` from ``step``: the target when every guard passes, and the refusals.

        The caller has already established that ``action`` leaves ``step``.
        Returns ``(target or None, refusals, pending guard names)``.
        """
        dest, condition = self.route(step, action)
        return condition.decide(dest, context)

    def decide_through_transitions(
        self, step: str, action: str, context: GuardContext
    ) -> tuple[str | None, list[Refusal], list[str]]:
        """The same decision through transitions' full ``Event.trigger`` (the reference for tests)."""
        cursor = _Cursor(step)
        verdict: list[Refusal] = []
        pending: list[str] = []
        try:
            event = self._machine.events[action]
            moved = event.trigger(cursor, context=context, verdict=verdict, pending=pending)
        except (MachineError, KeyError) as error:
            raise EngineError(
                f"{self.methodology_key}: transitions could not run {action!r} from {step!r}: {error}"
            ) from error
        if moved is not True:
            return None, verdict, pending
        return str(cursor.state), verdict, pending
