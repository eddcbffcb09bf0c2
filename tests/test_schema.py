# evidence.field() returns an attrs field: calling it in a class body is the point.
"""The evidence codec: JSON Schema, validation of posted JSON, canonical dumps.

The codec promises that "valid per the schema" and "accepted by fire()" never
drift apart. The property tests below hold it to that promise against the
``jsonschema`` package, for every record the built-in methodologies use and
for a custom record exercising every supported field type.

``jsonschema`` only checks ``"format": "date-time"`` when the optional
rfc3339-validator package is installed, so these tests register their own
RFC 3339 (section 5.6) checker: the result does not depend on what happens to
be installed. The agreement properties generate date-times the codec can
represent (upper-case ``T``/``Z``, years 1900-2200) and clearly invalid ones;
the places where ISO 8601 parsing and RFC 3339 differ are pinned by
``test_date_time_strings_follow_rfc3339`` on their own.
"""

import copy
import datetime as dt
import enum
import json
import re
import string
import types
import typing
from collections.abc import Mapping

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

import resolveflow
from resolveflow import evidence as ev
from resolveflow._ledger import load_evidence as _load_evidence
from resolveflow._schema import INVALID, JSONSCHEMA_DIALECT, METADATA_KEY, record_codec
from resolveflow.methodologies import BUILTINS
from tests.conftest import FakeClock

# --- an RFC 3339 date-time checker for jsonschema -----------------------------

_RFC3339 = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))"
)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def is_rfc3339(value: object) -> bool:
    """RFC 3339 ``date-time`` (what JSON Schema's "date-time" format means)."""
    if not isinstance(value, str):
        return True  # formats only constrain strings
    match = _RFC3339.fullmatch(value)
    if match is None:
        return False
    part = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    return (
        1 <= part["month"] <= 12
        and 1 <= part["day"] <= _days_in_month(part["year"], part["month"])
        and part["hour"] <= 23
        and part["minute"] <= 59
        and part["second"] <= 60
        and part.get("off_hour", 0) <= 23
        and part.get("off_minute", 0) <= 59
    )


FORMATS = FormatChecker(formats=())
FORMATS.checks("date-time")(is_rfc3339)


def validator_for(schema: Mapping[str, typing.Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FORMATS)


def test_rfc3339_checker_is_wired_into_jsonschema() -> None:
    v = validator_for({"type": "string", "format": "date-time"})
    assert v.is_valid("2026-01-31T09:30:00Z")
    assert v.is_valid("2024-02-29T23:59:59.5+05:30")
    assert not v.is_valid("2026-01-31T09:30:00")
    assert not v.is_valid("2026-02-30T09:30:00Z")
    assert not v.is_valid("tomorrow")


# --- the records under test ---------------------------------------------------


def _actions() -> list[tuple[str, resolveflow.Action]]:
    return [(f"{m.id}:{a.name}", a) for m in BUILTINS for a in m.actions]


EVIDENCE_ACTIONS = [(key, a) for key, a in _actions() if a.evidence is not None]
NO_EVIDENCE_ACTIONS = [(key, a) for key, a in _actions() if a.evidence is None]


class Colour(enum.Enum):
    """A string enum for the custom record."""

    RED = "red"
    GREEN = "green"


@attrs.frozen(kw_only=True)
class PostalAddress:
    """A postal address."""

    street: str = ev.field(title="Street", max_length=40)
    lines: tuple[str, ...] = ev.field(default=(), title="Extra lines", max_items=2)


@attrs.frozen(kw_only=True)
class Refund:
    """A refund issued to the customer.

    This second paragraph is for developers and stays out of the schema.
    """

    amount: float = ev.field(title="Amount", description="Money returned.", minimum=0, maximum=500)
    parcels: int = ev.field(title="Parcels", minimum=1, maximum=3)
    reference: str = ev.field(description="Payment reference", max_length=8)
    tags: tuple[str, ...] = ev.field(title="Tags", min_items=1, max_items=3)
    colour: Colour = ev.field(title="Colour")
    when: dt.datetime = ev.field(title="When")
    address: PostalAddress = ev.field(title="Address")
    stops: tuple[PostalAddress, ...] = ev.field(default=(), title="Stops")
    note: str | None = ev.field(default=None, title="Note", max_length=5)
    urgent: bool = ev.field(default=False, title="Urgent")
    count_hint: int | None = ev.field(default=None, minimum=0)
    plain: str = attrs.field(default="p")


REFUND_ACTION = resolveflow.Action(
    name="record_refund", sources="somewhere", target=None, title="Refund", evidence=Refund
)

# One action per record class (several actions share a record).
_BY_CLASS: dict[type, tuple[str, resolveflow.Action]] = {}
for _key, _action in [*EVIDENCE_ACTIONS, ("custom:record_refund", REFUND_ACTION)]:
    _BY_CLASS.setdefault(_action.evidence, (_key, _action))
AGREEMENT_ACTIONS = sorted(_BY_CLASS.values(), key=lambda pair: pair[0])
ACTION_IDS = [key for key, _ in AGREEMENT_ACTIONS]


def test_builtins_use_evidence_records() -> None:
    # Guards against the parametrisations below silently becoming empty.
    classes = {a.evidence for _, a in EVIDENCE_ACTIONS}
    assert ev.Plan in classes
    assert ev.CauseAssessment in classes
    assert len(classes) >= 20
    assert NO_EVIDENCE_ACTIONS


def load(cls: type, value: object) -> tuple[object, list[tuple[str, str]]]:
    errors: list[tuple[str, str]] = []
    record = record_codec(cls).load(value, "", errors)
    return record, errors


def load_ok(cls: type, value: object) -> typing.Any:
    record, errors = load(cls, value)
    assert errors == []
    assert isinstance(record, cls)
    return record


def messages(errors: list[tuple[str, str]]) -> dict[str, str]:
    return dict(errors)


# --- strategies: valid values from a schema, and ways to break them -------------

WHITESPACE = " \t\n\r\x0b\x0c\x85\xa0\u2003\u2028\u3000"
KEY_ALPHABET = string.ascii_letters + string.digits + "_- "
# Integers stay below ~1e308: larger ones crash the codec, which
# test_huge_integers_are_checked_not_crashing covers on its own.
BIG = 10**300
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-BIG, BIG)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)  # too short to spell a zoned ISO 8601 date-time by accident
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(KEY_ALPHABET, max_size=8), inner),
    max_leaves=6,
)


def _offsets() -> st.SearchStrategy[str]:
    return st.just("Z") | st.builds(
        lambda sign, hour, minute: f"{sign}{hour:02d}:{minute:02d}",
        st.sampled_from("+-"),
        st.integers(0, 23),
        st.integers(0, 59),
    )


@st.composite
def rfc3339_datetimes(draw: st.DrawFn) -> str:
    """Valid RFC 3339 date-times that datetime can hold (upper-case T and Z)."""
    moment = draw(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 12, 31)))
    fraction = draw(st.just("") | st.text("0123456789", min_size=1, max_size=9).map(lambda s: "." + s))
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}{fraction}{draw(_offsets())}"
    )


