# evidence.field() returns an attrs field: calling it in a class body is the point.
"""_fast_evidence.load_dump, the fast path of evidence validation, held to the slow path it skips.

The contract: whenever ``load_dump`` answers ``(record, data)``, ``load`` would have
reported no error for the same value, built an equal record, and dumped it to the
same JSON, number types included; otherwise it answers None and the slow path
decides (and words the errors). The properties run over every record class in
``resolveflow.evidence`` and over local classes that use every field kind, limits,
aliases, defaults, validators and converters. Valid records and their canonical
JSON must take the fast path, so the properties cannot pass by always answering None.
"""

from __future__ import annotations

import copy
import datetime as dt
import enum
import json
import math
import pathlib
import re
import typing
import zoneinfo

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import resolveflow
from resolveflow import Action, Methodology, Outcome, Step
from resolveflow import evidence as ev
from resolveflow._fast_evidence import CANONICAL_DATETIME, load_dump
from resolveflow._schema import INVALID, RecordCodec, parse_rfc3339, record_codec

# --- local records: every field kind, limits, and the unusual class shapes --------------------

# Each property runs once per record class (33 of them), so every property still
# sees about a thousand examples; the profile's count per class would make this
# file alone take minutes under CI.
_PER_CLASS = settings(max_examples=30)


class Mood(enum.Enum):
    CALM = "calm"
    ANGRY = "angry"


class Tone(enum.StrEnum):
    SOFT = "soft"
    LOUD = "loud"


@attrs.frozen(kw_only=True)
class Stop:
    """A nested record."""

    place: str = ev.field(max_length=12)
    at: dt.datetime | None = ev.field(default=None)


@attrs.frozen(kw_only=True)
class Everything:
    """Every field kind the codec supports, with limits."""

    count: int = ev.field(minimum=1, maximum=5)
    ratio: float = ev.field(minimum=-1.5, maximum=2.5)
    big: int = ev.field()
    flag: bool = ev.field()
    mood: Mood = ev.field()
    when: dt.datetime = ev.field()
    tags: tuple[str, ...] = ev.field(min_items=1, max_items=3)
    stop: Stop = ev.field()
    amount: float | None = ev.field(default=None, minimum=0)
    tone: Tone | None = None
    scores: tuple[float, ...] = ev.field(default=(), max_items=4)
    stops: tuple[Stop, ...] = ev.field(default=(), max_items=2)
    maybe_stop: Stop | None = None
    note: str | None = ev.field(default=None, max_length=5)
    plain: str = attrs.field(default="p")
    moods: tuple[Mood, ...] = ()
    times: tuple[dt.datetime, ...] = ev.field(default=(), max_items=2)


@attrs.frozen(kw_only=True)
class Aliased:
    """A field stored under another name, and a default from a factory."""

    _secret: str = ev.field(max_length=10)
    counts: tuple[int, ...] = attrs.field(factory=tuple)


@attrs.frozen(kw_only=True)
class Checked:
    """A record whose own validator has the last word."""

    low: int = ev.field()
    high: int = attrs.field()

    @high.validator
    def _check(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value < self.low:
            raise ValueError("high must be at least low")


@attrs.frozen
class Nothing:
    """A record without fields."""


@attrs.frozen(kw_only=True)
class Converted:
    """A converter changes what is stored: the fast path must stay out of it."""

    name: str = attrs.field(converter=str.strip)


@attrs.frozen(kw_only=True)
class Derived:
    """A field computed outside __init__: a typed record of it takes the slow path."""

    text: str = ev.field()
    length: int = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "length", len(self.text))


