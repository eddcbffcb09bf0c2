"""Test any methodology with Hypothesis: strategies, a state machine, and a one-line proof.

Needs the ``testing`` extra (``pip install 'resolveflow[testing]'``).

- :func:`evidence_for` / :func:`invalid_evidence_for`: JSON evidence an
  action's form could post, valid or with one thing wrong.
- :func:`action_sequences`: random walks that mix allowed and refused actions.
- :func:`case_machine`: a ``RuleBasedStateMachine`` with the invariants every
  methodology must keep; a test module needs two lines.
- :func:`assert_no_step_skippable`: the proof from :func:`resolveflow.verify`
  plus a Hypothesis run; fails with the counterexample path.
- :func:`registered`: register methodologies for one test and leave the
  registry as it was afterwards.

Example:
    >>> import resolveflow.testing
    >>> machine = resolveflow.testing.case_machine("prescription")
    >>> machine.__name__
    'CaseMachine_prescription'
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
from collections.abc import Callable, Iterator
from typing import Any

try:
    from hypothesis import settings as _settings
    from hypothesis import strategies as st
    from hypothesis.stateful import (
        RuleBasedStateMachine,
        invariant,
        precondition,
        rule,
        run_state_machine_as_test,
    )
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "resolveflow.testing needs Hypothesis; install it with: pip install 'resolveflow[testing]'"
    ) from error

import resolveflow
from resolveflow import evidence as ev
from resolveflow._actor import Actor
from resolveflow._case import Case
from resolveflow._clock import DEFAULT_START, ManualClock
from resolveflow._methodology import Action, Methodology
from resolveflow._public import publish as _publish
from resolveflow._registry import register as _register
from resolveflow._registry import resolve as _methodology
from resolveflow._registry import unregister as _unregister
from resolveflow.exceptions import InvalidEvidence, InvalidInput, Refused

__all__ = [
    "ManualClock",
    "action_sequences",
    "assert_no_step_skippable",
    "case_machine",
    "evidence_for",
    "invalid_evidence_for",
    "registered",
]

# codec="utf-8" leaves out lone surrogates, which JSON cannot carry.
_TEXT = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=24).filter(
    lambda s: s.strip() != ""
)
_DAYS = 30


def _action(methodology: Methodology, action: Action | str) -> Action:
    name = action.name if isinstance(action, Action) else action
    found = methodology.action(name) if isinstance(name, str) else None
    if found is None:
        names = ", ".join(a.name for a in methodology.actions)
        raise InvalidInput(
            f"{methodology.id} has no action {name!r}; actions are: {names}", argument="action"
        )
    return found


def _times(anchor: _dt.datetime) -> st.SearchStrategy[str]:
    # Both sides of the anchor, so that time guards sometimes pass and sometimes refuse.
    return st.integers(min_value=-_DAYS * 86400, max_value=_DAYS * 86400).map(
        lambda seconds: (anchor + _dt.timedelta(seconds=seconds)).isoformat()
    )


def _from_schema(schema: dict[str, Any], anchor: _dt.datetime) -> st.SearchStrategy[Any]:
    """Valid JSON for the keywords resolveflow's evidence schemas use."""
    if "anyOf" in schema:
        return st.one_of(*(_from_schema(s, anchor) for s in schema["anyOf"]))
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(
            min_value=int(schema.get("minimum", -(10**6))), max_value=int(schema.get("maximum", 10**6))
        )
    if kind == "number":
        return st.floats(
            min_value=schema.get("minimum", -1e6),
            max_value=schema.get("maximum", 1e6),
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "string":
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if schema.get("format") == "date-time":
            return _times(anchor)
        longest = schema.get("maxLength", 24)
        return _TEXT.filter(lambda s: len(s) <= longest)
    if kind == "array":
        return st.lists(
            _from_schema(schema["items"], anchor),
            min_size=schema.get("minItems", 0),
            max_size=max(schema.get("minItems", 0), min(schema.get("maxItems", 3), 3)),
        )
    if kind == "object":
        required = set(schema.get("required", ()))
        props = schema.get("properties", {})
        return st.fixed_dictionaries(
            {k: _from_schema(v, anchor) for k, v in props.items() if k in required},
            optional={k: _from_schema(v, anchor) for k, v in props.items() if k not in required},
        )
    raise InvalidInput(f"schema keyword not supported by the strategies: {schema}", argument="schema")


def _nudged(action: Action, case: Case | None, base: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Aim at what a case's guards accept where the schema alone rarely would."""
    if case is None or action.evidence is not ev.ItemCompletion:
        return base
    plans = [e.evidence for e in case.history if isinstance(e.evidence, ev.Plan)]
    if not plans:
        return base
    ids = [item.id for item in plans[-1].items]
    return st.one_of(base, st.sampled_from(ids).map(lambda item_id: {"item_id": item_id}))


def evidence_for(
    methodology: Methodology | str,
    action: Action | str,
    *,
    around: _dt.datetime | None = None,
    case: Case | None = None,
) -> st.SearchStrategy[Any]:
    """JSON evidence that is valid for the action's ``evidence_schema``.

    Valid for the schema does not mean every guard accepts it: booleans,
    dates and choices vary, so guards sometimes refuse. Give ``case`` to aim
    references (e.g. a plan item's id) at what the case has recorded.

    Args:
        methodology: a Methodology or a registered id.
        action: the action (or its name).
        around: date-times are drawn within 30 days of this (default: the
            ManualClock's start).
        case: optional case whose history references are drawn from.

    Example:
        >>> from resolveflow.testing import evidence_for
        >>> strategy = evidence_for("prescription", "commit_prevention")
        >>> sorted(strategy.example())
        ['customer_told', 'description', 'kind']
    """
    m = _methodology(methodology)
    spec = _action(m, action)
    if spec.evidence is None:
        return st.one_of(st.none(), st.just({}))
    base = _from_schema(spec.evidence_schema(), around or DEFAULT_START)
    return _nudged(spec, case, base)


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=6),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _wrong_for(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = prop.get("type")
    if kind is None:  # an optional field (anyOf with null): wrong is anything but its type or null
        inner = next(s for s in prop["anyOf"] if s.get("type") != "null")
        return _wrong_for(inner).filter(lambda v: v is not None)
    if kind == "string":
        if "enum" in prop:
            return st.one_of(_JUNK.filter(lambda v: v not in prop["enum"]), st.just("not-a-choice"))
        if prop.get("format") == "date-time":
            return st.one_of(
                st.just("tomorrow"),
                st.just("2026-01-05T09:00:00"),
                _JUNK.filter(lambda v: not isinstance(v, str)),
            )
        return st.one_of(st.just(""), st.just("   "), _JUNK.filter(lambda v: not isinstance(v, str)))
    if kind in ("integer", "number"):
        wrong = _JUNK.filter(lambda v: isinstance(v, bool) or not isinstance(v, int | float))
        if "minimum" in prop:
            wrong = st.one_of(wrong, st.just(prop["minimum"] - 1))
        return wrong
    if kind == "boolean":
        return _JUNK.filter(lambda v: not isinstance(v, bool))
    if kind == "array":
        wrong = _JUNK.filter(lambda v: not isinstance(v, list))
        if prop.get("minItems"):
            wrong = st.one_of(wrong, st.just([]))
        return wrong
    return _JUNK.filter(lambda v: not isinstance(v, dict))


@st.composite
def _broken(draw: st.DrawFn, schema: dict[str, Any], anchor: _dt.datetime) -> Any:
    props: dict[str, Any] = schema.get("properties", {})
    if not props:
        return {"unexpected": draw(_JUNK)}
    value = draw(_from_schema(schema, anchor))
    ways = ["extra", "retype", "not_an_object"]
    if schema.get("required"):
        ways.append("drop")
    how = draw(st.sampled_from(ways))
    if how == "not_an_object":
        return draw(st.one_of(st.lists(st.integers(), max_size=2), st.text(max_size=5), st.integers()))
    if how == "extra":
        value["not_a_field"] = draw(_JUNK)
    elif how == "drop":
        value.pop(draw(st.sampled_from(sorted(schema["required"]))))
    else:
        key = draw(st.sampled_from(sorted(props)))
        value[key] = draw(_wrong_for(props[key]))
    return value


def invalid_evidence_for(
    methodology: Methodology | str,
    action: Action | str,
    *,
    around: _dt.datetime | None = None,
) -> st.SearchStrategy[Any]:
    """Evidence with exactly one thing wrong: a missing, extra or mistyped field, or not an object.

    ``case.fire`` must answer every value with :class:`~resolveflow.InvalidEvidence`
    (or a refusal when the action is not possible at the case's step).

    Example:
        >>> from resolveflow.testing import invalid_evidence_for
        >>> strategy = invalid_evidence_for("engage", "engage_fully")
        >>> strategy.example() != {"notes": "x"}
        True
    """
    m = _methodology(methodology)
    spec = _action(m, action)
    schema = spec.evidence_schema()
    return _broken(schema, around or DEFAULT_START)


@st.composite
def _walk(draw: st.DrawFn, m: Methodology, max_size: int) -> list[tuple[str, Any]]:
    # Simulate a case while drawing, so that most moves are possible ones.
    case = resolveflow.open_case(m, case_id="walk", clock=ManualClock())
    moves: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(0, max_size))):
        here = m.actions_from(case.step)
        stay_here = bool(here) and draw(st.integers(0, 3)) > 0
        spec = draw(st.sampled_from(here if stay_here else m.actions))
        if spec.evidence is not None and not draw(st.integers(0, 4)):
            evidence = draw(_broken(spec.evidence_schema(), DEFAULT_START))
        else:
            evidence = draw(evidence_for(m, spec, case=case))
        moves.append((spec.name, evidence))
        with contextlib.suppress(Refused, InvalidEvidence):
            case.fire(spec.name, evidence, actor=_walkers(m)[0])
    return moves


