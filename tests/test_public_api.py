"""The public surface is deliberate: each public module exports exactly its documented names.

- ``__all__`` of every public module is exactly the expected set, sorted the way
  ruff's RUF022 keeps it, without duplicates;
- every exported class and function shows the public module that owns it as its
  ``__module__`` (the top level re-exports ``Refusal`` from ``resolveflow.guards``
  and the common errors from ``resolveflow.exceptions``, which keep those);
- renaming ``__module__`` breaks neither ``typing.get_type_hints`` nor pickling;
- every public name has a docstring.
"""

from __future__ import annotations

import ast
import collections.abc
import importlib
import importlib.resources
import inspect
import pickle
import pkgutil
import re
import typing
from pathlib import Path

import pytest

import resolveflow

GUARDS = {
    "ENGINE_REFUSAL_CODES",
    "AfterStep",
    "AllPlanItemsDone",
    "EvidenceIs",
    "FaultNeedsLiabilityReview",
    "Guard",
    "GuardContext",
    "GuardField",
    "GuardKind",
    "HasRole",
    "LaterThanNow",
    "NamedActor",
    "OtherThan",
    "Need",
    "NotBefore",
    "NotLaterThanNow",
    "NotOlderThan",  # prescription 1.1
    "PlanHasOpenItems",
    "PlanItemOpen",
    "PressingDoneFirst",  # seven-as 1.1
    "PressingPlannedFirst",  # seven-as 1.1
    "Refusal",
    "Requires",
    "Rule",
    "SoundPlan",
    "WithinDeadline",
    "guard_kinds",
    "register_guard_kind",
    "unregister_guard_kind",
}
# The errors most code catches; the others are in resolveflow.exceptions only.
TOP_LEVEL_ERRORS = {
    "ConcurrencyConflict",
    "InvalidEvidence",
    "InvalidInput",
    "InvalidSnapshot",
    "Refused",
    "ResolveflowError",
    "UnknownAction",
    "UnknownMethodology",
}
EXPECTED: dict[str, set[str]] = {
    "resolveflow": {
        # cases
        "open_case", "restore", "migrate", "Case", "Actor", "KeyRing", "Decision", "CaseView", "ActionView",
        "Progress", "OverdueItem", "HistoryEntry", "Event", "Clock", "Refusal",
        # methodologies and the registry
        "Methodology", "Step", "Action", "Outcome", "Migration", "Escalation", "available", "get_methodology",
        "register", "unregister", "versions", "load_directory", "origin_of",
        # verification
        "verify", "VerificationReport", "Finding", "PathStep",
        # translations
        "Catalog", "message_template",
        # the public modules by role
        "diagrams", "evidence", "exceptions", "files", "guards",
        *TOP_LEVEL_ERRORS,
    },
    "resolveflow.guards": GUARDS,
    "resolveflow.diagrams": {"to_dot", "to_mermaid", "to_svg"},
    "resolveflow.files": {
        "definition_digest",
        "dump_methodology",
        "load_methodology",
        "methodology_from_dict",
        "methodology_from_text",
        "methodology_schema",
        "methodology_to_dict",
    },
    "resolveflow.evidence": {
        "FOLLOW_UP", "PLAN_ITEM", "STEP_DEADLINE", "Acknowledgement", "Apology", "Assurance", "CauseAnalysis",
        "CauseAssessment", "CauseCategory", "ClosingEvaluation", "CustomerAccount", "Empathy",
        "Engagement", "Grievances", "Handoff", "ImmediateRemedy", "ItemCompletion", "LiabilityReview",
        "Plan", "PlanItem", "PreventionKind", "PreventionMeasure", "ProblemAcknowledgement",
        "ProcedureUpdate", "Promise", "Reschedule", "ResponseEvaluation", "SatisfactionConfirmation",
        "SolutionDecision", "SolutionDelivery", "SolutionOffer", "SolutionResponse", "UnresolvableJudgement",
        "field",
        # four-steps 1.1
        "ExistingGuidance", "ProposedChange", "UnderstandingShown",
        # seven-as 1.1
        "Accomplishment", "ItemPriority", "PrioritisedPlan", "PrioritisedPlanItem", "SolutionDiscussion",
        # engage 1.1
        "EmpathyStatement", "LegalReview", "NoSolutionAccepted", "SolutionPresented",
        # prescription 1.1
        "CustomerNotSatisfied", "PreventionExplained",
    },
    "resolveflow.exceptions": {
        *TOP_LEVEL_ERRORS,
        "CaseExists", "CaseNotFound", "DefinitionMismatch", "DiagramUnavailable", "IdempotencyConflict",
        "InvalidMethodology", "InvalidMethodologyFile", "StoreUnavailable", "TamperedHistory",
        # issue 14: the kinds of StoreUnavailable
        "StoreFull", "StoreLocked", "StoreReadOnly",
        # issue 15: signed webhooks
        "WebhookVerificationError",
    },
    "resolveflow.store": {
        "Analytics", "CaseExists", "CaseNotFound", "CaseSummary", "ConcurrencyConflict", "Deadline",
        "HistoryPage", "IdempotencyConflict", "OutcomeCount", "OverdueCount", "RefusalCount",
        "ResolutionTime", "Revisits", "StepTime", "Store", "StoreUnavailable", "TamperedHistory", "analyze",
        "connect", "metadata", "report", "schema_sql", "time_in_step_svg",
        # issue 14: the audit, and the kinds of StoreUnavailable
        "AuditFinding", "AuditReport", "StoreFull", "StoreLocked", "StoreReadOnly",
        # issue 15: the outbox, the async store, the deadline worker, the relay
        "EventPage", "StoredEvent", "AsyncStore", "connect_async", "DeadlineWorker", "WorkerReport",
        "Delivery", "Listener", "Relay", "RelayRound", "Webhook", "dead_letters", "replay_dead_letters",
    },
    # issue 16: the JSON HTTP API (the server extra)
    "resolveflow.server": {"MAX_BODY", "MAX_DEPTH", "Grant", "create_app", "load_tokens", "openapi_document"},
    "resolveflow.testing": {
        "ManualClock", "action_sequences", "assert_no_step_skippable", "case_machine", "evidence_for",
        "invalid_evidence_for", "registered",
    },
    # issue 15: OpenTelemetry spans and metrics (the otel extra, imported by instrument() only)
    "resolveflow.tracing": {
        "FIRES", "OVERDUE", "REFUSALS", "instrument", "instrumented", "overdue_counts", "uninstrument",
        "watch_overdue",
    },
    # issue 16: the Django integration (the django extra)
    "resolveflow.contrib.django": {"actor_for", "engine_for", "roles_from_permissions", "store"},
    # issue 16: the help desk, installed with the package (the desk extra)
    "resolveflow.desk": {"create_app", "main", "serve"},
    # issue 15: Standard Webhooks signatures (stdlib only)
    "resolveflow.webhooks": {
        "DEFAULT_TOLERANCE", "MAX_HEADERS", "MAX_ID_CHARS", "MAX_SECRETS", "MAX_SECRET_BYTES",
        "MAX_SIGNATURES", "MAX_SIGNATURE_CHARS", "MIN_SECRET_BYTES", "SECRET_PREFIX", "Secret",
        "WebhookVerificationError", "message_id", "sign", "verify",
    },
}  # fmt: skip
PUBLIC_MODULES = sorted(EXPECTED)
# A name a module re-exports from another public module keeps that module's __module__.
HOME = {
    **dict.fromkeys(EXPECTED["resolveflow.exceptions"], "resolveflow.exceptions"),
    "Refusal": "resolveflow.guards",
}
# Moved out of the top level in 0.1: each is reachable from its public module only.
MOVED = {
    **dict.fromkeys(GUARDS - {"Refusal"}, "resolveflow.guards"),
    **dict.fromkeys(EXPECTED["resolveflow.diagrams"], "resolveflow.diagrams"),
    **dict.fromkeys(EXPECTED["resolveflow.files"], "resolveflow.files"),
    **dict.fromkeys(EXPECTED["resolveflow.exceptions"] - TOP_LEVEL_ERRORS, "resolveflow.exceptions"),
}


