"""``resolveflow desk`` and ``python -m resolveflow.desk``: serve the help desk with uvicorn on 127.0.0.1.

The socket is bound before anything is printed, so the address printed is
one that answers (and ``--port 0`` picks a free port and prints it, which the
browser tests rely on). Sessions are signed with ``$DESK_SECRET`` when it is
set, else with a key made for this process (a restart signs everyone out).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from zoneinfo import ZoneInfoNotFoundError

import uvicorn
from sqlalchemy.exc import SQLAlchemyError

import resolveflow

from ._app import LOCAL_HOSTS, create_app
from ._auth import ConfigError

# What can stop the desk from starting: a database it cannot use or seed, a missing package, a bad zone,
# a session secret that is too short.
STARTUP_ERRORS = (
    resolveflow.ResolveflowError,
    SQLAlchemyError,
    OSError,
    ImportError,
    ZoneInfoNotFoundError,
    ConfigError,
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m resolveflow.desk", description="The resolveflow help desk."
    )
    parser.add_argument(
        "--db",
        default=os.environ.get("DESK_DB", "desk.db"),
        help="SQLite file; created with demo cases when missing (default: $DESK_DB or ./desk.db)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "8000")),
        help="port (default: $PORT or 8000; 0 picks a free one)",
    )
    parser.add_argument(
        "--zone", default=os.environ.get("DESK_TZ", "UTC"), help="time zone for showing and typing times"
    )
    parser.add_argument("--no-demo", action="store_true", help="do not seed a new database with demo cases")
    parser.add_argument(
        "--methodologies",
        metavar="DIR",
        help="also offer every methodology file (.yaml, .toml, .json) in this folder",
    )
    parser.add_argument(
        "--secure-cookie",
        action="store_true",
        default=os.environ.get("DESK_SECURE_COOKIE", "") == "1",
        help="send the session cookie over HTTPS only: set it when a TLS proxy serves the desk "
        "(default: $DESK_SECURE_COOKIE=1, else off, since the desk itself speaks plain HTTP)",
    )
    return parser.parse_args(argv)


def serve(
    db: str | os.PathLike[str] = "desk.db",
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    zone: str = "UTC",
    demo: bool = True,
    methodologies: str | os.PathLike[str] | None = None,
    secure_cookie: bool = False,
) -> int:
    """Serve the desk until interrupted; returns the exit code (1, one line on stderr, if it cannot start).

    The socket is bound and listening before the address is printed, so the
    address printed answers; ``port=0`` picks a free port (and prints it).
    """
    path = Path(db).resolve()
    try:
        if methodologies:
            # Your own methodology files, next to the built-ins: all of the folder or none of it.
            resolveflow.load_directory(methodologies)
        hosts = {host, *LOCAL_HOSTS} if host in ("127.0.0.1", "localhost", "::1") else {host}
        app = create_app(
            path,
            demo=demo,
            zone=zone,
            allowed_hosts=sorted(hosts),
            secure_cookie=secure_cookie,
        )
    except STARTUP_ERRORS as error:
        # A new database that could not be seeded is not left behind: the next start tries again.
        reason = " ".join(str(error).split()) or type(error).__name__
        print(f"resolveflow desk: cannot start on {path}: {reason}", file=sys.stderr)
        return 1
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening before the address is printed: a client that connects at once waits in the
        # backlog until uvicorn accepts, instead of being refused.
        sock.listen(config.backlog)
    except OSError as error:
        sock.close()
        print(f"resolveflow desk: cannot listen on {host}:{port}: {error.strerror}", file=sys.stderr)
        return 1
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(f"resolveflow desk: http://{shown}:{bound_port}/  (cases in {path}; Ctrl-C to stop)", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m resolveflow.desk [--db FILE] [--host H] [--port P] ...``; returns the exit code."""
    args = parse(argv)
    return serve(
        args.db,
        host=args.host,
        port=args.port,
        zone=args.zone,
        demo=not args.no_demo,
        methodologies=args.methodologies,
        secure_cookie=args.secure_cookie,
    )


if __name__ == "__main__":
    raise SystemExit(main())
