"""Declarative methodology files: round trips, the schema, file-declared records and every error path."""

from __future__ import annotations

import datetime as dt
import enum
import json
import keyword
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import resolveflow
from resolveflow import InvalidEvidence, InvalidInput, Methodology, Refused, evidence
from resolveflow._file_records import RECORD_CLASSES, builtin_records, is_datetime
from resolveflow._guard_kinds import BUILTIN_KINDS, current_table
from resolveflow._schema import record_codec
from resolveflow.exceptions import InvalidMethodology, InvalidMethodologyFile
from resolveflow.files import (
    dump_methodology,
    load_methodology,
    methodology_from_dict,
    methodology_from_text,
    methodology_schema,
    methodology_to_dict,
)
from resolveflow.guards import GuardField, GuardKind, Rule, register_guard_kind, unregister_guard_kind
from resolveflow.methodologies import BUILTINS
from tests.conftest import T0, FakeClock

FORMATS = ("yaml", "toml", "json")
EXTENSIONS = {"yaml": ".yaml", "toml": ".toml", "json": ".json"}

HEARD = """\
resolveflow: 1
id: heard
version: "1.0"
title: HEARD
source: "Hyatt's HEARD technique: hear, empathize, apologize, resolve, diagnose"
initial: hear
required_steps: [hear, empathize, apologize, resolve, diagnose]
records:
  heard_account:
    title: The customer's account
    fields:
      summary: {type: text, title: What happened, max_length: 4000}
      desired: {type: text, optional: true}
  fix:
    description: What was done to put it right.
    fields:
      items: {type: list, of: {type: record, record: fix_item}, min_items: 1}
      refund: {type: number, minimum: 0, optional: true}
      accepted: {type: boolean}
  fix_item:
    fields:
      what: {type: text}
      done_at: {type: datetime}
  diagnosis:
    fields:
      kind: {type: choice, choices: [procedure_change, training]}
      notes: {type: list, of: {type: text}}
      count: {type: integer, minimum: 0, maximum: 10}
      checked_at: {type: datetime}
steps:
  - {id: hear, title: Hear, prompts: [Let them tell the whole story.]}
  - id: empathize
    title: Empathize
  - {id: apologize, title: Apologize}
  - {id: resolve, title: Resolve}
  - {id: diagnose, title: Diagnose}
outcomes:
  - {id: resolved, title: Resolved, successful: true}
  - {id: lost, title: Customer lost, successful: false}
actions:
  - name: hear_out
    title: Heard out
    sources: hear
    target: empathize
    evidence: heard_account
  - name: show_empathy
    title: Empathy shown
    sources: [empathize]
    target: apologize
    evidence: empathy
  - name: apologize_now
    title: Apologised
    sources: apologize
    target: resolve
    evidence: apology
    guards:
      - {kind: fault_needs_liability_review}
  - name: resolve_it
    title: Resolved it
    sources: resolve
    target: diagnose
    evidence: fix
    guards:
      - {kind: requires, record: heard_account, at_step: hear}
      - kind: evidence_is
        field: accepted
        equals: true
        name: fix_accepted
        message: The customer must accept the fix.
  - name: record_diagnosis
    title: Diagnosis recorded
    sources: diagnose
    target: resolved
    evidence: diagnosis
    guards:
      - {kind: evidence_is, field: kind, equals: training, name: training_only, message: Training only.}
      - {kind: not_later_than_now, field: checked_at, name: checked, message: Check it first.}
  - name: give_up
    title: Customer lost
    sources: [empathize, apologize, resolve]
    target: lost
"""


