"""Proofs over a methodology's graph: what ``verify`` checks and how.

Cases are not run. Instead the methodology is explored as an abstract machine
whose states are ``(step, facts, k)``:

- ``facts`` are the things guards need that the path so far provides: the
  evidence types recorded (optionally at which step) and the steps visited,
  restricted to those some guard asks for. A guard can pass on a path only if
  everything it :meth:`~resolveflow.guards.Guard.needs` is in the facts; guards that
  need nothing (``EvidenceIs``, ``Rule`` ...) are assumed able to pass. This
  over-approximates what real cases can do, so "no path skips a step" is a
  proof, while a counterexample is a path the graph and the declared needs
  allow (a Rule guard might still block it at run time).
- ``k`` counts how many of the required steps the path has passed, in order
  (greedy subsequence matching, which is exact for "passes r1, then r2, ...").

A breadth-first search over these states gives shortest counterexample paths.
The state space is the product of steps, relevant facts and required steps;
methodologies are small, and the benchmark suite measures a generated one
with 1,000 steps and 5,000 actions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any, Final

import attrs

from resolveflow._guards import Guard, Need
from resolveflow._methodology import Methodology
from resolveflow.exceptions import InvalidInput

Fact = tuple[str, Any, Any]
Facts = frozenset[Fact]
State = tuple[str, Facts, int]

CODES: Final = (
    "required_step_skippable",
    "required_steps_out_of_order",
    "no_successful_outcome",
    "unreachable_step",
    "dead_end",
    "trap",
    "guard_never_satisfiable",
)


@attrs.frozen(kw_only=True)
class PathStep:
    """One action on a counterexample path.

    Attributes:
        action: the action's name.
        from_step: where it was taken.
        to_step: where it led.
    """

    action: str
    from_step: str
    to_step: str

    def __str__(self) -> str:
        return f"{self.from_step} --{self.action}--> {self.to_step}"


@attrs.frozen(kw_only=True)
class Finding:
    """One property that does not hold, with the evidence for it.

    Attributes:
        code: stable identifier of the property, one of
            ``required_step_skippable``, ``required_steps_out_of_order``,
            ``no_successful_outcome``, ``unreachable_step``, ``dead_end``,
            ``trap``, ``guard_never_satisfiable``.
        message: what is wrong, readably.
        step: the step concerned, if any.
        action: the action concerned, if any.
        guard: the guard concerned, if any.
        path: the shortest counterexample path of actions from the initial step
            (empty when the finding has none, e.g. an unreachable step).
    """

    code: str
    message: str
    step: str | None = None
    action: str | None = None
    guard: str | None = None
    path: tuple[PathStep, ...] = ()

    @property
    def actions(self) -> tuple[str, ...]:
        """The counterexample as action names only."""
        return tuple(p.action for p in self.path)

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible data, e.g. for a CI report."""
        return {
            "code": self.code,
            "message": self.message,
            "step": self.step,
            "action": self.action,
            "guard": self.guard,
            "path": [{"action": p.action, "from_step": p.from_step, "to_step": p.to_step} for p in self.path],
        }

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.path:
            text += "\n    path: " + " ; ".join(str(p) for p in self.path)
        return text