EVIDENCE_CLASSES = sorted(
    (obj for name in ev.__all__ if isinstance(obj := getattr(ev, name), type) and attrs.has(obj)),
    key=lambda cls: cls.__name__,
)
LOCAL_CLASSES = [Everything, Stop, Aliased, Checked, Nothing, Converted, Derived]
ALL_CLASSES = EVIDENCE_CLASSES + LOCAL_CLASSES
# Valid records and their canonical JSON take the fast path whatever the class's shape:
# Converted's converter and Derived's __attrs_post_init__ leave such values as they are.
JSON_FAST = ALL_CLASSES
TYPED_FAST = ALL_CLASSES


def _ids(classes: list[type]) -> list[str]:
    return [c.__name__ for c in classes]


def test_every_evidence_record_is_covered() -> None:
    # Guards against the parametrisations silently shrinking.
    assert len(EVIDENCE_CLASSES) >= 25
    assert ev.Plan in EVIDENCE_CLASSES
    assert ev.PlanItem in EVIDENCE_CLASSES
    assert ev.CauseCategory not in EVIDENCE_CLASSES


# --- the oracle: the slow path, and what agreement means ------------------------------------------


def slow(codec: RecordCodec, value: object) -> tuple[object, typing.Any] | None:
    errors: list[tuple[str, str]] = []
    record = codec.load(value, "", errors)
    if errors or record is INVALID:
        return None
    return record, codec.dump(record)


def _containers(value: object) -> list[object]:
    found: list[object] = []
    if isinstance(value, dict | list):
        found.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            found.extend(_containers(item))
    return found


def _as_json(data: object) -> str:
    return json.dumps(data, sort_keys=True, allow_nan=False)


def assert_agrees(codec: RecordCodec, value: object) -> bool:
    """load_dump answers None or exactly what the slow path gives; returns whether it answered."""
    before = None if attrs.has(type(value)) else copy.deepcopy(value)
    fast = load_dump(codec, value)
    if before is not None:
        # In lists, NaN (which deepcopy keeps as the same object) equals itself.
        assert [value] == [before], "load_dump must not change its input"
    expected = slow(codec, value)
    if fast is None:
        return False
    assert expected is not None, f"the fast path accepted {value!r}, which the slow path refuses"
    record, data = fast
    slow_record, slow_data = expected
    assert type(record) is codec.cls
    assert record == slow_record
    assert data == slow_data
    assert _as_json(data) == _as_json(slow_data), "same values, same JSON types"
    assert list(data) == list(slow_data), "keys in field order, as dump gives them"
    if type(value) is codec.cls:
        assert record is not value, "a typed record is rebuilt, as the slow path does"
    else:
        shared = {id(c) for c in _containers(value)} & {id(c) for c in _containers(data)}
        assert not shared, "the data must not share a dict or list with the caller's value"
    return True


# --- strategies: valid JSON from a record's schema, and ways to break it ---------------------------

WHITESPACE = " \t\n\r\x0b\x0c\x85\xa0\u2003\u2028\u3000"
FIXED_ZONES = st.one_of(
    st.just(dt.UTC),
    st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: dt.timezone(dt.timedelta(minutes=m))),
)
AWARE = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=FIXED_ZONES
)


@st.composite
def datetime_texts(draw: st.DrawFn) -> str:
    """RFC 3339 date-times: canonical isoformat() text, or a valid variant of it."""
    moment = draw(AWARE)
    text = moment.isoformat()
    variant = draw(st.sampled_from(["canonical", "Z", "lower", "fraction", "minus zero"]))
    base = moment.replace(tzinfo=None, microsecond=0).isoformat()
    offset = text[-6:]
    if variant == "Z" and offset == "+00:00":
        return base + draw(st.sampled_from(["Z", "z"]))
    if variant == "lower":
        return text.replace("T", "t")
    if variant == "fraction":
        return base + "." + draw(st.text("0123456789", min_size=1, max_size=9)) + offset
    if variant == "minus zero" and offset == "+00:00":
        return base + "-00:00"
    return text


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["", " ", "calm", "soft", "employee_conduct", "2026-01-05T09:00:00+00:00"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=5,
)


