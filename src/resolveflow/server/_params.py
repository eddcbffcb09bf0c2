"""Path segments, query parameters and headers, checked before anything reads the store.

Each reader returns the checked value or raises a 400 :class:`Problem` naming
the parameter, so that no malformed id, number or time reaches the store.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from typing import Final

from starlette.requests import Request

from resolveflow.server._problems import Problem

MAX_ID: Final = 200
MAX_PAGE: Final = 1000
MAX_SEQ: Final = 2**63 - 1
METHODOLOGY_ID: Final = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
VERSION: Final = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9}){0,4}")
NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,99}")
_DIGITS: Final = re.compile(r"[0-9]{1,19}")
_KEY: Final = re.compile(r"[\x21-\x7e]{1,200}")


def _bad(name: str, detail: str) -> Problem:
    return Problem(400, "invalid-parameter", f"{name}: {detail}", title="Invalid parameter", parameter=name)


def text_id(value: str, name: str) -> str:
    """A case id or other free-text id: 1 to 200 characters, no control characters or lone surrogates."""
    if not 1 <= len(value) <= MAX_ID:
        raise _bad(name, f"must be 1 to {MAX_ID} characters")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise _bad(name, "must not hold control characters or lone surrogates")
    return value


def case_id(request: Request) -> str:
    """The ``{case_id}`` path segment."""
    return text_id(str(request.path_params["case_id"]), "case_id")


def methodology_id(value: str, name: str = "methodology") -> str:
    """A methodology id: lowercase words joined by hyphens."""
    if len(value) > 100 or not METHODOLOGY_ID.fullmatch(value):
        raise _bad(name, "must be lowercase words joined by hyphens, such as 'seven-as'")
    return value


def version(request: Request) -> str | None:
    """The optional ``?version=`` query parameter (dotted numbers)."""
    value = request.query_params.get("version")
    if value is None:
        return None
    if not VERSION.fullmatch(value):
        raise _bad("version", "must be dotted numbers, such as '1.0'")
    return value


def action(request: Request) -> str:
    """The ``{action}`` path segment: a snake_case name."""
    value = str(request.path_params["action"])
    if not NAME.fullmatch(value):
        raise _bad("action", "must be a snake_case name, such as 'agree_plan'")
    return value


def name(value: str, parameter: str) -> str:
    """A step or outcome id as a query parameter."""
    if not NAME.fullmatch(value):
        raise _bad(parameter, "must be a snake_case name, such as 'apologize'")
    return value


def count(request: Request, parameter: str, *, default: int, minimum: int, maximum: int) -> int:
    """A whole-number query parameter within its limits."""
    value = request.query_params.get(parameter)
    if value is None:
        return default
    if not _DIGITS.fullmatch(value) or not minimum <= int(value) <= maximum:
        raise _bad(parameter, f"must be a whole number from {minimum} to {maximum}")
    return int(value)


def when(request: Request, parameter: str = "now") -> _dt.datetime | None:
    """An optional RFC 3339 time with an offset, such as ``2026-03-04T17:00:00+00:00``."""
    value = request.query_params.get(parameter)
    if value is None:
        return None
    try:
        parsed = _dt.datetime.fromisoformat(value) if len(value) <= 40 else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _bad(parameter, "must be an RFC 3339 time with an offset, such as 2026-03-04T17:00:00+00:00")
    return parsed


def idempotency_key(request: Request) -> str | None:
    """The optional ``Idempotency-Key`` header: 1 to 200 visible ASCII characters."""
    value = request.headers.get("idempotency-key")
    if value is None:
        return None
    if not _KEY.fullmatch(value):
        raise _bad("Idempotency-Key", "must be 1 to 200 visible ASCII characters (a UUID, say)")
    return value
