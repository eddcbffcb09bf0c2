"""The built wheel, in a clean virtual environment: `resolveflow desk` and `resolveflow serve` work.

Builds the wheel (``pip wheel``, with hatchling fetched by pip's build isolation),
installs it with the ``desk`` and ``server`` extras into a new venv, and, outside
the checkout, starts ``resolveflow desk`` there (the sign-in page, the stylesheet
and the icon: templates and static files are package data) and ``resolveflow
serve`` (a case opened and fired over HTTP with a bearer token): the commands need
nothing beyond the extras.

It needs the package index (for hatchling and the extra's dependencies) and takes
15 seconds to a minute, so it runs under CI=true, or when asked: ``WHEEL_TEST=1``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    os.environ.get("WHEEL_TEST") != "1" and os.environ.get("CI") != "true",
    reason="builds and installs a wheel: set WHEEL_TEST=1 (CI=true runs it)",
)


CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DESK_SECRET")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the built wheel and its desk and server extras; its bin folder."""
    folder = tmp_path_factory.mktemp("wheel")
    wheels = folder / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("resolveflow-*.whl")
    env_dir = folder / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", f"{wheel}[desk,server]"], check=True)
    return env_dir / "bin"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _call(url: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_wheel_serves_the_http_api(installed: Path, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"token-of-ana-0123456789": {"actor": "ana", "roles": ["agent"]}}))
    tokens.chmod(0o600)
    port = _free_port()
    command = [
        installed / "resolveflow", "serve", str(tmp_path / "cases.db"), "--tokens", str(tokens),
        "--port", str(port), "--create-schema", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=tmp_path, env=CLEAN_ENV, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/openapi.json", timeout=2) as response:
                    assert json.loads(response.read())["openapi"].startswith("3.1")
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, (
                    "resolveflow serve did not start"
                )
                time.sleep(0.2)
        token = "token-of-ana-0123456789"
        status, _ = _call(f"{base}/cases", token, {"methodology": "engage", "case_id": "W-1"})
        assert status == 201
        status, entry = _call(
            f"{base}/cases/W-1/actions/engage_fully", token, {"evidence": {"notes": "Broken on arrival."}}
        )
        assert status == 200, entry
        status, view = _call(f"{base}/cases/W-1", token)
        assert status == 200 and "empathize" in json.dumps(view)
        assert _call(f"{base}/cases/W-1", "not-a-token")[0] == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_wheel_serves_the_desk(installed: Path, tmp_path: Path) -> None:
    # Run outside the checkout, so nothing is imported from src/.
    process = subprocess.Popen(
        [installed / "resolveflow", "desk", "--db", str(tmp_path / "desk.db"), "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=CLEAN_ENV,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line
        base = found.group(0)
        for path, kind in (
            ("/signin", "text/html"),
            ("/static/desk.css", "text/css"),
            ("/static/favicon.svg", "image/svg+xml"),
        ):
            with urllib.request.urlopen(base + path, timeout=10) as response:
                assert response.status == 200 and response.headers["content-type"].startswith(kind), path
        with urllib.request.urlopen(base + "/signin", timeout=10) as response:
            assert "Demo agents" in response.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=10)
