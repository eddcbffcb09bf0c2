"""``resolveflow desk``: serve the help desk (:mod:`resolveflow.desk`, the ``desk`` extra).

Registered on the command group at the end of :mod:`resolveflow._cli`. The
desk's own packages are imported only when the command runs, so the rest of
the command works without the ``desk`` extra; without it, ``resolveflow desk``
says in one line what to install and exits with code 2.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from resolveflow._cli_errors import CommandError, needs_extra_message

# Every package the desk imports beyond the cli and sql extras: one missing means the desk extra is.
_DESK_MODULES = frozenset(
    {"starlette", "jinja2", "markupsafe", "uvicorn", "multipart", "python_multipart", "argon2"}
    | {"itsdangerous", "sqlalchemy", "aiosqlite", "greenlet", "anyio", "jsonschema", "graphviz"}
)


@click.command("desk")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=lambda: os.environ.get("DESK_DB", "desk.db"),
    show_default="$DESK_DB or ./desk.db",
    help="SQLite file; created with demo cases and agents when missing.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=lambda: int(os.environ.get("PORT", "8000")),
    show_default="$PORT or 8000",
    help="Port; 0 picks a free one.",
)
@click.option(
    "--zone",
    default=lambda: os.environ.get("DESK_TZ", "UTC"),
    show_default="$DESK_TZ or UTC",
    help="Time zone for showing and typing times.",
)
@click.option("--no-demo", is_flag=True, help="Do not seed a new database with demo cases.")
@click.option(
    "--methodologies",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    metavar="DIR",
    help="Also offer every methodology file (.yaml, .toml, .json) in this folder.",
)
@click.option(
    "--secure-cookie",
    is_flag=True,
    default=lambda: os.environ.get("DESK_SECURE_COOKIE", "") == "1",
    help="Send the session cookie over HTTPS only (set it behind a TLS proxy).",
)
def desk(
    db: Path, host: str, port: int, zone: str, no_demo: bool, methodologies: Path | None, secure_cookie: bool
) -> None:
    """Serve the help desk (needs the desk extra): agents sign in and walk cases through the forms.

    A SQLite file that does not exist yet is created with demo cases and four
    demo agents (sign in as ana / ana-demo). The address is printed once the
    port is listening.
    """
    try:
        from resolveflow.desk import serve
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in _DESK_MODULES:
            raise
        raise CommandError(needs_extra_message("desk")) from error
    code = serve(
        db,
        host=host,
        port=port,
        zone=zone,
        demo=not no_demo,
        methodologies=methodologies,
        secure_cookie=secure_cookie,
    )
    if code:
        raise SystemExit(code)
