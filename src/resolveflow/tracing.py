"""OpenTelemetry spans and metrics for cases and the store (the ``otel`` extra).

Nothing is traced until you call :func:`instrument`, and nothing here imports
OpenTelemetry until then: ``import resolveflow`` (or this module) costs
nothing, and the calls it traces run the very functions they ran before.
:func:`instrument` wraps :func:`resolveflow.open_case`,
:meth:`Case.check <resolveflow.Case.check>`, :meth:`Case.fire
<resolveflow.Case.fire>` and the :class:`~resolveflow.store.Store` operations
in spans, and counts fires and refusals; :func:`uninstrument` puts the
originals back. Install it with ``pip install 'resolveflow[otel]'``.

What is recorded is chosen, not scraped: methodology ids and versions,
action and step names, refusal codes, sequence numbers, row counts, the
database kind and the type of an error. Evidence, actor ids, refusal and
error messages are never recorded (any of them can hold personal data); case
ids only when you ask (``record_case_ids=True``), as they are often customer
references.

Example:
    >>> import resolveflow, resolveflow.tracing
    >>> from opentelemetry.sdk.trace import TracerProvider
    >>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    >>> from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    >>> exporter = InMemorySpanExporter()
    >>> provider = TracerProvider()
    >>> provider.add_span_processor(SimpleSpanProcessor(exporter))
    >>> resolveflow.tracing.instrument(tracer_provider=provider)
    >>> case = resolveflow.open_case("engage", case_id="T-1")
    >>> _ = case.fire("engage_fully", {"notes": "Parcel arrived broken."}, actor="ana")
    >>> [s.name for s in exporter.get_finished_spans()]
    ['resolveflow.case.open', 'resolveflow.case.fire']
    >>> resolveflow.tracing.uninstrument()
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib.util
import inspect
import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Final

import resolveflow
from resolveflow import _telemetry
from resolveflow._case import Case
from resolveflow._methodology import Methodology
from resolveflow.exceptions import InvalidEvidence, InvalidInput, Refused

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Counter, Meter, MeterProvider, Observation
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from resolveflow.store import Store

__all__ = [
    "FIRES",
    "OVERDUE",
    "REFUSALS",
    "instrument",
    "instrumented",
    "overdue_counts",
    "uninstrument",
    "watch_overdue",
]

FIRES: Final = "resolveflow.case.fires"
"""Counter: accepted actions, by ``resolveflow.methodology.id`` and ``resolveflow.action``."""
REFUSALS: Final = "resolveflow.case.refusals"
"""Counter: refused fires, one per refusal code (``resolveflow.refusal.code``), by methodology and action."""
OVERDUE: Final = "resolveflow.deadlines.overdue"
"""Observable gauge: overdue promises of the stores given to :func:`watch_overdue`,
by methodology and ``resolveflow.promise.kind``."""

_SCOPE: Final = "resolveflow"
_log = logging.getLogger("resolveflow.tracing")
_lock = threading.RLock()

# Attribute names (OpenTelemetry semantic-convention style: a namespace, dots, snake_case).
_METHODOLOGY_ID: Final = "resolveflow.methodology.id"
_METHODOLOGY_VERSION: Final = "resolveflow.methodology.version"
_ACTION: Final = "resolveflow.action"
_CASE_ID: Final = "resolveflow.case.id"
_STEP_FROM: Final = "resolveflow.step.from"
_STEP_TO: Final = "resolveflow.step.to"
_SEQ: Final = "resolveflow.entry.seq"
_CODES: Final = "resolveflow.refusal.codes"
_CODE: Final = "resolveflow.refusal.code"
_ALLOWED: Final = "resolveflow.decision.allowed"
_OPERATION: Final = "resolveflow.store.operation"
_ROWS: Final = "resolveflow.store.rows"
_KIND: Final = "resolveflow.promise.kind"
_STORE_NAME: Final = "resolveflow.store.name"
_INVALID_EVIDENCE: Final = "invalid_evidence"

_STORE_OPERATIONS: Final = (
    "open_case",
    "import_cases",
    "fire",
    "fire_with_retry",
    "load",
    "verify",
    "reseal",
    "summary",
    "history",
    "events",
    "cases_at",
    "cases_by_outcome",
    "overdue",
    "analytics",
)
# Store operations whose first argument is a case id.
_BY_CASE: Final = frozenset({"fire", "fire_with_retry", "load", "summary", "history"})

Attrs = dict[str, Any]


class _State:
    """One instrumentation: the tracer, the instruments and the originals to put back."""

    def __init__(self, tracer: Tracer, meter: Meter, record_case_ids: bool) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.tracer = tracer
        self.meter = meter
        self.record_case_ids = record_case_ids
        self.kind = SpanKind.INTERNAL
        self.status = Status
        self.error = StatusCode.ERROR
        self.fires: Counter = meter.create_counter(FIRES, unit="{fire}", description="Accepted actions")
        self.refusals: Counter = meter.create_counter(
            REFUSALS, unit="{refusal}", description="Refusal codes of refused fires"
        )
        self.counters: dict[str, Counter] = {}
        self.originals: list[tuple[object, str, object]] = []
        if meter not in _gauged:
            # Once per meter: the SDK keeps the first instrument registered under a name and drops
            # a later one's callback, so instrumenting again must not register it again. The
            # callback reads whichever instrumentation is current.
            meter.create_observable_gauge(
                OVERDUE,
                callbacks=[_observe_overdue],
                unit="{promise}",
                description="Promises past due on open cases",
            )
            _gauged.add(meter)

    # --- spans -----------------------------------------------------------------

    @contextmanager
    def start(self, name: str, attributes: Mapping[str, Any]) -> Iterator[Span]:
        """A current span that records an error's type and refusal codes, never its message."""
        with self.tracer.start_as_current_span(
            name,
            kind=self.kind,
            attributes=dict(attributes),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield span
            except BaseException as error:
                self.failed(span, error)
                raise

    def failed(self, span: Span, error: BaseException) -> None:
        kind = type(error)
        name = (
            kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        )
        span.set_attribute("error.type", name)
        # The exception event with its type only: messages can quote evidence, ids or SQL parameters.
        span.add_event("exception", {"exception.type": name})
        codes = _refusal_codes(error)
        if codes is not None:
            span.set_attribute(_CODES, codes)
            span.set_status(self.status(self.error, "refused: " + ", ".join(codes)))
        else:
            span.set_status(self.status(self.error, name))

    # --- the hooks of the relay and the worker (resolveflow._telemetry) ----------

    def span(self, name: str, attributes: _telemetry.Attributes) -> AbstractContextManager[object]:
        return self.start(name, attributes)

    def add(self, counter: str, value: int, attributes: _telemetry.Attributes) -> None:
        found = self.counters.get(counter)
        if found is None:
            found = self.counters.setdefault(counter, self.meter.create_counter(counter))
        found.add(value, dict(attributes))

    # --- metrics ---------------------------------------------------------------

    def observe_overdue(self, _options: CallbackOptions) -> Iterable[Observation]:
        from opentelemetry.metrics import Observation

        if _state is not self:
            return []
        found = []
        for watch in list(_watched.values()):
            try:
                counts = overdue_counts(watch.store, watch.now())
            except Exception:
                _log.exception("counting overdue promises failed")
                continue
            for (methodology_id, kind), n in sorted(counts.items()):
                attributes: Attrs = {
                    _METHODOLOGY_ID: methodology_id,
                    _KIND: kind,
                    "db.system": watch.store.dialect,
                }
                if watch.name is not None:
                    attributes[_STORE_NAME] = watch.name
                found.append(Observation(n, attributes))
        return found

    # --- what each traced call records -------------------------------------------

    def case_attributes(self, case: Case) -> Attrs:
        methodology = case.methodology
        attributes: Attrs = {_METHODOLOGY_ID: methodology.id, _METHODOLOGY_VERSION: methodology.version}
        if self.record_case_ids:
            attributes[_CASE_ID] = case.id
        return attributes


_state: _State | None = None
_gauged: weakref.WeakSet[Any] = weakref.WeakSet()  # the meters the overdue gauge is registered on


def _observe_overdue(options: CallbackOptions) -> Iterable[Observation]:
    """The overdue gauge's callback: the current instrumentation's watches (none when off)."""
    state = _state
    return [] if state is None else state.observe_overdue(options)


def _refusal_codes(error: BaseException) -> list[str] | None:
    """A refused fire's codes; evidence that does not validate is ``invalid_evidence``, as in check()."""
    if isinstance(error, Refused):
        return list(error.codes)
    if isinstance(error, InvalidEvidence):
        return [_INVALID_EVIDENCE]
    return None


def _known_action(case: Case, action: object) -> str | None:
    """The action's name when the methodology has it (a caller's unknown string is not recorded)."""
    if isinstance(action, str) and case.methodology.action(action) is not None:
        return action
    return None


def _argument(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


def _trace_case_fire(state: _State, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fire(self: Case, *args: Any, **kwargs: Any) -> Any:
        attributes = state.case_attributes(self)
        action = _known_action(self, _argument(args, kwargs, 0, "action"))
        if action is not None:
            attributes[_ACTION] = action
        attributes[_STEP_FROM] = self.step
        with state.start("resolveflow.case.fire", attributes) as span:
            try:
                entry = original(self, *args, **kwargs)
            except (Refused, InvalidEvidence) as refused:
                counted = {_METHODOLOGY_ID: self.methodology.id, _ACTION: refused.action}
                for code in _refusal_codes(refused) or ():
                    state.refusals.add(1, {**counted, _CODE: code})
                raise
            span.set_attribute(_SEQ, entry.seq)
            span.set_attribute(_STEP_TO, entry.step)
            state.fires.add(1, {_METHODOLOGY_ID: self.methodology.id, _ACTION: entry.action})
            return entry

    return fire


def _trace_case_check(state: _State, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def check(self: Case, *args: Any, **kwargs: Any) -> Any:
        attributes = state.case_attributes(self)
        action = _known_action(self, _argument(args, kwargs, 0, "action"))
        if action is not None:
            attributes[_ACTION] = action
        attributes[_STEP_FROM] = self.step
        with state.start("resolveflow.case.check", attributes) as span:
            decision = original(self, *args, **kwargs)
            # A refusing decision is an answer, not a failure: the status stays unset.
            span.set_attribute(_ALLOWED, decision.allowed)
            span.set_attribute(_CODES, [r.code for r in decision.refusals])
            return decision

    return check


def _trace_open_case(state: _State, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def open_case(*args: Any, **kwargs: Any) -> Any:
        methodology = _argument(args, kwargs, 0, "methodology")
        attributes: Attrs = {}
        if isinstance(methodology, Methodology):
            attributes[_METHODOLOGY_ID] = methodology.id
        with state.start("resolveflow.case.open", attributes) as span:
            case = original(*args, **kwargs)
            span.set_attributes(state.case_attributes(case))
            span.set_attribute(_STEP_TO, case.step)
            return case

    return open_case


def _store_result(state: _State, span: Span, result: object) -> None:
    """What a store operation's result says that holds no personal data."""
    if isinstance(result, Case):
        span.set_attributes(state.case_attributes(result))
        span.set_attribute(_STEP_TO, result.step)
    elif isinstance(result, int) and not isinstance(result, bool):
        span.set_attribute(_ROWS, result)
    elif isinstance(result, list):
        span.set_attribute(_ROWS, len(result))
    else:
        for field in ("entries", "events"):
            rows = getattr(result, field, None)
            if isinstance(rows, tuple | list):
                span.set_attribute(_ROWS, len(rows))
                break
        checked = getattr(result, "checked", None)
        if isinstance(checked, int):
            span.set_attribute(_ROWS, checked)
        seq, action = getattr(result, "seq", None), getattr(result, "action", None)
        if isinstance(seq, int) and isinstance(action, str):  # a HistoryEntry
            span.set_attribute(_SEQ, seq)
            span.set_attribute(_ACTION, action)
            span.set_attribute(_STEP_TO, result.step)  # type: ignore[attr-defined]


def _store_attributes(state: _State, operation: str, store: Any, args: tuple[Any, ...], kwargs: Any) -> Attrs:
    dialect = store.dialect
    attributes: Attrs = {"db.system": dialect, "db.system.name": dialect, _OPERATION: operation}
    if state.record_case_ids:
        case_id = (
            _argument(args, kwargs, 0, "case_id")
            if operation in _BY_CASE
            else kwargs.get("case_id")
            if operation == "open_case"
            else None
        )
        if isinstance(case_id, str):
            attributes[_CASE_ID] = case_id
    return attributes


def _trace_store(state: _State, operation: str, original: Callable[..., Any]) -> Callable[..., Any]:
    name = f"resolveflow.store.{operation}"
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def traced_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            with state.start(name, _store_attributes(state, operation, self, args, kwargs)) as span:
                result = await original(self, *args, **kwargs)
                _store_result(state, span, result)
                return result

        return traced_async

    @functools.wraps(original)
    def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
        with state.start(name, _store_attributes(state, operation, self, args, kwargs)) as span:
            result = original(self, *args, **kwargs)
            _store_result(state, span, result)
            return result

    return traced


def _patch(state: _State, owner: object, attribute: str, wrapper: Callable[..., Any]) -> None:
    original = owner.__dict__[attribute] if isinstance(owner, type) else getattr(owner, attribute)
    state.originals.append((owner, attribute, original))
    setattr(owner, attribute, wrapper)


def _store_classes() -> list[tuple[type, frozenset[str]]]:
    """The store classes to trace, each with the operations it implements itself."""
    if importlib.util.find_spec("sqlalchemy") is None:
        return []
    import resolveflow.store

    # The async store runs the synchronous store's own methods (looked up at each call), so it is
    # traced through them: one span per operation, whichever API was called. Its retry loop is
    # its own (it awaits the pause), so that alone is wrapped there.
    return [
        (resolveflow.store.Store, frozenset(_STORE_OPERATIONS)),
        (resolveflow.store.AsyncStore, frozenset({"fire_with_retry"})),
    ]


def instrument(
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    record_case_ids: bool = False,
) -> None:
    """Start emitting spans and metrics for cases and stores.

    Wraps :func:`resolveflow.open_case`, ``Case.check``, ``Case.fire`` and the
    store's operations (``open_case``, ``import_cases``, ``fire``,
    ``fire_with_retry``, ``load``, ``verify``, ``reseal``, ``summary``,
    ``history``, ``events``, ``cases_at``, ``cases_by_outcome``, ``overdue``,
    ``analytics``) in spans named ``resolveflow.case.<call>`` and
    ``resolveflow.store.<operation>``, and makes the :data:`FIRES`,
    :data:`REFUSALS` and :data:`OVERDUE` instruments. Calling it again
    replaces the providers (it uninstruments first). Call it at start-up:
    code that did ``from resolveflow import open_case`` before keeps the
    untraced function (``resolveflow.open_case(...)`` and the store are
    always traced).

    Args:
        tracer_provider: where spans go (default: OpenTelemetry's global provider).
        meter_provider: where metrics go (default: the global provider).
        record_case_ids: put ``resolveflow.case.id`` on spans. Off by default:
            case ids are often customer references. Metrics never carry them.

    Raises:
        ImportError: the ``otel`` extra is not installed.
        InvalidInput: ``record_case_ids`` is not a bool.

    Example:
        >>> import resolveflow.tracing
        >>> from opentelemetry.sdk.trace import TracerProvider
        >>> resolveflow.tracing.instrument(tracer_provider=TracerProvider())
        >>> resolveflow.tracing.instrumented()
        True
        >>> resolveflow.tracing.uninstrument()
    """
    global _state
    if not isinstance(record_case_ids, bool):
        raise InvalidInput("expected True or False", argument="record_case_ids")
    try:
        from opentelemetry import metrics, trace
    except ImportError as error:  # pragma: no cover - the otel extra is installed for the tests
        raise ImportError(
            "resolveflow.tracing needs the otel extra: pip install 'resolveflow[otel]'"
        ) from error
    version = resolveflow.__version__
    with _lock:
        uninstrument()
        tracer = (
            tracer_provider.get_tracer(_SCOPE, version)
            if tracer_provider is not None
            else trace.get_tracer(_SCOPE, version)
        )
        meter = (
            meter_provider.get_meter(_SCOPE, version)
            if meter_provider is not None
            else metrics.get_meter(_SCOPE, version)
        )
        state = _State(tracer, meter, record_case_ids)
        _patch(state, Case, "fire", _trace_case_fire(state, Case.fire))
        _patch(state, Case, "check", _trace_case_check(state, Case.check))
        _patch(state, resolveflow, "open_case", _trace_open_case(state, resolveflow.open_case))
        for cls, operations in _store_classes():
            for operation in sorted(operations):
                if operation in cls.__dict__:
                    _patch(state, cls, operation, _trace_store(state, operation, cls.__dict__[operation]))
        _state = state
        _telemetry.active = state


def uninstrument() -> None:
    """Stop emitting: put every wrapped function back. Safe to call when not instrumented.

    Counters already recorded stay with the meter provider (its reader may
    export them again); nothing new is recorded, and the overdue gauge
    observes nothing.

    Example:
        >>> import resolveflow.tracing
        >>> resolveflow.tracing.uninstrument()
        >>> resolveflow.tracing.instrumented()
        False
    """
    global _state
    with _lock:
        state = _state
        if state is None:
            return
        _telemetry.active = None
        _state = None
        for owner, attribute, original in reversed(state.originals):
            setattr(owner, attribute, original)


def instrumented() -> bool:
    """True between :func:`instrument` and :func:`uninstrument`.

    Example:
        >>> import resolveflow.tracing
        >>> resolveflow.tracing.instrumented()
        False
    """
    return _state is not None


# --- overdue promises ----------------------------------------------------------


class _Watch:
    __slots__ = ("clock", "name", "store")

    def __init__(self, store: Store, clock: Callable[[], _dt.datetime] | None, name: str | None) -> None:
        self.store = store
        self.clock = clock
        self.name = name

    def now(self) -> _dt.datetime:
        return self.clock() if self.clock is not None else _dt.datetime.now(_dt.UTC)


_watched: dict[int, _Watch] = {}


def overdue_counts(store: Store, now: _dt.datetime | None = None) -> dict[tuple[str, str], int]:
    """Overdue promises per ``(methodology id, kind)``: one grouped query, for dashboards and workers.

    Counts what :meth:`Store.overdue <resolveflow.store.Store.overdue>` lists,
    without reading the rows: a tenant's, for a store scoped with
    ``for_tenant``; every tenant's together, for the store ``connect()``
    returned (an operations gauge, as the deadline worker serves them all).
    Needs the ``sql`` extra, not the ``otel`` one.

    Args:
        store: the store to count in.
        now: the time to judge by (default: now, UTC).

    Raises:
        InvalidInput: not a store, or a naive time.
        StoreUnavailable: the database cannot be used.

    Example:
        >>> import os, tempfile, resolveflow.store, resolveflow.tracing
        >>> tmp = tempfile.TemporaryDirectory()
        >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
        >>> store.create_schema()
        >>> resolveflow.tracing.overdue_counts(store)
        {}
        >>> store.close(); tmp.cleanup()
    """
    import sqlalchemy as sa

    from resolveflow._clock import check_time
    from resolveflow.store import Store, _engine
    from resolveflow.store._tables import deadlines

    if not isinstance(store, Store):
        raise InvalidInput(
            f"expected a resolveflow.store.Store, got {type(store).__name__}", argument="store"
        )
    when = _dt.datetime.now(_dt.UTC) if now is None else check_time(now, "now")
    query = (
        sa.select(deadlines.c.methodology_id, deadlines.c.kind, sa.func.count())
        .where(deadlines.c.due < when)
        .group_by(deadlines.c.methodology_id, deadlines.c.kind)
    )
    if store.tenant is not None:
        query = query.where(deadlines.c.tenant == store.tenant)
    with _engine.read(store.engine, "overdue_counts") as conn:
        return {(str(m), str(k)): int(n) for m, k, n in conn.execute(query)}


def watch_overdue(
    store: Store, *, clock: Callable[[], _dt.datetime] | None = None, name: str | None = None
) -> Callable[[], None]:
    """Report the store's overdue promises on the :data:`OVERDUE` gauge; returns the function that stops it.

    The gauge is observed when the meter provider's reader collects (each
    collection runs one grouped query per watched store, see
    :func:`overdue_counts`), not on every fire. Watching works before or
    after :func:`instrument`; it reports only while instrumented.

    Args:
        store: the store whose ``resolveflow_deadlines`` table to count.
        clock: the time to judge by (default: now, UTC); a worker passes its own.
        name: a ``resolveflow.store.name`` attribute, to tell stores apart.

    Example:
        >>> import os, tempfile, resolveflow.store, resolveflow.tracing
        >>> tmp = tempfile.TemporaryDirectory()
        >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
        >>> stop = resolveflow.tracing.watch_overdue(store, name="main")
        >>> stop(); store.close(); tmp.cleanup()
    """
    from resolveflow.store import Store

    if not isinstance(store, Store):
        raise InvalidInput(
            f"expected a resolveflow.store.Store, got {type(store).__name__}", argument="store"
        )
    if clock is not None and not callable(clock):
        raise InvalidInput("a clock is a callable returning an aware datetime", argument="clock")
    if name is not None and not isinstance(name, str):
        raise InvalidInput("expected a string or None", argument="name")
    watch = _Watch(store, clock, name)
    key = id(watch)
    with _lock:
        _watched[key] = watch

    def stop() -> None:
        with _lock:
            _watched.pop(key, None)

    return stop