def at(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """The 1-based (line, column) of the nth occurrence of ``needle``."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def load_yaml(text: str) -> Methodology:
    return methodology_from_text(text, "yaml", origin="heard.yaml")


def yaml_error(text: str) -> InvalidMethodologyFile:
    with pytest.raises(InvalidMethodologyFile) as info:
        load_yaml(text)
    return info.value


def heard_dict() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(HEARD)
    return data


# --- round trips -------------------------------------------------------------------


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_builtin_dict_round_trip(methodology: Methodology) -> None:
    data = methodology_to_dict(methodology)
    assert json.loads(json.dumps(data)) == data  # JSON-compatible
    assert methodology_from_dict(data) == methodology


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_builtin_text_round_trip(methodology: Methodology, fmt: str) -> None:
    text = dump_methodology(methodology, fmt)
    assert methodology_from_text(text, fmt) == methodology


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_builtin_file_round_trip(methodology: Methodology, fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"{methodology.id}{EXTENSIONS[fmt]}"
    text = dump_methodology(methodology, path)
    assert path.read_text(encoding="utf-8") == text
    assert load_methodology(path) == methodology
    assert load_methodology(str(path)) == methodology


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_toml_text_is_the_dict_without_nulls(methodology: Methodology) -> None:
    data = methodology_to_dict(methodology)
    for action in data["actions"]:
        if action["target"] is None:
            del action["target"]  # TOML has no null: absent means "stay"
    assert tomllib.loads(dump_methodology(methodology, "toml")) == data


def test_dict_keys_come_in_a_readable_order() -> None:
    data = methodology_to_dict(resolveflow.get_methodology("seven-as"))
    assert list(data) == [
        "resolveflow",
        "id",
        "version",
        "title",
        "source",
        "description",
        "initial",
        "required_steps",
        "steps",
        "outcomes",
        "actions",
    ]
    assert list(data["actions"][1]) == ["name", "title", "sources", "target", "evidence", "guards"]
    heard = methodology_to_dict(load_yaml(HEARD))
    assert list(heard)[6:8] == ["required_steps", "records"]
    assert list(heard["records"]) == ["heard_account", "fix", "fix_item", "diagnosis"]


def test_default_guard_names_and_messages_are_left_out() -> None:
    actions = methodology_to_dict(resolveflow.get_methodology("seven-as"))["actions"]
    agree = next(a for a in actions if a["name"] == "agree_plan")
    assert agree["guards"] == [{"kind": "sound_plan"}, {"kind": "pressing_planned_first"}]
    custom = next(a for a in actions if a["name"] == "complete_item")["guards"][0]
    assert custom == {
        "kind": "requires",
        "record": "plan",
        "name": "plan_recorded",
        "message": "Nothing can be acted on before a written plan is agreed.",
    }


def test_file_with_declared_records_round_trips_in_every_format(tmp_path: Path) -> None:
    heard = load_yaml(HEARD)
    for fmt in FORMATS:
        path = tmp_path / f"heard{EXTENSIONS[fmt]}"
        dump_methodology(heard, path)
        assert load_methodology(path) == heard
    data = methodology_to_dict(heard)
    assert methodology_from_dict(data) == heard
    original = heard_dict()
    assert data["records"]["fix"] == original["records"]["fix"]
    assert data["records"]["heard_account"] == original["records"]["heard_account"]


def test_format_can_be_given_explicitly(tmp_path: Path) -> None:
    path = tmp_path / "heard.txt"
    path.write_text(HEARD, encoding="utf-8")
    assert load_methodology(path, format="yml") == load_yaml(HEARD)
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        load_methodology(path)
    with pytest.raises(InvalidInput, match="unknown format 'xml'"):
        load_methodology(path, format="xml")
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        dump_methodology(load_yaml(HEARD), tmp_path / "out.txt")


def test_yaml_anchors_and_single_strings_are_accepted() -> None:
    text = HEARD.replace(
        "  - {id: apologize, title: Apologize}",
        "  - {id: apologize, title: Apologize, prompts: &sorry Say sorry once., checklist: *sorry}",
    )
    step = load_yaml(text).node("apologize")
    assert step.prompts == step.checklist == ("Say sorry once.",)


# --- Hypothesis: random valid files ------------------------------------------------------

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
RECORD_NAMES = st.from_regex(r"[a-z][a-z0-9]{0,5}(_[a-z][a-z0-9]{0,3})?", fullmatch=True).filter(
    lambda n: n not in builtin_records()
)
FIELD_NAMES = NAMES.filter(lambda n: not keyword.iskeyword(n))
TEXT = st.text(min_size=1, max_size=12).filter(lambda t: t.strip() != "")
NUMBERS = st.integers(-100, 100) | st.floats(-100, 100, allow_nan=False, allow_infinity=False)
BUILTIN_KEYS = st.sampled_from(sorted(builtin_records()))


@st.composite
def field_specs(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(["text", "number", "integer", "boolean", "datetime", "choice", "list", "record"])
    )
    spec: dict[str, Any] = {"type": kind}
    if draw(st.booleans()):
        spec["title"] = draw(TEXT)
    if draw(st.booleans()):
        spec["description"] = draw(TEXT)
    if draw(st.booleans()):
        spec["optional"] = True
    if kind == "text" and draw(st.booleans()):
        spec["max_length"] = draw(st.integers(1, 5000))
    if kind in ("number", "integer"):
        values = draw(st.lists(st.integers(-50, 50) if kind == "integer" else NUMBERS, max_size=2))
        for key, value in zip(("minimum", "maximum"), sorted(values), strict=False):
            spec[key] = value
    if kind == "choice":
        spec["choices"] = draw(st.lists(TEXT, min_size=1, max_size=3, unique=True))
    if kind == "list":
        item = draw(st.sampled_from(["text", "integer", "boolean", "datetime", "choice", "record"]))
        spec["of"] = {"type": item}
        if item == "choice":
            spec["of"]["choices"] = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
        if item == "record":
            spec["of"]["record"] = draw(BUILTIN_KEYS)
        if draw(st.booleans()):
            spec["min_items"] = draw(st.integers(0, 3))
    if kind == "record":
        spec["record"] = draw(BUILTIN_KEYS)
    return spec


@st.composite
def file_dicts(draw: st.DrawFn) -> dict[str, Any]:
    n_steps = draw(st.integers(1, 4))
    n_outcomes = draw(st.integers(1, 2))
    n_actions = draw(st.integers(1, 4))
    ids = draw(st.lists(NAMES, min_size=n_steps + n_outcomes + n_actions, unique=True))
    steps, ids = ids[:n_steps], ids[n_steps:]
    outcomes, actions = ids[:n_outcomes], ids[n_outcomes : n_outcomes + n_actions]

    records: dict[str, Any] = {}
    for name in draw(st.lists(RECORD_NAMES, max_size=min(2, n_actions), unique=True)):
        definition: dict[str, Any] = {}
        if draw(st.booleans()):
            definition["title"] = draw(TEXT)
        if draw(st.booleans()):
            definition["description"] = draw(TEXT)
        field_names = draw(st.lists(FIELD_NAMES, min_size=1, max_size=3, unique=True))
        definition["fields"] = {f: draw(field_specs()) for f in field_names}
        records[name] = definition

    data: dict[str, Any] = {
        "resolveflow": 1,
        "id": draw(st.from_regex(r"[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,4}){0,2}", fullmatch=True)),
        "version": draw(st.sampled_from(["1", "1.0", "2.10.3", "0.1"])),
        "title": draw(TEXT),
        "source": draw(TEXT),
    }
    if draw(st.booleans()):
        data["description"] = draw(TEXT)
    data["initial"] = draw(st.sampled_from(steps))
    data["required_steps"] = draw(st.lists(st.sampled_from(steps), min_size=1, unique=True))
    if records:
        data["records"] = records
    data["steps"] = []
    for step in steps:
        item: dict[str, Any] = {"id": step, "title": draw(TEXT)}
        for key in ("prompts", "checklist"):
            lines = draw(st.lists(TEXT, max_size=2))
            if lines:
                item[key] = lines
        data["steps"].append(item)
    data["outcomes"] = []
    for index, outcome in enumerate(outcomes):
        item = {"id": outcome, "title": draw(TEXT), "successful": index == 0 or draw(st.booleans())}
        if draw(st.booleans()):
            item["guidance"] = draw(st.lists(TEXT, min_size=1, max_size=2))
        data["outcomes"].append(item)

    declared = list(records)
    data["actions"] = []
    for index, name in enumerate(actions):
        action: dict[str, Any] = {"name": name, "title": draw(TEXT)}
        if draw(st.booleans()):
            action["description"] = draw(TEXT)
        action["sources"] = draw(st.lists(st.sampled_from(steps), min_size=1, unique=True))
        action["target"] = draw(st.none() | st.sampled_from(steps + outcomes))
        # Every declared record must be used: the first actions record them.
        record = declared[index] if index < len(declared) else draw(st.none() | BUILTIN_KEYS)
        if record is not None:
            action["evidence"] = record
        guards = []
        for _ in range(draw(st.integers(0, 2))):
            kind = draw(st.sampled_from(["after_step", "requires", "evidence_is"]))
            if kind == "after_step":
                guard: dict[str, Any] = {"kind": kind, "step": draw(st.sampled_from(steps))}
            elif kind == "requires":
                guard = {
                    "kind": kind,
                    "record": draw(st.sampled_from([*declared, *sorted(builtin_records())])),
                }
                if draw(st.booleans()):
                    guard["at_step"] = draw(st.sampled_from(steps))
            else:
                fields = records.get(record or "", {}).get("fields", {})
                choosable = [f for f, s in fields.items() if s["type"] in ("boolean", "choice")]
                if not choosable:
                    continue
                field = draw(st.sampled_from(choosable))
                spec = fields[field]
                equals = draw(
                    st.booleans() if spec["type"] == "boolean" else st.sampled_from(spec["choices"])
                )
                guard = {"kind": kind, "field": field, "equals": equals, "name": "is_" + field}
                guard["message"] = draw(TEXT)
            if kind != "evidence_is" and draw(st.booleans()):
                guard["name"] = "custom_" + draw(st.from_regex(r"[a-z]{1,5}", fullmatch=True))
                guard["message"] = draw(TEXT)
            guards.append(guard)
        effective = [
            g.get("name")
            or (f"after_{g['step']}" if g["kind"] == "after_step" else f"requires_{g['record']}")
            for g in guards
        ]
        assume(len(set(effective)) == len(effective))
        if guards:
            action["guards"] = guards
        data["actions"].append(action)
    return data


@given(file_dicts())
def test_random_valid_files_round_trip(data: dict[str, Any]) -> None:
    methodology = methodology_from_dict(data)
    assert methodology_to_dict(methodology) == data
    for fmt in FORMATS:
        text = dump_methodology(methodology, fmt)
        assert methodology_from_text(text, fmt) == methodology, text


# --- every guard kind of the table, and a registered one ----------------------------


class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"


@attrs.frozen(kw_only=True)
class Everything(resolveflow.guards.Guard):
    """A third party's guard kind with a field of every type a file can hold."""

    amount: int
    step: str
    record: type
    due: str
    field: str
    equals: object
    ratio: float = 1.0
    strict: bool = False
    since: dt.datetime | None = None
    level: Level = Level.LOW
    note: str | None = None
    code: str | None = None
    name: str = "everything"
    message: str = "Everything must hold."

    def check(self, context: resolveflow.guards.GuardContext) -> resolveflow.Refusal | None:
        return None

    def references(self) -> tuple[str, ...]:
        return (self.step,)


EVERYTHING_FIELDS = (
    GuardField("amount", "integer", "An amount.", minimum=0),
    GuardField("step", "step", "A step."),
    GuardField("record", "record", "A record."),
    GuardField("due", "record_field", "A time in that record.", of="record", datetime=True),
    GuardField("field", "evidence_field", "A field of the evidence."),
    GuardField("equals", "evidence_value", "Its value.", of="field"),
    GuardField("ratio", "number", "A ratio.", required=False),
    GuardField("strict", "boolean", "Strict or not.", required=False),
    GuardField("since", "datetime", "Since when.", required=False),
    GuardField("level", "choice", "How much.", required=False, choices=Level),
    GuardField("note", "text", "A note.", required=False),
    GuardField("code", "name", "A code.", required=False),
)


@pytest.fixture
def everything() -> Iterator[GuardKind]:
    kind = register_guard_kind(
        "everything", Everything, description="Every field type.", fields=EVERYTHING_FIELDS, defaults=True
    )
    try:
        yield kind
    finally:
        unregister_guard_kind("everything")


PROBE = {
    "fields": {
        "flag": {"type": "boolean"},
        "level": {"type": "choice", "choices": ["low", "high"]},
        "when": {"type": "datetime"},
        "note": {"type": "text"},
    }
}
MOMENTS = st.datetimes(timezones=st.just(dt.UTC)).map(lambda moment: moment.isoformat())
PROBE_VALUES = {
    "flag": st.booleans(),
    "level": st.sampled_from(["low", "high"]),
    "when": MOMENTS,
    "note": TEXT,
}


def _time_fields(record: type) -> list[str]:
    return [f.attr for f in record_codec(record).fields if is_datetime(f.codec)]


@st.composite
def guard_data(draw: st.DrawFn, kind: GuardKind, steps: list[str]) -> dict[str, Any]:
    """File data for a guard of ``kind``, drawn from its table entry alone."""
    builtins = builtin_records()
    spec: dict[str, Any] = {"kind": kind.name}
    for field in kind.all_fields():
        if not field.required and not draw(st.booleans()):
            continue
        kind_of = field.type
        if kind_of == "record":
            timed = any(f.of == field.key and f.datetime for f in kind.fields)
            keys = sorted(k for k, r in builtins.items() if not timed or _time_fields(r))
            value: Any = draw(st.sampled_from(keys))
        elif kind_of == "record_field":
            fields = [f.attr for f in record_codec(builtins[spec[field.of or ""]]).fields]
            value = draw(
                st.sampled_from(_time_fields(builtins[spec[field.of or ""]]) if field.datetime else fields)
            )
        elif kind_of == "evidence_field":
            value = draw(st.sampled_from(["when"] if field.datetime else list(PROBE["fields"])))
        elif kind_of == "evidence_value":
            value = draw(PROBE_VALUES[spec[field.of or ""]])
        elif kind_of == "step":
            value = draw(st.sampled_from(steps))
        elif kind_of in ("name",):
            value = draw(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True))
        elif kind_of == "text":
            value = draw(TEXT)
        elif kind_of == "integer":
            value = draw(st.integers(int(field.minimum or 0), 10_000))
        elif kind_of == "number":
            value = draw(NUMBERS)
        elif kind_of == "boolean":
            value = draw(st.booleans())
        elif kind_of == "datetime":
            value = draw(MOMENTS)
        else:
            assert kind_of == "choice", kind_of
            assert field.choices is not None
            value = draw(st.sampled_from([member.value for member in field.choices]))
        spec[field.key] = value
    return spec


