"""The hook long-running parts of resolveflow call for telemetry; inert until tracing is on.

:func:`resolveflow.tracing.instrument` sets :data:`active`; until then (and
after :func:`resolveflow.tracing.uninstrument`) :func:`span` returns one
shared do-nothing context manager and :func:`add` returns at once, so a
caller pays one global read. This module imports nothing: OpenTelemetry is
only imported by :func:`resolveflow.tracing.instrument`.

The relay and the deadlines worker call it around their units of work::

    with _telemetry.span("resolveflow.relay.deliver", {"resolveflow.event.position": 42}):
        ...
    _telemetry.add("resolveflow.relay.deliveries", 1, {"resolveflow.delivery.outcome": "delivered"})

Attribute values must never be evidence, actor ids or webhook payloads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

AttributeValue = str | bool | int | float | Sequence[str]
Attributes = Mapping[str, AttributeValue]


class Hooks(Protocol):
    """What :func:`resolveflow.tracing.instrument` installs."""

    def span(self, name: str, attributes: Attributes) -> AbstractContextManager[object]:
        """A current span named ``name``; an exception leaving it marks it failed (type only)."""

    def add(self, counter: str, value: int, attributes: Attributes) -> None:
        """Add ``value`` to the counter named ``counter`` (made on first use)."""


active: Hooks | None = None
_NOTHING: AbstractContextManager[object] = nullcontext()
_EMPTY: Attributes = {}


def span(name: str, attributes: Attributes | None = None) -> AbstractContextManager[object]:
    """A span around a unit of work when tracing is on; a shared no-op otherwise."""
    hooks = active
    if hooks is None:
        return _NOTHING
    return hooks.span(name, _EMPTY if attributes is None else attributes)


def add(counter: str, value: int = 1, attributes: Attributes | None = None) -> None:
    """Count something when tracing is on; nothing otherwise."""
    hooks = active
    if hooks is not None:
        hooks.add(counter, value, _EMPTY if attributes is None else attributes)
