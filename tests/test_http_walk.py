"""A non-Python client walks a case to its outcome: examples/http/walk_case.sh (curl and jq) against
the running server, and the curl steps of docs/guides/http.md.

Skipped only when curl or jq is missing and not under ``CI=true``; under CI
they must be there (scripts/_system.sh installs them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx2 as http
import pytest

from tests._http_server import ACME_TOKEN, ROOT, RunningServer, running_server

__all__ = ["running_server"]

SCRIPT = ROOT / "examples" / "http" / "walk_case.sh"
GUIDE = ROOT / "docs" / "guides" / "http.md"


@pytest.fixture(autouse=True)
def _tools() -> None:
    missing = [tool for tool in ("curl", "jq", "bash") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{', '.join(missing)} missing under CI (scripts/_system.sh installs them)")
        pytest.skip(f"needs {', '.join(missing)}")


def run(script: list[str], server: RunningServer, token: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RESOLVEFLOW_URL": server.url, "RESOLVEFLOW_TOKEN": token}
    return subprocess.run(script, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_the_curl_script_walks_a_case_to_its_outcome(running_server: RunningServer, tmp_path: Path) -> None:
    done = run(["bash", str(SCRIPT), "CURL-1"], running_server, running_server.token, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "resolved"
    # What the script did is what the server recorded, for the token's actor.
    headers = {"Authorization": f"Bearer {running_server.token}"}
    view = http.get(f"{running_server.url}/cases/CURL-1", headers=headers).json()
    assert view["outcome"]["id"] == "resolved"
    assert [e["action"] for e in view["history"]] == ["engage_fully", "show_empathy", "solution_accepted"]
    assert {e["actor"]["id"] for e in view["history"]} == {"ana"}


def test_the_script_fails_with_the_problem_when_the_server_refuses(
    running_server: RunningServer, tmp_path: Path
) -> None:
    run(["bash", str(SCRIPT), "CURL-2"], running_server, running_server.token, tmp_path)
    again = run(["bash", str(SCRIPT), "CURL-2"], running_server, running_server.token, tmp_path)
    assert again.returncode == 1
    assert "HTTP 409" in again.stderr and "case-exists" in again.stderr
    bad_token = run(["bash", str(SCRIPT), "CURL-3"], running_server, "not-a-known-token-000000", tmp_path)
    assert bad_token.returncode == 1 and "HTTP 401" in bad_token.stderr


def test_a_tenant_token_walks_its_own_case(running_server: RunningServer, tmp_path: Path) -> None:
    done = run(["bash", str(SCRIPT), "CURL-1"], running_server, ACME_TOKEN, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "resolved"


def test_the_guides_curl_steps_run(running_server: RunningServer, tmp_path: Path) -> None:
    blocks = re.findall(r"```bash\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "docs/guides/http.md has no bash example"
    script = tmp_path / "guide.sh"
    script.write_text("set -euo pipefail\n" + "\n".join(blocks), encoding="utf-8")
    done = run(["bash", str(script)], running_server, running_server.token, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "resolved"
