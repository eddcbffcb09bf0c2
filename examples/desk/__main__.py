"""``python -m examples.desk``: serve the help desk with uvicorn on 127.0.0.1.

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

from .app import LOCAL_HOSTS, create_app
from .auth import ConfigError

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
    parser = argparse.ArgumentParser(prog="python -m examples.desk", description="The resolveflow help desk.")
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


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    db = Path(args.db).resolve()
    try:
        if args.methodologies:
            # Your own methodology files, next to the built-ins: all of the folder or none of it.
            resolveflow.load_directory(args.methodologies)
        hosts = {args.host, *LOCAL_HOSTS} if args.host in ("127.0.0.1", "localhost", "::1") else {args.host}
        app = create_app(
            db,
            demo=not args.no_demo,
            zone=args.zone,
            allowed_hosts=sorted(hosts),
            secure_cookie=args.secure_cookie,
        )
    except STARTUP_ERRORS as error:
        # A new database that could not be seeded is not left behind: the next start tries again.
        reason = " ".join(str(error).split()) or type(error).__name__
        print(f"resolveflow desk: cannot start on {db}: {reason}", file=sys.stderr)
        return 1
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
        # Listening before the address is printed: a client that connects at once waits in the
        # backlog until uvicorn accepts, instead of being refused.
        sock.listen(config.backlog)
    except OSError as error:
        print(f"cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    print(f"resolveflow desk: http://{host}:{port}/  (cases in {db}; Ctrl-C to stop)", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
