"""The methodologies shipped as files in src/resolveflow/methodologies/files/.

A file is ``<id>.toml`` (the id's first version) or ``<id>@<version>.toml`` (a
later version shipped beside it; the earlier file's bytes never change, since
cases bind its digest). For every file:

- it loads with ``resolveflow._files.load_methodology``, under the id and
  version its file name gives, with the contract's required steps, and names
  its source and the variant it ships in a comment at the top;
- ``verify`` finds nothing;
- a happy path with JSON evidence reaches a successful outcome through exactly
  the required steps;
- every step has a title and at least one prompt (the files have no seed text
  to hold a copy guard against, unlike the built-ins);
- ``actions()`` agrees with ``check()`` at every step of the happy path, and a
  closed case refuses everything;
- random walks with ``resolveflow.testing.case_machine`` keep every case
  invariant (no step skipped, refusals change nothing, snapshots restore);
- its docs page names every step, outcome and action; the diagram on the page
  (drawn from the latest version) has exactly that version's edges.

Then, per methodology, each ordering rule it encodes is refused with its code
(a guard's name, or ``not_from_this_step`` where the graph itself is the rule)
and the refused call changes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import resolveflow
import resolveflow.testing
from resolveflow import Actor
from resolveflow.files import definition_digest, load_methodology
from resolveflow.methodologies import ISO_10002_1_0_TO_1_1
from tests._builtin_support import (
    ACTOR,
    as_json,
    assert_invalid,
    assert_moves,
    assert_refused,
    refusal_pairs,
)
from tests._walks import walk_until
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[1]
FILES_DIR = ROOT / "src" / "resolveflow" / "methodologies" / "files"
DOCS_DIR = ROOT / "docs" / "methodologies"

# The contract: each file's id and its required steps, in order.
REQUIRED_STEPS: dict[str, tuple[str, ...]] = {
    "heard": ("hear", "empathize", "apologize", "resolve", "diagnose"),
    "last": ("listen", "apologize", "solve", "thank"),
    "blast": ("believe", "listen", "apologize", "satisfy", "thank"),
    "latte": ("listen", "acknowledge", "take_action", "thank", "explain"),
    "iso-10002": (
        "receipt",
        "acknowledgement",
        "initial_assessment",
        "investigation",
        "response",
        "communicate_decision",
        "closing",
    ),
    "carp": ("control", "acknowledge", "refocus", "problem_solve"),
}
FILE_IDS = tuple(REQUIRED_STEPS)
# Every shipped file by its name without ".toml": "<id>" is the first version, "<id>@<version>" a later one.
LATER_FILES = ("iso-10002@1.1",)
FILES = (*FILE_IDS, *LATER_FILES)
# The roles each file declares; the desk's demo agents and the docs pages are checked against the registry.
ROLES: dict[str, tuple[str, ...]] = dict.fromkeys(FILE_IDS, ()) | {"iso-10002@1.1": ("complaints_manager",)}
# Stored iso-10002 1.0 cases bind this digest (taken from iso-10002.toml before 1.1 was added beside it):
# if it changes, every one of them refuses to restore (DefinitionMismatch). Never edit that file.
ISO_10002_1_0_DIGEST = "sha256:8827daff25be162ba1f814bce0ca499b976a5d9da0e996e19e29ab6b30a06500"


def id_and_version(name: str) -> tuple[str, str]:
    methodology_id, _, version = name.partition("@")
    return methodology_id, version or "1.0"


@functools.cache
def methodology(name: str) -> resolveflow.Methodology:
    """A shipped file by name: ``"iso-10002"`` is 1.0, ``"iso-10002@1.1"`` is 1.1."""
    return load_methodology(FILES_DIR / f"{name}.toml")


def actor_for(case: resolveflow.Case) -> str | Actor:
    """The test agent, holding every role the case's methodology declares (none: the plain id)."""
    roles = case.methodology.roles
    return Actor(ACTOR, roles=roles) if roles else ACTOR


def fire(
    case: resolveflow.Case, action: str, evidence: Any = None, *, clock: FakeClock | None = None
) -> resolveflow.HistoryEntry:
    """Fire with JSON evidence, a few minutes after the previous action, as the test agent."""
    if clock is not None:
        clock.advance(minutes=5)
    return case.fire(action, as_json(evidence), actor=actor_for(case))


def open_file_case(name: str, clock: FakeClock, case_id: str = "CASE-1") -> resolveflow.Case:
    return resolveflow.open_case(methodology(name), case_id=case_id, clock=clock)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


# --- JSON evidence for the happy paths ---------------------------------------------

Walk = list[tuple[str, Callable[[FakeClock], Any]]]

