"""Hostile input at the case's entry points: only resolveflow errors, bounded messages, nothing changed.

Each input here once ended in a raw Python error (RecursionError from ``repr``
in a message, ValueError from the integer digit limit, OverflowError from a
time zone conversion, TypeError from sorting keys) or made ``check`` and
``fire`` disagree. The wider fuzz suite of issue 12 builds on these.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs
import pytest

import resolveflow
from resolveflow import evidence as ev
from resolveflow.exceptions import ResolveflowError
from resolveflow.files import dump_methodology, methodology_from_text
from tests._tiny import loop_methodology


def deep(levels: int = 10_000) -> list[Any]:
    """A list nested ``levels`` deep, built without recursion."""
    value: list[Any] = []
    for _ in range(levels):
        value = [value]
    return value


class Mood(enum.Enum):
    CALM = "calm"
    ANGRY = "angry"


@attrs.frozen(kw_only=True)
class Note:
    """A note with a count and a mood."""

    count: int = ev.field(title="Count")
    mood: Mood = ev.field(title="Mood")


def _case() -> resolveflow.Case:
    return resolveflow.open_case(loop_methodology("notes", note=Note), case_id="H-1")


def test_a_huge_integer_is_refused_alike_by_check_and_fire() -> None:
    case = _case()
    evidence = {"count": 10**10_000, "mood": "calm"}
    decision = case.check("note", evidence)
    assert not decision.allowed and decision.refusals[0].code == "invalid_evidence"
    with pytest.raises(resolveflow.InvalidEvidence, match="count"):
        case.fire("note", evidence, actor="ana")
    assert case.history == ()


@pytest.mark.parametrize(
    "call",
    [
        lambda case: case.fire("note", {"count": 1, "mood": deep()}, actor="ana"),
        lambda case: case.check("note", {"count": 1, "mood": deep()}),
        lambda case: case.fire(deep(), {"count": 1, "mood": "calm"}, actor="ana"),
        lambda case: case.check(deep()),
        lambda case: case.fire("note", {"count": 1, "mood": "calm"}, actor=deep()),
        lambda case: resolveflow.open_case("engage", case_id=deep()),
        lambda case: resolveflow.get_methodology("engage", deep()),
        lambda case: resolveflow.get_methodology(deep()),
        lambda case: case.subscribe(deep()),
    ],
    ids=[
        "enum-value",
        "check-enum",
        "action",
        "check-action",
        "actor",
        "case-id",
        "version",
        "id",
        "listener",
    ],
)
def test_deeply_nested_values_end_in_a_resolveflow_error(call: Any) -> None:
    case = _case()
    outcome: object
    try:
        outcome = call(case)  # check() may answer instead of raising
    except ResolveflowError as error:
        outcome = error
    assert len(str(outcome)) < 2_000
    assert case.history == ()


class _Broken(dt.tzinfo):
    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        raise RuntimeError("no offset today")

    def dst(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)


@pytest.mark.parametrize(
    "at",
    [
        dt.datetime.max.replace(tzinfo=dt.timezone(-dt.timedelta(hours=14))),
        dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=14))),
        dt.datetime(2026, 1, 1, tzinfo=_Broken()),
    ],
    ids=["max-west", "min-east", "broken-tzinfo"],
)
def test_times_that_cannot_be_utc_are_invalid_input(at: dt.datetime) -> None:
    case = _case()
    with pytest.raises(resolveflow.InvalidInput, match="at"):
        case.fire("note", {"count": 1, "mood": "calm"}, actor="ana", at=at)
    with pytest.raises(resolveflow.InvalidInput):
        case.check("note", at=at)
    assert case.history == ()


def _snapshot() -> dict[str, Any]:
    case = resolveflow.open_case("engage", case_id="S-1")
    case.fire("engage_fully", {"notes": "Parcel arrived broken."}, actor="ana")
    return case.snapshot()


@pytest.mark.parametrize("key", ["format", "case_id", "step", "outcome"])
def test_restore_names_a_nested_top_level_value_without_recursing(key: str) -> None:
    snap = _snapshot()
    snap[key] = deep()
    with pytest.raises(resolveflow.InvalidSnapshot) as info:
        resolveflow.restore(snap)
    assert len(str(info.value)) < 2_000


@pytest.mark.parametrize("key", ["seq", "from_step", "action", "actor", "at", "evidence", "step", "hash"])
def test_restore_names_a_nested_entry_value_without_recursing(key: str) -> None:
    snap = _snapshot()
    snap["history"][0][key] = deep()
    with pytest.raises(resolveflow.InvalidSnapshot) as info:
        resolveflow.restore(snap)
    assert info.value.entry == 1 and len(str(info.value)) < 2_000


def test_restore_lists_keys_that_cannot_be_compared() -> None:
    snap: dict[Any, Any] = _snapshot()
    snap[1] = "x"
    snap["z"] = "y"
    with pytest.raises(resolveflow.InvalidSnapshot, match="unexpected keys"):
        resolveflow.restore(snap)
    entry: dict[Any, Any] = _snapshot()
    entry["history"][0][(1, 2)] = "x"
    entry["history"][0]["zz"] = "y"
    with pytest.raises(resolveflow.InvalidSnapshot, match="exactly the keys"):
        resolveflow.restore(entry)


def test_restore_refuses_a_huge_sequence_number() -> None:
    snap = _snapshot()
    snap["history"][0]["seq"] = 10**5000
    with pytest.raises(resolveflow.InvalidSnapshot, match="a very large int"):
        resolveflow.restore(snap)


def test_restore_refuses_a_time_past_the_calendar_in_utc() -> None:
    snap = _snapshot()
    snap["history"][0]["at"] = "9999-12-31T23:00:00-14:00"
    with pytest.raises(resolveflow.InvalidSnapshot, match="outside the years"):
        resolveflow.restore(snap)


# --- methodology files ----------------------------------------------------------------


def _nested_text(fmt: str, levels: int = 10_000) -> str:
    if fmt == "json":
        return '{"resolveflow": 1, "x": ' + "[" * levels + "]" * levels + "}"
    if fmt == "yaml":
        return "resolveflow: 1\nx: " + "[" * levels + "]" * levels + "\n"
    return "resolveflow = 1\nx = " + "[" * levels + "]" * levels + "\n"


@pytest.mark.parametrize("fmt", ["json", "yaml", "toml"])
def test_a_deeply_nested_file_is_refused_by_depth(fmt: str) -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="nested more than 32 levels"):
        methodology_from_text(_nested_text(fmt), fmt)
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="nested more than 32 levels"):
        methodology_from_text(_nested_text(fmt, 40), fmt)


@pytest.mark.parametrize("fmt", ["json", "yaml", "toml"])
def test_a_number_of_a_hundred_thousand_digits_is_refused(fmt: str) -> None:
    digits = "9" * 100_000
    text = {
        "json": '{"resolveflow": 1, "x": ' + digits + "}",
        "yaml": "resolveflow: 1\nx: " + digits + "\n",
        "toml": "resolveflow = 1\nx = " + digits + "\n",
    }[fmt]
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile):
        methodology_from_text(text, fmt)


def _alias_bomb(levels: int) -> str:
    lines = ["resolveflow: 1", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        refs = ", ".join([f"*a{n - 1}"] * 9)
        lines.append(f"a{n}: &a{n} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [7, 10])
def test_a_yaml_alias_bomb_is_refused_before_it_expands(levels: int) -> None:
    """9**7 is 4.8 million values from 500 bytes: refused by counting, in time linear in the file."""
    text = _alias_bomb(levels)
    assert len(text) < 1_000
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="aliases expand it by more than"):
        methodology_from_text(text, "yaml")


def test_a_few_aliases_still_load() -> None:
    m = resolveflow.get_methodology("engage")
    text = dump_methodology(m, "yaml")
    shared = text.replace("title: ", "title: &t ", 1)
    assert methodology_from_text(shared, "yaml") == m


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: attrs.evolve(m, title="Broken \ud800 title"), "lone surrogate"),
        (lambda m: attrs.evolve(m, version="1" * 5_000), "version"),
        (lambda m: attrs.evolve(m, id="a" * 101), "at most 100"),
        (lambda m: attrs.evolve(m, version="1234567890.0"), "nine digits"),
    ],
    ids=["surrogate-title", "5000-digit-version", "long-id", "ten-digit-part"],
)
def test_a_definition_that_could_not_be_stored_or_shown_is_refused_when_made(change: Any, match: str) -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match=match):
        change(resolveflow.get_methodology("engage"))


# --- caches -----------------------------------------------------------------------------


def test_generated_record_classes_and_codecs_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading ever new methodology texts must not keep every class (and codec) ever made."""
    from resolveflow import _file_records
    from resolveflow._schema import record_codec

    real_bound = _file_records.MAX_RECORD_CLASSES
    monkeypatch.setattr(_file_records, "MAX_RECORD_CLASSES", 6)
    base = dump_methodology(resolveflow.get_methodology("heard"), "json")
    for n in range(8):
        methodology_from_text(base.replace('"heard"', f'"heard-{n}"', 1), "json")
        assert len(_file_records.RECORD_CLASSES) <= 6
    maxsize = record_codec.cache_info().maxsize
    assert maxsize is not None and maxsize >= real_bound  # a codec for every class kept, no more


