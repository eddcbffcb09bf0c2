"""A clock that tests and demos move by hand."""

from __future__ import annotations

import datetime as _dt

from resolveflow.exceptions import InvalidInput

DEFAULT_START = _dt.datetime(2026, 1, 5, 9, 0, tzinfo=_dt.UTC)


class ManualClock:
    """A clock that only moves when told to; pass it as a case's ``clock``.

    Example:
        >>> from resolveflow.testing import ManualClock
        >>> clock = ManualClock()
        >>> start = clock()
        >>> clock.advance(hours=2) - start
        datetime.timedelta(seconds=7200)
    """

    def __init__(self, start: _dt.datetime = DEFAULT_START) -> None:
        if not isinstance(start, _dt.datetime) or start.utcoffset() is None:
            raise InvalidInput("the start must be a time-zone aware datetime", argument="start")
        self.now = start

    def __call__(self) -> _dt.datetime:
        return self.now

    def advance(self, **delta: float) -> _dt.datetime:
        """Move forward by a ``timedelta(**delta)``; moving backwards is refused."""
        step = _dt.timedelta(**delta)
        if step < _dt.timedelta(0):
            raise InvalidInput("a clock only moves forward", argument="delta")
        self.now += step
        return self.now

    def __repr__(self) -> str:
        return f"ManualClock({self.now.isoformat()})"
