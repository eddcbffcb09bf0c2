"""RFC 8785 (JSON Canonicalization Scheme): the examples of the RFC, the rfc8785 package as oracle.

The expected texts below are written from the RFC itself (its main example in
section 3.2.2, the sorting example of 3.2.3, the number table of Appendix B),
so they hold the code to the specification, not just to another implementation.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from resolveflow import _canonical
from resolveflow._canonical import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    CanonicalError,
    canonical_bytes,
    canonical_text,
)

# --- the RFC's examples -----------------------------------------------------------------


def test_the_rfc_main_example() -> None:
    # RFC 8785 section 3.2.2: numbers, literals and string escapes in one object.
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],'
        '"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_text(value) == expected
    assert canonical_bytes(value) == expected.encode("utf-8")


def test_keys_are_sorted_by_utf16_code_units() -> None:
    # RFC 8785 section 3.2.3: the emoji (a surrogate pair, D83D DE00) sorts before U+FB33,
    # though its code point U+1F600 is the larger.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    text = canonical_text(value)
    assert list(json.loads(text)) == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert text.startswith('{"\\r":"Carriage Return","1":"One",')


def _double(hex_bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(hex_bits))[0]


# RFC 8785 Appendix B: IEEE-754 doubles (as their bits) and their JSON numbers.
NUMBER_TABLE = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),  # minus zero
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), NUMBER_TABLE)
def test_the_rfc_number_table(bits: str, expected: str) -> None:
    assert canonical_text(_double(bits)) == expected
    assert canonical_text([_double(bits)]) == f"[{expected}]"


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_the_rfc_number_table_errors(bits: str) -> None:
    # NaN and the infinities: the table marks them as errors.
    with pytest.raises(CanonicalError, match="not a JSON number"):
        canonical_text({"x": _double(bits)})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100.0, "100"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (-0.0, "0"),
        (0.5, "0.5"),
        (-1.5e-10, "-1.5e-10"),
        (123.456, "123.456"),
        (1.5e300, "1.5e+300"),
        (3, "3"),
        (-(2**53) + 1, "-9007199254740991"),
        (2**53 - 1, "9007199254740991"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
    ],
)
def test_numbers_and_literals(value: object, expected: str) -> None:
    assert canonical_text(value) == expected


def test_string_escapes() -> None:
    # Only the quote, the backslash and U+0000..U+001F are escaped: the five short forms,
    # \u00xx in lower case for the others; DEL, U+2028 and non-ASCII are written as they are.
    text = "".join(chr(c) for c in range(0x20)) + '"\\/\x7f\u2028\u00e9\U0001f600'
    expected = (
        '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r'
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018"
        '\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\"\\\\/\x7f\u2028\u00e9\U0001f600"'
    )
    assert canonical_text(text) == expected
    assert canonical_text({text: text}) == f"{{{expected}:{expected}}}"
    assert canonical_bytes("\u00e9") == b'"\xc3\xa9"'


def test_no_whitespace_and_containers() -> None:
    assert canonical_text({"b": [1, (2, 3)], "a": {}, "c": []}) == '{"a":{},"b":[1,[2,3]],"c":[]}'


def test_subclasses_are_written_as_their_base_values() -> None:
    import enum

    class Colour(enum.StrEnum):
        RED = "red"

    class Count(enum.IntEnum):
        TWO = 2

    class Text(str):
        def __str__(self) -> str:
            return "not this"

    assert canonical_text({Text("k"): [Colour.RED, Count.TWO, Text("v")]}) == '{"k":["red",2,"v"]}'


# --- refusals ---------------------------------------------------------------------------


def _nested(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


def _nested_objects(levels: int) -> Any:
    value: Any = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def _refusal_id(value: object) -> str:
    # The same id in every process (pytest-xdist compares them): no memory addresses.
    if type(value) is int:
        return f"int of {value.bit_length()} bits"
    if type(value) is object:
        return "a bare object()"
    return repr(value)[:40]


@pytest.mark.parametrize(
    ("value", "reason", "path"),
    [
        (float("nan"), "not a JSON number", "$"),
        ({"a": [1, float("inf")]}, "not a JSON number", '$["a"][1]'),
        ([float("-inf")], "not a JSON number", "$[0]"),
        (10**5000, "outside", "$"),
        ([2**53], "outside", "$[0]"),
        ({"n": -(2**53)}, "outside", '$["n"]'),
        ("a\ud800b", "lone surrogate", "$"),
        ({"k": ["\udfff"]}, "lone surrogate", '$["k"][0]'),
        ({"\ud83d": 1}, "lone surrogate", '$["\\ud83d"]'),
        ({"\ud83d": 1, "\U0001f600": 2, "\ue000": 3}, "lone surrogate", '$["\\ud83d"]'),
        ({1: "one"}, "key must be a str", "$"),
        ({"a": {None: 1}}, "key must be a str", '$["a"]'),
        ({"a": {(1, 2): 1}}, "key must be a str", '$["a"]'),
        ({"a": b"bytes"}, "bytes is not JSON data", '$["a"]'),
        ([{1, 2}], "set is not JSON data", "$[0]"),
        (object(), "object is not JSON data", "$"),
        (_nested(MAX_DEPTH + 1), "nested more than", "$" + "[0]" * MAX_DEPTH),
        (_nested_objects(MAX_DEPTH + 1), "nested more than", "$" + '["a"]' * MAX_DEPTH),
    ],
    ids=_refusal_id,
)
def test_refusals(value: object, reason: str, path: str) -> None:
    with pytest.raises(CanonicalError, match=reason) as caught:
        canonical_text(value)
    assert caught.value.path == path
    assert isinstance(caught.value, ValueError)
    with pytest.raises(CanonicalError):
        canonical_bytes(value)


def test_depth_limit_is_exact() -> None:
    assert canonical_text(_nested(MAX_DEPTH)) == "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert canonical_text(_nested_objects(MAX_DEPTH)).count("{") == MAX_DEPTH


@pytest.mark.parametrize("levels", [10_000, 100_000])
def test_hostile_nesting_is_refused_without_recursion_error(levels: int) -> None:
    for value in (_nested(levels), _nested_objects(levels)):
        with pytest.raises(CanonicalError, match="nested more than"):
            canonical_text(value)


def test_a_value_that_contains_itself_is_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(CanonicalError, match="nested more than"):
        canonical_text(loop)
    cycle: dict[str, Any] = {}
    cycle["self"] = cycle
    with pytest.raises(CanonicalError, match="nested more than"):
        canonical_text(cycle)


# --- properties against the oracle --------------------------------------------------------

# Text without lone surrogates: the oracle and JSON itself want real characters.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
keys = st.text(st.characters(exclude_categories=("Cs",)), max_size=6) | st.sampled_from(
    ["\ue000", "\uffff", "\U0001f600", "\U00010000", "a", "", "\x7f"]
)
safe_ints = st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | safe_ints | finite_floats | texts
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(keys, inner, max_size=5)
    ),
    max_leaves=30,
)
# What the fast path takes: no floats; keys below U+D800.
plain_values = st.recursive(
    st.none() | st.booleans() | safe_ints | texts,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(st.characters(max_codepoint=0xD7FF), max_size=6), inner, max_size=5)
    ),
    max_leaves=30,
)


@given(json_values)
def test_agrees_with_the_rfc8785_package(value: object) -> None:
    assert canonical_bytes(value) == rfc8785.dumps(value)


@given(finite_floats)
def test_every_double_agrees_with_the_rfc8785_package(number: float) -> None:
    assert canonical_text(number) == rfc8785.dumps(number).decode()


@given(st.integers(0, 2**64 - 1).map(lambda bits: struct.unpack(">d", bits.to_bytes(8, "big"))[0]))
def test_any_bit_pattern_agrees_with_the_rfc8785_package(number: float) -> None:
    if math.isfinite(number):
        assert canonical_text(number) == rfc8785.dumps(number).decode()
    else:
        with pytest.raises(CanonicalError):
            canonical_text(number)


def _same_json(a: object, b: object) -> bool:
    """Equal as JSON: tuples are arrays, and a number equals its double (so -0.0 == 0)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same_json, a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float):
        return isinstance(b, int | float) and float(a) == float(b)
    return a == b