KIND_NAMES = [*BUILTIN_KINDS, "everything"]


@pytest.mark.parametrize("kind_name", KIND_NAMES)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_guard_kind_round_trips(kind_name: str, data: st.DataObject, everything: GuardKind) -> None:
    kind = current_table().kinds[kind_name]
    steps = ["start", "middle"]
    guard = data.draw(guard_data(kind, steps))
    document = heard_like(guard, steps)
    try:
        methodology = methodology_from_dict(document)
    except InvalidMethodologyFile as error:
        # A rule the guard class enforces beyond the schema (within: a positive time limit).
        assume(error.key_path != "actions[0].guards[0]")
        raise
    written = methodology_to_dict(methodology)
    again = methodology_from_dict(written)
    assert again == methodology
    assert methodology_to_dict(again) == written
    out = written["actions"][0]["guards"][0]
    # The writer only leaves out what the guard does not need; it never changes a value.
    assert set(out) <= set(guard)
    assert out == {key: value for key, value in guard.items() if key in out}
    for fmt in FORMATS:
        assert methodology_from_text(dump_methodology(methodology, fmt), fmt) == methodology


def heard_like(guard: dict[str, Any], steps: list[str]) -> dict[str, Any]:
    roles = sorted({guard[key] for key in ("role", "or_role") if isinstance(guard.get(key), str)})
    return {
        "resolveflow": 1,
        "id": "kinds",
        "version": "1.0",
        "title": "Kinds",
        "source": "tests",
        "initial": steps[0],
        "required_steps": steps[:1],
        **({"roles": roles} if roles else {}),  # a role a guard names is declared
        "records": {"probe": PROBE},
        "steps": [{"id": step, "title": step.title()} for step in steps],
        "outcomes": [{"id": "done", "title": "Done", "successful": True}],
        "actions": [
            {
                "name": "go",
                "title": "Go",
                "sources": steps,
                "target": "done",
                "evidence": "probe",
                "guards": [guard],
            }
        ],
    }


def test_every_kind_of_the_table_is_in_the_schema(everything: GuardKind) -> None:
    schema = methodology_schema()["$defs"]["guard"]
    assert schema["properties"]["kind"]["enum"] == list(KIND_NAMES)
    branches = {b["if"]["properties"]["kind"]["const"]: b["then"] for b in schema["allOf"]}
    assert list(branches) == KIND_NAMES
    assert branches["everything"]["required"] == [
        "kind",
        "amount",
        "step",
        "record",
        "due",
        "field",
        "equals",
    ]
    assert branches["everything"]["properties"]["since"]["format"] == "date-time"
    assert branches["everything"]["properties"]["level"]["enum"] == ["low", "high"]
    assert list(branches["within"]["properties"]) == [
        "kind", "step", "days", "hours", "minutes", "name", "message"
    ]  # fmt: skip


def test_a_registered_kind_leaves_the_schema_when_unregistered(everything: GuardKind) -> None:
    assert "everything" in methodology_schema()["$defs"]["guard"]["properties"]["kind"]["enum"]
    unregister_guard_kind("everything")
    try:
        assert "everything" not in methodology_schema()["$defs"]["guard"]["properties"]["kind"]["enum"]
        error = yaml_error(HEARD.replace("{kind: fault_needs_liability_review}", "{kind: everything}"))
        assert error.reason.startswith("unknown guard kind 'everything'; expected one of: requires,")
    finally:
        register_guard_kind(
            "everything", Everything, description="Every field type.", fields=EVERYTHING_FIELDS, defaults=True
        )


