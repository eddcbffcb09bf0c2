"""The help desk's web application: Starlette routes over a resolveflow SQLite store.

Pages are rendered on the server and every change is a plain form POST, so the
desk works without JavaScript. Agents sign in (:mod:`resolveflow.desk._auth`); every
request passes the guard (:mod:`resolveflow.desk._guard`) before it gets here, and
every POST handler reads its form through ``auth.posted_form``, which checks the
CSRF token. Cases go through the async store (``resolveflow.store.connect_async``),
awaited on the event loop; only the agents' sign-in work (argon2 hashing and the
agents' own tables, on a plain SQLAlchemy engine) runs in Starlette's thread pool,
since hashing is CPU work that would otherwise hold the loop.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import re
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

import resolveflow
import resolveflow.store

from . import _auth as auth
from . import _guard as guard
from . import _pages as pages
from ._forms import TooManyRows, compact_rows, errors_by_path, has_fields, to_evidence
from ._seed import DEMO_ACTOR, create_demo_database
from ._throttle import SignInThrottle, keys_for

HERE = Path(__file__).resolve().parent
# Case ids appear in URLs; keeping them to these characters keeps every link plain.
CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# The store's limit on ids (case ids, action names): a longer one in a URL names nothing.
MAX_ID = 200
# A history's sequence number in a query or a form: digits only, and not absurdly many.
SEQ = re.compile(r"^[0-9]{1,9}$")
# A kept form's token in the case page's URL (``?form=``).
DRAFT = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
}


def case_url(case_id: str) -> str:
    return f"/cases/{quote(case_id, safe='')}"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Desk:
    """The application's state: the stores, clock, templates, password hasher and sign-in throttle.

    ``store`` keeps the cases (async); ``engine`` is a plain engine on the same file for the
    agents' and sessions' tables, which the sign-in code reads in the thread pool.
    """

    def __init__(
        self,
        store: resolveflow.store.AsyncStore,
        engine: sa.Engine,
        clock: pages.Clock,
        hasher: PasswordHasher,
        throttle: SignInThrottle,
    ) -> None:
        self.store = store
        self.engine = engine
        self.clock = clock
        self.hasher = hasher
        self.throttle = throttle
        self.drafts = Drafts()
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        env = self.templates.env
        env.globals.update(case_url=case_url, zone=clock.zone.key)
        env.filters.update(when=clock.show, relative=clock.relative, slug=_slug)

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        # Every page has the signed-in agent in its header and the session's CSRF token in its forms.
        context = {"agent": auth.signed_in(request), "csrf": auth.csrf_token(request), **context}
        # No page may be framed by another site's (or a sibling subdomain's) page: its buttons record.
        framing = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}
        return self.templates.TemplateResponse(
            request, name, context, status_code=status, headers={**framing, **(headers or {})}
        )


@dataclass(frozen=True)
class Draft:
    """A form that was not recorded (refused, invalid, or one more row asked for), kept for the
    page the browser is redirected to (Post/Redirect/Get), so a reload shows it again."""

    agent_id: str
    case_id: str
    submission: pages.Submission
    notice: pages.Notice | None


class Drafts:
    """The last :data:`MAX_DRAFTS` unrecorded forms, by a random token in the case page's URL.

    They live in the process (a restart, or another process behind the same address, shows the
    case page without the form's answers): they hold what an agent typed, which can be more than
    a signed cookie carries, and only the agent who typed them gets them back.
    """

    MAX_DRAFTS = 1000
    # The text they may hold in all: a form can be as large as the body limit (1 MB), and a
    # thousand of those would be a gigabyte kept by whoever posts them.
    MAX_CHARS = 16 * 1024 * 1024

    def __init__(self) -> None:
        self._kept: collections.OrderedDict[str, tuple[Draft, int]] = collections.OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    @staticmethod
    def size(draft: Draft) -> int:
        """The characters of what an agent typed that ``draft`` keeps (names and values)."""
        submission = draft.submission
        typed = sum(len(k) + len(v) for k, v in submission.values.items())
        return typed + len(submission.key) + sum(len(name) for name in submission.extra_rows)

    def keep(self, draft: Draft) -> str:
        token = secrets.token_urlsafe(12)
        size = self.size(draft)
        with self._lock:
            self._kept[token] = (draft, size)
            self._chars += size
            while len(self._kept) > self.MAX_DRAFTS or (self._chars > self.MAX_CHARS and len(self._kept) > 1):
                _, (_, dropped) = self._kept.popitem(last=False)
                self._chars -= dropped
        return token

    def get(self, token: str, agent_id: str, case_id: str) -> Draft | None:
        with self._lock:
            kept = self._kept.get(token)
        draft = None if kept is None else kept[0]
        if draft is None or (draft.agent_id, draft.case_id) != (agent_id, case_id):
            return None
        return draft


def _slug(name: str) -> str:
    """An HTML id from an input name such as ``items[0].due``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _not_found(desk: Desk, request: Request, message: str) -> Response:
    return desk.render(request, "error.html", {"title": "Not found", "message": message}, status=404)


def _bad_request(desk: Desk, request: Request, message: str) -> Response:
    return desk.render(request, "error.html", {"title": "Bad request", "message": message}, status=400)


def _shown(name: str) -> str:
    """An id from a URL, quoted and cut short for a message."""
    return repr(name if len(name) <= 80 else name[:80] + "…")


def _path_id(request: Request, name: str) -> str | None:
    """A path parameter that can name something: not blank, no longer than the store allows."""
    value: str = request.path_params[name]
    return value if value.strip() and len(value) <= MAX_ID and value.isprintable() else None


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's HTTP errors (and the desk's own: 401, 403, 413) as a small page."""
    assert isinstance(exc, HTTPException)
    desk = _desk(request)
    title = TITLES.get(exc.status_code, "Error")
    headers = dict(exc.headers or {})
    if exc.status_code == 413:
        headers["connection"] = "close"
    context = {"title": title, "message": exc.detail}
    return desk.render(request, "error.html", context, status=exc.status_code, headers=headers)


# --- signing in and out -----------------------------------------------------------------


def _sign_in_page(
    desk: Desk,
    request: Request,
    back: str,
    *,
    agent_id: str = "",
    error: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    context = {
        "next": back,
        "agent_id": agent_id,
        "error": error,
        "demo_agents": auth.demo_agents(desk.engine),
    }
    return desk.render(request, "signin.html", context, status=status, headers=headers)


async def sign_in_page(request: Request) -> Response:
    desk = _desk(request)
    back = auth.local_path(request.query_params.get("next"))
    return await run_in_threadpool(_sign_in_page, desk, request, back)


async def sign_in(request: Request) -> Response:
    desk = _desk(request)
    form = await auth.posted_form(request)
    agent_id = form.get("agent", "").strip()
    password = form.get("password", "")
    back = auth.local_path(form.get("next"))

    keys = keys_for(agent_id, request.client.host if request.client else None)

    def attempt() -> Response:
        # Checked before the password: a blocked guesser gets no answer and costs no argon2 work.
        wait = desk.throttle.retry_after(keys)
        if wait is not None:
            minutes = max(1, round(wait / 60))
            return _sign_in_page(
                desk,
                request,
                back,
                agent_id=agent_id[: auth.MAX_AGENT_ID],
                error=(
                    "Too many failed sign-ins for this agent or from this address. "
                    f"Try again in about {minutes} minute{'s' if minutes != 1 else ''}."
                ),
                status=429,
                headers={"Retry-After": str(wait)},
            )
        found = auth.check_password(desk.engine, desk.hasher, agent_id, password)
        if found is None:
            desk.throttle.failed(keys)
            return _sign_in_page(
                desk,
                request,
                back,
                agent_id=agent_id[: auth.MAX_AGENT_ID],
                error="Unknown agent or wrong password.",
                status=401,
            )
        desk.throttle.succeeded(keys[:1])  # the agent's own typos; the address keeps its count
        auth.start_session(request, *found)
        return RedirectResponse(back, status_code=303)

    return await run_in_threadpool(attempt)


async def sign_out(request: Request) -> Response:
    desk = _desk(request)
    await auth.posted_form(request)
    agent = auth.current_agent(request)
    await run_in_threadpool(auth.end_sessions, desk.engine, agent.id)
    auth.clear_session(request)
    return RedirectResponse(guard.SIGN_IN, status_code=303)


# --- the case list and opening cases ----------------------------------------------------


async def case_list(request: Request) -> Response:
    desk = _desk(request)
    open_rows, closed_rows, deadlines = await pages.case_rows(desk.store, desk.clock.now())
    filters = pages.Filters.from_query(request.query_params)
    every = open_rows + closed_rows
    agents = await run_in_threadpool(auth.agent_ids, desk.engine)
    context = {
        "open_rows": await pages.filtered(desk.store, open_rows, filters),
        "closed_rows": await pages.filtered(desk.store, closed_rows, filters),
        "deadlines": deadlines,
        "filters": filters,
        "choices": {
            **pages.filter_choices(every),
            # The demo cases were recorded by the seed, under its own name.
            "agent": [(a, a) for a in agents] + [(DEMO_ACTOR, f"{DEMO_ACTOR} (the seeded entries)")],
        },
        "total": len(every),
    }
    return desk.render(request, "cases.html", context)


# How far ahead the promise calendar looks.
CALENDAR_DAYS = 14


async def promises(request: Request) -> Response:
    desk = _desk(request)
    overdue, days = await pages.promise_calendar(desk.store, desk.clock, CALENDAR_DAYS)
    context = {"overdue": overdue, "days": days, "horizon": CALENDAR_DAYS}
    return desk.render(request, "promises.html", context)


async def reports(request: Request) -> Response:
    desk = _desk(request)
    analytics = await desk.store.analytics(now=desk.clock.now())
    context = {"analytics": analytics, "chart": pages.chart(analytics), "span": pages.span}
    return desk.render(request, "reports.html", context)


def _methodologies() -> list[resolveflow.Methodology]:
    return [resolveflow.get_methodology(mid) for mid in resolveflow.available()]


async def new_case(request: Request) -> Response:
    desk = _desk(request)
    chosen = request.query_params.get("methodology", "seven-as")
    context = {"methodologies": _methodologies(), "chosen": chosen, "case_id": "", "error": None}
    return desk.render(request, "new_case.html", context)


async def _free_case_id(store: resolveflow.store.AsyncStore) -> str:
    existing = {s.case_id for s in await pages.all_cases(store)}
    number = 100 + len(existing) + 1
    while f"DESK-{number}" in existing:
        number += 1
    return f"DESK-{number}"


async def open_case(request: Request) -> Response:
    desk = _desk(request)
    form = await auth.posted_form(request)
    methodology = form.get("methodology", "")
    case_id = form.get("case_id", "").strip()

    error = None
    if case_id and not CASE_ID.match(case_id):
        error = "A case id is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit."
    else:
        try:
            opened = await desk.store.open_case(
                methodology, case_id=case_id or await _free_case_id(desk.store)
            )
        except resolveflow.store.CaseExists as exists:
            error = f"A case with the id {exists.case_id!r} already exists."
        except resolveflow.UnknownMethodology as unknown:
            error = str(unknown)
        else:
            return RedirectResponse(case_url(opened.id), status_code=303)
    context = {
        "methodologies": _methodologies(),
        "chosen": methodology,
        "case_id": case_id,
        "error": error,
    }
    return desk.render(request, "new_case.html", context, status=422)


# --- the case page and its actions ------------------------------------------------------


async def _render_case(
    desk: Desk,
    request: Request,
    case: resolveflow.Case,
    *,
    submission: pages.Submission | None = None,
    status: int = 200,
    notice: pages.Notice | None = None,
) -> Response:
    # The actions are the signed-in agent's: what their roles do not allow shows as refused.
    actor = auth.actor_for(auth.current_agent(request))
    summary = await desk.store.summary(case.id)
    context = pages.case_page(case, summary.created_at, desk.clock, submission, actor=actor)
    context["notice"] = notice
    return desk.render(request, "case.html", context, status=status)


async def show_case(request: Request) -> Response:
    desk = _desk(request)
    case_id = _path_id(request, "case_id")
    recorded = request.query_params.get("recorded")
    form = request.query_params.get("form")
    if case_id is None:
        return _not_found(desk, request, f"There is no case {_shown(request.path_params['case_id'])}.")
    if recorded is not None and not SEQ.match(recorded):
        return _bad_request(desk, request, "'recorded' is the number of a history entry.")
    if form is not None and not DRAFT.match(form):
        return _bad_request(desk, request, "'form' names a form that was sent to this case.")

    try:
        case = await desk.store.load(case_id)
    except (resolveflow.store.CaseNotFound, resolveflow.InvalidInput):
        return _not_found(desk, request, f"There is no case {_shown(case_id)}.")
    notice = None
    if recorded and 0 < int(recorded) <= len(case.history):
        entry = case.history[int(recorded) - 1]
        action = case.methodology.action(entry.action)
        notice = pages.Notice(
            kind="ok",
            title=f"Recorded: {action.title if action else entry.action}",
            text=f"Entry {entry.seq} by {entry.actor}; the case is now at "
            f"{pages.step_title(case.methodology, entry.step)}.",
        )
    submission = None
    if form is not None:
        draft = desk.drafts.get(form, auth.current_agent(request).id, case.id)
        if draft is None:
            notice = pages.Notice(
                kind="error",
                title="That form is no longer kept",
                text="The desk has restarted or kept newer forms since; nothing was recorded from it.",
            )
        else:
            submission, notice = draft.submission, draft.notice
    return await _render_case(desk, request, case, submission=submission, notice=notice)


def _stale(desk: Desk, request: Request, case_id: str, message: str) -> Response:
    context = {"case_id": case_id, "message": message}
    return desk.render(request, "stale.html", context, status=409)


async def _fire(
    desk: Desk,
    request: Request,
    case_id: str,
    action: str,
    posted: Mapping[str, str],
    actor: resolveflow.Actor,
) -> Response:
    try:
        case = await desk.store.load(case_id)
    except (resolveflow.store.CaseNotFound, resolveflow.InvalidInput):
        return _not_found(desk, request, f"There is no case {_shown(case_id)}.")
    spec = case.methodology.action(action)
    if spec is None:
        return _not_found(desk, request, f"{case.methodology.title} has no action {_shown(action)}.")
    schema = spec.evidence_schema()
    key = posted.get("_key") or pages.new_key()
    raw = {k: v for k, v in posted.items() if not k.startswith("_")}
    try:
        values = compact_rows(schema, raw)
    except TooManyRows as too_many:
        return _bad_request(desk, request, str(too_many))

    def again(submission: pages.Submission, notice: pages.Notice | None = None) -> Response:
        """Back to the case page (Post/Redirect/Get) with the form as it was sent, at the form."""
        token = desk.drafts.keep(Draft(actor.id, case_id, submission, notice))
        return RedirectResponse(f"{case_url(case_id)}?form={token}#action-{action}", status_code=303)

    if posted.get("_add"):
        # "Add another item" posts the form without acting: show it again with one more row.
        return again(pages.Submission(action=action, values=raw, key=key, extra_rows=(posted["_add"],)))
    expected = posted.get("_expected_seq", "")
    if not SEQ.match(expected):
        return _bad_request(desk, request, "The form does not say which state of the case it was made from.")
    evidence = to_evidence(schema, values, desk.clock.zone) if has_fields(schema) else None
    submission = pages.Submission(action=action, values=values, key=key)
    try:
        entry = await desk.store.fire(
            case_id, action, evidence, actor=actor, expected_seq=int(expected), idempotency_key=key
        )
    except resolveflow.store.ConcurrencyConflict as conflict:
        return _stale(
            desk,
            request,
            case_id,
            f"This page showed the case after entry {conflict.expected_seq}, but it has moved on to "
            f"entry {conflict.current_seq} since (another tab or another agent). Nothing was recorded.",
        )
    except resolveflow.store.IdempotencyConflict as reused:
        return _stale(
            desk,
            request,
            case_id,
            f"This form was already submitted once (entry {reused.seq}); it cannot be sent again "
            "with different answers. Nothing was recorded.",
        )
    except resolveflow.InvalidEvidence as invalid:
        submission.errors = errors_by_path(invalid.errors)
        title = f"Not recorded: check the answers for “{spec.title}” below."
        return again(submission, pages.Notice(kind="error", title=title, action=action))
    except resolveflow.Refused as refused:
        submission.refusals = refused.refusals
        title = f"Not recorded: “{spec.title}” is not possible yet."
        return again(submission, pages.Notice(kind="error", title=title, action=action))
    except resolveflow.InvalidInput as invalid:
        # Not a mistake in the answers (the desk's own forms never send it): a plain 400.
        notice = pages.Notice(kind="error", title="Not recorded", text=str(invalid))
        return await _render_case(desk, request, case, status=400, notice=notice)
    return RedirectResponse(f"{case_url(case_id)}?recorded={entry.seq}", status_code=303)


async def fire(request: Request) -> Response:
    desk = _desk(request)
    posted = await auth.posted_form(request)
    # Who is acting comes from the session, whatever the form says.
    actor = auth.actor_for(auth.current_agent(request))
    case_id, action = _path_id(request, "case_id"), _path_id(request, "action")
    if case_id is None:
        return _not_found(desk, request, f"There is no case {_shown(request.path_params['case_id'])}.")
    if action is None:
        return _not_found(desk, request, f"There is no action {_shown(request.path_params['action'])}.")
    return await _fire(desk, request, case_id, action, posted, actor)


async def back_to_case(request: Request) -> Response:
    """An action's URL typed or reloaded in the address bar: the case page, not a 405."""
    case_id = _path_id(request, "case_id")
    if case_id is None:
        return _not_found(
            _desk(request), request, f"There is no case {_shown(request.path_params['case_id'])}."
        )
    return RedirectResponse(case_url(case_id), status_code=303)


