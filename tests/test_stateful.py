"""No step can be skipped: random walks over every built-in methodology.

A Hypothesis RuleBasedStateMachine fires random actions (from the right step
or not) with random valid and invalid evidence while the clock moves, and
checks after every step that:
- the case is at a declared step, and its step is the one its history leads to;
- a refused or invalid call changed nothing;
- a case at a successful outcome has passed every required step in order;
- check() and actions() have no side effects;
- snapshot -> JSON -> restore reproduces the case, and the hash chain holds.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import resolveflow
from resolveflow.methodologies import BUILTINS
from tests.conftest import FakeClock
from tests.strategies import broken_json_for_schema, evidence_for


def is_subsequence(needle: tuple[str, ...], haystack: tuple[str, ...]) -> bool:
    it = iter(haystack)
    return all(step in it for step in needle)


def _gives_up(methodology: resolveflow.Methodology, action: resolveflow.Action) -> bool:
    outcome = methodology.outcome(action.target) if action.target else None
    return outcome is not None and not outcome.successful


def make_machine(
    methodology: resolveflow.Methodology, reached: set[str] | None = None
) -> type[RuleBasedStateMachine]:
    class CaseMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = FakeClock()
            self.case = resolveflow.open_case(methodology, case_id="walk", clock=self.clock)
            self.accepted = 0
            self.reached_outcome = False

        def _fire(self, action: resolveflow.Action, evidence: object) -> None:
            before_history = self.case.history
            before_step = self.case.step
            try:
                entry = self.case.fire(action.name, evidence, actor="agent")
            except (resolveflow.Refused, resolveflow.InvalidEvidence) as error:
                assert self.case.history == before_history
                assert self.case.step == before_step
                if isinstance(error, resolveflow.Refused):
                    assert error.refusals, "a refusal must say why"
                    assert all(r.code and r.message for r in error.refusals)
                return
            self.accepted += 1
            if reached is not None and self.case.outcome is not None:
                reached.add(self.case.step)
            assert self.case.history == (*before_history, entry)
            assert entry.from_step == before_step
            assert before_step in action.sources
            assert entry.step == action.target_from(before_step)

        @rule(data=st.data())
        def fire_with_plausible_evidence(self, data: st.DataObject) -> None:
            # Mostly actions from the current step, sometimes any action at all.
            here = methodology.actions_from(self.case.step)
            onward = [a for a in here if not _gives_up(methodology, a)]
            # Closing as a failure ends the walk: take it less often.
            pool = onward if onward and data.draw(st.integers(0, 3)) else here
            if not pool or not data.draw(st.integers(0, 4)):
                pool = methodology.actions
            action = data.draw(st.sampled_from(pool))
            evidence = data.draw(evidence_for(self.case, action, self.clock.now))
            self._fire(action, evidence)

        @rule(data=st.data())
        def fire_with_broken_evidence(self, data: st.DataObject) -> None:
            with_evidence = [a for a in methodology.actions if a.evidence is not None]
            action = data.draw(st.sampled_from(with_evidence))
            evidence = data.draw(broken_json_for_schema(action.evidence_schema(), self.clock.now))
            before = self.case.history
            with pytest.raises((resolveflow.InvalidEvidence, resolveflow.Refused)):
                self.case.fire(action.name, evidence, actor="agent")
            assert self.case.history == before

        @rule(hours=st.integers(min_value=0, max_value=24 * 10))
        def time_passes(self, hours: int) -> None:
            self.clock.advance(hours=hours)

        @rule(data=st.data())
        def check_has_no_side_effects(self, data: st.DataObject) -> None:
            action = data.draw(st.sampled_from(methodology.actions))
            before = (self.case.history, self.case.step)
            decision = self.case.check(action.name)
            views = self.case.actions()
            assert (self.case.history, self.case.step) == before
            assert {v.name for v in views} == {a.name for a in methodology.actions_from(self.case.step)}
            if decision.allowed:
                assert self.case.step in action.sources

        @precondition(lambda self: bool(self.case.history))
        @rule()
        def snapshot_round_trip(self) -> None:
            snapshot = json.loads(json.dumps(self.case.snapshot()))
            restored = resolveflow.restore(snapshot, clock=self.clock)
            assert restored.step == self.case.step
            assert restored.history == self.case.history
            assert restored.snapshot() == self.case.snapshot()

        @invariant()
        def at_a_declared_step(self) -> None:
            assert self.case.step in methodology.step_ids
            assert len(self.case.history) == self.accepted

        @invariant()
        def successful_outcome_passed_every_required_step(self) -> None:
            outcome = self.case.outcome
            if outcome is not None and outcome.successful:
                assert is_subsequence(methodology.required_steps, self.case.path), self.case.path

        @invariant()
        def chain_holds(self) -> None:
            assert self.case.verify_chain()
            assert [e.seq for e in self.case.history] == list(range(1, len(self.case.history) + 1))
            times = [e.at for e in self.case.history]
            assert times == sorted(times)

    CaseMachine.__name__ = f"CaseMachine_{methodology.id.replace('-', '_')}"
    return CaseMachine


for _m in BUILTINS:
    _machine = make_machine(_m)
    globals()[f"TestWalk_{_m.id.replace('-', '_')}"] = _machine.TestCase


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_random_walks_reach_a_successful_outcome(methodology: resolveflow.Methodology) -> None:
    """The walks are not vacuous: they do get cases all the way to success."""
    reached: set[str] = set()
    machine = make_machine(methodology, reached=reached)
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=60, stateful_step_count=60, derandomize=True, deadline=None),
    )
    assert reached & set(methodology.successful_outcomes), reached
