"""Django system checks: settings under which the store would not behave as documented.

Example:
    >>> from resolveflow.contrib.django import _checks
    >>> callable(_checks.register)
    True
"""

from __future__ import annotations

from typing import Any

from django.core import checks

from resolveflow.contrib.django._bridge import _DRIVERS


def register() -> None:
    checks.register(_databases, checks.Tags.database, deploy=False)


def _databases(**_kwargs: Any) -> list[checks.CheckMessage]:
    # Imported here: a module-level LazySettings breaks doctest's search of the module.
    from django.conf import settings

    found: list[checks.CheckMessage] = []
    for alias, config in settings.DATABASES.items():
        engine = str(config.get("ENGINE", ""))
        vendor = engine.rpartition(".")[2]
        if vendor == "sqlite3":
            mode = str(config.get("OPTIONS", {}).get("transaction_mode", "")).upper()
            if mode not in ("IMMEDIATE", "EXCLUSIVE"):
                found.append(
                    checks.Warning(
                        f"database {alias!r}: SQLite transactions begin deferred, so two writers to one "
                        "case can fail with 'database is locked' instead of queueing",
                        hint=f"set DATABASES[{alias!r}]['OPTIONS']['transaction_mode'] = 'IMMEDIATE'",
                        id="resolveflow.W001",
                    )
                )
        elif vendor not in ("postgresql",) and vendor.replace("3", "") not in _DRIVERS:
            found.append(
                checks.Info(
                    f"database {alias!r} ({engine}) cannot hold resolveflow's cases (SQLite or PostgreSQL)",
                    id="resolveflow.I001",
                )
            )
    return found
