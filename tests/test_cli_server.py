"""``resolveflow openapi``, and what ``resolveflow serve`` refuses (the served API: test_server_contract)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from resolveflow._cli import main
from resolveflow.server import openapi_document
from tests._http_server import AGENT_TOKEN, write_tokens


def test_openapi_prints_and_writes_the_document(tmp_path: Path) -> None:
    printed = CliRunner().invoke(main, ["openapi"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output) == json.loads(json.dumps(openapi_document()))
    out = tmp_path / "openapi.json"
    written = CliRunner().invoke(main, ["openapi", "--output", str(out)])
    assert written.exit_code == 0 and json.loads(out.read_text(encoding="utf-8"))["openapi"] == "3.1.0"


def test_serve_refuses_a_tokens_file_others_can_read(tmp_path: Path) -> None:
    tokens = write_tokens(tmp_path)
    tokens.chmod(0o644)
    result = CliRunner().invoke(
        main, ["serve", str(tmp_path / "c.db"), "--tokens", str(tokens), "--create-schema"]
    )
    assert result.exit_code == 2
    assert "chmod 600" in result.output
    assert AGENT_TOKEN not in result.output
    assert not (tmp_path / "c.db").exists()


def test_serve_refuses_bad_tokens_files_without_showing_tokens(tmp_path: Path) -> None:
    for text in (
        "{",
        '{"short": {"actor": "ana"}}',
        json.dumps({AGENT_TOKEN: {"actor": "ana", "role": "x"}}),
    ):
        tokens = tmp_path / "tokens.json"
        tokens.write_text(text, encoding="utf-8")
        tokens.chmod(0o600)
        result = CliRunner().invoke(main, ["serve", str(tmp_path / "c.db"), "--tokens", str(tokens)])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("resolveflow")
        assert AGENT_TOKEN not in result.output and "short" not in result.output
        assert "Traceback" not in result.output


def test_serve_needs_a_database_or_create_schema(tmp_path: Path) -> None:
    tokens = write_tokens(tmp_path)
    result = CliRunner().invoke(main, ["serve", str(tmp_path / "missing.db"), "--tokens", str(tokens)])
    assert result.exit_code == 2
    assert "--create-schema" in result.output
    assert not (tmp_path / "missing.db").exists()


def test_serve_refuses_an_unknown_log_level_before_anything(tmp_path: Path) -> None:
    # It was a KeyError traceback from uvicorn, after the schema had been created.
    tokens = write_tokens(tmp_path)
    db = tmp_path / "c.db"
    args = ["serve", str(db), "--tokens", str(tokens), "--create-schema", "--log-level", "bogus"]
    result = CliRunner().invoke(main, [*args, "--port", "0"])
    assert result.exit_code == 2, result.output
    assert "--log-level" in result.output and "bogus" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not db.exists()
