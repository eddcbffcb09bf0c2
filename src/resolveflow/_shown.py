"""Values shown in error messages, bounded whatever the caller passed (a leaf).

An error message must never cost more than its size: ``repr`` of a list nested
10,000 deep raises RecursionError, and ``repr`` of a 10,000-digit integer
raises ValueError. Text and small numbers are shown as ``repr`` (cut short);
anything else is named by its type.
"""

from __future__ import annotations

from typing import Final

LIMIT: Final = 80
_SMALL: Final = 10**20


def shown(value: object, limit: int = LIMIT) -> str:
    """``repr(value)`` for text, small numbers, booleans and None, cut to ``limit``; else ``a <type>``.

    Example:
        >>> shown("refund"), shown([[1]]), shown(10**5000)
        ("'refund'", 'a list', 'a very large int')
    """
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        text = repr(str.__str__(value))
        return text if len(text) <= limit else text[: limit - 2] + "…'"
    if isinstance(value, int):
        return repr(int(value)) if -_SMALL < value < _SMALL else "a very large int"
    if isinstance(value, float):
        return repr(float(value))
    return f"a {type(value).__name__}"
