"""A disk that really fills: a small tmpfs under the SQLite file, and under a PostgreSQL tablespace.

tests/test_store_faults.py fills SQLite by capping its page count and maps
each driver fault to its kind by SQLSTATE; here the filesystem itself runs out
of space (ENOSPC), as a production disk does. Every acknowledged write must
load afterwards, the write that found the disk full must leave every table as
it was and raise ``StoreFull`` with the driver's error chained, reads must go
on, and writes must resume once there is room.

Mounting a filesystem needs root (CAP_SYS_ADMIN); where that is not allowed the
tests are skipped with the reason (the page-count tests cover ``StoreFull``
everywhere).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

import resolveflow
import resolveflow.store
from resolveflow.store import Store, StoreFull
from tests._store_support import ACTOR, table_rows
from tests.conftest import FakeClock
from tests.pg_server import SUPERUSER, TempPostgres, _unprivileged_user

ENGAGE = resolveflow.get_methodology("engage", "1.0")
_MAX_WRITES = 5_000  # a few hundred fill the small disks below; the bound keeps a broken fill finite


@contextlib.contextmanager
def small_disk(size_kb: int, owner: int | None = None) -> Iterator[Path]:
    """A fresh tmpfs of ``size_kb`` KiB, mounted on a new directory (owned by ``owner`` if given)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small filesystem needs root and mount(8)")
    where = Path(tempfile.mkdtemp(prefix="resolveflow-full-"))
    options = f"size={size_kb}k,mode=0755"
    if owner is not None:
        options += f",uid={owner}"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"mounting a small filesystem is not permitted here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


def fill(disk: Path) -> Path:
    """Write a filler file until the disk has no room left; delete it to make room again."""
    filler = disk / "filler"
    chunk = b"\0" * 4096
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                return filler


def write_until_full(write: Callable[[int], object], store: Store) -> tuple[int, StoreFull, object]:
    """Call ``write(n)`` for n = 0, 1, ... until StoreFull.

    Returns how many calls succeeded, the error, and every table's rows before the failed call.
    """
    for n in range(_MAX_WRITES):
        before = table_rows(store)
        try:
            write(n)
        except StoreFull as error:
            return n, error, before
    pytest.fail(f"{_MAX_WRITES} writes and the disk is still not full")


def import_one(store: Store, prefix: str) -> Callable[[int], object]:
    """Store a new case per call, with a long id: rows and index entries that soon need a new page."""

    def write(n: int) -> object:
        return store.import_cases([resolveflow.open_case(ENGAGE, case_id=f"{prefix}-{n:05d}" + "x" * 150)])

    return write


def check_full_then_room(store: Store, clock: FakeClock, disk: Path, label: str, says: str) -> None:
    store.open_case(ENGAGE, case_id="KEEP")
    clock.advance(minutes=1)
    store.fire("KEEP", "engage_fully", {"notes": "Before the disk filled."}, actor=ACTOR)
    filler = fill(disk)
    written, full, before = write_until_full(import_one(store, label), store)
    assert says in full.reason and not full.maybe_recorded
    assert full.__cause__ is not None  # the driver's own error, chained
    assert table_rows(store) == before  # the write that found the disk full left nothing behind
    # Every acknowledged write is there, and reads go on while the disk is full.
    assert store.load("KEEP").step == "empathize"
    assert len(store.cases_at("engage", limit=_MAX_WRITES)) == written
    filler.unlink()  # room again
    clock.advance(minutes=1)
    entry = store.fire("KEEP", "show_empathy", {"statement": "I am sorry the parcel was lost."}, actor=ACTOR)
    assert entry.seq == 2
    assert store.verify().clean


def test_sqlite_on_a_full_disk(tmp_path: Path, clock: FakeClock) -> None:
    with small_disk(1024) as disk, resolveflow.store.connect(disk / "cases.db", clock=clock) as store:
        store.create_schema()
        check_full_then_room(store, clock, disk, "S", "database or disk is full")


@contextlib.contextmanager
def tablespace_on(server: TempPostgres, disk: Path) -> Iterator[str]:
    """A database whose tables go to a tablespace on ``disk`` (the WAL stays on the server's own disk)."""
    location = disk / "ts"
    location.mkdir()
    user = _unprivileged_user() if os.geteuid() == 0 else None
    if user is not None:
        os.chown(location, user.pw_uid, user.pw_gid)
    url = server.create_database("full")
    database = url.rsplit("/", 1)[1]
    admin = {"host": "127.0.0.1", "port": server.port, "user": SUPERUSER, "autocommit": True}
    with psycopg.connect(dbname="postgres", **admin) as conn:
        conn.execute(f"CREATE TABLESPACE \"{database}_ts\" LOCATION '{location}'")
        conn.execute(f'ALTER DATABASE "{database}" SET default_tablespace = "{database}_ts"')
    try:
        yield url
    finally:
        with psycopg.connect(dbname="postgres", **admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'DROP TABLESPACE IF EXISTS "{database}_ts"')


def test_postgresql_on_a_full_disk(pg_server: TempPostgres, clock: FakeClock) -> None:
    owner = _unprivileged_user().pw_uid if os.geteuid() == 0 else None
    with (
        small_disk(2048, owner) as disk,
        tablespace_on(pg_server, disk) as url,
        resolveflow.store.connect(url, clock=clock) as store,
    ):
        store.create_schema()
        with store.engine.connect() as conn:
            where = conn.execute(
                sa.text("SELECT tablespace FROM pg_tables WHERE tablename = 'resolveflow_entries'")
            ).scalar_one()
        assert where is not None and where.endswith("_ts")  # the entries really live on the small disk
        check_full_then_room(store, clock, disk, "P", "No space left on device")
