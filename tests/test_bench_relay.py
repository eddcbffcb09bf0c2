"""The relay benchmark runs and reports what it claims (its figures are for reading, not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks import relay


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("relay") / "relay.json"
    relay.main(["--events", "40", "--lag-events", "10", "--json", str(out)])
    data: dict[str, object] = json.loads(Path(out).read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_each_database_reports_throughput_and_lag(figures: dict[str, object], backend: str) -> None:
    found = figures[backend]
    assert isinstance(found, dict) and "skipped" not in found, found  # CI has PostgreSQL: never skipped
    assert found["events"] == found["listener_delivered"] == found["webhook_delivered"] == 40
    assert found["listener_events_per_s"] > 0 and found["webhook_events_per_s"] > 0
    assert found["lag_events"] == 10  # every event written during the lag run arrived
    assert 0 <= found["lag_p50_ms"] <= found["lag_p99_ms"]


def test_the_report_names_both_databases(figures: dict[str, object]) -> None:
    lines = relay.report_lines(figures)
    assert [line.split(":")[0] for line in lines] == ["sqlite", "postgresql"]
    assert all("events/s" in line and "p99" in line for line in lines)
