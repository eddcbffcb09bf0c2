"""Who is asking: bearer tokens mapped to actors (and tenants), and the Origin check.

Every request but ``GET /openapi.json`` carries ``Authorization: Bearer
<token>``; the token names an :class:`~resolveflow.Actor` (id and roles) and
optionally a tenant, and nothing in a request body can change either. Tokens
are compared in constant time: the presented token's SHA-256 digest is
compared with every known digest, without stopping at the first match.

A request carrying an ``Origin`` header that is not one of the allowed origins
is refused with 403 before anything else: browsers send ``Origin`` with
cross-site requests, and the house rule is that every HTTP surface checks it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from resolveflow._actor import Actor
from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput
from resolveflow.server._problems import Problem

# Shorter tokens are guessable; the CLI and create_app refuse them.
MIN_TOKEN: Final = 16
MAX_TOKEN: Final = 512
REALM: Final = 'Bearer realm="resolveflow"'


@attrs.frozen
class Grant:
    """What a bearer token grants: who acts, and in which tenant's store.

    Attributes:
        actor: the :class:`~resolveflow.Actor` recorded for every action the token fires.
        tenant: the tenant whose cases the token sees (``store.for_tenant``), or None
            for the store as given.

    Example:
        >>> from resolveflow import Actor
        >>> Grant(Actor("ana", roles={"agent"}), tenant="acme").tenant
        'acme'
    """

    actor: Actor
    tenant: str | None = None


def _grant(value: object) -> Grant:
    if isinstance(value, Grant):
        return value
    if isinstance(value, Actor):
        return Grant(value)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], Actor):
        tenant = value[1]
        if tenant is not None and (not isinstance(tenant, str) or not tenant.strip()):
            raise InvalidInput(f"a token's tenant must be text, got {shown(tenant)}", argument="tokens")
        return Grant(value[0], tenant)
    raise InvalidInput(
        f"a token maps to an Actor, (Actor, tenant) or a Grant, got {type(value).__name__}",
        argument="tokens",
    )


def _token(token: object) -> str:
    if not isinstance(token, str) or not (MIN_TOKEN <= len(token) <= MAX_TOKEN) or not token.isascii():
        raise InvalidInput(
            f"a token is ASCII text of {MIN_TOKEN} to {MAX_TOKEN} characters "
            "(make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')",
            argument="tokens",
        )
    if any(c.isspace() or not c.isprintable() for c in token):
        raise InvalidInput("a token holds no spaces or control characters", argument="tokens")
    return token


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "surrogateescape")).digest()


class Tokens:
    """The known tokens, kept as digests, and a constant-time lookup."""

    def __init__(self, tokens: Mapping[str, Grant | Actor | tuple[Actor, str | None]]) -> None:
        if not isinstance(tokens, Mapping):
            raise InvalidInput("tokens must map each token to an Actor or a Grant", argument="tokens")
        self._grants: list[tuple[bytes, Grant]] = [
            (_digest(_token(token)), _grant(value)) for token, value in tokens.items()
        ]

    def __len__(self) -> int:
        return len(self._grants)

    def tenants(self) -> set[str]:
        """Every tenant a token names."""
        return {grant.tenant for _, grant in self._grants if grant.tenant is not None}

    def grant_for(self, presented: str) -> Grant | None:
        """The grant of ``presented``, comparing with every known token (no early exit)."""
        # Header values arrive as latin-1 text: a non-ASCII token is no token (and not a 500).
        digest = _digest(presented if presented.isascii() else "")
        found: Grant | None = None
        for known, grant in self._grants:
            if hmac.compare_digest(known, digest):
                found = grant
        return found


def bearer(headers: Mapping[str, str], tokens: Tokens) -> Grant:
    """The grant of the request's bearer token, or a 401 problem with ``WWW-Authenticate``."""
    header = headers.get("authorization")
    if header is None:
        raise Problem(
            401, "unauthenticated", "send Authorization: Bearer <token>", headers={"WWW-Authenticate": REALM}
        )
    scheme, _, token = header.strip().partition(" ")
    grant = tokens.grant_for(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        raise Problem(
            401,
            "unauthenticated",
            "the bearer token is not valid",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    return grant


def check_origin(headers: Mapping[str, str], allowed: frozenset[str]) -> None:
    """A 403 problem when the request has an ``Origin`` header that is not allowed."""
    origin = headers.get("origin")
    if origin is not None and origin.rstrip("/") not in allowed:
        raise Problem(
            403,
            "origin-not-allowed",
            "requests from this Origin are not accepted: the server lists the origins it serves "
            "(allowed_origins, --allow-origin)",
        )


def origins(values: Iterable[str]) -> frozenset[str]:
    """Allowed origins as ``scheme://host[:port]`` without a trailing slash."""
    if isinstance(values, str):
        raise InvalidInput("allowed_origins is a list of origins, not one string", argument="allowed_origins")
    found = set()
    for value in values:
        if not isinstance(value, str) or "://" not in value:
            raise InvalidInput(
                f"an origin is scheme://host[:port], got {shown(value)}", argument="allowed_origins"
            )
        found.add(value.rstrip("/"))
    return frozenset(found)


def load_tokens(path: str | os.PathLike[str]) -> dict[str, Grant]:
    """Read a tokens file: JSON or TOML mapping each token to ``{actor, roles, tenant}``.

    The file holds secrets: it is refused when other users may read it (make it
    ``chmod 600``). ``roles`` and ``tenant`` are optional.

    Raises:
        InvalidInput: the file cannot be read, is readable by others, or is not
            such a mapping (the message never shows a token).

    Example:
        >>> import json, os, tempfile
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = os.path.join(folder.name, "tokens.json")
        >>> with open(path, "w") as f:
        ...     _ = f.write(json.dumps({"t0ken-for-ana-0123456789": {"actor": "ana", "roles": ["agent"]}}))
        >>> os.chmod(path, 0o600)
        >>> grant = load_tokens(path)["t0ken-for-ana-0123456789"]
        >>> grant.actor.id, sorted(grant.actor.roles), grant.tenant
        ('ana', ['agent'], None)
        >>> folder.cleanup()
    """
    file = Path(path)
    try:
        mode = file.stat().st_mode
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot read the tokens file {file}: {error}", argument="tokens") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidInput(
            f"the tokens file {file} can be read by other users: chmod 600 {file}", argument="tokens"
        )
    try:
        data: Any = tomllib.loads(text) if file.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidInput(
            f"the tokens file {file} is not valid {file.suffix or 'JSON'}", argument="tokens"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"the tokens file {file} must map tokens to actors", argument="tokens")
    grants: dict[str, Grant] = {}
    for number, (token, spec) in enumerate(data.items(), start=1):
        where = f"token #{number} of {file}"
        if not isinstance(spec, dict) or "actor" not in spec or not set(spec) <= {"actor", "roles", "tenant"}:
            raise InvalidInput(f"{where}: expected {{actor, roles, tenant}}", argument="tokens")
        try:
            actor = Actor(spec["actor"], roles=spec.get("roles", ()))
            grants[_token(token)] = _grant((actor, spec.get("tenant")))
        except InvalidInput as error:
            raise InvalidInput(f"{where}: {error}", argument="tokens") from None
    return grants
