"""The desk from the built wheel, in a clean virtual environment: `resolveflow desk` serves its pages.

Builds the wheel (``pip wheel``, with hatchling fetched by pip's build isolation),
installs it with the ``desk`` extra into a new venv and starts ``resolveflow desk``
there, then fetches the sign-in page, the stylesheet and the icon: the templates and
static files are package data, and the command needs nothing beyond the extra.

It needs the package index (for hatchling and the extra's dependencies) and takes
15 seconds to a minute, so it runs under CI=true, or when asked: ``DESK_WHEEL_TEST=1``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    os.environ.get("DESK_WHEEL_TEST") != "1" and os.environ.get("CI") != "true",
    reason="builds and installs a wheel: set DESK_WHEEL_TEST=1 (CI=true runs it)",
)


def test_the_wheel_serves_the_desk(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("resolveflow-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", f"{wheel}[desk]"], check=True)
    # Run outside the checkout, so nothing is imported from src/.
    process = subprocess.Popen(
        [env_dir / "bin" / "resolveflow", "desk", "--db", str(tmp_path / "desk.db"), "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DESK_SECRET")},
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
