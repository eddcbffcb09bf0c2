"""What the store's queries return: plain frozen records, cheap to build from rows."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

import attrs

from resolveflow._history import HistoryEntry, format_time


@attrs.frozen(kw_only=True)
class CaseSummary:
    """One stored case as its row says, without replaying its history.

    Attributes:
        case_id: the case's id.
        methodology_id: the methodology it runs.
        methodology_version: and its version.
        step: its current step (an outcome's id once closed).
        outcome: the outcome it ended at, or None while open.
        last_seq: the number of entries in its history.
        head: the hash of its last entry (or of the empty history).
        created_at: when it was opened (UTC).
        updated_at: when its last entry was recorded (UTC).
    """

    case_id: str
    methodology_id: str
    methodology_version: str
    step: str
    outcome: str | None
    last_seq: int
    head: str
    created_at: _dt.datetime
    updated_at: _dt.datetime

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible data for an API response."""
        return {
            "case_id": self.case_id,
            "methodology": {"id": self.methodology_id, "version": self.methodology_version},
            "step": self.step,
            "outcome": self.outcome,
            "last_seq": self.last_seq,
            "head": self.head,
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
        }


@attrs.frozen(kw_only=True)
class Deadline:
    """A promise made on a stored case, with its due time (see :meth:`Store.overdue`).

    Attributes:
        case_id: the case that made it.
        methodology_id: the case's methodology.
        kind: ``"plan_item"``, ``"follow_up"``, ``"step_deadline"`` ... (as in ``OverdueItem``).
        ref: the plan item's id, the action that scheduled the follow-up, ``"<action>:<guard>"`` ...
        description: what was promised.
        due: when it is due (UTC).
    """

    case_id: str
    methodology_id: str
    kind: str
    ref: str
    description: str
    due: _dt.datetime

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible data for an API response."""
        return {
            "case_id": self.case_id,
            "methodology_id": self.methodology_id,
            "kind": self.kind,
            "ref": self.ref,
            "description": self.description,
            "due": format_time(self.due),
        }


@attrs.frozen(kw_only=True)
class HistoryPage:
    """One page of a stored case's history (see :meth:`Store.history`).

    Attributes:
        case_id: the case.
        entries: the entries on this page, oldest first.
        next_after_seq: pass it as ``after_seq`` for the next page; None on the last page.
    """

    case_id: str
    entries: tuple[HistoryEntry, ...]
    next_after_seq: int | None

    def __iter__(self) -> Iterator[HistoryEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)
