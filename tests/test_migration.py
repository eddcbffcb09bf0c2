"""Versions: a case stays on its version until migrated; migrations are checked and recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator

import attrs
import pytest

import resolveflow
from resolveflow import Action, Methodology, Migration, Step
from resolveflow import evidence as ev
from tests.conftest import FakeClock

V1 = resolveflow.get_methodology("engage", "1.0")


def _replace_actions(
    m: Methodology, *actions: Action, extra_steps: tuple[Step, ...] = (), **changes: object
) -> Methodology:
    names = {a.name for a in actions}
    kept = tuple(a for a in m.actions if a.name not in names)
    return attrs.evolve(m, steps=m.steps + extra_steps, actions=kept + actions, **changes)


# 1.5: the solution step is renamed "offer" (1.1 is the built-in engage 1.1).
RENAMED = attrs.evolve(
    V1,
    version="1.5",
    steps=tuple(attrs.evolve(s, id="offer") if s.id == "present_solution" else s for s in V1.steps),
    actions=tuple(
        attrs.evolve(
            a,
            sources=tuple("offer" if x == "present_solution" else x for x in a.sources),
            target="offer" if a.target == "present_solution" else a.target,
        )
        for a in V1.actions
    ),
    required_steps=("engage", "empathize", "offer"),
)

# 2.0: a required identity check is inserted between engage and empathize.
CHECKED = _replace_actions(
    V1,
    attrs.evolve(V1.action("engage_fully"), target="verify_identity"),  # type: ignore[arg-type]
    Action(
        name="identity_verified", sources="verify_identity", target="empathize", title="Identity verified"
    ),
    extra_steps=(Step(id="verify_identity", title="Verify identity"),),
    version="2.0",
    required_steps=("engage", "verify_identity", "empathize", "present_solution"),
)

# 3.0: presenting a solution now needs a liability review the old flow never asked for at that point.
STRICT = _replace_actions(
    V1,
    attrs.evolve(
        V1.action("solution_accepted"),  # type: ignore[arg-type]
        guards=(
            *V1.action("solution_accepted").guards,  # type: ignore[union-attr]
            resolveflow.guards.Requires(record=ev.LiabilityReview, at_step="empathize", name="reviewed"),
        ),
    ),
    attrs.evolve(V1.action("solution_declined"), guards=()),  # type: ignore[arg-type]
    version="3.0",
)


@pytest.fixture(autouse=True)
def registered() -> Iterator[None]:
    for m in (RENAMED, CHECKED, STRICT):
        resolveflow.register(m)
    try:
        yield
    finally:
        for m in (RENAMED, CHECKED, STRICT):
            resolveflow.unregister(m.id, m.version, forget=True)


def case_at_solution(clock: FakeClock) -> resolveflow.Case:
    case = resolveflow.open_case(V1, case_id="MIG-1", clock=clock)
    case.fire("engage_fully", {"notes": "Parcel lost."}, actor="ana")
    case.fire("apologize", {"statement": "Sorry for the trouble."}, actor="ana")
    case.fire("show_empathy", {"statement": "That must be frustrating."}, actor="ana")
    return case


def to(version: str, **steps: str) -> Migration:
    return Migration(methodology_id="engage", from_version="1.0", to_version=version, steps=steps)


def test_a_case_stays_on_its_version(clock: FakeClock) -> None:
    case = case_at_solution(clock)
    assert resolveflow.get_methodology("engage").version == "3.0"
    assert case.methodology.version == "1.0"
    assert resolveflow.restore(json.loads(json.dumps(case.snapshot()))).methodology.version == "1.0"


def test_rename_migration_is_recorded_and_replays(clock: FakeClock) -> None:
    case = case_at_solution(clock)
    moved = resolveflow.migrate(case, to("1.5", present_solution="offer"), actor="ops")
    assert (moved.methodology.version, moved.step, moved.opened_with) == ("1.5", "offer", "1.0")
    entry = moved.history[-1]
    assert (entry.action, entry.from_step, entry.step, entry.actor) == (
        "migrate_version",
        "present_solution",
        "offer",
        "ops",
    )
    assert entry.evidence_json["steps"] == {"present_solution": "offer"}
    assert case.methodology.version == "1.0" and len(case.history) == 3  # the original is untouched
    moved.fire("solution_accepted", {"solution": "Refund", "accepted": True}, actor="ana")
    assert moved.outcome is not None and moved.outcome.id == "resolved"
    assert moved.verify_chain()
    data = json.loads(json.dumps(moved.snapshot()))
    assert data["opened_with"] == "1.0" and data["methodology"]["version"] == "1.5"
    restored = resolveflow.restore(data)
    assert restored.history == moved.history and restored.methodology is RENAMED


def test_migration_that_would_skip_a_new_required_step_is_refused(clock: FakeClock) -> None:
    case = case_at_solution(clock)
    with pytest.raises(resolveflow.Refused) as info:
        resolveflow.migrate(case, to("2.0"), actor="ops")
    assert info.value.codes == ("migration_skips_required_step",)
    assert info.value.refusals[0].missing == ("step:verify_identity",)
    assert len(case.history) == 3


def test_migration_before_the_new_step_is_allowed(clock: FakeClock) -> None:
    case = resolveflow.open_case(V1, case_id="MIG-2", clock=clock)
    moved = resolveflow.migrate(case, to("2.0"), actor="ops")
    moved.fire("engage_fully", {"notes": "x"}, actor="ana")
    assert moved.step == "verify_identity"


def test_migration_that_strands_the_case_is_refused(clock: FakeClock) -> None:
    case = case_at_solution(clock)  # no liability review was recorded at empathize
    with pytest.raises(resolveflow.Refused) as info:
        resolveflow.migrate(case, to("3.0"), actor="ops")
    assert info.value.codes == ("migration_strands_case",)


def test_strict_version_accepts_a_case_that_recorded_the_review(clock: FakeClock) -> None:
    case = resolveflow.open_case(V1, case_id="MIG-3", clock=clock)
    case.fire("engage_fully", {"notes": "x"}, actor="ana")
    case.fire("record_liability_review", {"reviewer": "lawyer", "company_at_fault": False}, actor="ana")
    case.fire("show_empathy", {"statement": "I see."}, actor="ana")
    moved = resolveflow.migrate(case, to("3.0"), actor="ops")
    moved.fire("solution_accepted", {"solution": "Refund", "accepted": True}, actor="ana")
    assert moved.closed


def test_unmapped_step_and_closed_case(clock: FakeClock) -> None:
    case = case_at_solution(clock)
    with pytest.raises(resolveflow.Refused) as info:
        resolveflow.migrate(case, to("1.5"), actor="ops")  # present_solution has no counterpart
    assert info.value.codes == ("migration_unmapped_step",)
    case.fire("solution_accepted", {"solution": "Refund", "accepted": True}, actor="ana")
    with pytest.raises(resolveflow.Refused) as closed:
        resolveflow.migrate(case, to("1.5", present_solution="offer"), actor="ops")
    assert "case_closed" in closed.value.codes


def test_wrong_versions_are_refused(clock: FakeClock) -> None:
    case = case_at_solution(clock)
    wrong = Migration(
        methodology_id="engage", from_version="0.9", to_version="1.5", steps={"present_solution": "offer"}
    )
    with pytest.raises(resolveflow.Refused) as info:
        resolveflow.migrate(case, wrong, actor="ops")
    assert info.value.codes == ("migration_wrong_version",)
    with pytest.raises(resolveflow.Refused) as target:
        resolveflow.migrate(case, to("1.5", present_solution="offer"), actor="ops", target=CHECKED)
    assert "migration_wrong_target" in target.value.codes
    with pytest.raises(resolveflow.UnknownMethodology):
        resolveflow.migrate(case, to("7.0"), actor="ops")


def test_bad_migration_definitions() -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="the same"):
        Migration(methodology_id="engage", from_version="1.0", to_version="1.0")
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="non-blank"):
        Migration(methodology_id=" ", from_version="1.0", to_version="1.5")
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="step ids"):
        Migration(methodology_id="engage", from_version="1.0", to_version="1.5", steps={"a": 3})  # type: ignore[dict-item]
    with pytest.raises(resolveflow.InvalidInput):
        resolveflow.migrate("case", to("1.5"), actor="ops")  # type: ignore[arg-type]
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="reserved"):
        Action(name="migrate_version", sources="a", target="b", title="Sneaky")


def test_tampered_migration_entry_is_rejected(clock: FakeClock) -> None:
    moved = resolveflow.migrate(case_at_solution(clock), to("1.5", present_solution="offer"), actor="ops")
    data = json.loads(json.dumps(moved.snapshot()))
    data["history"][-1]["evidence"]["steps"] = {"present_solution": "engage"}
    with pytest.raises(resolveflow.InvalidSnapshot) as info:
        resolveflow.restore(data)
    assert info.value.entry == 4


def test_restore_needs_every_version_it_passed_through(clock: FakeClock) -> None:
    moved = resolveflow.migrate(case_at_solution(clock), to("1.5", present_solution="offer"), actor="ops")
    data = moved.snapshot()
    resolveflow.unregister("engage", "1.5")
    try:
        with pytest.raises(resolveflow.InvalidSnapshot, match=r"no version '1.5'"):
            resolveflow.restore(data)
        assert resolveflow.restore(data, methodology=RENAMED).step == "offer"
    finally:
        resolveflow.register(RENAMED)


# --- after a migration, guards read the history in the new version's step ids -----


def _two_versions(new_step_in_v2: bool) -> tuple[Methodology, Methodology]:
    from resolveflow import Outcome

    v1 = Methodology(
        id="renamed", version="1.0", title="Renamed", source="tests",
        steps=(Step(id="a", title="A"), Step(id="b", title="B"), Step(id="c", title="C")),
        outcomes=(Outcome(id="done", title="Done", successful=True),),
        actions=(
            Action(name="go_b", sources="a", target="b", title="To b"),
            Action(name="go_c", sources="b", target="c", title="To c"),
            Action(name="finish", sources="c", target="done", title="Finish"),
        ),
        initial="a", required_steps=("a", "b", "c"),
    )  # fmt: skip
    if new_step_in_v2:
        # v2: the old "b" is now "x", and a new review step "b" guards finishing.
        steps = (
            Step(id="a", title="A"),
            Step(id="x", title="X"),
            Step(id="b", title="B"),
            Step(id="c", title="C"),
        )
        actions = (
            Action(name="go_x", sources="a", target="x", title="To x"),
            Action(name="go_b", sources="x", target="b", title="To b"),
            Action(name="go_c", sources=("x", "b"), target="c", title="To c"),
            Action(name="finish", sources="c", target="done", title="Finish",
                   guards=(resolveflow.guards.AfterStep(step="b", name="reviewed"),)),
        )  # fmt: skip
        required: tuple[str, ...] = ("a", "x", "c")
    else:
        # v2: "b" is renamed "b2", and finishing needs to have passed it.
        steps = (Step(id="a", title="A"), Step(id="b2", title="B2"), Step(id="c", title="C"))
        actions = (
            Action(name="go_b", sources="a", target="b2", title="To b2"),
            Action(name="go_c", sources="b2", target="c", title="To c"),
            Action(name="finish", sources="c", target="done", title="Finish",
                   guards=(resolveflow.guards.AfterStep(step="b2"),)),
        )  # fmt: skip
        required = ("a", "b2", "c")
    v2 = attrs.evolve(v1, version="2.0", steps=steps, actions=actions, required_steps=required)
    return v1, v2


def test_a_renamed_step_counts_as_visited_after_migration(clock: FakeClock) -> None:
    v1, v2 = _two_versions(new_step_in_v2=False)
    case = resolveflow.open_case(v1, case_id="R", clock=clock)
    case.fire("go_b", actor="a")
    case.fire("go_c", actor="a")
    migration = Migration(methodology_id="renamed", from_version="1.0", to_version="2.0", steps={"b": "b2"})
    moved = resolveflow.migrate(case, migration, actor="ops", target=v2)
    assert moved.check("finish").allowed
    assert moved.view().progress.done == ("a", "b2")
    moved.fire("finish", actor="a")
    assert moved.outcome is not None


def test_a_new_step_guard_is_not_bypassed_by_an_old_id(clock: FakeClock) -> None:
    v1, v2 = _two_versions(new_step_in_v2=True)
    case = resolveflow.open_case(v1, case_id="N", clock=clock)
    case.fire("go_b", actor="a")
    case.fire("go_c", actor="a")
    migration = Migration(methodology_id="renamed", from_version="1.0", to_version="2.0", steps={"b": "x"})
    with pytest.raises(resolveflow.Refused) as info:
        resolveflow.migrate(case, migration, actor="ops", target=v2)
    assert "migration_strands_case" in info.value.codes