HAPPY_PATHS: dict[str, Walk] = {
    "heard": [
        (
            "hear_out",
            lambda c: {"points": ["Room not cleaned", "Front desk shrugged"], "customer_finished": True},
        ),
        (
            "show_empathy",
            lambda c: {"statement": "Coming back to an unmade room after a long day is miserable."},
        ),
        ("give_apology", lambda c: {"statement": "I am sorry we let you down today."}),
        ("propose_remedy", lambda c: {"description": "Clean the room now and waive tonight's rate."}),
        ("remedy_accepted", lambda c: {"solution": "Room cleaned now, night waived", "accepted": True}),
        (
            "close_resolved",
            lambda c: {
                "root_cause": "Late checkouts were not passed to housekeeping.",
                "prevention": "The front desk now flags late checkouts on the housekeeping board.",
                "prevention_kind": "procedure_change",
                "owner": "Front office manager",
            },
        ),
    ],
    "last": [
        ("hear_customer", lambda c: {"summary": "The ride broke down twice and nobody explained."}),
        ("give_apology", lambda c: {"statement": "I am sorry your visit was spoiled like that."}),
        ("propose_solution", lambda c: {"description": "Two return passes for this afternoon."}),
        ("solution_accepted", lambda c: {"solution": "Two return passes", "accepted": True}),
        ("thank_customer", lambda c: {"statement": "Thank you for telling us; it helps us fix it."}),
    ],
    "blast": [
        ("believe_customer", lambda c: {"concern": "Order was cold on arrival.", "taken_at_word": True}),
        ("hear_customer", lambda c: {"summary": "Delivery took 70 minutes and the food was cold."}),
        ("give_apology", lambda c: {"statement": "I am sorry, that is not the meal you paid for."}),
        ("offer_solution", lambda c: {"description": "A fresh meal delivered now, free of charge."}),
        ("confirm_satisfied", lambda c: {"satisfied": True, "comment": "That works."}),
        ("thank_customer", lambda c: {"statement": "Thanks for letting us know and giving us a chance."}),
    ],
    "latte": [
        ("hear_customer", lambda c: {"summary": "My latte was made with the wrong milk."}),
        (
            "acknowledge_complaint",
            lambda c: {"restated": "You asked for oat milk and got dairy.", "feelings": "Annoyed"},
        ),
        ("act_now", lambda c: {"action": "Remade the drink with oat milk.", "taken_at": iso(c.now)}),
        ("thank_customer", lambda c: {"statement": "Thank you for telling us straight away."}),
        (
            "give_explanation",
            lambda c: {
                "cause": "The order label was misprinted during the rush.",
                "what_changes": "Milk choices are now called back at hand-off.",
            },
        ),
    ],
    "iso-10002": [
        (
            "register_complaint",
            lambda c: {
                "reference": "CMP-2026-0042",
                "complainant": "J. Rivera",
                "description": "Invoiced for a service that was cancelled in writing.",
                "remedy_sought": "Cancel the invoice.",
                "channel": "email",
                "received_at": iso(c.now - dt.timedelta(minutes=30)),
            },
        ),
        ("send_acknowledgement", lambda c: {"channel": "email", "sent_at": iso(c.now)}),
        (
            "assess_complaint",
            lambda c: {
                "severity": "medium",
                "safety_risk": False,
                "complexity": "simple",
                "impact": "One customer billed 240 EUR in error.",
                "immediate_action_needed": False,
            },
        ),
        (
            "record_findings",
            lambda c: {
                "circumstances": "The cancellation email was filed but the contract stayed active.",
                "cause": "Cancellations by email are not linked to billing.",
                "information_reviewed": ["Cancellation email", "Billing record", "Contract history"],
            },
        ),
        (
            "decide_response",
            lambda c: {
                "decision": "Cancel the invoice and confirm the contract end date.",
                "corrective_action": "Credit note issued.",
                "prevention": "Email cancellations now open a billing task.",
            },
        ),
        (
            "inform_complainant",
            lambda c: {
                "summary": "Invoice cancelled, credit note attached.",
                "channel": "email",
                "communicated_at": iso(c.now),
            },
        ),
        ("complainant_accepts", lambda c: {"reaction": "Thanks, that settles it."}),
        (
            "close_complaint",
            lambda c: {"carried_out": "Credit note sent, contract closed.", "completed_at": iso(c.now)},
        ),
    ],
    "carp": [
        (
            "take_control",
            lambda c: {
                "approach": "Used his name, lowered my voice, said I can sort it.",
                "customer_responding": True,
            },
        ),
        ("acknowledge_feelings", lambda c: {"feelings": "Furious at being sent away twice."}),
        (
            "refocus_conversation",
            lambda c: {"bridge": "Shall we look at the permit together?", "customer_ready": True},
        ),
        ("offer_option", lambda c: {"description": "Process the permit today while he waits."}),
        ("agree_solution", lambda c: {"solution": "Permit processed today", "accepted": True}),
    ],
}
# 1.1 judges significance before the assessment; the agent holds complaints_manager (see actor_for).
HAPPY_PATHS["iso-10002@1.1"] = [
    *HAPPY_PATHS["iso-10002"][:2],
    ("judge_not_significant", lambda c: {"significant": False, "top_management_notified": False}),
    *HAPPY_PATHS["iso-10002"][2:],
]


def walk(case: resolveflow.Case, clock: FakeClock, actions: Walk, *, upto: str | None = None) -> None:
    """Fire a walk's actions in order; stop before the first action taken at step ``upto``."""
    for action, make in actions:
        if upto is not None and case.step == upto:
            return
        fire(case, action, make(clock), clock=clock)
    if upto is not None:
        assert case.step == upto, f"the walk never reached {upto!r}"


def case_at(methodology_id: str, step: str, clock: FakeClock) -> resolveflow.Case:
    """A fresh case walked along the happy path to ``step`` (before any action there)."""
    case = open_file_case(methodology_id, clock)
    walk(case, clock, HAPPY_PATHS[methodology_id], upto=step)
    return case


def guard_names(methodology_id: str, action: str) -> list[str]:
    spec = methodology(methodology_id).action(action)
    assert spec is not None, action
    return [g.name for g in spec.guards]


def evidence_for(methodology_id: str, action: str, clock: FakeClock) -> Any:
    for name, make in HAPPY_PATHS[methodology_id]:
        if name == action:
            return make(clock)
    return None


# --- every file -------------------------------------------------------------------


def test_the_files_are_exactly_the_expected_methodologies() -> None:
    assert {p.stem for p in FILES_DIR.glob("*.toml")} == set(FILES)
    # One format for the shipped files, so that nothing is loaded twice under another extension.
    assert not [p.name for p in FILES_DIR.iterdir() if p.suffix in {".yaml", ".yml", ".json"}]


