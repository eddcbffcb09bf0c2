"""A real ``resolveflow serve`` in a subprocess, on a free port, for the tests that talk HTTP to it.

The server runs the installed command's code (``python -m resolveflow.cli serve``)
over a SQLite file, with a tokens file of its own; the fixture waits until
``GET /openapi.json`` answers and stops the process at the end.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx2 as httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
AGENT_TOKEN = "agent-token-0123456789abcdef"
LEAD_TOKEN = "lead-token-0123456789abcdef"
ACME_TOKEN = "acme-token-0123456789abcdef"
TOKENS = {
    AGENT_TOKEN: {"actor": "ana", "roles": ["agent"]},
    LEAD_TOKEN: {"actor": "lee", "roles": ["agent", "lead", "legal"]},
    ACME_TOKEN: {"actor": "ada", "roles": ["agent"], "tenant": "acme"},
}


@attrs.frozen
class RunningServer:
    url: str
    token: str
    database: Path
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_tokens(folder: Path) -> Path:
    path = folder / "tokens.json"
    path.write_text(json.dumps(TOKENS), encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def running_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("http")
    tokens = write_tokens(folder)
    database = folder / "cases.db"
    port = free_port()
    log = folder / "server.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    command = [
        sys.executable, "-m", "resolveflow.cli", "serve", str(database), "--tokens", str(tokens),
        "--port", str(port), "--create-schema", "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield RunningServer(url=url, token=AGENT_TOKEN, database=database, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
