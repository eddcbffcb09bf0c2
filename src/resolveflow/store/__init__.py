"""Cases kept in SQL: SQLite by default, PostgreSQL (or any SQLAlchemy database) at scale.

Needs the ``sql`` extra (``pip install 'resolveflow[sql]'``). A file path
opens SQLite; a URL opens anything SQLAlchemy 2 reaches (``postgresql://``
uses psycopg 3). Tables are only created when you ask: call
:meth:`Store.create_schema`, or apply :func:`schema_sql` with your own
migration tool (:data:`metadata` is there for Alembic).

Every change to a stored case is one transaction that brings the case up to
the database's head (replaying only the entries written since this store last
wrote it, or the whole history the first time), runs the guards and appends
one entry with a compare-and-set on the case's last sequence number: two
writers never both append from the same point (the loser gets
:class:`ConcurrencyConflict`), a refused action writes nothing, and a retry
with the same idempotency key records nothing new. The entry's events go to
a transactional outbox in the same transaction, which :meth:`Store.events`
reads in commit order. A :class:`DeadlineWorker` fires ``deadline.due`` and
``deadline.missed`` events for the promises the records made, exactly once
each. :meth:`Store.verify` is the audit that replays every stored case in full.

Example:
    >>> import os, tempfile, resolveflow.store
    >>> tmp = tempfile.TemporaryDirectory()
    >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
    >>> store.create_schema()
    >>> _ = store.open_case("prescription", case_id="T-1")
    >>> _ = store.fire("T-1", "acknowledge_problem", {
    ...     "customer_perspective": "Order arrived a week late.",
    ...     "accepts_accountability": True}, actor="ana")
    >>> [c.case_id for c in store.cases_at("remedy_now")]
    ['T-1']
    >>> store.load("T-1").step
    'remedy_now'
    >>> store.close(); tmp.cleanup()
"""

from __future__ import annotations

try:
    import sqlalchemy as _sqlalchemy  # noqa: F401 - fail early with the extra's name
except ImportError as _error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "resolveflow.store needs SQLAlchemy 2; install it with: pip install 'resolveflow[sql]'"
    ) from _error

from resolveflow._public import publish as _publish
from resolveflow.store._analytics import (
    Analytics,
    OutcomeCount,
    OverdueCount,
    RefusalCount,
    ResolutionTime,
    Revisits,
    StepTime,
    analyze,
)
from resolveflow.store._async import AsyncStore, connect_async
from resolveflow.store._audit import AuditFinding, AuditReport
from resolveflow.store._deadline_worker import DeadlineWorker, WorkerReport
from resolveflow.store._deliveries import Delivery
from resolveflow.store._errors import (
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
from resolveflow.store._outbox import EventPage, StoredEvent
from resolveflow.store._records import CaseSummary, Deadline, HistoryPage
from resolveflow.store._relay import Listener, Relay, RelayRound, Webhook, dead_letters, replay_dead_letters
from resolveflow.store._report import report, time_in_step_svg
from resolveflow.store._store import Store, connect
from resolveflow.store._tables import metadata, schema_sql

__all__ = [
    "Analytics",
    "AsyncStore",
    "AuditFinding",
    "AuditReport",
    "CaseExists",
    "CaseNotFound",
    "CaseSummary",
    "ConcurrencyConflict",
    "Deadline",
    "DeadlineWorker",
    "Delivery",
    "EventPage",
    "HistoryPage",
    "IdempotencyConflict",
    "Listener",
    "OutcomeCount",
    "OverdueCount",
    "RefusalCount",
    "Relay",
    "RelayRound",
    "ResolutionTime",
    "Revisits",
    "StepTime",
    "Store",
    "StoreFull",
    "StoreLocked",
    "StoreReadOnly",
    "StoreUnavailable",
    "StoredEvent",
    "TamperedHistory",
    "Webhook",
    "WorkerReport",
    "analyze",
    "connect",
    "connect_async",
    "dead_letters",
    "metadata",
    "replay_dead_letters",
    "report",
    "schema_sql",
    "time_in_step_svg",
]

_publish(__name__, globals(), __all__)