def _non_blank(text: str) -> bool:
    return re.search(r"\S", text) is not None


def _repeated(length: int) -> st.SearchStrategy[str]:
    """Non-blank text of an exact length, cheap to draw even when long."""
    return st.text(min_size=1, max_size=3).filter(_non_blank).map(lambda s: (s * length)[:length])


def from_schema(schema: typing.Mapping[str, typing.Any]) -> st.SearchStrategy[typing.Any]:
    """JSON the slow path accepts (record validators aside), canonical or not."""
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
        low, high = schema.get("minimum"), schema.get("maximum")
        integers = st.integers(
            -(10**30) if low is None else math.ceil(low), 10**30 if high is None else math.floor(high)
        )
        if kind == "integer":
            return integers | integers.filter(lambda i: abs(i) < 2**53).map(float)
        floats = st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
        return floats | integers  # an int in a float field: valid, but not canonical
    if kind == "string":
        if schema.get("format") == "date-time":
            return datetime_texts()
        limit = min(schema.get("maxLength", 30), 30)
        texts = st.text(min_size=1, max_size=limit) | st.text(
            st.characters(codec="ascii"), min_size=1, max_size=limit
        )
        if "maxLength" in schema:
            texts |= _repeated(schema["maxLength"])  # exactly at the limit
        return texts.filter(_non_blank)
    if kind == "array":
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 3), low + 3)
        return st.lists(from_schema(schema["items"]), min_size=low, max_size=high)
    if kind == "object":
        props, required = schema["properties"], set(schema["required"])
        return st.fixed_dictionaries(
            {k: from_schema(v) for k, v in props.items() if k in required},
            optional={k: from_schema(v) for k, v in props.items() if k not in required},
        )
    raise AssertionError(f"unknown schema {schema}")


def broken(schema: typing.Mapping[str, typing.Any]) -> st.SearchStrategy[typing.Any]:
    """Values meant to miss the schema in one way (some may still happen to fit)."""
    if "anyOf" in schema:
        return broken(next(s for s in schema["anyOf"] if s.get("type") != "null"))
    options: list[st.SearchStrategy[typing.Any]] = [JSON_VALUES]
    kind = schema.get("type")
    if "enum" in schema:
        options += [st.sampled_from(schema["enum"]).map(str.upper), st.sampled_from(list(Mood))]
    elif schema.get("format") == "date-time":
        options += [
            AWARE.map(lambda d: d.replace(tzinfo=None).isoformat()),  # naive
            AWARE.map(lambda d: d.isoformat()[:10]),  # a date
            AWARE.map(lambda d: d.isoformat().replace("-", "/", 1)),
            st.sampled_from(
                ["2026-02-30T09:00:00+00:00", "2026-01-05T24:00:00+00:00", "2026-01-05T09:00:60Z"]
            ),
            st.just("٢٠٢٦-01-05T09:00:00+00:00"),  # digits of another script
            AWARE,  # a datetime object is no JSON
        ]
    elif kind == "string":
        options += [
            st.text(st.sampled_from(WHITESPACE), max_size=4),  # blank
            st.text(min_size=1, max_size=3).map(lambda s: "x" + s + "\ud800"),  # lone surrogate
        ]
        if "maxLength" in schema:
            options.append(_repeated(schema["maxLength"] + 1))
    elif kind in ("integer", "number"):
        options += [st.booleans(), st.sampled_from([math.nan, math.inf, -math.inf, 10**400])]
        if "minimum" in schema:
            options.append(st.sampled_from([schema["minimum"] - 1, schema["minimum"] - 0.5]))
        if "maximum" in schema:
            options.append(st.sampled_from([schema["maximum"] + 1, schema["maximum"] + 0.5]))
        if kind == "integer":
            options.append(st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f % 1 != 0))
    elif kind == "boolean":
        options.append(st.sampled_from([0, 1, "true", None]))
    elif kind == "array":
        item = from_schema(schema["items"])
        low = schema.get("minItems", 0)
        if low:
            options.append(st.lists(item, max_size=low - 1))
        if "maxItems" in schema:
            high = schema["maxItems"]
            options.append(st.lists(item, min_size=high + 1, max_size=high + 2))
        options += [item, st.lists(item, max_size=2).map(tuple)]  # a tuple is no JSON
    elif kind == "object":
        valid = from_schema(schema)
        required = sorted(schema["required"])
        if required:
            options.append(
                st.tuples(valid, st.sampled_from(required)).map(
                    lambda pair: {k: v for k, v in pair[0].items() if k != pair[1]}
                )
            )
        options += [
            st.tuples(valid, st.text(max_size=6).filter(lambda k: k not in schema["properties"])).map(
                lambda pair: {**pair[0], pair[1]: 1}
            ),
            st.tuples(valid, st.integers()).map(lambda pair: {**pair[0], pair[1]: 1}),  # a non-str key
            valid.map(lambda obj: [obj]),
        ]
    return st.one_of(*options)


