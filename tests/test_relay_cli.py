"""``resolveflow relay run | dead-letters | replay``: delivering, listing dead letters and replaying them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import resolveflow.store
from resolveflow._cli import main
from resolveflow.webhooks import Secret
from tests._webhook_receiver import Receiver
from tests.test_relay_kills import write

SECRET = Secret.generate()
ENV = {"RESOLVEFLOW_WEBHOOK_SECRET_CRM": SECRET.reveal()}


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env if env is not None else ENV)
    return result.exit_code, result.output


def test_run_once_dead_letters_and_replay(db_url: str) -> None:
    with resolveflow.store.connect(db_url) as store:
        store.create_schema()
        write(store, "A", 2)  # 4 events
    with Receiver([SECRET]) as receiver:
        receiver.status = lambda _payload: 503
        code, out = invoke(
            "relay", "run", db_url, "--webhook", f"crm={receiver.url}", "--once", "--max-attempts", "1"
        )
        assert (code, out.strip()) == (0, "0 delivered, 4 failed attempt(s), 4 dead"), out
        code, out = invoke("relay", "dead-letters", db_url, "--json")
        assert code == 0
        dead = json.loads(out)
        assert [(d["subscriber"], d["state"], d["last_error"]) for d in dead] == [
            ("crm", "dead", "HTTP 503")
        ] * 4
        code, out = invoke("relay", "dead-letters", db_url, "--subscriber", "crm")
        assert code == 0 and dead[0]["delivery_id"] in out and "4 dead letter(s)" in out
        code, out = invoke("relay", "replay", db_url, dead[0]["delivery_id"])
        assert (code, out.strip()) == (0, "1 dead letter(s) replayed")
        code, out = invoke("relay", "replay", db_url, "--all", "--subscriber", "crm")
        assert (code, out.strip()) == (0, "3 dead letter(s) replayed")
        receiver.status = lambda _payload: 200
        code, out = invoke("relay", "run", db_url, "--webhook", f"crm={receiver.url}", "--once")
        assert (code, out.strip()) == (0, "4 delivered, 0 failed attempt(s), 0 dead")
        assert invoke("relay", "dead-letters", db_url)[1].strip() == "0 dead letter(s)"
        replayed = sorted(r.webhook_id for r in receiver.received[4:])
        assert replayed == sorted(d["delivery_id"] for d in dead)  # the same ids as the first attempts


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--webhook", "crm=https://crm.example/"], {}, "no secret for webhook crm"),
        (["--webhook", "crm"], ENV, "--webhook takes NAME=URL"),
        (["--webhook", "crm=ftp://crm.example/"], ENV, "http:// or https://"),
        (["--webhook", "crm=https://crm.example/"], {"RESOLVEFLOW_WEBHOOK_SECRET": "nope"}, "whsec_"),
        (["--webhook", "crm=https://crm.example/", "--max-attempts", "0"], ENV, "max_attempts"),
    ],
)
def test_run_refuses_bad_options_in_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    db = tmp_path / "cases.db"
    with resolveflow.store.connect(str(db)) as store:
        store.create_schema()
    code, out = invoke("relay", "run", str(db), *args, "--once", env=env)
    assert code == 2 and message in out and len(out.strip().splitlines()) == 1, out
    assert "nope" not in out


def test_replay_needs_ids_or_all_and_a_database(tmp_path: Path) -> None:
    db = tmp_path / "cases.db"
    with resolveflow.store.connect(str(db)) as store:
        store.create_schema()
    code, out = invoke("relay", "replay", str(db))
    assert code == 2 and "--all" in out
    code, out = invoke("relay", "replay", str(db), "msg_1", "--all")
    assert code == 2
    code, out = invoke("relay", "dead-letters", str(tmp_path / "missing.db"))
    assert code == 2 and "no such database file" in out


def test_the_commands_on_the_events_page_run(tmp_path: Path) -> None:
    """Each ``$ resolveflow relay`` line of docs/events-and-webhooks.md, on a real database and receiver."""
    page = Path(__file__).resolve().parents[1] / "docs" / "events-and-webhooks.md"
    lines = [
        line[2:]
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("$ resolveflow relay")
    ]
    assert [line.split()[2] for line in lines] == ["run", "dead-letters", "replay"]
    db = tmp_path / "cases.db"
    with resolveflow.store.connect(str(db)) as store:
        store.create_schema()
        write(store, "A", 1)
    with Receiver([SECRET]) as receiver:
        for line in lines:
            args = [str(db) if arg == "cases.db" else arg for arg in line.split()[1:]]
            args = [f"crm={receiver.url}" if arg.startswith("crm=https://") else arg for arg in args]
            code, out = invoke(*args, *(["--once"] if args[1] == "run" else []))
            assert code == 0, out
        assert len(receiver.deduplicated()) == 2
