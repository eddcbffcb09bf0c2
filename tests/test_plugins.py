"""Discovery: shipped files, entry-point plugins, folders, and clashes that name both origins."""

from __future__ import annotations

import sys
import types
from importlib import metadata
from pathlib import Path

import attrs
import pytest

import resolveflow
from resolveflow import _registry

ENGAGE = resolveflow.get_methodology("engage", "1.0")
PLUGIN_ONE = attrs.evolve(ENGAGE, id="plugin-one")
PLUGIN_TWO = attrs.evolve(ENGAGE, id="plugin-two")


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty, not yet loaded registry, restored afterwards."""
    monkeypatch.setattr(_registry, "_registry", {})
    monkeypatch.setattr(_registry, "_shipped", {})
    monkeypatch.setattr(_registry, "_loaded", False)
    monkeypatch.setattr(_registry, "_plugin_failures", {})
    return


def install_plugin(monkeypatch: pytest.MonkeyPatch, **objects: object) -> None:
    module = types.ModuleType("fake_crm_flows")
    for name, value in objects.items():
        setattr(module, name, value)
    monkeypatch.setitem(sys.modules, "fake_crm_flows", module)
    points = [
        metadata.EntryPoint(name=name, value=f"fake_crm_flows:{name}", group=_registry.ENTRY_POINT_GROUP)
        for name in objects
    ]

    def entry_points(*, group: str) -> list[metadata.EntryPoint]:
        return points if group == _registry.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(_registry.metadata, "entry_points", entry_points)


def test_shipped_files_are_listed_and_load_on_first_use() -> None:
    ids = resolveflow.available()
    for shipped in ("heard", "last", "blast", "latte", "carp", "iso-10002"):
        assert shipped in ids
        m = resolveflow.get_methodology(shipped)
        assert m.id == shipped
        # The first version is <id>.toml, a later one <id>@<version>.toml (iso-10002 ships 1.0 and 1.1).
        name = f"{shipped}.toml" if m.version == "1.0" else f"{shipped}@{m.version}.toml"
        assert resolveflow.origin_of(shipped, m.version) == f"shipped file {name}"
        assert resolveflow.verify(m).ok
    assert resolveflow.origin_of("seven-as", "1.0").startswith("built-in")


def test_entry_point_plugins(fresh_registry: None, monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(monkeypatch, single=PLUGIN_ONE, several=lambda: [PLUGIN_TWO])
    assert {"plugin-one", "plugin-two", "seven-as"} <= set(resolveflow.available())
    assert resolveflow.get_methodology("plugin-two") is PLUGIN_TWO
    assert "entry point 'single'" in resolveflow.origin_of("plugin-one", "1.0")


def test_a_broken_plugin_is_named_and_skipped(fresh_registry: None, monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(monkeypatch, broken=lambda: 42, single=PLUGIN_ONE)
    with pytest.warns(RuntimeWarning, match=r"entry point 'broken'.*expected a Methodology"):
        listed = resolveflow.available()
    assert "plugin-one" in listed and "engage" in listed  # the others still load
    assert "expected a Methodology" in _registry.plugin_failures()["broken"]
    assert resolveflow.get_methodology("plugin-one") is PLUGIN_ONE
    from click.testing import CliRunner

    from resolveflow.cli import main

    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0 and "plugin-one" in result.stdout
    assert "skipped plugin 'broken'" in result.stderr


def test_a_plugin_that_raises_is_named_and_skipped(
    fresh_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode() -> None:
        raise RuntimeError("no database")

    install_plugin(monkeypatch, explode=explode)
    with pytest.warns(RuntimeWarning, match=r"entry point 'explode'.*failed to load: no database"):
        assert "engage" in resolveflow.available()
    assert list(_registry.plugin_failures()) == ["explode"]


def test_a_plugin_clashing_with_a_builtin_names_both_and_changes_nothing(
    fresh_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    impostor = attrs.evolve(ENGAGE, title="Not the real engage")
    install_plugin(monkeypatch, impostor=impostor)
    with pytest.warns(RuntimeWarning) as caught:
        resolveflow.available()
    message = str(caught[0].message)
    assert "engage@1.0" in message and "entry point 'impostor'" in message and "built-in" in message
    assert resolveflow.get_methodology("engage", "1.0") is ENGAGE


def test_register_clash_names_both_origins() -> None:
    changed = attrs.evolve(ENGAGE, title="Changed")
    with pytest.raises(resolveflow.exceptions.InvalidMethodology) as info:
        resolveflow.register(changed, origin="my_crm.flows")
    assert "from my_crm.flows clashes with the one from built-in" in str(info.value)


def write(folder: Path, name: str, m: resolveflow.Methodology) -> Path:
    path = folder / name
    resolveflow.files.dump_methodology(m, path)
    return path


def test_load_directory_registers_every_file(tmp_path: Path) -> None:
    write(tmp_path, "one.yaml", PLUGIN_ONE)
    write(tmp_path, "two.json", PLUGIN_TWO)
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    try:
        loaded = resolveflow.load_directory(tmp_path)
        assert [m.id for m in loaded] == ["plugin-one", "plugin-two"]
        assert resolveflow.origin_of("plugin-two", "1.0") == f"file {tmp_path / 'two.json'}"
    finally:
        for m in (PLUGIN_ONE, PLUGIN_TWO):
            resolveflow.unregister(m.id, m.version, forget=True)


def test_load_directory_is_all_or_nothing(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", PLUGIN_ONE)
    (tmp_path / "b.yaml").write_text("resolveflow: 1\nid: Bad Id\n", encoding="utf-8")
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match=r"b.yaml"):
        resolveflow.load_directory(tmp_path)
    assert "plugin-one" not in resolveflow.available()


def test_two_files_defining_one_version_differently(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", PLUGIN_ONE)
    write(tmp_path, "b.yaml", attrs.evolve(PLUGIN_ONE, title="Other"))
    with pytest.raises(
        resolveflow.exceptions.InvalidMethodology, match=r"defined differently in .*a\.yaml and .*b\.yaml"
    ):
        resolveflow.load_directory(tmp_path)
    assert "plugin-one" not in resolveflow.available()


def test_load_directory_clash_with_a_builtin(tmp_path: Path) -> None:
    write(tmp_path, "engage.yaml", attrs.evolve(ENGAGE, title="Local engage"))
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="clashes with the one from built-in"):
        resolveflow.load_directory(tmp_path)


def test_load_directory_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="not a directory"):
        resolveflow.load_directory(tmp_path / "nope")


def test_shipped_file_without_the_files_extra(fresh_registry: None, monkeypatch: pytest.MonkeyPatch) -> None:
    resolveflow.available()
    monkeypatch.setitem(sys.modules, "resolveflow._files", None)  # as if PyYAML/jsonschema were missing
    with pytest.raises(resolveflow.UnknownMethodology, match=r"pip install 'resolveflow\[files\]'"):
        resolveflow.get_methodology("heard")
