"""The store: cases in SQL tables, written one guarded entry at a time."""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import os
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final, NoReturn

import attrs
import sqlalchemy as sa

import resolveflow
from resolveflow._actor import Actor
from resolveflow._canonical import CanonicalError
from resolveflow._case import Case, case_ledger
from resolveflow._clock import Clock, check_time, system_clock
from resolveflow._digest import definition_digest
from resolveflow._history import HistoryEntry, entry_hash, genesis_hash
from resolveflow._ledger import Ledger
from resolveflow._methodology import Methodology
from resolveflow._migration import MIGRATE_ACTION
from resolveflow._schema import INVALID
from resolveflow._seal import KeyRing, chain_seals, chained_on, seal_problem
from resolveflow._shown import shown
from resolveflow._snapshot import snapshot_of
from resolveflow.exceptions import (
    DefinitionMismatch,
    InvalidEvidence,
    InvalidInput,
    InvalidSnapshot,
    Refused,
    UnknownAction,
    UnknownMethodology,
)
from resolveflow.store import _engine, _kept, _outbox, _rows, _unreadable, _upgrade
from resolveflow.store._analytics import Analytics, analyze
from resolveflow.store._args import count_arg, text_arg
from resolveflow.store._audit import AuditReport, sweep
from resolveflow.store._errors import (
    CaseExists,
    CaseNotFound,
    ConcurrencyConflict,
    IdempotencyConflict,
    TamperedHistory,
)
from resolveflow.store._heads import DEFAULT_CACHED_ENTRIES, LedgerCache, Seen
from resolveflow.store._outbox import EventPage
from resolveflow.store._records import CaseSummary, Deadline, HistoryPage
from resolveflow.store._tables import NO_TENANT, cases, deadlines, entries, idempotency, metadata, refusals

_MAX_PAGE: Final = 1000
IDEMPOTENCY_WINDOW: Final = _dt.timedelta(hours=24)
"""How long an idempotency key stands for its first request, by default."""
RETRY_ATTEMPTS: Final = 3
"""How many times ``fire_with_retry`` tries in all, by default (the sync and async stores alike)."""
MAX_IDEMPOTENCY_WINDOW: Final = _dt.timedelta(days=366)
_NOT_SUMMARISED: Final = frozenset({"tenant", "hash_recipe", "definitions"})  # how it is kept, not what it is

# Built once: the store runs these on every call. Every query names the tenant with the case id.
_CASE: Final = sa.select(cases).where(_rows.one_case(cases))
_CASE_AND_ENTRIES: Final = (
    sa.select(cases, *(entries.c[name].label(f"entry_{name}") for name in _rows.ENTRY_COLUMNS))
    .outerjoin(entries, _rows.same_case(entries, cases))
    .where(_rows.one_case(cases))
    .order_by(entries.c.seq)
)
# The case row and its entries from a sequence number on (the last one a kept ledger holds).
_CASE_AND_TAIL: Final = (
    sa.select(cases, *(entries.c[name].label(f"entry_{name}") for name in _rows.ENTRY_COLUMNS))
    .outerjoin(entries, sa.and_(_rows.same_case(entries, cases), entries.c.seq >= sa.bindparam("from_seq")))
    .where(_rows.one_case(cases))
    .order_by(entries.c.seq)
)


