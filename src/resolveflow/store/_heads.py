"""Replayed cases kept between writes, so that a write costs the same at entry 20,000 as at entry 2.

``Store.fire`` must run the guards against the case as it is. Replaying the
whole history for that on every write made a write's cost grow with the
history (2.8 ms at 15 entries, 1.5 s at 20,000). Instead the store keeps the
ledgers it has replayed, keyed by case id, each with the sequence number and
head hash it stands for. A write reads the case row and only the entry rows
after the ledger it holds, in the same transaction as the insert:

- the row's ``last_seq`` and ``head`` are the ledger's: nothing to read, the
  guards run on the ledger as it is;
- the database is ahead (another process or thread wrote): the newer rows are
  replayed onto the ledger, through the guards and the chain, once the row at
  the ledger's own sequence number is shown to carry the ledger's head hash;
- anything else (no ledger, a shorter history, another chain under the same
  id): the case is replayed in full, as before.

The compare-and-set on ``last_seq`` that every write makes is what keeps this
right under concurrency; a ledger is taken out of the cache while a write uses
it and put back only after its transaction commits, so a write that fails never
leaves an entry in memory that the database does not hold.

What a write trusts: that rows already replayed in this process are not
edited under it. An edit to an old row is found by ``Store.verify`` (which
replays everything) and by ``Store.load`` (which compares every row).

A load (``Store.load``) uses the kept ledger too, without trusting it any
further than a write does: it reads every entry row of the case, as stored
(JSON and time columns cast to text, decoded by nobody), and compares each
with the rows it saw the last time it checked them against this same ledger
(``rows`` here). Rows it has not seen yet are decoded and compared with the
ledger's entries; rows past the ledger are replayed onto it through the
guards and the chain. Any difference sends the load to the full replay, which
names the bad entry. So a load still looks at every row, and an edited row is
still refused, at about the cost of reading the rows.

Memory is bounded by the number of entries held, a ledger's entries and the
raw rows kept beside it counted alike (least recently used cases are dropped
first).
"""

from __future__ import annotations

import collections
import threading
from typing import Any, Final

from resolveflow._ledger import Ledger

Seen = tuple[tuple[Any, ...], tuple[tuple[Any, ...], ...]]
"""What a load compared with a kept ledger: the case row's values and each entry row's, as stored."""

CaseKey = tuple[str, str]
"""A case in the cache: its tenant and its id (two tenants may use one case id)."""

DEFAULT_CACHED_ENTRIES: Final = 100_000
"""Entries kept replayed in memory across all cases, by default (a few hundred bytes each beyond evidence)."""


class LedgerCache:
    """Ledgers by case (tenant and id), least recently used dropped first past ``max_entries``.

    Beside a ledger, the raw entry rows a load has compared with it (oldest
    first, a prefix of its history); they go whenever the ledger is taken.
    """

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._held = 0
        self._ledgers: collections.OrderedDict[CaseKey, Ledger] = collections.OrderedDict()
        self._seen: dict[CaseKey, Seen] = {}
        self._sizes: dict[CaseKey, int] = {}
        self._lock = threading.Lock()

    def take(self, key: CaseKey) -> Ledger | None:
        """The ledger of ``key``, removed: the caller has it alone until it :meth:`put`\\ s it back.

        The rows a load compared with it are dropped with it (see :meth:`take_with_seen`).
        """
        found = self.take_with_seen(key)
        return found[0] if found is not None else None

    def take_with_seen(self, key: CaseKey) -> tuple[Ledger, Seen | None] | None:
        """The ledger of ``key`` and the rows a load compared with it (or None), both removed."""
        with self._lock:
            ledger = self._ledgers.pop(key, None)
            seen = self._seen.pop(key, None)
            if ledger is None:
                return None
            self._held -= self._sizes.pop(key)
            return ledger, seen

    def put(self, key: CaseKey, ledger: Ledger, seen: Seen | None = None) -> None:
        """Keep ``ledger`` (whose history the database holds, committed) for the next write or load.

        ``seen``: the rows a load just compared with it (its entry rows: a prefix of its history).
        """
        size = len(ledger) + (len(seen[1]) if seen is not None else 0) + 1  # an empty case costs its index
        with self._lock:
            old = self._sizes.pop(key, None)
            if old is not None:
                self._held -= old
                del self._ledgers[key]
            self._seen.pop(key, None)
            if size > self._max:
                return  # too long to keep at all (and an older ledger of it is gone too)
            self._ledgers[key] = ledger
            if seen is not None:
                self._seen[key] = seen
            self._sizes[key] = size
            self._held += size
            while self._held > self._max:
                dropped, _ = self._ledgers.popitem(last=False)
                self._held -= self._sizes.pop(dropped)
                self._seen.pop(dropped, None)

    def drop(self, key: CaseKey) -> None:
        self.take(key)

    def clear(self) -> None:
        with self._lock:
            self._ledgers.clear()
            self._seen.clear()
            self._sizes.clear()
            self._held = 0

    @property
    def held(self) -> int:
        """Entries held (ledger entries and raw rows, plus one per case), for tests of the bound."""
        return self._held

    def __len__(self) -> int:
        return len(self._ledgers)
