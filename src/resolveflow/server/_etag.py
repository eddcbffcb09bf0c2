"""A case's entity tag: ``"<seq>-<head hash prefix>"``, and reading it back from ``If-Match``.

The sequence number says how far the case's history goes; the prefix of the
head hash ties the tag to that exact history (an entry's hash covers every
entry before it). A client sends the tag back in ``If-Match`` when it fires,
and the store's compare-and-set does the rest.
"""

from __future__ import annotations

import re
from typing import Final

from resolveflow.server._problems import Problem

# 16 hex digits of the SHA-256 head: 64 bits, enough to tell two histories of one case apart.
HASH_PREFIX: Final = 16
_TAG: Final = re.compile(r'"(0|[1-9][0-9]{0,17})-([0-9a-f]{16})"')


def etag(seq: int, head: str) -> str:
    """The strong entity tag of a case at entry ``seq`` whose head hash is ``head``.

    Example:
        >>> etag(3, "ab" * 32)
        '"3-abababababababab"'
    """
    return f'"{seq}-{head[:HASH_PREFIX]}"'


def parse_if_match(value: str | None) -> tuple[int, str] | None:
    """``(seq, hash prefix)`` from an ``If-Match`` header; None when absent or ``*``.

    Raises:
        Problem: 400 for anything but one strong tag this API made, or ``*``.
            A weak tag (``W/"..."``) is refused too: ``If-Match`` compares strongly.
    """
    if value is None:
        return None
    text = value.strip()
    if text == "*":
        return None
    found = _TAG.fullmatch(text)
    if found is None:
        raise Problem(
            400,
            "bad-if-match",
            'If-Match must be one ETag this API returned, such as "3-1f2e3d4c5b6a7988", or *',
            title="Bad If-Match",
        )
    return int(found.group(1)), found.group(2)
