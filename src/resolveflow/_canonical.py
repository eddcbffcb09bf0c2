"""RFC 8785, the JSON Canonicalization Scheme (JCS): the text the history hashes.

Anyone can reproduce a hash from the RFC alone, in any language with a JCS
library: object members sorted by the UTF-16 code units of their names,
numbers as ECMAScript's Number::toString writes them (``100.0`` is ``100``,
``1e-7`` is ``1e-7``, ``1e21`` is ``1e+21``, ``-0.0`` is ``0``), strings with
only ``"``, ``\\`` and U+0000..U+001F escaped (``\\b \\t \\n \\f \\r`` short,
the rest ``\\u00xx`` in lower case), no whitespace, UTF-8.

Input is JSON data: ``dict`` with ``str`` keys, ``list`` or ``tuple``, ``str``,
``int``, ``float``, ``bool`` and ``None`` (subclasses of these are written as
their base value). Everything else is refused with :class:`CanonicalError`
(a ``ValueError``), which names where in the value the problem is:

* a float that is NaN or infinite (JSON has no such numbers);
* an int outside +-(2**53 - 1): an IEEE double cannot hold it exactly, and
  JCS numbers are doubles (write a bigger number as a string);
* a string or key with a lone surrogate (it is not a character, and has no
  UTF-8 form);
* a key that is not a str, or a value of any other type;
* nesting deeper than :data:`MAX_DEPTH` containers (so that hostile input,
  including a list that contains itself, is refused and never raises
  RecursionError).

The cost is linear in the size of the input (plus the sort of each object's
keys). Data that the standard library's C encoder is known to write exactly as
JCS does (no floats, every int in the safe range, every key below U+D800, no
lone surrogates) takes it; everything else is written here in Python. A
property test holds both paths equal to each other and to the ``rfc8785``
package.
"""

from __future__ import annotations

import json
import math
import operator
import re
from typing import Final

__all__ = ["MAX_DEPTH", "MAX_SAFE_INTEGER", "CanonicalError", "canonical_bytes", "canonical_text"]

MAX_DEPTH: Final = 100
"""The deepest nesting of arrays and objects accepted (the top-level container is depth 1)."""

MAX_SAFE_INTEGER: Final = 2**53 - 1
"""The largest int accepted (and its negative the smallest): ECMAScript's Number.MAX_SAFE_INTEGER."""


class CanonicalError(ValueError):
    """The value is not JSON data that RFC 8785 can write.

    Attributes:
        path: where in the value, as ``$`` then ``[index]`` and ``["key"]`` steps.
        reason: what is wrong there.
    """

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(f"cannot write canonical JSON at {path}: {reason}")
        self.reason = reason
        self.path = path

    def within(self, step: str) -> CanonicalError:
        """The same error one level up: step (``$``, ``[0]`` or ``["key"]``) put before the path."""
        return CanonicalError(self.reason, step + self.path)


# --- strings ------------------------------------------------------------------------------

