"""What guards ask of a history, indexed once instead of scanned by every guard.

Guards ask the same few questions ("is there a plan?", "which of its items
are still open?", "the latest record of this type?"). Answering each by
scanning the history made every plan guard linear in the history's length, and
a replay, which decides every entry again, quadratic. :class:`HistoryFacts`
answers them from an index built in one pass and extended entry by entry: a
replay keeps one for the whole history, a single decision builds one on first
use, kept for the next decisions on the same history (:func:`facts_of`). It is
never stored on a live case, which keeps cases small; the answers are the ones
a scan gives (a property test holds the two together).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from resolveflow import evidence as ev

if TYPE_CHECKING:
    from resolveflow._history import HistoryEntry


_KINDS: dict[type, tuple[type, ...]] = {}


def _kinds(record_type: type) -> tuple[type, ...]:
    """The classes a record counts as (its own and its bases but ``object``), cached per class."""
    found = _KINDS.get(record_type)
    if found is None:
        found = _KINDS[record_type] = tuple(k for k in record_type.__mro__ if k is not object)
    return found


class HistoryFacts:
    """An index over a history's evidence: positions by record type, and the plan in force."""

    __slots__ = ("_done", "_open", "_plan", "count", "positions")

    def __init__(self, entries: Iterable[HistoryEntry] = ()) -> None:
        # Record type -> positions (0-based) of the entries holding one, in order. A
        # record is filed under each of its classes, so a guard asking for a base
        # class finds subclasses with one lookup.
        self.positions: dict[type, list[int]] = {}
        self.count = 0
        self._plan: ev.Plan | None = None  # the latest plan: the one in force
        self._done: set[str] = set()  # item ids completed since that plan
        self._open: tuple[ev.PlanItem, ...] | None = None  # cache, cleared when they change
        for entry in entries:
            self._take(entry.evidence, shared=False)

    def add(self, entry: HistoryEntry) -> None:
        """Take the next entry into account (entries must come in order).

        It changes this index in place: only for one its builder has not shared
        (a replay's own); see :meth:`extended` for the others.
        """
        self._take(entry.evidence, shared=False)

    def extended(self, entry: HistoryEntry) -> HistoryFacts:
        """A new index for this history plus ``entry``; this one is left as it is.

        Lists and sets that the entry does not touch are shared, so it costs a
        few lookups, not a pass over the history: the index of a live case moves
        forward with each fire() instead of being rebuilt.
        """
        out: HistoryFacts = object.__new__(HistoryFacts)
        out.positions, out.count = dict(self.positions), self.count
        out._plan, out._done, out._open = self._plan, self._done, self._open
        out._take(entry.evidence, shared=True)
        return out

    def _take(self, record: object, *, shared: bool) -> None:
        """File the next entry's record; ``shared``: lists and the done set belong to another index too."""
        if record is not None:
            positions = self.positions
            for kind in _KINDS.get(type(record)) or _kinds(type(record)):
                found = positions.get(kind)
                if found is None:
                    positions[kind] = [self.count]
                elif shared:
                    positions[kind] = [*found, self.count]
                else:
                    found.append(self.count)
            if isinstance(record, ev.Plan):
                self._plan, self._done, self._open = record, set(), None
            elif isinstance(record, ev.ItemCompletion) and self._plan is not None:
                if shared:
                    self._done = {*self._done, record.item_id}
                else:
                    self._done.add(record.item_id)
                self._open = None
        self.count += 1

    def where(self, record_type: type | tuple[type, ...]) -> list[int]:
        """Positions of the entries whose evidence ``isinstance(evidence, record_type)``, in order.

        A class the records were filed under answers with one lookup; anything
        else isinstance accepts (a tuple of classes, ``object``, an ABC a record
        class was registered with) is answered from the classes filed.
        """
        found = self.positions.get(record_type) if isinstance(record_type, type) else None
        if found is not None:
            return found
        # A record is filed under its bases too: the set keeps each position once.
        matching = [kind for kind in self.positions if issubclass(kind, record_type)]
        if len(matching) == 1:
            return self.positions[matching[0]]
        return sorted({i for kind in matching for i in self.positions[kind]})

    def latest_position(self, record_type: type | tuple[type, ...]) -> int | None:
        """The position of the latest record that is a ``record_type``, or None."""
        found = self.where(record_type)
        return found[-1] if found else None

    def open_plan_items(self) -> tuple[ev.PlanItem, ...] | None:
        """The items of the plan in force not completed since it was agreed; None without a plan."""
        if self._plan is None:
            return None
        if self._open is None:
            self._open = tuple(item for item in self._plan.items if item.id not in self._done)
        return self._open


# The indexes of the last few histories decided on, per thread. A UI asks about one
# case many times in a row (view() checks every action of the step; a form is
# checked, then fired), and a history tuple never changes, so its index can be
# reused for as long as the same tuple comes back. Keyed by id() and checked by
# identity: the cache holds the tuple, so its id cannot be reused meanwhile. At
# most _RECENT_SIZE histories per thread stay referenced after their cases are gone.
_RECENT: Final = threading.local()
_RECENT_SIZE: Final = 16


def facts_of(history: tuple[HistoryEntry, ...]) -> HistoryFacts:
    """The index of a history, built once while it is among the recently used."""
    cache: dict[int, tuple[tuple[HistoryEntry, ...], HistoryFacts]] | None = getattr(_RECENT, "cache", None)
    if cache is None:
        cache = _RECENT.cache = {}
    found = cache.get(id(history))
    if found is not None and found[0] is history:
        return found[1]
    facts = HistoryFacts(history)
    remember(history, facts)
    return facts


def remember(history: tuple[HistoryEntry, ...], facts: HistoryFacts) -> None:
    """Keep a finished index (e.g. the one a replay kept up to date) for the next decisions."""
    cache = getattr(_RECENT, "cache", None)
    if cache is None:
        cache = _RECENT.cache = {}
    if len(cache) >= _RECENT_SIZE:
        del cache[next(iter(cache))]  # the oldest: dicts keep insertion order
    cache[id(history)] = (history, facts)


def carry_over(old: tuple[HistoryEntry, ...], new: tuple[HistoryEntry, ...]) -> None:
    """After ``new`` = ``old`` + one entry: if ``old``'s index is at hand, move it forward."""
    cache = getattr(_RECENT, "cache", None)
    found = None if cache is None else cache.get(id(old))
    if found is not None and found[0] is old:
        remember(new, found[1].extended(new[-1]))


def records_at(history: tuple[HistoryEntry, ...], positions: Iterable[int]) -> tuple[Any, ...]:
    """The evidence of the entries at these positions."""
    return tuple(history[i].evidence for i in positions)
