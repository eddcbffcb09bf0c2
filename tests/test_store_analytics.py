"""Analytics from stored histories, the rich report and the SVG chart."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

import resolveflow
import resolveflow.store
from resolveflow.store import Store, analyze, report, time_in_step_svg
from resolveflow.store._analytics import quantile
from tests._store_support import ACTOR, SEVEN_AS_1_0, drive, seven_as_resolved, seven_as_to_act
from tests.conftest import FakeClock

MIN = dt.timedelta(minutes=1)


@pytest.fixture
def recording(db_url: str, clock: FakeClock) -> Iterator[Store]:
    with resolveflow.store.connect(db_url, clock=clock, record_refusals=True) as store:
        store.create_schema()
        yield store


def populate(store: Store, clock: FakeClock) -> None:
    # Two resolved cases, 10 and 20 minutes per step.
    store.open_case(SEVEN_AS_1_0, case_id="A")
    drive(store, "A", seven_as_resolved(clock), clock, minutes=10)
    store.open_case(SEVEN_AS_1_0, case_id="B")
    drive(store, "B", seven_as_resolved(clock), clock, minutes=20)
    # One reopened: the customer was not satisfied, the plan is revised.
    store.open_case(SEVEN_AS_1_0, case_id="C")
    steps = [*seven_as_resolved(clock)[:-1], ("revise_plan", {"satisfied": False})]
    drive(store, "C", steps, clock, minutes=1)
    # One rescheduled, and still waiting.
    store.open_case(SEVEN_AS_1_0, case_id="D")
    drive(store, "D", seven_as_to_act(clock)[:3], clock, minutes=1)
    resume = (clock.now + dt.timedelta(hours=1)).isoformat()
    store.fire("D", "reschedule", {"resume_at": resume, "reason": "too upset"}, actor=ACTOR)
    # One with an open plan, and some refusals.
    store.open_case(SEVEN_AS_1_0, case_id="E")
    drive(store, "E", seven_as_to_act(clock, 2, due_in=dt.timedelta(hours=1)), clock, minutes=1)
    for _ in range(2):
        with pytest.raises(resolveflow.Refused):
            store.fire("E", "complete_plan", actor=ACTOR)
    with pytest.raises(resolveflow.Refused):
        store.fire("E", "complete_item", {"item_id": "nope"}, actor=ACTOR)
    store.open_case("engage", case_id="F")


def test_quantiles_interpolate() -> None:
    assert quantile([1.0], 0.9) == 1.0
    assert quantile([10.0, 20.0], 0.5) == 15.0
    assert quantile([10.0, 20.0], 0.9) == pytest.approx(19.0)
    assert quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    with pytest.raises(ValueError, match="no values"):
        quantile([], 0.5)


def test_the_figures(recording: Store, clock: FakeClock) -> None:
    populate(recording, clock)
    later = clock.now + dt.timedelta(days=30)
    figures = analyze(recording, now=later)
    assert (figures.cases, figures.entries) == (6, 9 + 9 + 9 + 4 + 5)
    assert figures.now == later
    assert [(o.methodology_id, o.outcome, o.count) for o in figures.outcomes] == [
        ("engage", None, 1),
        ("seven-as", None, 3),
        ("seven-as", "resolved", 2),
    ]
    steps = {(s.methodology_id, s.step): s for s in figures.time_in_step}
    # Steps come in the methodology's order.
    assert [s.step for s in figures.time_in_step][:4] == [
        "acknowledge",
        "air_grievances",
        "apologize",
        "assure",
    ]
    acknowledge = steps[("seven-as", "acknowledge")]
    # A and B: 10 and 20 minutes; C, D, E: 1 minute.
    assert acknowledge.count == 5
    assert acknowledge.median == 1 * MIN
    assert acknowledge.p90 == pytest.approx(
        16 * MIN, abs=dt.timedelta(milliseconds=1)
    )  # 10 + 0.6 * (20 - 10)
    # "act" is left once per case that completed its plan; the items don't end the stay.
    assert steps[("seven-as", "act")].count == 3
    assert steps[("seven-as", "act")].median == 30 * MIN
    (resolved,) = figures.resolution
    assert (resolved.methodology_id, resolved.outcome, resolved.count) == ("seven-as", "resolved", 2)
    assert resolved.median == 135 * MIN  # 9 entries: 90 and 180 minutes
    assert [(r.methodology_id, r.cases, r.reopened, r.rescheduled) for r in figures.revisits] == [
        ("seven-as", 5, 1, 1)
    ]
    assert [(f.code, f.count, f.actions) for f in figures.refusals] == [
        ("all_plan_items_done", 2, ("complete_plan",)),
        ("plan_item_open", 1, ("complete_item",)),
    ]
    assert figures.refusals_recorded
    assert [(o.methodology_id, o.kind, o.count) for o in figures.overdue] == [
        ("seven-as", "follow_up", 1),
        ("seven-as", "plan_item", 2),
    ]
    only = analyze(recording, now=later, methodology_id="engage")
    assert (only.cases, only.entries, only.time_in_step, only.overdue) == (1, 0, (), ())


def test_the_report_prints_tables_and_writes_an_svg_chart(
    recording: Store, clock: FakeClock, tmp_path: Path
) -> None:
    populate(recording, clock)
    buffer = io.StringIO()
    chart = tmp_path / "time-in-step.svg"
    figures = report(
        recording,
        console=Console(file=buffer, width=140),
        chart_path=chart,
        now=clock.now + dt.timedelta(days=1),
    )
    text = buffer.getvalue()
    for title in (
        "Cases by outcome",
        "Time in each step",
        "Time to outcome",
        "Reopened and rescheduled",
        "Refusals agents hit most often",
        "Overdue promises",
    ):
        assert title in text
    assert "all_plan_items_done" in text
    assert "2h 15m" in text
    assert figures.cases == 6
    svg = ET.fromstring(chart.read_text(encoding="utf-8"))
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    labels = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "seven-as" in labels
    assert "acknowledge" in labels
    bars = list(svg.iter("{http://www.w3.org/2000/svg}rect"))
    assert len(bars) == 1 + len(figures.time_in_step)  # background + one bar per step
    assert f"{len(figures.time_in_step)}"
    assert time_in_step_svg(figures) == chart.read_text(encoding="utf-8")


def test_the_report_says_when_refusals_are_not_recorded(store: Store, tmp_path: Path) -> None:
    store.open_case("engage", case_id="X")
    buffer = io.StringIO()
    figures = report(store, console=Console(file=buffer, width=140))
    assert not figures.refusals_recorded
    assert "record_refusals=True" in buffer.getvalue()
    with pytest.raises(resolveflow.InvalidInput, match="svg"):
        report(store, console=Console(file=io.StringIO()), chart_path=tmp_path / "chart.png")
    assert ET.fromstring(time_in_step_svg(figures)).tag.endswith("svg")


def test_analytics_through_the_store(store: Store, clock: FakeClock) -> None:
    store.open_case("engage", case_id="X")
    drive(store, "X", [("engage_fully", {"notes": "hello"})], clock, minutes=7)
    (stay,) = store.analytics().time_in_step
    assert (stay.step, stay.count, stay.median, stay.p90) == ("engage", 1, 7 * MIN, 7 * MIN)
