"""Who is acting: the desk's agents, signing in, the session, and the checks every POST passes.

* Agents and their roles live in two small tables of the desk's own database
  (``desk_agents``, ``desk_agent_roles``), written with SQLAlchemy Core on the
  store's engine. Passwords are hashed with argon2id (argon2-cffi's
  ``PasswordHasher``); a database without any agent gets the demo agents.
* The session is a signed cookie (Starlette's ``SessionMiddleware``, signed
  with itsdangerous): HttpOnly, SameSite=Lax, holding the agent's id, the
  agent's session epoch (signing out bumps it, which ends every session of
  that agent) and the CSRF token.
* :func:`current_agent` is the only way the rest of the desk learns who is
  acting; :func:`actor_for` is the only place the store's ``actor`` is built
  from it.
* :func:`posted_form` is the only way a handler reads a POST: it refuses a
  form without the session's CSRF token. :func:`same_origin` (checked by the
  guard, :mod:`resolveflow.desk._guard`, before any handler runs) refuses a POST
  whose ``Origin`` (or, without one, ``Referer``) is not the desk's own.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request

import resolveflow

SECRET_ENV = "DESK_SECRET"
# A shorter secret could be guessed offline from one signed cookie; 32 URL-safe characters are 192 bits.
MIN_SECRET_CHARS = 32
SESSION_COOKIE = "desk_session"
# A session lasts this long after signing in (the cookie's signature carries its time).
SESSION_SECONDS = 12 * 60 * 60
CSRF_FIELD = "_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_AGENT_ID = 64
_STATE_KEY = "desk_agent"
# Where a successful sign-in may send the browser: a path on this site, nothing else.
_LOCAL_PATH = re.compile(r"^/(?![/\\])[^\x00-\x20\x7f\\]{0,2000}$")


@dataclass(frozen=True)
class Agent:
    """The signed-in agent: an id (the ``actor`` of what they record) and their roles."""

    id: str
    roles: frozenset[str]


@dataclass(frozen=True)
class DemoAgent:
    id: str
    roles: tuple[str, ...]
    password: str
    about: str


# Demo only: these passwords are published (on the sign-in page and in docs/desk.md).
# Every role a methodology on the desk declares (its latest version) is held by someone, so every
# action can be tried; ana holds none of them, to show the refusals (tests/test_desk_roles.py).
DEMO_AGENTS: tuple[DemoAgent, ...] = (
    DemoAgent("ana", ("agent",), "ana-demo", "a front-line agent"),
    DemoAgent("lee", ("agent", "legal"), "lee-demo", "an agent who also signs off legal matters"),
    DemoAgent(
        "sam",
        ("agent", "go_to_rep", "supervisor"),
        "sam-demo",
        "an agent who supervises the desk and is the go-to rep for difficult customers",
    ),
    DemoAgent(
        "kim",
        ("agent", "complaints_manager"),
        "kim-demo",
        "a complaints manager: decides ISO 10002 responses and closes complaints unresolved",
    ),
)
DEMO_PASSWORDS: Mapping[str, str] = {demo.id: demo.password for demo in DEMO_AGENTS}


class ConfigError(ValueError):
    """The desk's configuration cannot be used (a session secret that is too short)."""


# --- the agents' tables -----------------------------------------------------------------

metadata = sa.MetaData()

AGENTS = sa.Table(
    "desk_agents",
    metadata,
    sa.Column("id", sa.String(MAX_AGENT_ID), primary_key=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    # A demo agent's password is published: the sign-in page lists demo agents with theirs.
    sa.Column("demo", sa.Boolean, nullable=False, default=False),
    # Every session carries the epoch it started in; signing out bumps it, ending them all.
    sa.Column("session_epoch", sa.Integer, nullable=False, default=0),
)

AGENT_ROLES = sa.Table(
    "desk_agent_roles",
    metadata,
    sa.Column("agent_id", sa.String(MAX_AGENT_ID), sa.ForeignKey("desk_agents.id"), primary_key=True),
    sa.Column("role", sa.String(64), primary_key=True),
)


def create_tables(engine: sa.Engine) -> None:
    """Create the agents' tables where they are missing (existing ones are left as they are)."""
    metadata.create_all(engine)


def _count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(AGENTS)).scalar_one())