def test_an_unknown_kind_lists_the_registered_ones_too(everything: GuardKind) -> None:
    error = yaml_error(HEARD.replace("{kind: fault_needs_liability_review}", "{kind: evrything}"))
    assert error.key_path == "actions[2].guards[0].kind"
    assert error.reason.endswith("all_plan_items_done, fault_needs_liability_review, everything")


def everything_file(**changes: Any) -> dict[str, Any]:
    guard = {
        "kind": "everything", "amount": 3, "step": "start", "record": "reschedule", "due": "resume_at",
        "field": "flag", "equals": True, "since": "2027-01-31T09:00:00+00:00", "level": "high",
    }  # fmt: skip
    guard.update(changes)
    return heard_like({k: v for k, v in guard.items() if v is not None}, ["start", "middle"])


def test_a_registered_kind_loads_and_writes(everything: GuardKind) -> None:
    methodology = methodology_from_dict(everything_file())
    guard = methodology.action("go").guards[0]
    assert guard == Everything(
        amount=3, step="start", record=evidence.Reschedule, due="resume_at", field="flag", equals=True,
        since=dt.datetime(2027, 1, 31, 9, tzinfo=dt.UTC), level=Level.HIGH,
    )  # fmt: skip
    assert (
        methodology_to_dict(methodology)["actions"][0]["guards"][0]
        == everything_file()["actions"][0]["guards"][0]
    )


@pytest.mark.parametrize(
    ("changes", "key", "reason"),
    [
        ({"amount": "3"}, "amount", "expected an integer, got the text '3'"),
        ({"amount": -1}, "amount", "must be at least 0, got -1"),
        ({"strict": "yes"}, "strict", "expected true or false, got the text 'yes'"),
        ({"level": "medium"}, "level", "unknown Level 'medium'; expected one of: low, high"),
        ({"since": "2027-01-31"}, "since", "expected a date-time with a time zone, e.g. "),
        ({"since": "soon"}, "since", "expected a date-time with a time zone, e.g. "),
        ({"step": "nowhere"}, "step", "unknown step 'nowhere'"),
        ({"record": "nothing"}, "record", "unknown record 'nothing'"),
        ({"due": "reason"}, "due", "field 'reason' is not a datetime; everything compares a time"),
        ({"due": "resume"}, "due", "unknown field 'resume' (did you mean 'resume_at'?) of record"),
        ({"field": "flg"}, "field", "unknown field 'flg' (did you mean 'flag'?) of record 'probe'"),
        ({"equals": "maybe"}, "equals", "not a valid value of field 'flag': expected true or false"),
        ({"amount": None}, "", "missing required key 'amount' for a everything guard"),
        (
            {"colour": "red"},
            "colour",
            "unexpected key 'colour' for a everything guard; allowed keys are: kind,",
        ),
    ],
)
def test_a_registered_kind_reports_wrong_fields(
    everything: GuardKind, changes: dict[str, Any], key: str, reason: str
) -> None:
    with pytest.raises(InvalidMethodologyFile) as info:
        methodology_from_dict(everything_file(**changes))
    assert info.value.key_path == "actions[0].guards[0]" + (f".{key}" if key else "")
    assert info.value.reason.startswith(reason), info.value.reason


def test_a_registered_guard_that_a_file_cannot_hold_fails_clearly(everything: GuardKind) -> None:
    methodology = methodology_from_dict(everything_file())
    action = methodology.action("go")
    bad = attrs.evolve(action.guards[0], amount="three")
    changed = attrs.evolve(methodology, actions=(attrs.evolve(action, guards=(bad,)),))
    with pytest.raises(InvalidMethodologyFile) as info:
        methodology_to_dict(changed)
    assert info.value.key_path == "actions[0].guards[0].amount"
    assert "guard 'everything': expected an integer, got 'three'" in str(info.value)


def test_a_field_may_convert_its_value() -> None:
    @attrs.frozen(kw_only=True)
    class Cooling(resolveflow.guards.Guard):
        wait: dt.timedelta
        name: str = "cooling_off"
        message: str = "Wait a little."

        def check(self, context: resolveflow.guards.GuardContext) -> resolveflow.Refusal | None:
            return None

    register_guard_kind(
        "cooling_off",
        Cooling,
        description="A cooling-off period.",
        fields=[
            GuardField(
                "minutes", "integer", "How long.", attr="wait", minimum=1,
                load=lambda minutes: dt.timedelta(minutes=minutes),
                dump=lambda wait: wait // dt.timedelta(minutes=1),
            )
        ],
        defaults=True,
    )  # fmt: skip
    try:
        document = heard_like({"kind": "cooling_off", "minutes": 90}, ["start"])
        methodology = methodology_from_dict(document)
        assert methodology.action("go").guards[0] == Cooling(wait=dt.timedelta(minutes=90))
        assert methodology_to_dict(methodology) == document
    finally:
        unregister_guard_kind("cooling_off")


# --- the schema -------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = methodology_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_closes_every_object() -> None:
    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            node = {k: v for k, v in node.items() if k != "if"}  # conditions, not definitions
            if "properties" in node:
                assert node.get("additionalProperties") is False, path
            if node.get("type") == "object" and "properties" not in node:
                assert isinstance(node.get("additionalProperties"), dict), path  # a map of named items
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}/{index}")

    walk(methodology_schema(), "#")


def test_schema_documents_its_properties() -> None:
    schema = methodology_schema()
    properties = {**schema["properties"], **schema["$defs"]["action"]["properties"]}
    for name, prop in properties.items():
        assert prop.get("title"), name
        assert prop.get("description"), name


@pytest.mark.parametrize("methodology", BUILTINS, ids=lambda m: m.id)
def test_every_builtin_validates_against_the_schema(methodology: Methodology) -> None:
    jsonschema.Draft202012Validator(methodology_schema()).validate(methodology_to_dict(methodology))


def test_heard_validates_against_the_schema() -> None:
    jsonschema.Draft202012Validator(methodology_schema()).validate(heard_dict())


def test_schema_validates_guards_per_kind() -> None:
    validator = jsonschema.Draft202012Validator(methodology_schema())
    data = heard_dict()
    data["actions"][0]["guards"] = [{"kind": "requires", "step": "hear"}]
    messages = [e.message for e in validator.iter_errors(data)]
    assert any("'record' is a required property" in m for m in messages)
    assert any("'step' was unexpected" in m for m in messages)


def test_schema_is_a_copy() -> None:
    methodology_schema()["properties"].clear()
    assert methodology_schema()["properties"]


# --- file-declared records in a real case ------------------------------------------------


