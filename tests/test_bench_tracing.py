"""The tracing-overhead benchmark runs and reports every mode (its figures are for reading only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks import tracing_overhead

import resolveflow.tracing


def test_it_reports_each_mode_and_leaves_nothing_instrumented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tracing.json"
    tracing_overhead.main(["--samples", "2", "--json", str(out)])
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert set(figures["median_us_per_fire"]) == set(tracing_overhead.MODES)
    assert set(figures["overhead_us_per_fire"]) == set(tracing_overhead.MODES) - {"off"}
    assert all(v > 0 for row in figures["median_us_per_fire"].values() for v in row.values())
    assert "store.fire" in capsys.readouterr().out
    assert not resolveflow.tracing.instrumented()
