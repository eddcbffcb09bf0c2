"""The errors only the store raises.

They sit under :class:`~resolveflow.ResolveflowError` like every other error,
and carry their context as attributes so that a CRM can answer an API call
(``409 Conflict`` with the current sequence number, say) without parsing the
message. A store call that raises any of them has written nothing.

The tree (the store's part)::

    ResolveflowError
    ├── ConcurrencyConflict   another writer moved the case on first
    ├── IdempotencyConflict   an idempotency key reused for a different request
    ├── CaseNotFound          no stored case has this id
    ├── CaseExists            a case with this id is already stored
    └── InvalidSnapshot
        └── TamperedHistory   the stored rows do not replay (names the case and entry)
"""

from __future__ import annotations

from resolveflow.exceptions import InvalidSnapshot, ResolveflowError


class ConcurrencyConflict(ResolveflowError):
    """Another writer recorded an entry on this case since it was read.

    Nothing was written. Reload the case, decide again (the guards may now
    answer differently) and retry, or let :meth:`Store.fire_with_retry` do it.

    Attributes:
        case_id: the case.
        expected_seq: the sequence number the call expected the case to be at.
        current_seq: the sequence number it is at now.

    Example:
        >>> from resolveflow.store import ConcurrencyConflict
        >>> error = ConcurrencyConflict(case_id="C-1", expected_seq=3, current_seq=4)
        >>> error.current_seq
        4
    """

    def __init__(self, *, case_id: str, expected_seq: int, current_seq: int) -> None:
        self.case_id = case_id
        self.expected_seq = expected_seq
        self.current_seq = current_seq
        super().__init__(
            f"case {case_id!r} was expected at entry {expected_seq} but another writer has "
            f"moved it to entry {current_seq}; reload it and decide again (or use fire_with_retry)"
        )


class IdempotencyConflict(ResolveflowError, ValueError):
    """An idempotency key was reused on a case for a request with different content.

    Attributes:
        case_id: the case.
        key: the idempotency key.
        seq: the entry the key already stands for.
    """

    def __init__(self, *, case_id: str, key: str, seq: int) -> None:
        self.case_id = case_id
        self.key = key
        self.seq = seq
        super().__init__(
            f"idempotency key {key!r} on case {case_id!r} was already used for entry {seq} with a "
            "different action, evidence, actor or time; use a new key for a new request"
        )


class CaseNotFound(ResolveflowError, LookupError):
    """No stored case has this id.

    Attributes:
        case_id: the id that was asked for.
    """

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"no stored case has the id {case_id!r}; open it first with store.open_case()")


class CaseExists(ResolveflowError, ValueError):
    """A case with this id is already stored.

    Attributes:
        case_id: the id that is taken.
    """

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"a case with the id {case_id!r} is already stored; load it with store.load()")


class TamperedHistory(InvalidSnapshot):
    """The stored rows of a case do not replay: a row was edited, removed or added.

    Attributes:
        case_id: the case.
        entry: the sequence number of the first bad entry row (for a case row
            that disagrees with its entries, the case's last sequence number).
        reason: what was wrong.
    """

    def __init__(self, reason: str, *, case_id: str, entry: int) -> None:
        super().__init__(reason, entry=entry)
        self.case_id = case_id
        self.entry: int = entry
        # The base message names the entry; the store's names the case too.
        self.args = (f"stored case {case_id!r}, entry {entry}: {reason}",)