@given(json_values)
def test_reads_back_to_the_same_value(value: object) -> None:
    assert _same_json(value, json.loads(canonical_text(value)))


@given(plain_values)
def test_the_fast_path_takes_plain_data_and_agrees_with_the_full_path(value: object) -> None:
    fast = _canonical._fast_text(value)
    assert fast is not None
    assert fast == _canonical._full_text(value)


@given(json_values)
def test_the_fast_path_agrees_with_the_full_path_whenever_it_answers(value: object) -> None:
    fast = _canonical._fast_text(value)
    if fast is not None:
        assert fast == _canonical._full_text(value)


@given(
    st.dictionaries(
        st.sampled_from(["\ue000", "\uffff", "\U0001f600", "\U00010000", "a", "\ud7ff"]),
        st.integers(0, 3),
        min_size=2,
    )
)
def test_keys_that_sort_differently_in_utf16_leave_the_fast_path(value: dict[str, int]) -> None:
    if any(max(key) >= "\ud800" for key in value):
        assert _canonical._fast_text(value) is None
    assert canonical_bytes(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1.0},
        {"a": [1, 2**53]},
        {"\ue000": 1},
        {"k": "lone \ud800"},
        {"k": b"x"},
        {1: 2},
        _nested(MAX_DEPTH + 1),
    ],
)
def test_the_fast_path_declines_what_it_cannot_prove(value: object) -> None:
    assert _canonical._fast_text(value) is None


def test_the_old_form_differed_where_the_fast_path_declines() -> None:
    # The encoder this replaced wrote floats as Python does: not reproducible from the RFC.
    old = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert old.encode({"a": 100.0, "b": 1e-7}) == '{"a":100.0,"b":1e-07}'
    assert canonical_text({"a": 100.0, "b": 1e-7}) == '{"a":100,"b":1e-7}'


def test_keys_that_are_str_subclasses_sort_as_plain_text() -> None:
    class Backwards(str):
        def __lt__(self, other: object) -> bool:
            return str.__gt__(self, other)  # type: ignore[operator]

    value = {Backwards("a"): 1, Backwards("b"): [1.5], "c": {"d": 0.5}}
    assert canonical_text(value) == '{"a":1,"b":[1.5],"c":{"d":0.5}}' == rfc8785.dumps(value).decode()
