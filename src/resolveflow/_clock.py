"""Times: the clock type, the system clock, the one time check, and a clock moved by hand."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

from resolveflow.exceptions import InvalidInput

Clock = Callable[[], _dt.datetime]
"""A callable returning the current time, time-zone aware (e.g. ``ManualClock`` in tests)."""


def system_clock() -> _dt.datetime:
    """The default clock: the current UTC time."""
    return _dt.datetime.now(_dt.UTC)


def check_time(at: object, argument: str) -> _dt.datetime:
    """A time-zone aware datetime in UTC; naive times are ambiguous and refused (InvalidInput)."""
    if type(at) is _dt.datetime and at.tzinfo is _dt.UTC:
        return at  # the common case, and the one on every hot path
    if not isinstance(at, _dt.datetime):
        raise InvalidInput(f"expected a datetime, got {type(at).__name__}", argument=argument)
    try:
        offset = at.utcoffset()
        utc = None if offset is None else at.astimezone(_dt.UTC)
    except OverflowError:
        # datetime.max at -14:00 is past the year 9999 in UTC.
        raise InvalidInput(
            "is outside the years 1 to 9999 once converted to UTC", argument=argument
        ) from None
    except Exception as error:
        raise InvalidInput(
            f"its time zone could not give its UTC offset ({type(error).__name__})", argument=argument
        ) from error
    if utc is None:
        raise InvalidInput(
            "needs a time zone (e.g. datetime.now(timezone.utc)); naive times are ambiguous",
            argument=argument,
        )
    return utc


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
