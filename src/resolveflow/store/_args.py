"""The store's checks of call arguments: text any database can keep, and whole numbers SQL can take.

A value the database cannot take must be refused before it reaches the
database, and refused the same way on every backend: PostgreSQL rejects NUL
in text and an integer beyond 64 bits with a driver error, SQLite stores the
one and overflows on the other, and neither can encode a lone surrogate.
"""

from __future__ import annotations

import re
from typing import Final

from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput
from resolveflow.store._tables import ID

MAX_TEXT: Final = ID
"""The longest text argument (case ids, actors, keys, filters): the store's id columns hold 200."""

MAX_COUNT: Final = 2**63 - 1
"""The largest whole-number argument (limits, sequence numbers, sizes): SQL's BIGINT."""

_UNSTORABLE: Final = re.compile(r"[\x00\ud800-\udfff]")
_TEXT_RULE: Final = (
    f"expected non-blank text of at most {MAX_TEXT} characters, without NUL (\\x00) or lone surrogates"
)


def _text_problem(value: str) -> str | None:
    if len(value) > MAX_TEXT:
        return f"got {len(value):,} characters"
    if not value.strip():
        return f"got blank text {shown(value)}"
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    what = "NUL (\\x00)" if found.group() == "\x00" else "a lone surrogate"
    return f"got {what} at index {found.start()} of {shown(value)}"


def text_arg(value: object, argument: str) -> str:
    """Text the store can compare with and write to any database (InvalidInput naming ``argument``).

    Example:
        >>> text_arg("C-1", "case_id")
        'C-1'
        >>> try:
        ...     text_arg("C\\x001", "case_id")
        ... except InvalidInput as error:
        ...     print(error.argument, "NUL (\\\\x00) at index 1" in str(error))
        case_id True
    """
    if isinstance(value, str):
        problem = _text_problem(value)
        if problem is None:
            return str.__str__(value)  # a subclass's own methods have no say in what is stored
    else:
        problem = f"got {shown(value)}"
    raise InvalidInput(f"{_TEXT_RULE}; {problem}", argument=argument)


def count_arg(value: object, argument: str, *, minimum: int, maximum: int = MAX_COUNT) -> int:
    """A whole number from ``minimum`` to ``maximum`` (at most 2**63 - 1); booleans are not numbers."""
    if isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum:
        return int(value)
    limits = f"from {minimum:,} to {maximum:,}" if maximum != MAX_COUNT else f"from {minimum:,} to 2**63 - 1"
    raise InvalidInput(f"expected a whole number {limits}, got {shown(value)}", argument=argument)
