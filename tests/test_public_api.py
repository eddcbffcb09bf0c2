"""The public surface is deliberate: __all__ is exactly the documented names."""

from __future__ import annotations

import importlib.resources
import inspect
import pkgutil

import resolveflow

EXPECTED = {
    "Action",
    "ActionView",
    "AfterStep",
    "AllPlanItemsDone",
    "Case",
    "CaseExists",
    "CaseNotFound",
    "CaseView",
    "Catalog",
    "Clock",
    "ConcurrencyConflict",
    "Decision",
    "DiagramUnavailable",
    "ENGINE_REFUSAL_CODES",
    "Event",
    "EvidenceIs",
    "FaultNeedsLiabilityReview",
    "Finding",
    "Guard",
    "GuardContext",
    "HistoryEntry",
    "IdempotencyConflict",
    "InvalidEvidence",
    "InvalidInput",
    "InvalidMethodology",
    "InvalidMethodologyFile",
    "InvalidSnapshot",
    "LaterThanNow",
    "Methodology",
    "Migration",
    "Need",
    "NotBefore",
    "NotLaterThanNow",
    "Outcome",
    "OverdueItem",
    "PathStep",
    "PlanHasOpenItems",
    "PlanItemOpen",
    "Progress",
    "Refusal",
    "Refused",
    "Requires",
    "ResolveflowError",
    "Rule",
    "SoundPlan",
    "Step",
    "TamperedHistory",
    "UnknownAction",
    "UnknownMethodology",
    "VerificationReport",
    "WithinDeadline",
    "available",
    "dump_methodology",
    "evidence",
    "get_methodology",
    "load_directory",
    "load_methodology",
    "message_template",
    "methodology_from_dict",
    "methodology_from_text",
    "methodology_schema",
    "methodology_to_dict",
    "migrate",
    "open_case",
    "origin_of",
    "register",
    "restore",
    "to_dot",
    "to_mermaid",
    "to_svg",
    "unregister",
    "verify",
    "versions",
}  # fmt: skip


def test_all_is_exactly_the_public_names() -> None:
    assert set(resolveflow.__all__) == EXPECTED
    # Sorted the way ruff's RUF022 keeps it (constants, classes, functions), without duplicates.
    assert len(set(resolveflow.__all__)) == len(resolveflow.__all__)
    for name in resolveflow.__all__:
        assert hasattr(resolveflow, name), name


def test_public_names_have_docstrings_with_examples() -> None:
    for name in resolveflow.__all__:
        obj = getattr(resolveflow, name)
        if name == "Clock":
            continue
        doc = inspect.getdoc(obj) or ""
        assert doc.strip(), f"{name} has no docstring"
    for name in ("open_case", "restore", "get_methodology", "available", "register", "Case", "Methodology"):
        assert ">>>" in (getattr(resolveflow, name).__doc__ or ""), f"{name} needs an example"


def test_private_modules_are_private() -> None:
    public = {"cli", "evidence", "exceptions", "methodologies", "testing", "pytest_plugin", "store"}
    for info in pkgutil.iter_modules(resolveflow.__path__):
        assert info.name.startswith("_") or info.name in public, info.name


def test_py_typed_is_shipped() -> None:
    files = importlib.resources.files("resolveflow")
    assert (files / "py.typed").is_file()
