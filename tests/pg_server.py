"""A throwaway PostgreSQL server: initdb and pg_ctl in a temporary directory.

Used as a pytest plugin (``pytest_plugins = ["tests.pg_server"]``) and by the
store benchmark. The server listens on a free localhost port, keeps its unix
socket in its own directory, runs without fsync unless asked to be durable
(the tests check logic, not disks) and is stopped and deleted at the end of
the session.

The binaries come from ``RESOLVEFLOW_PG_BIN`` (scripts/test exports it) or
``/usr/lib/postgresql/*/bin``. PostgreSQL refuses to run as root, so as root
the server runs as the ``postgres`` user (or ``nobody``) through ``runuser``,
in a directory that user owns.

Under ``CI=true`` a server that cannot be found or started fails the tests
that need it; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

SUPERUSER = "resolveflow"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be found or started here."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, or None."""
    configured = os.environ.get("RESOLVEFLOW_PG_BIN")
    if configured:
        path = Path(configured)
        return path if (path / "pg_ctl").is_file() else None
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: _version_key(p.parent))
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresUnavailable(
        "running as root and there is no 'postgres' or 'nobody' user to run PostgreSQL as"
    )


class TempPostgres:
    """One PostgreSQL cluster in a temporary directory."""

    def __init__(self, bin_dir: Path, *, durable: bool = False) -> None:
        self.bin_dir = bin_dir
        self.durable = durable
        self.root: Path | None = None
        self.port = 0
        self._prefix: list[str] = []
        self._names = itertools.count(1)

    @property
    def data(self) -> Path:
        assert self.root is not None, "the server is not started"
        return self.root / "data"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._prefix, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.root,
        )

    def start(self) -> TempPostgres:
        self.root = Path(tempfile.mkdtemp(prefix="resolveflow-pg-"))
        atexit.register(self.stop)
        if os.geteuid() == 0:
            user = _unprivileged_user()
            os.chown(self.root, user.pw_uid, user.pw_gid)
            runuser = shutil.which("runuser")
            if runuser is None:
                raise PostgresUnavailable("running as root without runuser to drop privileges for PostgreSQL")
            self._prefix = [runuser, "-u", user.pw_name, "--"]
        done = self._run(
            str(self.bin_dir / "initdb"),
            "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        # A free port can be taken between the probe and the start: try a few.
        for _ in range(3):
            self.port = _free_port()
            options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=120"
            if not self.durable:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            done = self._run(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                "-w", "-t", "30", "-o", options, "start",
            )  # fmt: skip
            if done.returncode == 0:
                return self
        log = (self.root / "server.log").read_text(errors="replace")[-2000:]
        raise PostgresUnavailable(f"pg_ctl start failed: {done.stderr.strip()}\n{log}")

    def stop(self) -> None:
        if self.root is None:
            return
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TempPostgres]:
    """A PostgreSQL server for the whole session (fails under CI=true when there is none)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        _unavailable("no server binaries; set RESOLVEFLOW_PG_BIN or install postgresql")
    server = TempPostgres(bin_dir)
    try:
        server.start()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as error:
        server.stop()
        _unavailable(str(error))
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: TempPostgres) -> str:
    """The URL of a fresh, empty database on the session's server."""
    return pg_server.create_database()