def action_sequences(
    methodology: Methodology | str, *, max_size: int = 20
) -> st.SearchStrategy[list[tuple[str, Any]]]:
    """Random walks: lists of ``(action, evidence)`` mixing allowed and refused moves.

    Most moves are actions of the step the walk has reached, with evidence
    valid for their schema; some are actions from elsewhere, some carry broken
    evidence. Replay them on a case opened with a default
    :class:`ManualClock` to reproduce the walk; refused moves must change nothing.

    Example:
        >>> from resolveflow.testing import action_sequences
        >>> walk = action_sequences("engage", max_size=5).example()
        >>> all(isinstance(name, str) for name, _ in walk)
        True
    """
    m = _methodology(methodology)
    if not isinstance(max_size, int) or max_size < 0:
        raise InvalidInput(f"max_size must be a non-negative int, got {max_size!r}", argument="max_size")
    return _walk(m, max_size)


def _walkers(m: Methodology) -> tuple[Actor, Actor]:
    """The people random walks act as: two, each holding every role the methodology declares."""
    return (Actor("hypothesis", roles=m.roles), Actor("hypothesis-2", roles=m.roles))


def _is_subsequence(needle: tuple[str, ...], haystack: tuple[str, ...]) -> bool:
    it = iter(haystack)
    return all(step in it for step in needle)


