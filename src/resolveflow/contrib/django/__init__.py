"""resolveflow in a Django project: cases in the project's database, in Django's transactions.

Add ``"resolveflow.contrib.django"`` to ``INSTALLED_APPS`` and run
``manage.py migrate``: its migration creates the store's tables in the
project's database. :func:`store` gives a :class:`~resolveflow.store.Store`
on Django's own connection, whose every call runs in ``transaction.atomic()``
(a savepoint inside yours), so a ``Ticket`` and its case commit together or
not at all. :class:`~resolveflow.contrib.django.models.CaseMixin` attaches a
case to a model; :class:`~resolveflow.contrib.django.admin.CaseAdminMixin`
shows it in the admin; :func:`actor_for` turns a user's ``resolveflow.role_<role>``
permissions into roles. Needs the ``django`` extra. See docs/django.md.

Example:
    >>> from resolveflow.contrib.django import roles_from_permissions
    >>> sorted(roles_from_permissions({"resolveflow.role_supervisor", "tickets.change_ticket"}))
    ['supervisor']
"""

from __future__ import annotations

try:
    import django as _django  # noqa: F401 - fail early with the extra's name
except ImportError as _error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "resolveflow.contrib.django needs Django; install it with: pip install 'resolveflow[django]'"
    ) from _error

from typing import Any

from django.db import DEFAULT_DB_ALIAS

from resolveflow._public import publish as _publish
from resolveflow.contrib.django._bridge import engine_for
from resolveflow.contrib.django._roles import actor_for, roles_from_permissions
from resolveflow.exceptions import InvalidInput
from resolveflow.store import Store

__all__ = ["actor_for", "engine_for", "roles_from_permissions", "store"]

_stores: dict[tuple[str, str | None], Store] = {}


def store(using: str = DEFAULT_DB_ALIAS, tenant: str | None = None, **options: Any) -> Store:
    """A store on Django's database ``using``: its calls run in Django's transaction.

    Every call (reads too) runs in ``transaction.atomic(using=using)``: inside
    your own ``atomic()`` block that is a savepoint, so your rows and the
    case's commit together when your block ends and are rolled back together
    when it raises, and a refused action rolls back only its savepoint,
    leaving your transaction usable. Outside one, each call commits on its own.
    ``connection=`` is not needed (a connection from ``store.transaction()``
    still works, for your own SQLAlchemy statements).

    Without options the store is made once per database and tenant and then
    shared (it keeps replayed cases between writes); with options
    (``record_refusals=True``, ``keys=``, ``clock=``, ``methodologies=`` ...:
    the keyword arguments of :class:`~resolveflow.store.Store`), a new one each call.

    Args:
        using: the alias in ``settings.DATABASES`` (SQLite or PostgreSQL).
        tenant: scope the store to one tenant's cases (see docs/tenants.md).
        **options: keyword arguments of :class:`~resolveflow.store.Store`.

    Raises:
        InvalidInput: an unknown alias, another database, a bad tenant or option.
    """
    if not isinstance(using, str):
        raise InvalidInput(f"a database alias is text, got {type(using).__name__}", argument="using")
    if tenant is not None and not isinstance(tenant, str):
        raise InvalidInput(f"a tenant is text, got {type(tenant).__name__}", argument="tenant")
    if options:
        if "owns_engine" in options:
            raise InvalidInput(
                "the engine is Django's connection: the store never owns it", argument="options"
            )
        try:
            return Store(engine_for(using), owns_engine=False, tenant=tenant, **options)
        except TypeError as error:  # an option Store does not take
            raise InvalidInput(str(error), argument="options") from None
    key = (using, tenant)
    found = _stores.get(key)
    if found is None:
        base = _stores.get((using, None))
        if base is None:
            base = _stores.setdefault((using, None), Store(engine_for(using), owns_engine=False))
        found = base if tenant is None else _stores.setdefault(key, base.for_tenant(tenant))
    return found


_publish(__name__, globals(), __all__)
