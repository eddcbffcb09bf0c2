"""The registry: built-ins, lookup by id and version, register and unregister."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs
import pytest

import resolveflow
from resolveflow import (
    Action,
    InvalidMethodology,
    Methodology,
    Outcome,
    Rule,
    Step,
    UnknownMethodology,
    available,
    get_methodology,
    register,
    unregister,
    versions,
)
from resolveflow.methodologies import BUILTINS

BUILTIN_IDS = ["engage", "five-steps", "four-steps", "prescription", "seven-as"]
TEST_ID = "registry-test-flow"


def make(version: str = "1.0", *, methodology_id: str = TEST_ID, title: str = "Registry test") -> Methodology:
    return Methodology(
        id=methodology_id,
        version=version,
        title=title,
        source="tests/test_registry.py",
        steps=(Step(id="start", title="Start"),),
        outcomes=(Outcome(id="done", title="Done", successful=True),),
        actions=(Action(name="finish", sources="start", target="done", title="Finish"),),
        initial="start",
        required_steps=("start",),
    )


Register = Callable[[Methodology], Methodology]


@pytest.fixture
def registered() -> Iterator[Register]:
    """register() that undoes itself: every key it registered is unregistered afterwards."""
    keys: list[tuple[str, str]] = []

    def do(methodology: Methodology) -> Methodology:
        if methodology.key not in keys:
            keys.append(methodology.key)
        register(methodology)
        return methodology

    try:
        yield do
    finally:
        for methodology_id, version in keys:
            assert methodology_id not in BUILTIN_IDS, "a test must not unregister a built-in"
            unregister(methodology_id, version)
        assert TEST_ID not in available()


# --- built-ins -------------------------------------------------------------------


def test_available_is_sorted_and_has_the_builtins() -> None:
    ids = available()
    assert isinstance(ids, list)
    assert ids == sorted(ids)
    assert set(BUILTIN_IDS) <= set(ids)
    assert sorted(m.id for m in BUILTINS) == BUILTIN_IDS


def test_available_returns_a_copy() -> None:
    available().append("not-registered")
    assert "not-registered" not in available()


@pytest.mark.parametrize("methodology_id", BUILTIN_IDS)
def test_get_builtin(methodology_id: str) -> None:
    builtin = next(b for b in BUILTINS if b.id == methodology_id)
    assert get_methodology(methodology_id, builtin.version) is builtin
    latest = get_methodology(methodology_id)
    assert isinstance(latest, Methodology)
    assert latest.id == methodology_id
    assert latest.version == versions(methodology_id)[-1]
    assert resolveflow.open_case(methodology_id, case_id="reg-1").methodology is latest


def test_sorted_after_registering(registered: Register) -> None:
    registered(make(methodology_id="aaa-first"))
    registered(make(methodology_id="zzz-last"))
    ids = available()
    assert ids == sorted(ids)
    assert ids[0] == "aaa-first"
    assert ids[-1] == "zzz-last"


# --- versions ----------------------------------------------------------------------


def test_latest_version_compares_numerically(registered: Register) -> None:
    for version in ("1.9", "1.10", "1.2", "1"):
        registered(make(version))
    assert versions(TEST_ID) == ["1", "1.2", "1.9", "1.10"]
    assert get_methodology(TEST_ID).version == "1.10"
    assert get_methodology(TEST_ID, "1.9").version == "1.9"
    registered(make("2"))
    assert get_methodology(TEST_ID).version == "2"
    registered(make("10.0"))
    assert versions(TEST_ID)[-2:] == ["2", "10.0"]
    assert get_methodology(TEST_ID).version == "10.0"


def test_three_part_versions(registered: Register) -> None:
    for version in ("1.0.10", "1.0.9", "1.1"):
        registered(make(version))
    assert versions(TEST_ID) == ["1.0.9", "1.0.10", "1.1"]
    assert get_methodology(TEST_ID).version == "1.1"


@pytest.mark.parametrize("twin", ["01.0", "1.00"])
def test_numerically_equal_versions_cannot_coexist(registered: Register, twin: str) -> None:
    # "1.0" and "01.0" sort as the same number, so "the latest" would depend on
    # registration order; one of Methodology or register() must refuse the twin.
    registered(make("1.0"))
    with pytest.raises(InvalidMethodology):
        registered(make(twin))
    assert versions(TEST_ID) == ["1.0"]


def test_evolved_builtin_as_a_new_version(registered: Register) -> None:
    # the documented way to adapt a built-in: attrs.evolve under a new version
    engage = get_methodology("engage")
    mine = attrs.evolve(engage, id="engage-custom", version="1.1")
    registered(mine)
    assert get_methodology("engage-custom") is mine
    assert get_methodology("engage") is engage


# --- unknown ids and versions ----------------------------------------------------------


def test_unknown_id_lists_available_ids() -> None:
    with pytest.raises(UnknownMethodology) as info:
        get_methodology("no-such-flow")
    error = info.value
    assert error.methodology_id == "no-such-flow"
    assert error.version is None
    assert error.available == tuple(available())
    message = str(error)
    assert "'no-such-flow'" in message
    for methodology_id in BUILTIN_IDS:
        assert methodology_id in message


def test_unknown_id_in_versions() -> None:
    with pytest.raises(UnknownMethodology) as info:
        versions("no-such-flow")
    assert set(BUILTIN_IDS) <= set(info.value.available)


@pytest.mark.parametrize("bad", [None, 7, ("seven-as",)])
def test_non_string_id(bad: object) -> None:
    with pytest.raises(UnknownMethodology):
        get_methodology(bad)  # type: ignore[arg-type]


def test_unknown_version_lists_versions(registered: Register) -> None:
    for version in ("1.0", "1.2"):
        registered(make(version))
    with pytest.raises(UnknownMethodology) as info:
        get_methodology(TEST_ID, "9.9")
    error = info.value
    assert error.methodology_id == TEST_ID
    assert error.version == "9.9"
    assert error.available == ("1.0", "1.2")
    assert "'9.9'" in str(error)
    assert "1.0, 1.2" in str(error)


def test_unknown_version_of_a_builtin() -> None:
    with pytest.raises(UnknownMethodology, match=r"seven-as.*no version '0\.1'.*versions: 1\.0"):
        get_methodology("seven-as", "0.1")


def test_unknown_id_opens_no_case() -> None:
    with pytest.raises(UnknownMethodology):
        resolveflow.open_case("no-such-flow", case_id="x")


# --- register -------------------------------------------------------------------------


def test_register_makes_it_available(registered: Register) -> None:
    m = registered(make())
    assert TEST_ID in available()
    assert get_methodology(TEST_ID) is m
    assert versions(TEST_ID) == ["1.0"]
    case = resolveflow.open_case(TEST_ID, case_id="reg-2")
    case.fire("finish", actor="ana")
    assert resolveflow.restore(case.snapshot()).step == "done"


def test_registering_the_same_definition_twice_is_fine(registered: Register) -> None:
    first = registered(make())
    registered(first)
    twin = make()
    assert twin is not first
    registered(twin)
    assert versions(TEST_ID) == ["1.0"]
    assert get_methodology(TEST_ID) == first


def test_a_different_definition_under_the_same_key_is_refused(registered: Register) -> None:
    first = registered(make())
    with pytest.raises(InvalidMethodology) as info:
        register(make(title="Something else"))
    assert f"{TEST_ID}@1.0" in str(info.value)
    assert "new version" in str(info.value)
    assert info.value.where == "register"
    assert get_methodology(TEST_ID) is first


def test_a_builtin_cannot_be_replaced() -> None:
    seven = get_methodology("seven-as")
    with pytest.raises(InvalidMethodology):
        register(attrs.evolve(seven, title="Hijacked"))
    assert get_methodology("seven-as") is seven


def test_definitions_differing_only_in_a_rule_predicate_are_different(registered: Register) -> None:
    # Rule.predicate is excluded from equality, so two definitions whose rules
    # decide differently compare equal and the second silently replaces the first.
    def with_rule(result: bool) -> Methodology:
        rule = Rule(name="my_rule", message="My rule.", predicate=lambda ctx: result)
        m = make()
        return attrs.evolve(m, actions=(attrs.evolve(m.actions[0], guards=(rule,)),))

    allowing = registered(with_rule(True))
    with pytest.raises(InvalidMethodology):
        register(with_rule(False))
    assert get_methodology(TEST_ID) is allowing


@pytest.mark.parametrize("bad", [None, "seven-as", {"id": "x"}, BUILTINS])
def test_register_rejects_non_methodologies(bad: object) -> None:
    with pytest.raises(InvalidMethodology, match="expected a Methodology") as info:
        register(bad)  # type: ignore[arg-type]
    assert type(bad).__name__ in str(info.value)


# --- unregister -------------------------------------------------------------------------


def test_unregister_one_version(registered: Register) -> None:
    registered(make("1.0"))
    registered(make("2.0"))
    unregister(TEST_ID, "2.0")
    assert versions(TEST_ID) == ["1.0"]
    assert get_methodology(TEST_ID).version == "1.0"
    unregister(TEST_ID, "1.0")
    assert TEST_ID not in available()
    with pytest.raises(UnknownMethodology):
        get_methodology(TEST_ID)


def test_unregister_unknown_is_harmless() -> None:
    before = available()
    unregister("never-registered", "1.0")
    unregister("seven-as", "99.0")
    assert available() == before
    assert "1.0" in versions("seven-as")


def test_no_test_methodology_left_behind() -> None:
    # runs after the tests above in file order; the fixture cleans up in finally
    assert TEST_ID not in available()
    assert "aaa-first" not in available()
    assert "engage-custom" not in available()
