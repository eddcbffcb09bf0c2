"""The patterns and schema fragments methodology files are checked with (a leaf).

The JSON Schema of files (``_file_schema.py``), the guard-kind table
(``_guard_kinds.py``) and the record loader (``_file_records.py``) all build on
these, so they live below all three.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from resolveflow._methodology import _ID, _NAME, _VERSION

# JSON Schema patterns are ECMA-262 regexes matched with search(): anchor them.
ID_PATTERN: Final = f"^{_ID.pattern}$"
NAME_PATTERN: Final = f"^{_NAME.pattern}$"
VERSION_PATTERN: Final = f"^{_VERSION.pattern}$"
# Every underscore-separated part starts with a letter, so that the generated
# class name (heard_account -> HeardAccount) maps back to exactly this name.
RECORD_NAME_PATTERN: Final = r"^[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*$"
NON_BLANK_PATTERN: Final = r"\S"

PATTERN_HINTS: Final[Mapping[str, str]] = {
    ID_PATTERN: "use lowercase words joined by hyphens, e.g. 'seven-as'",
    NAME_PATTERN: "use lowercase letters, digits and underscores, starting with a letter, "
    "e.g. 'offer_solution'",
    VERSION_PATTERN: "use up to three dotted numbers without leading zeros, e.g. '1.0' or '2.1.3'",
    RECORD_NAME_PATTERN: "use lowercase words joined by underscores, each starting with a letter, "
    "e.g. 'refund_request'",
    NON_BLANK_PATTERN: "must not be blank",
}


def _text(title: str, description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "pattern": NON_BLANK_PATTERN,
        "title": title,
        "description": description,
    }


def _texts(title: str, description: str) -> dict[str, Any]:
    # One string or a list of them: the string form keeps one-line guidance short.
    return {
        "type": ["string", "array"],
        "title": title,
        "description": description + " One line, or a list of lines.",
        "minLength": 1,
        "pattern": NON_BLANK_PATTERN,
        "items": {"type": "string", "minLength": 1, "pattern": NON_BLANK_PATTERN},
    }


def _name(title: str, description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": NAME_PATTERN, "title": title, "description": description}


def _record_ref(title: str, description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": RECORD_NAME_PATTERN, "title": title, "description": description}
