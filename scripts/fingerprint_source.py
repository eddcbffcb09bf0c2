#!/usr/bin/env python3
"""Print the fingerprint of text files: hashes of their 8-word runs, never the words.

A fingerprint lets a test check that our own wording does not copy a text,
without the text being in the repository: it is the set of hashes of every
run of 8 consecutive words of the text (lowercase, apostrophes dropped, any
other punctuation a word break), each hash the first 12 hex digits of the
run's SHA-256. Any 8 consecutive words of another string that hash into the
set were (almost certainly) copied.

Usage (from the repository root)::

    python scripts/fingerprint_source.py PATH [PATH ...]
    python scripts/fingerprint_source.py NAME=PATH [NAME=PATH ...]

Prints JSON: ``{"words": 8, "hex_digits": 12, "fingerprints": {KEY: [hash,
...]}}``, the hashes sorted, each KEY the NAME given or else the PATH.
tests/data/source_fingerprints.json is this output, keyed by methodology id.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path

WORDS = 8  # a run of this many consecutive words shared with a text counts as copied
HEX_DIGITS = 12


def words(text: str) -> list[str]:
    """Lowercase words with punctuation, quotes and apostrophes normalised away."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[\u2018\u2019\u02bc'`]", "", text)  # customer's == customer’s == customers
    return re.findall(r"[a-z0-9]+", text)


def runs(text: str, n: int = WORDS) -> list[str]:
    """Every run of ``n`` consecutive words of ``text``, words joined by one space."""
    found = words(text)
    return [" ".join(found[i : i + n]) for i in range(len(found) - n + 1)]


def run_hash(run: str) -> str:
    return hashlib.sha256(run.encode("utf-8")).hexdigest()[:HEX_DIGITS]


def fingerprint(text: str) -> set[str]:
    """The hashes of every run of :data:`WORDS` consecutive words of ``text``."""
    return {run_hash(run) for run in runs(text)}


def copied_runs(text: str, prints: Iterable[str]) -> list[str]:
    """The runs of :data:`WORDS` words of ``text`` whose hash is in the fingerprint ``prints``."""
    known = set(prints)
    return sorted({run for run in runs(text) if run_hash(run) in known})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or any(a in ("-h", "--help") for a in args):
        print(__doc__, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    prints: dict[str, list[str]] = {}
    for arg in args:
        name, path = arg.split("=", 1) if "=" in arg else ("", arg)
        prints[name or path] = sorted(fingerprint(Path(path).read_text(encoding="utf-8")))
    print(json.dumps({"words": WORDS, "hex_digits": HEX_DIGITS, "fingerprints": prints}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