@st.composite
def broken_datetimes(draw: st.DrawFn) -> str:
    """Strings that are neither RFC 3339 nor anything ISO 8601 parsing accepts with a zone."""
    valid = draw(rfc3339_datetimes())
    date, _, rest = valid.partition("T")
    naive = f"{date}T{re.split(r'[Z+-]', rest)[0]}"
    return draw(
        st.sampled_from(
            [
                naive,  # no time zone
                date,  # a date, no time
                valid.replace(":", "", 1),  # hhmm:ss
                f"{date[:5]}13{date[7:]}T{rest}",  # month 13
                f"{date[:8]}32T{rest}",  # day 32
                f"{date}T24{rest[2:]}",  # hour 24
                valid[:-1] if valid.endswith("Z") else f"{valid}Q",
                "",
                "now",
            ]
        )
        | st.text(max_size=10)
    )


def from_schema(schema: Mapping[str, typing.Any]) -> st.SearchStrategy[typing.Any]:
    """Values valid for the subset of JSON Schema the codec produces."""
    if "anyOf" in schema:
        return st.one_of(*(from_schema(s) for s in schema["anyOf"]))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "number"):
        low = schema.get("minimum", -(10**12))
        high = schema.get("maximum", 10**12)
        integers = st.integers(int(-(-low // 1)), int(high // 1))
        if kind == "integer":
            return integers | integers.map(float)  # 3.0 is an integer in JSON Schema
        floats = st.floats(
            min_value=schema.get("minimum"),
            max_value=schema.get("maximum"),
            allow_nan=False,
            allow_infinity=False,
        )
        return integers | floats
    if kind == "string":
        if schema.get("format") == "date-time":
            return rfc3339_datetimes()
        max_length = schema.get("maxLength")
        texts = st.text(min_size=schema.get("minLength", 0), max_size=min(max_length or 30, 30))
        if max_length is not None and max_length <= 64:
            texts |= st.text(min_size=max_length, max_size=max_length)
        pattern = schema.get("pattern")
        return texts.filter(lambda s: pattern is None or re.search(pattern, s) is not None)
    if kind == "array":
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 3), low + 3)
        return st.lists(from_schema(schema["items"]), min_size=low, max_size=high)
    if kind == "object":
        props = schema["properties"]
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v) for k, v in props.items() if k in required},
            optional={k: from_schema(v) for k, v in props.items() if k not in required},
        )
    raise AssertionError(f"the strategy does not know this schema: {schema}")


def _drop_required(obj: dict[str, typing.Any], required: list[str]) -> st.SearchStrategy[typing.Any]:
    present = [k for k in required if k in obj]
    if not present:
        return st.just(obj)
    return st.sampled_from(present).map(lambda key: {k: v for k, v in obj.items() if k != key})


def _add_extra(obj: dict[str, typing.Any], known: Mapping[str, typing.Any]) -> st.SearchStrategy[typing.Any]:
    keys = st.text(KEY_ALPHABET, min_size=1, max_size=8).filter(lambda k: k not in known)
    return st.builds(lambda key, value: {**obj, key: value}, keys, JSON_VALUES)


def broken(schema: Mapping[str, typing.Any]) -> st.SearchStrategy[typing.Any]:
    """Values made to miss the schema in one way (some may still happen to fit)."""
    if "anyOf" in schema:
        inner = next(s for s in schema["anyOf"] if s.get("type") != "null")
        return broken(inner)
    options: list[st.SearchStrategy[typing.Any]] = [JSON_VALUES]  # the wrong type, mostly
    kind = schema.get("type")
    if "enum" in schema:
        allowed = schema["enum"]
        options += [
            st.sampled_from(allowed).map(str.upper),
            st.sampled_from(allowed).map(lambda v: f"{v} "),
            st.text(max_size=12),
        ]
    elif kind == "string" and schema.get("format") == "date-time":
        options += [broken_datetimes(), st.datetimes().map(lambda d: d.isoformat())]
    elif kind == "string":
        options.append(st.text(st.sampled_from(WHITESPACE), max_size=4))  # blank
        if "maxLength" in schema:
            n = schema["maxLength"] + 1
            options.append(st.text(min_size=1, max_size=3).map(lambda s: (s * n)[:n]))  # too long
        options.append(st.integers(-5, 5))
    elif kind in ("integer", "number"):
        if "minimum" in schema:
            low = schema["minimum"]
            options += [st.integers(1, 10**6).map(lambda d: low - d), st.just(low - 0.5)]
        if "maximum" in schema:
            high = schema["maximum"]
            options += [st.integers(1, 10**6).map(lambda d: high + d), st.just(high + 0.5)]
        if kind == "integer":
            options.append(st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f % 1 != 0))
        options += [st.booleans(), st.integers(0, 9).map(str)]
    elif kind == "boolean":
        options += [st.sampled_from([0, 1, "true", "false", "yes", None])]
    elif kind == "array":
        low = schema.get("minItems", 0)
        if low:
            options.append(st.lists(from_schema(schema["items"]), max_size=low - 1))  # too short
        if "maxItems" in schema:
            high = schema["maxItems"]
            options.append(
                st.lists(from_schema(schema["items"]), min_size=high + 1, max_size=high + 2)
            )  # too long
        options += [from_schema(schema["items"]), st.dictionaries(st.text(max_size=3), st.integers())]
    elif kind == "object":
        valid = from_schema(schema)
        options += [
            valid.flatmap(lambda obj: _drop_required(obj, schema.get("required", []))),
            valid.flatmap(lambda obj: _add_extra(obj, schema["properties"])),
            valid.map(lambda obj: [obj]),
        ]
    return st.one_of(*options)


def mutate(data: st.DataObject, schema: Mapping[str, typing.Any], value: typing.Any) -> typing.Any:
    """Break ``value`` at one randomly chosen place (the whole value or one node inside it)."""
    if "anyOf" in schema:
        inner = next(s for s in schema["anyOf"] if s.get("type") != "null")
        if value is None:
            return data.draw(broken(inner))
        return mutate(data, inner, value)
    kind = schema.get("type")
    children: list[typing.Any] = []
    if kind == "object" and isinstance(value, dict):
        children = [k for k in value if k in schema["properties"]]
    elif kind == "array" and isinstance(value, list):
        children = list(range(len(value)))
    if children and data.draw(st.booleans(), label="descend"):
        key = data.draw(st.sampled_from(children), label="into")
        child_schema = schema["properties"][key] if kind == "object" else schema["items"]
        changed = copy.copy(value)
        changed[key] = mutate(data, child_schema, value[key])
        return changed
    return data.draw(broken(schema), label="broken")


# --- helpers to check one value -------------------------------------------------

