"""Django system checks: settings under which the store would not behave as documented.

Example:
    >>> from resolveflow.contrib.django._checks import problems
    >>> sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": "crm.sqlite3"}
    >>> [p.id for p in problems({"default": sqlite})]
    ['resolveflow.W001']
    >>> problems({"default": {**sqlite, "OPTIONS": {"transaction_mode": "IMMEDIATE"}}})
    []
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core import checks


def register() -> None:
    # Not tagged "database": those run only with `check --database`, and this reads settings only.
    checks.register(_settings_databases)


def _settings_databases(**_kwargs: Any) -> list[checks.CheckMessage]:
    # Imported here: a module-level LazySettings breaks doctest's search of the module.
    from django.conf import settings

    return problems(settings.DATABASES)


def problems(databases: Mapping[str, Mapping[str, Any]]) -> list[checks.CheckMessage]:
    """What is wrong for resolveflow in a ``DATABASES`` setting."""
    found: list[checks.CheckMessage] = []
    for alias, config in databases.items():
        engine = str(config.get("ENGINE", ""))
        if engine == "django.db.backends.sqlite3":
            mode = str((config.get("OPTIONS") or {}).get("transaction_mode") or "").upper()
            if mode not in ("IMMEDIATE", "EXCLUSIVE"):
                found.append(
                    checks.Warning(
                        f"database {alias!r}: SQLite transactions begin deferred, so two writers to one "
                        "case can fail with 'database is locked' instead of queueing",
                        hint=f"set DATABASES[{alias!r}]['OPTIONS']['transaction_mode'] = 'IMMEDIATE'",
                        id="resolveflow.W001",
                    )
                )
    return found
