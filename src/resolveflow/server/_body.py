"""Reading a request's JSON body within limits: its size, its nesting, its media type.

The body is counted as it arrives, so a client that declares no length (or a
false one) is refused as soon as it passes :data:`MAX_BODY`. The nesting is
measured on the raw text before it is parsed, so a deep document costs time
in its size, not a recursion error. ``NaN`` and ``Infinity`` are not JSON and
are refused, as are numbers too large for a float (``1e999``) and numbers with
more digits than Python converts.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

from starlette.requests import ClientDisconnect, Request

from resolveflow.server._problems import Problem

MAX_BODY: Final = 1024 * 1024
"""The largest request body read, in bytes (a larger one gets 413)."""
MAX_DEPTH: Final = 32
"""The deepest nesting of objects and arrays in a request body (deeper gets 400)."""


def too_large(limit: int) -> Problem:
    """The 413 problem for a body over ``limit`` bytes."""
    return Problem(
        413,
        "body-too-large",
        f"the request body is larger than the {limit} bytes this API reads",
        headers={"Connection": "close"},
    )


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, or a 413 problem as soon as it is longer than ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit() and len(declared) <= 18):
            raise Problem(400, "bad-content-length", "the Content-Length header is not a number")
        if int(declared) > limit:
            raise too_large(limit)
    chunks: list[bytes] = []
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect as error:
        raise Problem(400, "incomplete-body", "the client went away before sending the body") from error
    return b"".join(chunks)


def depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings (for text that parses as JSON)."""
    deepest = level = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            level += 1
            deepest = max(deepest, level)
        elif char in "]}":
            level -= 1
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    """A JSON number with a fraction or exponent; one too large for a float (``1e999``) is refused."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


async def read_json(request: Request, *, limit: int = MAX_BODY, max_depth: int = MAX_DEPTH) -> Any:
    """The request's JSON body (None when it is empty), or a problem saying what is wrong with it.

    Raises:
        Problem: 415 for another media type, 413 for a body over ``limit``, 400 for
            text that is not UTF-8 JSON or nests deeper than ``max_depth``.
    """
    raw = await read_body(request, limit)
    if not raw.strip():
        return None
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise Problem(
            415,
            "unsupported-media-type",
            "send the body as application/json",
            headers={"Accept-Post": "application/json"},
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem(400, "bad-json", "the body is not UTF-8 text") from error
    if depth(text) > max_depth:
        raise Problem(400, "json-too-deep", f"the body nests objects and arrays deeper than {max_depth}")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError) as error:
        raise Problem(400, "bad-json", f"the body is not JSON: {str(error)[:200]}") from error


def json_object(value: Any, what: str = "the body") -> dict[str, Any]:
    """``value`` if it is a JSON object, else a 400 problem."""
    if not isinstance(value, dict):
        raise Problem(400, "bad-body", f"{what} must be a JSON object")
    return value