def test_a_methodology_text_or_file_past_the_size_limit_is_refused_unread(tmp_path: Any) -> None:
    from resolveflow import _files
    from resolveflow.files import load_methodology

    big = "#" * (_files.MAX_FILE_CHARS + 1)
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="at most 2,000,000"):
        methodology_from_text(big, "yaml")
    path = tmp_path / "huge.json"
    path.write_bytes(b" " * (_files.MAX_FILE_CHARS * 4 + 10))
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="larger than"):
        load_methodology(path)
    with pytest.raises(resolveflow.InvalidInput, match="cannot read"):
        load_methodology(tmp_path / "missing.json")


def test_a_yaml_text_with_a_control_character_is_a_file_error() -> None:
    """PyYAML refuses it while reading, before parsing: still the file's error (found by fuzzing)."""
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="invalid YAML"):
        methodology_from_text("\x08resolveflow: 1\n", "yaml")


# --- YAML: libyaml's loader and PyYAML's own refuse alike -----------------------------------


@pytest.fixture(params=["libyaml", "python"])
def yaml_loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each YAML test once with libyaml's loader, once with the pure-Python one it falls back to."""
    from resolveflow import _file_formats

    if request.param == "python":
        monkeypatch.setattr(_file_formats, "_loader_class", lambda yaml: yaml.SafeLoader)
    else:
        import yaml

        assert _file_formats._loader_class(yaml) is yaml.CSafeLoader  # libyaml here bounds its nesting
    return str(request.param)


