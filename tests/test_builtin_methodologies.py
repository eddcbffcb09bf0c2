"""What every built-in methodology promises, checked the same way for all five.

- the contract: ids, required steps in order, and a source a reader can
  follow: a citation in words naming a title or phrase in quotes, never a
  file path (the methodologies shipped as files are held to the same);
- the happy path with JSON evidence ends at a successful outcome, through the
  required steps in order;
- at every step, ``case.actions()`` is exactly the methodology's actions from it,
  each with an object-typed JSON Schema;
- a closed case refuses everything with ``case_closed``;
- every step has guidance, and no guidance string copies 8 or more consecutive
  words from the article it was encoded from. The articles are not in the
  repository: tests/data/source_fingerprints.json holds, per methodology, only
  the hashes of each run of 8 words of its article (made by
  scripts/fingerprint_source.py, whose functions these tests use), and a
  guidance string is copied when one of its own 8-word runs hashes into that set.

The rule-by-rule tests live in ``test_builtin_<id>.py``.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest

import resolveflow
from tests._builtin_support import (
    ACTOR,
    BUILTIN_IDS,
    HAPPY_PATHS,
    REQUIRED_STEPS,
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
FINGERPRINTS = TESTS_DIR / "data" / "source_fingerprints.json"
FINGERPRINT_SCRIPT = TESTS_DIR.parent / "scripts" / "fingerprint_source.py"
COPIED_RUN = 8  # this many consecutive words shared with the source count as copied
SHIPPED_AS_FILES = ("blast", "carp", "heard", "iso-10002", "last", "latte")


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
    assert_is_citation(m.source)
    # Every required step is a working step with guidance, not an outcome.
    for step_id in m.required_steps:
        assert isinstance(m.node(step_id), resolveflow.Step)
    assert m.successful_outcomes, "a methodology needs somewhere to succeed"


def assert_is_citation(source: str) -> None:
    """A source a reader can follow: words naming a title (or the article's own phrase) in quotes."""
    assert source.strip() == source and source, "a blank or padded source"
    assert re.search(r'"[^"]+"|\u201c[^\u201d]+\u201d', source), f"no title in quotes: {source!r}"
    lowered = source.lower()
    for leak in ("/", "\\", "shared", ".txt", "http"):
        assert leak not in lowered, f"{source!r} reads like a path or a link ({leak!r}), not a citation"


@pytest.mark.parametrize("methodology_id", SHIPPED_AS_FILES)
def test_shipped_files_cite_their_source_too(methodology_id: str) -> None:
    assert_is_citation(resolveflow.get_methodology(methodology_id).source)


@pytest.mark.parametrize(
    "bad",
    ["", " ", '  padded "Title" ', "no quotes at all", 'notes/article_1.txt "x"', 'see "x" at notes.txt'],
)
def test_the_citation_check_refuses_paths_and_blanks(bad: str) -> None:
    with pytest.raises(AssertionError):
        assert_is_citation(bad)


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


def fingerprint_script() -> ModuleType:
    """scripts/fingerprint_source.py, whose functions make and read the fingerprints."""
    spec = importlib.util.spec_from_file_location("fingerprint_source", FINGERPRINT_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = fingerprint_script()


def source_fingerprint(methodology_id: str) -> set[str]:
    """The hashes of every 8-word run of the article the built-in was encoded from."""
    data = json.loads(FINGERPRINTS.read_text(encoding="utf-8"))
    assert (data["words"], data["hex_digits"]) == (COPIED_RUN, SCRIPT.HEX_DIGITS)
    prints = data["fingerprints"][methodology_id]
    assert all(re.fullmatch(f"[0-9a-f]{{{SCRIPT.HEX_DIGITS}}}", h) for h in prints)
    return set(prints)


def test_the_fingerprints_are_the_builtins_and_hold_no_text() -> None:
    data = json.loads(FINGERPRINTS.read_text(encoding="utf-8"))
    assert set(data) == {"words", "hex_digits", "fingerprints"}
    assert sorted(data["fingerprints"]) == sorted(BUILTIN_IDS)
    assert SCRIPT.WORDS == COPIED_RUN
    for methodology_id in BUILTIN_IDS:
        # An article of a few hundred words at least; fewer would mean a truncated fingerprint.
        assert len(source_fingerprint(methodology_id)) > 300, methodology_id


def _module_for(m: resolveflow.Methodology) -> Path:
    """The file in methodologies/ that defines this methodology."""
    found = [
        path
        for path in sorted(METHODOLOGIES_DIR.glob("*.py"))
        if path.stem != "__init__"
        and any(
            value is m
            for value in vars(importlib.import_module(f"resolveflow.methodologies.{path.stem}")).values()
        )
    ]
    assert len(found) == 1, f"expected one module defining {m.id}, found {found}"
    return found[0]


def _module_strings(path: Path) -> list[str]:
    """Every string literal in the module (implicit concatenations already joined), docstrings too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _schema_texts(schema: Any) -> Iterator[str]:
    """The titles and descriptions of an evidence form (its JSON Schema)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("title", "description") and isinstance(value, str):
                yield value
            else:
                yield from _schema_texts(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _schema_texts(item)


def _guidance_strings(m: resolveflow.Methodology) -> Iterable[str]:
    """The text the running methodology shows: titles, descriptions, prompts, checklists,
    outcome guidance, refusal messages and the evidence forms' titles and descriptions."""
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
        for guard in spec.guards:
            yield guard.message
        yield from _schema_texts(spec.evidence_schema())


def copied(texts: Iterable[str], prints: set[str]) -> dict[str, list[str]]:
    """Each text with the runs of 8 words it shares with the fingerprinted article."""
    return {text: runs for text in sorted(set(texts)) if (runs := SCRIPT.copied_runs(text, prints))}


SYNTHETIC_SOURCE = (
    "When a parcel goes astray the courier's depot keeps it for nine days, and after that "
    "the sender is asked whether to return it or to try a second address before anything else."
)


def test_the_copy_detector_can_fail(tmp_path: Path) -> None:
    """Eight words lifted from a fingerprinted text (re-cased, re-punctuated) are caught; seven are not."""
    article = tmp_path / "article.txt"
    article.write_text(SYNTHETIC_SOURCE, encoding="utf-8")
    made = subprocess.run(
        [sys.executable, str(FINGERPRINT_SCRIPT), f"synthetic={article}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    printed = json.loads(made.stdout)
    assert (printed["words"], printed["hex_digits"]) == (COPIED_RUN, SCRIPT.HEX_DIGITS)
    prints = set(printed["fingerprints"]["synthetic"])
    assert prints == SCRIPT.fingerprint(SYNTHETIC_SOURCE)
    assert "courier" not in made.stdout, "a fingerprint holds hashes, not words"

    lifted = "the courier’s depot keeps it for nine days"  # 8 words, curly apostrophe
    disguised = "Note: THE Courier's depot -- keeps it, for nine DAYS!"
    m = methodology("engage")
    first = m.steps[0]
    copying = attrs.evolve(
        m,
        steps=(attrs.evolve(first, prompts=(*first.prompts, disguised)), *m.steps[1:]),
        actions=(attrs.evolve(m.actions[0], description=f"Say it: {lifted}."), *m.actions[1:]),
    )
    found = copied(_guidance_strings(copying), prints)
    assert found == {
        disguised: ["the couriers depot keeps it for nine days"],
        f"Say it: {lifted}.": ["the couriers depot keeps it for nine days"],
    }
    # Seven of those words are not a copied run, and the real engage guidance copies nothing here.
    assert copied(["the courier's depot keeps it for nine"], prints) == {}
    assert copied(_guidance_strings(m), prints) == {}


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_no_guidance_copies_eight_words_from_the_source(methodology_id: str) -> None:
    m = methodology(methodology_id)
    prints = source_fingerprint(methodology_id)
    module = _module_for(m)
    strings = {*_module_strings(module), *_guidance_strings(m)}
    assert len(strings) > 10, f"found too little text in {module.name}"
    found = copied(strings, prints)
    assert found == {}, f"{module.name} copies runs of {COPIED_RUN}+ words from its source: {found}"


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_evidence_forms_do_not_copy_the_source_either(methodology_id: str) -> None:
    """The forms an agent fills in at each step (titles, descriptions) are guidance too."""
    m = methodology(methodology_id)
    prints = source_fingerprint(methodology_id)
    texts = [text for spec in m.actions for text in _schema_texts(spec.evidence_schema())]
    assert texts
    assert copied(texts, prints) == {}