@pytest.mark.parametrize("methodology_id", FILES)
def test_file_loads_with_the_contract(methodology_id: str) -> None:
    m = methodology(methodology_id)
    assert isinstance(m, resolveflow.Methodology)
    assert m.key == id_and_version(methodology_id)
    assert m.roles == ROLES[methodology_id]
    assert m.required_steps == REQUIRED_STEPS[m.id]
    assert m.initial == REQUIRED_STEPS[m.id][0]
    for step_id in m.required_steps:
        assert isinstance(m.node(step_id), resolveflow.Step)
    assert m.successful_outcomes
    # The source is a citation in words: no invented links.
    assert m.source.strip()
    assert "http" not in m.source
    assert m.description
    # Loading again gives an equal definition, so registering it twice is harmless.
    assert load_methodology(FILES_DIR / f"{methodology_id}.toml") == m


@pytest.mark.parametrize("methodology_id", FILES)
def test_file_names_its_variant_in_a_leading_comment(methodology_id: str) -> None:
    text = (FILES_DIR / f"{methodology_id}.toml").read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    assert any("Variant shipped" in line for line in header), "say which variant the file ships"
    assert text.startswith("# ")


@pytest.mark.parametrize("methodology_id", FILES)
def test_file_verifies_clean(methodology_id: str) -> None:
    report = resolveflow.verify(methodology(methodology_id))
    assert report.ok, str(report)
    assert report.findings == ()


@pytest.mark.parametrize("methodology_id", FILES)
def test_every_step_has_a_title_and_a_prompt(methodology_id: str) -> None:
    m = methodology(methodology_id)
    for step in m.steps:
        assert step.title.strip(), step.id
        assert step.prompts, f"{step.id} has no prompt"
        assert all(p.strip() for p in step.prompts)
        assert step.checklist, f"{step.id} has no checklist"
    for outcome in m.outcomes:
        assert outcome.title.strip()
        assert outcome.guidance, outcome.id


@pytest.mark.parametrize("methodology_id", FILES)
def test_happy_path_with_json_evidence_succeeds(methodology_id: str, clock: FakeClock) -> None:
    m = methodology(methodology_id)
    case = open_file_case(methodology_id, clock)
    for action, make in HAPPY_PATHS[methodology_id]:
        clock.advance(minutes=7)
        spec = m.action(action)
        assert spec is not None, action
        to = spec.target_from(case.step)
        decision = case.check(action, as_json(make(clock)), actor=actor_for(case))
        assert decision.allowed, refusal_pairs(decision.refusals)
        entry = fire(case, action, make(clock))
        assert (entry.action, entry.step, entry.actor) == (action, to, ACTOR)
    assert case.closed
    assert case.outcome is not None
    assert case.outcome.successful
    assert case.path == (*m.required_steps, case.outcome.id)
    assert all(e.actor == ACTOR for e in case.history)
    assert case.verify_chain()
    restored = resolveflow.restore(as_json(case.snapshot()), methodology=m)
    assert (restored.step, restored.path, restored.head) == (case.step, case.path, case.head)


@pytest.mark.parametrize("methodology_id", FILES)
def test_a_new_case_cannot_take_any_later_action(methodology_id: str, clock: FakeClock) -> None:
    m = methodology(methodology_id)
    case = open_file_case(methodology_id, clock)
    later = [spec for spec in m.actions if case.step not in spec.sources]
    assert later
    for spec in later:
        assert refusal_pairs(case.check(spec.name).refusals) == [
            ("not_from_this_step", tuple(f"step:{s}" for s in spec.sources))
        ]


@pytest.mark.parametrize("methodology_id", FILES)
def test_actions_agree_with_check_along_the_happy_path(methodology_id: str, clock: FakeClock) -> None:
    m = methodology(methodology_id)
    case = open_file_case(methodology_id, clock)
    seen = set()
    for action, make in [*HAPPY_PATHS[methodology_id], (None, None)]:
        seen.add(case.step)
        views = case.actions()
        assert [v.name for v in views] == [a.name for a in m.actions_from(case.step)]
        for view in views:
            spec = m.action(view.name)
            assert spec is not None
            assert view.evidence_schema == spec.evidence_schema()
            assert view.evidence_schema["type"] == "object"
            decision = case.check(view.name)  # for nobody in particular, like actions()
            assert (view.enabled, view.refusals, view.pending) == (
                decision.allowed,
                decision.refusals,
                decision.pending,
            )
        if action is not None:
            assert make is not None
            fire(case, action, make(clock), clock=clock)
    assert {s.id for s in m.steps} <= seen
    assert case.actions() == ()


@pytest.mark.parametrize("methodology_id", FILES)
def test_a_closed_case_refuses_everything(methodology_id: str, clock: FakeClock) -> None:
    m = methodology(methodology_id)
    case = open_file_case(methodology_id, clock)
    walk(case, clock, HAPPY_PATHS[methodology_id])
    assert case.closed
    for spec in m.actions:
        assert_refused(case, spec.name, evidence_for(methodology_id, spec.name, clock), [("case_closed", ())])


@pytest.mark.parametrize("methodology_id", FILES)
def test_random_walks_keep_the_invariants(methodology_id: str) -> None:
    """resolveflow.testing's state machine: no step skipped, refusals change nothing, snapshots restore.

    The walks are not vacuous: they close cases. (Reaching the successful
    outcome at random is not asserted; the happy path above does that.)
    """
    m = methodology(methodology_id)
    # Longer methodologies need longer walks to get anywhere near an outcome (tests/_walks.py).
    steps = 12 * len(m.required_steps)
    reached = walk_until(m, bool, ((25, steps), (80, steps), (150, steps)))
    assert reached, "no random walk closed a case"


# --- docs pages -------------------------------------------------------------------

EDGE = re.compile(r"^\s*(\w+|\[\*\])\s*-->\s*(\w+|\[\*\])\s*(?::\s*(\w+)(?:\s*\[([^\]]*)\])?)?\s*$")