_PATH_TOKEN = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _walk_parent(value: typing.Any, path: str) -> None:
    """The container holding the field an error points at must exist in ``value``."""
    tokens = [int(i) if i else name for i, name in _PATH_TOKEN.findall(path)]
    node = value
    for token in tokens[:-1]:
        if isinstance(token, int):
            assert isinstance(node, list), (path, value)
            assert token < len(node), (path, value)
        else:
            assert isinstance(node, Mapping), (path, value)
            assert token in node, (path, value)
        node = node[token]


def assert_agrees(action: resolveflow.Action, value: typing.Any) -> bool:
    """jsonschema and the codec (as fire() runs it) agree on ``value``; returns the verdict."""
    schema = action.evidence_schema()
    validator = validator_for(schema)
    record, data, errors = _load_evidence(action, value)
    accepted = not errors
    schema_errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]
    assert accepted == (not schema_errors), (
        f"codec {'accepts' if accepted else 'refuses'} {value!r} (errors: {errors}) "
        f"but jsonschema says {schema_errors or 'valid'}"
    )
    if accepted:
        assert isinstance(record, action.evidence)
        assert validator.is_valid(data), "the canonical dump must itself be valid"
    else:
        assert record is None
        for path, message in errors:
            assert isinstance(path, str)
            assert isinstance(message, str)
            assert message.strip()
            if isinstance(value, Mapping):
                _walk_parent(value, path)
    return accepted


# --- 1. the codec and jsonschema agree ---------------------------------------------


@pytest.mark.parametrize(("key", "action"), AGREEMENT_ACTIONS, ids=ACTION_IDS)
@given(data=st.data())
def test_schema_derived_values_are_accepted_by_both(key: str, action: resolveflow.Action, data) -> None:
    value = data.draw(from_schema(action.evidence_schema()))
    assert assert_agrees(action, value), f"a value built from the schema was refused: {value!r}"


@pytest.mark.parametrize(("key", "action"), AGREEMENT_ACTIONS, ids=ACTION_IDS)
@given(data=st.data())
def test_codec_and_jsonschema_agree_on_mutations(key: str, action: resolveflow.Action, data) -> None:
    schema = action.evidence_schema()
    value = mutate(data, schema, data.draw(from_schema(schema), label="valid"))
    assert_agrees(action, value)


@pytest.mark.parametrize(("key", "action"), AGREEMENT_ACTIONS, ids=ACTION_IDS)
@given(value=JSON_VALUES)
def test_codec_and_jsonschema_agree_on_arbitrary_json(key: str, action: resolveflow.Action, value) -> None:
    assert_agrees(action, value)


@pytest.mark.parametrize(("key", "action"), AGREEMENT_ACTIONS, ids=ACTION_IDS)
def test_every_kind_of_breakage_is_refused_by_both(key: str, action: resolveflow.Action) -> None:
    """Deterministic breakages that must be refused, so the properties above cannot pass vacuously."""
    schema = action.evidence_schema()
    good = record_codec(action.evidence).dump(_minimal_record(action.evidence))
    assert assert_agrees(action, good)
    bad_values: list[typing.Any] = [None, [], "text", 1, {**good, "zz_unknown": 1}]
    for name, prop in schema["properties"].items():
        if name in schema["required"]:
            bad_values.append({k: v for k, v in good.items() if k != name})
        inner = next((s for s in prop.get("anyOf", []) if s.get("type") != "null"), prop)
        if inner.get("type") == "string" and "format" not in inner and "enum" not in inner:
            bad_values.append({**good, name: " \t"})
            if "maxLength" in inner:
                bad_values.append({**good, name: "x" * (inner["maxLength"] + 1)})
        if inner.get("type") == "array" and inner.get("minItems"):
            bad_values.append({**good, name: []})
        if "minimum" in inner:
            bad_values.append({**good, name: inner["minimum"] - 1})
        if inner.get("format") == "date-time":
            bad_values.append({**good, name: "2026-01-31T09:30:00"})
        if "enum" in inner:
            bad_values.append({**good, name: "not-a-member"})
        bad_values.append({**good, name: {"wrong": "type"}})
    for bad in bad_values:
        assert not assert_agrees(action, bad), bad


# --- the date-time format --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # valid RFC 3339: must be accepted
        "2026-01-31T09:30:00Z",
        "2026-01-31T09:30:00+00:00",
        "2026-01-31T09:30:00-00:00",
        "2026-01-31T09:30:00.5+05:30",
        "2024-02-29T23:59:59.123456789-08:00",
        "2026-01-31t09:30:00Z",  # RFC 3339 5.6: "T" may be lower case
        "2026-01-31T09:30:00z",  # ... and so may "Z"
        "2026-01-31t09:30:00z",
        # not RFC 3339: must be refused
        "2026-01-31T09:30:00",
        "2026-01-31",
        "2026-02-30T09:30:00Z",
        "2026-13-01T09:30:00Z",
        "2026-01-31T24:00:00Z",
        "2026-01-31T09:30:00+24:00",
        "31/01/2026 09:30 UTC",
        "",
        "2026-01-31T09:30Z",  # no seconds
        "2026-01-31 09:30:00+00:00",  # space instead of T
        "20260131T093000Z",  # ISO 8601 basic format
        "2026-01-31X09:30:00Z",  # any character as the separator
        "2026-W05-6T09:30:00Z",  # ISO week date
        "2026-01-31T09:30:00+0000",  # offset without colon
        "2026-01-31T09:30:00+05",  # offset without minutes
        "2026-01-31T09:30:00,5Z",  # decimal comma
    ],
)
def test_date_time_strings_follow_rfc3339(text: str) -> None:
    """The schema says "format": "date-time" (RFC 3339); the codec must mean the same."""
    record, errors = load(ev.ImmediateRemedy, {"action": "Credit issued", "taken_at": text})
    expected = is_rfc3339(text)
    assert (not errors) == expected, (
        f"{text!r} is {'valid' if expected else 'not valid'} RFC 3339, but the codec "
        f"{'refused it: ' + str(errors) if errors else 'accepted it'}"
    )
    if expected:
        assert isinstance(record, ev.ImmediateRemedy)
        assert record.taken_at.utcoffset() is not None
    else:
        assert [path for path, _ in errors] == ["taken_at"]


def test_date_time_strings_are_not_type_checked_only() -> None:
    schema = record_codec(ev.ImmediateRemedy).schema()
    assert schema["properties"]["taken_at"]["type"] == "string"
    assert schema["properties"]["taken_at"]["format"] == "date-time"