def mutate_json(
    data: st.DataObject, schema: typing.Mapping[str, typing.Any], value: typing.Any
) -> typing.Any:
    """Break ``value`` at one place: the whole of it, or one node inside."""
    if "anyOf" in schema:
        inner = next(s for s in schema["anyOf"] if s.get("type") != "null")
        return data.draw(broken(inner)) if value is None else mutate_json(data, inner, value)
    kind = schema.get("type")
    children: list[typing.Any] = []
    if kind == "object" and isinstance(value, dict):
        children = list(value)
    elif kind == "array" and isinstance(value, list):
        children = list(range(len(value)))
    if children and data.draw(st.booleans(), label="descend"):
        key = data.draw(st.sampled_from(children), label="into")
        child = schema["properties"][key] if kind == "object" else schema["items"]
        changed = copy.copy(value)
        changed[key] = mutate_json(data, child, value[key])
        return changed
    return data.draw(broken(schema), label="broken")


def valid_json(cls: type) -> st.SearchStrategy[typing.Any]:
    return from_schema(record_codec(cls).schema())


def typed_record(data: st.DataObject, cls: type) -> typing.Any:
    """A valid typed record, built the way a CRM's form would be: by the slow path."""
    loaded = slow(record_codec(cls), data.draw(valid_json(cls), label="json"))
    assume(loaded is not None)  # only a record's own validator refuses schema-valid JSON
    assert loaded is not None
    return loaded[0]


# --- typed mutations --------------------------------------------------------------------------------


class Text(str):
    pass


class Moment(dt.datetime):
    pass


_SUBCLASSES: dict[type, type] = {}


def subclass_of(cls: type) -> type:
    if cls not in _SUBCLASSES:
        _SUBCLASSES[cls] = type(f"Sub{cls.__name__}", (cls,), {"__slots__": ()})
    return _SUBCLASSES[cls]


PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def broken_typed(value: object) -> st.SearchStrategy[typing.Any]:
    """Replacements for one attribute of a typed record that the slow path would convert or refuse."""
    options: list[st.SearchStrategy[typing.Any]] = [
        JSON_VALUES,
        st.sampled_from([None, True, 0, 1.5, math.nan, "", "  ", "\ud800"]),
    ]
    if isinstance(value, str):
        options += [st.just(Text(value)), st.just(value + "x" * 4001), st.just(value + "\udfff")]
    if isinstance(value, bool):
        options.append(st.just(int(value)))
    elif isinstance(value, int):
        options += [
            st.just(float(value)),
            st.just(value + 10**6),
            st.just(value - 10**6),
            st.just(bool(value)),
        ]
    elif isinstance(value, float):
        options += [st.just(value + 10**6), st.just(-(10**6) + value), st.sampled_from([math.inf, math.nan])]
        if value.is_integer():
            options.append(st.just(int(value)))
    if isinstance(value, dt.datetime):
        naive = value.replace(tzinfo=None)
        options += [
            st.just(naive),
            st.just(value.isoformat()),
            st.just(naive.replace(tzinfo=PARIS)),
            st.just(dt.datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1)),  # a repeated hour
            st.just(naive.replace(tzinfo=dt.timezone(dt.timedelta(seconds=30)))),
            st.just(value.replace(fold=1)),
            st.just(Moment.fromisoformat(value.isoformat())),
        ]
    if isinstance(value, enum.Enum):
        options += [st.just(value.value), st.sampled_from(list(Mood) + list(Tone))]
    if isinstance(value, tuple):
        options += [st.just(list(value)), st.just(value * 5), st.just(value[:0]), st.just(value[:-1])]
    if attrs.has(type(value)):
        codec = record_codec(type(value))
        sub = subclass_of(type(value))
        options += [
            st.just(codec.dump(value)),
            st.just(sub(**{f.name: getattr(value, f.attr) for f in codec.fields})),
        ]
    return st.one_of(*options)


def mutate_typed(data: st.DataObject, value: typing.Any) -> typing.Any:
    """Replace one attribute (or tuple item) somewhere inside a typed record."""
    if isinstance(value, tuple) and value and data.draw(st.booleans(), label="descend"):
        i = data.draw(st.integers(0, len(value) - 1), label="item")
        return (*value[:i], mutate_typed(data, value[i]), *value[i + 1 :])
    if attrs.has(type(value)) and data.draw(st.booleans(), label="descend"):
        fields = record_codec(type(value)).fields
        if fields:
            f = data.draw(st.sampled_from(fields), label="field")
            changed = mutate_typed(data, getattr(value, f.attr))
            try:
                return attrs.evolve(value, **{f.name: changed})
            except (TypeError, ValueError):
                assume(False)  # the record's own validator refused it: no typed record to test
    return data.draw(broken_typed(value), label="broken")


# --- 1. properties over every record class -----------------------------------------------------------


@pytest.mark.parametrize("cls", TYPED_FAST, ids=_ids(TYPED_FAST))
@_PER_CLASS
@given(data=st.data())
def test_valid_typed_records_take_the_fast_path(cls: type, data: st.DataObject) -> None:
    record = typed_record(data, cls)
    assert assert_agrees(record_codec(cls), record), f"a valid typed record missed the fast path: {record!r}"


@pytest.mark.parametrize("cls", JSON_FAST, ids=_ids(JSON_FAST))
@_PER_CLASS
@given(data=st.data())
def test_canonical_json_takes_the_fast_path(cls: type, data: st.DataObject) -> None:
    codec = record_codec(cls)
    dumped = json.loads(json.dumps(codec.dump(typed_record(data, cls))))
    assert assert_agrees(codec, dumped), f"canonical JSON missed the fast path: {dumped!r}"


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=_ids(ALL_CLASSES))
@_PER_CLASS
@given(data=st.data())
def test_any_valid_json_agrees_with_the_slow_path(cls: type, data: st.DataObject) -> None:
    # Not necessarily canonical ("Z", fractions beyond microseconds, ints in float fields).
    assert_agrees(record_codec(cls), data.draw(valid_json(cls)))


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=_ids(ALL_CLASSES))
@_PER_CLASS
@given(data=st.data())
def test_mutated_json_is_never_accepted_against_the_slow_path(cls: type, data: st.DataObject) -> None:
    schema = record_codec(cls).schema()
    value = mutate_json(data, schema, data.draw(valid_json(cls), label="valid"))
    assert_agrees(record_codec(cls), value)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=_ids(ALL_CLASSES))
@_PER_CLASS
@given(data=st.data())
def test_mutated_typed_records_are_never_accepted_against_the_slow_path(
    cls: type, data: st.DataObject
) -> None:
    value = mutate_typed(data, typed_record(data, cls))
    assert_agrees(record_codec(cls), value)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=_ids(ALL_CLASSES))
