"""The ``serve`` and ``openapi`` commands of ``resolveflow``: the HTTP API (the ``server`` extra).

``resolveflow serve DATABASE_URL --tokens FILE`` runs :func:`resolveflow.server.create_app`
with uvicorn; ``resolveflow openapi`` writes the OpenAPI document. Tokens are
read from a file that only its owner may read, and never printed or logged
(uvicorn's access log shows the method, path and status, not headers).

Example:
    >>> import click
    >>> from click.testing import CliRunner
    >>> group = click.Group("resolveflow")
    >>> add_server_commands(group)
    >>> result = CliRunner().invoke(group, ["openapi"])
    >>> result.exit_code, '"openapi": "3.1.0"' in result.output
    (0, True)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

NEEDS_SERVER = "the command needs the server extra: pip install 'resolveflow[cli,server]'"


def _server() -> Any:
    try:
        import uvicorn  # noqa: F401 - checked here, used by serve

        import resolveflow.server
    except ImportError as error:
        raise click.ClickException(NEEDS_SERVER) from error
    return resolveflow.server


def add_server_commands(group: click.Group) -> None:
    """Add ``serve`` and ``openapi`` to the ``resolveflow`` command group."""

    @group.command("openapi")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
    def openapi(output: Path | None) -> None:
        """Print (or write) the HTTP API's OpenAPI 3.1 document, with every registered methodology."""
        server = _server()
        text = json.dumps(server.openapi_document(), indent=2, ensure_ascii=False) + "\n"
        if output is None:
            click.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
            click.echo(f"wrote {output}")

    @group.command("serve")
    @click.argument("database_url", metavar="DATABASE_URL")
    @click.option(
        "--tokens",
        "tokens_file",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="JSON or TOML file: token -> {actor, roles, tenant}; readable by its owner only.",
    )
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
    @click.option(
        "--allow-origin", "allowed", multiple=True, metavar="ORIGIN", help="A browser origin to accept."
    )
    @click.option("--create-schema", is_flag=True, help="Create the store's tables first (a new database).")
    @click.option(
        "--log-level",
        default="info",
        show_default=True,
        type=click.Choice(["critical", "error", "warning", "info", "debug", "trace"], case_sensitive=False),
    )
    def serve(
        database_url: str,
        tokens_file: Path,
        host: str,
        port: int,
        allowed: tuple[str, ...],
        create_schema: bool,
        log_level: str,
    ) -> None:
        """Serve the JSON HTTP API over the store at DATABASE_URL (a SQLite path or a postgresql:// URL)."""
        server = _server()
        import anyio
        import uvicorn

        import resolveflow.store

        tokens = server.load_tokens(tokens_file)
        if not tokens:
            raise click.ClickException(f"{tokens_file} names no token")
        if "://" not in database_url and not Path(database_url).is_file() and not create_schema:
            raise click.ClickException(f"no such database file: {database_url} (add --create-schema)")
        if create_schema:
            with resolveflow.store.connect(database_url) as setup:
                setup.create_schema()
        store = resolveflow.store.connect_async(database_url)
        app = server.create_app(store, tokens=tokens, allowed_origins=allowed)
        try:
            uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
        finally:
            anyio.run(store.close)