def test_declared_records_have_the_expected_evidence_schema() -> None:
    heard = load_yaml(HEARD)
    assert heard.action("hear_out").evidence_schema() == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "title": "The customer's account",
        "properties": {
            "summary": {
                "type": "string",
                "minLength": 1,
                "pattern": r"\S",
                "maxLength": 4000,
                "title": "What happened",
            },
            "desired": {
                "anyOf": [{"type": "string", "minLength": 1, "pattern": r"\S"}, {"type": "null"}],
                "title": "Desired",
            },
        },
        "required": ["summary"],
        "additionalProperties": False,
    }
    fix = heard.action("resolve_it").evidence_schema()
    assert fix["title"] == "Fix"
    assert fix["description"] == "What was done to put it right."
    assert fix["required"] == ["items", "accepted"]
    assert fix["properties"]["items"]["minItems"] == 1
    assert fix["properties"]["items"]["items"]["required"] == ["what", "done_at"]
    assert fix["properties"]["refund"]["anyOf"][0] == {"type": "number", "minimum": 0}
    diagnosis = heard.action("record_diagnosis").evidence_schema()["properties"]
    assert diagnosis["kind"]["enum"] == ["procedure_change", "training"]
    assert diagnosis["count"] == {"type": "integer", "minimum": 0, "maximum": 10, "title": "Count"}
    assert diagnosis["notes"]["items"] == {"type": "string", "minLength": 1, "pattern": r"\S"}
    assert diagnosis["checked_at"]["format"] == "date-time"
    for action in heard.actions:
        jsonschema.Draft202012Validator.check_schema(action.evidence_schema())


def test_declared_records_validate_json_evidence_in_a_case() -> None:
    heard = load_yaml(HEARD)
    clock = FakeClock()
    case = resolveflow.open_case(heard, case_id="H-1", clock=clock)
    with pytest.raises(InvalidEvidence) as bad:
        case.fire("hear_out", {"summary": "   ", "extra": 1}, actor="ana")
    assert set(bad.value.paths) == {"summary", "extra"}
    case.fire("hear_out", {"summary": "The parcel never came."}, actor="ana")
    assert case.history[-1].evidence_json == {"summary": "The parcel never came.", "desired": None}
    case.fire("show_empathy", {"statement": "That is really annoying."}, actor="ana")
    case.fire("apologize_now", {"statement": "Sorry."}, actor="ana")
    fix = {"items": [{"what": "Reship", "done_at": "2026-01-05T08:00:00+00:00"}], "accepted": False}
    with pytest.raises(Refused) as refused:
        case.fire("resolve_it", fix, actor="ana")
    assert refused.value.codes == ("fix_accepted",)
    with pytest.raises(InvalidEvidence) as bad:
        case.fire("resolve_it", {"items": [{"what": "Reship"}], "accepted": True}, actor="ana")
    assert bad.value.paths == ("items[0].done_at",)
    case.fire("resolve_it", {**fix, "accepted": True, "refund": 12.5}, actor="ana")
    assert case.history[-1].evidence.items[0].done_at == dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
    diagnosis = {
        "kind": "procedure_change",
        "notes": ["Courier lost it"],
        "count": 1,
        "checked_at": T0.isoformat(),
    }
    with pytest.raises(Refused) as refused:
        case.fire("record_diagnosis", diagnosis, actor="ana")
    assert refused.value.codes == ("training_only",)
    with pytest.raises(InvalidEvidence):
        case.fire("record_diagnosis", {**diagnosis, "kind": "magic"}, actor="ana")
    case.fire("record_diagnosis", {**diagnosis, "kind": "training"}, actor="ana")
    assert case.step == "resolved"
    assert case.history[-1].evidence_json["kind"] == "training"
    restored = resolveflow.restore(case.snapshot(), methodology=heard)
    assert restored.step == "resolved"


def test_loading_the_same_file_twice_gives_equal_methodologies(tmp_path: Path) -> None:
    path = tmp_path / "heard.yaml"
    path.write_text(HEARD, encoding="utf-8")
    first, second = load_methodology(path), load_methodology(path)
    assert first == second
    assert first.action("resolve_it").evidence is second.action("resolve_it").evidence
    # The same definitions through another format are the same classes too.
    assert methodology_from_dict(heard_dict()) == first


def test_a_changed_record_is_a_new_class() -> None:
    first = load_yaml(HEARD)
    changed = load_yaml(HEARD.replace("what: {type: text}", "what: {type: text, max_length: 10}"))
    assert first != changed
    # fix contains fix_item: both change, the others stay.
    assert first.action("resolve_it").evidence is not changed.action("resolve_it").evidence
    assert first.action("hear_out").evidence is changed.action("hear_out").evidence


def test_a_file_never_half_loads() -> None:
    text = HEARD.replace("id: heard", "id: half-loaded").replace("target: diagnose", "target: nowhere")
    resolveflow.available()  # may load a shipped file (and its record classes) on first use
    before = dict(RECORD_CLASSES)
    with pytest.raises(InvalidMethodologyFile, match="unknown step 'nowhere'"):
        load_yaml(text)
    guard_error = HEARD.replace("id: heard", "id: half-loaded").replace("field: accepted", "field: acepted")
    with pytest.raises(InvalidMethodologyFile, match="did you mean 'accepted'"):
        load_yaml(guard_error)
    assert dict(RECORD_CLASSES) == before
    assert "half-loaded" not in resolveflow.available()
    load_yaml(HEARD.replace("id: heard", "id: half-loaded"))
    assert {key[:2] for key in RECORD_CLASSES} - {key[:2] for key in before} == {
        ("half-loaded", name) for name in ("heard_account", "fix", "fix_item", "diagnosis")
    }


# --- dumping what a file cannot hold ------------------------------------------------------


class Channel(enum.Enum):
    PHONE = "phone"
    EMAIL = "email"


@attrs.frozen(kw_only=True)
class Refund:
    """Money returned to the customer."""

    amount: float = evidence.field(title="Amount", minimum=0)
    channel: Channel = evidence.field(title="Channel")
    items: tuple[evidence.PlanItem, ...] = evidence.field(min_items=1)
    note: str | None = evidence.field(default=None, max_length=100)


@attrs.frozen(kw_only=True)
class Callback:
    urgent: bool = False


def test_dumping_a_rule_guard_fails_clearly() -> None:
    engage = resolveflow.get_methodology("engage")
    weekday = Rule(name="on_a_weekday", message="Only on weekdays.", predicate=lambda ctx: True)
    action = attrs.evolve(engage.actions[1], guards=(*engage.actions[1].guards, weekday))
    changed = attrs.evolve(engage, actions=(engage.actions[0], action, *engage.actions[2:]))
    for call in (lambda: methodology_to_dict(changed), lambda: dump_methodology(changed, "yaml")):
        with pytest.raises(InvalidMethodologyFile) as info:
            call()
        assert info.value.key_path == f"actions[1].guards[{len(action.guards) - 1}]"
        assert f"action {action.name!r}, guard 'on_a_weekday' is a Rule" in str(info.value)
        assert "cannot be written as a file" in str(info.value)


def test_dumping_a_custom_guard_kind_fails_clearly() -> None:
    @attrs.frozen(kw_only=True)
    class Always(resolveflow.guards.Guard):
        name: str = "always"
        message: str = "Never refuses."

        def check(self, context: resolveflow.guards.GuardContext) -> resolveflow.Refusal | None:
            return None

    engage = resolveflow.get_methodology("engage")
    action = attrs.evolve(engage.actions[0], guards=(Always(),))
    changed = attrs.evolve(engage, actions=(action, *engage.actions[1:]))
    with pytest.raises(
        InvalidMethodologyFile, match=r"guard 'always' is a .*Always, a guard kind written in Python"
    ):
        methodology_to_dict(changed)