def seed_demo_agents(engine: sa.Engine, hasher: PasswordHasher) -> bool:
    """Add the demo agents, all in one transaction, when there are no agents at all; True if added."""
    with engine.connect() as conn:
        if _count(conn):
            return False
    # Hash before the transaction: argon2 is slow on purpose, and a write lock should not wait on it.
    hashed = [(demo, hasher.hash(demo.password)) for demo in DEMO_AGENTS]
    with engine.begin() as conn:
        if _count(conn):
            return False
        for demo, password_hash in hashed:
            conn.execute(
                sa.insert(AGENTS).values(id=demo.id, password_hash=password_hash, demo=True, session_epoch=0)
            )
            conn.execute(sa.insert(AGENT_ROLES), [{"agent_id": demo.id, "role": r} for r in demo.roles])
    return True


@dataclass(frozen=True)
class _Stored:
    agent: Agent
    password_hash: str
    epoch: int
    demo: bool


def _load(conn: sa.Connection, agent_id: str) -> _Stored | None:
    if not agent_id or len(agent_id) > MAX_AGENT_ID:
        return None
    row = conn.execute(sa.select(AGENTS).where(AGENTS.c.id == agent_id)).first()
    if row is None:
        return None
    roles = conn.execute(sa.select(AGENT_ROLES.c.role).where(AGENT_ROLES.c.agent_id == agent_id)).scalars()
    return _Stored(Agent(row.id, frozenset(roles)), row.password_hash, row.session_epoch, row.demo)


def demo_agents(engine: sa.Engine) -> list[tuple[Agent, str]]:
    """The demo agents in this database with their published passwords, for the sign-in page."""
    with engine.connect() as conn:
        ids = conn.execute(sa.select(AGENTS.c.id).where(AGENTS.c.demo).order_by(AGENTS.c.id)).scalars().all()
        found = [_load(conn, agent_id) for agent_id in ids]
    order = {demo.id: n for n, demo in enumerate(DEMO_AGENTS)}
    listed = [(s.agent, DEMO_PASSWORDS[s.agent.id]) for s in found if s and s.agent.id in DEMO_PASSWORDS]
    return sorted(listed, key=lambda pair: order[pair[0].id])


def agent_ids(engine: sa.Engine) -> list[str]:
    """Every agent's id, sorted (the case list's agent filter offers them)."""
    with engine.connect() as conn:
        return list(conn.execute(sa.select(AGENTS.c.id).order_by(AGENTS.c.id)).scalars())


# A hash to verify against when the agent does not exist, so that an unknown id takes as long as
# a wrong password and the sign-in form does not tell which agents exist.
_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[key]


