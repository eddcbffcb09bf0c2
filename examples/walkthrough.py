"""Walk a case through a methodology and print what a help-desk UI would show.

Run it with ``./scripts/demo`` (or ``python examples/walkthrough.py [ID]``).
At every step it prints the step's guidance and every action leaving it,
enabled or refused with the reasons, then takes the next action with
evidence as a CRM form would post it (JSON). Along the way it tries a few
things an impatient agent might, and shows how each is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import Any

import resolveflow

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class DemoClock:
    """A clock the demo moves forward by hand, so that the output is repeatable."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def show(case: resolveflow.Case) -> None:
    node = case.current
    print(f"\n=== {node.title}  [{case.step}]")
    if isinstance(node, resolveflow.Step):
        for prompt in node.prompts:
            print(f"  say/ask: {prompt}")
        for item in node.checklist:
            print(f"  [ ] {item}")
    for view in case.actions():
        mark = "enabled" if view.enabled else "refused"
        print(f"  -> {view.name:<22} {mark:<8} {view.title}")
        for refusal in view.refusals:
            print(f"       why: [{refusal.code}] {refusal.message} missing={list(refusal.missing)}")
        fields = view.evidence_schema.get("properties", {})
        if fields:
            print(f"       form: {', '.join(fields)}")
    for item in case.overdue():
        print(f"  OVERDUE {item.kind} {item.ref}: {item.description} (due {iso(item.due)})")


def attempt(case: resolveflow.Case, action: str, evidence: Any = None) -> None:
    """Try an action the way an impatient agent might, and print the refusal."""
    try:
        case.fire(action, evidence, actor="demo-agent")
    except resolveflow.Refused as refused:
        print(f"  ✗ {action}: refused")
        for r in refused.refusals:
            print(f"      [{r.code}] {r.message}")
    except resolveflow.InvalidEvidence as invalid:
        print(f"  ✗ {action}: invalid evidence")
        for path, problem in invalid.errors:
            print(f"      {path or '<evidence>'}: {problem}")
    else:
        print(f"  ✓ {action}")


def take(case: resolveflow.Case, action: str, evidence: dict[str, Any] | None = None) -> None:
    entry = case.fire(action, evidence, actor="demo-agent")
    print(f"  ✓ {action}  (entry {entry.seq}, hash {entry.hash[:12]}…)")


def seven_as(clock: DemoClock) -> resolveflow.Case:
    case = resolveflow.open_case("seven-as", case_id="DEMO-7A", clock=clock)
    show(case)
    attempt(case, "agree_plan", None)  # jumping ahead is refused with a reason
    take(case, "acknowledge_feelings", {"feelings": "Angry that the sofa arrived damaged."})
    show(case)
    attempt(case, "hear_grievances", {"points": ["Damaged leg"], "customer_finished": False})
    take(
        case,
        "hear_grievances",
        {"points": ["Damaged leg", "Nobody called back"], "customer_finished": True},
    )
    show(case)
    take(case, "give_apology", {"statement": "I am sorry for the damage and the silence."})
    show(case)
    take(case, "give_assurance", {"commitment": "We will make this right this week."})
    take(
        case,
        "reschedule",
        {"resume_at": iso(clock.now + dt.timedelta(hours=3)), "reason": "Too upset to plan now."},
    )
    attempt(case, "resume", None)  # not before the time agreed with the customer
    clock.advance(hours=4)
    show(case)
    take(case, "resume")
    take(
        case,
        "discuss_solutions",
        {
            "customer_ready": True,
            "customer_expects": "A sofa that stands, and a call once it is fixed.",
            "we_can_offer": "A new leg by courier, then a call to check it fits.",
        },
    )
    show(case)
    attempt(
        case,
        "agree_plan",
        {"items": [{"id": "leg", "description": "Replace the leg"}], "agreed_with": "Ms Ortiz"},
    )
    take(
        case,
        "agree_plan",
        {
            "agreed_with": "Ms Ortiz",
            "items": [
                {
                    "id": "leg",
                    "description": "Replace the leg",
                    "due": iso(clock.now + dt.timedelta(days=2)),
                },
                {
                    "id": "call",
                    "description": "Call to confirm",
                    "due": iso(clock.now + dt.timedelta(days=3)),
                    "priority": "long_term",
                },
            ],
        },
    )
    show(case)
    take(case, "complete_item", {"item_id": "leg"})
    clock.advance(days=4)
    show(case)  # the call is now overdue and visible
    take(case, "complete_item", {"item_id": "call", "note": "Late, apologised again."})
    take(case, "complete_plan")
    show(case)
    take(
        case,
        "confirm_satisfaction",
        {"satisfied": True, "thanked": True, "recurrence_assured": True, "comment": "Thanks for sorting it."},
    )
    return case


def prescription(clock: DemoClock) -> resolveflow.Case:
    case = resolveflow.open_case("prescription", case_id="DEMO-RX", clock=clock)
    show(case)
    attempt(
        case,
        "acknowledge_problem",
        {"customer_perspective": "Invoice charged twice.", "accepts_accountability": False},
    )
    take(
        case,
        "acknowledge_problem",
        {"customer_perspective": "Invoice charged twice.", "accepts_accountability": True},
    )
    show(case)
    take(case, "remedy", {"action": "Credit issued", "taken_at": iso(clock.now)})
    show(case)
    take(
        case,
        "commit_prevention",
        {"kind": "system_fix", "description": "Deduplicate invoices.", "customer_told": True},
    )
    return case


WALKS: dict[str, Callable[[DemoClock], resolveflow.Case]] = {
    "seven-as": seven_as,
    "prescription": prescription,
}


def main(argv: list[str]) -> int:
    chosen = argv[1:] or ["seven-as"]
    for methodology_id in chosen:
        if methodology_id not in WALKS:
            print(f"no demo walk for {methodology_id!r}; choose from: {', '.join(WALKS)}")
            return 2
        case = WALKS[methodology_id](DemoClock())
        outcome = case.outcome
        print(f"\nClosed as {outcome.title if outcome else '-'} after {len(case.history)} entries.")
        print(f"Path: {' -> '.join(case.path)}")
        restored = resolveflow.restore(json.loads(json.dumps(case.snapshot())))
        print(
            f"Snapshot replayed through every guard: step {restored.step!r}, chain ok: "
            f"{restored.verify_chain()}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
