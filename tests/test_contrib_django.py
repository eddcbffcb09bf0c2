"""resolveflow.contrib.django without configured Django: its migration, roles, the main suite's isolation.

What needs a database and settings (one transaction, rollbacks, refusals,
the admin) is tested by the example CRM's own tests: tests/test_django_example.py.
"""

from __future__ import annotations

import importlib
import os
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests._optional import import_or_skip

import_or_skip("django", "django")

from resolveflow import Actor  # noqa: E402 - after the skip
from resolveflow.contrib.django import actor_for, roles_from_permissions  # noqa: E402 - after the skip
from resolveflow.exceptions import InvalidInput  # noqa: E402 - after the skip
from resolveflow.store import metadata, schema_sql  # noqa: E402 - after the skip

ROOT = Path(__file__).resolve().parent.parent
initial = importlib.import_module("resolveflow.contrib.django.migrations.0001_initial")


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_the_migration_creates_exactly_what_schema_sql_says(dialect: str) -> None:
    # When the store's schema changes, this fails: write a new migration for the change.
    assert initial.SQL[dialect].strip() == schema_sql(dialect).strip()
    statements = initial.statements(dialect)
    assert len(statements) == schema_sql(dialect).count(";\n")
    assert all(s.startswith(("CREATE TABLE", "CREATE INDEX", "CREATE UNIQUE INDEX")) for s in statements)


def test_the_migration_drops_every_table_children_first() -> None:
    assert [table.name for table in reversed(metadata.sorted_tables)] == initial.TABLES


def test_the_migration_refuses_other_databases() -> None:
    with pytest.raises(NotImplementedError, match="mysql"):
        initial.statements("mysql")


def test_roles_come_from_resolveflow_role_permissions_only() -> None:
    granted = {
        "resolveflow.role_legal",
        "resolveflow.role_go_to_rep",
        "resolveflow.view_case",  # not a role
        "tickets.role_legal",  # another app's permission
        "resolveflow.role_",  # no role
        "resolveflow.role_Legal",  # not snake_case
        "resolveflow.role_a b",
    }
    assert roles_from_permissions(granted) == {"legal", "go_to_rep"}
    assert roles_from_permissions([]) == frozenset()


def user(name: str, *permissions: str, authenticated: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        is_authenticated=authenticated,
        get_username=lambda: name,
        get_all_permissions=lambda: set(permissions),
    )


def test_a_user_becomes_an_actor_with_their_roles() -> None:
    assert actor_for(user("lee", "resolveflow.role_legal", "auth.add_user")) == Actor("lee", roles={"legal"})
    assert actor_for(user("ana")) == Actor("ana")


@pytest.mark.parametrize("who", [None, "ana", user("anon", authenticated=False)])
def test_only_a_signed_in_user_is_an_actor(who: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        actor_for(who)
    assert raised.value.argument == "user"


def test_the_main_suite_never_configures_django() -> None:
    # pytest-django loads for every run; it configures Django only when told the settings module.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "DJANGO_SETTINGS_MODULE" not in str(config["tool"]["pytest"])
    assert "DJANGO_SETTINGS_MODULE" not in os.environ
    from django.conf import settings

    assert not settings.configured


def test_the_system_check_warns_about_deferred_sqlite_transactions() -> None:
    from resolveflow.contrib.django._checks import problems

    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": "crm.sqlite3"}
    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "crm"}
    warned = problems({"default": sqlite, "reports": {**sqlite, "OPTIONS": {"transaction_mode": "deferred"}}})
    assert [(w.id, "'reports'" in w.msg) for w in warned] == [
        ("resolveflow.W001", False),
        ("resolveflow.W001", True),
    ]
    assert (
        problems({"default": postgres, "other": {**sqlite, "OPTIONS": {"transaction_mode": "immediate"}}})
        == []
    )


@pytest.mark.parametrize("using", [["default"], {"default": 1}, None])
def test_a_database_alias_that_is_not_text_is_invalid_input(using: object) -> None:
    # It was a TypeError (unhashable) from the engine and store caches.
    from resolveflow.contrib.django import engine_for, store

    with pytest.raises(InvalidInput):
        engine_for(using)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        store(using)  # type: ignore[arg-type]


@pytest.mark.parametrize("tenant", [["acme"], {"acme"}, 7])
def test_a_tenant_that_is_not_text_is_invalid_input(tenant: object) -> None:
    from resolveflow.contrib.django import store

    with pytest.raises(InvalidInput):
        store("default", tenant=tenant)  # type: ignore[arg-type]