def check_password(
    engine: sa.Engine, hasher: PasswordHasher, agent_id: str, password: str
) -> tuple[Agent, int] | None:
    """(the agent, their session epoch) when the password is theirs, else None."""
    with engine.connect() as conn:
        stored = _load(conn, agent_id)
    if stored is None:
        with contextlib.suppress(VerificationError):
            hasher.verify(_dummy_hash(hasher), password)
        return None
    try:
        hasher.verify(stored.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if hasher.check_needs_rehash(stored.password_hash):
        # Hashed with older or cheaper parameters: store it again with the current ones.
        with engine.begin() as conn:
            conn.execute(
                sa.update(AGENTS)
                .where(AGENTS.c.id == stored.agent.id)
                .values(password_hash=hasher.hash(password))
            )
    return stored.agent, stored.epoch


def end_sessions(engine: sa.Engine, agent_id: str) -> None:
    """Bump the agent's session epoch: every session they have (in any browser) ends."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(AGENTS).where(AGENTS.c.id == agent_id).values(session_epoch=AGENTS.c.session_epoch + 1)
        )


# --- the session ------------------------------------------------------------------------


def session_secret(secret: str | None = None) -> str:
    """The key that signs session cookies: ``secret``, else $DESK_SECRET, else a new one for this process.

    A generated secret lives as long as the process: restarting the desk signs
    everyone out. Set ``DESK_SECRET`` (at least 32 characters) to keep sessions
    across restarts, or to run several processes behind one address.
    """
    chosen = secret if secret is not None else os.environ.get(SECRET_ENV)
    if not chosen:
        return secrets.token_urlsafe(32)
    if len(chosen) < MIN_SECRET_CHARS:
        raise ConfigError(
            f"{SECRET_ENV} must be at least {MIN_SECRET_CHARS} characters "
            f"(try: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return chosen


def csrf_token(conn: HTTPConnection) -> str:
    """The session's CSRF token, made when the session has none yet (every form carries it)."""
    session: dict[str, Any] = conn.session
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def start_session(conn: HTTPConnection, agent: Agent, epoch: int) -> None:
    """A new session for ``agent``: nothing of the one before it is kept, the CSRF token included."""
    conn.session.clear()
    conn.session.update(agent=agent.id, epoch=epoch, csrf=secrets.token_urlsafe(32))
    setattr(conn.state, _STATE_KEY, agent)


def clear_session(conn: HTTPConnection) -> None:
    conn.session.clear()
    setattr(conn.state, _STATE_KEY, None)


def resolve_agent(conn: HTTPConnection, engine: sa.Engine) -> Agent | None:
    """Who the session says is signed in, checked against the agents' table; remembered for the request.

    A session whose agent is gone, or whose epoch is older than the agent's
    (they signed out since), is nobody's.
    """
    session: dict[str, Any] = conn.session
    agent_id, epoch = session.get("agent"), session.get("epoch")
    agent = None
    if isinstance(agent_id, str) and isinstance(epoch, int):
        with engine.connect() as db:
            stored = _load(db, agent_id)
        if stored is not None and stored.epoch == epoch:
            agent = stored.agent
    setattr(conn.state, _STATE_KEY, agent)
    return agent


def signed_in(conn: HTTPConnection) -> Agent | None:
    """The signed-in agent, or None (resolved once per request by the guard)."""
    agent: Agent | None = getattr(conn.state, _STATE_KEY, None)
    return agent


def current_agent(conn: HTTPConnection) -> Agent:
    """The signed-in agent: always from the session, never from a form field or another cookie.

    Raises:
        HTTPException: 401 when nobody is signed in (the guard has already
            turned such requests away for every page but the sign-in page).
    """
    agent = signed_in(conn)
    if agent is None:
        raise HTTPException(401, "Sign in to do that.")
    return agent


def actor_for(agent: Agent) -> resolveflow.Actor:
    """The ``actor=`` the store records for what ``agent`` does: their id and roles.

    The one place the actor is built, always from the signed session: the
    guards see these roles and the history records them.
    """
    return resolveflow.Actor(agent.id, roles=agent.roles)


def local_path(value: object, default: str = "/") -> str:
    """``value`` when it is a path on this site (where to go after signing in), else ``default``."""
    if isinstance(value, str) and _LOCAL_PATH.match(value):
        return value
    return default


# --- the checks on every POST -----------------------------------------------------------


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-cased and without a default port; None if it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def same_origin(request: Request) -> bool:
    """Whether the request comes from one of the desk's own pages.

    The ``Origin`` header says where a form was submitted from (browsers send it
    with every POST); without it, the ``Referer``. Neither, or ``Origin: null``,
    is refused. The desk's origin is the one the request was sent to.
    """
    own = _origin_of(str(request.base_url))
    origin = request.headers.get("origin")
    claimed = request.headers.get("referer") if origin is None else origin
    return own is not None and claimed is not None and _origin_of(claimed) == own


async def posted_form(request: Request) -> dict[str, str]:
    """The posted form's text fields, once its CSRF token is the session's (else a 403).

    Every POST handler reads its form through here, so no handler can forget the check.
    """
    form = await request.form()
    token = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not (
        isinstance(token, str)
        and isinstance(expected, str)
        and expected
        and hmac.compare_digest(token.encode(), expected.encode())
    ):
        raise HTTPException(
            403, "This form is not from this desk's pages, or the page is too old: reload it and try again."
        )
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}
