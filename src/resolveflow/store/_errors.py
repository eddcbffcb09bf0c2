"""The store's errors live in :mod:`resolveflow.exceptions` with all the others; re-exported here."""

from __future__ import annotations

from resolveflow.exceptions import (
    CaseExists,
    CaseNotFound,
    ConcurrencyConflict,
    IdempotencyConflict,
    StoreFull,
    StoreLocked,
    StoreReadOnly,
    StoreUnavailable,
    TamperedHistory,
)

__all__ = [
    "CaseExists",
    "CaseNotFound",
    "ConcurrencyConflict",
    "IdempotencyConflict",
    "StoreFull",
    "StoreLocked",
    "StoreReadOnly",
    "StoreUnavailable",
    "TamperedHistory",
]
