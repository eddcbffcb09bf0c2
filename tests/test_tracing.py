"""resolveflow.tracing: OpenTelemetry spans and metrics, checked with the SDK's in-memory exporter and reader.

- ``import resolveflow`` (and the store, and resolveflow.tracing itself) imports no
  OpenTelemetry, and until ``instrument()`` the traced calls are the original functions;
- each case call and store operation makes its span, store.fire > case.fire and
  store.open_case > case.open nest, store spans name the database (``db.system``);
- a refused fire sets the span's status and records the refusal codes; a refusing
  ``check`` is an answer, not an error; exceptions are recorded by type only;
- fires and refusal codes are counted; the overdue gauge reports the watched store;
- nothing is recorded after ``uninstrument()``;
- evidence and actor ids (Hypothesis: any string) never appear in any exported span
  or metric, and case ids only with ``record_case_ids=True``.

The store tests run on SQLite and PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import resolveflow
import resolveflow.store
import resolveflow.tracing
from resolveflow import _telemetry
from resolveflow.store import Store
from tests._store_support import ACTOR, SEVEN_AS_1_0, drive, seven_as_to_act
from tests.conftest import FakeClock
from tests.store_fixtures import STORE_APIS

NOTES = {"notes": "The parcel arrived crushed."}


class Telemetry:
    """An in-memory span exporter and metric reader, instrumented for one test."""

    def __init__(self, *, record_case_ids: bool = False) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        resolveflow.tracing.instrument(
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            record_case_ids=record_case_ids,
        )

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def names(self) -> list[str]:
        return [s.name for s in self.spans()]

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.name == name]

    def metrics(self) -> dict[str, list[tuple[dict[str, Any], float]]]:
        """Every data point by metric name: (attributes, value)."""
        data = self.reader.get_metrics_data()
        found: dict[str, list[tuple[dict[str, Any], float]]] = {}
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    points = found.setdefault(metric.name, [])
                    for point in metric.data.data_points:
                        points.append((dict(point.attributes or {}), point.value))  # type: ignore[union-attr]
        return found

    def count(self, metric: str, **attributes: str) -> float:
        wanted = {f"resolveflow.{k.replace('_', '.', 1)}": v for k, v in attributes.items()}
        return sum(v for a, v in self.metrics().get(metric, []) if wanted.items() <= a.items())

    def exported_text(self) -> str:
        """Everything exported, as text: span names, attributes, events, statuses, links, metrics."""
        parts = []
        for span in self.spans():
            parts.append(span.to_json())
        data = self.reader.get_metrics_data()
        if data is not None:
            parts.append(data.to_json())
        return "\n".join(parts)

    def strings(self) -> list[str]:
        """Every string value in any exported span or metric attribute, event and status."""
        found: list[str] = []

        def add(values: Any) -> None:
            for value in dict(values or {}).values():
                found.extend(value if isinstance(value, tuple | list) else [value])

        for span in self.spans():
            found.append(span.name)
            add(span.attributes)
            for event in span.events:
                found.append(event.name)
                add(event.attributes)
            found.append(span.status.description or "")
        for points in self.metrics().values():
            for attributes, _ in points:
                add(attributes)
        return [str(s) for s in found]

    def close(self) -> None:
        resolveflow.tracing.uninstrument()
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


@pytest.fixture(params=STORE_APIS)
def store_api(request: pytest.FixtureRequest) -> str:
    """The store's spans: every store test here runs on the synchronous Store and the AsyncStore
    (which runs the Store's own methods, so each operation has one span, whichever API called)."""
    return str(request.param)


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    instrumented = Telemetry()
    try:
        yield instrumented
    finally:
        instrumented.close()


def parent_of(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next(s for s in spans if s.context.span_id == span.parent.span_id)


# --- nothing imported, nothing wrapped ---------------------------------------------------------


def test_importing_resolveflow_imports_no_opentelemetry() -> None:
    script = (
        "import sys, resolveflow, resolveflow.store, resolveflow.tracing\n"
        "case = resolveflow.open_case('engage', case_id='c')\n"
        "case.fire('engage_fully', {'notes': 'n'}, actor='a')\n"
        "resolveflow.tracing.uninstrument()\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'opentelemetry')\n"
        "assert not loaded, loaded\n"
        "print('clean')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "clean"


def test_until_instrumented_the_traced_calls_are_the_originals() -> None:
    originals = (resolveflow.Case.fire, resolveflow.Case.check, resolveflow.open_case, Store.fire, Store.load)
    assert not resolveflow.tracing.instrumented()
    instrumented = Telemetry()
    try:
        assert resolveflow.tracing.instrumented()
        assert resolveflow.Case.fire is not originals[0]
        assert Store.load is not originals[4]
    finally:
        instrumented.close()
    assert not resolveflow.tracing.instrumented()
    assert (
        resolveflow.Case.fire,
        resolveflow.Case.check,
        resolveflow.open_case,
        Store.fire,
        Store.load,
    ) == originals
    assert _telemetry.active is None


def test_instrumenting_twice_replaces_the_providers() -> None:
    first = Telemetry()
    second = Telemetry()
    try:
        resolveflow.open_case("engage", case_id="c")
        assert first.names() == []
        assert second.names() == ["resolveflow.case.open"]
    finally:
        second.close()
        first.close()
    assert resolveflow.open_case.__module__ == "resolveflow"
    assert not hasattr(resolveflow.open_case, "__wrapped__")


def test_record_case_ids_must_be_a_bool() -> None:
    with pytest.raises(resolveflow.InvalidInput, match="record_case_ids"):
        resolveflow.tracing.instrument(record_case_ids="yes")  # type: ignore[arg-type]
    assert not resolveflow.tracing.instrumented()


# --- case spans ----------------------------------------------------------------------


def test_open_check_and_fire_make_spans_with_their_attributes(telemetry: Telemetry) -> None:
    case = resolveflow.open_case("engage", case_id="T-1")
    decision = case.check("engage_fully")
    case.fire("engage_fully", NOTES, actor="ana")
    opened, checked, fired = telemetry.spans()
    assert [opened.name, checked.name, fired.name] == [
        "resolveflow.case.open",
        "resolveflow.case.check",
        "resolveflow.case.fire",
    ]
    assert opened.attributes == {
        "resolveflow.methodology.id": "engage",
        "resolveflow.methodology.version": case.methodology.version,
        "resolveflow.step.to": "engage",
    }
    assert decision.allowed
    assert checked.attributes is not None and fired.attributes is not None
    assert checked.attributes["resolveflow.action"] == "engage_fully"
    assert checked.attributes["resolveflow.decision.allowed"] is True
    assert checked.attributes["resolveflow.refusal.codes"] == ()
    assert dict(fired.attributes) == {
        "resolveflow.methodology.id": "engage",
        "resolveflow.methodology.version": case.methodology.version,
        "resolveflow.action": "engage_fully",
        "resolveflow.step.from": "engage",
        "resolveflow.step.to": "empathize",
        "resolveflow.entry.seq": 1,
    }
    assert all(s.status.status_code is StatusCode.UNSET for s in telemetry.spans())
    assert all(s.parent is None for s in telemetry.spans())


def test_a_refused_fire_sets_the_status_and_records_the_codes(telemetry: Telemetry) -> None:
    case = resolveflow.open_case("seven-as", case_id="T-2")
    with pytest.raises(resolveflow.Refused) as refused:
        case.fire("complete_plan", actor="ana")
    (span,) = telemetry.named("resolveflow.case.fire")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "refused: " + ", ".join(refused.value.codes)
    assert span.attributes is not None
    assert span.attributes["resolveflow.refusal.codes"] == refused.value.codes
    assert span.attributes["error.type"] == "resolveflow.exceptions.Refused"
    assert "resolveflow.entry.seq" not in span.attributes
    # The exception event names the type only: a message can quote evidence.
    assert [(e.name, dict(e.attributes or {})) for e in span.events] == [
        ("exception", {"exception.type": "resolveflow.exceptions.Refused"})
    ]


def test_a_refusing_check_is_an_answer_not_an_error(telemetry: Telemetry) -> None:
    case = resolveflow.open_case("seven-as", case_id="T-3")
    decision = case.check("complete_plan")
    (span,) = telemetry.named("resolveflow.case.check")
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes is not None
    assert span.attributes["resolveflow.decision.allowed"] is False
    assert span.attributes["resolveflow.refusal.codes"] == tuple(r.code for r in decision.refusals)


def test_an_unknown_action_is_recorded_by_error_type_without_its_name(telemetry: Telemetry) -> None:
    case = resolveflow.open_case("engage", case_id="T-4")
    with pytest.raises(resolveflow.UnknownAction):
        case.fire("customer-42-secret", actor="ana")
    (span,) = telemetry.named("resolveflow.case.fire")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "resolveflow.exceptions.UnknownAction"
    assert "resolveflow.action" not in span.attributes
    assert "customer-42-secret" not in telemetry.exported_text()
    assert telemetry.metrics().get(resolveflow.tracing.REFUSALS, []) == []


def test_fires_and_refusal_codes_are_counted(telemetry: Telemetry) -> None:
    case = resolveflow.open_case("engage", case_id="T-5")
    case.fire("engage_fully", NOTES, actor="ana")
    for _ in range(2):
        with pytest.raises(resolveflow.Refused) as refused:
            case.fire("engage_fully", NOTES, actor="ana")
    other = resolveflow.open_case("seven-as", case_id="T-6")
    other.fire("acknowledge_feelings", {"feelings": "angry"}, actor="bo")
    assert telemetry.count(resolveflow.tracing.FIRES, methodology_id="engage", action="engage_fully") == 1
    assert telemetry.count(resolveflow.tracing.FIRES, methodology_id="seven-as") == 1
    assert telemetry.count(resolveflow.tracing.FIRES) == 2
    (code,) = refused.value.codes
    points = telemetry.metrics()[resolveflow.tracing.REFUSALS]
    assert points == [
        (
            {
                "resolveflow.methodology.id": "engage",
                "resolveflow.action": "engage_fully",
                "resolveflow.refusal.code": code,
            },
            2,
        )
    ]


def test_invalid_evidence_counts_as_the_invalid_evidence_refusal(telemetry: Telemetry) -> None:
    case = resolveflow.open_case("engage", case_id="T-10")
    with pytest.raises(resolveflow.InvalidEvidence):
        case.fire("engage_fully", {"notes": 3}, actor="ana")
    (span,) = telemetry.named("resolveflow.case.fire")
    assert span.attributes is not None
    assert span.attributes["resolveflow.refusal.codes"] == ("invalid_evidence",)
    assert span.attributes["error.type"] == "resolveflow.exceptions.InvalidEvidence"
    assert span.status.description == "refused: invalid_evidence"
    assert telemetry.count(resolveflow.tracing.REFUSALS, refusal_code="invalid_evidence") == 1


def test_nothing_is_recorded_after_uninstrument() -> None:
    telemetry = Telemetry()
    case = resolveflow.open_case("engage", case_id="T-7")
    resolveflow.tracing.uninstrument()
    spans, fires = len(telemetry.spans()), telemetry.metrics()
    case.fire("engage_fully", NOTES, actor="ana")
    with pytest.raises(resolveflow.Refused):
        case.fire("engage_fully", NOTES, actor="ana")
    resolveflow.open_case("engage", case_id="T-8").check("engage_fully")
    with _telemetry.span("resolveflow.relay.deliver"):
        _telemetry.add("resolveflow.relay.deliveries")
    assert len(telemetry.spans()) == spans == 1
    assert telemetry.metrics() == fires
    telemetry.close()


# --- the hooks of the relay and the worker ----------------------------------------------


def test_the_telemetry_hooks_are_inert_until_instrumented() -> None:
    assert _telemetry.active is None
    first = _telemetry.span("resolveflow.worker.tick", {"a": 1})
    assert first is _telemetry.span("resolveflow.relay.deliver")  # one shared no-op
    with first:
        _telemetry.add("resolveflow.worker.deadlines", 3)


def test_the_telemetry_hooks_make_spans_and_counters(telemetry: Telemetry) -> None:
    def deliver() -> None:
        with _telemetry.span("resolveflow.relay.deliver", {"resolveflow.event.position": 7}):
            _telemetry.add("resolveflow.relay.deliveries", 2, {"resolveflow.delivery.outcome": "retry"})
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        deliver()
    (span,) = telemetry.spans()
    assert span.name == "resolveflow.relay.deliver"
    assert span.attributes is not None
    assert span.attributes["resolveflow.event.position"] == 7
    assert span.attributes["error.type"] == "ValueError"
    assert span.status.status_code is StatusCode.ERROR
    assert "boom" not in telemetry.exported_text()
    assert telemetry.metrics()["resolveflow.relay.deliveries"] == [
        ({"resolveflow.delivery.outcome": "retry"}, 2)
    ]


# --- the store -----------------------------------------------------------------------


def test_store_operations_make_spans_nested_over_the_case_spans(
    store: Store, clock: FakeClock, telemetry: Telemetry
) -> None:
    store.open_case("engage", case_id="S-1")
    clock.advance(minutes=1)
    store.fire("S-1", "engage_fully", NOTES, actor="ana")
    with pytest.raises(resolveflow.Refused):
        store.fire("S-1", "engage_fully", NOTES, actor="ana")
    spans = telemetry.spans()
    by_name = {s.name: s for s in spans}
    assert parent_of(by_name["resolveflow.case.open"], spans) is by_name["resolveflow.store.open_case"]
    fires = telemetry.named("resolveflow.store.fire")
    case_fires = telemetry.named("resolveflow.case.fire")
    assert [parent_of(s, spans) for s in case_fires] == fires
    accepted, refused = fires
    assert accepted.attributes is not None and refused.attributes is not None
    assert accepted.attributes["db.system"] == store.dialect
    assert accepted.attributes["resolveflow.store.operation"] == "fire"
    assert accepted.attributes["resolveflow.entry.seq"] == 1
    assert accepted.status.status_code is StatusCode.UNSET
    assert refused.status.status_code is StatusCode.ERROR
    assert refused.attributes["resolveflow.refusal.codes"] == ("not_from_this_step",)
    # A refusal is counted once, by the case span under the store's.
    assert telemetry.count(resolveflow.tracing.REFUSALS) == 1
    assert telemetry.count(resolveflow.tracing.FIRES, methodology_id="engage") == 1


def test_every_store_operation_has_its_span(store: Store, clock: FakeClock, telemetry: Telemetry) -> None:
    store.open_case(SEVEN_AS_1_0, case_id="S-2")
    drive(store, "S-2", seven_as_to_act(clock, 2), clock)
    store.fire_with_retry("S-2", "complete_item", {"item_id": "item-1"}, actor=ACTOR)
    imported = resolveflow.open_case("engage", case_id="S-3", clock=clock)
    imported.fire("engage_fully", NOTES, actor="ana")
    assert store.import_cases([imported]) == 1
    store.load("S-2")
    store.summary("S-2")
    store.history("S-2")
    store.events()
    store.cases_at("act")
    store.cases_by_outcome(None)
    store.overdue(clock.now)
    store.verify()
    store.analytics()
    operations = {
        s.attributes["resolveflow.store.operation"]: s
        for s in telemetry.spans()
        if s.name.startswith("resolveflow.store.") and s.attributes is not None
    }
    assert set(operations) >= {
        "open_case",
        "fire",
        "fire_with_retry",
        "import_cases",
        "load",
        "summary",
        "history",
        "events",
        "cases_at",
        "cases_by_outcome",
        "overdue",
        "verify",
        "analytics",
    }
    for operation, span in operations.items():
        assert span.name == f"resolveflow.store.{operation}"
        assert span.attributes is not None and span.attributes["db.system"] == store.dialect
    assert operations["import_cases"].attributes["resolveflow.store.rows"] == 1  # type: ignore[index]
    assert operations["cases_at"].attributes["resolveflow.store.rows"] == 1  # type: ignore[index]
    assert operations["load"].attributes["resolveflow.methodology.id"] == "seven-as"  # type: ignore[index]
    assert operations["verify"].attributes["resolveflow.store.rows"] == 2  # type: ignore[index]
    retried = operations["fire_with_retry"]
    assert parent_of(telemetry.named("resolveflow.store.fire")[-1], telemetry.spans()) is retried


def test_the_overdue_gauge_reports_the_watched_store(sync_store: Store, clock: FakeClock) -> None:
    store = sync_store  # the gauge reads a synchronous store (see docs/tracing.md)
    store.open_case(SEVEN_AS_1_0, case_id="S-4")
    drive(store, "S-4", seven_as_to_act(clock, 3), clock)
    later = clock.now + dt.timedelta(days=5)
    assert len(store.overdue(later)) == 3
    assert resolveflow.tracing.overdue_counts(store, later) == {("seven-as", "plan_item"): 3}
    assert resolveflow.tracing.overdue_counts(store, clock.now) == {}
    telemetry = Telemetry()
    try:
        stop = resolveflow.tracing.watch_overdue(store, clock=lambda: later, name="main")
        points = telemetry.metrics()[resolveflow.tracing.OVERDUE]
        assert points == [
            (
                {
                    "resolveflow.methodology.id": "seven-as",
                    "resolveflow.promise.kind": "plan_item",
                    "db.system": store.dialect,
                    "resolveflow.store.name": "main",
                },
                3,
            )
        ]
        stop()
        assert telemetry.metrics().get(resolveflow.tracing.OVERDUE, []) == []
        stop = resolveflow.tracing.watch_overdue(store, clock=lambda: later)
        resolveflow.tracing.uninstrument()
        assert telemetry.metrics().get(resolveflow.tracing.OVERDUE, []) == []
        stop()
    finally:
        telemetry.close()


def test_overdue_watching_checks_its_arguments(sync_store: Store) -> None:
    store = sync_store  # the gauge reads a synchronous store (see docs/tracing.md)
    with pytest.raises(resolveflow.InvalidInput, match="store"):
        resolveflow.tracing.watch_overdue("cases.db")  # type: ignore[arg-type]
    with pytest.raises(resolveflow.InvalidInput, match="clock"):
        resolveflow.tracing.watch_overdue(store, clock="now")  # type: ignore[arg-type]
    with pytest.raises(resolveflow.InvalidInput, match="name"):
        resolveflow.tracing.watch_overdue(store, name=3)  # type: ignore[arg-type]
    with pytest.raises(resolveflow.InvalidInput, match="store"):
        resolveflow.tracing.overdue_counts(None)  # type: ignore[arg-type]
    with pytest.raises(resolveflow.InvalidInput, match="now"):
        resolveflow.tracing.overdue_counts(store, dt.datetime(2026, 1, 1))


# --- privacy ---------------------------------------------------------------------------


def test_case_ids_are_recorded_only_when_asked(store: Store, clock: FakeClock) -> None:
    telemetry = Telemetry()
    try:
        store.open_case("engage", case_id="customer-ref-991")
        store.fire("customer-ref-991", "engage_fully", NOTES, actor="ana")
        assert "customer-ref-991" not in telemetry.exported_text()
        assert not any("resolveflow.case.id" in (s.attributes or {}) for s in telemetry.spans())
    finally:
        telemetry.close()
    telemetry = Telemetry(record_case_ids=True)
    try:
        store.load("customer-ref-991")
        clock.advance(minutes=1)
        case = resolveflow.open_case("engage", case_id="customer-ref-992")
        case.fire("engage_fully", NOTES, actor="ana")
        ids = {s.name: (s.attributes or {}).get("resolveflow.case.id") for s in telemetry.spans()}
        assert ids == {
            "resolveflow.store.load": "customer-ref-991",
            "resolveflow.case.open": "customer-ref-992",
            "resolveflow.case.fire": "customer-ref-992",
        }
        # Metrics never carry a case id.
        assert "customer-ref" not in json.dumps(telemetry.metrics())
    finally:
        telemetry.close()


SECRETS = st.text(min_size=1, max_size=40).map(lambda text: f"EVIDENCE<{text}>")
# What a database column keeps: no NUL, no lone surrogates (the store refuses them as InvalidInput).
STORABLE = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=40
).map(lambda text: f"EVIDENCE<{text}>")


@settings(max_examples=60, deadline=None)
@given(secret=SECRETS)
def test_evidence_and_actors_never_appear_in_exported_data(secret: str) -> None:
    telemetry = Telemetry(record_case_ids=False)
    try:
        case = resolveflow.open_case("engage", case_id="T-9")
        case.check("engage_fully", {"notes": secret}, actor=secret)
        with pytest.raises(resolveflow.InvalidEvidence, match="EVIDENCE<"):  # its message quotes the field
            case.fire("engage_fully", {"notes": secret, secret: secret}, actor=secret)
        case.fire("engage_fully", {"notes": secret}, actor=secret)
        with pytest.raises(resolveflow.Refused):
            case.fire("engage_fully", {"notes": secret}, actor=secret)
        with pytest.raises(resolveflow.InvalidInput):
            case.fire("engage_fully", {"notes": secret}, actor=secret, at=dt.datetime(2020, 1, 1))
        strings = telemetry.strings()
        assert strings
        assert not [s for s in strings if "EVIDENCE<" in s]
        assert "EVIDENCE<" not in telemetry.exported_text()
    finally:
        telemetry.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=STORABLE)
def test_evidence_never_appears_in_exported_store_data(store: Store, clock: FakeClock, secret: str) -> None:
    telemetry = Telemetry()
    try:
        case_id = f"case-{clock.advance(seconds=1).timestamp()}"
        store.open_case("engage", case_id=case_id)
        store.fire(case_id, "engage_fully", {"notes": secret}, actor=secret, idempotency_key=secret)
        with pytest.raises(resolveflow.Refused):
            store.fire(case_id, "engage_fully", {"notes": secret}, actor=secret)
        store.history(case_id)
        store.events()
        assert "EVIDENCE<" not in telemetry.exported_text()
        assert not [s for s in telemetry.strings() if "EVIDENCE<" in s]
    finally:
        telemetry.close()


def test_a_deadline_worker_pass_has_its_span_and_counts_what_fired(
    sync_store: Store, clock: FakeClock, telemetry: Telemetry
) -> None:
    store = sync_store
    store.open_case(SEVEN_AS_1_0, case_id="W-1")
    drive(store, "W-1", seven_as_to_act(clock, 2), clock)
    clock.advance(days=30)  # every promise of the plan is long past due, and missed
    report = resolveflow.store.DeadlineWorker(store).run_once()
    assert report.due >= 1 and report.missed >= 1
    (tick,) = telemetry.named("resolveflow.worker.pass")
    assert tick.status.status_code is StatusCode.UNSET
    assert telemetry.count("resolveflow.deadlines.fired", deadline_event="due") == report.due
    assert telemetry.count("resolveflow.deadlines.fired", deadline_event="missed") == report.missed


def test_the_overdue_gauge_survives_instrumenting_again(sync_store: Store, clock: FakeClock) -> None:
    """The SDK keeps the first gauge registered under a name: instrumenting again must still report."""
    store = sync_store
    store.open_case(SEVEN_AS_1_0, case_id="S-5")
    drive(store, "S-5", seven_as_to_act(clock, 2), clock)
    later = clock.now + dt.timedelta(days=5)
    telemetry = Telemetry()
    try:
        resolveflow.tracing.uninstrument()
        resolveflow.tracing.instrument(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
        )
        stop = resolveflow.tracing.watch_overdue(store, clock=lambda: later)
        ((_, value),) = telemetry.metrics()[resolveflow.tracing.OVERDUE]
        assert value == 2
        stop()
    finally:
        telemetry.close()


def test_a_relay_round_has_its_span_and_counts_its_deliveries(
    sync_store: Store, clock: FakeClock, telemetry: Telemetry
) -> None:
    store = sync_store
    store.open_case("engage", case_id="R-1")
    clock.advance(minutes=1)
    store.fire("R-1", "engage_fully", NOTES, actor="ana")
    received: list[str] = []
    relay = resolveflow.store.Relay(
        store, [resolveflow.store.Listener("audit", lambda event: received.append(event.type))]
    )
    done = relay.run_once()
    assert done.delivered == 1 and received == ["action_accepted"]
    (round_span,) = telemetry.named("resolveflow.relay.round")
    assert round_span.status.status_code is StatusCode.UNSET
    assert telemetry.count("resolveflow.relay.deliveries", delivery_outcome="delivered") == 1
    assert "ana" not in telemetry.strings()  # no actor, payload or case id in what is exported