def page(methodology_id: str) -> str:
    path = DOCS_DIR / f"{methodology_id}.md"
    assert path.is_file(), f"no documentation page {path}"
    return path.read_text(encoding="utf-8")


def versions_of(methodology_id: str) -> list[str]:
    """The files of one id, oldest first."""
    return [name for name in FILES if id_and_version(name)[0] == methodology_id]


@pytest.mark.parametrize("methodology_id", FILE_IDS)
def test_docs_page_names_everything_and_the_variant(methodology_id: str) -> None:
    text = page(methodology_id)
    for name in versions_of(methodology_id):  # one page per id, for every version it ships
        m = methodology(name)
        names = [s.id for s in m.steps] + [o.id for o in m.outcomes] + [a.name for a in m.actions]
        missing = [name for name in names if f"`{name}`" not in text]
        assert not missing, f"docs/methodologies/{methodology_id}.md does not mention {missing}"
        assert f"methodologies/files/{name}.toml" in text
        for action in m.actions:
            for guard in action.guards:
                assert f"`{guard.name}`" in text, guard.name
        assert f"`{m.version}`" in text
    assert "## Variant" in text


@pytest.mark.parametrize("methodology_id", FILE_IDS)
def test_docs_diagram_matches_the_methodology(methodology_id: str) -> None:
    m = methodology(versions_of(methodology_id)[-1])  # the page draws the latest version
    text = page(methodology_id)
    assert text.count("<!-- diagram:start -->") == 1
    assert text.count("<!-- diagram:end -->") == 1
    block = text.split("<!-- diagram:start -->")[1].split("<!-- diagram:end -->")[0]
    bodies = re.findall(r"^```mermaid[ \t]*\n(.*?)^```[ \t]*$", block, flags=re.M | re.S)
    assert len(bodies) == 1
    lines = bodies[0].splitlines()
    assert lines[0].strip() == "stateDiagram-v2"
    edges = set()
    for line in lines[1:]:
        if not line.strip() or re.match(r"\s*(state|classDef|class)\s", line):
            continue  # node titles and styling, not edges
        match = EDGE.match(line)
        assert match, f"unexpected diagram line {line!r}"
        source, target, action, guards = match.groups()
        if action is not None:
            edges.add((source, target, action, tuple(g.strip() for g in guards.split(",")) if guards else ()))
    expected = {
        (source, action.target_from(source), action.name, tuple(g.name for g in action.guards))
        for action in m.actions
        for source in action.sources
    }
    assert edges == expected, f"missing {sorted(expected - edges)}, extra {sorted(edges - expected)}"
    assert f"[*] --> {m.initial}" in block
    for outcome in m.outcomes:
        assert f"{outcome.id} --> [*]" in block


# --- HEARD ------------------------------------------------------------------------

HEARD_APOLOGY = {"statement": "I am sorry."}
HEARD_OFFER = {"description": "Upgrade to a suite tonight."}
HEARD_DIAGNOSIS = {
    "root_cause": "Housekeeping rota had a gap.",
    "prevention": "Rota now checked against occupancy each morning.",
    "prevention_kind": "procedure_change",
}


def test_heard_customer_must_finish_before_moving_on(clock: FakeClock) -> None:
    case = case_at("heard", "hear", clock)
    assert_refused(
        case,
        "hear_out",
        {"points": ["Noise"], "customer_finished": False},
        [("customer_finished", ("customer_finished=True",))],
    )


@pytest.mark.parametrize("step", ["hear", "empathize"])
def test_heard_no_apology_before_hearing_and_empathy(clock: FakeClock, step: str) -> None:
    case = case_at("heard", step, clock)
    assert_refused(case, "give_apology", HEARD_APOLOGY, [("not_from_this_step", ("step:apologize",))])
    assert guard_names("heard", "give_apology") == ["heard_before_apology", "empathy_before_apology"]


def test_heard_remedy_answer_needs_a_proposal_first(clock: FakeClock) -> None:
    case = case_at("heard", "resolve", clock)
    assert_refused(
        case,
        "remedy_accepted",
        {"solution": "x", "accepted": True},
        [("remedy_proposed", ("solution_offer",))],
    )
    assert_refused(case, "remedy_declined", {"remedy": "x"}, [("remedy_proposed", ("solution_offer",))])


def test_heard_resolve_moves_on_only_when_the_customer_accepts(clock: FakeClock) -> None:
    case = case_at("heard", "resolve", clock)
    fire(case, "propose_remedy", HEARD_OFFER, clock=clock)
    assert_refused(
        case,
        "remedy_accepted",
        {"solution": "Suite upgrade", "accepted": False},
        [("customer_accepted", ("accepted=True",))],
    )
    assert_moves(case, "remedy_declined", {"remedy": "Suite upgrade", "reason": "Wants a refund"}, "resolve")
    fire(case, "propose_remedy", {"description": "Refund tonight's rate."}, clock=clock)
    assert_moves(case, "remedy_accepted", {"solution": "Refund", "accepted": True}, "diagnose")


def test_heard_diagnosis_records_root_cause_and_prevention(clock: FakeClock) -> None:
    case = case_at("heard", "diagnose", clock)
    assert_invalid(
        case, "close_resolved", {"root_cause": "Rota gap", "prevention_kind": "training"}, ("prevention",)
    )
    assert_invalid(
        case, "close_resolved", {**HEARD_DIAGNOSIS, "prevention_kind": "blame"}, ("prevention_kind",)
    )
    assert_moves(case, "close_resolved", HEARD_DIAGNOSIS, "resolved")


def test_heard_diagnose_cannot_be_skipped(clock: FakeClock) -> None:
    case = case_at("heard", "resolve", clock)
    assert_refused(case, "close_resolved", HEARD_DIAGNOSIS, [("not_from_this_step", ("step:diagnose",))])


