"""Hypothesis strategies shared by the tests: evidence from schemas, and its mutations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

import resolveflow

TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20
).filter(lambda s: s.strip() != "")


def times_around(anchor: dt.datetime, days: int = 30) -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes within ``days`` of ``anchor``, both sides, to second precision."""
    return st.integers(min_value=-days * 86400, max_value=days * 86400).map(
        lambda seconds: anchor + dt.timedelta(seconds=seconds)
    )


def json_for_schema(schema: dict[str, Any], anchor: dt.datetime) -> st.SearchStrategy[Any]:
    """JSON values valid for one of resolveflow's evidence schemas.

    Covers exactly the keywords resolveflow's codec emits; date-times are
    placed around ``anchor`` so that time guards sometimes pass and
    sometimes refuse.
    """
    if "anyOf" in schema:
        return st.one_of(*(json_for_schema(s, anchor) for s in schema["anyOf"]))
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(
            min_value=int(schema.get("minimum", -(10**6))), max_value=int(schema.get("maximum", 10**6))
        )
    if kind == "number":
        return st.floats(
            min_value=schema.get("minimum", -1e6),
            max_value=schema.get("maximum", 1e6),
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "string":
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if schema.get("format") == "date-time":
            return times_around(anchor).map(lambda t: t.isoformat())
        max_len = schema.get("maxLength", 20)
        return TEXT.filter(lambda s: len(s) <= max_len)
    if kind == "array":
        return st.lists(
            json_for_schema(schema["items"], anchor),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 3), 3),
        )
    if kind == "object":
        required = set(schema.get("required", ()))
        props = schema.get("properties", {})
        fixed = {k: json_for_schema(v, anchor) for k, v in props.items() if k in required}
        optional = {k: json_for_schema(v, anchor) for k, v in props.items() if k not in required}
        return st.fixed_dictionaries(fixed, optional=optional)
    raise AssertionError(f"schema keyword not covered by the test strategy: {schema}")


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@st.composite
def broken_json_for_schema(draw: st.DrawFn, schema: dict[str, Any], anchor: dt.datetime) -> Any:
    """A value for an object schema with one thing wrong: a missing, extra or mistyped field."""
    value = draw(json_for_schema(schema, anchor))
    props = schema.get("properties", {})
    choices = ["extra"]
    if schema.get("required"):
        choices.append("drop")
    if props:
        choices.append("retype")
    how = draw(st.sampled_from(choices))
    if how == "extra":
        value["not_a_field"] = draw(JUNK)
    elif how == "drop":
        value.pop(draw(st.sampled_from(sorted(schema["required"]))), None)
    else:
        key = draw(st.sampled_from(sorted(props)))
        kinds = {"string": str, "integer": int, "number": float, "boolean": bool, "array": list}
        expected = props[key].get("type")
        junk = draw(JUNK.filter(lambda v: not _fits(v, expected, kinds)))
        value[key] = junk
    return value


def _fits(value: Any, expected: str | None, kinds: dict[str, type]) -> bool:
    if expected is None:
        return True  # anyOf (optional) fields: leave them alone
    if expected == "object":
        return isinstance(value, dict)
    if expected in ("integer", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kinds.get(expected, object))


def evidence_for(
    case: resolveflow.Case, action: resolveflow.Action, anchor: dt.datetime
) -> st.SearchStrategy[Any]:
    """Valid-shaped evidence for an action, nudged towards what the case's guards accept."""
    if action.evidence is None:
        return st.one_of(st.none(), st.just({}))
    schema = action.evidence_schema()
    base = json_for_schema(schema, anchor)
    if action.evidence is resolveflow.evidence.ItemCompletion:
        plans = [e.evidence for e in case.history if isinstance(e.evidence, resolveflow.evidence.Plan)]
        if plans:
            ids = [item.id for item in plans[-1].items]
            base = st.one_of(base, st.sampled_from(ids).map(lambda i: {"item_id": i}))
    return base
