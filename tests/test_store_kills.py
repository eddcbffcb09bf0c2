"""Writers killed with SIGKILL at random moments, again and again: every acknowledged entry is there,
nothing half-written is, and the audit finds every case clean."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import resolveflow
import resolveflow.store
from tests._tiny import loop_methodology

ROOT = Path(__file__).resolve().parents[1]
NOTES = loop_methodology("kill-notes", note=resolveflow.evidence.Engagement)
CASES = ("K-1", "K-2", "K-3")
KILLS = 8

# Fires round-robin on the cases for ever, and says so after each fire returns: only then is an
# entry acknowledged. The cases' history grows across writers, so the kept ledgers and the tail
# replays of every new writer are exercised too.
WRITER = textwrap.dedent(
    """
    import itertools, sys
    import resolveflow.store
    from resolveflow import evidence as ev
    from tests._tiny import loop_methodology

    notes = loop_methodology("kill-notes", note=ev.Engagement)
    store = resolveflow.store.connect(sys.argv[1], methodologies=[notes])
    print("ready", flush=True)
    cases = sys.argv[2:-1]
    for n in itertools.count():
        case_id = cases[n % len(cases)]
        entry = store.fire_with_retry(case_id, "note", {"notes": f"{sys.argv[-1]} {n}"}, actor="writer")
        print(f"ack {case_id} {entry.seq} {entry.hash}", flush=True)
    """
)


def run_and_kill(db: str, rng: random.Random, round_number: int) -> list[tuple[str, int, str]]:
    """Start a writer, let it write for a random while, SIGKILL it; the entries it acknowledged."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, db, *CASES, f"round-{round_number}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready", writer.stderr.read() if writer.stderr else ""
    time.sleep(rng.uniform(0.02, 0.4))
    writer.send_signal(signal.SIGKILL)
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == -signal.SIGKILL, err
    acks = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "ack":  # a line cut by the kill was not acknowledged
            acks.append((parts[1], int(parts[2]), parts[3]))
    return acks


@pytest.mark.parametrize("seed", [20261203])
def test_writers_killed_again_and_again_lose_nothing_acknowledged(db_url: str, seed: int) -> None:
    rng = random.Random(seed)
    with resolveflow.store.connect(db_url, methodologies=[NOTES]) as store:
        store.create_schema()
        for case_id in CASES:
            store.open_case(NOTES, case_id=case_id)
    acknowledged: list[tuple[str, int, str]] = []
    for round_number in range(KILLS):
        acknowledged += run_and_kill(db_url, rng, round_number)
    assert len(acknowledged) >= KILLS  # the writers did write before they died
    with resolveflow.store.connect(db_url, methodologies=[NOTES]) as store:
        report = store.verify()
        assert report.clean, report.findings
        assert report.checked == len(CASES)
        histories = {case_id: store.load(case_id).history for case_id in CASES}
        for case_id, seq, digest in acknowledged:
            assert histories[case_id][seq - 1].hash == digest, (case_id, seq)
        # And the cases move on: no lock, no half-written row left behind.
        for case_id in CASES:
            entry = store.fire(case_id, "note", {"notes": "after the kills"}, actor="survivor")
            assert entry.seq == len(histories[case_id]) + 1