def test_python_record_classes_are_declared_when_a_file_can_hold_them() -> None:
    engage = resolveflow.get_methodology("engage")
    action = attrs.evolve(engage.actions[0], evidence=Refund)
    changed = attrs.evolve(engage, actions=(action, *engage.actions[1:]))
    data = methodology_to_dict(changed)
    assert data["records"] == {
        "refund": {
            "description": "Money returned to the customer.",
            "fields": {
                "amount": {"type": "number", "title": "Amount", "minimum": 0},
                "channel": {"type": "choice", "title": "Channel", "choices": ["phone", "email"]},
                "items": {"type": "list", "of": {"type": "record", "record": "plan_item"}, "min_items": 1},
                "note": {"type": "text", "optional": True, "max_length": 100},
            },
        }
    }
    loaded = methodology_from_dict(data)
    assert loaded.actions[0].evidence is not Refund  # an equivalent generated class
    assert loaded.actions[0].evidence_schema() == changed.actions[0].evidence_schema()


def test_python_record_classes_a_file_cannot_hold_fail_clearly() -> None:
    engage = resolveflow.get_methodology("engage")
    action = attrs.evolve(engage.actions[0], evidence=Callback)
    changed = attrs.evolve(engage, actions=(action, *engage.actions[1:]))
    with pytest.raises(
        InvalidMethodologyFile, match="field 'urgent' defaults to False; files only know null"
    ):
        methodology_to_dict(changed)


def test_toml_cannot_hold_a_null_equals() -> None:
    heard = load_yaml(
        HEARD.replace("field: accepted\n        equals: true", "field: refund\n        equals: null")
    )
    assert methodology_from_text(dump_methodology(heard, "yaml"), "yaml") == heard
    with pytest.raises(InvalidMethodologyFile, match="TOML has no null") as info:
        dump_methodology(heard, "toml")
    assert info.value.key_path == "actions[3].guards[1].equals"


# --- errors: where and what ------------------------------------------------------------


def test_error_is_an_invalid_methodology_with_its_place() -> None:
    error = yaml_error(HEARD.replace("    target: resolve\n", "    target: act\n"))
    assert isinstance(error, InvalidMethodology)
    assert isinstance(error, ValueError)
    line, column = at(HEARD, "target: resolve")
    assert (error.file, error.line, error.column) == ("heard.yaml", line, column + len("target: "))
    assert (error.line, error.column) == (54, 13)
    assert error.key_path == "actions[2].target"
    assert str(error) == (
        "heard.yaml:54:13: actions[2].target: unknown step 'act'; steps are: hear, empathize, apologize, "
        "resolve, diagnose; outcomes are: resolved, lost"
    )
    assert error.reason.startswith("unknown step 'act'")


def test_yaml_syntax_error_has_line_and_column() -> None:
    error = yaml_error(HEARD.replace("  - {id: resolve, title: Resolve}", "  - {id: resolve, title: Resolve"))
    line, _ = at(HEARD, "  - {id: diagnose")
    assert error.line == line
    assert error.column == 5  # the '{' that should have been a ',' or '}'
    # libyaml says "did not find expected ',' or '}'", PyYAML's own loader "expected ',' or '}', but got '{'".
    assert error.reason.startswith("invalid YAML: ") and "expected ',' or '}'" in error.reason
    assert error.key_path == ""


def test_json_syntax_error_has_line_and_column() -> None:
    text = '{\n  "resolveflow": 1,\n  "id": "x",,\n}'
    with pytest.raises(InvalidMethodologyFile) as info:
        methodology_from_text(text, "json", origin="x.json")
    assert (info.value.line, info.value.column) == (3, 13)
    assert str(info.value).startswith("x.json:3:13: invalid JSON: Expecting property name")


def test_toml_syntax_error_has_line_and_column() -> None:
    text = 'resolveflow = 1\nid = "x"\ntitle = \n'
    with pytest.raises(InvalidMethodologyFile) as info:
        methodology_from_text(text, "toml", origin="x.toml")
    assert (info.value.line, info.value.column) == (3, 9)
    assert str(info.value) == "x.toml:3:9: invalid TOML: Invalid value"


def test_json_and_toml_errors_have_key_paths_only(tmp_path: Path) -> None:
    data = methodology_to_dict(load_yaml(HEARD))
    data["actions"][2]["target"] = "act"
    path = tmp_path / "heard.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidMethodologyFile) as info:
        load_methodology(path)
    assert (info.value.line, info.value.column, info.value.key_path) == (None, None, "actions[2].target")
    assert str(info.value).startswith(f"{path}: actions[2].target: unknown step 'act'")
    toml_path = tmp_path / "heard.toml"
    toml_path.write_text(dump_methodology(load_yaml(HEARD), "toml").replace('"resolve_it"', '"9x"'), "utf-8")
    with pytest.raises(InvalidMethodologyFile) as info:
        load_methodology(toml_path)
    assert (info.value.line, info.value.key_path) == (None, "actions[3].name")


def test_the_top_must_be_a_mapping() -> None:
    error = yaml_error("- resolveflow: 1\n")
    assert (error.line, error.column, error.key_path) == (1, 1, "")
    assert error.reason == "expected a mapping at the top (resolveflow: 1, id: ..., steps: ...), got a list"
    assert "an empty document" in yaml_error("# nothing here\n").reason
    with pytest.raises(InvalidMethodologyFile, match="got the text 'x'"):
        methodology_from_dict("x")  # type: ignore[arg-type]


def test_the_format_version_is_required_and_checked() -> None:
    error = yaml_error(HEARD.replace("resolveflow: 1\n", ""))
    assert error.reason.startswith("missing required key 'resolveflow': start the file with 'resolveflow: 1'")
    error = yaml_error(HEARD.replace("resolveflow: 1", "resolveflow: 2"))
    assert (error.line, error.column, error.key_path) == (1, 14, "resolveflow")
    assert error.reason == "this file is format version 2, and this resolveflow reads format version 1"


def test_a_number_where_text_is_expected_suggests_quotes() -> None:
    error = yaml_error(HEARD.replace('version: "1.0"', "version: 1.0"))
    assert (error.line, error.column, error.key_path) == (3, 10, "version")
    assert error.reason == 'expected text, got the number 1.0; put it in quotes: "1.0"'


def test_an_unexpected_key_points_at_the_key() -> None:
    text = HEARD.replace("    target: empathize\n", "    tagret: empathize\n")
    error = yaml_error(text)
    assert (error.line, error.column) == at(text, "tagret")
    assert error.key_path == "actions[0].tagret"
    assert error.reason.startswith(
        "unexpected key 'tagret' (did you mean 'target'?); allowed keys are: name,"
    )


def test_a_missing_key_points_at_its_mapping() -> None:
    text = HEARD.replace("  - name: show_empathy\n    title: Empathy shown\n", "  - name: show_empathy\n")
    error = yaml_error(text)
    assert (error.line, error.column) == at(text, "name: show_empathy")
    assert (error.key_path, error.reason) == ("actions[1]", "missing required key 'title'")


def test_an_invalid_id_says_what_is_expected() -> None:
    error = yaml_error(HEARD.replace("  - {id: apologize,", "  - {id: Apologize,"))
    assert error.key_path == "steps[2].id"
    assert (error.line, error.column) == (34, 10)
    assert "use lowercase letters, digits and underscores" in error.reason


