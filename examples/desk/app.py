"""The help desk's web application: Starlette routes over a resolveflow SQLite store.

Pages are rendered on the server and every change is a plain form POST, so the
desk works without JavaScript. The store is synchronous (SQLAlchemy), so the
handlers read the request asynchronously and then do the store work in
Starlette's thread pool rather than blocking the event loop.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

import resolveflow
import resolveflow.store

from . import pages
from .forms import compact_rows, errors_by_path, has_fields, to_evidence
from .seed import create_demo_database

HERE = Path(__file__).resolve().parent
AGENT_COOKIE = "desk_agent"
DEFAULT_AGENT = "agent"
# Case ids appear in URLs; keeping them to these characters keeps every link plain.
CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def case_url(case_id: str) -> str:
    return f"/cases/{quote(case_id, safe='')}"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Desk:
    """The application's state: the store, the clock, the templates."""

    def __init__(self, store: resolveflow.store.Store, clock: pages.Clock) -> None:
        self.store = store
        self.clock = clock
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        env = self.templates.env
        env.globals.update(case_url=case_url, zone=clock.zone.key)
        env.filters.update(when=clock.show, relative=clock.relative, slug=_slug)

    def render(self, request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        context = {"agent": agent(request), "path": request.url.path, **context}
        return self.templates.TemplateResponse(request, name, context, status_code=status)


def _slug(name: str) -> str:
    """An HTML id from an input name such as ``items[0].due``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def agent(request: Request) -> str:
    """Who is acting: a name the agent set in the page header (a real CRM has its own login)."""
    name = request.cookies.get(AGENT_COOKIE, "").strip()
    return name[:80] or DEFAULT_AGENT


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _not_found(desk: Desk, request: Request, message: str) -> Response:
    return desk.render(request, "error.html", {"title": "Not found", "message": message}, status=404)


# --- the case list and opening cases ----------------------------------------------------


async def case_list(request: Request) -> Response:
    desk = _desk(request)

    def page() -> Response:
        now = desk.clock.now()
        open_rows, closed_rows = pages.case_rows(desk.store, now)
        deadlines = desk.store.overdue(now)
        context = {"open_rows": open_rows, "closed_rows": closed_rows, "deadlines": deadlines}
        return desk.render(request, "cases.html", context)

    return await run_in_threadpool(page)


def _methodologies() -> list[resolveflow.Methodology]:
    return [resolveflow.get_methodology(mid) for mid in resolveflow.available()]


async def new_case(request: Request) -> Response:
    desk = _desk(request)
    chosen = request.query_params.get("methodology", "seven-as")
    context = {"methodologies": _methodologies(), "chosen": chosen, "case_id": "", "error": None}
    return desk.render(request, "new_case.html", context)


def _free_case_id(store: resolveflow.store.Store) -> str:
    existing = {s.case_id for s in pages.all_cases(store)}
    number = 100 + len(existing) + 1
    while f"DESK-{number}" in existing:
        number += 1
    return f"DESK-{number}"


async def open_case(request: Request) -> Response:
    desk = _desk(request)
    form = await request.form()
    methodology = str(form.get("methodology", ""))
    case_id = str(form.get("case_id", "")).strip()

    def attempt() -> Response:
        error = None
        if case_id and not CASE_ID.match(case_id):
            error = "A case id is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit."
        else:
            try:
                opened = desk.store.open_case(methodology, case_id=case_id or _free_case_id(desk.store))
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

    return await run_in_threadpool(attempt)


async def set_agent(request: Request) -> Response:
    form = await request.form()
    name = str(form.get("agent", "")).strip()[:80]
    back = str(form.get("next", "/"))
    # Only paths on this site: an absolute or scheme-relative URL would make this an open redirect.
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(AGENT_COOKIE, name or DEFAULT_AGENT, httponly=True, samesite="lax")
    return response


# --- the case page and its actions ------------------------------------------------------


def _render_case(
    desk: Desk,
    request: Request,
    case: resolveflow.Case,
    *,
    submission: pages.Submission | None = None,
    status: int = 200,
    notice: pages.Notice | None = None,
) -> Response:
    context = pages.case_page(desk.store, case, desk.clock, submission)
    context["notice"] = notice
    return desk.render(request, "case.html", context, status=status)


async def show_case(request: Request) -> Response:
    desk = _desk(request)
    case_id = request.path_params["case_id"]
    recorded = request.query_params.get("recorded")

    def page() -> Response:
        try:
            case = desk.store.load(case_id)
        except resolveflow.store.CaseNotFound:
            return _not_found(desk, request, f"There is no case {case_id!r}.")
        notice = None
        if recorded and recorded.isdigit() and 0 < int(recorded) <= len(case.history):
            entry = case.history[int(recorded) - 1]
            action = case.methodology.action(entry.action)
            notice = pages.Notice(
                kind="ok",
                title=f"Recorded: {action.title if action else entry.action}",
                text=f"Entry {entry.seq} by {entry.actor}; the case is now at "
                f"{pages.step_title(case.methodology, entry.step)}.",
            )
        return _render_case(desk, request, case, notice=notice)

    return await run_in_threadpool(page)


def _stale(desk: Desk, request: Request, case_id: str, message: str) -> Response:
    context = {"case_id": case_id, "message": message}
    return desk.render(request, "stale.html", context, status=409)


def _fire(desk: Desk, request: Request, case_id: str, action: str, posted: Mapping[str, str]) -> Response:
    try:
        case = desk.store.load(case_id)
    except resolveflow.store.CaseNotFound:
        return _not_found(desk, request, f"There is no case {case_id!r}.")
    spec = case.methodology.action(action)
    if spec is None:
        return _not_found(desk, request, f"{case.methodology.title} has no action {action!r}.")
    schema = spec.evidence_schema()
    key = posted.get("_key") or pages.new_key()
    raw = {k: v for k, v in posted.items() if not k.startswith("_")}
    if posted.get("_add"):
        # "Add another item" posts the form without acting: show it again with one more row.
        more = pages.Submission(action=action, values=raw, key=key, extra_rows=(posted["_add"],))
        return _render_case(desk, request, case, submission=more)
    try:
        expected = int(posted.get("_expected_seq", ""))
    except ValueError:
        return desk.render(request, "error.html", {"title": "Bad request", "message": "No page state."}, 400)
    values = compact_rows(schema, raw)
    evidence = to_evidence(schema, values, desk.clock.zone) if has_fields(schema) else None
    submission = pages.Submission(action=action, values=values, key=key)
    try:
        entry = desk.store.fire(
            case_id, action, evidence, actor=agent(request), expected_seq=expected, idempotency_key=key
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
        notice = pages.Notice(kind="error", title=f"Not recorded: check the form for {spec.title!r}")
        return _render_case(desk, request, case, submission=submission, status=422, notice=notice)
    except resolveflow.Refused as refused:
        submission.refusals = refused.refusals
        notice = pages.Notice(
            kind="error", title=f"Not recorded: {spec.title!r} was refused", refusals=refused.refusals
        )
        return _render_case(desk, request, case, submission=submission, status=409, notice=notice)
    except resolveflow.InvalidInput as invalid:
        notice = pages.Notice(kind="error", title="Not recorded", text=str(invalid))
        return _render_case(desk, request, case, submission=submission, status=400, notice=notice)
    return RedirectResponse(f"{case_url(case_id)}?recorded={entry.seq}", status_code=303)


async def fire(request: Request) -> Response:
    desk = _desk(request)
    form = await request.form()
    posted = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    case_id = request.path_params["case_id"]
    action = request.path_params["action"]
    return await run_in_threadpool(_fire, desk, request, case_id, action, posted)


# --- the application --------------------------------------------------------------------


def create_app(
    db: str | Path = "desk.db",
    *,
    demo: bool = True,
    zone: str = "UTC",
    clock: Callable[[], dt.datetime] | None = None,
) -> Starlette:
    """The desk on a SQLite file, which is created (with demo cases) when it does not exist yet.

    A new file is seeded all or nothing (see :func:`~examples.desk.seed.create_demo_database`);
    an existing one is used as it is, with any of the store's tables it lacks created.

    Args:
        db: the SQLite file.
        demo: seed a new file with demo cases.
        zone: the IANA time zone the desk shows times in and reads typed times in.
        clock: the store's clock (tests pass a fake one).
    """
    path = Path(db)
    fresh = not path.exists() or path.stat().st_size == 0
    now = clock or utc_now
    if fresh and demo:
        create_demo_database(path, now(), clock=clock)
    store = resolveflow.store.connect(path, clock=clock, record_refusals=True)
    store.create_schema()
    desk = Desk(store, pages.Clock(ZoneInfo(zone), now))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        store.close()

    routes = [
        Route("/", case_list, name="cases"),
        Route("/cases/new", new_case, name="new_case"),
        Route("/cases", open_case, methods=["POST"], name="open_case"),
        Route("/cases/{case_id}", show_case, name="case"),
        Route("/cases/{case_id}/actions/{action}", fire, methods=["POST"], name="fire"),
        Route("/agent", set_agent, methods=["POST"], name="agent"),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.desk = desk
    return app