def test_heard_unresolvable_still_diagnoses_and_cannot_close_as_resolved(clock: FakeClock) -> None:
    case = case_at("heard", "resolve", clock)
    fire(case, "judge_unresolvable", {"reason": "The event the guest came for is over."}, clock=clock)
    assert case.step == "diagnose"
    assert_refused(
        case, "close_resolved", HEARD_DIAGNOSIS, [("remedy_accepted_by_customer", ("solution_response",))]
    )
    assert_moves(case, "close_unresolved", HEARD_DIAGNOSIS, "unresolved")
    assert case.path == ("hear", "empathize", "apologize", "resolve", "diagnose", "unresolved")
    assert case.outcome is not None
    assert not case.outcome.successful


def test_heard_accepted_remedy_cannot_close_as_unresolved(clock: FakeClock) -> None:
    case = case_at("heard", "diagnose", clock)
    assert_refused(
        case, "close_unresolved", HEARD_DIAGNOSIS, [("judged_unresolvable", ("unresolvable_judgement",))]
    )


# --- LAST -------------------------------------------------------------------------


def test_last_no_apology_before_listening(clock: FakeClock) -> None:
    case = case_at("last", "listen", clock)
    assert_refused(
        case, "give_apology", {"statement": "Sorry."}, [("not_from_this_step", ("step:apologize",))]
    )
    assert guard_names("last", "give_apology") == ["listened_before_apology"]


def test_last_answer_needs_a_proposed_solution(clock: FakeClock) -> None:
    case = case_at("last", "solve", clock)
    assert_refused(
        case,
        "solution_accepted",
        {"solution": "x", "accepted": True},
        [("solution_proposed", ("solution_offer",))],
    )


def test_last_thanks_only_after_the_customer_accepts(clock: FakeClock) -> None:
    case = case_at("last", "solve", clock)
    assert_refused(
        case, "thank_customer", {"statement": "Thanks."}, [("not_from_this_step", ("step:thank",))]
    )
    fire(case, "propose_solution", {"description": "A voucher."}, clock=clock)
    assert_refused(
        case,
        "solution_accepted",
        {"solution": "A voucher", "accepted": False},
        [("customer_accepted", ("accepted=True",))],
    )
    assert_refused(
        case,
        "solution_declined",
        {"solution": "A voucher", "accepted": True},
        [("customer_declined", ("accepted=False",))],
    )
    assert_moves(case, "solution_declined", {"solution": "A voucher", "accepted": False}, "solve")
    assert_moves(case, "solution_accepted", {"solution": "A voucher, doubled", "accepted": True}, "thank")


def test_last_escalation_closes_unsuccessfully(clock: FakeClock) -> None:
    case = case_at("last", "solve", clock)
    assert_moves(case, "escalate", {"to": "Guest relations", "reason": "Refund above my limit."}, "escalated")
    assert case.outcome is not None
    assert not case.outcome.successful


# --- BLAST ------------------------------------------------------------------------


def test_blast_believe_without_challenging(clock: FakeClock) -> None:
    case = case_at("blast", "believe", clock)
    assert_refused(
        case,
        "believe_customer",
        {"concern": "Cold food", "taken_at_word": False},
        [("taken_at_word", ("taken_at_word=True",))],
    )
    assert_refused(case, "hear_customer", {"summary": "x"}, [("not_from_this_step", ("step:listen",))])


@pytest.mark.parametrize("step", ["believe", "listen"])
def test_blast_no_apology_before_listening(clock: FakeClock, step: str) -> None:
    case = case_at("blast", step, clock)
    assert_refused(
        case, "give_apology", {"statement": "Sorry."}, [("not_from_this_step", ("step:apologize",))]
    )


def test_blast_satisfied_needs_an_offer_and_a_yes(clock: FakeClock) -> None:
    case = case_at("blast", "satisfy", clock)
    assert_refused(
        case, "confirm_satisfied", {"satisfied": True}, [("solution_offered", ("solution_offer",))]
    )
    fire(case, "offer_solution", {"description": "A 10% discount."}, clock=clock)
    assert_refused(
        case, "confirm_satisfied", {"satisfied": False}, [("customer_satisfied", ("satisfied=True",))]
    )
    assert_refused(
        case, "not_satisfied", {"satisfied": True}, [("customer_not_satisfied", ("satisfied=False",))]
    )
    assert_moves(case, "not_satisfied", {"satisfied": False, "comment": "Not enough."}, "satisfy")
    assert_refused(
        case, "thank_customer", {"statement": "Thanks."}, [("not_from_this_step", ("step:thank",))]
    )
    fire(case, "offer_solution", {"description": "A fresh meal now."}, clock=clock)
    assert_moves(case, "confirm_satisfied", {"satisfied": True}, "thank")


def test_blast_escalation_closes_unsuccessfully(clock: FakeClock) -> None:
    case = case_at("blast", "satisfy", clock)
    assert_moves(case, "escalate", {"to": "Area manager", "reason": "Asks for a manager."}, "escalated")
    assert case.path == ("believe", "listen", "apologize", "satisfy", "escalated")
    assert case.outcome is not None
    assert not case.outcome.successful


# --- LATTE ------------------------------------------------------------------------


def test_latte_action_is_recorded_once_taken(clock: FakeClock) -> None:
    case = case_at("latte", "take_action", clock)
    later = iso(clock.now + dt.timedelta(hours=1))
    assert_refused(
        case, "act_now", {"action": "Remake", "taken_at": later}, [("action_already_taken", ("taken_at",))]
    )


@pytest.mark.parametrize("step", ["listen", "acknowledge", "take_action", "thank"])
def test_latte_explanation_comes_last(clock: FakeClock, step: str) -> None:
    case = case_at("latte", step, clock)
    assert_refused(
        case, "give_explanation", {"cause": "Label misprint."}, [("not_from_this_step", ("step:explain",))]
    )
    assert guard_names("latte", "give_explanation") == ["explain_after_action", "explain_after_thanks"]


