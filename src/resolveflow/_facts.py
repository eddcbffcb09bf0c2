"""What guards ask of a history, indexed once instead of scanned by every guard.

Guards ask the same few questions ("is there a plan?", "which of its items
are still open?", "the latest record of this type?"). Answering each by
scanning the history made every plan guard linear in the history's length, and
a replay, which decides every entry again, quadratic. :class:`HistoryFacts`
answers them from an index built in one pass and extended entry by entry: a
replay keeps one for the whole history, a single decision builds one on first
use. It is never stored on a live case, which keeps cases small; the answers
are the ones a scan gives (a property test holds the two together).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from resolveflow import evidence as ev

if TYPE_CHECKING:
    from resolveflow._history import HistoryEntry


class HistoryFacts:
    """An index over a history's evidence: positions by record type, and the plan in force."""

    __slots__ = ("_done", "_open", "_plan", "count", "positions")

    def __init__(self, entries: Iterable[HistoryEntry] = ()) -> None:
        self.count = 0
        # Record type -> positions (0-based) of the entries holding one, in order.
        self.positions: dict[type, list[int]] = {}
        self._plan: ev.Plan | None = None  # the latest plan: the one in force
        self._done: set[str] = set()  # item ids completed since that plan
        self._open: tuple[ev.PlanItem, ...] | None = None  # cache, cleared on add
        add = self.add
        for entry in entries:
            add(entry)

    def add(self, entry: HistoryEntry) -> None:
        """Take the next entry into account (entries must come in order)."""
        record = entry.evidence
        if record is not None:
            found = self.positions.get(type(record))
            if found is None:
                self.positions[type(record)] = [self.count]
            else:
                found.append(self.count)
            if isinstance(record, ev.Plan):
                self._plan, self._done, self._open = record, set(), None
            elif isinstance(record, ev.ItemCompletion) and self._plan is not None:
                self._done.add(record.item_id)
                self._open = None
        self.count += 1

    def where(self, record_type: type) -> list[int]:
        """Positions of the entries whose evidence is a ``record_type`` (subclasses count), in order."""
        matching = [found for kind, found in self.positions.items() if issubclass(kind, record_type)]
        if len(matching) == 1:
            return matching[0]
        return sorted(i for found in matching for i in found)

    def latest_position(self, record_type: type) -> int | None:
        """The position of the latest ``record_type`` record, or None."""
        latest = [found[-1] for kind, found in self.positions.items() if issubclass(kind, record_type)]
        return max(latest) if latest else None

    def open_plan_items(self) -> tuple[ev.PlanItem, ...] | None:
        """The items of the plan in force not completed since it was agreed; None without a plan."""
        if self._plan is None:
            return None
        if self._open is None:
            self._open = tuple(item for item in self._plan.items if item.id not in self._done)
        return self._open


def records_at(history: tuple[HistoryEntry, ...], positions: Iterable[int]) -> tuple[Any, ...]:
    """The evidence of the entries at these positions."""
    return tuple(history[i].evidence for i in positions)