def _gives_up(m: Methodology, action: Action) -> bool:
    outcome = m.outcome(action.target) if action.target else None
    return outcome is not None and not outcome.successful


def case_machine(
    methodology: Methodology | str, *, on_outcome: Callable[[str], None] | None = None
) -> type[RuleBasedStateMachine]:
    """A Hypothesis state machine that drives cases of the methodology at random.

    Its rules fire actions (mostly from the current step, sometimes from
    anywhere) with valid and broken evidence while a :class:`ManualClock`
    moves on, call ``check``/``actions`` and round-trip snapshots. After every
    rule it asserts:

    - the case is at a declared step, and every accepted call added exactly one entry;
    - a refused or invalid call changed nothing;
    - a case at a successful outcome has passed every required step in order;
    - ``check()`` and ``actions()`` have no side effects;
    - snapshot -> JSON -> restore reproduces the case; the hash chain verifies.

    Args:
        methodology: a Methodology or a registered id.
        on_outcome: called with the outcome id whenever a walk reaches one
            (handy to show the walks are not vacuous).

    Returns:
        A ``RuleBasedStateMachine`` subclass; its ``TestCase`` is a test.

    Example:
        >>> import resolveflow.testing
        >>> TestPrescription = resolveflow.testing.case_machine("prescription").TestCase
    """
    m = _methodology(methodology)

    class CaseMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = ManualClock()
            self.case = resolveflow.open_case(m, case_id="machine", clock=self.clock)
            self.accepted = 0

        def _fire(self, spec: Action, evidence: object, actor: Actor) -> None:
            before, step = self.case.history, self.case.step
            try:
                entry = self.case.fire(spec.name, evidence, actor=actor)
            except Refused as refused:
                assert refused.refusals, f"{spec.name} was refused without a reason"
                assert all(r.code and r.message for r in refused.refusals)
                self._unchanged(before, step, spec.name)
                return
            except InvalidEvidence as invalid:
                assert invalid.errors, f"{spec.name}: invalid evidence without a field"
                self._unchanged(before, step, spec.name)
                return
            self.accepted += 1
            assert self.case.history == (*before, entry)
            assert step in spec.sources, f"{spec.name} was accepted at {step!r}"
            assert entry.step == spec.target_from(step)
            if on_outcome is not None and self.case.outcome is not None:
                on_outcome(self.case.step)

        def _unchanged(self, before: tuple[Any, ...], step: str, name: str) -> None:
            assert self.case.history == before, f"a refused {name} changed the history"
            assert self.case.step == step, f"a refused {name} moved the case"

        @rule(data=st.data())
        def fire_plausible(self, data: st.DataObject) -> None:
            here = m.actions_from(self.case.step)
            onward = [a for a in here if not _gives_up(m, a)]
            # Giving up ends the walk: take it less often than the way forward.
            go_on = bool(onward) and data.draw(st.integers(0, 3)) > 0
            pool = onward if go_on else here
            if not pool or data.draw(st.integers(0, 4)) == 0:
                pool = m.actions
            spec = data.draw(st.sampled_from(pool))
            # Two people holding every declared role: role guards never hide a path, and a
            # four-eyes guard can be passed by the other one.
            actor = data.draw(st.sampled_from(_walkers(m)))
            strategy = evidence_for(m, spec, around=self.clock.now, case=self.case)
            evidence = data.draw(strategy)
            if data.draw(st.booleans()):
                # Guided: a few more tries for evidence the guards accept, so that walks get
                # deep into long methodologies instead of stalling at the first picky guard.
                for _ in range(4):
                    if self.case.check(spec.name, evidence, actor=actor).allowed:
                        break
                    evidence = data.draw(strategy)
            self._fire(spec, evidence, actor)

        @rule(data=st.data())
        def fire_broken(self, data: st.DataObject) -> None:
            spec = data.draw(st.sampled_from(m.actions))
            evidence = data.draw(invalid_evidence_for(m, spec, around=self.clock.now))
            before, step = self.case.history, self.case.step
            try:
                self.case.fire(spec.name, evidence, actor=_walkers(m)[0])
            except (InvalidEvidence, Refused):
                self._unchanged(before, step, spec.name)
            else:
                raise AssertionError(f"{spec.name} accepted invalid evidence {evidence!r}")

        @rule(hours=st.integers(min_value=0, max_value=240))
        def time_passes(self, hours: int) -> None:
            self.clock.advance(hours=hours)

        @rule(data=st.data())
        def look_without_touching(self, data: st.DataObject) -> None:
            spec = data.draw(st.sampled_from(m.actions))
            before = (self.case.history, self.case.step)
            decision = self.case.check(spec.name)
            views = self.case.actions()
            assert (self.case.history, self.case.step) == before, "check()/actions() changed the case"
            assert [v.name for v in views] == [a.name for a in m.actions_from(self.case.step)]
            assert not decision.allowed or self.case.step in spec.sources

        @precondition(lambda self: bool(self.case.history))
        @rule()
        def snapshot_round_trip(self) -> None:
            data = json.loads(json.dumps(self.case.snapshot()))
            restored = resolveflow.restore(data, methodology=m, clock=self.clock)
            assert restored.history == self.case.history
            assert restored.step == self.case.step

        @invariant()
        def at_a_declared_step(self) -> None:
            assert self.case.step in m.step_ids
            assert len(self.case.history) == self.accepted

        @invariant()
        def successful_outcomes_passed_every_required_step(self) -> None:
            outcome = self.case.outcome
            if outcome is not None and outcome.successful:
                assert _is_subsequence(m.required_steps, self.case.path), (
                    f"reached {outcome.id!r} by {' -> '.join(self.case.path)}, "
                    f"skipping the required order {' -> '.join(m.required_steps)}"
                )

        @invariant()
        def chain_holds(self) -> None:
            assert self.case.verify_chain(), "the hash chain does not verify"

    CaseMachine.__name__ = CaseMachine.__qualname__ = f"CaseMachine_{m.id.replace('-', '_')}"
    return CaseMachine