def test_latte_thanks_after_the_action(clock: FakeClock) -> None:
    case = case_at("latte", "take_action", clock)
    assert_refused(
        case, "thank_customer", {"statement": "Thanks."}, [("not_from_this_step", ("step:thank",))]
    )


# --- ISO 10002 --------------------------------------------------------------------

ISO_ASSESSMENT = {
    "severity": "high",
    "safety_risk": True,
    "complexity": "moderate",
    "impact": "Faulty heater sold; risk of burns.",
    "immediate_action_needed": True,
}
ISO_REJECTION = {
    "reaction": "Not acceptable, I want compensation.",
    "recourse_explained": True,
    "recourse_options": ["Internal review by the quality director", "Consumer ombudsman"],
}


def iso_case_at_reaction(clock: FakeClock) -> resolveflow.Case:
    case = case_at("iso-10002", "communicate_decision", clock)
    fire(case, "inform_complainant", evidence_for("iso-10002", "inform_complainant", clock), clock=clock)
    return case


def test_iso_receipt_and_acknowledgement_times_are_not_in_the_future(clock: FakeClock) -> None:
    case = case_at("iso-10002", "receipt", clock)
    receipt = evidence_for("iso-10002", "register_complaint", clock)
    later = iso(clock.now + dt.timedelta(days=1))
    assert_refused(
        case,
        "register_complaint",
        {**receipt, "received_at": later},
        [("received_not_in_future", ("received_at",))],
    )
    fire(case, "register_complaint", receipt, clock=clock)
    assert_refused(
        case,
        "send_acknowledgement",
        {"channel": "email", "sent_at": iso(clock.now + dt.timedelta(days=1))},
        [("acknowledgement_already_sent", ("sent_at",))],
    )


def test_iso_no_assessment_before_acknowledgement(clock: FakeClock) -> None:
    case = case_at("iso-10002", "acknowledgement", clock)
    assert_refused(
        case,
        "assess_complaint",
        {**ISO_ASSESSMENT, "immediate_action_needed": False},
        [("not_from_this_step", ("step:initial_assessment",))],
    )


def test_iso_immediate_action_is_on_record_before_the_assessment_completes(clock: FakeClock) -> None:
    case = case_at("iso-10002", "initial_assessment", clock)
    assert_refused(
        case,
        "assess_complaint",
        ISO_ASSESSMENT,
        [("no_immediate_action_needed", ("immediate_action_needed=False",))],
    )
    assert_refused(
        case,
        "assess_after_immediate_action",
        ISO_ASSESSMENT,
        [("immediate_action_taken", ("immediate_remedy",))],
    )
    assert_refused(
        case,
        "assess_after_immediate_action",
        {**ISO_ASSESSMENT, "immediate_action_needed": False},
        [
            ("immediate_action_needed", ("immediate_action_needed=True",)),
            ("immediate_action_taken", ("immediate_remedy",)),
        ],
    )
    assert_refused(
        case,
        "take_immediate_action",
        {"action": "Recall notice", "taken_at": iso(clock.now + dt.timedelta(hours=2))},
        [("immediate_action_already_taken", ("taken_at",))],
    )
    assert_moves(
        case,
        "take_immediate_action",
        {"action": "Sales of the model stopped.", "taken_at": iso(clock.now)},
        "initial_assessment",
    )
    assert_moves(case, "assess_after_immediate_action", ISO_ASSESSMENT, "investigation")


def test_iso_response_follows_investigation(clock: FakeClock) -> None:
    case = case_at("iso-10002", "investigation", clock)
    assert_refused(
        case, "decide_response", {"decision": "Refund."}, [("not_from_this_step", ("step:response",))]
    )


def test_iso_reaction_only_after_the_decision_is_communicated(clock: FakeClock) -> None:
    case = case_at("iso-10002", "communicate_decision", clock)
    assert_refused(
        case,
        "complainant_accepts",
        {"reaction": "Fine."},
        [("decision_communicated", ("decision_communication",))],
    )
    assert_refused(
        case, "complainant_rejects", ISO_REJECTION, [("decision_communicated", ("decision_communication",))]
    )
    assert_refused(
        case,
        "close_complaint",
        {"carried_out": "Refunded", "completed_at": iso(clock.now)},
        [("not_from_this_step", ("step:closing",))],
    )
    assert_refused(
        case,
        "inform_complainant",
        {"summary": "Refund", "channel": "post", "communicated_at": iso(clock.now + dt.timedelta(days=2))},
        [("communication_already_made", ("communicated_at",))],
    )


def test_iso_rejection_needs_the_recourse_explained(clock: FakeClock) -> None:
    case = iso_case_at_reaction(clock)
    assert_refused(
        case,
        "complainant_rejects",
        {**ISO_REJECTION, "recourse_explained": False},
        [("recourse_explained", ("recourse_explained=True",))],
    )
    assert_invalid(
        case, "complainant_rejects", {**ISO_REJECTION, "recourse_options": []}, ("recourse_options",)
    )


def test_iso_accepted_decision_closes_only_once_carried_out(clock: FakeClock) -> None:
    case = iso_case_at_reaction(clock)
    fire(case, "complainant_accepts", {"reaction": "Agreed."}, clock=clock)
    assert_refused(
        case,
        "close_complaint",
        {"carried_out": "Refund", "completed_at": iso(clock.now + dt.timedelta(days=3))},
        [("decision_carried_out", ("completed_at",))],
    )
    assert_refused(
        case,
        "close_unresolved",
        {"reason": "x", "options_exhausted": True},
        [("complainant_rejected", ("decision_rejection",))],
    )
    assert_refused(
        case, "record_follow_up", {"note": "x"}, [("complaint_still_open", ("decision_rejection",))]
    )