def ruff_sorted(names: list[str]) -> list[str]:
    """The order ruff's RUF022 ("isort-style") keeps: CONSTANTS, then Classes, then the rest,
    each group in natural order."""

    def key(name: str) -> tuple[int, list[int | str]]:
        if name.isupper():
            group = 0
        elif name[0].isupper():
            group = 1
        else:
            group = 2
        natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
        return group, natural

    return sorted(names, key=key)


def exported(module_name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(module_name)
    return [(name, getattr(module, name)) for name in module.__all__]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_exactly_the_public_names_and_sorted(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == EXPECTED[module_name]
    assert len(set(module.__all__)) == len(module.__all__), "duplicates in __all__"
    assert module.__all__ == ruff_sorted(module.__all__), "__all__ is not sorted"
    for name in module.__all__:
        assert hasattr(module, name), name


def test_the_sort_check_can_fail() -> None:
    assert ruff_sorted(["b", "Alpha", "B_C", "Zed", "a"]) == ["B_C", "Alpha", "Zed", "a", "b"]
    assert ruff_sorted(["step10", "step2"]) == ["step2", "step10"]
    assert ruff_sorted(["verify", "Case"]) != ["verify", "Case"]


def test_the_top_level_is_small() -> None:
    # 44, Actor (issue 13: every fire() may take one), KeyRing (issue 14: snapshot, restore and
    # the store take one) and Escalation (issue 15: a part of a methodology's definition, as Step,
    # Action and Outcome are).
    assert len(resolveflow.__all__) <= 47


@pytest.mark.parametrize("name", sorted(MOVED))
def test_moved_names_live_in_their_public_module_only(name: str) -> None:
    assert name not in resolveflow.__all__
    assert not hasattr(resolveflow, name), f"resolveflow.{name} should be {MOVED[name]}.{name}"
    assert name in importlib.import_module(MOVED[name]).__all__


def test_ledger_is_not_public() -> None:
    assert not hasattr(resolveflow, "Ledger")


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_exported_names_show_their_public_module(module_name: str) -> None:
    for name, obj in exported(module_name):
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # constants, the Clock alias and submodules
        assert obj.__module__ == HOME.get(name, module_name), f"{module_name}.{name}"
        assert getattr(importlib.import_module(obj.__module__), obj.__qualname__) is obj, name


def test_methods_of_published_classes_go_with_them() -> None:
    assert resolveflow.Case.fire.__module__ == "resolveflow"
    assert resolveflow.guards.Requires.needs.__module__ == "resolveflow.guards"


# Functions resolve their hints in their own module's globals (``__globals__``), so renaming
# ``__module__`` cannot break them. report names rich's Console, an optional dependency
# imported only for type checkers, so its hints never resolve at run time. So do resolveflow.tracing's,
# which name OpenTelemetry's providers (the otel extra) and the Store (the sql extra).
HINTS_FOR_TYPE_CHECKERS_ONLY = {
    "resolveflow.store.report",
    *(f"resolveflow.tracing.{name}" for name in ("instrument", "overdue_counts", "watch_overdue")),
}


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_type_hints_still_resolve(module_name: str) -> None:
    for name, obj in exported(module_name):
        if f"{module_name}.{name}" in HINTS_FOR_TYPE_CHECKERS_ONLY:
            with pytest.raises(NameError):
                typing.get_type_hints(obj)
        elif inspect.isclass(obj) or inspect.isfunction(obj):
            assert isinstance(typing.get_type_hints(obj), dict), name


def test_type_hints_resolve_to_the_classes() -> None:
    # GuardContext's annotations name HistoryEntry, which resolveflow.guards does not export.
    hints = typing.get_type_hints(resolveflow.guards.GuardContext)
    assert hints["history"] == collections.abc.Sequence[resolveflow.HistoryEntry]
    assert typing.get_type_hints(resolveflow.Decision)["refusals"] == tuple[resolveflow.Refusal, ...]


def test_published_objects_pickle_by_their_public_path() -> None:
    from resolveflow import evidence
    from resolveflow.guards import Requires

    methodology = resolveflow.get_methodology("prescription")
    assert pickle.loads(pickle.dumps(methodology)) == methodology
    guard = Requires(record=evidence.Plan)
    assert pickle.loads(pickle.dumps(guard)) == guard
    assert b"resolveflow.guards" in pickle.dumps(guard)
    decision = resolveflow.open_case("engage", case_id="P-1").check("show_empathy")
    assert pickle.loads(pickle.dumps(decision)) == decision
    for function in (
        resolveflow.open_case,
        resolveflow.diagrams.to_mermaid,
        resolveflow.files.load_methodology,
    ):
        assert pickle.loads(pickle.dumps(function)) is function


def attribute_docstrings(module_name: str) -> set[str]:
    """Module-level names followed by a string literal (the docstrings mkdocstrings shows)."""
    module = importlib.import_module(module_name)
    tree = ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))
    found = set()
    for statement, following in zip(tree.body, tree.body[1:], strict=False):
        targets = statement.targets if isinstance(statement, ast.Assign) else []
        if isinstance(statement, ast.AnnAssign):
            targets = [statement.target]
        if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
            found |= {t.id for t in targets if isinstance(t, ast.Name)}
    return found


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names_have_docstrings(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert (module.__doc__ or "").strip(), f"{module_name} has no docstring"
    for name, obj in exported(module_name):
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj):
            assert (inspect.getdoc(obj) or "").strip(), f"{module_name}.{name} has no docstring"
        else:
            defined_in = {
                "Clock": "resolveflow._clock",
                "ENGINE_REFUSAL_CODES": "resolveflow._refusal",
                "metadata": "resolveflow.store._tables",
                "MAX_BODY": "resolveflow.server._body",
                "MAX_DEPTH": "resolveflow.server._body",
            }.get(name, module_name)
            assert name in attribute_docstrings(defined_in), f"{module_name}.{name} has no docstring"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_modules_show_an_example(module_name: str) -> None:
    assert ">>>" in (importlib.import_module(module_name).__doc__ or ""), module_name


def test_the_main_entry_points_show_examples() -> None:
    for name in ("open_case", "restore", "get_methodology", "available", "register", "Case", "Methodology"):
        assert ">>>" in (getattr(resolveflow, name).__doc__ or ""), f"{name} needs an example"


def test_private_modules_are_private() -> None:
    public = {
        "cli",
        "contrib",
        "methodologies",
        "pytest_plugin",
        *(n.split(".")[1] for n in PUBLIC_MODULES[1:]),
    }
    for info in pkgutil.iter_modules(resolveflow.__path__):
        assert info.name.startswith("_") or info.name in public, info.name


def test_py_typed_is_shipped() -> None:
    files = importlib.resources.files("resolveflow")
    assert (files / "py.typed").is_file()