class Store:
    """Cases kept in a SQL database: every change goes through the guards, in one transaction.

    Make one with :func:`resolveflow.store.connect`; it is safe to share
    between threads, and any number of processes may open the same database.
    A stored case is only ever changed by :meth:`fire`, which reloads it,
    replays and verifies its history, runs the guards and appends one entry
    with a compare-and-set on the case's last sequence number, so that two
    writers can never both append from the same point.

    Example:
        >>> import os, tempfile, resolveflow.store
        >>> tmp = tempfile.TemporaryDirectory()
        >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
        >>> store.create_schema()
        >>> store.open_case("engage", case_id="C-1").step
        'engage'
        >>> entry = store.fire("C-1", "engage_fully", {"notes": "Parcel arrived broken."}, actor="ana")
        >>> entry.seq, store.load("C-1").step
        (1, 'empathize')
        >>> store.close(); tmp.cleanup()
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        clock: Clock | None = None,
        record_refusals: bool = False,
        methodologies: Iterable[Methodology] = (),
        owns_engine: bool = True,
        cached_entries: int = DEFAULT_CACHED_ENTRIES,
        idempotency_window: _dt.timedelta = IDEMPOTENCY_WINDOW,
        keys: KeyRing | None = None,
        tenant: str | None = None,
    ) -> None:
        if not isinstance(engine, sa.Engine):
            raise InvalidInput(
                f"expected a SQLAlchemy Engine (or use resolveflow.store.connect), got {shown(engine)}",
                argument="engine",
            )
        if clock is not None and not callable(clock):
            raise InvalidInput("a clock is a callable returning an aware datetime", argument="clock")
        if not isinstance(record_refusals, bool):
            raise InvalidInput("expected True or False", argument="record_refusals")
        self._engine = engine
        # The tenant whose cases this store reads and writes; NO_TENANT ("") for cases stored without one.
        self._tenant = NO_TENANT if tenant is None else text_arg(tenant, "tenant")
        self._clock = clock
        self._record_refusals = record_refusals
        self._owns_engine = owns_engine
        self._known: dict[tuple[str, str], Methodology] = {}
        if not isinstance(idempotency_window, _dt.timedelta) or not (
            _dt.timedelta(seconds=1) <= idempotency_window <= MAX_IDEMPOTENCY_WINDOW
        ):
            raise InvalidInput(
                f"expected a timedelta from 1 second to {MAX_IDEMPOTENCY_WINDOW.days} days, "
                f"got {shown(idempotency_window)}",
                argument="idempotency_window",
            )
        self._idempotency_window = idempotency_window
        if keys is not None and not isinstance(keys, KeyRing):
            raise InvalidInput(f"expected a resolveflow.KeyRing, got {type(keys).__name__}", argument="keys")
        self._keys = keys
        limit = count_arg(cached_entries, "cached_entries", minimum=0)
        self._cache = LedgerCache(limit) if limit else None
        for methodology in _iterate(methodologies, "methodologies"):
            if not isinstance(methodology, Methodology):
                raise InvalidInput(
                    f"expected Methodology objects, got {type(methodology).__name__}",
                    argument="methodologies",
                )
            self._known[methodology.key] = methodology

    def __repr__(self) -> str:
        scope = f" tenant={self._tenant!r}" if self._tenant else ""
        return f"<Store {self._engine.url.render_as_string(hide_password=True)!r}{scope}>"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- set-up --------------------------------------------------------------

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (for your own queries, or to share its pool)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """The database kind: ``"sqlite"`` or ``"postgresql"`` (or another SQLAlchemy dialect)."""
        return str(self._engine.dialect.name)

    @property
    def tenant(self) -> str | None:
        """The tenant whose cases this store sees, or None: the cases stored without a tenant."""
        return self._tenant or None

    def for_tenant(self, tenant: str) -> Store:
        """This store, scoped to one tenant: every method sees that tenant's cases and nothing else.

        Cases, entries, idempotency keys, deadlines, refusals and events are
        all kept under their tenant, so two tenants may use the same case id,
        and no method of the returned store can read or change another
        tenant's rows. The store shares this one's engine, options, key ring,
        methodologies and the ledgers kept between writes (kept per tenant), so
        it is cheap: make one per request. Closing it leaves the engine open.
        A store from :func:`connect` without ``tenant=`` sees only the cases
        stored without a tenant. See docs/tenants.md.

        Args:
            tenant: your id for the tenant (1 to 200 characters, no NUL).

        Returns:
            A :class:`Store` scoped to ``tenant``.

        Raises:
            InvalidInput: a blank or over-long tenant id; or this store is itself
                scoped to a tenant (scope the store :func:`connect` returned: a
                tenant's store cannot lead to another tenant's).

        Example:
            >>> import os, tempfile, resolveflow.store
            >>> tmp = tempfile.TemporaryDirectory()
            >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
            >>> store.create_schema()
            >>> acme, globex = store.for_tenant("acme"), store.for_tenant("globex")
            >>> _ = acme.open_case("engage", case_id="T-1")
            >>> _ = globex.open_case("engage", case_id="T-1")  # the same id, another tenant
            >>> _ = acme.fire("T-1", "engage_fully", {"notes": "Late."}, actor="ana")
            >>> acme.load("T-1").step, globex.load("T-1").step
            ('empathize', 'engage')
            >>> store.close(); tmp.cleanup()
        """
        if self._tenant:
            raise InvalidInput(
                f"this store is already scoped to tenant {shown(self._tenant)}: call for_tenant() on the "
                "store connect() returned",
                argument="tenant",
            )
        scoped = copy.copy(self)
        scoped._tenant = text_arg(tenant, "tenant")
        scoped._owns_engine = False  # the engine is this store's to close
        return scoped

    @property
    def record_refusals(self) -> bool:
        """True when refused actions are written to ``resolveflow_refusals`` for analytics."""
        return self._record_refusals

    def create_schema(self) -> None:
        """Create the store's tables and indexes where they do not exist yet.

        Creation is never implicit: call this once (at deployment), or run the
        SQL of :func:`resolveflow.store.schema_sql` with your migration tool.

        Raises:
            InvalidInput: the database holds tables made before tenants (run
                :meth:`upgrade_schema` once instead).
            StoreUnavailable: the database cannot be reached or written.
        """
        old = _upgrade.needs_upgrade(self._engine, "create_schema")
        if old:
            raise InvalidInput(
                f"the database's tables were made before tenants ({', '.join(old)}): upgrade them once "
                "with store.upgrade_schema() or `resolveflow store upgrade DATABASE_URL`",
                argument="database",
            )
        with _engine.guarded("create_schema"):
            metadata.create_all(self._engine)

    def upgrade_schema(self) -> list[str]:
        """Bring a database made before tenants to today's schema in one transaction; create what is missing.

        Each table made before tenants is rebuilt with its ``tenant`` column
        first in its keys, every row kept under no tenant (what it was);
        columns added since it was made take their defaults. On a database that
        is already up to date it only creates missing tables, as
        :meth:`create_schema`. Stop the application's writers while it runs: it
        rewrites every row. See docs/persistence.md, "Upgrading".

        Returns:
            The names of the tables rebuilt (empty when none needed it).

        Raises:
            StoreUnavailable: the database cannot be used (nothing was changed).

        Example:
            >>> import os, tempfile, resolveflow.store
            >>> tmp = tempfile.TemporaryDirectory()
            >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
            >>> store.create_schema()
            >>> store.upgrade_schema()
            []
            >>> store.close(); tmp.cleanup()
        """
        rebuilt = _upgrade.upgrade(self._engine)
        with _engine.guarded("upgrade_schema"):
            metadata.create_all(self._engine)
        return rebuilt

    def close(self) -> None:
        """Release the store's connections (an engine passed in by you is left alone)."""
        if self._owns_engine:
            self._engine.dispose()

    def _now(self) -> _dt.datetime:
        return check_time((self._clock or system_clock)(), "clock")

    def _methodology(self, methodology_id: str, version: str) -> Methodology:
        found = self._known.get((methodology_id, version))
        return found if found is not None else resolveflow.get_methodology(methodology_id, version)

    # --- writing -------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A write transaction of your own, that the store's writes can take part in.

        Run your own statements on the connection (a ticket row, an audit row)
        and pass it as ``connection=`` to :meth:`open_case`, :meth:`fire`,
        :meth:`fire_with_retry` or :meth:`import_cases`: everything commits
        together when the block ends, or nothing does if it raises. On SQLite it
        begins with ``BEGIN IMMEDIATE``, so that writers queue rather than fail.
        An ORM ``Session`` bound to :attr:`engine` can pass
        ``session.connection()`` instead.

        Raises:
            StoreUnavailable: the database cannot be used (nothing was committed;
                ``maybe_recorded`` when the connection was lost during COMMIT).

        Example:
            >>> import os, tempfile, sqlalchemy as sa, resolveflow.store
            >>> tmp = tempfile.TemporaryDirectory()
            >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
            >>> store.create_schema()
            >>> tickets = sa.Table("tickets", sa.MetaData(), sa.Column("id", sa.String, primary_key=True))
            >>> tickets.metadata.create_all(store.engine)
            >>> with store.transaction() as conn:
            ...     _ = conn.execute(sa.insert(tickets).values(id="T-1"))
            ...     _ = store.open_case("engage", case_id="T-1", connection=conn)
            >>> store.summary("T-1").step
            'engage'
            >>> store.close(); tmp.cleanup()
        """
        with _engine.write(self._engine, "transaction") as conn:
            yield conn

    def open_case(
        self,
        methodology: Methodology | str,
        *,
        case_id: str,
        at: _dt.datetime | None = None,
        connection: sa.Connection | None = None,
    ) -> Case:
        """Store a new case at the methodology's initial step.

        Args:
            methodology: a Methodology, or the id of a registered one (latest
                version). A Methodology you pass is remembered by this store, so
                its cases load without registering it.
            case_id: your system's id for the case.
            at: when it was opened (default: the store's clock).
            connection: your transaction to take part in (see :meth:`transaction`):
                the case is written there, and is stored only if you commit.

        Returns:
            The new :class:`~resolveflow.Case` (use :meth:`fire` to move it on).

        Raises:
            CaseExists: a case with this id is already stored.
            UnknownMethodology: the id is not registered.
            InvalidInput: a case id that is blank, longer than 200 characters or
                holds NUL or a lone surrogate; a naive time.
            StoreUnavailable: the database cannot be used (nothing was stored).
        """
        case_id = text_arg(case_id, "case_id")
        joined = _engine.joined(self._engine, connection)
        if isinstance(methodology, Methodology):
            self._known.setdefault(methodology.key, methodology)
        case = resolveflow.open_case(methodology, case_id=case_id, clock=self._clock)
        created = self._now() if at is None else check_time(at, "at")
        try:
            with _engine.write(self._engine, "open_case", joined) as conn:
                conn.execute(sa.insert(cases), _rows.case_row(self._tenant, case, created_at=created))
        except sa.exc.IntegrityError as error:
            raise CaseExists(case.id) from error
        return case

    def import_cases(
        self,
        items: Iterable[Case | tuple[Case, _dt.datetime]],
        *,
        batch_size: int = 500,
        connection: sa.Connection | None = None,
    ) -> int:
        """Store cases built elsewhere (a migration, a bulk load), with their whole history.

        Nothing is taken on trust: each case is rebuilt from its entries by
        replaying them through the guards and the hash chain (as
        :func:`resolveflow.restore` does), against the registered definition of
        its methodology when there is one, and what is stored is the rebuilt
        case. A subclass of :class:`~resolveflow.Case` is refused outright: a
        subclass can answer ``history`` or ``step`` with anything. Each batch is
        one transaction, and a refused case leaves its whole batch unwritten.

        Args:
            items: cases, or ``(case, opened_at)`` pairs; without a time, the
                case counts as opened at its first entry (or now).
            batch_size: cases per transaction (per savepoint in ``connection``).
            connection: your transaction to take part in (see :meth:`transaction`):
                each batch is a savepoint in it, stored only if you commit.

        Returns:
            The number of cases stored.

        Raises:
            CaseExists: one of the ids is already stored (that batch is not written).
            InvalidInput: an item that is not a case or a ``(case, time)`` pair, or
                is a subclass of Case; a case whose id or actors hold NUL (which a
                database text column cannot), or whose promises do not fit the
                deadlines table.
            InvalidSnapshot: a case whose entries do not replay (a guard refuses
                one, the chain is broken); ``.entry`` names the first bad entry.
            DefinitionMismatch: a case recorded under another definition than the
                one registered under its id and version.
            StoreUnavailable: the database cannot be used (that batch is not written).
        """
        size = count_arg(batch_size, "batch_size", minimum=1)
        joined = _engine.joined(self._engine, connection)
        total = 0
        batch: list[tuple[Case, _dt.datetime]] = []
        for item in _iterate(items, "items"):
            claimed, opened = _import_item(item)
            case = self._rebuilt(claimed)
            if opened is None:
                opened = case.history[0].at if case.history else self._now()
            batch.append((case, check_time(opened, "items")))
            if len(batch) >= size:
                total += self._import_batch(batch, joined)
                batch = []
        if batch:
            total += self._import_batch(batch, joined)
        return total

    def _rebuilt(self, case: Case) -> Case:
        """The case replayed from its own entries, against the definition this store trusts."""
        ledger = case_ledger(case)
        own = ledger.methodology
        # The registered definition wins over the one the case carries: a copy with the same id and
        # version but weaker guards is then a DefinitionMismatch, not a way around the guards.
        methodology = self._known.get(own.key) or _registered(own) or own
        try:
            rebuilt = resolveflow.restore(snapshot_of(ledger), methodology=methodology, clock=self._clock)
        except DefinitionMismatch:
            raise
        except InvalidSnapshot as error:
            raise InvalidSnapshot(
                f"case {shown(case.id)} cannot be imported: {error.reason}", entry=error.entry
            ) from error
        self._known.setdefault(methodology.key, methodology)
        return rebuilt

    def _import_batch(self, batch: Sequence[tuple[Case, _dt.datetime]], joined: sa.Connection | None) -> int:
        ids = [case.id for case, _ in batch]
        promised = [row for case, _ in batch for row in _storable_promises(self._tenant, case)]
        try:
            with _engine.write(self._engine, "import_cases", joined) as conn:
                taken = conn.execute(self._taken_query(ids)).first()
                if taken is not None:
                    raise CaseExists(taken.case_id)
                if len(set(ids)) != len(ids):
                    raise CaseExists(next(i for i in ids if ids.count(i) > 1))
                conn.execute(
                    sa.insert(cases),
                    [_rows.case_row(self._tenant, case, created_at=at) for case, at in batch],
                )
                rows = [row for case, _ in batch for row in self._entry_rows(case)]
                if rows:
                    conn.execute(sa.insert(entries), rows)
                    _outbox.record_cases(conn, self._tenant, [case for case, _ in batch], self._now())
                if promised:
                    conn.execute(sa.insert(deadlines), promised)
        except sa.exc.IntegrityError as error:
            # Another writer stored one of these ids after the check above: name it.
            raise CaseExists(self._taken(ids, joined)) from error
        return len(batch)

    def _entry_rows(self, case: Case) -> list[dict[str, Any]]:
        """A case's entry rows, sealed with the current key when the store has a ring."""
        history = case.history
        tenant = self._tenant
        if self._keys is None:
            return [_rows.entry_row(tenant, case.id, entry) for entry in history]
        seals = chain_seals(self._keys, case_ledger(case).genesis, [entry.hash for entry in history])
        return [
            _rows.entry_row(tenant, case.id, entry, seal) for entry, seal in zip(history, seals, strict=True)
        ]

    def _taken_query(self, ids: list[str]) -> sa.Select[Any]:
        return sa.select(cases.c.case_id).where(cases.c.tenant == self._tenant, cases.c.case_id.in_(ids))

    def _taken(self, ids: list[str], joined: sa.Connection | None) -> str:
        query = self._taken_query(ids)
        if joined is not None:
            with _engine.guarded("import_cases"):
                taken = joined.execute(query).scalar()
        else:
            with _engine.read(self._engine, "import_cases") as conn:
                taken = conn.execute(query).scalar()
        return str(taken) if taken is not None else ids[0]

    def fire(
        self,
        case_id: str,
        action: str,
        evidence: object = None,
        *,
        actor: str | Actor,
        at: _dt.datetime | None = None,
        expected_seq: int | None = None,
        idempotency_key: str | None = None,
        connection: sa.Connection | None = None,
    ) -> HistoryEntry:
        """Take an action on a stored case: bring it up to date, check every guard, append one entry.

        Everything happens in one transaction: the case is read and its
        history replayed and verified, the idempotency key and
        ``expected_seq`` are checked, the action goes through
        :meth:`Case.fire <resolveflow.Case.fire>`, and the entry is inserted
        while the case row moves on with a compare-and-set on its last
        sequence number. When anything fails, nothing is written.

        Args:
            case_id: the stored case.
            action: the action's name.
            evidence: a typed record or the JSON a form posted (None for none).
            actor: who takes it: an id, or an :class:`~resolveflow.Actor` with roles
                (recorded with the entry, in ``actor_roles``).
            at: when (default: the store's clock, never before the last entry).
            expected_seq: the last sequence number the caller saw (e.g. the one
                its form was rendered from); if the case has moved since, the
                call fails rather than acting on a state nobody looked at.
            idempotency_key: a key for this request, unique per case: a retry
                with the same key and the same request returns the first entry
                and records nothing, for the store's ``idempotency_window`` (24
                hours by default); after that the key is free again.
            connection: your transaction to take part in (see :meth:`transaction`):
                the entry is written in a savepoint there and is stored only if
                you commit; a refused action leaves your transaction usable.

        Returns:
            The new :class:`~resolveflow.HistoryEntry` (or, for a repeated
            idempotency key, the entry it first recorded).

        Raises:
            CaseNotFound: no such case.
            ConcurrencyConflict: the case is not at ``expected_seq``, or another
                writer appended first.
            IdempotencyConflict: the key was used for a different request.
            Refused: a guard refuses it (recorded when ``record_refusals`` is on).
            InvalidEvidence: the evidence does not match the schema, or a
                promise it makes holds text no database column can keep (NUL).
                With a key or without, the same error.
            UnknownAction: the methodology has no such action.
            InvalidInput: a case id, actor or key that is blank, longer than 200
                characters or holds NUL or a lone surrogate; a naive or backward
                time; ``expected_seq`` outside 0 to 2**63 - 1.
            TamperedHistory: the stored rows do not replay.
            StoreUnavailable: the database cannot be used (nothing was recorded).

        Example:
            >>> import os, tempfile, resolveflow.store
            >>> tmp = tempfile.TemporaryDirectory()
            >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
            >>> store.create_schema()
            >>> _ = store.open_case("engage", case_id="C-2")
            >>> first = store.fire("C-2", "engage_fully", {"notes": "Broken."}, actor="ana",
            ...                    expected_seq=0, idempotency_key="req-1")
            >>> again = store.fire("C-2", "engage_fully", {"notes": "Broken."}, actor="ana",
            ...                    expected_seq=0, idempotency_key="req-1")
            >>> again == first, store.load("C-2").history[-1].seq
            (True, 1)
            >>> store.close(); tmp.cleanup()
        """
        case_id = text_arg(case_id, "case_id")
        actor = _actor_arg(actor)
        if expected_seq is not None:
            count_arg(expected_seq, "expected_seq", minimum=0)
        if idempotency_key is not None:
            idempotency_key = text_arg(idempotency_key, "idempotency_key")
        joined = _engine.joined(self._engine, connection)
        held: Ledger | None = None  # the ledger this write uses, taken from the cache or replayed
        seen: Seen | None = None  # the rows a load compared with it (still its first entries after)
        untouched = -1  # its length before the action: put back unchanged when the action is refused
        try:
            with _engine.write(self._engine, "fire", joined) as conn:
                row, held, seen = self._writable(conn, case_id)
                untouched = len(held)
                case = Case(held, clock=self._clock)
                # None for a request fire() refuses whatever the key: it gets the same error as without one.
                request_print = (
                    None
                    if idempotency_key is None
                    else _rows.request_print(case, action, evidence, actor, at)
                )
                if idempotency_key is not None and request_print is not None:
                    earlier = self._idempotent(conn, case, idempotency_key, request_print)
                    if earlier is not None:
                        self._keep(case_id, held, seen)
                        return earlier
                if expected_seq is not None and expected_seq != row.last_seq:
                    raise ConcurrencyConflict(
                        case_id=case_id, expected_seq=expected_seq, current_seq=row.last_seq
                    )
                tenant = self._tenant
                before = _rows.promises(tenant, case)
                entry = case.fire(action, evidence, actor=actor, at=at)
                after = _rows.promises(tenant, case)
                _check_promises([row for row in after if row not in before], entry)
                _advance(conn, tenant, case, entry)
                _insert_entry(conn, tenant, case.id, entry, self._seal_after(case, entry, row))
                _outbox.record_entry(conn, tenant, case, entry, self._now())
                if idempotency_key is not None and request_print is not None:
                    _remember_key(conn, tenant, case.id, idempotency_key, request_print, entry, self._now())
                if after != before:
                    _write_deadlines(conn, tenant, case.id, after)
            self._keep(case_id, held, seen)  # committed: the database holds what the ledger holds
            return entry
        except Refused as refused:
            if held is not None and len(held) == untouched:
                self._keep(case_id, held, seen)  # a refused action changes nothing
            if self._record_refusals:
                self._record_refusal(case_id, refused, actor, at, joined)
            raise
        except (InvalidEvidence, UnknownAction, InvalidInput):
            if held is not None and len(held) == untouched:
                self._keep(case_id, held, seen)
            raise

    def fire_with_retry(
        self,
        case_id: str,
        action: str,
        evidence: object = None,
        *,
        actor: str | Actor,
        at: _dt.datetime | None = None,
        idempotency_key: str | None = None,
        attempts: int = RETRY_ATTEMPTS,
        connection: sa.Connection | None = None,
    ) -> HistoryEntry:
        """:meth:`fire`, tried again when another writer got there first.

        Each attempt reloads the case and runs the guards against its new
        state, so a retry that is no longer allowed is refused, never forced.
        Use it when the caller does not care which state it acts on, only
        that the guards allow it; pass ``expected_seq`` to :meth:`fire`
        instead when it does.

        Args:
            case_id: the stored case.
            action: the action's name.
            evidence: as for :meth:`fire`.
            actor: who takes it.
            at: when (default: the store's clock).
            idempotency_key: as for :meth:`fire`; it also makes a retry after
                a lost connection safe.
            attempts: how many times to try in all.
            connection: your transaction to take part in, as for :meth:`fire`
                (each attempt is its own savepoint in it).

        Returns:
            The new entry.

        Raises:
            ConcurrencyConflict: every attempt lost to another writer.
            Refused: the guards refuse it (on the state current at that attempt).
            StoreUnavailable: the database cannot be used (not retried).
            ResolveflowError: the other errors of :meth:`fire`, as it raises them.
        """
        tries = count_arg(attempts, "attempts", minimum=1, maximum=100)
        for attempt in range(1, tries + 1):
            try:
                return self.fire(
                    case_id,
                    action,
                    evidence,
                    actor=actor,
                    at=at,
                    idempotency_key=idempotency_key,
                    connection=connection,
                )
            except ConcurrencyConflict:
                if attempt == tries:
                    raise
                time.sleep(retry_pause(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _idempotent(
        self, conn: sa.Connection, case: Case, key: str, request_print: str
    ) -> HistoryEntry | None:
        this_key = sa.and_(
            _rows.of_case(idempotency, self._tenant, case.id), idempotency.c.idempotency_key == key
        )
        found = conn.execute(
            sa.select(idempotency.c.fingerprint, idempotency.c.seq, idempotency.c.created_at).where(this_key)
        ).first()
        if found is None:
            return None
        if found.created_at < self._now() - self._idempotency_window:
            # Expired: the key is free again, and this request is a new one (its row is replaced).
            conn.execute(sa.delete(idempotency).where(this_key))
            return None
        if found.fingerprint != request_print:
            raise IdempotencyConflict(case_id=case.id, key=key, seq=found.seq)
        seq = found.seq
        if type(seq) is not int or seq < 1:
            _tampered(case.id, len(case.history), f"idempotency key {shown(key)} stands for no entry")
        history = case.history
        if seq > len(history):
            # Another writer recorded this request after the case was read: on PostgreSQL each
            # statement of a READ COMMITTED transaction sees what was committed before it began.
            history = self._read(conn, case.id)[1].history
        if seq > len(history):
            _tampered(case.id, seq, f"idempotency key {shown(key)} stands for entry {seq}, which is missing")
        return history[seq - 1]

    def forget_expired_keys(self, *, limit: int = 10_000) -> int:
        """Delete idempotency keys older than the store's ``idempotency_window``.

        An expired key is already treated as unused by :meth:`fire`; this only
        keeps the table small. Run it on a schedule: each call deletes at most
        ``limit`` keys (oldest first) in one transaction, so call it again while
        it returns ``limit``. A store scoped to a tenant (:meth:`for_tenant`)
        deletes that tenant's keys only; the store :func:`connect` returned,
        run as maintenance, deletes every tenant's.

        Args:
            limit: the most keys to delete in this call (1 to 1,000,000).

        Returns:
            How many keys were deleted.

        Raises:
            InvalidInput: ``limit`` is not a count in range.
            StoreUnavailable: the database cannot be used (nothing was deleted).

        Example:
            >>> import os, tempfile, resolveflow.store
            >>> tmp = tempfile.TemporaryDirectory()
            >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
            >>> store.create_schema()
            >>> store.forget_expired_keys()
            0
            >>> store.close(); tmp.cleanup()
        """
        most = count_arg(limit, "limit", minimum=1, maximum=1_000_000)
        cutoff = self._now() - self._idempotency_window
        i = idempotency.c
        expired = sa.select(i.tenant, i.case_id, i.idempotency_key).where(i.created_at < cutoff)
        if self._tenant:
            expired = expired.where(i.tenant == self._tenant)
        with _engine.write(self._engine, "forget_expired_keys") as conn:
            oldest = expired.order_by(i.created_at).limit(most).subquery()
            result = conn.execute(
                sa.delete(idempotency).where(
                    sa.tuple_(i.tenant, i.case_id, i.idempotency_key).in_(sa.select(oldest))
                )
            )
            return int(result.rowcount)

    def _record_refusal(
        self, case_id: str, refused: Refused, actor: str | Actor, at: object, joined: sa.Connection | None
    ) -> None:
        when = at if isinstance(at, _dt.datetime) and at.utcoffset() is not None else self._now()
        # In the caller's transaction when there is one: on SQLite it holds the write lock, so a
        # transaction of the store's own would wait for it and time out.
        with _engine.write(self._engine, "fire (recording the refusal)", joined) as conn:
            conn.execute(
                sa.insert(refusals),
                {
                    "tenant": self._tenant,
                    "case_id": case_id,
                    "action": refused.action,
                    "step": refused.step,
                    "codes": list(refused.codes),
                    "actor": actor.id if isinstance(actor, Actor) else actor,
                    "at": when,
                },
            )

    # --- reading -------------------------------------------------------------

    # --- seals (see resolveflow/_seal.py) ---------------------------------------

    def _seal_after(self, case: Case, entry: HistoryEntry, last: sa.Row[Any]) -> str | None:
        """The new entry's seal, chained on the stored one before it; None without a key ring.

        ``last`` is the row the write read the case from (``_writable``): its
        entry columns are those of the entry before the new one (both paths there
        check that the rows run gap-free up to the case row's last sequence
        number), so no other read is needed.
        """
        keys = self._keys
        if keys is None:
            return None
        if entry.seq == 1:
            return keys.seal(case_ledger(case).genesis, entry.hash)
        # An unsealed entry (recorded before the ring, accepted with accept_unsealed) is chained on
        # by its hash, as a restore does.
        return keys.seal(chained_on(last.entry_seal, last.entry_hash), entry.hash)

    # --- the ledgers kept between writes (see _heads.py) -----------------------

    def _keep(self, case_id: str, ledger: Ledger, seen: Seen | None = None) -> None:
        if self._cache is not None:
            self._cache.put((self._tenant, case_id), ledger, seen)

    def _binds(self, case_id: str, **more: object) -> dict[str, object]:
        """The bind parameters of a query built with ``_rows.one_case``."""
        return {"tenant": self._tenant, "case_id": case_id, **more}

    def _writable(self, conn: sa.Connection, case_id: str) -> tuple[sa.Row[Any], Ledger, Seen | None]:
        """The case row, a ledger at the database's head, and the rows a load compared with it.

        The kept ledger brought up to date, else a replay (which compared no rows). The row is
        the case row joined with its last entry row (``entry_*`` None for a case without
        entries). The compared rows stay true of the history's first entries as it grows, so
        the next load decodes only what was written since.
        """
        kept = self._cache.take_with_seen((self._tenant, case_id)) if self._cache is not None else None
        if kept is not None:
            ledger, seen = kept
            found = self._brought_up_to_date(conn, case_id, ledger)
            if found is not None:
                return (*found, seen)
        row, case = self._read(conn, case_id)
        return row, case_ledger(case), None

    def _brought_up_to_date(
        self, conn: sa.Connection, case_id: str, ledger: Ledger
    ) -> tuple[sa.Row[Any], Ledger] | None:
        """``ledger`` with the entries written since it was kept replayed onto it; None: replay all."""
        have = len(ledger)
        with _decoding(conn, self._tenant, case_id):
            rows = conn.execute(_CASE_AND_TAIL, self._binds(case_id, from_seq=max(have, 1))).all()
        if not rows:
            raise CaseNotFound(case_id)
        row = rows[0]
        if type(row.last_seq) is not int or row.last_seq < have or row.hash_recipe != ledger.recipe:
            return None
        if have == 0:
            return None  # nothing kept worth anchoring to: the full replay costs the same
        anchor, tail = rows[0], rows[1:]
        # The row of the kept ledger's last entry must still be that entry: else the id holds another
        # chain, or that row was removed, and the full replay says which.
        if anchor.entry_seq != have or anchor.entry_hash != ledger.head:
            return None
        if row.last_seq > have:
            if [r.entry_seq for r in tail] != list(range(have + 1, row.last_seq + 1)):
                return None
            start = chained_on(anchor.entry_seal, anchor.entry_hash)
            if self._keys is not None and not _kept.seals_hold(self._keys, start, tail, "entry_"):
                return None  # the full replay names the entry whose seal does not verify
            found = _kept.replayed_tail(ledger, tail, self._methodology)
            if found is None:
                return None
            ledger = found
        if not _kept.case_row_matches(row, ledger, self._methodology):
            return None
        return rows[-1], ledger  # the case row with the last entry's columns (for its seal)

    def _case_row(self, conn: sa.Connection, case_id: str) -> sa.Row[Any]:
        with _decoding(conn, self._tenant, case_id):
            row = conn.execute(_CASE, self._binds(case_id)).first()
        if row is None:
            raise CaseNotFound(case_id)
        if type(row.last_seq) is not int or row.last_seq < 0:
            _tampered(case_id, 0, f"its case row's last_seq is {shown(row.last_seq)}, not a count")
        return row

    def _read(
        self, conn: sa.Connection, case_id: str, *, audit: bool = False, unsealed_ok: bool = False
    ) -> tuple[sa.Row[Any], Case]:
        """The case row and the case replayed from its entry rows, verified.

        One statement reads both, so that even under READ COMMITTED the case
        row and its entries come from the same snapshot. With a key ring, an
        entry whose seal verifies is trusted without its guards; ``audit`` runs
        every guard as well and checks the seals apart (``verify``, ``reseal``;
        ``unsealed_ok`` lets the audit pass entries without a seal, for ``reseal``).
        """
        with _decoding(conn, self._tenant, case_id):
            rows = conn.execute(_CASE_AND_ENTRIES, self._binds(case_id)).all()
        if not rows:
            raise CaseNotFound(case_id)
        row = rows[0]
        if type(row.last_seq) is not int or row.last_seq < 0:
            _tampered(case_id, 0, f"its case row's last_seq is {shown(row.last_seq)}, not a count")
        stored = [_rows.snapshot_entry(r._mapping, "entry_") for r in rows if r.entry_seq is not None]
        for index, entry in enumerate(stored, start=1):
            if entry["seq"] != index:
                _tampered(case_id, index, f"entry row {index} is missing (the next row is {entry['seq']})")
        if len(stored) < row.last_seq:
            _tampered(
                case_id,
                len(stored) + 1,
                f"the case row counts {row.last_seq} entries but only {len(stored)} exist",
            )
        if len(stored) > row.last_seq:
            _tampered(
                case_id,
                row.last_seq + 1,
                f"an entry row exists beyond the case row's last entry ({row.last_seq})",
            )
        methodology = self._methodology(row.methodology_id, row.methodology_version)
        snapshot = _rows.snapshot(row, stored)
        keys = self._keys
        if keys is not None:
            snapshot["seals"] = [r.entry_seal for r in rows if r.entry_seq is not None]
        try:
            case = resolveflow.restore(
                snapshot,
                methodology=methodology,
                clock=self._clock,
                head=row.head,
                keys=None if audit else keys,
            )
            if audit and keys is not None:
                # The guards have run on every entry; the seals are a chain walk, not another replay.
                ring = attrs.evolve(keys, accept_unsealed=True) if unsealed_ok else keys
                chain = ((r.entry_seq, r.entry_hash, r.entry_seal) for r in rows if r.entry_seq is not None)
                problem = seal_problem(ring, case_ledger(case).genesis, chain)
                if problem is not None:
                    _tampered(case_id, *problem)
        except DefinitionMismatch:
            raise  # not an edited row: another definition is registered under the case's version
        except InvalidSnapshot as error:
            raise TamperedHistory(
                error.reason, case_id=case_id, entry=error.entry if error.entry is not None else row.last_seq
            ) from error
        return rows[-1], case  # the case row with the last entry's columns (for its seal)

    def load(self, case_id: str) -> Case:
        """Read a stored case, checking every entry row.

        The first load of a case by this store replays each entry row
        through evidence validation, the guards (at the entry's own time;
        with a key ring, an entry whose seal verifies skips them) and the
        hash chain, up to the head hash kept in the case row, and keeps the
        case. Later loads compare every row, as stored, with the rows
        already verified, and decode or replay only rows that are new (see
        docs/persistence.md, "What a load reads"). Either way an edited,
        removed or added row is detected.

        Args:
            case_id: the stored case.

        Returns:
            The :class:`~resolveflow.Case`, on the store's clock. Changing it
            in memory does not change the store: use :meth:`fire`.

        Raises:
            CaseNotFound: no such case.
            TamperedHistory: a row does not replay, or does not even decode (an
                edited JSON column or time); ``.case_id`` and ``.entry`` (the
                sequence number) name it.
            UnknownMethodology: its methodology is not registered here.
            InvalidInput: a case id that no case can have: blank, longer than
                200 characters, or holding NUL or a lone surrogate.
            StoreUnavailable: the database cannot be used.

        Example:
            >>> import os, tempfile, resolveflow.store
            >>> tmp = tempfile.TemporaryDirectory()
            >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
            >>> store.create_schema()
            >>> _ = store.open_case("engage", case_id="C-3")
            >>> _ = store.fire("C-3", "engage_fully", {"notes": "Broken."}, actor="ana")
            >>> case = store.load("C-3")
            >>> case.step, len(case.history)
            ('empathize', 1)
            >>> store.close(); tmp.cleanup()
        """
        case_id = text_arg(case_id, "case_id")
        cache = self._cache
        key = (self._tenant, case_id)
        with _engine.read(self._engine, "load") as conn:
            kept = cache.take_with_seen(key) if cache is not None else None
            if kept is not None and cache is not None:
                with _decoding(conn, self._tenant, case_id):
                    found = _kept.loaded(
                        conn, self._binds(case_id), *kept, keys=self._keys, methodology_of=self._methodology
                    )
                if found is not None:
                    cache.put(key, *found)
                    return Case(found[0].copy(), clock=self._clock)
            case = self._read(conn, case_id)[1]
        if cache is not None:
            # Kept for the next write or load; the caller's case gets its own ledger.
            cache.put(key, case_ledger(case).copy())
        return case

    def verify(
        self, *, after: str | None = None, limit: int | None = None, batch_size: int = 100
    ) -> AuditReport:
        """Replay stored cases in full, through the guards and the hash chain: the audit.

        A write checks a new entry against the case's head and the entries
        written since this store last wrote the case; this is where every row
        of every case is checked again. Cases are read in id order,
        ``batch_size`` ids at a time, each in its own read transaction; a case
        that does not replay is reported with its first bad entry, and a
        ledger this store kept for it is dropped (its next write replays it
        and is refused).

        Args:
            after: start after this case id (the ``next_after`` of an earlier
                call, to resume); None: from the first.
            limit: check at most this many cases in this call (None: all).
            batch_size: case ids read per query (1 to 10,000).

        Returns:
            An :class:`AuditReport`: cases and entries checked, the findings,
            and ``next_after`` to resume from (None once the last case is checked).

        Raises:
            InvalidInput: ``after`` that is not a case id; ``limit`` or ``batch_size``
                that is not a positive count.
            StoreUnavailable: the database cannot be used.

        Example:
            >>> import os, tempfile, resolveflow.store
            >>> tmp = tempfile.TemporaryDirectory()
            >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
            >>> store.create_schema()
            >>> _ = store.open_case("engage", case_id="C-1")
            >>> _ = store.fire("C-1", "engage_fully", {"notes": "Broken."}, actor="ana")
            >>> report = store.verify()
            >>> report.clean, report.checked, report.entries, report.next_after
            (True, 1, 1, None)
            >>> store.close(); tmp.cleanup()
        """

        def replay(case_id: str) -> int:
            with _engine.read(self._engine, "verify") as conn:
                row, _ = self._read(conn, case_id, audit=True)
            return int(row.last_seq)

        def forget(case_id: str) -> None:
            if self._cache is not None:
                self._cache.drop((self._tenant, case_id))

        return sweep(
            self._engine,
            self._tenant,
            "verify",
            replay,
            after=after,
            limit=limit,
            batch_size=batch_size,
            on_finding=forget,
        )

    def reseal(
        self, *, after: str | None = None, limit: int | None = None, batch_size: int = 100
    ) -> AuditReport:
        """Seal stored cases again with the key ring's current key: for rotation, and for old entries.

        Each case is replayed in full through its guards, and the seals it
        already has must verify under the ring (an entry without a seal, from
        before sealing was turned on, is accepted if its guards pass). Then
        every entry gets a new seal made with the current key, in one
        transaction per case. A case that does not replay is reported, not
        resealed: resealing must never bless a forged row. Cases are taken in
        id order and the call can be resumed, as :meth:`verify`.

        Args:
            after: start after this case id (``next_after`` of an earlier call).
            limit: reseal at most this many cases in this call (None: all).
            batch_size: case ids read per query (1 to 10,000).

        Returns:
            An :class:`AuditReport`: the cases looked at (``checked``), the entries
            resealed, the cases left as they were because they do not replay
            (``findings``), and where to resume.

        Raises:
            InvalidInput: the store has no key ring; bad ``after``, ``limit`` or ``batch_size``.
            StoreUnavailable: the database cannot be used.

        Example:
            >>> import os, secrets, tempfile, resolveflow, resolveflow.store
            >>> tmp = tempfile.TemporaryDirectory()
            >>> path = os.path.join(tmp.name, "cases.db")
            >>> with resolveflow.store.connect(path) as plain:
            ...     plain.create_schema()
            ...     _ = plain.open_case("engage", case_id="C-1")
            ...     _ = plain.fire("C-1", "engage_fully", {"notes": "Broken."}, actor="ana")
            >>> ring = resolveflow.KeyRing(keys={"k1": secrets.token_bytes(32)}, current="k1")
            >>> with resolveflow.store.connect(path, keys=ring) as sealed:
            ...     (sealed.reseal().checked, sealed.load("C-1").step)
            (1, 'empathize')
            >>> tmp.cleanup()
        """
        keys = self._keys
        if keys is None:
            raise InvalidInput(
                "this store has no key ring: connect with keys=resolveflow.KeyRing(...)", argument="keys"
            )

        def reseal_one(case_id: str) -> int:
            with _engine.write(self._engine, "reseal") as conn:
                row, case = self._read(conn, case_id, audit=True, unsealed_ok=True)
                rows = self._entry_rows(case)
                if rows:
                    conn.execute(
                        sa.update(entries)
                        .where(
                            _rows.of_case(entries, self._tenant, case_id),
                            entries.c.seq == sa.bindparam("at_seq"),
                        )
                        .values(seal=sa.bindparam("new_seal")),
                        [{"at_seq": r["seq"], "new_seal": r["seal"]} for r in rows],
                    )
            return int(row.last_seq)

        return sweep(
            self._engine, self._tenant, "reseal", reseal_one, after=after, limit=limit, batch_size=batch_size
        )

    def summary(self, case_id: str) -> CaseSummary:
        """A stored case's row (step, outcome, last sequence number...) without replaying it.

        Raises:
            CaseNotFound: no such case.
            TamperedHistory: the case row does not decode.
            InvalidInput: a case id that no case can have (as for :meth:`load`).
            StoreUnavailable: the database cannot be used.
        """
        case_id = text_arg(case_id, "case_id")
        with _engine.read(self._engine, "summary") as conn:
            return _summary(self._case_row(conn, case_id))

    def history(self, case_id: str, *, after_seq: int = 0, limit: int = 50) -> HistoryPage:
        """One page of a stored case's history, oldest first.

        Each entry on the page is checked against its stored predecessor's
        hash (a full verification is :meth:`load`).

        Args:
            case_id: the stored case.
            after_seq: return the entries after this sequence number (0 to
                2**63 - 1; past the last entry, the page is empty).
            limit: at most this many entries (1 to 1000).

        Returns:
            A :class:`HistoryPage`; its ``next_after_seq`` gives the next page.

        Raises:
            CaseNotFound: no such case.
            TamperedHistory: an entry on the page does not match its hash, or
                a row does not decode.
            InvalidInput: a case id that no case can have (as for :meth:`load`),
                or a number out of its range.
            StoreUnavailable: the database cannot be used.

        Example:
            >>> import os, tempfile, resolveflow.store
            >>> tmp = tempfile.TemporaryDirectory()
            >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
            >>> store.create_schema()
            >>> _ = store.open_case("engage", case_id="C-3")
            >>> _ = store.fire("C-3", "engage_fully", {"notes": "Late."}, actor="ana")
            >>> page = store.history("C-3", limit=10)
            >>> [e.action for e in page], page.next_after_seq
            (['engage_fully'], None)
            >>> store.close(); tmp.cleanup()
        """
        case_id = text_arg(case_id, "case_id")
        after = count_arg(after_seq, "after_seq", minimum=0)
        size = count_arg(limit, "limit", minimum=1, maximum=_MAX_PAGE)
        with _engine.read(self._engine, "history") as conn:
            row = self._case_row(conn, case_id)
            if after >= row.last_seq:
                # Nothing after it; and no sequence number past the last one reaches SQL.
                return HistoryPage(case_id=case_id, entries=(), next_after_seq=None)
            with _decoding(conn, self._tenant, case_id):
                rows = list(
                    conn.execute(
                        sa.select(entries)
                        .where(
                            _rows.of_case(entries, self._tenant, case_id),
                            entries.c.seq >= after,
                            entries.c.seq <= min(row.last_seq, after + size),
                        )
                        .order_by(entries.c.seq)
                    )
                )
        with _engine.read(self._engine, "history") as conn:
            migrated = conn.execute(
                sa.select(entries.c.seq).where(
                    _rows.of_case(entries, self._tenant, case_id), entries.c.action == MIGRATE_ACTION
                )
            ).first()
        if migrated is not None:
            # Entries before a migration belong to another version: replay the whole case
            # (rare, and correct) rather than verify a page with the wrong version.
            history = self.load(case_id).history
            page_entries = history[after : after + size]
            last_seq = page_entries[-1].seq if page_entries else after
            return HistoryPage(
                case_id=case_id,
                entries=page_entries,
                next_after_seq=last_seq if last_seq < len(history) else None,
            )
        methodology = self._methodology(row.methodology_id, row.methodology_version)
        _check_bound(row, methodology)
        if after == 0:
            previous = genesis_hash(row.methodology_id, row.methodology_version, case_id)
            sealed_on = previous
        elif rows and rows[0].seq == after:
            anchor = rows.pop(0)
            previous = anchor.hash
            sealed_on = chained_on(anchor.seal, anchor.hash)
        else:
            _tampered(case_id, after, f"entry row {after} is missing")
        page: list[HistoryEntry] = []
        for expected, stored in enumerate(rows, start=after + 1):
            page.append(_verified_entry(methodology, case_id, stored, expected, previous, row.hash_recipe))
            previous = stored.hash
        if self._keys is not None:
            problem = seal_problem(self._keys, sealed_on, ((r.seq, r.hash, r.seal) for r in rows))
            if problem is not None:
                _tampered(case_id, *problem)
        want = min(row.last_seq, after + size) - after
        if len(page) != max(want, 0):
            _tampered(case_id, after + len(page) + 1, "an entry row is missing")
        last = page[-1].seq if page else after
        return HistoryPage(
            case_id=case_id, entries=tuple(page), next_after_seq=last if last < row.last_seq else None
        )

    def events(self, *, after: int = 0, limit: int = 100) -> EventPage:
        """The outbox: every recorded entry's events, in the order a consumer must handle them.

        Each entry the store records writes its events (``action_accepted``,
        and ``case_closed`` when it reached an outcome: the envelopes
        ``case.subscribe`` gives) in the entry's own transaction, so an event is
        here exactly when its entry is committed. Tail it to keep a projection,
        a search index or a webhook relay up to date: handle a page, keep its
        ``next_after``, ask again from there. On PostgreSQL an event is handed
        out only once no transaction still running could commit one before it,
        so a tail never skips an event that commits late (see
        docs/events-and-webhooks.md).

        Args:
            after: 0 to start from the first event, else the position of the last
                event handled (a page's ``next_after``).
            limit: at most this many events (1 to 10,000).

        Returns:
            An :class:`EventPage`: ``events`` (:class:`StoredEvent`, each with its
            ``position`` and ``envelope``) and ``next_after``.

        Raises:
            InvalidInput: ``after`` that is not 0 or a stored event's position, a
                ``limit`` out of range (booleans are not numbers).
            TamperedHistory: an outbox row does not decode, or holds another event
                than its columns say (names its case).
            StoreUnavailable: the database cannot be used.

        Example:
            >>> import os, tempfile, resolveflow.store
            >>> tmp = tempfile.TemporaryDirectory()
            >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
            >>> store.create_schema()
            >>> _ = store.open_case("engage", case_id="C-4")
            >>> _ = store.fire("C-4", "engage_fully", {"notes": "Late."}, actor="ana")
            >>> page = store.events(after=0, limit=10)
            >>> [(e.position, e.type, e.envelope["current_step"]) for e in page], page.next_after
            ([(1, 'action_accepted', 'empathize')], 1)
            >>> len(store.events(after=page.next_after))
            0
            >>> store.close(); tmp.cleanup()
        """
        return _outbox.events(self._engine, self._tenant, after, limit)

    # --- queries -------------------------------------------------------------

    def _summaries(
        self,
        operation: str,
        condition: sa.ColumnElement[bool],
        methodology_id: str | None,
        after: str | None,
        limit: int | None,
    ) -> list[CaseSummary]:
        query = sa.select(cases).where(cases.c.tenant == self._tenant, condition)
        if methodology_id is not None:
            query = query.where(cases.c.methodology_id == text_arg(methodology_id, "methodology_id"))
        if after is not None:
            query = query.where(cases.c.case_id > text_arg(after, "after"))
        query = query.order_by(cases.c.case_id)
        if limit is not None:
            query = query.limit(count_arg(limit, "limit", minimum=1))
        with (
            _engine.read(self._engine, operation) as conn,
            _unreadable.decoding_rows(conn, query, cases.c.case_id),
        ):
            return [_summary(row) for row in conn.execute(query)]

    def cases_at(
        self,
        step: str,
        methodology_id: str | None = None,
        *,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[CaseSummary]:
        """The stored cases currently at a step, by case id.

        Args:
            step: a step id (an outcome's id finds the cases closed there).
            methodology_id: only cases of this methodology.
            after: start after this case id (keyset paging with ``limit``).
            limit: at most this many (1 to 2**63 - 1).

        Returns:
            :class:`CaseSummary` records, ordered by case id.

        Raises:
            InvalidInput: a text argument that is blank, longer than 200
                characters or holds NUL or a lone surrogate; a bad limit.
            TamperedHistory: a case row does not decode.
            StoreUnavailable: the database cannot be used.
        """
        condition = cases.c.step == text_arg(step, "step")
        return self._summaries("cases_at", condition, methodology_id, after, limit)

    def cases_by_outcome(
        self,
        outcome: str | None,
        methodology_id: str | None = None,
        *,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[CaseSummary]:
        """The stored cases closed at an outcome (None: the open cases), by case id.

        Args:
            outcome: an outcome id such as ``"resolved"``, or None for open cases.
            methodology_id: only cases of this methodology.
            after: start after this case id (keyset paging with ``limit``).
            limit: at most this many (1 to 2**63 - 1).

        Returns:
            :class:`CaseSummary` records, ordered by case id.

        Raises:
            InvalidInput: as for :meth:`cases_at`.
            TamperedHistory: a case row does not decode.
            StoreUnavailable: the database cannot be used.
        """
        condition = (
            cases.c.outcome.is_(None) if outcome is None else cases.c.outcome == text_arg(outcome, "outcome")
        )
        return self._summaries("cases_by_outcome", condition, methodology_id, after, limit)

    def _overdue_query(self, now: _dt.datetime) -> sa.Select[Any]:
        return (
            sa.select(
                deadlines.c.case_id,
                deadlines.c.methodology_id,
                deadlines.c.kind,
                deadlines.c.ref,
                deadlines.c.description,
                deadlines.c.due,
            )
            .where(deadlines.c.tenant == self._tenant, deadlines.c.due < now)
            .order_by(deadlines.c.due, deadlines.c.case_id, deadlines.c.kind, deadlines.c.ref)
        )

    def _explain_overdue(self, now: _dt.datetime, *, force_index: bool = False) -> str:
        """The database's plan for :meth:`overdue` (for the benchmarks and tests).

        ``force_index`` disables sequential scans on PostgreSQL, whose planner
        rightly prefers them on tiny tables: it asks whether the index can serve.
        """
        compiled = self._overdue_query(check_time(now, "now")).compile()
        binds = [
            sa.bindparam(name, value=bind.value, type_=bind.type)
            for bind, name in compiled.bind_names.items()
        ]
        postgres = self.dialect == "postgresql"
        prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        with _engine.read(self._engine, "explain") as conn:
            if postgres and force_index:
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = conn.execute(sa.text(prefix + str(compiled)).bindparams(*binds)).all()
        return "\n".join(str(row[0] if postgres else row[-1]) for row in rows)

    def overdue(self, now: _dt.datetime, *, limit: int | None = None) -> list[Deadline]:
        """Promises past due on open cases: plan items not done, and missed follow-ups.

        The same items ``case.overdue(now)`` reports, for every stored case,
        from an indexed table kept up to date with each entry.

        Args:
            now: the time to judge by (time-zone aware).
            limit: at most this many, the longest overdue first (1 to 2**63 - 1).

        Returns:
            :class:`Deadline` records, oldest due time first.

        Raises:
            InvalidInput: a naive time, a bad limit.
            TamperedHistory: a deadline row does not decode (names its case).
            StoreUnavailable: the database cannot be used.
        """
        query = self._overdue_query(check_time(now, "now"))
        if limit is not None:
            query = query.limit(count_arg(limit, "limit", minimum=1))
        with (
            _engine.read(self._engine, "overdue") as conn,
            _unreadable.decoding_rows(conn, query, deadlines.c.case_id, "deadline rows"),
        ):
            return [Deadline(**row._mapping) for row in conn.execute(query)]

    def analytics(self, *, now: _dt.datetime | None = None, methodology_id: str | None = None) -> Analytics:
        """How the stored cases were handled; see :func:`resolveflow.store.analyze` (the same arguments)."""
        return analyze(self, now=now, methodology_id=methodology_id)


def retry_pause(attempt: int) -> float:
    """Seconds to wait after losing attempt ``attempt`` to another writer (fire_with_retry).

    Random, so that the writers that collided do not collide again in step; longer as they keep losing.
    """
    return random.uniform(0, 0.004 * attempt)


def _summary(row: sa.Row[Any]) -> CaseSummary:
    return CaseSummary(**{k: v for k, v in row._mapping.items() if k not in _NOT_SUMMARISED})


def _actor_arg(actor: object) -> str | Actor:
    """An id, or an Actor whose id a database column can hold (its roles are checked words)."""
    if isinstance(actor, Actor):
        text_arg(actor.id, "actor")
        return actor
    return text_arg(actor, "actor")


def _check_bound(row: sa.Row[Any], methodology: Methodology) -> None:
    """A page is verified with ``methodology``: it must be the definition the case was recorded under."""
    bound = _rows.bound_definitions(row)
    if bound is None:
        return  # stored before cases bound their definitions
    expected = bound.get(methodology.version) if isinstance(bound, dict) else None
    if expected is None:
        _tampered(
            row.case_id,
            row.last_seq,
            f"its definitions column is not what resolveflow writes: {shown(bound)}",
        )
    found = definition_digest(methodology)
    if found != expected:
        raise DefinitionMismatch(
            methodology_id=methodology.id, version=methodology.version, expected=expected, found=found
        )


def _tampered(case_id: str, seq: int, reason: str) -> NoReturn:
    raise TamperedHistory(reason, case_id=case_id, entry=seq)


@contextlib.contextmanager
def _decoding(conn: sa.Connection, tenant: str, case_id: str) -> Iterator[None]:
    """A read of one case's rows: a row that does not decode is TamperedHistory naming it."""
    try:
        yield
    except Exception as error:
        if not _unreadable.unreadable(error):
            raise
        raise _unreadable.unreadable_case(conn, tenant, case_id) from error


def _iterate(values: object, argument: str) -> Iterator[object]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidInput(f"expected an iterable, got {shown(values)}", argument=argument)
    return iter(values)


def _import_item(item: object) -> tuple[Case, object]:
    """A case to import and its opening time (None: from its history), checked for the store."""
    if isinstance(item, tuple):
        if len(item) != 2:
            raise InvalidInput(
                f"expected a Case or a (case, opened_at) pair, got {shown(item)}", argument="items"
            )
        case, opened = item
    else:
        case, opened = item, None
    if not isinstance(case, Case):
        raise InvalidInput(f"expected a Case, got {type(case).__name__}", argument="items")
    if type(case) is not Case:
        raise InvalidInput(
            f"expected a Case made by resolveflow.open_case or resolveflow.restore, got a subclass "
            f"({type(case).__module__}.{type(case).__qualname__}), whose history cannot be trusted",
            argument="items",
        )
    ledger = case_ledger(case)  # the case's own ledger: nothing it answers through its attributes
    # The core allows NUL in ids and actors; no database text column can hold it.
    text_arg(ledger.case_id, "items")
    for entry in ledger.entries:
        if "\x00" in entry.actor:
            raise InvalidInput(
                f"case {shown(ledger.case_id)}, entry {entry.seq}: its actor contains NUL (\\x00), "
                "which a database text column cannot hold",
                argument="items",
            )
    return case, opened


def _registered(methodology: Methodology) -> Methodology | None:
    try:
        return resolveflow.get_methodology(*methodology.key)
    except UnknownMethodology:
        return None


def _storable_promises(tenant: str, case: Case) -> list[dict[str, Any]]:
    rows = _rows.promises(tenant, case)
    evidence = {f"entry {entry.seq}": entry.evidence_json for entry in case.history}
    problem = _rows.unstorable_promise(rows, evidence)
    if problem is not None:
        path, reason = problem
        raise InvalidInput(
            f"case {shown(case.id)}: a promise at {path or 'its evidence'}: {reason}", argument="items"
        )
    return rows


def _check_promises(rows: list[dict[str, Any]], entry: HistoryEntry) -> None:
    """Refuse an entry whose new promises hold text the deadlines table cannot keep, on every backend.

    Only the promises this entry made are checked: one a case already holds is in the table.
    """
    problem = _rows.unstorable_promise(rows, entry.evidence_json)
    if problem is not None:
        raise InvalidEvidence(action=entry.action, errors=[problem])


def _verified_entry(
    methodology: Methodology, case_id: str, row: sa.Row[Any], expected: int, previous: str, recipe: str
) -> HistoryEntry:
    if row.seq != expected:
        _tampered(case_id, expected, f"entry row {expected} is missing")
    record = _rows.typed_evidence(methodology, row.action, row.evidence)
    if record is INVALID:
        _tampered(case_id, row.seq, "its evidence does not load for its action")
    body = {k: v for k, v in _rows.snapshot_entry(row._mapping).items() if k != "hash"}
    try:
        computed = entry_hash(previous, body, recipe)
    except (CanonicalError, TypeError, AttributeError, UnicodeEncodeError):
        # An edited row (or the one before it) that is not even hashable text.
        computed = None
    if computed is None or computed != row.hash:
        _tampered(case_id, row.seq, "hash mismatch: the entry or the one before it was altered")
    roles = () if row.actor_roles is None else _rows.stored_roles(row.actor_roles)
    if not isinstance(roles, list | tuple):
        _tampered(case_id, row.seq, "its actor_roles column is not what resolveflow writes")
    return HistoryEntry(
        seq=row.seq,
        action=row.action,
        from_step=row.from_step,
        step=row.step,
        actor=row.actor,
        at=row.at,
        evidence=record,
        hash=row.hash,
        roles=frozenset(roles),
    )


# The steps of one fire, split out so that each is a single statement and so
# that tests can make one of them fail to prove that the others roll back.


def _advance(conn: sa.Connection, tenant: str, case: Case, entry: HistoryEntry) -> None:
    outcome = case.outcome
    result = conn.execute(
        sa.update(cases)
        .where(_rows.of_case(cases, tenant, case.id), cases.c.last_seq == entry.seq - 1)
        .values(
            last_seq=entry.seq,
            step=case.step,
            outcome=outcome.id if outcome else None,
            head=entry.hash,
            updated_at=entry.at,
            definitions=_rows.definitions_text(case),  # binds a case stored before the column
        )
    )
    if result.rowcount != 1:
        current = conn.execute(
            sa.select(cases.c.last_seq).where(_rows.of_case(cases, tenant, case.id))
        ).scalar()
        raise ConcurrencyConflict(
            case_id=case.id, expected_seq=entry.seq - 1, current_seq=current if current is not None else -1
        )


def _insert_entry(
    conn: sa.Connection, tenant: str, case_id: str, entry: HistoryEntry, seal: str | None = None
) -> None:
    try:
        conn.execute(sa.insert(entries), _rows.entry_row(tenant, case_id, entry, seal))
    except sa.exc.IntegrityError as error:
        # The case row was just moved on under its lock, so a row already at this
        # sequence number was not written by resolveflow.
        raise TamperedHistory(
            f"an entry row exists beyond the case row's last entry ({entry.seq - 1})",
            case_id=case_id,
            entry=entry.seq,
        ) from error


def _remember_key(
    conn: sa.Connection,
    tenant: str,
    case_id: str,
    key: str,
    request_print: str,
    entry: HistoryEntry,
    now: _dt.datetime,
) -> None:
    conn.execute(
        sa.insert(idempotency),
        {
            "tenant": tenant,
            "case_id": case_id,
            "idempotency_key": key,
            "fingerprint": request_print,
            "seq": entry.seq,
            # When the key was used (the store's clock), not the entry's own time, which a caller
            # may set in the past: the window runs from the request.
            "created_at": now,
        },
    )


def _write_deadlines(conn: sa.Connection, tenant: str, case_id: str, rows: list[dict[str, Any]]) -> None:
    """The case's open promises replace the stored ones; a promise the worker fired stays fired."""
    d = deadlines.c
    this_case = _rows.of_case(deadlines, tenant, case_id)
    fired = {
        (row.kind, row.ref, row.due)
        for row in conn.execute(sa.select(d.kind, d.ref, d.due).where(this_case, d.due_fired.is_(True)))
    }
    conn.execute(sa.delete(deadlines).where(this_case))
    if rows:
        conn.execute(
            sa.insert(deadlines),
            [{**row, "due_fired": (row["kind"], row["ref"], row["due"]) in fired} for row in rows],
        )


def connect(
    url_or_path: str | os.PathLike[str] | sa.URL | sa.Engine,
    *,
    clock: Clock | None = None,
    record_refusals: bool = False,
    methodologies: Iterable[Methodology] = (),
    engine_options: dict[str, Any] | None = None,
    cached_entries: int = DEFAULT_CACHED_ENTRIES,
    idempotency_window: _dt.timedelta = IDEMPOTENCY_WINDOW,
    keys: KeyRing | None = None,
    tenant: str | None = None,
) -> Store:
    """Open a store on a database: a file path means SQLite, a URL any SQLAlchemy database.

    The tables are not created here: call :meth:`Store.create_schema` once,
    or apply :func:`schema_sql` with your migration tool.

    Args:
        url_or_path: a file path (SQLite, created if missing), a URL such as
            ``"postgresql://user@host/db"`` (psycopg 3 is used for
            ``postgresql://``), or an existing non-SQLite SQLAlchemy engine.
        clock: the clock of the cases it opens and loads (default: UTC now).
        record_refusals: also record every refused action (case, action,
            codes, actor, time) for :func:`analyze`.
        methodologies: methodologies that are not registered but whose cases
            this store should load.
        engine_options: extra keyword arguments for ``sqlalchemy.create_engine``
            (pool sizes, echo ...).
        cached_entries: how many entries, across all cases, the store keeps
            replayed in memory between writes, so that :meth:`Store.fire` reads
            and replays only what changed since (0: replay every case in full
            on every write).
        idempotency_window: how long an idempotency key stands for its first
            request (default 24 hours, at most 366 days). A key used again after
            that is a new request; :meth:`Store.forget_expired_keys` deletes
            the expired ones.
        keys: a :class:`~resolveflow.KeyRing` to seal every entry the store
            writes and to check the seals of every entry it reads: an entry
            whose seal verifies is trusted without its guards being run again,
            one whose seal does not (a row forged even with its hashes
            recomputed) is :class:`TamperedHistory`. See :meth:`Store.reseal`
            for entries written before.
        tenant: scope the store to one tenant's cases (see
            :meth:`Store.for_tenant`, which scopes a store you already have).
            None: the cases stored without a tenant.

    Returns:
        A :class:`Store`. Close it with ``store.close()`` or a ``with`` block.

    Raises:
        InvalidInput: not a path, URL or engine; an in-memory SQLite database.

    Example:
        >>> import os, tempfile, resolveflow.store
        >>> tmp = tempfile.TemporaryDirectory()
        >>> with resolveflow.store.connect(os.path.join(tmp.name, "cases.db")) as store:
        ...     store.dialect
        'sqlite'
        >>> tmp.cleanup()
    """
    engine = _engine.make_engine(url_or_path, engine_options)
    return Store(
        engine,
        clock=clock,
        record_refusals=record_refusals,
        methodologies=methodologies,
        owns_engine=engine is not url_or_path,
        cached_entries=cached_entries,
        idempotency_window=idempotency_window,
        keys=keys,
        tenant=tenant,
    )
