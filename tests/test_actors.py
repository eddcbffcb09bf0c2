"""Actors with roles (issue 13): recorded in the chain, seen by guards, refused with a reason."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import resolveflow
from resolveflow import Actor, Methodology
from resolveflow import evidence as ev
from resolveflow.exceptions import InvalidInput, InvalidMethodology, InvalidSnapshot, Refused
from resolveflow.files import methodology_from_text, methodology_to_dict
from resolveflow.guards import HasRole, NamedActor, OtherThan
from tests.conftest import FakeClock

FOUR_EYES = """
resolveflow: 1
id: four-eyes-demo
version: "1.0"
title: Compensation approved by a second person
source: resolveflow tests
initial: propose
required_steps: [propose, approve]
roles: [agent, supervisor]
steps:
  - {id: propose, title: Propose compensation}
  - {id: approve, title: Approve it}
  - {id: continue_work, title: Carry on}
outcomes:
  - {id: done, title: Done, successful: true}
actions:
  - name: propose_it
    title: Propose it
    sources: [propose]
    target: approve
    guards: [{kind: has_role, role: agent}]
  - name: approve_it
    title: Approve it
    sources: [approve]
    target: continue_work
    guards:
      - {kind: has_role, role: supervisor}
      - {kind: other_than, step: propose}
  - name: hand_off
    title: Hand to a colleague
    sources: [continue_work]
    evidence: handoff
  - name: finish
    title: Finish
    sources: [continue_work]
    target: done
    guards: [{kind: named_actor, record: handoff, field: to, or_role: supervisor}]