@_PER_CLASS
@given(value=JSON_VALUES)
def test_arbitrary_json_agrees_with_the_slow_path(cls: type, value: object) -> None:
    assert_agrees(record_codec(cls), value)


@given(moment=AWARE)
def test_isoformat_text_is_recognised_as_canonical(moment: dt.datetime) -> None:
    assert CANONICAL_DATETIME.fullmatch(moment.isoformat()) is not None


@given(text=st.from_regex(CANONICAL_DATETIME, fullmatch=True) | AWARE.map(lambda d: d.isoformat()))
def test_canonical_date_time_text_reads_back_to_itself(text: str) -> None:
    # The fast path keeps such text as the dump: it must be what isoformat() would give, and
    # parse_rfc3339 must read it to the same datetime.
    errors: list[tuple[str, str]] = []
    parsed = parse_rfc3339(text, "", errors)
    try:
        fast = dt.datetime.fromisoformat(text)
    except ValueError:
        assert parsed is None and errors
        return
    assert parsed is not None and not errors
    assert fast == parsed and fast.utcoffset() == parsed.utcoffset()
    assert fast.isoformat() == text


# --- 2. examples ---------------------------------------------------------------------------------


T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _plan() -> ev.Plan:
    items = tuple(
        ev.PlanItem(id=f"i{i}", description=f"step {i}", due=T0 + dt.timedelta(days=i, microseconds=i))
        for i in range(3)
    )
    return ev.Plan(items=items, agreed_with="Ms Customer")


PLAN_JSON = {
    "items": [
        {"id": "i0", "description": "step 0", "due": "2026-01-05T09:00:00+00:00"},
        {"id": "i1", "description": "step 1", "due": "2026-01-06T09:00:00.000001+00:00"},
        {"id": "i2", "description": "step 2", "due": "2026-01-07T09:00:00.000002+00:00"},
    ],
    "agreed_with": "Ms Customer",
}


def test_typed_record_comes_back_rebuilt_with_its_dump() -> None:
    plan = _plan()
    got = load_dump(record_codec(ev.Plan), plan)
    assert got is not None
    record, data = got
    assert record == plan
    assert record is not plan
    assert all(a is not b for a, b in zip(record.items, plan.items, strict=True))
    assert data == PLAN_JSON


def test_json_comes_back_as_a_new_record_and_a_new_dict() -> None:
    value = copy.deepcopy(PLAN_JSON)
    got = load_dump(record_codec(ev.Plan), value)
    assert got is not None
    record, data = got
    assert record == _plan()
    assert data == PLAN_JSON
    assert data is not value
    assert data["items"] is not value["items"]
    assert all(a is not b for a, b in zip(data["items"], value["items"], strict=True))
    data["items"].clear()
    assert value == PLAN_JSON, "changing the data must not change the caller's dict"


def test_non_canonical_date_time_text_is_dumped_canonically() -> None:
    got = load_dump(
        record_codec(ev.ImmediateRemedy), {"action": "credit", "taken_at": "2026-01-05t09:00:00.5z"}
    )
    assert got == (
        ev.ImmediateRemedy(action="credit", taken_at=T0.replace(microsecond=500000)),
        {"action": "credit", "taken_at": "2026-01-05T09:00:00.500000+00:00"},
    )


def test_absent_optional_fields_are_dumped_from_the_defaults() -> None:
    got = load_dump(record_codec(ev.LiabilityReview), {"reviewer": "Legal", "company_at_fault": False})
    assert got is not None
    assert list(got[1].items()) == [("reviewer", "Legal"), ("company_at_fault", False), ("notes", None)]
    aliased = load_dump(record_codec(Aliased), {"secret": "s"})
    assert aliased == (Aliased(secret="s"), {"secret": "s", "counts": []})


