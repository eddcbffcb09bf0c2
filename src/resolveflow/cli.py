"""The ``resolveflow`` command: list, show, diagram, validate, verify, schema, play, report.

Needs the ``cli`` extra (``pip install 'resolveflow[cli]'``), built on click
and rich; ``report`` needs the ``sql`` extra as well. Installed without them,
the command says in one line what to install and exits with code 2. Wherever a
command takes ``ID|FILE``, a path to a ``.yaml``, ``.yml``, ``.toml`` or
``.json`` file loads that file, and anything else is a registered methodology
id, optionally with ``@version`` (``seven-as@1.0``).

Exit codes: 0 success; 1 ``verify`` found a problem in the methodology or
``validate`` found the file breaks a rule; 2 any error (bad usage, a file that
is missing, unreadable or not a methodology, an unknown methodology or
version, a missing extra), reported as one line on stderr.

Example:
    >>> from click.testing import CliRunner
    >>> result = CliRunner().invoke(main, ["verify", "seven-as"])
    >>> result.exit_code
    0
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NoReturn

__all__ = ["main"]

# What the command depends on beyond the core; ModuleNotFoundError for anything else is a bug.
_CLI_MODULES = frozenset({"click", "rich"})

NEEDS_CLI = "resolveflow: the command needs the cli extra: pip install 'resolveflow[cli]'"


def _needs_cli(*_args: Any, **_kwargs: Any) -> NoReturn:
    """The command when click or rich is not installed: one line on stderr, exit code 2."""
    print(NEEDS_CLI, file=sys.stderr)
    raise SystemExit(2)


if TYPE_CHECKING:
    from resolveflow._cli import main
else:
    try:
        from resolveflow._cli import main
    except ModuleNotFoundError as _error:
        if (_error.name or "").partition(".")[0] not in _CLI_MODULES:
            raise
        main = _needs_cli


if __name__ == "__main__":  # pragma: no cover
    main()