def test_unknown_guard_kind() -> None:
    text = HEARD.replace("{kind: fault_needs_liability_review}", "{kind: fault_review}")
    error = yaml_error(text)
    assert (error.line, error.column) == at(text, "fault_review")
    assert error.key_path == "actions[2].guards[0].kind"
    assert error.reason.startswith(
        "unknown guard kind 'fault_review'; expected one of: requires, after_step,"
    )


def test_a_key_of_another_guard_kind() -> None:
    text = HEARD.replace(
        "{kind: requires, record: heard_account, at_step: hear}", "{kind: requires, step: hear}"
    )
    error = yaml_error(text)
    assert error.key_path == "actions[3].guards[0].step"
    assert (error.line, error.column) == at(text, "step: hear}")
    assert error.reason == (
        "unexpected key 'step' for a requires guard (did you mean 'at_step'?); "
        "allowed keys are: kind, record, at_step, name, message"
    )


def test_a_guard_missing_its_kind_specific_key() -> None:
    error = yaml_error(
        HEARD.replace("{kind: requires, record: heard_account, at_step: hear}", "{kind: requires}")
    )
    assert (error.key_path, error.reason) == (
        "actions[3].guards[0]",
        "missing required key 'record' for a requires guard",
    )


def test_unknown_record_names() -> None:
    text = HEARD.replace("evidence: heard_account", "evidence: heard_acount")
    error = yaml_error(text)
    assert error.key_path == "actions[0].evidence"
    assert (error.line, error.column) == at(text, "heard_acount")
    assert error.reason.startswith(
        "unknown record 'heard_acount' (did you mean 'heard_account'?); records declared in this file: "
        "heard_account, fix, fix_item, diagnosis; built-in records: accomplishment, acknowledgement, apology,"
    )
    error = yaml_error(HEARD.replace("record: heard_account, at_step", "record: nope, at_step"))
    assert error.key_path == "actions[3].guards[0].record"
    error = yaml_error(HEARD.replace("record: fix_item}", "record: fix_items}"))
    assert error.key_path == "records.fix.fields.items.of.record"
    assert (error.line, error.column) == at(HEARD, "fix_item}")


def test_duplicate_record_names() -> None:
    text = HEARD.replace("  fix_item:\n", "  fix:\n")
    error = yaml_error(text)
    assert error.key_path == "records.fix"
    assert (error.line, error.column) == (at(text, "  fix:", 2)[0], 3)
    assert error.reason == "duplicate key 'fix': each key may appear once in a mapping"
    json_text = json.dumps(heard_dict()).replace('"fix_item": {', '"fix": {')
    with pytest.raises(InvalidMethodologyFile) as info:
        methodology_from_text(json_text, "json", origin="heard.json")
    assert (info.value.key_path, info.value.line) == ("records.fix", None)
    toml_text = dump_methodology(load_yaml(HEARD), "toml").replace("[records.fix_item", "[records.fix")
    with pytest.raises(InvalidMethodologyFile, match="invalid TOML") as info:
        methodology_from_text(toml_text, "toml")
    assert info.value.line is not None


def test_a_record_may_not_take_a_builtin_name() -> None:
    text = HEARD.replace("heard_account", "plan")
    error = yaml_error(text)
    assert (error.key_path, error.reason) == (
        "records.plan",
        "'plan' is the name of a built-in record; choose another name",
    )
    assert (error.line, error.column) == (9, 3)


def test_a_declared_record_must_be_used() -> None:
    text = HEARD.replace("records:\n", "records:\n  spare:\n    fields: {x: {type: text}}\n")
    error = yaml_error(text)
    assert (error.key_path, error.line, error.column) == ("records.spare", 9, 3)
    assert (
        error.reason == "record 'spare' is declared but no action records or requires it; use it or remove it"
    )


def test_records_may_not_contain_each_other() -> None:
    text = HEARD.replace("done_at: {type: datetime}", "back: {type: record, record: fix}")
    error = yaml_error(text)
    assert error.key_path == "records.fix"
    assert error.reason == "records contain each other in a cycle: fix -> fix_item -> fix"


def test_record_field_problems() -> None:
    error = yaml_error(
        HEARD.replace(
            "count: {type: integer, minimum: 0, maximum: 10}",
            "count: {type: integer, minimum: 5, maximum: 1}",
        )
    )
    assert (error.key_path, error.reason) == (
        "records.diagnosis.fields.count.maximum",
        "maximum 1 is less than minimum 5",
    )
    error = yaml_error(HEARD.replace("what: {type: text}", "class: {type: text}"))
    assert error.key_path == "records.fix_item.fields.class"
    assert "Python keyword" in error.reason
    error = yaml_error(HEARD.replace("what: {type: text}", "what: {type: text, minimum: 1}"))
    assert error.key_path == "records.fix_item.fields.what.minimum"
    assert error.reason.startswith("unexpected key 'minimum' for a text field; allowed keys are:")
    error = yaml_error(HEARD.replace("what: {type: text}", "what: {type: string}"))
    assert error.reason.startswith("unknown field type 'string'; expected one of: text, number,")


def test_guard_fields_must_exist_and_fit() -> None:
    error = yaml_error(HEARD.replace("field: accepted", "field: acepted"))
    assert error.key_path == "actions[3].guards[1].field"
    assert error.reason == (
        "unknown field 'acepted' (did you mean 'accepted'?) of record 'fix'; "
        "fields are: items, refund, accepted"
    )
    error = yaml_error(HEARD.replace("equals: true", "equals: yes please"))
    assert error.key_path == "actions[3].guards[1].equals"
    assert error.reason == "not a valid value of field 'accepted': expected true or false, got a string"
    error = yaml_error(HEARD.replace("equals: training", "equals: therapy"))
    assert error.reason.startswith("not a valid value of field 'kind': expected one of 'procedure_change'")
    error = yaml_error(HEARD.replace("field: checked_at", "field: count"))
    assert (error.key_path, error.reason) == (
        "actions[4].guards[1].field",
        "field 'count' is not a datetime; not_later_than_now compares a time",
    )
    text = HEARD.replace(
        "    target: lost\n",
        "    target: lost\n    guards: [{kind: later_than_now, field: x, name: y, message: z}]\n",
    )
    error = yaml_error(text)
    assert error.key_path == "actions[5].guards[0].field"
    assert "this action records none" in error.reason


def test_reference_errors_name_their_key() -> None:
    error = yaml_error(HEARD.replace("initial: hear", "initial: resolved"))
    assert (error.key_path, error.line, error.column) == ("initial", 6, 10)
    assert error.reason.startswith("'resolved' is an outcome; a working step is needed here")
    error = yaml_error(
        HEARD.replace("sources: [empathize, apologize, resolve]", "sources: [empathize, apologise]")
    )
    assert error.key_path == "actions[5].sources[1]"
    assert error.reason.startswith("unknown step 'apologise' (did you mean 'apologize'?)")
    error = yaml_error(HEARD.replace("required_steps: [hear,", "required_steps: [heer,"))
    assert (error.key_path, error.line, error.column) == ("required_steps[0]", 7, 18)
    error = yaml_error(HEARD.replace("at_step: hear}", "at_step: lost}"))
    assert error.key_path == "actions[3].guards[0].at_step"
    error = yaml_error(HEARD.replace("  - {id: lost,", "  - {id: hear,"))
    assert error.key_path == "outcomes[1].id"
    assert error.reason.startswith("the id 'hear' is already used at steps[0]")
    error = yaml_error(HEARD.replace("  - name: show_empathy", "  - name: hear_out"))
    assert (error.key_path, error.reason) == (
        "actions[1].name",
        "action 'hear_out' is already defined at actions[0]; give one action several sources instead",
    )
    error = yaml_error(HEARD.replace("successful: true}", "successful: false}"))
    assert (error.key_path, error.reason) == (
        "outcomes",
        "needs at least one successful outcome (successful: true)",
    )