_NEEDS_ESCAPE: Final = re.compile(r'[\x00-\x1f"\\]')
_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")
_ESCAPES: Final = {chr(c): f"\\u{c:04x}" for c in range(0x20)} | {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _escape_one(match: re.Match[str]) -> str:
    return _ESCAPES[match.group()]


def quote(text: str) -> str:
    """A string as a JSON string literal, escaped as RFC 8785 does (CanonicalError on a lone surrogate)."""
    return _quote(text)


def _quote(text: str) -> str:
    if not text.isascii() and _SURROGATE.search(text) is not None:
        raise CanonicalError("the text has a lone surrogate, which is not a character", "")
    if _NEEDS_ESCAPE.search(text) is None:
        return f'"{text}"'
    return '"' + _NEEDS_ESCAPE.sub(_escape_one, text) + '"'


# --- numbers ------------------------------------------------------------------------------


def _number(value: float) -> str:
    """ECMAScript's Number::toString (ECMA-262, 7.1.12.1) of a finite double."""
    if not math.isfinite(value):
        raise CanonicalError(f"{value!r} is not a JSON number", "")
    if value == 0:
        return "0"  # and -0.0 too
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that read back to the same double, the closest
    # of them to it when there are several: the digits ECMAScript asks for.
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    stripped = digits.lstrip("0")
    # value = 0.digits * 10**n, i.e. digits * 10**(n - k) with k = len(digits).
    n = len(whole) + (int(exponent) if exponent else 0) - (len(digits) - len(stripped))
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    power = n - 1
    exp = f"e+{power}" if power >= 0 else f"e-{-power}"
    if k == 1:
        return sign + digits + exp
    return sign + digits[0] + "." + digits[1:] + exp


def _integer(value: int) -> str:
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return int.__repr__(value)
    raise CanonicalError(
        "the integer is outside +-(2**53 - 1), so a JSON number (an IEEE double) "
        "cannot hold it exactly; write it as a string",
        "",
    )


# --- the full path --------------------------------------------------------------------------


_first: Final = operator.itemgetter(0)


def _utf16_key(item: tuple[str, object]) -> bytes:
    return item[0].encode("utf-16-be", "surrogatepass")


def _write(value: object, depth: int, out: list[str]) -> None:
    """Append the JCS text of value to out; a CanonicalError's path is filled in on the way up."""
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_quote(str.__str__(value)))
    elif isinstance(value, int):
        out.append(_integer(value))
    elif isinstance(value, float):
        out.append(_number(float.__float__(value)))
    elif isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise CanonicalError(_TOO_DEEP, "")
        for key in value:
            if not isinstance(key, str):
                raise CanonicalError(f"an object key must be a str, got {type(key).__name__} {key!r}", "")
        # Keys as plain str (a subclass's own comparisons have no say in the order); sorted
        # by key alone, so values are never compared.
        items = [(k if type(k) is str else str.__str__(k), v) for k, v in value.items()]
        # UTF-16 order is code point order unless one key has a character beyond the BMP
        # (a surrogate pair in UTF-16) and another one in U+E000..U+FFFF.
        if all(k.isascii() or max(k) < "\ud800" for k, _ in items):
            items.sort(key=_first)
        else:
            items.sort(key=_utf16_key)
        out.append("{")
        for index, (key, item) in enumerate(items):
            if index:
                out.append(",")
            try:
                out.append(_quote(key))
                out.append(":")
                _write(item, depth + 1, out)
            except CanonicalError as error:
                raise error.within(f"[{json.dumps(key)}]") from None
        out.append("}")
    elif isinstance(value, list | tuple):
        if depth >= MAX_DEPTH:
            raise CanonicalError(_TOO_DEEP, "")
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            try:
                _write(item, depth + 1, out)
            except CanonicalError as error:
                raise error.within(f"[{index}]") from None
        out.append("]")
    else:
        raise CanonicalError(f"{type(value).__name__} is not JSON data", "")


_TOO_DEEP: Final = f"nested more than {MAX_DEPTH} arrays and objects deep"


def _full_text(value: object) -> str:
    out: list[str] = []
    try:
        _write(value, 0, out)
    except CanonicalError as error:
        raise error.within("$") from None
    return "".join(out)


# --- the fast path ------------------------------------------------------------------------

# The standard library's encoder with these settings writes exactly what JCS writes for data
# that _plain accepts: strings escaped the same way (the same short forms, \u00xx in lower
# case, nothing else escaped with ensure_ascii off), keys sorted by code point (which is UTF-16
# order for keys below U+D800), ints as decimal digits, no whitespace. Floats are the only
# numbers it writes differently (1e-07, 100.0), so data with floats never takes it.
# No circular check: _plain refuses nesting deeper than MAX_DEPTH, so a value that contains
# itself never reaches the encoder (and the check's dict of ids is a fifth of its cost).
_ENCODER: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False
)
_encode: Final = _ENCODER.encode


def _plain(value: object, depth: int) -> bool:
    """Whether the C encoder's text of value is its JCS text (exact types only; strings aside)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER  # type: ignore[operator]
    if depth >= MAX_DEPTH:
        return False
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str or not (key.isascii() or max(key) < "\ud800"):
                return False
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if kind is int:
                if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                    return False
            elif not _plain(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:  # type: ignore[attr-defined]
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if kind is int:
                if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                    return False
            elif not _plain(item, depth + 1):
                return False
        return True
    return False


def _fast_text(value: object) -> str | None:
    """The JCS text by the C encoder, or None when it might differ (then the full path decides)."""
    if not _plain(value, 0):
        return None
    text = _encode(value)
    # A lone surrogate in a string or key is only found here, in one pass over the text.
    if not text.isascii() and _SURROGATE.search(text) is not None:
        return None
    return text


# --- the API ------------------------------------------------------------------------------


def canonical_text(value: object) -> str:
    """The RFC 8785 (JCS) text of JSON data.

    Raises:
        CanonicalError: value is not JSON data that JCS can write (see the module).
    """
    text = _fast_text(value)
    return _full_text(value) if text is None else text


def canonical_bytes(value: object) -> bytes:
    """The RFC 8785 (JCS) bytes of JSON data: :func:`canonical_text` in UTF-8.

    Raises:
        CanonicalError: value is not JSON data that JCS can write (see the module).
    """
    return canonical_text(value).encode("utf-8")
