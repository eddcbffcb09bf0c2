"""The four ways to run a methodology that the suite compares.

- ``resolveflow``: the library as a CRM uses it (``open_case``, ``Case.fire``,
  ``Case.check``, ``snapshot`` / ``restore``).
- ``transitions``: bare transitions 0.9, used the way its documentation shows:
  one ``Machine`` per methodology, every case a model added with
  ``add_model``, one condition callback per transition running the hand-written
  guard logic, and an ``after_state_change`` callback appending the history.
- ``python-statemachine``: a ``StateMachine`` class with the same states,
  events and ``cond=`` guards; every case is an instance.
- ``floor``: what it costs at least: a dict per case and a precomputed
  ``{step: {action: (target, condition)}}`` table, with the same guard functions.

All of them take the same typed evidence and the same decision time, and
refuse an action by raising. Only resolveflow also validates the evidence,
keeps a hash-chained, JSON-ready history and explains refusals; that work is
part of what its figures measure.
"""

from __future__ import annotations

import abc
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from statemachine import State, StateMachine
from transitions import Machine, MachineError

import resolveflow
from benchmarks.seven_as import ACTOR, Condition, Entry

__all__ = [
    "CONTENDERS",
    "Contender",
    "FloorContender",
    "NotAllowed",
    "ResolveflowContender",
    "StateMachineContender",
    "TransitionsContender",
]


class NotAllowed(Exception):
    """A plain contender refused an action."""


class Contender(abc.ABC):
    """One way of running a methodology; a case is whatever ``open`` returns."""

    name: ClassVar[str]
    live_case_cap: ClassVar[int | None] = None
    """At most this many live cases in the memory benchmarks (None: as many as asked)."""

    def __init__(self, methodology: resolveflow.Methodology, conditions: Mapping[str, Condition]) -> None:
        self.methodology = methodology
        self.conditions = conditions

    @abc.abstractmethod
    def open(self, case_id: str) -> Any:
        """A new case at the initial step."""

    @abc.abstractmethod
    def fire(self, case: Any, action: str, evidence: Any, at: dt.datetime) -> None:
        """Take an action (raise when it is refused)."""

    @abc.abstractmethod
    def check(self, case: Any, actions: Sequence[str], at: dt.datetime) -> int:
        """Decide each of ``actions`` without evidence and without changing the case; count the allowed."""

    @abc.abstractmethod
    def step(self, case: Any) -> str:
        """The case's current step."""

    @abc.abstractmethod
    def store(self, case: Any) -> Any:
        """What a system would keep to bring the case back later."""

    @abc.abstractmethod
    def replay(self, stored: Any, case_id: str) -> Any:
        """Bring a stored case back, re-running every recorded action through the guards."""

    def discard(self, case: Any) -> None:  # noqa: B027 - most contenders need nothing
        """Forget a case (only transitions has to be told)."""


class ResolveflowContender(Contender):
    name = "resolveflow"

    def open(self, case_id: str) -> resolveflow.Case:
        return resolveflow.open_case(self.methodology, case_id=case_id)

    def fire(self, case: resolveflow.Case, action: str, evidence: Any, at: dt.datetime) -> None:
        case.fire(action, evidence, actor=ACTOR, at=at)

    def check(self, case: resolveflow.Case, actions: Sequence[str], at: dt.datetime) -> int:
        return sum(case.check(action, at=at).allowed for action in actions)

    def step(self, case: resolveflow.Case) -> str:
        return case.step

    def store(self, case: resolveflow.Case) -> Any:
        # What a store keeps and loads: the snapshot after a JSON round trip.
        return json.loads(json.dumps(case.snapshot()))

    def replay(self, stored: Any, case_id: str) -> resolveflow.Case:  # noqa: ARG002 - the id is stored
        return resolveflow.restore(stored, methodology=self.methodology)