@pytest.mark.parametrize(
    ("cls", "value"),
    [
        (ev.SolutionDecision, {"solution": "refund", "answers": "loss", "value": 5}),  # int in a float field
        (ev.ClosingEvaluation, {"minutes_taken": 3.0, "how_it_went": "well"}),  # float in an int field
        (ev.ClosingEvaluation, ev.ClosingEvaluation(minutes_taken=3.0, how_it_went="well")),
        (ev.Grievances, ev.Grievances(points=["a"], customer_finished=True)),
        (ev.Acknowledgement, subclass_of(ev.Acknowledgement)(feelings="upset")),
        (
            ev.Plan,
            ev.Plan(items=(subclass_of(ev.PlanItem)(id="i", description="d", due=T0),), agreed_with="C"),
        ),
        (ev.ImmediateRemedy, ev.ImmediateRemedy(action="a", taken_at=T0.astimezone(PARIS))),
        (ev.CauseAssessment, {"cause": ev.CauseCategory.MISCOMMUNICATION, "findings": "f", "lesson": "l"}),
        (ev.Acknowledgement, {"feelings": Text("upset")}),
    ],
    ids=[
        "int-in-float",
        "float-in-int",
        "typed-float-in-int",
        "typed-list",
        "subclass",
        "nested-subclass",
        "zoneinfo",
        "enum-member-in-json",
        "str-subclass",
    ],
)
def test_values_the_slow_path_would_convert_are_left_to_it(cls: type, value: object) -> None:
    codec = record_codec(cls)
    assert load_dump(codec, value) is None
    assert slow(codec, value) is not None, "the slow path accepts it, converting on the way"


@pytest.mark.parametrize(
    ("cls", "value"),
    [
        (ev.Acknowledgement, {"feelings": "  "}),
        (ev.Acknowledgement, {"feelings": "upset", "extra": 1}),
        (ev.Acknowledgement, {}),
        (ev.Acknowledgement, {"feelings": "x" * 1001}),
        (ev.Acknowledgement, {"feelings": "up\ud800set"}),
        (ev.Acknowledgement, ev.Acknowledgement(feelings=" ")),
        (ev.Grievances, {"points": [], "customer_finished": True}),
        (ev.Grievances, {"points": ["a"], "customer_finished": 1}),
        (ev.ClosingEvaluation, {"minutes_taken": -1, "how_it_went": "well"}),
        (ev.ClosingEvaluation, {"minutes_taken": True, "how_it_went": "well"}),
        (ev.SolutionDecision, {"solution": "s", "answers": "a", "value": math.nan}),
        (ev.ImmediateRemedy, {"action": "a", "taken_at": "2026-01-05T09:00:00"}),
        (ev.ImmediateRemedy, {"action": "a", "taken_at": "2026-02-30T09:00:00+00:00"}),
        (ev.ImmediateRemedy, ev.ImmediateRemedy(action="a", taken_at=T0.replace(tzinfo=None))),
        (ev.CauseAssessment, {"cause": "EMPLOYEE_CONDUCT", "findings": "f", "lesson": "l"}),
        (Checked, {"low": 2, "high": 1}),
        (Everything, [{"count": 1}]),
    ],
)
def test_invalid_values_are_left_to_the_slow_path(cls: type, value: object) -> None:
    codec = record_codec(cls)
    assert load_dump(codec, value) is None
    assert slow(codec, value) is None


