"""Who acts: an id and the roles the CRM grants them, recorded in the history and seen by guards.

A caller passes ``actor="ana"`` (an id, no roles) or ``Actor("lee", roles={"legal"})``.
Roles are snake_case words, as guard names are, so that they read the same in
Python, in files and in refusal codes, and so that their JSON text is the same
under every hash recipe (ASCII only).

An entry recorded by an actor without roles keeps the exact form it always had
(``"actor": "ana"``): histories written before roles existed hash as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from resolveflow._schema import is_encodable
from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput

MAX_ID: Final = 200
MAX_ROLES: Final = 32
ROLE: Final = re.compile(r"[a-z][a-z0-9_]{0,99}")


def check_actor_id(actor: object, argument: str = "actor") -> str:
    """An actor id: non-blank text of at most MAX_ID characters (InvalidInput otherwise)."""
    if (
        not isinstance(actor, str)
        or not actor.strip()
        or len(actor) > MAX_ID
        or not (actor.isascii() or is_encodable(actor))
    ):
        raise InvalidInput(
            f"the actor must be non-blank text of at most {MAX_ID} characters "
            f"(your user's id or name), got {shown(actor)}",
            argument=argument,
        )
    return actor


def _roles(value: object) -> frozenset[str]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidInput(f"roles must be a set or list of role names, got {shown(value)}", argument="roles")
    roles: set[str] = set()
    for role in value:
        if len(roles) >= MAX_ROLES:
            raise InvalidInput(f"an actor may hold at most {MAX_ROLES} roles", argument="roles")
        roles.add(check_role(role, "roles"))
    return frozenset(roles)


def check_role(role: object, argument: str = "role") -> str:
    """A role name: a snake_case word of at most 100 characters (InvalidInput otherwise)."""
    if not isinstance(role, str) or not ROLE.fullmatch(role):
        raise InvalidInput(
            f"a role is a snake_case word of at most 100 characters (e.g. 'legal', 'go_to_rep'), "
            f"got {shown(role)}",
            argument=argument,
        )
    return role


@attrs.frozen
class Actor:
    """Who takes an action: their id and the roles your CRM grants them.

    Pass it as ``actor=`` wherever an id is accepted; a plain string is an
    actor without roles. Guards such as ``HasRole`` see the roles, and the
    history records them in the hash chain, so the record says what the person
    was allowed to do when they acted. Roles come from your own user and
    permission system: resolveflow does not authenticate anyone.

    Attributes:
        id: your user's id or name (non-blank, at most 200 characters).
        roles: snake_case role names (at most 32), e.g. ``{"legal"}``.

    Raises:
        InvalidInput: a blank or over-long id, or a role that is not a snake_case word.

    Example:
        >>> from resolveflow import Actor
        >>> lee = Actor("lee", roles={"legal", "agent"})
        >>> lee.has("legal"), sorted(lee.roles)
        (True, ['agent', 'legal'])
    """

    id: str = attrs.field(converter=check_actor_id)
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=_roles)

    def has(self, role: str) -> bool:
        """Whether the actor holds ``role``."""
        return role in self.roles

    def to_json(self) -> str | dict[str, Any]:
        """How an entry records the actor: the id alone without roles, else ``{"id", "roles"}``."""
        if not self.roles:
            return self.id
        return {"id": self.id, "roles": sorted(self.roles)}


def as_actor(value: object) -> Actor:
    """An ``actor=`` argument as an Actor: an Actor as it is, text as an actor without roles."""
    if isinstance(value, Actor):
        return value
    return Actor(check_actor_id(value))


def actor_from_json(value: object) -> Actor:
    """The actor an entry recorded (the inverse of :meth:`Actor.to_json`), in its canonical form only."""
    if isinstance(value, str):
        return Actor(value)
    if not (isinstance(value, Mapping) and value.keys() == {"id", "roles"}):
        raise InvalidInput(
            f"an entry's actor is an id, or exactly {{'id', 'roles'}}, got {shown(value)}", argument="actor"
        )
    roles = value["roles"]
    actor = Actor(value["id"], roles=roles)
    # One spelling per actor, so that a stored entry hashes as it did: sorted, no repeats, not empty.
    if not isinstance(roles, list | tuple) or list(roles) != sorted(actor.roles) or not roles:
        raise InvalidInput(
            f"an entry's roles are a non-empty, sorted list without repeats, got {shown(roles)}",
            argument="actor",
        )
    return actor
