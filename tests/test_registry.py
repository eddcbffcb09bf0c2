"""The registry: built-ins, lookup by id and version, register and unregister.

Also: every id ``available()`` lists can be opened, on a core install too (the
shipped files are TOML, read by the standard library), and an unknown id is
never among the ids its error lists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

import resolveflow
from resolveflow import (
    Action,
    Methodology,
    Outcome,
    Step,
    UnknownMethodology,
    _registry,
    available,
    get_methodology,
    register,
    unregister,
    versions,
)
from resolveflow.exceptions import InvalidMethodology
from resolveflow.guards import Rule
from resolveflow.methodologies import BUILTINS

BUILTIN_IDS = ["engage", "five-steps", "four-steps", "prescription", "seven-as"]
SHIPPED_IDS = ["blast", "carp", "heard", "iso-10002", "last", "latte"]
TEST_ID = "registry-test-flow"
SHIPPED_DIR = Path(resolveflow.__file__).resolve().parent / "methodologies" / "files"


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
            unregister(methodology_id, version, forget=True)
        assert TEST_ID not in available()


# --- built-ins -------------------------------------------------------------------


def test_available_is_sorted_and_has_the_builtins() -> None:
    ids = available()
    assert isinstance(ids, list)
    assert ids == sorted(ids)
    assert set(BUILTIN_IDS) <= set(ids)
    assert sorted({m.id for m in BUILTINS}) == BUILTIN_IDS
    for methodology_id in ("five-steps", "four-steps"):  # 1.0 kept beside 1.1
        assert sorted(m.key for m in BUILTINS if m.id == methodology_id) == [
            (methodology_id, "1.0"),
            (methodology_id, "1.1"),
        ]


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


# --- everything listed can be opened ---------------------------------------------------


def listed_ids(error: UnknownMethodology) -> list[str]:
    """The ids an UnknownMethodology message lists after "available: " (up to the hint)."""
    message = str(error)
    assert "; available: " in message, message
    listed = message.split("; available: ", 1)[1].split(";", 1)[0]
    return [] if listed == "none" else listed.split(", ")


def test_every_available_id_opens() -> None:
    ids = available()
    assert set(BUILTIN_IDS) | set(SHIPPED_IDS) <= set(ids)
    for methodology_id in ids:
        assert get_methodology(methodology_id).id == methodology_id


# The shipped files by id, oldest version first: "<id>.toml", then "<id>@<version>.toml" for later ones.
SHIPPED_FILES = {i: [f"{i}.toml"] for i in SHIPPED_IDS}
SHIPPED_FILES["iso-10002"] = ["iso-10002.toml", "iso-10002@1.1.toml"]


def latest_file(methodology_id: str) -> str:
    return SHIPPED_FILES[methodology_id][-1]


def test_the_shipped_files_are_toml_read_by_the_standard_library() -> None:
    for methodology_id in SHIPPED_IDS:
        m = get_methodology(methodology_id)
        expected = f"shipped file {latest_file(methodology_id)}"
        assert resolveflow.origin_of(methodology_id, m.version) == expected
        for version, name in zip(versions(methodology_id), SHIPPED_FILES[methodology_id], strict=True):
            assert resolveflow.origin_of(methodology_id, version) == f"shipped file {name}"


def test_every_shipped_version_is_registered_and_the_latest_is_the_default() -> None:
    assert versions("iso-10002") == ["1.0", "1.1"]
    assert get_methodology("iso-10002").version == "1.1"
    assert get_methodology("iso-10002", "1.0").version == "1.0"
    assert get_methodology("iso-10002").roles == ("complaints_manager",)
    assert get_methodology("iso-10002", "1.0").roles == ()


@pytest.mark.usefixtures("fresh_registry")
def test_asking_for_one_id_loads_that_ids_files_only() -> None:
    """Lazy: the other shipped ids stay unread until they are asked for (or available() probes one)."""
    assert versions("iso-10002") == ["1.0", "1.1"]
    assert set(_registry._shipped) == set(SHIPPED_IDS) - {"iso-10002"}
    get_methodology("heard")
    assert set(_registry._shipped) == set(SHIPPED_IDS) - {"iso-10002", "heard"}


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("heard.toml", ("heard", None)),
        ("iso-10002@1.1.toml", ("iso-10002", "1.1")),
        ("a-b@2.0.1.toml", ("a-b", "2.0.1")),
    ],
)
def test_a_shipped_file_name_gives_its_id_and_version(name: str, parsed: tuple[str, str | None]) -> None:
    assert _registry._shipped_name(name) == parsed


@pytest.mark.usefixtures("fresh_registry")
@pytest.mark.parametrize("name", ["iso-10002@1.0.toml", "iso-10002@2.0.toml", "heard.toml"])
def test_a_shipped_file_whose_name_lies_is_refused_naming_the_right_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A packaging mistake (a 1.1 file named as another version or id) is refused, registering nothing."""
    wrong = tmp_path / name
    wrong.write_bytes((SHIPPED_DIR / "iso-10002@1.1.toml").read_bytes())
    available()  # loads nothing of iso-10002 or heard yet (probes the first id: blast)
    methodology_id = name.split("@")[0].removesuffix(".toml")
    monkeypatch.setitem(_registry._shipped, methodology_id, [wrong])
    with pytest.raises(InvalidMethodology, match=r"name it iso-10002@1\.1\.toml") as info:
        versions(methodology_id)
    assert f"shipped file {name} defines iso-10002@1.1" in str(info.value)
    assert "1.1" not in _registry._registry.get(methodology_id, {})