def test_construction_errors_get_the_elements_key_path() -> None:
    text = HEARD.replace("name: training_only", "name: checked")
    error = yaml_error(text)
    assert error.key_path == "actions[4]"
    assert (error.line, error.column) == at(text, "name: record_diagnosis")
    assert "two guards share the refusal code 'checked'" in error.reason
    error = yaml_error(HEARD.replace("name: fix_accepted", "name: case_closed"))
    assert error.key_path == "actions[3]"
    assert "reserved for resolveflow's own refusals" in error.reason


def test_yaml_specific_mistakes() -> None:
    error = yaml_error(HEARD.replace("records:\n", "records:\n  1: {fields: {x: {type: text}}}\n"))
    assert error.key_path == "records"
    assert error.reason == "keys must be text, got the number 1; put the key in quotes"
    error = yaml_error(HEARD + "x: !!python/name:os.system\n")
    assert error.reason.startswith("invalid YAML: could not determine a constructor")
    error = yaml_error("a: &a [*a]\n")
    assert "contains itself" in error.reason


def test_files_must_be_utf8(tmp_path: Path) -> None:
    path = tmp_path / "heard.yaml"
    path.write_bytes(HEARD.replace("HEARD", "H\xe9ARD").encode("latin-1"))
    with pytest.raises(InvalidMethodologyFile, match="not UTF-8 text") as info:
        load_methodology(path)
    assert info.value.file == str(path)


def test_dict_errors_name_the_origin() -> None:
    data = heard_dict()
    data["steps"][1]["title"] = "   "
    with pytest.raises(InvalidMethodologyFile) as info:
        methodology_from_dict(data, origin="crm:methodology/7")
    assert str(info.value) == "crm:methodology/7: steps[1].title: must not be blank"
    data = heard_dict()
    data["steps"] = tuple(data["steps"])  # tuples are fine in a dict
    assert methodology_from_dict(data) == load_yaml(HEARD)


TRICKY_TEXTS = [
    "next\x85line",
    "line\u2028separator",
    "windows\r\nline",
    "  leading spaces",
    "trailing spaces  ",
    "two\nlines\n",
    "two\n\nparagraphs",
    "# not a comment",
    "- not a list",
    "yes",
    "null",
    "1.0",
    "\ttab first",
    "quote ' and \" and \\",
    "bom\ufeff",
    "emoji 🎉 and ünïcödé",
    "key: value",
    "{not: a mapping}",
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_tricky_text_survives_every_format(fmt: str) -> None:
    data = heard_dict()
    data["steps"][0]["prompts"] = TRICKY_TEXTS
    data["description"] = "\n".join(TRICKY_TEXTS)
    heard = methodology_from_dict(data)
    again = methodology_from_text(dump_methodology(heard, fmt), fmt)
    assert again == heard
    assert again.node("hear").prompts == tuple(TRICKY_TEXTS)


# --- docs/files.md stays true ---------------------------------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "files.md"


def doc_blocks(language: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}[ \t]*\n(.*?)^```[ \t]*$", text, flags=re.M | re.S)


def test_the_documented_example_loads_verifies_and_round_trips() -> None:
    example = doc_blocks("yaml")[0]
    heard = methodology_from_text(example, "yaml", origin="heard.yaml")
    assert resolveflow.verify(heard).ok
    for fmt in FORMATS:
        assert methodology_from_text(dump_methodology(heard, fmt), fmt) == heard
    summary = heard.action("hear_out").evidence_schema()["properties"]["summary"]
    assert summary == {
        "type": "string",
        "minLength": 1,
        "pattern": "\\S",
        "maxLength": 4000,
        "title": "What happened",
    }


def test_the_documented_toml_excerpt_matches_the_dump() -> None:
    example = doc_blocks("yaml")[0]
    full = tomllib.loads(dump_methodology(methodology_from_text(example, "yaml"), "toml"))
    excerpt = tomllib.loads(doc_blocks("toml")[0])
    for key in ("resolveflow", "id", "version", "title", "required_steps"):
        assert excerpt[key] == full[key]
    summary = excerpt["records"]["heard_account"]["fields"]["summary"]
    assert summary == full["records"]["heard_account"]["fields"]["summary"]
    assert excerpt["steps"][0].items() <= full["steps"][0].items()
    action = excerpt["actions"][0]
    same = next(a for a in full["actions"] if a["name"] == action["name"])
    assert action["guards"][0] == same["guards"][0]
    assert {k: v for k, v in action.items() if k != "guards"}.items() <= same.items()


def test_the_documented_error_messages_are_real() -> None:
    example = doc_blocks("yaml")[0]

    def message(text: str, fmt: str = "yaml", origin: str = "heard.yaml") -> str:
        with pytest.raises(InvalidMethodologyFile) as info:
            methodology_from_text(text, fmt, origin=origin)
        return str(info.value)

    data = yaml.safe_load(example)
    data["actions"][3]["guards"][1]["field"] = "acepted"
    actual = [
        message(example.replace("    target: resolve\n", "    target: act\n")),
        message(example.replace('version: "1.0"  ', "version: 1.0    ")),
        message(example.replace("    target: empathize\n", "    tagret: empathize\n")),
        message(example.replace("{kind: fault_needs_liability_review}", "{kind: fault_review}")),
        message(example.replace("  fix_item:\n", "  fix:\n")),
        message(json.dumps(data, indent=2), "json", "heard.json"),
        message('resolveflow = 1\nid = "x"\ntitle = \n', "toml", "heard.toml"),
    ]
    documented = next(b for b in doc_blocks("text") if b.startswith("heard.yaml:")).splitlines()
    assert len(documented) == len(actual)
    for doc_line, real in zip(documented, actual, strict=True):
        if doc_line.endswith("..."):
            assert real.startswith(doc_line[:-3]), (doc_line, real)
        else:
            assert real == doc_line


@pytest.mark.parametrize(
    "text",
    [
        "resolveflow: 1\nid: " + "x" * 10_000 + " engage\n",  # a value no pattern accepts
        "resolveflow: 1\nid: heard\n" + "k" * 10_000 + ": 1\n",  # an unknown key, an identifier
        "resolveflow: 1\nid: heard\n'" + "é" * 10_000 + "': 1\n",  # an unknown key, not one
        "resolveflow: 1\nid: heard\nversion: '" + "v" * 10_000 + "'\n",
    ],
    ids=["long-value", "long-identifier-key", "long-other-key", "long-version"],
)
def test_a_huge_value_or_key_is_shown_cut_short_in_the_error(text: str) -> None:
    """What the file holds is quoted in the message at most 80 characters at a time."""
    with pytest.raises(InvalidMethodologyFile) as info:
        methodology_from_text(text, "yaml")
    assert len(str(info.value)) < 1_000, str(info.value)[:300]
