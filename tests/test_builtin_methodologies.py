"""What every built-in methodology promises, checked the same way for all five.

- the contract: ids, required steps in order, the seed file it cites;
- the happy path with JSON evidence ends at a successful outcome, through the
  required steps in order;
- at every step, ``case.actions()`` is exactly the methodology's actions from it,
  each with an object-typed JSON Schema;
- a closed case refuses everything with ``case_closed``;
- every step has guidance, and no guidance string copies 8 or more consecutive
  words from the seed text it was encoded from.

The rule-by-rule tests live in ``test_builtin_<id>.py``.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

import resolveflow
from tests._builtin_support import (
    ACTOR,
    BUILTIN_IDS,
    HAPPY_PATHS,
    REQUIRED_STEPS,
    SEED_FILES,
    as_json,
    assert_moves,
    assert_refused,
    fire,
    is_subsequence,
    methodology,
    open_builtin,
    refusal_pairs,
)
from tests.conftest import FakeClock

TESTS_DIR = Path(__file__).resolve().parent
METHODOLOGIES_DIR = TESTS_DIR.parent / "src" / "resolveflow" / "methodologies"
COPIED_RUN = 8  # this many consecutive words shared with the seed count as copied


# --- the contract ---------------------------------------------------------------


def test_the_five_builtins_are_registered() -> None:
    assert set(BUILTIN_IDS) <= set(resolveflow.available())
    for methodology_id in BUILTIN_IDS:
        assert methodology(methodology_id).key == (methodology_id, "1.0")


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_contract_required_steps_and_source(methodology_id: str) -> None:
    m = methodology(methodology_id)
    assert m.id == methodology_id
    assert m.required_steps == REQUIRED_STEPS[methodology_id]
    assert m.initial == REQUIRED_STEPS[methodology_id][0]
    assert m.source == f"shared/seeds/{SEED_FILES[methodology_id]}"
    assert seed_path(m).is_file()
    # Every required step is a working step with guidance, not an outcome.
    for step_id in m.required_steps:
        assert isinstance(m.node(step_id), resolveflow.Step)
    assert m.successful_outcomes, "a methodology needs somewhere to succeed"


# --- the happy path ---------------------------------------------------------------


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_happy_path_with_json_evidence_succeeds(methodology_id: str, clock: FakeClock) -> None:
    m = methodology(methodology_id)
    case = open_builtin(methodology_id, clock)
    for action, make in HAPPY_PATHS[methodology_id]:
        clock.advance(minutes=7)
        spec = m.action(action)
        assert spec is not None
        assert_moves(case, action, make(clock), spec.target_from(case.step))
    assert case.closed
    assert case.outcome is not None
    assert case.outcome.successful
    assert case.outcome.id in m.successful_outcomes
    assert is_subsequence(m.required_steps, case.path), case.path
    # The path is exactly the required steps then the outcome: nothing skipped, nothing extra.
    assert case.path == (*m.required_steps, case.outcome.id)
    assert [e.seq for e in case.history] == list(range(1, len(case.history) + 1))
    assert all(e.actor == ACTOR for e in case.history)
    assert case.verify_chain()
    restored = resolveflow.restore(as_json(case.snapshot()), methodology=m)
    assert (restored.step, restored.path) == (case.step, case.path)


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_a_new_case_cannot_take_any_later_action(methodology_id: str, clock: FakeClock) -> None:
    """Every action that does not leave the initial step is refused there, naming its steps."""
    m = methodology(methodology_id)
    case = open_builtin(methodology_id, clock)
    later = [spec for spec in m.actions if case.step not in spec.sources]
    assert later
    for spec in later:
        decision = case.check(spec.name)
        assert refusal_pairs(decision.refusals) == [
            ("not_from_this_step", tuple(f"step:{s}" for s in spec.sources))
        ]


# --- actions() at every step ------------------------------------------------------


def _tour(methodology_id: str, clock: FakeClock) -> Iterator[resolveflow.Case]:
    """Walk the happy path (and seven-as's reschedule detour), yielding the case at each stop."""
    case = open_builtin(methodology_id, clock)
    yield case
    for action, make in HAPPY_PATHS[methodology_id]:
        if methodology_id == "seven-as" and action == "give_assurance":
            resume_at = clock.now + dt.timedelta(hours=2)
            fire(case, "reschedule", {"resume_at": resume_at.isoformat(), "reason": "Too upset."})
            yield case
            clock.advance(hours=3)
            fire(case, "resume")
            yield case
        fire(case, action, make(clock), clock=clock)
        yield case


def _assert_views_match(case: resolveflow.Case, m: resolveflow.Methodology) -> None:
    views = case.actions()
    expected = m.actions_from(case.step)
    assert [v.name for v in views] == [a.name for a in expected]
    for view, spec in zip(views, expected, strict=True):
        assert view.title == spec.title
        assert view.description == spec.description
        assert view.target == spec.target_from(case.step)
        schema = view.evidence_schema
        assert isinstance(schema, dict)
        assert schema.get("type") == "object"
        assert schema == spec.evidence_schema()
        # A view never disagrees with check() without evidence.
        decision = case.check(view.name)
        assert view.enabled == decision.allowed
        assert view.refusals == decision.refusals
        assert view.pending == decision.pending


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_actions_at_every_step_are_exactly_the_methodologys(methodology_id: str, clock: FakeClock) -> None:
    m = methodology(methodology_id)
    seen: set[str] = set()
    for case in _tour(methodology_id, clock):
        before = (case.step, case.history)
        _assert_views_match(case, m)
        assert (case.step, case.history) == before, "actions() changed the case"
        seen.add(case.step)
    working = {s.id for s in m.steps}
    assert working <= seen, f"the tour never reached {sorted(working - seen)}"
    assert case.closed
    assert case.actions() == ()
    assert m.actions_from(case.step) == ()


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_every_working_step_has_an_action_and_every_action_a_schema(methodology_id: str) -> None:
    m = methodology(methodology_id)
    for step in m.steps:
        assert m.actions_from(step.id), f"{step.id} is a dead end"
    for outcome in m.outcomes:
        assert m.actions_from(outcome.id) == ()
    for spec in m.actions:
        schema = spec.evidence_schema()
        assert isinstance(schema, dict)
        assert schema["type"] == "object"


# --- a closed case ---------------------------------------------------------------


def _valid_evidence_for(methodology_id: str, action: str, clock: FakeClock) -> Any:
    for name, make in HAPPY_PATHS[methodology_id]:
        if name == action:
            return make(clock)
    return None


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_a_closed_case_refuses_everything(methodology_id: str, clock: FakeClock) -> None:
    m = methodology(methodology_id)
    case = open_builtin(methodology_id, clock)
    for action, make in HAPPY_PATHS[methodology_id]:
        fire(case, action, make(clock), clock=clock)
    assert case.closed
    for spec in m.actions:
        evidence = _valid_evidence_for(methodology_id, spec.name, clock)
        refused = assert_refused(case, spec.name, evidence, [("case_closed", ())])
        assert refused.step == case.step
    assert case.overdue(clock.now + dt.timedelta(days=365)) == ()


# --- guidance and the copyright guard --------------------------------------------


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_every_step_has_a_title_and_prompts(methodology_id: str) -> None:
    m = methodology(methodology_id)
    assert m.title.strip()
    for step in m.steps:
        assert step.title.strip(), step.id
        assert step.prompts, f"{step.id} has no prompts"
        assert all(p.strip() for p in step.prompts), step.id
        assert all(c.strip() for c in step.checklist), step.id
    for outcome in m.outcomes:
        assert outcome.title.strip()
    for spec in m.actions:
        assert spec.title.strip()


def _words(text: str) -> list[str]:
    """Lowercase words with punctuation, quotes and apostrophes normalised away."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[\u2018\u2019\u02bc'`]", "", text)  # customer's == customer’s == customers
    return re.findall(r"[a-z0-9]+", text)


def _runs(words: list[str], n: int = COPIED_RUN) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def copied_runs(text: str, seed_runs: set[tuple[str, ...]], n: int = COPIED_RUN) -> list[str]:
    """The runs of ``n`` consecutive words of ``text`` that also occur in the seed."""
    return [" ".join(run) for run in sorted(_runs(_words(text), n) & seed_runs)]


def seed_path(m: resolveflow.Methodology) -> Path:
    """The seed file ``m.source`` cites, found by walking up from the tests (shared/ sits beside main/)."""
    for base in (TESTS_DIR, *TESTS_DIR.parents):
        candidate = base / m.source
        if candidate.is_file():
            return candidate
    pytest.fail(f"cannot find the seed text {m.source!r} cited by {m.id}; the copy check needs it")


def _module_for(m: resolveflow.Methodology) -> Path:
    """The file in methodologies/ whose docstring cites this methodology's source."""
    found = [
        path
        for path in sorted(METHODOLOGIES_DIR.glob("*.py"))
        if m.source in (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "")
    ]
    assert len(found) == 1, f"expected one module citing {m.source}, found {found}"
    return found[0]


def _module_strings(path: Path) -> list[str]:
    """Every string literal in the module (implicit concatenations already joined), docstrings too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _guidance_strings(m: resolveflow.Methodology) -> Iterable[str]:
    """The text the running methodology shows: titles, descriptions, prompts, checklists, guidance."""
    yield m.title
    if m.description:
        yield m.description
    for step in m.steps:
        yield step.title
        yield from step.prompts
        yield from step.checklist
    for outcome in m.outcomes:
        yield outcome.title
        yield from outcome.guidance
    for spec in m.actions:
        yield spec.title
        if spec.description:
            yield spec.description


def _seed_runs(m: resolveflow.Methodology) -> set[tuple[str, ...]]:
    words = _words(seed_path(m).read_text(encoding="utf-8"))
    assert len(words) > 300, f"{m.source} looks truncated ({len(words)} words)"
    return _runs(words)


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_the_copy_detector_catches_a_copied_run_from_the_seed(methodology_id: str) -> None:
    """The guard below can fail: 8 words lifted from the seed (re-cased, re-punctuated) are caught."""
    m = methodology(methodology_id)
    seed_words = _words(seed_path(m).read_text(encoding="utf-8"))
    seed_runs = _runs(seed_words)
    middle = len(seed_words) // 2
    lifted = seed_words[middle : middle + COPIED_RUN]
    disguised = "Note: " + ", ".join(w.upper() for w in lifted) + "!"
    assert copied_runs(disguised, seed_runs) == [" ".join(lifted)]
    # One word fewer is not a copied run.
    assert copied_runs(" ".join(lifted[:-1]), seed_runs) == []
    # Curly and straight apostrophes are the same word.
    assert _words("the customer’s view") == _words("The customer's VIEW.")


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_no_guidance_copies_eight_words_from_the_seed(methodology_id: str) -> None:
    m = methodology(methodology_id)
    seed_runs = _seed_runs(m)
    module = _module_for(m)
    strings = {*_module_strings(module), *_guidance_strings(m)}
    assert len(strings) > 10, f"found too little text in {module.name}"
    copied = {text: runs for text in sorted(strings) if (runs := copied_runs(text, seed_runs))}
    assert copied == {}, f"{module.name} copies runs of {COPIED_RUN}+ words from {m.source}: {copied}"


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_evidence_forms_do_not_copy_the_seed_either(methodology_id: str) -> None:
    """The forms an agent fills in at each step (titles, descriptions) are guidance too."""
    m = methodology(methodology_id)
    seed_runs = _seed_runs(m)

    def texts(schema: Any) -> Iterator[str]:
        if isinstance(schema, dict):
            for key, value in schema.items():
                if key in ("title", "description") and isinstance(value, str):
                    yield value
                else:
                    yield from texts(value)
        elif isinstance(schema, list):
            for item in schema:
                yield from texts(item)

    copied = {
        (spec.name, text): runs
        for spec in m.actions
        for text in texts(spec.evidence_schema())
        if (runs := copied_runs(text, seed_runs))
    }
    assert copied == {}
