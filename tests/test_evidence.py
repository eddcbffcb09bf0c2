"""The public evidence records: frozen, documented, titled, and usable as JSON."""

import datetime as dt
import enum
import inspect
import json
import types
import typing

import attrs
import pytest
from jsonschema import Draft202012Validator

from resolveflow import evidence as ev
from resolveflow._schema import METADATA_KEY, record_codec
from resolveflow.methodologies import BUILTINS

# The evidence records and their enums (not the field helper, the Promise type or kind names).
PUBLIC = [
    getattr(ev, name)
    for name in ev.__all__
    if isinstance(getattr(ev, name), type) and getattr(ev, name) is not ev.Promise
]
ENUMS = [obj for obj in PUBLIC if isinstance(obj, type) and issubclass(obj, enum.Enum)]
RECORDS = [obj for obj in PUBLIC if obj not in ENUMS]


def _ids(objects: list[type]) -> list[str]:
    return [obj.__name__ for obj in objects]


def _example_value(annotation: typing.Any, meta: typing.Mapping[str, typing.Any]) -> typing.Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return _example_value(next(a for a in args if a is not type(None)), meta)
    if origin is tuple:
        return (_example_value(args[0], {}),)
    if annotation is bool:
        return True
    if annotation is int:
        return int(meta.get("minimum", 3))
    if annotation is float:
        return float(meta.get("minimum", 2.5))
    if annotation is str:
        return "Some text"
    if annotation is dt.datetime:
        return dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation))
    return example(annotation)


def example(cls: type) -> typing.Any:
    """An instance of a record with every field set (optional ones too)."""
    hints = typing.get_type_hints(cls)
    return cls(
        **{
            f.alias: _example_value(hints[f.name], f.metadata.get(METADATA_KEY, {}))
            for f in attrs.fields(cls)
        }
    )


def test_public_names_are_split_sensibly() -> None:
    assert ev.Plan in RECORDS
    assert ev.CauseCategory in ENUMS
    assert len(RECORDS) >= 20
    assert set(ev.__all__) == {obj.__name__ for obj in PUBLIC} | {
        "field",
        "Promise",
        "PLAN_ITEM",
        "FOLLOW_UP",
        "STEP_DEADLINE",
    }
    assert len(ev.__all__) == len(set(ev.__all__))


def test_every_record_and_enum_defined_in_the_module_is_public() -> None:
    defined = {
        name
        for name, obj in vars(ev).items()
        if isinstance(obj, type)
        and obj.__module__ == ev.__name__
        and (attrs.has(obj) or issubclass(obj, enum.Enum))
        and obj is not ev.Promise  # defined in resolveflow._promise, shown as resolveflow.evidence's
    }
    assert defined == set(ev.__all__) - {"field", "PLAN_ITEM", "FOLLOW_UP", "STEP_DEADLINE", "Promise"}


@pytest.mark.parametrize("cls", RECORDS, ids=_ids(RECORDS))
def test_record_is_a_frozen_keyword_only_attrs_class(cls: type) -> None:
    assert attrs.has(cls)
    record = example(cls)
    for f in attrs.fields(cls):
        before = getattr(record, f.name)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(record, f.name, before)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            delattr(record, f.name)
        assert getattr(record, f.name) == before
        assert f.kw_only, f"{cls.__name__}.{f.name} should be keyword-only"
    with pytest.raises(AttributeError):
        record.not_a_field = 1  # type: ignore[attr-defined]
    positional = [getattr(record, f.name) for f in attrs.fields(cls)]
    with pytest.raises(TypeError):
        cls(*positional)


@pytest.mark.parametrize("cls", RECORDS, ids=_ids(RECORDS))
def test_records_compare_and_hash_by_value(cls: type) -> None:
    first, second = example(cls), example(cls)
    assert first == second
    assert first is not second
    assert hash(first) == hash(second)
    changed_field = attrs.fields(cls)[0]
    other_value = _other_value(getattr(first, changed_field.name))
    changed = attrs.evolve(first, **{changed_field.alias: other_value})
    assert changed != first


def _other_value(value: typing.Any) -> typing.Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + " more"
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(minutes=1)
    if isinstance(value, enum.Enum):
        return next(m for m in type(value) if m is not value)
    if isinstance(value, tuple):
        return (*value, *value)
    raise AssertionError(f"no other value for {value!r}")


@pytest.mark.parametrize("cls", RECORDS, ids=_ids(RECORDS))
def test_record_has_a_docstring(cls: type) -> None:
    doc = cls.__doc__
    assert isinstance(doc, str)
    assert doc.strip()
    assert inspect.getdoc(cls) == inspect.cleandoc(doc)
    assert not doc.strip().startswith(cls.__name__ + "("), "a generated signature is not documentation"
    schema = record_codec(cls).schema()
    assert schema["description"] == doc.strip().split("\n\n")[0].replace("\n", " ").strip()


@pytest.mark.parametrize("cls", RECORDS, ids=_ids(RECORDS))
def test_every_field_has_a_title(cls: type) -> None:
    schema = record_codec(cls).schema()
    for f in attrs.fields(cls):
        meta = f.metadata.get(METADATA_KEY)
        assert meta is not None, f"{cls.__name__}.{f.name} is not declared with evidence.field()"
        title = meta.get("title")
        assert isinstance(title, str), f"{cls.__name__}.{f.name} has no title"
        assert title.strip(), f"{cls.__name__}.{f.name} has a blank title"
        assert schema["properties"][f.name]["title"] == title
        if "description" in meta:
            assert meta["description"].strip()
            assert schema["properties"][f.name]["description"] == meta["description"]