def test_iso_rejected_decision_stays_open_until_options_are_exhausted(clock: FakeClock) -> None:
    case = iso_case_at_reaction(clock)
    fire(case, "complainant_rejects", ISO_REJECTION, clock=clock)
    assert case.step == "closing"
    assert_refused(
        case,
        "close_complaint",
        {"carried_out": "Nothing", "completed_at": iso(clock.now)},
        [("complainant_accepted", ("decision_acceptance",))],
    )
    assert_moves(case, "record_follow_up", {"note": "Internal review held; decision upheld."}, "closing")
    assert_refused(
        case,
        "close_unresolved",
        {"reason": "Still under internal review.", "options_exhausted": False},
        [("options_exhausted", ("options_exhausted=True",))],
    )
    assert_moves(
        case,
        "close_unresolved",
        {"reason": "Review upheld the decision.", "options_exhausted": True},
        "closed_unresolved",
    )
    assert case.path == (*REQUIRED_STEPS["iso-10002"], "closed_unresolved")
    assert case.outcome is not None
    assert not case.outcome.successful


# --- ISO 10002 1.1: who answers for what ------------------------------------------

ISO_1_1 = "iso-10002@1.1"
MANAGER = Actor("kim", roles={"complaints_manager"})
NOT_SIGNIFICANT = {"significant": False, "top_management_notified": False}


def test_iso_1_0_is_kept_byte_for_byte() -> None:
    """Cases opened on 1.0 bind its digest: 1.1 ships beside it, and 1.0 still opens by version."""
    assert definition_digest(methodology("iso-10002")) == ISO_10002_1_0_DIGEST
    assert definition_digest(resolveflow.get_methodology("iso-10002", "1.0")) == ISO_10002_1_0_DIGEST
    assert resolveflow.get_methodology("iso-10002") == methodology(ISO_1_1)
    assert resolveflow.versions("iso-10002") == ["1.0", "1.1"]
    # A record 1.1 declares exactly as 1.0 did is the same class, so a migrated case's 1.0 records
    # satisfy 1.1's guards (see the migration test below); the one 1.1 adds is its own.
    old, new = methodology("iso-10002"), methodology(ISO_1_1)
    for action in old.actions:
        counterpart = new.action(action.name)
        assert counterpart is not None and counterpart.evidence is action.evidence, action.name
    assert new.action("judge_not_significant") is not None
    assert old.action("judge_not_significant") is None


