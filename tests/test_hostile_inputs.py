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
    with pytest.raises(resolveflow.exceptions.InvalidMethodologyFile, match="aliases expand to more than"):
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