# --- huge numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "value", "field"),
    [
        (ev.ClosingEvaluation, {"minutes_taken": 10**400, "how_it_went": "Fine."}, "minutes_taken"),
        (ev.SolutionDecision, {"solution": "Refund", "answers": "Loss", "value": 10**400}, "value"),
        (ev.SolutionDecision, {"solution": "Refund", "answers": "Loss", "value": -(10**400)}, "value"),
    ],
    ids=["int-field", "float-field", "float-field-negative"],
)
def test_huge_integers_are_checked_not_crashing(cls: type, value: dict, field: str) -> None:
    """json.loads turns a long digit string into an int; the codec must answer, not crash."""
    errors: list[tuple[str, str]] = []
    record = record_codec(cls).load(value, "", errors)  # must not raise OverflowError
    schema_valid = validator_for(record_codec(cls).schema()).is_valid(value)
    if errors:
        assert [p for p, _ in errors] == [field]
        assert record is INVALID
    else:
        assert schema_valid
        assert isinstance(record, cls)
    if cls is ev.ClosingEvaluation:
        # Beyond 2**53 - 1 an integer is refused by the schema and the codec alike.
        assert not schema_valid
        assert errors == [("minutes_taken", "must be between -(2**53 - 1) and 2**53 - 1")]


# --- 2. round trip -------------------------------------------------------------------


@pytest.mark.parametrize(("key", "action"), AGREEMENT_ACTIONS, ids=ACTION_IDS)
@given(data=st.data())
def test_round_trip(key: str, action: resolveflow.Action, data) -> None:
    cls = action.evidence
    codec = record_codec(cls)
    value = data.draw(from_schema(action.evidence_schema()))
    record = load_ok(cls, value)
    dumped = codec.dump(record)
    text = json.dumps(dumped, allow_nan=False, sort_keys=True)
    assert json.loads(text) == dumped
    again = load_ok(cls, json.loads(text))
    assert again == record
    assert codec.dump(again) == dumped  # stable: a second trip changes nothing
    assert json.dumps(codec.dump(again), allow_nan=False, sort_keys=True) == text
    assert list(dumped) == [f.name for f in attrs.fields(cls)]  # every field, in order
    # A typed instance goes through the same checks and comes out equal.
    assert load_ok(cls, record) == record
    assert validator_for(action.evidence_schema()).is_valid(dumped)


def test_dump_is_canonical_json() -> None:
    record = load_ok(
        ev.Plan,
        {
            "items": [{"id": "a", "description": "Refund", "due": "2026-02-01T10:00:00Z"}],
            "agreed_with": "Ms Smith",
        },
    )
    assert record.items == (
        ev.PlanItem(id="a", description="Refund", due=dt.datetime(2026, 2, 1, 10, 0, tzinfo=dt.UTC)),
    )
    assert record_codec(ev.Plan).dump(record) == {
        "items": [{"id": "a", "description": "Refund", "due": "2026-02-01T10:00:00+00:00"}],
        "agreed_with": "Ms Smith",
    }
    cause = load_ok(ev.CauseAssessment, {"cause": "miscommunication", "findings": "F", "lesson": "L"})
    assert cause.cause is ev.CauseCategory.MISCOMMUNICATION
    assert record_codec(ev.CauseAssessment).dump(cause)["cause"] == "miscommunication"


def test_numbers_are_normalised_by_field_type() -> None:
    closing = load_ok(ev.ClosingEvaluation, {"minutes_taken": 3.0, "how_it_went": "Well."})
    assert closing.minutes_taken == 3
    assert type(closing.minutes_taken) is int
    assert type(record_codec(ev.ClosingEvaluation).dump(closing)["minutes_taken"]) is int
    decision = load_ok(ev.SolutionDecision, {"solution": "S", "answers": "A", "value": 12})
    assert type(decision.value) is float
    assert record_codec(ev.SolutionDecision).dump(decision)["value"] == 12.0


def test_optional_fields_dump_as_null() -> None:
    account = load_ok(ev.CustomerAccount, {"summary": "Late parcel."})
    assert account.desired_outcome is None
    assert record_codec(ev.CustomerAccount).dump(account) == {
        "summary": "Late parcel.",
        "desired_outcome": None,
    }
    assert load_ok(ev.CustomerAccount, {"summary": "Late parcel.", "desired_outcome": None}) == account


# --- 3. the schemas themselves ------------------------------------------------------------


def _field_types(cls: type) -> dict[str, typing.Any]:
    return typing.get_type_hints(cls)


def _nested_record(annotation: typing.Any) -> type | None:
    """The record class inside ``X``, ``X | None`` or ``tuple[X, ...]``, if any."""
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and attrs.has(arg):
            return arg
    return None


def _check_object_schema(cls: type, schema: Mapping[str, typing.Any], where: str) -> None:
    assert schema["type"] == "object", where
    assert schema["additionalProperties"] is False, where
    assert isinstance(schema["title"], str), where
    assert schema["title"].strip(), where
    fields = attrs.fields(cls)
    assert list(schema["properties"]) == [f.name for f in fields], where
    assert schema["required"] == [f.name for f in fields if f.default is attrs.NOTHING], where
    assert set(schema["required"]) <= set(schema["properties"]), where
    hints = _field_types(cls)
    for f in fields:
        prop = schema["properties"][f.name]
        meta = f.metadata.get(METADATA_KEY, {})
        assert isinstance(prop["title"], str), f"{where}.{f.name}"
        assert prop["title"].strip(), f"{where}.{f.name}"
        if "title" in meta:
            assert prop["title"] == meta["title"]
        if "description" in meta:
            assert prop["description"] == meta["description"]
        nested = _nested_record(hints[f.name])
        if nested is not None:
            node = prop.get("items", prop)
            _check_object_schema(nested, node, f"{where}.{f.name}")


@pytest.mark.parametrize(("key", "action"), EVIDENCE_ACTIONS, ids=[k for k, _ in EVIDENCE_ACTIONS])
def test_builtin_evidence_schemas_are_valid_draft_2020_12(key: str, action: resolveflow.Action) -> None:
    schema = action.evidence_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == JSONSCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
    assert json.loads(json.dumps(schema)) == schema  # plain JSON data
    _check_object_schema(action.evidence, schema, key)
    doc = action.evidence.__doc__.strip().split("\n\n")[0].replace("\n", " ")
    assert schema["description"] == doc


def test_custom_record_schema_is_valid_and_complete() -> None:
    schema = REFUND_ACTION.evidence_schema()
    Draft202012Validator.check_schema(schema)
    _check_object_schema(Refund, schema, "Refund")


def test_schemas_are_fresh_copies() -> None:
    first = record_codec(ev.Plan).schema()
    first["properties"]["items"]["items"]["properties"].clear()
    first["required"].append("bogus")
    second = record_codec(ev.Plan).schema()
    assert set(second["properties"]["items"]["items"]["properties"]) == {"id", "description", "due"}
    assert "bogus" not in second["required"]


def test_schema_of_every_builtin_action_is_stable() -> None:
    for _, action in [*EVIDENCE_ACTIONS, *NO_EVIDENCE_ACTIONS]:
        assert action.evidence_schema() == action.evidence_schema()


# --- 4. error reporting -----------------------------------------------------------------

_DUE = "2026-02-01T10:00:00Z"


