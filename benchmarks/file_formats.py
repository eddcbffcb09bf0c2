"""YAML against JSON: the same methodology loaded from each format. ``python -m benchmarks.file_formats``.

Issue 12 asks that a YAML methodology file cost no more than a few times the
same content as JSON. The content is the generated methodology of
``benchmarks/generated.py`` written by ``dump_methodology`` as YAML and as
JSON, in two variants:

- ``values``: 1,600 steps and 8,000 actions (full run), about 98,000 values:
  the largest of that shape a YAML file may hold (``MAX_EXPANDED``, 100,000
  values once aliases are expanded), about 0.9 MB as YAML and 1.4 MB as JSON;
  many short values, the worst case for a YAML parser against ``json``;
- ``size_cap``: the same with longer action titles, so that the larger of the
  two texts (the JSON) comes just under the 2,000,000 characters a methodology
  text may have (``MAX_FILE_CHARS``): the largest text allowed, as many values.

For each it times ``parse`` (text to plain data, with YAML's checks: alias
and depth caps, duplicate keys) and the whole ``methodology_from_text``
(parse, schema validation, build), the two formats' samples taking turns so
that both see the same load, and reports YAML / JSON of the medians, against
the target of :data:`TARGET` for the whole load. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from benchmarks.generated import generate
from benchmarks.harness import Lap, start, stop, summarize
from resolveflow import Methodology
from resolveflow._file_formats import parse
from resolveflow._files import MAX_FILE_CHARS
from resolveflow.files import dump_methodology, methodology_from_text

TARGET: Final = 3.0  # YAML / JSON for the whole load: "a few times"
FORMATS: Final = ("yaml", "json")
Progress = Callable[[str], None]


@attrs.frozen(kw_only=True)
class FilesConfig:
    """Sizes of the comparison."""

    steps: int = 1_600
    actions: int = 8_000
    pad_to: int = MAX_FILE_CHARS - 20_000  # the size_cap variant's larger text, in characters (0: none)
    rounds: int = 7  # samples per format, per variant and measure
    warmup: int = 1

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


FULL: Final = FilesConfig()
QUICK: Final = FilesConfig(steps=200, actions=1_000, pad_to=400_000, rounds=5)


def values(data: object) -> int:
    """How many values the data holds, keys included: what YAML's MAX_EXPANDED counts."""
    count, stack = 0, [data]
    while stack:
        value = stack.pop()
        count += 1
        if isinstance(value, dict):
            count += len(value)  # the keys
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


def padded(methodology: Methodology, pad_to: int) -> Methodology:
    """The methodology with longer action titles, so that its longer text is about ``pad_to`` characters.

    Titles grow rather than descriptions being added: a new key would add values,
    and the values variant is already at YAML's cap.
    """
    longest = max(len(dump_methodology(methodology, fmt)) for fmt in FORMATS)
    each = max(1, (pad_to - longest) // len(methodology.actions))
    prose = ("; the customer is told what happens next and when" * (each // 40 + 1))[:each].rstrip()
    actions = tuple(attrs.evolve(action, title=action.title + prose) for action in methodology.actions)
    return attrs.evolve(methodology, actions=actions)


def _turns(calls: dict[str, Callable[[], object]], rounds: int, warmup: int) -> dict[str, list[Lap]]:
    """Time each call once a round, in alternating order, so that both see the same load."""
    for _ in range(warmup):
        for call in calls.values():
            call()
    gc.collect()
    laps: dict[str, list[Lap]] = {name: [] for name in calls}
    order = list(calls.items())
    for n in range(rounds):
        for name, call in order if n % 2 == 0 else reversed(order):
            began = start()
            call()
            laps[name].append(stop(began))
    return laps


def _ratio(laps: dict[str, list[Lap]]) -> dict[str, Any]:
    figures = {fmt: summarize(found, ops=1).to_json() for fmt, found in laps.items()}
    yaml, json_ = figures["yaml"], figures["json"]
    return {
        "results": figures,
        "ratio": yaml["median_us"] / json_["median_us"],
        "cpu_ratio": yaml["cpu_median_us"] / json_["cpu_median_us"],
        "min_ratio": yaml["min_us"] / json_["min_us"],
    }


def bench_variant(methodology: Methodology, config: FilesConfig) -> dict[str, Any]:
    """parse and the whole load, YAML against JSON, for one methodology."""
    texts = {fmt: dump_methodology(methodology, fmt) for fmt in FORMATS}
    for fmt, text in texts.items():  # the comparison is void if either is refused
        if methodology_from_text(text, fmt) != methodology:
            raise AssertionError(f"the {fmt} text does not load back to the methodology")
    parsed, _ = parse(texts["json"], "json")

    def parse_of(fmt: str) -> Callable[[], object]:
        return lambda: parse(texts[fmt], fmt)

    def load_of(fmt: str) -> Callable[[], object]:
        return lambda: methodology_from_text(texts[fmt], fmt)

    return {
        "steps": len(methodology.steps),
        "actions": len(methodology.actions),
        "values": values(parsed),
        "chars": {fmt: len(text) for fmt, text in texts.items()},
        "parse": _ratio(_turns({fmt: parse_of(fmt) for fmt in FORMATS}, config.rounds, config.warmup)),
        "load": _ratio(_turns({fmt: load_of(fmt) for fmt in FORMATS}, config.rounds, config.warmup)),
    }


def run(config: FilesConfig, progress: Progress = lambda _: None) -> dict[str, Any]:
    """Both variants; the verdict is on the whole load of each."""
    methodology = generate(config.steps, config.actions)
    variants = {"values": methodology}
    if config.pad_to:
        variants["size_cap"] = padded(methodology, config.pad_to)
    results: dict[str, Any] = {}
    for key, variant in variants.items():
        progress(f"    YAML and JSON, {key}: {config.steps:,} steps, {config.actions:,} actions ...")
        results[key] = bench_variant(variant, config)
        results[key]["met"] = results[key]["load"]["ratio"] <= TARGET
        gc.collect()
    return {
        "config": config.to_json(),
        "target": TARGET,
        "variants": results,
        "met": all(v["met"] for v in results.values()),
    }


def verdict_lines(files: dict[str, Any]) -> list[str]:
    """The comparison as text: ms per load, the ratios and their verdict."""
    lines = []
    for key, variant in files["variants"].items():
        chars = variant["chars"]
        load, parsed = variant["load"], variant["parse"]
        ms = {fmt: load["results"][fmt]["median_us"] / 1_000 for fmt in FORMATS}
        lines.append(
            f"YAML vs JSON load ({key}: {variant['values']:,} values, {chars['yaml']:,} / "
            f"{chars['json']:,} chars): {ms['yaml']:,.0f} / {ms['json']:,.0f} ms = {load['ratio']:.2f}x "
            f"(CPU {load['cpu_ratio']:.2f}x); parse alone {parsed['ratio']:.2f}x "
            f"[{'MET' if variant['met'] else 'NOT MET'}: target <= {files['target']}x]"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.file_formats", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a smaller methodology (a few seconds)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results = run(QUICK if args.quick else FULL, lambda line: print(line, file=sys.stderr, flush=True))
    print(*verdict_lines(results), sep="\n")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


__all__: Sequence[str] = (
    "FULL",
    "QUICK",
    "TARGET",
    "FilesConfig",
    "bench_variant",
    "run",
    "values",
    "verdict_lines",
)

if __name__ == "__main__":
    sys.exit(main())
