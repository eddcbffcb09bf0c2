"""store.verify() and `resolveflow store verify`: the audit that replays every stored case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import resolveflow
import resolveflow.store
import resolveflow.testing
from resolveflow._cli import main
from resolveflow.store import Store, TamperedHistory
from resolveflow.store._tables import entries
from tests._store_support import ACTOR, restarted
from tests.conftest import FakeClock

ENGAGE = ("engage", "1.0")
DECLINED = {"accepted": False, "solution": "A voucher."}
WALK = [
    ("engage_fully", {"notes": "The parcel arrived crushed."}),
    ("show_empathy", {"statement": "I see how much that spoils the gift."}),
]


def stored_cases(store: Store, clock: FakeClock, count: int) -> list[str]:
    ids = [f"C-{n:03d}" for n in range(count)]
    methodology = resolveflow.get_methodology(*ENGAGE)
    for case_id in ids:
        store.open_case(methodology, case_id=case_id)
        for action, evidence in WALK:
            clock.advance(minutes=1)
            store.fire(case_id, action, evidence, actor=ACTOR)
    return ids


def tamper(store: Store, case_id: str, seq: int = 1) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(entries)
            .where(entries.c.case_id == case_id, entries.c.seq == seq)
            .values(actor="mallory")
        )


@pytest.fixture
def engage_store(db_url: str, clock: FakeClock) -> Any:
    # engage 1.0 is opened as a Methodology (the registered one): later versions change its steps.
    with resolveflow.store.connect(db_url, clock=clock) as opened:
        opened.create_schema()
        yield opened


def test_a_clean_store_is_clean(engage_store: Store, clock: FakeClock) -> None:
    stored_cases(engage_store, clock, 4)
    report = engage_store.verify()
    assert (report.clean, report.checked, report.entries, report.next_after) == (True, 4, 8, None)
    assert report.to_json() == {"checked": 4, "entries": 8, "findings": [], "next_after": None}


def test_each_case_that_does_not_replay_is_named_with_its_first_bad_entry(
    engage_store: Store, clock: FakeClock
) -> None:
    ids = stored_cases(engage_store, clock, 5)
    tamper(engage_store, ids[1], seq=2)
    tamper(engage_store, ids[3], seq=1)
    tamper(engage_store, ids[3], seq=2)
    report = engage_store.verify()
    assert report.checked == 5 and not report.clean
    assert [(f.case_id, f.kind, f.entry) for f in report.findings] == [
        (ids[1], "tampered", 2),
        (ids[3], "tampered", 1),
    ]
    assert all("hash mismatch" in f.reason for f in report.findings)
    assert report.entries == 6  # the three cases that replayed


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bad=st.sets(st.integers(0, 6)),
    limit=st.integers(1, 8),
    batch=st.integers(1, 4),
)
def test_resuming_in_pieces_finds_what_one_pass_finds(
    tmp_path_factory: pytest.TempPathFactory, bad: set[int], limit: int, batch: int
) -> None:
    clock = FakeClock()
    path = tmp_path_factory.mktemp("audit") / "cases.db"
    with resolveflow.store.connect(path, clock=clock) as store:
        store.create_schema()
        ids = stored_cases(store, clock, 7)
        for n in bad:
            tamper(store, ids[n])
        whole = store.verify(batch_size=batch)
        found: list[str] = []
        checked, after, calls = 0, None, 0
        while True:
            report = store.verify(after=after, limit=limit, batch_size=batch)
            calls += 1
            assert report.checked <= limit
            found += [f.case_id for f in report.findings]
            checked += report.checked
            if report.next_after is None:
                break
            after = report.next_after
        assert checked == 7 and calls == -(-7 // limit)
        assert found == [f.case_id for f in whole.findings] == [ids[n] for n in sorted(bad)]


def test_another_definition_and_an_unknown_methodology_are_findings(db_url: str, clock: FakeClock) -> None:
    from tests._tiny import loop_methodology

    ours = loop_methodology("audit-ours", note=resolveflow.evidence.Engagement)
    with resolveflow.testing.registered(ours), resolveflow.store.connect(db_url, clock=clock) as store:
        store.create_schema()
        store.open_case("audit-ours", case_id="D-1")
        clock.advance(minutes=1)
        store.fire("D-1", "note", {"notes": "n"}, actor=ACTOR)
        resolveflow.register(
            loop_methodology(
                "audit-ours", note=resolveflow.evidence.Engagement, more=resolveflow.evidence.Engagement
            ),
            force=True,
        )
        (finding,) = store.verify().findings
        assert (finding.case_id, finding.kind) == ("D-1", "definition")
    with resolveflow.store.connect(db_url, clock=clock) as store:  # audit-ours is not registered any more
        (finding,) = store.verify().findings
        assert (finding.case_id, finding.kind, finding.entry) == ("D-1", "unknown_methodology", None)
        assert "audit-ours" in finding.reason


def test_a_finding_drops_the_kept_ledger_so_the_next_write_is_refused(
    engage_store: Store, clock: FakeClock
) -> None:
    (case_id,) = stored_cases(engage_store, clock, 1)
    tamper(engage_store, case_id, seq=1)
    clock.advance(minutes=1)
    # The store kept the case at its last write: it moves on from its head (docs/persistence.md).
    engage_store.fire(case_id, "solution_declined", DECLINED, actor=ACTOR)
    assert not engage_store.verify().clean
    clock.advance(minutes=1)
    with pytest.raises(TamperedHistory) as info:
        engage_store.fire(case_id, "solution_declined", DECLINED, actor=ACTOR)
    assert info.value.entry == 1
    with restarted(engage_store, clock) as other:
        assert [f.entry for f in other.verify().findings] == [1]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"after": ""}, "after"),
        ({"after": "a\x00b"}, "after"),
        ({"after": 7}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": 2**70}, "limit"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 10_001}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
    ],
)
def test_bad_arguments_name_themselves(engage_store: Store, kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(resolveflow.InvalidInput) as info:
        engage_store.verify(**kwargs)
    assert info.value.argument == argument


# --- the command ------------------------------------------------------------------------


def sqlite_store(tmp_path: Path, clock: FakeClock, count: int) -> tuple[Path, list[str]]:
    path = tmp_path / "cases.db"
    with resolveflow.store.connect(path, clock=clock) as store:
        store.create_schema()
        ids = stored_cases(store, clock, count)
    return path, ids


def test_the_command_says_clean_and_exits_0(tmp_path: Path, clock: FakeClock) -> None:
    path, _ = sqlite_store(tmp_path, clock, 3)
    result = CliRunner().invoke(main, ["store", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 case(s), 6 entries checked: clean" in result.output


def test_the_command_names_each_bad_case_and_exits_1(tmp_path: Path, clock: FakeClock) -> None:
    path, ids = sqlite_store(tmp_path, clock, 3)
    with resolveflow.store.connect(path) as store:
        tamper(store, ids[2], seq=2)
    result = CliRunner().invoke(main, ["store", "verify", str(path)])
    assert result.exit_code == 1, result.output
    assert f"{ids[2]} (tampered, entry 2): " in result.output
    assert "1 case(s) do not replay" in result.output
    data = json.loads(CliRunner().invoke(main, ["store", "verify", str(path), "--json"]).output)
    assert [(f["case_id"], f["entry"]) for f in data["findings"]] == [(ids[2], 2)]


def test_the_command_resumes_with_after(tmp_path: Path, clock: FakeClock) -> None:
    path, ids = sqlite_store(tmp_path, clock, 3)
    first = CliRunner().invoke(main, ["store", "verify", str(path), "--limit", "2"])
    assert first.exit_code == 0 and f"resume with --after {ids[1]}" in first.output
    rest = CliRunner().invoke(main, ["store", "verify", str(path), "--after", ids[1]])
    assert "1 case(s), 2 entries checked: clean" in rest.output


def test_the_command_refuses_a_missing_file_on_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    result = CliRunner().invoke(main, ["store", "verify", str(missing)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"resolveflow store verify: no such database file: {missing}"
    assert not missing.exists()
    bad_limit = CliRunner().invoke(main, ["store", "verify", str(missing), "--limit", "0"])
    assert bad_limit.exit_code == 2 and "--limit" in bad_limit.stderr
