"""Promises: what a recorded record commits the business to, and by when.

The core knows no concrete evidence record. A record class tells it what it
promises and what it settles by defining two optional methods:

- ``promises_made(self)`` returns :class:`Promise` values (a plan's dated
  items, a call-back time ...);
- ``promises_kept(self)`` returns ``(kind, ref)`` pairs this record settles;
  a ``ref`` of None settles every open promise of that kind (a new plan
  replaces the previous one's items).

The ledger applies ``promises_kept`` first, then ``promises_made``, as each
entry is recorded, and keeps the promises still open. Guards ask for them
(``GuardContext.open_promises``) and ``Case.overdue`` reports those past due;
the store keeps them as deadline rows. A third party's methodology gets the
same treatment for its own dated records without touching resolveflow.

The methodology promises too: its step deadlines (``_step_deadlines.py``,
kind ``"step_deadline"``, which a record may not use) are derived from the
current step, not recorded, and join these in ``Case.overdue`` and the store's
deadline rows, but not in ``GuardContext.open_promises``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Final, NoReturn

import attrs

from resolveflow.exceptions import InvalidMethodology

_MAX_PROMISES: Final = 1000  # per record: a hook cannot make one entry cost without bound
STEP_DEADLINE: Final = "step_deadline"  # the methodology's own: its step deadlines (_step_deadlines.py)


@attrs.frozen(kw_only=True)
class Promise:
    """Something promised to the customer, due at a time.

    Attributes:
        kind: what sort of promise, e.g. ``"plan_item"`` or ``"follow_up"``.
        ref: which one, unique within its kind while open (a plan item's id);
            None: the name of the action that recorded it.
        description: what was promised, in words.
        due: when it is due (time-zone aware).
        until_next_action: True when whatever the case does next settles it
            (a call-back is kept by the next action, whichever it is).

    Example:
        >>> import datetime
        >>> Promise(kind="plan_item", ref="refund", description="Refund the fee",
        ...         due=datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)).kind
        'plan_item'
    """

    kind: str
    ref: str | None
    description: str
    due: _dt.datetime
    until_next_action: bool = False


def promises_made(record: object) -> tuple[Promise, ...]:
    """The promises a record makes (its ``promises_made()``), checked."""
    hook = getattr(record, "promises_made", None)
    if hook is None:
        return ()
    out: list[Promise] = []
    for item in _items(record, "promises_made", hook()):
        if not isinstance(item, Promise):
            _wrong(record, "promises_made", "Promise values", item)
        if item.kind == STEP_DEADLINE:
            raise InvalidMethodology(
                f"the promise kind {STEP_DEADLINE!r} is the methodology's own (its WithinDeadline "
                "guards); give the record's promises another kind",
                where=f"evidence record {type(record).__name__}.promises_made()",
            )
        out.append(item)
    return tuple(out)


def promises_kept(record: object) -> tuple[tuple[str, str | None], ...]:
    """The ``(kind, ref)`` pairs a record settles (its ``promises_kept()``), checked."""
    hook = getattr(record, "promises_kept", None)
    if hook is None:
        return ()
    out: list[tuple[str, str | None]] = []
    for item in _items(record, "promises_kept", hook()):
        if not (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and (item[1] is None or isinstance(item[1], str))
        ):
            _wrong(record, "promises_kept", "(kind, ref or None) pairs", item)
        out.append((item[0], item[1]))
    return tuple(out)


def _items(record: object, hook: str, found: object) -> list[object]:
    if not isinstance(found, Iterable) or isinstance(found, str | bytes):
        _wrong(record, hook, "an iterable", found)
    items: list[object] = []
    for item in found:
        if len(items) >= _MAX_PROMISES:
            raise InvalidMethodology(
                f"returned more than {_MAX_PROMISES} items",
                where=f"evidence record {type(record).__name__}.{hook}()",
            )
        items.append(item)
    return items


def _wrong(record: object, hook: str, expected: str, got: object) -> NoReturn:
    raise InvalidMethodology(
        f"must return {expected}, got {type(got).__name__}",
        where=f"evidence record {type(record).__name__}.{hook}()",
    )
