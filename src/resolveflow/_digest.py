"""A methodology definition's digest: what a case binds so that its definition cannot be swapped.

A case is recorded under ``id@version``; the digest says *which* definition
that was. It is the SHA-256 of the RFC 8785 text of the definition's file form
(``methodology_to_dict``, without its ``resolveflow`` format-version key, so a
newer file format does not change the digest of an unchanged definition):
the file form is published and stable across refactors of the code, which a
digest of Python objects would not be.

Methodologies that a file cannot express (a ``Rule``, a guard class not
registered as a kind, a record class with validators) fall back to a
structural form: the same walk over their attrs fields, with Python parts named
by ``module.qualname`` and record classes by their evidence JSON Schema. Such a
digest changes when those classes are renamed or moved, and does not see a
change inside a predicate's body: give a Python methodology a new version when
a rule changes (see docs/methodologies.md).
"""

from __future__ import annotations

import datetime as _dt
import enum
import hashlib
import math
import re
from collections.abc import Mapping
from typing import Final

import attrs

from resolveflow._canonical import canonical_bytes
from resolveflow._files import methodology_to_dict
from resolveflow._methodology import Methodology
from resolveflow._schema import record_codec
from resolveflow.exceptions import InvalidInput, InvalidMethodologyFile, ResolveflowError

PREFIX: Final = "sha256:"
DIGEST: Final = re.compile(r"sha256:[0-9a-f]{64}")
_FORM_DEPTH: Final = 64  # a definition is shallow; anything deeper is a loop in the objects


def definition_digest(methodology: Methodology) -> str:
    """The digest of a methodology's definition, ``"sha256:"`` and 64 hex digits.

    Two definitions with the same file form have the same digest, in any
    process and on any machine; any change to a step, outcome, action, guard
    or record changes it. Each case binds the digest of every version it was
    recorded under (``case.definitions``). Computed once per Methodology object.

    Raises:
        InvalidInput: ``methodology`` is not a Methodology.

    Example:
        >>> import resolveflow
        >>> from resolveflow.files import definition_digest
        >>> definition_digest(resolveflow.get_methodology("engage"))[:7]
        'sha256:'
    """
    if not isinstance(methodology, Methodology):
        raise InvalidInput(
            f"expected a Methodology, got {type(methodology).__name__}", argument="methodology"
        )
    cached: str | None = methodology._digest
    if cached is not None:
        return cached
    digest = PREFIX + hashlib.sha256(canonical_bytes(_form(methodology))).hexdigest()
    # Frozen, but this slot is filled once, lazily: opening a case never pays for it.
    object.__setattr__(methodology, "_digest", digest)
    return digest


def _form(methodology: Methodology) -> dict[str, object]:
    try:
        data = methodology_to_dict(methodology)
    except InvalidMethodologyFile:
        return {"python": _python_form(methodology, 0)}
    data.pop("resolveflow", None)
    data.pop("escalations", None)  # operating policy, not what a case records (see _escalation.py)
    return {"file": data}


def _name(thing: object) -> str:
    return f"{getattr(thing, '__module__', '?')}.{getattr(thing, '__qualname__', type(thing).__qualname__)}"


def _python_form(value: object, depth: int) -> object:
    """A JSON form of a definition's objects that does not depend on object identity."""
    if depth > _FORM_DEPTH:
        return {"deeper": _name(type(value))}
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, enum.Enum):
        return {"enum": _name(type(value)), "value": _python_form(value.value, depth + 1)}
    if isinstance(value, _dt.timedelta):
        return {"seconds": str(value.total_seconds())}
    if isinstance(value, _dt.date | _dt.time):
        return {"time": value.isoformat()}
    if isinstance(value, type):
        if attrs.has(value):
            try:
                return {"record": _name(value), "schema": record_codec(value).schema()}
            except (ResolveflowError, TypeError, ValueError):
                pass  # an attrs class that is not an evidence record: its name is all there is
        return {"class": _name(value)}
    if attrs.has(type(value)):
        fields = {
            f.name: _python_form(getattr(value, f.name), depth + 1)
            for f in attrs.fields(type(value))  # type: ignore[arg-type] # attrs.has() checked it
            if f.init and f.eq
        }
        return {"class": _name(type(value)), "fields": fields}
    if isinstance(value, Mapping):
        return {str(k): _python_form(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_python_form(item, depth + 1) for item in value]
    if isinstance(value, set | frozenset):
        items = [_python_form(item, depth + 1) for item in value]
        return sorted(items, key=canonical_bytes)
    if callable(value):
        return {"callable": _name(value)}
    return {"object": _name(type(value))}