@pytest.mark.parametrize("cls", RECORDS, ids=_ids(RECORDS))
def test_text_fields_declare_limits_sensibly(cls: type) -> None:
    for f in attrs.fields(cls):
        meta = f.metadata.get(METADATA_KEY, {})
        for key in ("max_length", "min_items", "max_items"):
            if key in meta:
                assert isinstance(meta[key], int), (cls.__name__, f.name, key)
                assert meta[key] >= 0, (cls.__name__, f.name, key)
        if "minimum" in meta and "maximum" in meta:
            assert meta["minimum"] <= meta["maximum"]


@pytest.mark.parametrize("cls", RECORDS, ids=_ids(RECORDS))
def test_record_round_trips_through_json(cls: type) -> None:
    codec = record_codec(cls)
    record = example(cls)
    data = json.loads(json.dumps(codec.dump(record), allow_nan=False))
    Draft202012Validator(codec.schema()).validate(data)
    errors: list[tuple[str, str]] = []
    assert codec.load(data, "", errors) == record
    assert errors == []
    assert codec.load(record, "", errors) == record
    assert errors == []


@pytest.mark.parametrize("cls", RECORDS, ids=_ids(RECORDS))
def test_optional_fields_are_exactly_those_with_defaults(cls: type) -> None:
    schema = record_codec(cls).schema()
    for f in attrs.fields(cls):
        has_default = f.default is not attrs.NOTHING
        assert (f.name not in schema["required"]) == has_default, f.name
        if has_default:
            cls(**{g.alias: getattr(example(cls), g.name) for g in attrs.fields(cls) if g is not f})


def test_records_used_by_builtins_are_public() -> None:
    used = {a.evidence for m in BUILTINS for a in m.actions if a.evidence is not None}
    assert used <= set(RECORDS)
    nested = {ev.PlanItem, ev.PrioritisedPlanItem}
    assert used | nested == set(RECORDS), "a public record that no methodology uses"


@pytest.mark.parametrize("enum_cls", ENUMS, ids=_ids(ENUMS))
def test_enums_have_documented_unique_string_values(enum_cls: type[enum.Enum]) -> None:
    assert enum_cls.__doc__
    assert enum_cls.__doc__.strip()
    values = [m.value for m in enum_cls]
    assert values
    assert all(isinstance(v, str) and v.strip() and v == v.strip() for v in values)
    assert len(set(values)) == len(values)
    assert record_codec(_holder(enum_cls)).schema()["properties"]["value"]["enum"] == values


def _holder(enum_cls: type[enum.Enum]) -> type:
    namespace = {
        "__annotations__": {"value": enum_cls},
        "__doc__": "Holds one enum value.",
        "__module__": __name__,
    }
    return attrs.frozen(kw_only=True)(type(f"Holder{enum_cls.__name__}", (), namespace))


# --- evidence.field() ----------------------------------------------------------------


def test_field_keeps_only_given_metadata() -> None:
    f = ev.field(title="T", max_length=3)
    assert f.metadata == {METADATA_KEY: {"title": "T", "max_length": 3}}
    assert ev.field().metadata == {METADATA_KEY: {}}
    every = ev.field(title="T", description="D", minimum=0, maximum=9, max_length=5, min_items=1, max_items=2)
    assert every.metadata[METADATA_KEY] == {
        "title": "T",
        "description": "D",
        "minimum": 0,
        "maximum": 9,
        "max_length": 5,
        "min_items": 1,
        "max_items": 2,
    }


def test_field_zero_limits_are_kept() -> None:
    # 0 is a real limit, not "unset".
    meta = ev.field(minimum=0, maximum=0, max_length=0, min_items=0)
    assert meta.metadata[METADATA_KEY] == {"minimum": 0, "maximum": 0, "max_length": 0, "min_items": 0}


@attrs.frozen(kw_only=True)
class Refund:
    """A refund issued to the customer."""

    amount: float = ev.field(title="Amount", minimum=0)
    reference: str = ev.field(description="Payment reference")
    note: str | None = ev.field(default=None)


def test_module_docstring_example_record() -> None:
    assert Refund(amount=12.5, reference="R-1").amount == 12.5
    schema = record_codec(Refund).schema()
    assert schema["title"] == "Refund"
    assert schema["description"] == "A refund issued to the customer."
    assert schema["required"] == ["amount", "reference"]
    amount = schema["properties"]["amount"]
    assert (amount["type"], amount["minimum"], amount["title"]) == ("number", 0, "Amount")
    reference = schema["properties"]["reference"]
    assert reference["title"] == "Reference"  # default: the field name, capitalised
    assert reference["description"] == "Payment reference"
    assert Refund(amount=1, reference="R").note is None


def test_field_default_makes_it_optional() -> None:
    errors: list[tuple[str, str]] = []
    record = record_codec(Refund).load({"amount": 1, "reference": "R-1"}, "", errors)
    assert errors == []
    assert record == Refund(amount=1.0, reference="R-1", note=None)
    errors = []
    record_codec(Refund).load({"amount": 1}, "", errors)
    assert errors == [("reference", "is required")]