def test_iso_digests_do_not_depend_on_which_version_is_loaded_first() -> None:
    """The versions share record classes; a fresh process loading 1.1 first gets the same digests."""
    script = (
        "import sys\n"
        "from resolveflow.files import definition_digest, load_methodology\n"
        "later, first = (load_methodology(path) for path in sys.argv[1:])\n"
        "print(definition_digest(first), definition_digest(later))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", script, str(FILES_DIR / f"{ISO_1_1}.toml"), str(FILES_DIR / "iso-10002.toml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [ISO_10002_1_0_DIGEST, definition_digest(methodology(ISO_1_1))]


def test_iso_1_1_significance_is_judged_before_the_assessment(clock: FakeClock) -> None:
    case = case_at(ISO_1_1, "initial_assessment", clock)
    assessment = evidence_for("iso-10002", "assess_complaint", clock)
    assert_refused(
        case, "assess_complaint", assessment, [("significance_reviewed", ("significance_review",))]
    )
    # The judgement is one of two answers, each refusing the other's.
    assert_refused(
        case,
        "judge_not_significant",
        {"significant": True, "top_management_notified": True},
        [("not_significant", ("significant=False",))],
    )
    assert_refused(
        case,
        "notify_top_management",
        {"significant": False, "top_management_notified": True},
        [("significant", ("significant=True",))],
    )
    fire(case, "judge_not_significant", NOT_SIGNIFICANT, clock=clock)
    assert case.step == "initial_assessment"
    assert case.check("assess_complaint", as_json(assessment)).allowed


def test_iso_1_1_a_significant_complaint_reaches_top_management_first(clock: FakeClock) -> None:
    case = case_at(ISO_1_1, "initial_assessment", clock)
    assert_refused(
        case,
        "notify_top_management",
        {"significant": True, "top_management_notified": False},
        [("top_management_notified", ("top_management_notified=True",))],
    )
    fire(case, "take_immediate_action", {"action": "Sales of the model stopped.", "taken_at": iso(clock.now)})
    assert_refused(
        case,
        "assess_after_immediate_action",
        ISO_ASSESSMENT,
        [("significance_reviewed", ("significance_review",))],
    )
    fire(
        case,
        "notify_top_management",
        {"significant": True, "top_management_notified": True, "notes": "Told the COO by phone."},
        clock=clock,
    )
    fire(case, "assess_after_immediate_action", ISO_ASSESSMENT, clock=clock)
    assert case.step == "investigation"


def test_iso_1_1_the_response_is_decided_by_a_complaints_manager(clock: FakeClock) -> None:
    case = case_at(ISO_1_1, "response", clock)
    decision = as_json(evidence_for("iso-10002", "decide_response", clock))
    for agent in (ACTOR, Actor(ACTOR, roles={"agent"})):
        refused = case.check("decide_response", decision, actor=agent)
        assert refusal_pairs(refused.refusals) == [("response_by_manager", ("role:complaints_manager",))]
        with pytest.raises(resolveflow.Refused) as info:
            case.fire("decide_response", decision, actor=agent)
        assert info.value.codes == ("response_by_manager",)
    assert case.step == "response"
    case.fire("decide_response", decision, actor=MANAGER)
    assert case.step == "communicate_decision"
    assert case.history[-1].roles == {"complaints_manager"}


def test_iso_1_1_only_a_complaints_manager_closes_a_rejected_complaint_unresolved(clock: FakeClock) -> None:
    case = case_at(ISO_1_1, "communicate_decision", clock)
    fire(case, "inform_complainant", evidence_for("iso-10002", "inform_complainant", clock), clock=clock)
    case.fire("complainant_rejects", as_json(ISO_REJECTION), actor=ACTOR)
    closure = {"reason": "The internal review upheld the decision.", "options_exhausted": True}
    refused = case.check("close_unresolved", closure, actor=ACTOR)
    assert refusal_pairs(refused.refusals) == [("closed_unresolved_by_manager", ("role:complaints_manager",))]
    case.fire("record_follow_up", {"note": "Internal review requested."}, actor=ACTOR)  # anyone follows up
    assert case.check("close_unresolved", closure).pending  # nobody in particular: pending, not refused
    case.fire("close_unresolved", closure, actor=MANAGER)
    assert case.outcome is not None and case.outcome.id == "closed_unresolved"


ISO_1_0_WALK = HAPPY_PATHS["iso-10002"]


@pytest.mark.parametrize("step", REQUIRED_STEPS["iso-10002"])
def test_iso_a_1_0_case_migrates_to_1_1_mid_way_and_carries_on(step: str, clock: FakeClock) -> None:
    old = resolveflow.open_case(resolveflow.get_methodology("iso-10002", "1.0"), case_id="ISO-M", clock=clock)
    walk(old, clock, ISO_1_0_WALK, upto=step)
    moved = resolveflow.migrate(old, ISO_10002_1_0_TO_1_1, actor="ops")
    assert (moved.methodology.version, moved.step, moved.opened_with) == ("1.1", step, "1.0")
    assert moved.history[-1].action == "migrate_version" and moved.verify_chain()
    # Carry on under 1.1's rules: from the step reached, the 1.1 walk's remaining actions.
    # The walk is linear, so an action offered where the case stands is the next one.
    for action, make in HAPPY_PATHS[ISO_1_1]:
        spec = moved.methodology.action(action)
        assert spec is not None
        if moved.step in spec.sources:
            fire(moved, action, make(clock), clock=clock)
    assert moved.outcome is not None and moved.outcome.id == "resolved"
    again = resolveflow.restore(as_json(moved.snapshot()))
    assert again.head == moved.head


# --- CARP -------------------------------------------------------------------------


def test_carp_control_first(clock: FakeClock) -> None:
    case = case_at("carp", "control", clock)
    assert_refused(
        case,
        "take_control",
        {"approach": "Spoke calmly.", "customer_responding": False},
        [("customer_responding", ("customer_responding=True",))],
    )
    assert_refused(
        case, "acknowledge_feelings", {"feelings": "Angry"}, [("not_from_this_step", ("step:acknowledge",))]
    )


@pytest.mark.parametrize("step", ["control", "acknowledge", "refocus"])
def test_carp_no_problem_solving_before_refocus(clock: FakeClock, step: str) -> None:
    case = case_at("carp", step, clock)
    assert_refused(
        case,
        "agree_solution",
        {"solution": "x", "accepted": True},
        [("not_from_this_step", ("step:problem_solve",))],
    )


def test_carp_refocus_only_when_ready_else_back_to_acknowledge(clock: FakeClock) -> None:
    case = case_at("carp", "refocus", clock)
    assert_refused(
        case,
        "refocus_conversation",
        {"bridge": "Shall we look at it?", "customer_ready": False},
        [("customer_ready", ("customer_ready=True",))],
    )
    assert_refused(
        case,
        "back_to_acknowledge",
        {"bridge": "Shall we look at it?", "customer_ready": True},
        [("customer_not_ready", ("customer_ready=False",))],
    )
    assert_moves(
        case,
        "back_to_acknowledge",
        {"bridge": "Shall we look at it?", "customer_ready": False},
        "acknowledge",
    )
    fire(case, "acknowledge_feelings", {"feelings": "Still upset about the wait."}, clock=clock)
    fire(case, "refocus_conversation", {"bridge": "Let's fix the form.", "customer_ready": True}, clock=clock)
    fire(case, "offer_option", {"description": "Fill it in together now."}, clock=clock)
    fire(case, "agree_solution", {"solution": "Fill it in together", "accepted": True}, clock=clock)
    assert case.path == (
        "control",
        "acknowledge",
        "refocus",
        "acknowledge",
        "refocus",
        "problem_solve",
        "resolved",
    )
    assert case.outcome is not None
    assert case.outcome.successful


def test_carp_solution_needs_an_option_and_agreement(clock: FakeClock) -> None:
    case = case_at("carp", "problem_solve", clock)
    assert_refused(
        case, "agree_solution", {"solution": "x", "accepted": True}, [("option_offered", ("solution_offer",))]
    )
    fire(case, "offer_option", {"description": "Come back tomorrow."}, clock=clock)
    assert_refused(
        case,
        "agree_solution",
        {"solution": "Tomorrow", "accepted": False},
        [("customer_agreed", ("accepted=True",))],
    )
    assert_moves(case, "option_declined", {"solution": "Tomorrow", "accepted": False}, "problem_solve")


@pytest.mark.parametrize("step", ["control", "acknowledge", "refocus", "problem_solve"])
def test_carp_ending_an_abusive_conversation_needs_the_limit_stated(clock: FakeClock, step: str) -> None:
    case = case_at("carp", step, clock)
    assert_refused(
        case,
        "end_conversation",
        {"reason": "Threats.", "limit_stated": False},
        [("limit_stated_first", ("limit_stated=True",))],
    )
    assert_moves(
        case, "end_conversation", {"reason": "Threats continued.", "limit_stated": True}, "conversation_ended"
    )
    assert case.outcome is not None
    assert not case.outcome.successful