@pytest.mark.parametrize("levels", [40, 10_000, 999_000])
def test_yaml_nesting_is_refused_by_either_loader(yaml_loader: str, levels: int) -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="nested more than 32 levels"):
        methodology_from_text(_nested_text("yaml", levels), "yaml")
    block = "resolveflow: 1\nx:\n" + "".join(" " * n + "- \n" for n in range(40))
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="nested more than 32 levels"):
        methodology_from_text(block, "yaml")


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [("\x08resolveflow: 1\n", 1, 1), ("resolveflow: 1\nid: a\x00b\n", 2, 6), ("a: \ud800\n", 1, 4)],
    ids=["backspace", "nul", "lone-surrogate"],
)
def test_a_character_yaml_does_not_allow_is_refused_with_its_place(
    yaml_loader: str, text: str, line: int, column: int
) -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="is not allowed") as info:
        methodology_from_text(text, "yaml")
    assert (info.value.line, info.value.column) == (line, column)


def test_yaml_refusals_are_the_same_with_either_loader(yaml_loader: str) -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="aliases expand") as bomb:
        methodology_from_text(_alias_bomb(7), "yaml")
    assert bomb.value.reason.startswith("its aliases expand it by more than 100,000 values")
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="duplicate key 'id'") as twice:
        methodology_from_text("resolveflow: 1\nsteps:\n  - {id: a, id: b}\n", "yaml")
    assert (twice.value.line, twice.value.column, twice.value.key_path) == (3, 13, "steps[0].id")
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="contains itself"):
        methodology_from_text("a: &a [*a]\n", "yaml")


def test_yaml_positions_follow_merge_keys_with_either_loader(yaml_loader: str) -> None:
    """A merged-in key is found where the data has it: in the mapping merged, at its own line."""
    from resolveflow._file_formats import Mark, parse

    text = "defaults: &d {title: Shared, kind: a}\nextra:\n  <<: *d\n  kind: b\n  own: [1, 2]\n"
    data, positions = parse(text, "yaml")
    assert data == {
        "defaults": {"title": "Shared", "kind": "a"},
        "extra": {"title": "Shared", "kind": "b", "own": [1, 2]},
    }
    assert positions is not None
    assert positions.find(("extra", "title")) == Mark(1, 22)  # merged: where 'defaults' wrote it
    assert positions.find(("extra", "kind")) == Mark(4, 9)  # its own key wins, as in the data
    assert positions.find(("extra", "kind"), at_key=True) == Mark(4, 3)
    assert positions.find(("extra", "own", 1)) == Mark(5, 12)
    assert positions.find(("extra", "own", 7)) == Mark(5, 8)  # past the list: the list itself
    assert positions.raw(("extra", "title")) == "Shared"
    assert positions.raw(("extra", "own")) is None