def test_nested_error_paths() -> None:
    _, errors = load(
        ev.Plan,
        {
            "items": [
                {"id": "a", "description": "Refund", "due": _DUE},
                {"id": "b", "description": "Call back"},
            ],
            "agreed_with": "Ms Smith",
        },
    )
    assert errors == [("items[1].due", "is required")]


def test_several_errors_are_reported_at_once() -> None:
    _, errors = load(
        ev.Plan,
        {
            "items": [
                {"id": "a", "description": "   ", "due": _DUE},
                {"id": "b", "description": "Call back", "due": "2026-02-01T10:00:00"},
                {"description": "Visit", "due": _DUE, "colour": "red"},
            ],
            "agreed_with": "",
            "signed": True,
        },
    )
    found = messages(errors)
    assert set(found) == {
        "signed",
        "items[0].description",
        "items[1].due",
        "items[2].colour",
        "items[2].id",
        "agreed_with",
    }
    assert found["items[0].description"] == "must not be blank"
    assert "time zone" in found["items[1].due"]
    assert found["items[2].id"] == "is required"
    assert found["agreed_with"] == "must not be blank"


def test_errors_from_fire_carry_paths(clock) -> None:
    case = _case_at_agree(clock)
    with pytest.raises(resolveflow.InvalidEvidence) as caught:
        case.fire(
            "agree_plan",
            {"items": [{"id": "a", "description": "x", "due": _DUE}, {"id": "b", "due": _DUE}]},
            actor="ana",
        )
    error = caught.value
    assert error.action == "agree_plan"
    assert set(error.paths) == {"items[1].description", "agreed_with"}
    assert error.paths == tuple(p for p, _ in error.errors)
    assert "items[1].description: is required" in str(error)
    assert case.step == "agree"
    assert len(case.history) == 4


def test_check_reports_invalid_evidence_without_changing_anything(clock) -> None:
    case = _case_at_agree(clock)
    decision = case.check("agree_plan", {"items": [], "agreed_with": " "})
    assert not decision.allowed
    assert [r.code for r in decision.refusals] == ["invalid_evidence"]
    assert set(decision.refusals[0].missing) == {"items", "agreed_with"}
    assert len(case.history) == 4


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\u00a0\u2003", "\u3000"])
def test_blank_strings_are_refused(blank: str) -> None:
    _, errors = load(ev.Handoff, {"to": blank, "reason": "Holiday"})
    assert errors == [("to", "must not be blank")]
    _, errors = load(ev.Grievances, {"points": ["late", blank], "customer_finished": True})
    assert errors == [("points[1]", "must not be blank")]


def test_text_with_surrounding_space_is_kept() -> None:
    assert load_ok(ev.Handoff, {"to": " Bo ", "reason": "Holiday"}).to == " Bo "


def test_max_length_counts_characters() -> None:
    assert load_ok(ev.PlanItem, {"id": "é" * 64, "description": "d", "due": _DUE}).id == "é" * 64
    _, errors = load(ev.PlanItem, {"id": "é" * 65, "description": "d", "due": _DUE})
    assert errors == [("id", "must be at most 64 characters")]


@pytest.mark.parametrize(
    "naive", ["2026-01-31T09:30:00", "2026-01-31", dt.datetime(2026, 1, 31, 9, 30)], ids=str
)
def test_naive_date_times_are_refused(naive: object) -> None:
    _, errors = load(ev.ImmediateRemedy, {"action": "Credit", "taken_at": naive})
    assert [p for p, _ in errors] == ["taken_at"]
    assert "time zone" in errors[0][1]


def test_aware_datetime_objects_are_accepted() -> None:
    when = dt.datetime(2026, 1, 31, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert load_ok(ev.ImmediateRemedy, {"action": "Credit", "taken_at": when}).taken_at == when


@pytest.mark.parametrize("value", ["soon", 20260131, None, ["2026-01-31T09:30:00Z"]], ids=repr)
def test_non_date_times_are_refused(value: object) -> None:
    _, errors = load(ev.ImmediateRemedy, {"action": "Credit", "taken_at": value})
    assert [p for p, _ in errors] == ["taken_at"]
    assert "date-time" in errors[0][1]


@pytest.mark.parametrize("value", [True, False])
def test_bool_is_not_an_int(value: bool) -> None:
    _, errors = load(ev.ClosingEvaluation, {"minutes_taken": value, "how_it_went": "Well."})
    assert errors == [("minutes_taken", "expected an integer, got a boolean")]
    _, errors = load(ev.SolutionDecision, {"solution": "S", "answers": "A", "value": value})
    assert errors == [("value", "expected a number, got a boolean")]


def test_integral_float_is_an_int_but_fraction_is_not() -> None:
    assert load_ok(ev.ClosingEvaluation, {"minutes_taken": 3.0, "how_it_went": "Well."}).minutes_taken == 3
    _, errors = load(ev.ClosingEvaluation, {"minutes_taken": 3.5, "how_it_went": "Well."})
    assert [p for p, _ in errors] == ["minutes_taken"]
    assert "integer" in errors[0][1]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=repr)
def test_non_finite_numbers_are_refused(value: float) -> None:
    _, errors = load(ev.SolutionDecision, {"solution": "S", "answers": "A", "value": value})
    assert [p for p, _ in errors] == ["value"]
    assert "non-finite" in errors[0][1]


def test_minimum_is_inclusive() -> None:
    assert load_ok(ev.ClosingEvaluation, {"minutes_taken": 0, "how_it_went": "W"}).minutes_taken == 0
    _, errors = load(ev.ClosingEvaluation, {"minutes_taken": -1, "how_it_went": "W"})
    assert errors == [("minutes_taken", "must be at least 0")]
    _, errors = load(ev.SolutionDecision, {"solution": "S", "answers": "A", "value": -0.01})
    assert errors == [("value", "must be at least 0")]


def test_enum_errors_list_allowed_values() -> None:
    _, errors = load(ev.CauseAssessment, {"cause": "weather", "findings": "F", "lesson": "L"})
    assert [p for p, _ in errors] == ["cause"]
    message = errors[0][1]
    for member in ev.CauseCategory:
        assert repr(member.value) in message
    assert "'weather'" in message


def test_enum_accepts_members_and_values_only() -> None:
    cls = ev.PreventionMeasure
    assert load_ok(cls, {"kind": "training", "description": "D"}).kind is ev.PreventionKind.TRAINING
    typed = load_ok(cls, {"kind": ev.PreventionKind.TRAINING, "description": "D"})
    assert typed.kind is ev.PreventionKind.TRAINING
    for wrong in ["TRAINING", "Training", "training ", ev.CauseCategory.MISCOMMUNICATION, 1]:
        _, errors = load(cls, {"kind": wrong, "description": "D"})
        assert [p for p, _ in errors] == ["kind"], wrong


def test_unexpected_field_lists_known_fields() -> None:
    _, errors = load(ev.Apology, {"statement": "Sorry.", "tone": "warm"})
    assert [p for p, _ in errors] == ["tone"]
    assert "unexpected field" in errors[0][1]
    assert "admits_fault" in errors[0][1]
    assert "statement" in errors[0][1]


