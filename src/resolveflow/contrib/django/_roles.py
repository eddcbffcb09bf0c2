"""Django permissions as resolveflow roles: ``resolveflow.role_<role>`` grants ``<role>``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from resolveflow._actor import Actor
from resolveflow.exceptions import InvalidInput

APP_LABEL: Final = "resolveflow"
"""The app label of ``resolveflow.contrib.django``: the first half of every role permission."""
ROLE_PREFIX: Final = "role_"
"""A permission codename ``role_<role>`` of the app ``resolveflow`` grants the role ``<role>``."""
_ROLE: Final = re.compile(r"[a-z][a-z0-9_]*")


def roles_from_permissions(permissions: Iterable[str]) -> frozenset[str]:
    """The roles that Django permission names (``"app_label.codename"``) grant.

    ``resolveflow.role_legal`` grants ``legal``; every other permission, and a
    codename that is not a snake_case role, grants nothing.

    Example:
        >>> granted = {"resolveflow.role_legal", "tickets.add_ticket", "resolveflow.role_Bad"}
        >>> sorted(roles_from_permissions(granted))
        ['legal']
    """
    roles: set[str] = set()
    prefix = f"{APP_LABEL}.{ROLE_PREFIX}"
    for permission in permissions:
        if isinstance(permission, str) and permission.startswith(prefix):
            role = permission[len(prefix) :]
            if _ROLE.fullmatch(role) and len(role) <= 64:
                roles.add(role)
    return frozenset(roles)


def actor_for(user: Any) -> Actor:
    """The :class:`~resolveflow.Actor` for a Django user: their username, and their permissions' roles.

    The roles come from ``user.get_all_permissions()``, so a permission given
    to one of the user's groups counts, and an active superuser (who holds
    every permission) holds every role that has a permission. An inactive user
    holds none.

    Raises:
        InvalidInput: ``user`` is anonymous or not a user.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not hasattr(user, "get_username"):
        raise InvalidInput("expected a signed-in Django user", argument="user")
    return Actor(str(user.get_username()), roles=roles_from_permissions(user.get_all_permissions()))
