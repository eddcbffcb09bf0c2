"""What guards ask of a history, kept up to date entry by entry.

Guards ask the same few questions: "the latest record of this type?",
"which records of this type since that one?", "has the case been at this
step, and when did it last enter it?", "which promises are still open?".
Answering each by scanning the history would make every guard linear in
the history's length and a replay quadratic. A :class:`HistoryIndex` belongs
to one ledger (``_ledger.py``), is extended in place as each entry is
accepted, and so answers in time that does not grow with the history.

It knows no concrete record: a record is filed under its class and bases,
and what it promises or settles comes from the record itself (``_promise.py``).
Step ids are kept in the terms of the version the case is on now: after a
migration, :meth:`HistoryIndex.remap` translates them once.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from collections.abc import Callable, Iterable
from typing import Final

from resolveflow._promise import Promise, promises_kept, promises_made

_KINDS: Final[dict[type, tuple[type, ...]]] = {}
_MAX_KINDS: Final = 4096  # classes remembered; files can make classes without end


def _kinds(record_type: type) -> tuple[type, ...]:
    """The classes a record counts as (its own and its bases but ``object``)."""
    found = _KINDS.get(record_type)
    if found is None:
        found = tuple(k for k in record_type.__mro__ if k is not object)
        if len(_KINDS) < _MAX_KINDS:
            _KINDS[record_type] = found
    return found


class HistoryIndex:
    """An index over one history: positions by record type, steps, entry times and open promises."""

    __slots__ = (
        "_follow_ups",
        "acted",
        "count",
        "entered",
        "froms",
        "positions",
        "promises",
        "tos",
        "visited",
    )

    def __init__(self, initial: str) -> None:
        # Record type -> positions (0-based) of the entries holding one, in order. A record
        # is filed under each of its classes, so asking for a base class is one lookup.
        self.positions: dict[type, list[int]] = {}
        self.count = 0
        self.froms: list[str] = []  # each entry's from-step, in the current version's ids
        self.tos: list[str] = []  # each entry's step, in the current version's ids
        self.visited: set[str] = {initial}
        self.entered: dict[str, _dt.datetime] = {}  # step -> when the case last entered it
        self.promises: dict[tuple[str, str], Promise] = {}  # open promises, oldest first
        self._follow_ups: list[tuple[str, str]] = []  # open promises the next action settles
        # Step -> the actor ids who took an action at it (four-eyes guards ask; kept, not scanned).
        self.acted: dict[str, set[str]] = {}

    def add(
        self, action: str, from_step: str, step: str, at: _dt.datetime, record: object, actor: str = ""
    ) -> None:
        """Take the next entry into account (in order; steps in the current version's ids).

        What the record promises and keeps is asked first: a record whose hooks
        fail (InvalidMethodology) leaves the index as it was.
        """
        kept = promises_kept(record) if record is not None else ()
        made = promises_made(record) if record is not None else ()
        position = self.count
        if record is not None:
            positions = self.positions
            for kind in _KINDS.get(type(record)) or _kinds(type(record)):
                found = positions.get(kind)
                if found is None:
                    positions[kind] = [position]
                else:
                    found.append(position)
        self._note_steps(position, from_step, step, at)
        if actor:
            self.acted.setdefault(from_step, set()).add(actor)
        self.froms.append(from_step)
        self.tos.append(step)
        self.count = position + 1
        self._settle(action, kept, made)

    def _note_steps(self, position: int, from_step: str, step: str, at: _dt.datetime) -> None:
        if position == 0:
            self.entered.setdefault(from_step, at)  # the initial step counts from the first entry
            self.visited.add(from_step)
        if step != from_step:
            self.entered[step] = at
            self.visited.add(step)

    def _settle(
        self, action: str, kept: tuple[tuple[str, str | None], ...], made: tuple[Promise, ...]
    ) -> None:
        promises = self.promises
        for key in self._follow_ups:
            promises.pop(key, None)
        self._follow_ups = []
        for kind, ref in kept:
            if ref is not None:
                promises.pop((kind, ref), None)
            else:
                for key in [k for k in promises if k[0] == kind]:
                    del promises[key]
        for promise in made:
            key = (promise.kind, action if promise.ref is None else promise.ref)
            promises.pop(key, None)  # a promise made again moves to the end
            promises[key] = promise
            if promise.until_next_action:
                self._follow_ups.append(key)

    def remap(self, translate: Callable[[str], str], ats: Iterable[_dt.datetime]) -> None:
        """Translate every recorded step id after a migration (once per migration).

        ``ats`` are the entries' times (the history holds them; the index does not copy them).
        """
        self.froms = [translate(s) for s in self.froms]
        self.tos = [translate(s) for s in self.tos]
        self.visited = {translate(s) for s in self.visited}
        acted: dict[str, set[str]] = {}
        for source, actors in self.acted.items():
            acted.setdefault(translate(source), set()).update(actors)
        self.acted = acted
        self.entered = {}
        for position, (source, target, at) in enumerate(zip(self.froms, self.tos, ats, strict=True)):
            self._note_steps(position, source, target, at)

    def copy(self) -> HistoryIndex:
        """An independent copy (a migrated case gets its own ledger)."""
        out: HistoryIndex = object.__new__(HistoryIndex)
        out.positions = {kind: list(found) for kind, found in self.positions.items()}
        out.count = self.count
        out.froms, out.tos = list(self.froms), list(self.tos)
        out.visited = set(self.visited)
        out.entered = dict(self.entered)
        out.promises = dict(self.promises)
        out._follow_ups = list(self._follow_ups)
        out.acted = {source: set(actors) for source, actors in self.acted.items()}
        return out

    def where(self, record_type: type | tuple[type, ...]) -> list[int]:
        """Positions of the entries whose evidence ``isinstance(evidence, record_type)``, in order.

        A class the records were filed under answers with one lookup; anything
        else isinstance accepts (a tuple of classes, an ABC a record class was
        registered with) is answered from the classes filed.
        """
        found = self.positions.get(record_type) if isinstance(record_type, type) else None
        if found is not None:
            return found
        matching = [kind for kind in self.positions if issubclass(kind, record_type)]
        if len(matching) == 1:
            return self.positions[matching[0]]
        return sorted({i for kind in matching for i in self.positions[kind]})

    def latest_position(self, record_type: type | tuple[type, ...]) -> int | None:
        """The position of the latest record that is a ``record_type``, or None."""
        found = self.where(record_type)
        return found[-1] if found else None

    def after(self, record_type: type | tuple[type, ...], position: int) -> list[int]:
        """Positions of ``record_type`` records later than ``position``."""
        found = self.where(record_type)
        return found[bisect.bisect_right(found, position) :]