class _Model:
    """A transitions model: the case's own data; transitions adds state and trigger methods."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.history: list[Entry] = []


def _transitions_condition(condition: Condition) -> Any:
    def check(event: Any) -> bool:
        kwargs = event.kwargs
        return condition(event.model.history, kwargs.get("evidence"), kwargs["at"])

    return check


def _record(event: Any) -> None:
    transition = event.transition
    kwargs = event.kwargs
    event.model.history.append(
        (
            event.event.name,
            transition.source,
            transition.dest or transition.source,
            kwargs.get("evidence"),
            kwargs["at"],
        )
    )


class TransitionsContender(Contender):
    name = "transitions"

    def __init__(self, methodology: resolveflow.Methodology, conditions: Mapping[str, Condition]) -> None:
        super().__init__(methodology, conditions)
        self.machine = Machine(
            model=None,
            states=list(methodology.step_ids),
            initial=methodology.initial,
            transitions=[
                {
                    "trigger": action.name,
                    "source": source,
                    "dest": action.target,  # None: an internal transition (the case stays)
                    "conditions": [_transitions_condition(conditions[action.name])],
                }
                for action in methodology.actions
                for source in action.sources
            ],
            auto_transitions=False,
            send_event=True,
            after_state_change=_record,
            name=methodology.id,
        )

    def open(self, case_id: str) -> _Model:
        model = _Model(case_id)
        self.machine.add_model(model)
        return model

    def fire(self, case: Any, action: str, evidence: Any, at: dt.datetime) -> None:
        try:
            moved = case.trigger(action, evidence=evidence, at=at)
        except MachineError as error:
            raise NotAllowed(str(error)) from error
        if not moved:
            raise NotAllowed(action)

    def check(self, case: Any, actions: Sequence[str], at: dt.datetime) -> int:
        return sum(bool(case.may_trigger(action, evidence=None, at=at)) for action in actions)

    def step(self, case: Any) -> str:
        return str(case.state)

    def store(self, case: Any) -> list[Entry]:
        return list(case.history)

    def replay(self, stored: list[Entry], case_id: str) -> _Model:
        model = self.open(case_id)
        for action, _, _, evidence, at in stored:
            self.fire(model, action, evidence, at)
        return model

    def discard(self, case: Any) -> None:
        self.machine.remove_model(case)


def _statemachine_class(
    methodology: resolveflow.Methodology, conditions: Mapping[str, Condition]
) -> type[StateMachine]:
    outcomes = {o.id for o in methodology.outcomes}
    states = {
        node: State(node, value=node, initial=node == methodology.initial, final=node in outcomes)
        for node in methodology.step_ids
    }
    namespace: dict[str, Any] = dict(states)
    for action in methodology.actions:
        condition = conditions[action.name]

        def cond(
            machine: Any, evidence: Any = None, at: Any = None, _condition: Condition = condition
        ) -> bool:
            return _condition(machine.history, evidence, at)

        transitions = None
        for source in action.sources:
            if action.target is None:
                one = states[source].to.itself(internal=True, cond=cond)  # type: ignore[no-untyped-call]
            else:
                one = states[source].to(states[action.target], cond=cond)
            transitions = one if transitions is None else transitions | one
        namespace[action.name] = transitions

    def after_transition(
        self: Any, event: Any, source: State, target: State, evidence: Any = None, at: Any = None
    ) -> None:
        self.history.append((event.id, source.value, target.value, evidence, at))

    def init(self: Any, case_id: str) -> None:
        self.case_id = case_id
        self.history = []
        StateMachine.__init__(self)

    namespace["after_transition"] = after_transition
    namespace["__init__"] = init
    name = "".join(part.title() for part in methodology.id.split("-")) + "Machine"
    return type(name, (StateMachine,), namespace)


class StateMachineContender(Contender):
    name = "python-statemachine"
    # About 60 KB and 500 allocations per instance: 100,000 of them under tracemalloc would
    # need tens of GB and an hour. Bytes per case do not depend on N here (nothing is
    # shared between instances), so 10,000 measure the same figure.
    live_case_cap = 10_000

    def __init__(self, methodology: resolveflow.Methodology, conditions: Mapping[str, Condition]) -> None:
        super().__init__(methodology, conditions)
        self.cls: Any = _statemachine_class(methodology, conditions)

    def open(self, case_id: str) -> Any:
        return self.cls(case_id)

    def fire(self, case: Any, action: str, evidence: Any, at: dt.datetime) -> None:
        try:
            case.send(action, evidence=evidence, at=at)
        except StateMachine.TransitionNotAllowed as error:
            raise NotAllowed(str(error)) from error

    def check(self, case: Any, actions: Sequence[str], at: dt.datetime) -> int:  # noqa: ARG002
        # enabled_events evaluates every event of the current state, i.e. exactly ``actions``.
        return len(case.enabled_events(evidence=None, at=at))

    def step(self, case: Any) -> str:
        return str(case.current_state_value)

    def store(self, case: Any) -> list[Entry]:
        return list(case.history)

    def replay(self, stored: list[Entry], case_id: str) -> Any:
        machine = self.open(case_id)
        for action, _, _, evidence, at in stored:
            self.fire(machine, action, evidence, at)
        return machine


class FloorContender(Contender):
    """A dict per case and a precomputed table: the least any engine can do."""

    name = "floor"

    def __init__(self, methodology: resolveflow.Methodology, conditions: Mapping[str, Condition]) -> None:
        super().__init__(methodology, conditions)
        self.table: dict[str, dict[str, tuple[str | None, Condition]]] = {
            step: {} for step in methodology.step_ids
        }
        for action in methodology.actions:
            for source in action.sources:
                self.table[source][action.name] = (action.target, conditions[action.name])
        self.initial = methodology.initial

    def open(self, case_id: str) -> dict[str, Any]:
        return {"id": case_id, "step": self.initial, "history": []}

    def fire(self, case: dict[str, Any], action: str, evidence: Any, at: dt.datetime) -> None:
        step = case["step"]
        found = self.table[step].get(action)
        if found is None:
            raise NotAllowed(f"{action} is not possible at {step}")
        target, condition = found
        history = case["history"]
        if not condition(history, evidence, at):
            raise NotAllowed(action)
        target = target or step
        history.append((action, step, target, evidence, at))
        case["step"] = target

    def check(self, case: dict[str, Any], actions: Sequence[str], at: dt.datetime) -> int:
        row = self.table[case["step"]]
        history = case["history"]
        return sum(row[action][1](history, None, at) for action in actions)

    def step(self, case: dict[str, Any]) -> str:
        return str(case["step"])

    def store(self, case: dict[str, Any]) -> list[Entry]:
        return list(case["history"])

    def replay(self, stored: list[Entry], case_id: str) -> dict[str, Any]:
        case = self.open(case_id)
        for action, _, _, evidence, at in stored:
            self.fire(case, action, evidence, at)
        return case


CONTENDERS: tuple[type[Contender], ...] = (
    ResolveflowContender,
    TransitionsContender,
    StateMachineContender,
    FloorContender,
)
"""resolveflow first: ratios are resolveflow / each of the others."""