def test_converters_and_derived_fields_take_the_fast_path_only_when_values_stay() -> None:
    converted = record_codec(Converted)
    assert load_dump(converted, {"name": "Ann"}) == (Converted(name="Ann"), {"name": "Ann"})
    assert load_dump(converted, Converted(name="Ann")) == (Converted(name="Ann"), {"name": "Ann"})
    assert load_dump(converted, {"name": " Ann "}) is None  # the converter changes it
    assert slow(converted, {"name": " Ann "}) == (Converted(name="Ann"), {"name": "Ann"})
    derived = record_codec(Derived)
    got = load_dump(derived, Derived(text="abc"))
    assert got == (Derived(text="abc"), {"text": "abc"})
    assert got[0].length == 3  # computed afresh by the rebuilt record
    assert load_dump(derived, {"text": "abc"}) == (Derived(text="abc"), {"text": "abc"})
    errors: list[tuple[str, str]] = []
    record = derived.load({"text": "abc"}, "", errors)
    assert not errors and record.length == 3 and derived.dump(record) == {"text": "abc"}


def test_a_record_without_fields() -> None:
    assert load_dump(record_codec(Nothing), {}) == (Nothing(), {})
    assert load_dump(record_codec(Nothing), {"a": 1}) is None


@attrs.frozen(kw_only=True)
class Tidied:
    """Changes its value after attrs' __init__ has set it."""

    text: str

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "text", self.text.strip())


@attrs.define(kw_only=True)
class Editable:
    """Not frozen: the caller can still change it after fire()."""

    text: str


def test_a_class_that_changes_its_values_is_left_to_the_slow_path() -> None:
    codec = record_codec(Tidied)
    assert load_dump(codec, {"text": "  hi  "}) is None  # the JSON dump would not match the record
    errors: list[tuple[str, str]] = []
    record = codec.load({"text": "  hi  "}, "", errors)
    assert not errors and codec.dump(record) == {"text": "hi"}


def test_a_mutable_record_is_copied_into_the_history() -> None:
    codec = record_codec(Editable)
    record = Editable(text="first")
    got = load_dump(codec, record)
    assert got is not None and got[0] == record and got[0] is not record
    note = Action(name="note", sources="open", target="done", title="Note", evidence=Editable)
    m = Methodology(
        id="editable-notes",
        version="1",
        title="Notes",
        source="tests",
        initial="open",
        steps=(Step(id="open", title="Open"),),
        outcomes=(Outcome(id="done", title="Done", successful=True),),
        actions=(note,),
        required_steps=("open",),
    )
    case = resolveflow.open_case(m, case_id="ED-1")
    entry = case.fire("note", record, actor="ana")
    record.text = "changed afterwards"
    assert entry.evidence is not record and entry.evidence_json == {"text": "first"}
    assert resolveflow.restore(case.snapshot(), methodology=m).history == case.history


@attrs.frozen(init=False)
class HandWritten:
    """A hand-written __init__: the fast path cannot know what it does, so it checks the result."""

    text: str = ev.field()

    def __init__(self, text: str) -> None:
        self.__attrs_init__(text=text.upper())


@attrs.frozen(init=False)
class Delegating:
    """A hand-written __init__ that stores what it is given."""

    text: str = ev.field()

    def __init__(self, text: str) -> None:
        self.__attrs_init__(text=text)


def test_a_hand_written_init_is_judged_by_what_it_stores() -> None:
    changing = record_codec(HandWritten)
    assert load_dump(changing, {"text": "hi"}) is None
    assert slow(changing, {"text": "hi"}) == (HandWritten("hi"), {"text": "HI"})
    # A new (even equal) object counts as changed: the test is identity, which cannot be fooled.
    assert load_dump(changing, {"text": "HI"}) is None
    keeping = record_codec(Delegating)
    assert load_dump(keeping, {"text": "hi"}) == (Delegating("hi"), {"text": "hi"})
    assert load_dump(keeping, Delegating("hi")) == (Delegating("hi"), {"text": "hi"})


def test_the_fast_path_reads_no_attrs_internals() -> None:
    import resolveflow._fast_evidence as fast

    source = pathlib.Path(fast.__file__).read_text(encoding="utf-8")
    assert "import attrs" not in source and "attrs._make" not in source
    assert "co_filename" not in source and "_frozen_setattrs" not in source
    assert "_value2member_map_" not in source
