"""The ASGI application: the gate every request passes, the routes, and errors as problems.

In this order, before a route sees a request: the Origin check (403), CORS
(for the allowed origins only), then the bearer token (401; ``GET
/openapi.json`` is open to all). Routes read bodies
within :data:`~resolveflow.server.MAX_BODY` and :data:`~resolveflow.server.MAX_DEPTH`.
Every error, of resolveflow or of routing (404, 405), leaves as
``application/problem+json``; an unexpected one as a 500 problem that says
nothing of the code, logged on ``resolveflow.server``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from resolveflow._actor import Actor
from resolveflow._clock import Clock
from resolveflow._methodology import Methodology
from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput, ResolveflowError
from resolveflow.server import _case_routes, _methodology_routes
from resolveflow.server._api import Api
from resolveflow.server._auth import Grant, Tokens, bearer, check_origin, origins
from resolveflow.server._body import MAX_BODY, MAX_DEPTH
from resolveflow.server._openapi import openapi_document
from resolveflow.server._problems import Problem, problem_for
from resolveflow.store import AsyncStore

logger = logging.getLogger("resolveflow.server")
OPEN_PATHS = frozenset({"/openapi.json"})


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class Gate:
    """ASGI middleware refusing a request with a problem before the app sees it.

    ``origins`` set: the Origin check (outermost, so that a foreign CORS preflight gets a
    problem too); ``tokens`` set: the bearer token, whose grant goes to ``request.state``.
    """

    def __init__(
        self, app: ASGIApp, *, tokens: Tokens | None = None, allowed_origins: frozenset[str] | None = None
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.allowed_origins = allowed_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            if self.allowed_origins is not None:
                check_origin(request.headers, self.allowed_origins)
            if self.tokens is not None and _route_path(scope) not in OPEN_PATHS:
                scope.setdefault("state", {})["grant"] = bearer(request.headers, self.tokens)
        except Problem as problem:
            await problem.response(request.url.path)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response(request.url.path)


async def _resolveflow_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ResolveflowError)
    problem = problem_for(exc)
    if problem.status >= 500:
        logger.error("%s %s: %s", request.method, request.url.path, type(exc).__name__, exc_info=exc)
    return problem.response(request.url.path)


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's own Allow names one route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(_route_path(request.scope)):
            methods |= route.methods
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 405:
        headers["Allow"] = _allowed_methods(request)
    kinds = {404: "not-found", 405: "method-not-allowed"}
    detail = {
        404: "no such route: see /openapi.json for the routes",
        405: f"{request.method} is not allowed here",
    }.get(status, str(exc.detail))
    return Problem(status, kinds.get(status, "http-error"), detail, headers=headers).response(
        request.url.path
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return Problem(500, "internal", "the request could not be completed").response(request.url.path)


async def _openapi(request: Request) -> Response:
    api: Api = request.app.state.api
    return JSONResponse(openapi_document(api.methodologies()))


def create_app(
    store: AsyncStore,
    *,
    tokens: Mapping[str, Grant | Actor | tuple[Actor, str | None]],
    allowed_origins: Iterable[str] = (),
    methodologies: Iterable[Methodology] | None = None,
    clock: Clock | None = None,
    max_body: int = MAX_BODY,
    max_depth: int = MAX_DEPTH,
) -> Starlette:
    """The JSON HTTP API over ``store``: a Starlette application to run or to mount.

    Args:
        store: an :class:`~resolveflow.store.AsyncStore` (``connect_async``), with its
            schema; a token with a tenant sees ``store.for_tenant(tenant)``.
        tokens: bearer token -> :class:`Grant` (or an :class:`~resolveflow.Actor`, or
            ``(Actor, tenant)``). Tokens are 16 to 512 ASCII characters.
        allowed_origins: origins (``https://crm.example.com``) whose browser requests
            are accepted (and answered with CORS headers); a request with any other
            ``Origin`` gets 403.
        methodologies: the methodologies served (listed, described in the OpenAPI
            document, open to new cases); default: every registered one.
        clock: what "now" is for the overdue and analytics routes (default: UTC now).
        max_body: the largest request body read, in bytes.
        max_depth: the deepest nesting of a JSON body.

    Returns:
        A :class:`starlette.applications.Starlette` application.

    Raises:
        InvalidInput: not an AsyncStore, a malformed token or origin.

    Example:
        >>> import resolveflow.store
        >>> from resolveflow import Actor
        >>> store = resolveflow.store.connect_async("/tmp/example-unused.db")
        >>> app = create_app(store, tokens={"a-long-random-token-0001": Actor("ana")})
        >>> sorted(r.path for r in app.routes)[:2]
        ['/analytics', '/cases']
    """
    if not isinstance(store, AsyncStore):
        raise InvalidInput(
            f"expected an AsyncStore (resolveflow.store.connect_async), got {shown(store)}", argument="store"
        )
    for value, name in ((max_body, "max_body"), (max_depth, "max_depth")):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidInput(f"expected a positive whole number, got {shown(value)}", argument=name)
    known = Tokens(tokens)
    allowed = origins(allowed_origins)
    served = None if methodologies is None else list(methodologies)
    if served is not None and not all(isinstance(m, Methodology) for m in served):
        raise InvalidInput("methodologies must be Methodology objects", argument="methodologies")
    middleware = [Middleware(Gate, allowed_origins=allowed)]
    if allowed:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=sorted(allowed),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
                expose_headers=["ETag", "Location", "Retry-After"],
            )
        )
    middleware.append(Middleware(Gate, tokens=known))
    handlers: dict[Any, Any] = {
        Problem: _problem,
        ResolveflowError: _resolveflow_error,
        HTTPException: _http_error,
        Exception: _unexpected,
    }
    app = Starlette(
        routes=[
            Route("/openapi.json", _openapi, methods=["GET"]),
            *_methodology_routes.ROUTES,
            *_case_routes.ROUTES,
        ],
        middleware=middleware,
        exception_handlers=handlers,
    )
    app.state.api = Api(store, known, served, clock, max_body, max_depth)
    return app
