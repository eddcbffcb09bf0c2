"""The sealed-restore benchmark runs and reports what it claims (its figures are for reading only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks import sealed_replay
from benchmarks.run import _walked
from benchmarks.seven_as import WALK

import resolveflow


def test_it_reports_each_contender_and_the_ratio(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sealed.json"
    sealed_replay.main(["--json", str(out)])
    figures = json.loads(out.read_text(encoding="utf-8"))
    results = figures["results"]
    assert set(results) == {"resolveflow-sealed", "resolveflow", "transitions"}
    assert all(r["median_us"] > 0 for r in results.values())
    expected = results["resolveflow-sealed"]["median_us"] / results["transitions"]["median_us"]
    assert figures["sealed_over_transitions"] == pytest.approx(expected, abs=0.001)
    assert figures["met"] == (figures["sealed_over_transitions"] <= sealed_replay.TARGET)
    assert "sealed / transitions" in capsys.readouterr().out


def test_the_sealed_contender_really_restores_sealed() -> None:
    contender = sealed_replay.SealedResolveflow(sealed_replay.METHODOLOGY, sealed_replay.CONDITIONS)
    stored = contender.store(_walked(contender, "c-1"))
    assert len(stored["seals"]) == len(WALK)
    assert contender.replay(stored, "c-1").history  # the seals verify
    stored["seals"][3] = "bench:" + "0" * 64
    with pytest.raises(resolveflow.InvalidSnapshot, match="seal does not verify"):
        contender.replay(stored, "c-1")