@pytest.mark.parametrize("unknown", ["no-such-flow", "heard-2", "Heard", ""])
def test_an_unknown_id_is_never_among_the_ids_listed(unknown: str) -> None:
    with pytest.raises(UnknownMethodology) as info:
        get_methodology(unknown)
    assert unknown not in info.value.available
    assert unknown not in listed_ids(info.value)
    assert listed_ids(info.value) == available()


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty, not yet loaded registry (shipped files not looked at yet), restored afterwards."""
    monkeypatch.setattr(_registry, "_registry", {})
    monkeypatch.setattr(_registry, "_shipped", {})
    monkeypatch.setattr(_registry, "_unreadable", {})
    monkeypatch.setattr(_registry, "_shipped_checked", False)
    monkeypatch.setattr(_registry, "_loaded", False)


@pytest.mark.usefixtures("fresh_registry")
def test_unreadable_shipped_files_are_not_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the file loader cannot be imported, available() leaves the shipped ids out."""
    monkeypatch.setitem(sys.modules, "resolveflow._files", None)
    ids = available()
    assert ids == BUILTIN_IDS
    for methodology_id in ids:
        get_methodology(methodology_id)


@pytest.mark.usefixtures("fresh_registry")
@pytest.mark.parametrize("listed_first", [True, False])
def test_an_unreadable_shipped_file_is_refused_without_being_listed(
    monkeypatch: pytest.MonkeyPatch, listed_first: bool
) -> None:
    """Asked for by id, with or without available() first: refused, and not among the ids listed."""
    monkeypatch.setitem(sys.modules, "resolveflow._files", None)
    if listed_first:
        assert "heard" not in available()
    for methodology_id in ("heard", "iso-10002"):
        with pytest.raises(
            UnknownMethodology, match=r"ships as a file that this install cannot read"
        ) as info:
            get_methodology(methodology_id)
        assert methodology_id not in info.value.available
        assert listed_ids(info.value) == BUILTIN_IDS
    assert available() == BUILTIN_IDS


@pytest.mark.usefixtures("fresh_registry")
def test_registering_an_id_that_ships_unreadable_works(monkeypatch: pytest.MonkeyPatch) -> None:
    """Your own methodology under a shipped id does not depend on reading the shipped file."""
    monkeypatch.setitem(sys.modules, "resolveflow._files", None)
    mine = make(methodology_id="heard", version="7.0")
    register(mine)
    assert get_methodology("heard") is mine
    assert "heard" in available()


# A fresh interpreter with some imports blocked, as on an install without them. It prints what
# available() lists and, for every shipped id, where the methodology came from or why it was refused.
PROBE = """
import json, sys
for name in sys.argv[2:]:
    sys.modules[name] = None  # importing it now fails, as if it were not installed
import resolveflow
report = {"available": resolveflow.available(), "opened": {}, "refused": {}}
for methodology_id in json.loads(sys.argv[1]):
    try:
        m = resolveflow.get_methodology(methodology_id)
    except resolveflow.UnknownMethodology as error:
        report["refused"][methodology_id] = [str(error), list(error.available)]
    else:
        report["opened"][methodology_id] = resolveflow.origin_of(methodology_id, m.version)
print(json.dumps(report))
"""


def probe(*blocked: str) -> dict[str, object]:
    src = str(Path(resolveflow.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(SHIPPED_IDS), *blocked],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


def test_without_pyyaml_the_shipped_methodologies_open() -> None:
    """PyYAML is not needed for anything resolveflow ships."""
    report = probe("yaml")
    assert report["available"] == sorted(BUILTIN_IDS + SHIPPED_IDS)
    assert report["opened"] == {i: f"shipped file {latest_file(i)}" for i in SHIPPED_IDS}
    assert report["refused"] == {}


def test_when_the_file_loader_cannot_run_nothing_listed_is_refused() -> None:
    """Whatever this install lacks, available() lists only what opens, and a refusal never lists its id."""
    report = probe("yaml", "jsonschema")
    listed = report["available"]
    assert isinstance(listed, list)
    opened, refused = report["opened"], report["refused"]
    assert isinstance(opened, dict) and isinstance(refused, dict)
    assert set(opened) | set(refused) == set(SHIPPED_IDS)
    assert set(opened) == set(SHIPPED_IDS) & set(listed)
    for methodology_id, (message, ids) in refused.items():
        assert methodology_id not in ids
        assert f"'{methodology_id}'; available: {', '.join(ids)};" in message
        assert "cannot read" in message


def test_no_test_methodology_left_behind() -> None:
    # runs after the tests above in file order; the fixture cleans up in finally
    assert TEST_ID not in available()
    assert "aaa-first" not in available()
    assert "engage-custom" not in available()
