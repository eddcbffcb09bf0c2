"""The command line's errors, apart from the commands: the desk's and the server's commands raise them too."""

from __future__ import annotations

from typing import IO, Any

import click


def one_line(text: str) -> str:
    """A message on one line: YAML parsers and drivers write theirs over several."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


class CommandError(click.ClickException):
    """A command could not do its work; shown as ``resolveflow COMMAND: message``, exit code 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))
        context = click.get_current_context(silent=True)
        self.command_path = context.command_path if context is not None else "resolveflow"

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"{self.command_path}: {self.format_message()}", file=file, err=file is None)


def needs_extra_message(extra: str) -> str:
    """What to install for a missing extra; the command itself needs ``cli`` as well."""
    spec = "cli" if extra == "cli" else f"cli,{extra}"
    return f"the command needs the {extra} extra: pip install 'resolveflow[{spec}]'"
