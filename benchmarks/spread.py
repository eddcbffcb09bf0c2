"""The spread of the headline ratios over several runs: ``python -m benchmarks.spread A.json B.json ...``.

Reads results written by ``benchmarks.run`` (full suite or ``--history-only``)
and prints, for each headline ratio, its value in every run and the min-max
range: resolveflow / bare transitions for every benchmark of the suite, fire
against bare transitions, the history-length ratios (longest / shortest, one
case and interleaved), bytes per live case and YAML / JSON of loading the same
methodology. A figure a run does not have is left out of that row.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def headline(results: dict[str, Any]) -> dict[str, float]:
    """The headline figures of one run, by name."""
    found: dict[str, float] = {}
    for key, entry in results.get("benchmarks", {}).items():
        found[f"{key} rf/transitions"] = float(entry["ratios"]["transitions"])
    history = results.get("history")
    if history is not None:
        found["fire vs bare transitions (walk_fire)"] = float(history["fire_vs_transitions"]["ratio"])
        if "fire_vs_transitions_paired" in history:
            found["fire vs bare transitions (walk_fire, taking turns)"] = float(
                history["fire_vs_transitions_paired"]["ratio"]
            )
        for variant in history["fire_by_length"].values():
            rows = variant["by_length"]
            who = "1 case" if variant["cases"] == 1 else f"{variant['cases']} cases"
            span = f"{rows[-1]['length']:,}/{rows[0]['length']:,}"
            for row in rows:
                found[f"fire at {row['length']:,} entries, {who} (us/event)"] = float(row["median_us"])
            found[f"fire {span}, {who}"] = float(variant["ratio"])
            found[f"fire {span}, {who}, CPU time"] = float(variant["cpu_ratio"])
            if "min_ratio" in variant:
                found[f"fire {span}, {who}, fastest samples"] = float(variant["min_ratio"])
        memory = history["memory"]
        entries = memory["entries"]
        found[f"bytes per live case, {entries} entries, shared evidence"] = float(
            memory["shared_evidence"]["bytes_per_case"]
        )
        found[f"bytes per live case, {entries} entries, JSON evidence"] = float(
            memory["json_evidence"]["bytes_per_case"]
        )
    for key, variant in results.get("files", {}).get("variants", {}).items():
        found[f"YAML/JSON load ({key})"] = float(variant["load"]["ratio"])
        found[f"YAML/JSON parse ({key})"] = float(variant["parse"]["ratio"])
    return found


def spread(runs: Sequence[dict[str, Any]]) -> list[tuple[str, list[float], float, float]]:
    """(name, values in run order, min, max) for every headline figure of any run."""
    figures = [headline(r) for r in runs]
    names: list[str] = []
    for found in figures:
        names.extend(n for n in found if n not in names)
    rows = []
    for name in names:
        values = [found[name] for found in figures if name in found]
        rows.append((name, values, min(values), max(values)))
    return rows


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.2g}"


def main(argv: Sequence[str] | None = None) -> int:
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print(__doc__.split("\n", 1)[0], file=sys.stderr)
        return 2
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    for run, path in zip(runs, paths, strict=True):
        meta = run["meta"]
        print(f"{path}: {meta['date']}, load {meta['load_before'][0]:.1f} -> {meta['load_after'][0]:.1f}")
    for name, values, low, high in spread(runs):
        shown = ", ".join(_fmt(v) for v in values)
        print(f"{name}: {shown}  (min-max {_fmt(low)}-{_fmt(high)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
