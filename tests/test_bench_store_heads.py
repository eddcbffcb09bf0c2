"""The store-writes benchmark runs and reports what it claims (its figures are for reading, not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks import store_heads


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("heads") / "heads.json"
    store_heads.main(["--rounds", "3", "--json", str(out)])
    data: dict[str, object] = json.loads(Path(out).read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_each_database_reports_fire_by_length_the_floor_and_load(
    figures: dict[str, object], backend: str
) -> None:
    found = figures[backend]
    assert isinstance(found, dict) and "skipped" not in found, found  # CI has PostgreSQL: never skipped
    lengths = [str(n) for n in store_heads.LENGTHS]
    assert sorted(found["fire_ms"]) == sorted(lengths)
    assert all(found["fire_ms"][n] > 0 and found["first_write_ms"][n] > 0 for n in lengths)
    short, long = (found["fire_ms"][n] for n in lengths)
    # The ratio is of the medians of the raw samples; the shown medians are rounded to the microsecond.
    assert found["fire_ratio"] == pytest.approx(long / short, rel=0.05, abs=0.02)
    assert found["fire_met"] == (found["fire_ratio"] <= store_heads.FIRE_TARGET)
    assert found["floor_insert_ms"] > 0 and found["read_rows_ms"] > 0
    assert found["load_ratio"] == pytest.approx(found["load_ms"] / found["read_rows_ms"], rel=0.05, abs=0.02)
    cold = found["cold_load_ratio"]
    assert cold == pytest.approx(found["cold_load_ms"] / found["read_rows_ms"], rel=0.05, abs=0.02)


def test_the_verdict_names_both_targets(figures: dict[str, object]) -> None:
    lines = store_heads.verdict_lines(figures)
    assert len(lines) == 2
    assert all("target <= 1.5x" in line and "target <= 5.0x" in line for line in lines)