def test_unexpected_nested_field_has_nested_path() -> None:
    _, errors = load(
        ev.Plan,
        {"items": [{"id": "a", "description": "d", "due": _DUE, "owner": "bo"}], "agreed_with": "x"},
    )
    assert [p for p, _ in errors] == ["items[0].owner"]
    assert "due" in errors[0][1]


@pytest.mark.parametrize(
    ("value", "word"),
    [(None, "null"), ([], "array"), ("plan", "string"), (3, "number"), (True, "boolean")],
    ids=repr,
)
def test_wrong_type_messages_name_what_was_given(value: object, word: str) -> None:
    _, errors = load(ev.Plan, value)
    assert [p for p, _ in errors] == [""]
    assert word in errors[0][1]
    if not isinstance(value, list):
        _, errors = load(ev.Plan, {"items": value, "agreed_with": "x"})
        assert [p for p, _ in errors] == ["items"]
        assert word in errors[0][1]


def test_missing_required_and_bad_optional_fields() -> None:
    _, errors = load(ev.LiabilityReview, {"notes": "   "})
    assert messages(errors) == {
        "reviewer": "is required",
        "company_at_fault": "is required",
        "notes": "must not be blank",
    }


def test_array_length_limits() -> None:
    _, errors = load(ev.Grievances, {"points": [], "customer_finished": True})
    assert errors == [("points", "needs at least 1 item(s)")]
    record = load_ok(Refund, _refund_json(tags=["a", "b", "c"]))
    assert record.tags == ("a", "b", "c")
    _, errors = load(Refund, _refund_json(tags=["a", "b", "c", "d"]))
    assert errors == [("tags", "allows at most 3 item(s)")]


# --- 5. typed records passed to fire ------------------------------------------------------


def _case_at_agree(clock) -> resolveflow.Case:
    case = resolveflow.open_case(
        resolveflow.get_methodology("seven-as", "1.0"), case_id="schema-test", clock=clock
    )
    case.fire("acknowledge_feelings", {"feelings": "Frustrated."}, actor="ana")
    case.fire("hear_grievances", {"points": ["Late parcel"], "customer_finished": True}, actor="ana")
    case.fire("give_apology", ev.Apology(statement="We are sorry."), actor="ana")
    case.fire("give_assurance", {"commitment": "We will fix it."}, actor="ana")
    assert case.step == "agree"
    return case


def test_typed_record_with_too_few_items_is_refused(clock) -> None:
    case = _case_at_agree(clock)
    with pytest.raises(resolveflow.InvalidEvidence) as caught:
        case.fire("agree_plan", ev.Plan(items=(), agreed_with="x"), actor="ana")
    assert caught.value.errors == (("items", "needs at least 1 item(s)"),)
    assert case.step == "agree"
    assert len(case.history) == 4


@pytest.mark.parametrize(
    ("plan", "paths"),
    [
        (
            ev.Plan(
                items=(ev.PlanItem(id="a", description="d", due=dt.datetime(2026, 2, 1, 10)),),
                agreed_with="x",
            ),
            {"items[0].due"},
        ),
        (
            ev.Plan(
                items=(ev.PlanItem(id=" ", description="d" * 1001, due=dt.datetime(2026, 2, 1, 10)),),
                agreed_with="",
            ),
            {"items[0].id", "items[0].description", "items[0].due", "agreed_with"},
        ),
        (ev.Plan(items=("not an item",), agreed_with="x"), {"items[0]"}),
        (ev.Plan(items=[{"id": "a", "description": "d"}], agreed_with=7), {"items[0].due", "agreed_with"}),
    ],
    ids=["naive-due", "many-problems", "wrong-item-type", "json-inside-typed"],
)
def test_typed_records_are_validated_like_json(clock, plan: ev.Plan, paths: set[str]) -> None:
    case = _case_at_agree(clock)
    with pytest.raises(resolveflow.InvalidEvidence) as caught:
        case.fire("agree_plan", plan, actor="ana")
    assert set(caught.value.paths) == paths
    assert len(case.history) == 4


def test_valid_typed_record_fires_and_is_stored_canonically(clock) -> None:
    case = _case_at_agree(clock)
    due = clock.now + dt.timedelta(days=2)
    plan = ev.Plan(items=(ev.PlanItem(id="a", description="Refund", due=due),), agreed_with="Ms Smith")
    entry = case.fire("agree_plan", plan, actor="ana")
    assert case.step == "act"
    assert entry.evidence == plan
    assert entry.evidence_json == record_codec(ev.Plan).dump(plan)
    assert entry.evidence_json["items"][0]["due"] == due.isoformat()


def test_typed_record_of_another_type_is_refused(clock) -> None:
    case = _case_at_agree(clock)
    with pytest.raises(resolveflow.InvalidEvidence) as caught:
        case.fire("agree_plan", ev.Apology(statement="Sorry."), actor="ana")
    assert caught.value.paths == ("",)
    assert "Plan" in caught.value.errors[0][1]
    assert "Apology" in caught.value.errors[0][1]


@pytest.mark.parametrize("value", [None, [], "plan", 3])
def test_fire_refuses_evidence_that_is_not_an_object(clock, value: object) -> None:
    case = _case_at_agree(clock)
    with pytest.raises(resolveflow.InvalidEvidence) as caught:
        case.fire("agree_plan", value, actor="ana")
    assert caught.value.paths == ("",)
    assert len(case.history) == 4


def test_typed_path_of_codec_matches_json_path() -> None:
    plan = ev.Plan(items=(), agreed_with="x")
    assert load(ev.Plan, plan)[1] == load(ev.Plan, {"items": [], "agreed_with": "x"})[1]
    assert load(ev.Plan, plan)[1] == [("items", "needs at least 1 item(s)")]


# --- 6. custom records ------------------------------------------------------------------------


def _refund_json(**changes: typing.Any) -> dict[str, typing.Any]:
    base = {
        "amount": 12.5,
        "parcels": 2,
        "reference": "R-1",
        "tags": ["late"],
        "colour": "red",
        "when": "2026-01-31T09:30:00+01:00",
        "address": {"street": "1 High St"},
    }
    return {**base, **changes}


def _contains(actual: Mapping[str, typing.Any], expected: Mapping[str, typing.Any]) -> None:
    for key, value in expected.items():
        assert key in actual, f"missing {key!r} in {actual}"
        assert actual[key] == value, f"{key!r}: {actual[key]!r} != {value!r}"