"""
M = methodology_from_text(FOUR_EYES, "yaml")
ANA = Actor("ana", roles={"agent"})
BEN = Actor("ben", roles={"agent", "supervisor"})
SAM = Actor("sam", roles={"supervisor"})


def _proposed(clock: FakeClock, by: Actor = ANA) -> resolveflow.Case:
    case = resolveflow.open_case(M, case_id="A-1", clock=clock)
    case.fire("propose_it", actor=by)
    return case


# --- the Actor record -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: Actor(""), "actor"),
        (lambda: Actor("x" * 201), "actor"),
        (lambda: Actor(5), "actor"),  # type: ignore[arg-type]
        (lambda: Actor("ana", roles="legal"), "roles"),  # a string is not a set of roles
        (lambda: Actor("ana", roles={"Legal"}), "roles"),
        (lambda: Actor("ana", roles={"go-to-rep"}), "roles"),
        (lambda: Actor("ana", roles={"r" * 101}), "roles"),
        (lambda: Actor("ana", roles={f"r{i}" for i in range(33)}), "roles"),
        (lambda: Actor("ana", roles=[[[]]]), "roles"),
    ],
)
def test_a_bad_actor_is_refused_naming_what_is_wrong(make: object, argument: str) -> None:
    with pytest.raises(InvalidInput) as info:
        make()  # type: ignore[operator]
    assert info.value.argument == argument


def test_an_actor_given_as_text_has_no_roles_and_is_recorded_as_before(clock: FakeClock) -> None:
    """An entry without roles keeps the exact form and hash it had before roles existed."""
    case = resolveflow.open_case("engage", case_id="A-0", clock=clock)
    entry = case.fire("engage_fully", {"notes": "x"}, actor="ana")
    assert entry.roles == frozenset() and case.snapshot()["history"][0]["actor"] == "ana"
    same = resolveflow.open_case("engage", case_id="A-0", clock=clock)
    assert same.fire("engage_fully", {"notes": "x"}, actor=Actor("ana")).hash == entry.hash


# --- recorded in the chain --------------------------------------------------------------


def test_roles_are_recorded_in_the_hash_chain(clock: FakeClock) -> None:
    case = _proposed(clock)
    entry = case.history[0]
    assert entry.actor == "ana" and entry.roles == {"agent"}
    snapshot = case.snapshot()
    assert snapshot["history"][0]["actor"] == {"id": "ana", "roles": ["agent"]}
    again = resolveflow.restore(json.loads(json.dumps(snapshot)), methodology=M)
    assert again.history == case.history and again.head == case.head
    other = resolveflow.open_case(M, case_id="A-1", clock=FakeClock())
    assert other.fire("propose_it", actor=Actor("ana", roles={"agent", "supervisor"})).hash != entry.hash


@pytest.mark.parametrize(
    "edit",
    [
        lambda a: {"id": "ana", "roles": ["agent", "supervisor"]},  # a role added after the fact
        lambda a: {"id": "ana", "roles": ["supervisor"]},
        lambda a: "ana",  # the roles removed
        lambda a: {"id": "ana", "roles": []},
        lambda a: {"id": "ana", "roles": ["agent", "agent"]},
        lambda a: {"id": "ana", "roles": "agent"},
        lambda a: {"id": "ana", "roles": ["agent"], "extra": 1},
        lambda a: {"roles": ["agent"]},
    ],
)
def test_an_edited_actor_in_a_snapshot_is_refused(clock: FakeClock, edit: object) -> None:
    snapshot = _proposed(clock).snapshot()
    snapshot["history"][0]["actor"] = edit(snapshot["history"][0]["actor"])  # type: ignore[operator]
    before = copy.deepcopy(snapshot)
    with pytest.raises(InvalidSnapshot) as info:
        resolveflow.restore(snapshot, methodology=M)
    assert info.value.entry == 1 and snapshot == before


def test_roles_out_of_order_in_a_snapshot_are_not_canonical(clock: FakeClock) -> None:
    case = resolveflow.open_case(M, case_id="A-2", clock=clock)
    case.fire("propose_it", actor=BEN)
    snapshot = case.snapshot()
    assert snapshot["history"][0]["actor"]["roles"] == ["agent", "supervisor"]
    snapshot["history"][0]["actor"]["roles"].reverse()
    with pytest.raises(InvalidSnapshot, match="sorted"):
        resolveflow.restore(snapshot, methodology=M)


# --- the guards -------------------------------------------------------------------------


def test_a_missing_role_is_refused_naming_the_role(clock: FakeClock) -> None:
    case = resolveflow.open_case(M, case_id="A-3", clock=clock)
    with pytest.raises(Refused) as info:
        case.fire("propose_it", actor=SAM)
    (refusal,) = info.value.refusals
    assert refusal.code == "needs_role_agent" and refusal.missing == ("role:agent",)
    assert "'agent'" in refusal.message
    assert case.history == ()
    with pytest.raises(Refused):
        case.fire("propose_it", actor="ana")  # text: an actor without roles


def test_without_an_actor_role_guards_are_pending_not_refused(clock: FakeClock) -> None:
    case = _proposed(clock)
    decision = case.check("approve_it")
    assert decision.allowed and set(decision.pending) == {"needs_role_supervisor", "four_eyes_propose"}


def test_four_eyes_refuses_whoever_acted_at_the_step(clock: FakeClock) -> None:
    case = _proposed(clock, by=BEN)
    refused = case.check("approve_it", actor=BEN)
    assert refused.allowed is False and [r.code for r in refused.refusals] == ["four_eyes_propose"]
    assert refused.refusals[0].missing == ("other_than:propose",)
    with pytest.raises(Refused):
        case.fire("approve_it", actor=BEN)
    assert case.check("approve_it", actor=SAM).allowed
    case.fire("approve_it", actor=SAM)
    assert case.step == "continue_work"


def test_only_the_named_colleague_or_the_role_may_act_after_a_hand_off(clock: FakeClock) -> None:
    case = _proposed(clock)
    case.fire("approve_it", actor=SAM)
    assert case.check("finish", actor=ANA).allowed  # no hand-off yet: anyone
    case.fire("hand_off", {"to": "kim", "reason": "Kim handles refunds."}, actor=ANA)
    refused = case.check("finish", actor=ANA)
    assert [r.missing for r in refused.refusals] == [("actor:kim", "role:supervisor")]
    assert case.check("finish", actor="kim").allowed and case.check("finish", actor=SAM).allowed
    case.fire("finish", actor="kim")
    assert case.outcome is not None and case.outcome.id == "done"


@settings(max_examples=40, deadline=None)
@given(
    roles=st.sets(st.sampled_from(["agent", "supervisor", "legal"])),
    proposer=st.sampled_from(["ana", "ben"]),
    approver=st.sampled_from(["ana", "ben", "sam"]),
)
def test_check_with_an_actor_agrees_with_fire(roles: set[str], proposer: str, approver: str) -> None:
    case = resolveflow.open_case(M, case_id="A-P", clock=FakeClock())
    case.fire("propose_it", actor=Actor(proposer, roles={"agent"}))
    who = Actor(approver, roles=roles)
    decision = case.check("approve_it", actor=who)
    assert not decision.pending
    assert decision.allowed == ("supervisor" in roles and approver != proposer)
    if decision.allowed:
        case.fire("approve_it", actor=who)
        assert case.step == "continue_work"
    else:
        with pytest.raises(Refused) as refused:
            case.fire("approve_it", actor=who)
        assert refused.value.codes == tuple(r.code for r in decision.refusals)


def test_actions_and_view_say_what_this_person_may_do(clock: FakeClock) -> None:
    case = _proposed(clock)
    for_ana = {a.name: a for a in case.actions(actor=ANA)}
    assert for_ana["approve_it"].enabled is False
    assert {r.code for r in for_ana["approve_it"].refusals} == {"needs_role_supervisor", "four_eyes_propose"}
    assert [a.enabled for a in case.actions(actor=SAM)] == [True]
    assert case.actions()[0].enabled and case.actions()[0].pending  # nobody in particular
    view = case.view(actor=ANA).to_json()
    assert view["actions"][0]["enabled"] is False
    assert {r["code"] for r in view["actions"][0]["refusals"]} == {
        "needs_role_supervisor",
        "four_eyes_propose",
    }


def test_four_eyes_follows_a_step_renamed_by_a_migration(clock: FakeClock) -> None:
    import attrs

    renamed_steps = tuple(attrs.evolve(s, id="proposal") if s.id == "propose" else s for s in M.steps)
    actions = []
    for a in M.actions:
        sources = tuple("proposal" if s == "propose" else s for s in a.sources)
        guards = tuple(OtherThan(step="proposal") if isinstance(g, OtherThan) else g for g in a.guards)
        actions.append(attrs.evolve(a, sources=sources, guards=guards))
    v2 = attrs.evolve(
        M, version="2.0", steps=renamed_steps, actions=tuple(actions), initial="proposal",
        required_steps=("proposal", "approve"),
    )  # fmt: skip
    case = _proposed(clock, by=BEN)
    moved = resolveflow.migrate(
        case,
        resolveflow.Migration(
            methodology_id=M.id, from_version="1.0", to_version="2.0", steps={"propose": "proposal"}
        ),
        actor="ops",
        target=v2,
    )
    assert [r.code for r in moved.check("approve_it", actor=BEN).refusals] == ["four_eyes_proposal"]


# --- definitions ------------------------------------------------------------------------


def test_a_guard_naming_an_undeclared_role_is_refused_when_made() -> None:
    text = FOUR_EYES.replace("roles: [agent, supervisor]", "roles: [agent]")
    with pytest.raises(InvalidMethodology, match="role 'supervisor', which the methodology does not declare"):
        methodology_from_text(text, "yaml")


@pytest.mark.parametrize("bad", [["Agent"], ["agent", "agent"], ["a" * 101], [5]])
def test_declared_roles_are_snake_case_words_once(bad: list[object]) -> None:
    with pytest.raises(InvalidMethodology):
        Methodology(**{**_fields(M), "roles": tuple(bad), "actions": ()})


def _fields(m: Methodology) -> dict[str, object]:
    import attrs

    return {f.name: getattr(m, f.name) for f in attrs.fields(Methodology) if f.init}


def test_roles_and_role_guards_round_trip_through_a_file() -> None:
    data = methodology_to_dict(M)
    assert data["roles"] == ["agent", "supervisor"]
    assert {"kind": "other_than", "step": "propose"} in data["actions"][1]["guards"]
    assert resolveflow.files.methodology_from_dict(data) == M


def test_a_methodology_without_roles_writes_no_roles_key() -> None:
    assert "roles" not in methodology_to_dict(resolveflow.get_methodology("engage", "1.0"))


@pytest.mark.parametrize(
    ("make", "complaint"),
    [
        (lambda: HasRole(role="Legal"), "snake_case"),
        (lambda: HasRole(role=None), "snake_case"),
        (lambda: NamedActor(record=ev.Handoff, field="nobody"), "not a field"),
        (lambda: NamedActor(record=ev.Handoff, field="to", or_role="x y"), "snake_case"),
        (lambda: OtherThan(step="a", name="Bad Name"), "refusal codes"),
    ],
)
def test_role_guards_refuse_bad_settings(make: object, complaint: str) -> None:
    with pytest.raises(InvalidMethodology, match=complaint):
        make()  # type: ignore[operator]


def test_verify_treats_role_guards_as_passable_by_someone() -> None:
    """A role guard only narrows who may act: it never opens a path, so the proof still holds."""
    report = resolveflow.verify(M)
    assert report.ok, report.findings


# --- the store --------------------------------------------------------------------------


def test_the_store_keeps_roles_and_refuses_an_edited_roles_column(
    store: resolveflow.store.Store, clock: FakeClock
) -> None:
    resolveflow.register(M)
    try:
        store.open_case(M.id, case_id="S-1")
        store.fire("S-1", "propose_it", actor=ANA)
        loaded = store.load("S-1")
        assert loaded.history[0].roles == {"agent"}
        assert store.history("S-1").entries[0].roles == {"agent"}
        for edited in ('["agent","supervisor"]', "not json", '["Agent"]'):
            with store.engine.begin() as conn:
                conn.exec_driver_sql(f"UPDATE resolveflow_entries SET actor_roles = '{edited}'")
            for read in (store.load, store.history):
                with pytest.raises(resolveflow.store.TamperedHistory) as info:
                    read("S-1")
                assert info.value.entry == 1
    finally:
        resolveflow.unregister(M.id, M.version, forget=True)