def test_a_yaml_file_of_many_values_without_aliases_is_bounded_by_its_size_not_the_alias_cap() -> None:
    """Only what aliases add is capped: 100,001 written values get past it to the file's real errors."""
    text = "resolveflow: 1\nx: [" + ", ".join(["1"] * 100_001) + "]\n"
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile) as info:
        methodology_from_text(text, "yaml")
    assert "aliases" not in str(info.value)
    near_cap = (
        "resolveflow: 1\na: &a [" + ", ".join(["1"] * 1_000) + "]\nb: [" + ", ".join(["*a"] * 99) + "]\n"
    )
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile) as info:
        methodology_from_text(near_cap, "yaml")  # 99 aliases of 1,001 values: under the cap
    assert "aliases" not in str(info.value)
    over_cap = near_cap.replace(", ".join(["*a"] * 99), ", ".join(["*a"] * 110))
    with pytest.raises(
        resolveflow.exceptions.InvalidMethodologyFile, match="aliases expand it by more than 100,000"
    ):
        methodology_from_text(over_cap, "yaml")


def test_an_alias_bomb_is_measured_once_per_node_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting work, not time: each list written is measured once, however often it is aliased."""
    from resolveflow import _file_formats

    measured: list[object] = []
    real = _file_formats._measure

    def counting(node: Any, sizes: dict[int, tuple[int, int]]) -> tuple[int, int]:
        measured.append(node)
        return real(node, sizes)

    monkeypatch.setattr(_file_formats, "_measure", counting)
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="aliases expand"):
        methodology_from_text(_alias_bomb(10), "yaml")
    assert len(measured) <= 10  # the ten lists; the refusal comes before the top mapping
    assert len({id(node) for node in measured}) == len(measured)


@pytest.mark.parametrize("was_on", [True, False])
def test_loading_yaml_leaves_the_garbage_collector_as_it_found_it(was_on: bool) -> None:
    """The collector is paused while nodes are built: back on afterwards, error or not, if it was on."""
    import gc

    text = dump_methodology(resolveflow.get_methodology("engage"), "yaml")
    (gc.enable if was_on else gc.disable)()
    try:
        methodology_from_text(text, "yaml")
        assert gc.isenabled() == was_on
        with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile):
            methodology_from_text(_alias_bomb(7), "yaml")
        assert gc.isenabled() == was_on
    finally:
        gc.enable()


def test_a_yaml_file_that_loads_never_looks_up_a_position(monkeypatch: pytest.MonkeyPatch) -> None:
    """Positions are found only for an error message, by following the path through the nodes."""
    from resolveflow import _file_formats

    lookups: list[object] = []
    real = _file_formats._child

    def counting(node: Any, part: str | int) -> Any:
        lookups.append(part)
        return real(node, part)

    monkeypatch.setattr(_file_formats, "_child", counting)
    text = dump_methodology(resolveflow.get_methodology("seven-as"), "yaml")
    assert methodology_from_text(text, "yaml") == resolveflow.get_methodology("seven-as")
    assert lookups == []
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile) as info:
        methodology_from_text(text.replace("initial: ", "initial: nowhere_", 1), "yaml")
    assert info.value.key_path == "initial" and info.value.line is not None
    assert lookups == ["initial"]


# --- found by fuzzing the command, the writers, migrate and the definitions ----------------------


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"steps": 5}, "steps must map old step ids to new step ids"),
        ({"steps": [("a", "b")]}, "steps must map"),
        ({"steps": {"a": deep()}}, "got 'a': a list"),
        ({"methodology_id": deep()}, "got a list"),
        ({"to_version": "1" * 101}, "at most 100 characters"),
        ({"steps": {"a": "b" * 101}}, "at most 100 characters"),
    ],
    ids=["int-steps", "pairs", "deep-step", "deep-id", "long-version", "long-step"],
)
def test_a_migration_is_checked_when_made_with_bounded_messages(fields: dict[str, Any], match: str) -> None:
    given = {"methodology_id": "engage", "from_version": "1.0", "to_version": "2.0", **fields}
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match=match) as info:
        resolveflow.Migration(**given)
    assert len(str(info.value)) < 500


@pytest.mark.parametrize("target", [["not", "a", "methodology"], "engage"])
def test_migrate_names_a_target_that_is_not_a_methodology(target: Any) -> None:
    case = resolveflow.open_case("engage", case_id="M-H")
    migration = resolveflow.Migration(methodology_id="engage", from_version="1.0", to_version="2.0")
    with pytest.raises(resolveflow.InvalidInput, match="target version as a Methodology") as info:
        resolveflow.migrate(case, migration, actor="ops", target=target)
    assert info.value.argument == "target"
    assert case.history == ()


@pytest.mark.parametrize(
    ("target", "match"),
    [
        (None, "expected a file path"),
        (b"m.json", "expected a file path"),
        ("{tmp}/no/such/folder/m.json", "cannot write .*No such file"),
        ("{tmp}", "cannot tell the format"),
        ("{tmp}/nul\x00.json", "cannot write .*null byte"),
        ("{tmp}/bad\ud800.json", "cannot write .*lone surrogate"),
        ("{tmp}/" + "x" * 300 + ".json", "cannot write .*too long"),
    ],
    ids=["none", "bytes", "no-folder", "folder", "nul", "surrogate", "long-name"],
)
def test_dump_methodology_refuses_a_path_it_cannot_write(tmp_path: Any, target: Any, match: str) -> None:
    if isinstance(target, str):
        target = target.replace("{tmp}", str(tmp_path))
    with pytest.raises(resolveflow.InvalidInput, match=match) as info:
        dump_methodology(resolveflow.get_methodology("engage"), target)
    assert info.value.argument == "path_or_format" and len(str(info.value)) < 500
    assert list(tmp_path.iterdir()) == []


def test_the_writers_and_the_loader_name_an_argument_of_the_wrong_type(tmp_path: Any) -> None:
    from resolveflow.files import load_methodology, methodology_to_dict

    for call in (lambda: methodology_to_dict(None), lambda: dump_methodology(deep(), "json")):  # type: ignore[arg-type]
        with pytest.raises(resolveflow.InvalidInput, match="expected a Methodology, got") as info:
            call()
        assert info.value.argument == "methodology"
    with pytest.raises(
        resolveflow.InvalidInput, match=r"expected a file path \(str or os.PathLike\), got NoneType"
    ):
        load_methodology(None)  # type: ignore[arg-type]
    with pytest.raises(resolveflow.InvalidInput, match=r"cannot read .*null byte"):
        load_methodology(str(tmp_path / "nul\x00.json"))
    with pytest.raises(resolveflow.InvalidInput, match=r"unknown format 'x+…'") as too_long:
        load_methodology(tmp_path / "m.json", format="x" * 10_000)
    assert len(str(too_long.value)) < 500


@pytest.mark.parametrize("description", ["", "   ", 5, ["a list"], "lone \ud800"])
def test_a_description_is_none_or_text_a_file_can_hold(description: Any) -> None:
    """A blank or non-text description was accepted, then written to a file that would not load."""
    engage = resolveflow.get_methodology("engage")
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="description"):
        attrs.evolve(engage, description=description)
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="description"):
        attrs.evolve(engage.actions[0], description=description)


def test_a_definition_names_a_deeply_nested_value_without_recursing() -> None:
    engage = resolveflow.get_methodology("engage")
    calls = [
        lambda: resolveflow.Action(name="a", sources=[deep()], target=None, title="A"),  # type: ignore[list-item]
        lambda: resolveflow.Action(name="a", sources="s", target=deep(), title="A"),  # type: ignore[arg-type]
        lambda: attrs.evolve(engage, initial=deep()),
        lambda: attrs.evolve(engage, required_steps=(deep(),)),
        lambda: attrs.evolve(engage, steps=(*engage.steps, deep())),
    ]
    for call in calls:
        with pytest.raises(resolveflow.ResolveflowError) as info:
            call()
        assert "a list" in str(info.value) and len(str(info.value)) < 2_000


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "nul\x00.yaml"],
        ["validate", "bad\ud800.yaml"],
        ["diagram", "engage", "--case", "nul\x00.json"],
        ["diagram", "engage", "-o", "nul\x00.svg"],
        ["show", "x" * 5_000 + ".yaml"],
        ["diagram", "engage", "--case", "x" * 5_000],
    ],
    ids=["nul", "surrogate", "case-nul", "output-nul", "long-file", "long-case"],
)
def test_the_command_refuses_an_unusable_path_in_one_bounded_line(argv: list[str]) -> None:
    from click.testing import CliRunner

    from resolveflow.cli import main

    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert len(result.output.strip().splitlines()) == 1 and len(result.output) < 1_000


def test_the_command_refuses_a_case_snapshot_nested_too_deep(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from resolveflow.cli import main

    snapshot = tmp_path / "case.json"
    snapshot.write_text("[" * 100_000, encoding="utf-8")
    result = CliRunner().invoke(main, ["diagram", "engage", "--case", str(snapshot)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "not a JSON snapshot (nested too deep)" in result.output