def assert_no_step_skippable(
    methodology: Methodology | str, *, max_examples: int = 50, step_count: int = 40
) -> None:
    """Prove that no required step can be skipped, then back the proof with a Hypothesis run.

    Raises:
        AssertionError: with the counterexample path when a required step can
            be skipped or passed out of order, or with Hypothesis' minimal
            failing walk when a case breaks an invariant at run time.

    Example:
        >>> from resolveflow.testing import assert_no_step_skippable
        >>> assert_no_step_skippable("prescription", max_examples=5, step_count=10)
    """
    m = _methodology(methodology)
    report = resolveflow.verify(m)
    skips = [f for f in report.findings if f.code.startswith("required_step")]
    if skips:
        lines = [f"{m.id}@{m.version}: a required step can be skipped"]
        lines.extend(f"  {finding}" for finding in skips)
        raise AssertionError("\n".join(lines))
    run_state_machine_as_test(
        case_machine(m),
        settings=_settings(max_examples=max_examples, stateful_step_count=step_count, deadline=None),
    )


@contextlib.contextmanager
def registered(*methodologies: Methodology) -> Iterator[tuple[Methodology, ...]]:
    """Register methodologies for the ``with`` block, then unregister and forget them.

    The registry refuses a different definition under an id and version it
    has seen (cases bind their definition), which would make tests that each
    define their own ``my-flow@1.0`` depend on their order. This undoes the
    registrations completely, so the next test starts from the same registry.

    Raises:
        InvalidMethodology: as :func:`resolveflow.register` (nothing is left registered).

    Example:
        >>> import attrs, resolveflow
        >>> from resolveflow.testing import registered
        >>> mine = attrs.evolve(resolveflow.get_methodology("engage"), id="test-engage")
        >>> with registered(mine):
        ...     resolveflow.get_methodology("test-engage").version
        '1.1'
        >>> "test-engage" in resolveflow.available()
        False
    """
    done: list[Methodology] = []
    try:
        for methodology in methodologies:
            already = (
                methodology.id in resolveflow.available()
                and methodology.version in resolveflow.versions(methodology.id)
            )
            _register(methodology, origin="resolveflow.testing.registered")
            if not already:
                done.append(methodology)
        yield methodologies
    finally:
        for methodology in reversed(done):
            _unregister(methodology.id, methodology.version, forget=True)


_publish(__name__, globals(), __all__)