def test_custom_record_schema_keywords() -> None:
    schema = record_codec(Refund).schema()
    props = schema["properties"]
    assert schema["title"] == "Refund"
    assert schema["description"] == "A refund issued to the customer."
    assert schema["required"] == ["amount", "parcels", "reference", "tags", "colour", "when", "address"]
    _contains(
        props["amount"],
        {"type": "number", "minimum": 0, "maximum": 500, "title": "Amount", "description": "Money returned."},
    )
    _contains(props["parcels"], {"type": "integer", "minimum": 1, "maximum": 3, "title": "Parcels"})
    _contains(
        props["reference"],
        {"type": "string", "maxLength": 8, "title": "Reference", "description": "Payment reference"},
    )
    _contains(props["tags"], {"type": "array", "minItems": 1, "maxItems": 3, "title": "Tags"})
    _contains(props["tags"]["items"], {"type": "string"})
    _contains(props["colour"], {"type": "string", "enum": ["red", "green"], "title": "Colour"})
    _contains(props["when"], {"type": "string", "format": "date-time", "title": "When"})
    _contains(
        props["address"],
        {
            "type": "object",
            "title": "Address",
            "description": "A postal address.",
            "required": ["street"],
            "additionalProperties": False,
        },
    )
    _contains(
        props["address"]["properties"]["street"], {"type": "string", "maxLength": 40, "title": "Street"}
    )
    _contains(
        props["address"]["properties"]["lines"], {"type": "array", "maxItems": 2, "title": "Extra lines"}
    )
    assert "minItems" not in props["address"]["properties"]["lines"]
    _contains(props["stops"]["items"], {"type": "object", "title": "Postal address", "required": ["street"]})
    assert props["note"]["title"] == "Note"
    note_types = {s["type"]: s for s in props["note"]["anyOf"]}
    assert set(note_types) == {"string", "null"}
    assert note_types["string"]["maxLength"] == 5
    hint_types = {s["type"]: s for s in props["count_hint"]["anyOf"]}
    assert set(hint_types) == {"integer", "null"}
    assert hint_types["integer"]["minimum"] == 0
    assert props["count_hint"]["title"] == "Count hint"
    _contains(props["urgent"], {"type": "boolean", "title": "Urgent"})
    _contains(props["plain"], {"type": "string", "title": "Plain"})
    for name in ("urgent", "plain", "parcels", "tags", "colour", "when"):
        assert "description" not in props[name]
    for name in ("reference", "note", "plain", "colour", "when", "urgent", "tags"):
        assert "minimum" not in props[name]
        assert "maximum" not in props[name]


def test_custom_record_limits_are_enforced() -> None:
    record = load_ok(Refund, _refund_json(amount=500, parcels=3, reference="12345678"))
    assert record.amount == 500.0
    assert record.address == PostalAddress(street="1 High St")
    assert record.when == dt.datetime(2026, 1, 31, 8, 30, tzinfo=dt.UTC)
    cases = {
        "amount": (500.01, "must be at most 500"),
        "parcels": (0, "must be at least 1"),
        "reference": ("123456789", "must be at most 8 characters"),
        "tags": ([], "needs at least 1 item(s)"),
        "note": ("abcdef", "must be at most 5 characters"),
        "count_hint": (-1, "must be at least 0"),
    }
    for name, (value, message) in cases.items():
        _, errors = load(Refund, _refund_json(**{name: value}))
        assert errors == [(name, message)], name
    _, errors = load(Refund, _refund_json(address={"street": "x", "lines": ["a", "b", "c"]}))
    assert errors == [("address.lines", "allows at most 2 item(s)")]
    _, errors = load(Refund, _refund_json(stops=[{"street": "x"}, {}]))
    assert errors == [("stops[1].street", "is required")]


def test_record_title_override_and_defaults() -> None:
    @attrs.frozen(kw_only=True)
    class CallBackNote:
        text: str = ev.field(max_length=10)

    schema = record_codec(CallBackNote).schema()
    assert schema["title"] == "Call back note"
    assert "description" not in schema
    assert schema["properties"]["text"]["title"] == "Text"

    @attrs.frozen(kw_only=True)
    class Named:
        """Doc."""

        __evidence_title__ = "Custom title"
        text: str = ev.field()

    assert record_codec(Named).schema()["title"] == "Custom title"


@attrs.frozen(kw_only=True)
class _Validated:
    """A record whose own validator has the last word."""

    start: int = ev.field(minimum=0)
    end: int = ev.field(minimum=0)

    @end.validator
    def _after_start(self, attribute: attrs.Attribute, value: int) -> None:
        if value < self.start:
            raise ValueError("end must not be before start")


def test_record_validators_report_errors() -> None:
    assert load_ok(_Validated, {"start": 1, "end": 2}) == _Validated(start=1, end=2)
    _, errors = load(_Validated, {"start": 3, "end": 2})
    assert errors == [("", "end must not be before start")]
    _, errors = load(ev.Plan, {"items": [], "agreed_with": "x"})
    assert errors  # the codec's own checks run before the class is built


@attrs.frozen(kw_only=True)
class WithPrivate:
    """A record with a private attribute (attrs strips the underscore in __init__)."""

    _code: str = ev.field(title="Code")


@attrs.frozen(kw_only=True)
class WithAlias:
    """A record whose field has an explicit attrs alias."""

    code: str = attrs.field(alias="reference", metadata={METADATA_KEY: {"title": "Code"}})


@pytest.mark.parametrize("cls", [WithPrivate, WithAlias])
def test_records_with_aliased_fields_load_what_their_schema_describes(cls: type) -> None:
    """Either refuse such a record at definition time, or accept the JSON its schema allows."""
    try:
        codec = record_codec(cls)
    except resolveflow.exceptions.InvalidMethodology:
        return
    schema = codec.schema()
    sample = dict.fromkeys(schema["required"], "abc")
    assert validator_for(schema).is_valid(sample)
    record, errors = load(cls, sample)
    assert errors == []
    assert isinstance(record, cls)
    assert codec.dump(record) == sample


class NotARecord:
    """A plain class, no attrs."""

    text: str = "x"


class IntEnum(enum.Enum):
    ONE = 1
    TWO = 2


class MixedEnum(enum.Enum):
    A = "a"
    B = 2


def _record_with(annotation: typing.Any, name: str = "BadRecord") -> type:
    namespace = {"__annotations__": {"thing": annotation}, "__doc__": "Bad.", "__module__": __name__}
    return attrs.frozen(kw_only=True)(type(name, (), namespace))


@pytest.mark.parametrize(
    "annotation",
    [
        dict,
        list,
        dict[str, int],
        list[str],
        set[str],
        int | str,
        typing.Union[int, str],  # noqa: UP007
        int | str | None,
        tuple[int, str],
        tuple[int],
        tuple,
        bytes,
        object,
        typing.Any,
        NotARecord,
        IntEnum,
        MixedEnum,
        tuple[dict, ...],
        dict | None,
    ],
    ids=repr,
)
def test_unsupported_field_types_are_refused(annotation: typing.Any) -> None:
    cls = _record_with(annotation)
    with pytest.raises(resolveflow.exceptions.InvalidMethodology) as caught:
        record_codec(cls)
    assert "BadRecord" in str(caught.value)
    assert "'thing'" in str(caught.value)
    assert "BadRecord" in caught.value.where
    with pytest.raises(resolveflow.exceptions.InvalidMethodology):
        resolveflow.Action(name="bad", sources="s", target=None, title="Bad", evidence=cls)