@attrs.frozen(kw_only=True)
class VerificationReport:
    """The result of :func:`resolveflow.verify`.

    Attributes:
        methodology: ``(id, version)`` of what was verified.
        findings: every property that does not hold (empty when ``ok``).
        states: how many abstract states were explored (for the curious).
    """

    methodology: tuple[str, str]
    findings: tuple[Finding, ...]
    states: int = attrs.field(default=0, eq=False)

    @property
    def ok(self) -> bool:
        """True when every property holds."""
        return not self.findings

    def codes(self) -> tuple[str, ...]:
        """The findings' codes, in report order."""
        return tuple(f.code for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible data, e.g. for a CI report."""
        mid, version = self.methodology
        return {
            "methodology": {"id": mid, "version": version},
            "ok": self.ok,
            "findings": [f.to_json() for f in self.findings],
        }

    def __str__(self) -> str:
        mid, version = self.methodology
        if self.ok:
            return f"{mid}@{version}: verified, no findings"
        lines = [f"{mid}@{version}: {len(self.findings)} finding(s)"]
        lines.extend(f"  {finding}" for finding in self.findings)
        return "\n".join(lines)


@attrs.frozen
class _Edge:
    action: str
    target: str
    requires: Facts  # every fact the action's guards need, as one set (a subset test per edge)
    produces: Facts


def _fact(need: Need) -> Fact:
    if need.record is not None:
        return ("r", need.record, need.at_step)
    return ("s", need.step, None)


def _satisfied(need: Need, facts: Facts) -> bool:
    return _fact(need) in facts


class _Explorer:
    def __init__(self, methodology: Methodology) -> None:
        self.m = methodology
        record_needs: set[tuple[type, str | None]] = set()
        step_needs: set[str] = set()
        for action in methodology.actions:
            for guard in action.guards:
                for need in guard.needs():
                    if need.record is not None:
                        record_needs.add((need.record, need.at_step))
                    elif need.step is not None:
                        step_needs.add(need.step)
        self.step_needs = step_needs
        self.record_needs = record_needs
        self.edges: dict[str, list[_Edge]] = {node: [] for node in methodology.step_ids}
        for action in methodology.actions:
            requires = frozenset(_fact(n) for g in action.guards for n in g.needs())
            for source in action.sources:
                produced: list[Fact] = []
                if action.evidence is not None:
                    for record, at_step in record_needs:
                        if issubclass(action.evidence, record) and at_step in (None, source):
                            produced.append(("r", record, at_step))
                self.edges[source].append(
                    _Edge(action.name, action.target_from(source), requires, frozenset(produced))
                )
        self.required = methodology.required_steps

    def enter(self, node: str, facts: Facts, k: int) -> tuple[Facts, int]:
        if node in self.step_needs:
            facts = facts | {("s", node, None)}
        if k < len(self.required) and self.required[k] == node:
            k += 1
        return facts, k

    def initial_state(self) -> State:
        facts, k = self.enter(self.m.initial, frozenset(), 0)
        return (self.m.initial, facts, k)

    def state_after(self, visits: list[str], records: list[tuple[type, str]]) -> State:
        """The abstract state of a recorded path: steps visited in order, records with their steps."""
        facts: Facts = frozenset()
        k = 0
        for node in visits:
            facts, k = self.enter(node, facts, k)
        produced = {
            ("r", need, at)
            for record, source in records
            for need, at in self.record_needs
            if issubclass(record, need) and at in (None, source)
        }
        return (visits[-1], facts | produced, k)

    def explore(
        self, first: State | None = None
    ) -> tuple[dict[State, tuple[State, str] | None], dict[State, list[State]]]:
        """Breadth-first over abstract states: (parent links for shortest paths, predecessors)."""
        first = first or self.initial_state()
        parents: dict[State, tuple[State, str] | None] = {first: None}
        predecessors: dict[State, list[State]] = {first: []}
        required = self.required
        count = len(required)
        # What entering each step adds, computed once: the hot loop below runs per edge.
        visit_fact = {node: frozenset({("s", node, None)}) for node in self.step_needs}
        queue = deque([first])
        while queue:
            state = queue.popleft()
            node, facts, k = state
            for edge in self.edges[node]:
                if edge.requires and not edge.requires <= facts:
                    continue
                target = edge.target
                new_facts = facts | edge.produces if edge.produces else facts
                extra = visit_fact.get(target)
                if extra is not None:
                    new_facts = new_facts | extra
                new_k = k + 1 if k < count and required[k] == target else k
                nxt: State = (target, new_facts, new_k)
                known = predecessors.get(nxt)
                if known is None:
                    predecessors[nxt] = [state]
                    parents[nxt] = (state, edge.action)
                    queue.append(nxt)
                else:
                    known.append(state)
        return parents, predecessors


def _path(parents: dict[State, tuple[State, str] | None], state: State) -> tuple[PathStep, ...]:
    steps: list[PathStep] = []
    while (link := parents[state]) is not None:
        previous, action = link
        steps.append(PathStep(action=action, from_step=previous[0], to_step=state[0]))
        state = previous
    return tuple(reversed(steps))


def verify(methodology: Methodology) -> VerificationReport:
    """Prove, from the graph and the guards' needs, that the methodology's rules hold.

    Checks, with the shortest counterexample path when one fails:

    - every required step lies on every path to a successful outcome, in the
      declared order (``required_step_skippable``, ``required_steps_out_of_order``);
    - some successful outcome can be reached (``no_successful_outcome``);
    - every step can be reached (``unreachable_step``);
    - every working step has a way out (``dead_end``) and from everywhere a
      case can get to, some outcome stays reachable (``trap``);
    - every guard's needs (evidence, steps) can have been met before it is
      checked, so no action is dead from a source (``guard_never_satisfiable``).

    Structural rules (valid names, unique actions per step, known steps) are
    enforced when the methodology is built, so a Methodology object never
    fails them.

    Args:
        methodology: the methodology to verify.

    Returns:
        A :class:`VerificationReport`; ``report.ok`` is True when there are no findings.

    Example:
        >>> import resolveflow
        >>> resolveflow.verify(resolveflow.get_methodology("seven-as")).ok
        True
    """
    if not isinstance(methodology, Methodology):
        raise InvalidInput(
            f"expected a Methodology, got {type(methodology).__name__}", argument="methodology"
        )
    m = methodology
    explorer = _Explorer(m)
    parents, predecessors = explorer.explore()
    order = {node: i for i, node in enumerate(m.step_ids)}
    findings: list[Finding] = []

    # Required steps, in order, on every path to a successful outcome.
    successful = set(m.successful_outcomes)
    required = m.required_steps
    worst: dict[str, State] = {}
    for state in parents:  # BFS order: the first hit is the shortest
        node, _, k = state
        if node in successful and k < len(required):
            missing = required[k]
            worst.setdefault(missing, state)
    for missing, state in sorted(worst.items(), key=lambda item: required.index(item[0])):
        path = _path(parents, state)
        visited = {m.initial, *(p.to_step for p in path)}
        if missing in visited:
            before = required[required.index(missing) - 1] if required.index(missing) else None
            findings.append(
                Finding(
                    code="required_steps_out_of_order",
                    message=(
                        f"a path reaches {state[0]!r} without passing {missing!r} after {before!r}; "
                        f"required order: {' -> '.join(required)}"
                    ),
                    step=missing,
                    path=path,
                )
            )
        else:
            findings.append(
                Finding(
                    code="required_step_skippable",
                    message=f"a path reaches successful outcome {state[0]!r} without passing {missing!r}",
                    step=missing,
                    path=path,
                )
            )

    reached_nodes = {state[0] for state in parents}
    if not successful & reached_nodes:
        findings.append(
            Finding(
                code="no_successful_outcome",
                message=f"no successful outcome ({', '.join(sorted(successful))}) can be reached",
            )
        )
    for node in m.step_ids:
        if node not in reached_nodes:
            findings.append(
                Finding(
                    code="unreachable_step",
                    message=f"no path from {m.initial!r} reaches {node!r}",
                    step=node,
                )
            )

    # Dead ends and traps.
    outcomes = {o.id for o in m.outcomes}
    dead_ends = set()
    for step in m.steps:
        if not any(edge.target != step.id for edge in explorer.edges[step.id]):
            dead_ends.add(step.id)
            findings.append(
                Finding(
                    code="dead_end",
                    message=f"no action leads out of step {step.id!r}",
                    step=step.id,
                    path=_first_path_to(parents, step.id),
                )
            )
    can_finish = _can_reach_outcome(predecessors, outcomes)
    trapped: dict[str, State] = {}
    for state in parents:
        node = state[0]
        if node not in outcomes and node not in dead_ends and state not in can_finish:
            trapped.setdefault(node, state)
    for node, state in sorted(trapped.items(), key=lambda item: order[item[0]]):
        findings.append(
            Finding(
                code="trap",
                message=f"a case can reach {node!r} in a state from which no outcome is reachable",
                step=node,
                path=_path(parents, state),
            )
        )

    # Guards whose needs can never be met where they are checked.
    by_step: dict[str, list[State]] = {}
    for state in parents:  # indexed once: scanning every state per action is quadratic
        by_step.setdefault(state[0], []).append(state)
    for action in m.actions:
        needy = [(guard, guard.needs()) for guard in action.guards if guard.needs()]
        if not needy:
            continue
        for source in action.sources:
            at_source = by_step.get(source, [])
            if not at_source:
                continue  # reported as unreachable
            for guard, needs in needy:
                if not any(all(_satisfied(n, state[1]) for n in needs) for state in at_source):
                    findings.append(_never_satisfiable(action.name, source, guard, needs, parents))
    return VerificationReport(methodology=m.key, findings=tuple(findings), states=len(parents))


def _never_satisfiable(
    action: str,
    source: str,
    guard: Guard,
    needs: Iterable[Need],
    parents: dict[State, tuple[State, str] | None],
) -> Finding:
    wanted = ", ".join(n.describe() for n in needs)
    return Finding(
        code="guard_never_satisfiable",
        message=(
            f"guard {guard.name!r} of action {action!r} at step {source!r} needs {wanted}, "
            "which no path records before reaching it"
        ),
        step=source,
        action=action,
        guard=guard.name,
        path=_first_path_to(parents, source),
    )


def _first_path_to(parents: dict[State, tuple[State, str] | None], node: str) -> tuple[PathStep, ...]:
    for state in parents:
        if state[0] == node:
            return _path(parents, state)
    return ()


def _can_reach_outcome(predecessors: dict[State, list[State]], outcomes: set[str]) -> set[State]:
    good = {state for state in predecessors if state[0] in outcomes}
    queue = deque(good)
    while queue:
        state = queue.popleft()
        for previous in predecessors[state]:
            if previous not in good:
                good.add(previous)
                queue.append(previous)
    return good
