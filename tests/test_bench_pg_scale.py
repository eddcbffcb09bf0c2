"""The PostgreSQL scale benchmark runs at tiny sizes and reports what it claims (figures for reading)."""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks import pg_scale


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    return pg_scale.run(pg_scale.TINY)


def test_it_ran_against_a_real_server(figures: dict[str, Any]) -> None:
    assert "skipped" not in figures, figures  # CI has PostgreSQL: never skipped
    size = figures["size"]
    assert size["entries"] == pg_scale.TINY.cases * pg_scale.TINY.entries
    assert size["bytes_per_entry"] > 0


def test_fire_and_load_report_percentiles(figures: dict[str, Any]) -> None:
    for key in ("fire_first_write", "fire_kept", "load"):
        assert 0 < figures[key]["p50_ms"] <= figures[key]["p99_ms"], figures[key]


def test_the_case_list_query_uses_its_index(figures: dict[str, Any]) -> None:
    assert "ix_resolveflow_cases_step" in figures["queries"]["cases_at_plan"]


def test_writer_processes_and_the_hot_case_raise_nothing_raw(figures: dict[str, Any]) -> None:
    for count in pg_scale.TINY.processes:
        run = figures["processes"][str(count)]
        assert run["fires_per_s"] > 0 and run["errors"] == {}
    hot = figures["hot_case"]
    assert hot["other_errors"] == []  # only ConcurrencyConflict, counted, after the retries
    # Every fire that returned is an entry (after open_file): nothing was lost or doubled.
    assert hot["entries"] == hot["fired"] + 1 and hot["fired"] > 0