async def favicon(_request: Request) -> Response:
    """Browsers that ignore the page's ``<link rel="icon">`` ask for /favicon.ico: send them the SVG."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


# --- the application --------------------------------------------------------------------


LOCAL_HOSTS = ("127.0.0.1", "localhost")
"""The names the desk answers to by default: it listens on this machine only."""


def create_app(
    db: str | Path = "desk.db",
    *,
    demo: bool = True,
    zone: str = "UTC",
    clock: Callable[[], dt.datetime] | None = None,
    secret: str | None = None,
    hasher: PasswordHasher | None = None,
    max_body: int = guard.MAX_BODY,
    allowed_hosts: Sequence[str] = LOCAL_HOSTS,
    secure_cookie: bool = False,
    throttle: SignInThrottle | None = None,
) -> Starlette:
    """The desk on a SQLite file, which is created (with demo cases) when it does not exist yet.

    A new file is seeded all or nothing (see :func:`~resolveflow.desk._seed.create_demo_database`);
    an existing one is used as it is, with any of the store's and the agents' tables it lacks
    created, and the demo agents added when it has no agent at all.

    Args:
        db: the SQLite file.
        demo: seed a new file with demo cases.
        zone: the IANA time zone the desk shows times in and reads typed times in.
        clock: the store's clock (tests pass a fake one).
        secret: the key that signs session cookies (default: ``$DESK_SECRET``, else a new
            random one for this process, so that a restart signs everyone out).
        hasher: hashes and checks passwords (default: argon2-cffi's ``PasswordHasher()``;
            tests pass a cheap one).
        max_body: the largest request body read, in bytes.
        allowed_hosts: the ``Host`` names the desk answers to (others get 400), so a page
            on another site cannot reach it through a name rebound to this machine.
        secure_cookie: mark the session cookie ``Secure`` (browsers then send it over
            HTTPS only); set it whenever the desk is served over HTTPS, for example
            behind a TLS proxy. Off by default because the desk listens on plain HTTP
            on 127.0.0.1, where a ``Secure`` cookie would never come back.
        throttle: counts failed sign-ins per agent id and per address (default:
            :class:`~resolveflow.desk._throttle.SignInThrottle` on ``clock``, 5 failures
            per 15 minutes).

    Raises:
        auth.ConfigError: ``secret`` (or ``$DESK_SECRET``) is shorter than 32 characters.
    """
    path = Path(db)
    signing_key = auth.session_secret(secret)
    hasher = hasher or PasswordHasher()
    fresh = not path.exists() or path.stat().st_size == 0
    now = clock or utc_now
    if fresh and demo:
        create_demo_database(path, now(), clock=clock, hasher=hasher)
    # The synchronous store makes the tables and seeds the agents before serving; its engine then
    # serves the agents' tables in the thread pool.
    setup = resolveflow.store.connect(path, clock=clock, record_refusals=True)
    try:
        setup.create_schema()
        auth.create_tables(setup.engine)
        auth.seed_demo_agents(setup.engine, hasher)
        # No connection pool for the cases: each call opens its SQLite connection on the running
        # loop, so the desk also works where each request runs on a loop of its own (a test
        # client used without its lifespan).
        store = resolveflow.store.connect_async(
            path, clock=clock, record_refusals=True, engine_options={"poolclass": sa.pool.NullPool}
        )
    except BaseException:
        setup.close()
        raise
    desk = Desk(
        store, setup.engine, pages.Clock(ZoneInfo(zone), now), hasher, throttle or SignInThrottle(now)
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await store.close()
        setup.close()

    routes = [
        Route("/", case_list, name="cases"),
        Route("/cases/new", new_case, name="new_case"),
        Route("/promises", promises, name="promises"),
        Route("/reports", reports, name="reports"),
        Route("/cases", open_case, methods=["POST"], name="open_case"),
        Route("/cases", lambda _request: RedirectResponse("/", status_code=303), methods=["GET"]),
        Route("/cases/{case_id}", show_case, name="case"),
        Route("/cases/{case_id}/actions/{action}", fire, methods=["POST"], name="fire"),
        Route("/cases/{case_id}/actions/{action}", back_to_case, methods=["GET"], name="back_to_case"),
        Route(guard.SIGN_IN, sign_in_page, methods=["GET"], name="sign_in_page"),
        Route(guard.SIGN_IN, sign_in, methods=["POST"], name="sign_in"),
        Route("/signout", sign_out, methods=["POST"], name="sign_out"),
        Route(guard.FAVICON, favicon, name="favicon"),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [
        # First, before any cookie is read: only the names the desk is served under (no DNS rebinding).
        Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
        # Then the signed session cookie (HttpOnly, SameSite=Lax, Secure when served over HTTPS);
        # then the guard, which reads it.
        Middleware(
            SessionMiddleware,
            secret_key=signing_key,
            session_cookie=auth.SESSION_COOKIE,
            max_age=auth.SESSION_SECONDS,
            same_site="lax",
            https_only=secure_cookie,
        ),
        Middleware(guard.Guard, max_body=max_body),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.desk = desk
    return app