def test_enum_with_non_string_values_names_the_enum() -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="IntEnum"):
        record_codec(_record_with(IntEnum))


def test_unsupported_nested_record_names_the_inner_record() -> None:
    inner = _record_with(dict, name="InnerBad")
    outer = _record_with(tuple[inner, ...], name="OuterRecord")
    with pytest.raises(resolveflow.exceptions.InvalidMethodology) as caught:
        record_codec(outer)
    assert "InnerBad" in str(caught.value)
    assert "'thing'" in str(caught.value)


def test_unresolvable_annotation_is_refused() -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="BadRecord"):
        record_codec(_record_with("NoSuchType"))


@pytest.mark.parametrize("not_a_class", [NotARecord, ev.Apology(statement="Sorry."), 5, "Plan", None])
def test_evidence_must_be_an_attrs_class(not_a_class: object) -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="attrs class"):
        record_codec(not_a_class)
    if not_a_class is not None:  # None means "records nothing" to an Action
        with pytest.raises(resolveflow.exceptions.InvalidMethodology):
            resolveflow.Action(name="bad", sources="s", target=None, title="Bad", evidence=not_a_class)


def test_non_attrs_class_is_named() -> None:
    with pytest.raises(resolveflow.exceptions.InvalidMethodology, match="NotARecord"):
        record_codec(NotARecord)


def test_supported_types_compile() -> None:
    class Fine(enum.Enum):
        X = "x"

    for annotation in [str, int, float, bool, dt.datetime, Fine, ev.PlanItem, tuple[int, ...], str | None]:
        codec = record_codec(_record_with(annotation, name="GoodRecord"))
        assert [f.name for f in codec.fields] == ["thing"]


# --- 8. actions without evidence -------------------------------------------------------------


def _case_rescheduled(clock) -> resolveflow.Case:
    case = resolveflow.open_case(
        resolveflow.get_methodology("seven-as", "1.0"), case_id="no-evidence", clock=clock
    )
    case.fire("acknowledge_feelings", {"feelings": "Angry."}, actor="ana")
    case.fire("hear_grievances", {"points": ["Rude driver"], "customer_finished": True}, actor="ana")
    case.fire("give_apology", {"statement": "Sorry."}, actor="ana")
    resume_at = (clock.now + dt.timedelta(hours=3)).isoformat()
    case.fire("reschedule", {"resume_at": resume_at, "reason": "Too upset."}, actor="ana")
    assert case.step == "rescheduled"
    return case


@pytest.mark.parametrize(("key", "action"), NO_EVIDENCE_ACTIONS, ids=[k for k, _ in NO_EVIDENCE_ACTIONS])
def test_no_evidence_schema_is_an_empty_object(key: str, action: resolveflow.Action) -> None:
    schema = action.evidence_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == JSONSCHEMA_DIALECT
    assert schema["type"] == "object"
    assert schema["properties"] == {}
    assert schema["additionalProperties"] is False
    assert schema.get("required", []) == []
    validator = validator_for(schema)
    assert validator.is_valid({})
    assert not validator.is_valid({"x": 1})
    assert not validator.is_valid([])
    assert _load_evidence(action, {}) == (None, None, [])
    assert _load_evidence(action, None) == (None, None, [])
    assert _load_evidence(action, {"x": 1})[2]


@pytest.mark.parametrize("nothing", [None, {}], ids=repr)
def test_no_evidence_action_accepts_nothing(clock, nothing: object) -> None:
    case = _case_rescheduled(clock)
    entry = case.fire("resume", nothing, actor="ana")
    assert case.step == "assure"
    assert entry.evidence is None
    assert entry.evidence_json is None


@pytest.mark.parametrize(
    "something", [{"x": 1}, {"": None}, [], "note", ev.Apology(statement="Sorry.")], ids=repr
)
def test_no_evidence_action_refuses_evidence(clock, something: object) -> None:
    case = _case_rescheduled(clock)
    with pytest.raises(resolveflow.InvalidEvidence) as caught:
        case.fire("resume", something, actor="ana")
    assert caught.value.action == "resume"
    assert caught.value.paths == ("",)
    assert case.step == "rescheduled"
    assert case.check("resume").allowed
    assert not case.check("resume", {"x": 1}).allowed


def test_no_evidence_action_description_goes_into_schema() -> None:
    action = resolveflow.Action(
        name="wait", sources="s", target=None, title="Wait", description="Nothing to record."
    )
    schema = action.evidence_schema()
    assert schema["description"] == "Nothing to record."
    assert schema["properties"] == {}


def test_no_evidence_schemas_do_not_share_state() -> None:
    """A caller decorating one schema (say, adding a UI-only field) must not change the next one."""
    _, action = NO_EVIDENCE_ACTIONS[0]
    first = action.evidence_schema()
    try:
        first["properties"]["ui_comment"] = {"type": "string"}
        second = action.evidence_schema()
        assert second["properties"] == {}
    finally:
        first["properties"].pop("ui_comment", None)
    assert action.evidence_schema()["properties"] == {}


# --- helpers used above ------------------------------------------------------------------------


def _example_value(annotation: typing.Any, meta: Mapping[str, typing.Any]) -> typing.Any:
    """A valid value for a field: the smallest allowed number, one item per list."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return _example_value(next(a for a in args if a is not type(None)), meta)
    if origin is tuple:
        return (_example_value(args[0], {}),)
    if annotation is bool:
        return True
    if annotation is int:
        return int(meta.get("minimum", 7))
    if annotation is float:
        return float(meta.get("minimum", 7.5))
    if annotation is str:
        return "x"
    if annotation is dt.datetime:
        return dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation))
    return _minimal_record(annotation)


def _minimal_record(cls: type) -> typing.Any:
    hints = typing.get_type_hints(cls)
    return cls(
        **{
            f.alias: _example_value(hints[f.name], f.metadata.get(METADATA_KEY, {}))
            for f in attrs.fields(cls)
        }
    )


def test_offsets_with_seconds_are_refused_so_every_case_restores(clock: FakeClock) -> None:
    case = resolveflow.open_case(resolveflow.get_methodology("seven-as", "1.0"), case_id="O-1", clock=clock)
    case.fire("acknowledge_feelings", {"feelings": "upset"}, actor="a")
    case.fire("hear_grievances", {"points": ["x"], "customer_finished": True}, actor="a")
    case.fire("give_apology", {"statement": "sorry"}, actor="a")
    odd = dt.timezone(dt.timedelta(hours=1, seconds=30))
    with pytest.raises(resolveflow.InvalidEvidence, match="whole minutes"):
        case.fire(
            "reschedule", {"resume_at": dt.datetime(2026, 2, 1, 9, tzinfo=odd), "reason": "x"}, actor="a"
        )
    assert resolveflow.restore(case.snapshot()).step == "assure"
