"""A case binds the digest of each definition it was recorded under (issue 12, "cannot be swapped").

Before this, a snapshot named only ``id@version``: unregistering seven-as 1.0
and registering a copy without its guards made ``restore`` and ``fire``
accept histories the original guards refuse.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import resolveflow
from resolveflow import Methodology
from resolveflow.exceptions import DefinitionMismatch, InvalidInput, InvalidMethodology, InvalidSnapshot
from resolveflow.files import definition_digest, methodology_from_dict, methodology_to_dict
from resolveflow.guards import Rule
from resolveflow.testing import registered
from tests._store_support import drive, seven_as_to_act
from tests.conftest import FakeClock

SEVEN_AS = resolveflow.get_methodology("seven-as", "1.0")
ENGAGE = resolveflow.get_methodology("engage", "1.0")
BUILT_IN = resolveflow.origin_of("seven-as", "1.0")


def _unguarded(methodology: Methodology) -> Methodology:
    """The same steps and actions with every guard removed: the swap the issue describes."""
    return attrs.evolve(methodology, actions=tuple(attrs.evolve(a, guards=()) for a in methodology.actions))


@pytest.fixture
def swapped_seven_as() -> Iterator[Methodology]:
    """seven-as 1.0 replaced (by force) with a copy without guards; the original is put back after."""
    copy_without_guards = _unguarded(SEVEN_AS)
    resolveflow.register(copy_without_guards, origin="tests", force=True)
    try:
        yield copy_without_guards
    finally:
        resolveflow.register(SEVEN_AS, origin=BUILT_IN, force=True)
    assert resolveflow.get_methodology("seven-as", "1.0") is SEVEN_AS
    assert resolveflow.origin_of("seven-as", "1.0") == BUILT_IN


def _seven_as_case(clock: FakeClock) -> resolveflow.Case:
    case = resolveflow.open_case(resolveflow.get_methodology("seven-as", "1.0"), case_id="DG-1", clock=clock)
    case.fire("acknowledge_feelings", {"feelings": "upset"}, actor="ana")
    return case


# --- the digest -----------------------------------------------------------------------


def test_every_shipped_definition_has_a_distinct_digest() -> None:
    digests = {
        definition_digest(resolveflow.get_methodology(mid, v))
        for mid in resolveflow.available()
        for v in resolveflow.versions(mid)
    }
    assert len(digests) == sum(len(resolveflow.versions(mid)) for mid in resolveflow.available())
    assert all(d.startswith("sha256:") and len(d) == 7 + 64 for d in digests)


def test_the_digest_is_the_file_forms_and_survives_a_round_trip_through_a_file() -> None:
    again = methodology_from_dict(json.loads(json.dumps(methodology_to_dict(SEVEN_AS))))
    assert again is not SEVEN_AS and definition_digest(again) == definition_digest(SEVEN_AS)


def test_the_file_format_version_is_not_part_of_the_digest() -> None:
    """A newer file format must not unbind every stored case of an unchanged definition."""
    data = methodology_to_dict(ENGAGE)
    assert "resolveflow" in data
    assert definition_digest(methodology_from_dict(data)) == definition_digest(ENGAGE)


_CHANGES = [
    lambda m: attrs.evolve(m, title=m.title + "!"),
    lambda m: attrs.evolve(m, steps=(attrs.evolve(m.steps[0], prompts=("Ask again.",)), *m.steps[1:])),
    lambda m: _unguarded(m),
    lambda m: attrs.evolve(m, outcomes=(attrs.evolve(m.outcomes[0], title="Other"), *m.outcomes[1:])),
    lambda m: attrs.evolve(m, description="changed"),
]


@pytest.mark.parametrize("change", range(len(_CHANGES)))
def test_any_change_to_the_definition_changes_the_digest(change: int) -> None:
    changed = _CHANGES[change](SEVEN_AS)
    assert changed != SEVEN_AS and definition_digest(changed) != definition_digest(SEVEN_AS)


@settings(max_examples=30, deadline=None)
# Titles a methodology accepts: non-blank (a title of spaces is refused when the methodology is made).
@given(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=30).filter(
        str.strip
    )
)
def test_two_titles_share_a_digest_only_when_they_are_equal(title: str) -> None:
    retitled = attrs.evolve(ENGAGE, title=title)
    assert (definition_digest(retitled) == definition_digest(ENGAGE)) == (title == ENGAGE.title)


def test_a_methodology_a_file_cannot_express_still_gets_a_digest() -> None:
    """Rules are Python: named by the predicate's module and qualified name, and by the guard's fields."""

    def weekdays(ctx: object) -> bool:
        return True

    def weekends(ctx: object) -> bool:
        return True

    def with_rule(predicate: object, name: str = "my_rule") -> Methodology:
        rule = Rule(name=name, message="My rule.", predicate=predicate)  # type: ignore[arg-type]
        return attrs.evolve(
            ENGAGE, actions=(attrs.evolve(ENGAGE.actions[0], guards=(rule,)), *ENGAGE.actions[1:])
        )

    digest = definition_digest(with_rule(weekdays))
    assert digest == definition_digest(with_rule(weekdays))  # a new object, the same definition
    assert digest != definition_digest(with_rule(weekends))
    assert digest != definition_digest(with_rule(weekdays, name="other_rule"))
    assert digest != definition_digest(ENGAGE)


@pytest.mark.parametrize("bad", [None, "engage", {"id": "engage"}])
def test_definition_digest_refuses_what_is_not_a_methodology(bad: object) -> None:
    with pytest.raises(InvalidInput, match="expected a Methodology") as info:
        definition_digest(bad)  # type: ignore[arg-type]
    assert info.value.argument == "methodology"


# --- restore ----------------------------------------------------------------------------


def test_a_snapshot_names_the_digest_of_its_definition(clock: FakeClock) -> None:
    case = _seven_as_case(clock)
    assert case.snapshot()["definitions"] == {"1.0": definition_digest(SEVEN_AS)} == case.definitions


def test_the_issues_swap_is_refused_when_a_snapshot_is_restored(
    clock: FakeClock, swapped_seven_as: Methodology
) -> None:
    """A case recorded under seven-as 1.0 will not replay under a copy without its guards."""
    resolveflow.register(SEVEN_AS, origin=BUILT_IN, force=True)
    snapshot = _seven_as_case(clock).snapshot()
    resolveflow.register(swapped_seven_as, force=True)
    with pytest.raises(DefinitionMismatch) as info:
        resolveflow.restore(snapshot)
    error = info.value
    assert (error.methodology_id, error.version, error.entry) == ("seven-as", "1.0", None)
    assert error.expected == definition_digest(SEVEN_AS) and error.found == definition_digest(
        swapped_seven_as
    )
    assert "not the definition this case was recorded under" in str(error)
    assert isinstance(error, InvalidSnapshot)  # callers catching the older error still catch it


def test_passing_another_definition_to_restore_is_refused_the_same_way(clock: FakeClock) -> None:
    snapshot = _seven_as_case(clock).snapshot()
    with pytest.raises(DefinitionMismatch):
        resolveflow.restore(snapshot, methodology=_unguarded(SEVEN_AS))


def test_a_migration_binds_the_target_version_too(clock: FakeClock) -> None:
    v2 = attrs.evolve(ENGAGE, version="2.0")
    with registered(v2):
        case = resolveflow.open_case(ENGAGE, case_id="DG-2", clock=clock)
        case.fire("engage_fully", {"notes": "x"}, actor="a")
        moved = resolveflow.migrate(
            case,
            resolveflow.Migration(methodology_id="engage", from_version="1.0", to_version="2.0"),
            actor="ops",
        )
        snapshot = moved.snapshot()
        assert snapshot["definitions"] == {"1.0": definition_digest(ENGAGE), "2.0": definition_digest(v2)}
        assert resolveflow.restore(snapshot).history == moved.history
    with registered(attrs.evolve(v2, title="Another engage")), pytest.raises(DefinitionMismatch) as info:
        resolveflow.restore(snapshot)
    assert info.value.version == "2.0" and info.value.entry == 2  # the migration entry


def test_a_snapshot_from_before_definitions_restores_and_is_bound_from_then_on(clock: FakeClock) -> None:
    snapshot = _seven_as_case(clock).snapshot()
    del snapshot["definitions"]
    restored = resolveflow.restore(snapshot)
    assert restored.snapshot()["definitions"] == {"1.0": definition_digest(SEVEN_AS)}


@pytest.mark.parametrize(
    ("definitions", "complaint"),
    [
        ("sha256:" + "0" * 64, "must map each version"),
        ({}, "must map each version"),
        ({"1.0": "md5:abc"}, "not 'sha256:' and 64 hex digits"),
        ({"1.0": "sha256:" + "A" * 64}, "not 'sha256:' and 64 hex digits"),
        ({1: "sha256:" + "0" * 64}, "not a version"),
        ({"1.0": "sha256:" + "0" * 64, "2.0": "sha256:" + "0" * 64}, "does not pass through"),
        ({"9.0": "sha256:" + "0" * 64}, "has no digest for seven-as@1.0"),
        ({str(n): "sha256:" + "0" * 64 for n in range(10_000)}, "must map each version"),
        ({"1.0": [[[[["deep"]]]]]}, "not 'sha256:' and 64 hex digits"),
    ],
)
def test_malformed_definitions_are_refused_naming_the_key(
    clock: FakeClock, definitions: object, complaint: str
) -> None:
    snapshot = _seven_as_case(clock).snapshot()
    snapshot["definitions"] = copy.deepcopy(definitions)
    if complaint == "does not pass through":
        snapshot["definitions"]["1.0"] = definition_digest(SEVEN_AS)  # type: ignore[index]
    before = copy.deepcopy(snapshot)
    with pytest.raises(InvalidSnapshot, match="'definitions'") as info:
        resolveflow.restore(snapshot)
    assert complaint in str(info.value) and not isinstance(info.value, DefinitionMismatch)
    assert snapshot == before


# --- the registry -----------------------------------------------------------------------


def test_the_issues_unregister_then_register_is_refused_without_force() -> None:
    resolveflow.unregister("seven-as", "1.0")
    try:
        with pytest.raises(InvalidMethodology, match="not the definition that was registered") as info:
            resolveflow.register(_unguarded(SEVEN_AS))
        assert "force=True" in str(info.value) and "built-in" in str(info.value)
        with pytest.raises(resolveflow.UnknownMethodology):
            resolveflow.get_methodology("seven-as", "1.0")  # nothing was registered
    finally:
        resolveflow.register(SEVEN_AS, origin=BUILT_IN)  # the same definition again needs no force
    assert resolveflow.get_methodology("seven-as", "1.0") is SEVEN_AS


def test_a_clash_with_a_registered_definition_offers_force(swapped_seven_as: Methodology) -> None:
    with pytest.raises(InvalidMethodology, match="force=True"):
        resolveflow.register(SEVEN_AS)
    assert resolveflow.get_methodology("seven-as", "1.0") is swapped_seven_as


def test_forcing_a_swap_still_leaves_old_cases_refusing_to_restore(
    clock: FakeClock, swapped_seven_as: Methodology
) -> None:
    resolveflow.register(SEVEN_AS, origin=BUILT_IN, force=True)
    old = _seven_as_case(clock).snapshot()
    resolveflow.register(swapped_seven_as, force=True)
    assert resolveflow.get_methodology("seven-as", "1.0") is swapped_seven_as
    with pytest.raises(DefinitionMismatch):
        resolveflow.restore(old)
    # New cases run under the forced definition, and are bound to it.
    new = resolveflow.open_case(resolveflow.get_methodology("seven-as", "1.0"), case_id="DG-3", clock=clock)
    assert resolveflow.restore(new.snapshot()).definitions == {"1.0": definition_digest(swapped_seven_as)}


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_force_must_be_a_bool(bad: object) -> None:
    with pytest.raises(InvalidInput, match="force must be True or False"):
        resolveflow.register(SEVEN_AS, force=bad)  # type: ignore[arg-type]


def test_testing_registered_leaves_the_registry_as_it_found_it() -> None:
    mine = attrs.evolve(ENGAGE, id="dg-engage")
    with registered(mine):
        assert resolveflow.get_methodology("dg-engage") is mine
    assert "dg-engage" not in resolveflow.available()
    with registered(attrs.evolve(mine, title="Another")):  # a different definition: no force needed
        assert resolveflow.get_methodology("dg-engage").title == "Another"
    with registered(ENGAGE):  # already registered: left registered
        pass
    assert resolveflow.get_methodology("engage", "1.0") is ENGAGE


# --- the store --------------------------------------------------------------------------


def test_the_store_refuses_a_case_under_a_swapped_definition(
    store: resolveflow.store.Store, clock: FakeClock
) -> None:
    # Opened by id, so the store takes the registered definition (the latest, 1.1: a
    # Methodology object passed in would be remembered by the store instead).
    latest = resolveflow.get_methodology("seven-as")
    origin = resolveflow.origin_of("seven-as", latest.version)
    store.open_case("seven-as", case_id="S-1")
    drive(store, "S-1", seven_as_to_act(clock, 1)[:2], clock)  # the same two moves in 1.0 and 1.1
    resolveflow.register(_unguarded(latest), origin="tests", force=True)
    try:
        with pytest.raises(DefinitionMismatch):
            store.load("S-1")
        with pytest.raises(DefinitionMismatch):
            store.history("S-1")
        with pytest.raises(DefinitionMismatch):
            store.fire("S-1", "give_apology", {"statement": "Sorry."}, actor="ana")
    finally:
        resolveflow.register(latest, origin=origin, force=True)
    assert store.load("S-1").step == "apologize" and store.summary("S-1").last_seq == 2


def test_a_case_stored_before_the_column_is_bound_at_its_next_write(
    store: resolveflow.store.Store, clock: FakeClock
) -> None:
    store.open_case(resolveflow.get_methodology("seven-as", "1.0"), case_id="S-2")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE resolveflow_cases SET definitions = NULL")
    assert store.load("S-2").step == "acknowledge"
    drive(store, "S-2", seven_as_to_act(clock, 1)[:1], clock)
    with store.engine.begin() as conn:
        column = conn.exec_driver_sql("SELECT definitions FROM resolveflow_cases").scalar_one()
    assert json.loads(column) == {"1.0": definition_digest(SEVEN_AS)}


@pytest.mark.parametrize("column", ["not json", '{"1.0": [[[[1]]]]}', "{" * 100_000, '{"1.0":"sha256:x"}'])
def test_an_edited_definitions_column_is_tampering(
    store: resolveflow.store.Store, clock: FakeClock, column: str
) -> None:
    store.open_case(resolveflow.get_methodology("seven-as", "1.0"), case_id="S-3")
    drive(store, "S-3", seven_as_to_act(clock, 1)[:1], clock)  # an empty page verifies nothing
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE resolveflow_cases SET definitions = ?"
            if store.engine.dialect.name == "sqlite"
            else "UPDATE resolveflow_cases SET definitions = %s",
            (column,),
        )
    for read in (store.load, store.history):
        with pytest.raises(resolveflow.store.TamperedHistory, match="definitions") as info:
            read("S-3")
        assert info.value.case_id == "S-3"
