"""A sealed restore against bare transitions, per event. ``python -m benchmarks.sealed_replay``.

Issue 14 asks that a sealed restore replay at most 0.2x bare transitions per
event, measured side by side in one run. The workload is the suite's
``replay`` benchmark (``benchmarks/run.py``: the seven-as walk of 10 events,
stored as JSON, brought back): here resolveflow's snapshot carries seals
(``case.snapshot(keys=ring)``) and is restored with the ring, so each entry
whose seal verifies is trusted without its guards; beside it, the unsealed
restore (every guard run again) and bare transitions replaying the same walk.
The contenders take turns sample by sample. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import secrets
from pathlib import Path
from typing import Any, Final

import resolveflow
from benchmarks.contenders import Contender, ResolveflowContender, TransitionsContender
from benchmarks.run import QUICK, Config, bench_replay
from benchmarks.seven_as import CONDITIONS, METHODOLOGY

TARGET: Final = 0.2  # sealed restore / bare transitions, per event
RING: Final = resolveflow.KeyRing(keys={"bench": secrets.token_bytes(32)}, current="bench")


class SealedResolveflow(ResolveflowContender):
    """resolveflow, with the store's snapshot sealed and restored with the key ring."""

    name = "resolveflow-sealed"

    def store(self, case: resolveflow.Case) -> Any:
        return json.loads(json.dumps(case.snapshot(keys=RING)))

    def replay(self, stored: Any, case_id: str) -> resolveflow.Case:  # noqa: ARG002 - the id is stored
        return resolveflow.restore(stored, methodology=self.methodology, keys=RING)


CONTENDERS: Final[tuple[type[Contender], ...]] = (
    SealedResolveflow,
    ResolveflowContender,
    TransitionsContender,
)


def run(config: Config = QUICK) -> dict[str, Any]:
    """Per-event replay medians of each contender, and the sealed / transitions ratio."""
    results = {cls.name: bench_replay(cls(METHODOLOGY, CONDITIONS), config).to_json() for cls in CONTENDERS}
    sealed = results["resolveflow-sealed"]["median_us"]
    ratio = sealed / results["transitions"]["median_us"]
    return {
        "results": results,
        "sealed_over_transitions": round(ratio, 3),
        "unsealed_over_transitions": round(
            results["resolveflow"]["median_us"] / results["transitions"]["median_us"], 3
        ),
        "target": TARGET,
        "met": ratio <= TARGET,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run()
    rows = ", ".join(f"{name} {r['median_us']:.1f} us/event" for name, r in figures["results"].items())
    verdict = "met" if figures["met"] else "NOT met"
    print(
        f"{rows}; sealed / transitions = {figures['sealed_over_transitions']} (target <= {TARGET}: {verdict})"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
