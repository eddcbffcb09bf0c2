"""What every request passes before a route sees it: the body limit, the origin check, signing in.

In this order, each refusal a small page and nothing recorded:

1. a body declared (``Content-Length``) larger than :data:`MAX_BODY`: 413,
   before a byte of it is read; one sent without a length (chunked) is counted
   as it is read, and refused with 413 as soon as it passes the limit;
2. a POST (any method but GET, HEAD, OPTIONS) whose ``Origin``, or without
   one ``Referer``, is not the desk's own origin: 403;
3. nobody signed in: a page (GET, HEAD) redirects to the sign-in page, anything
   else gets 401. Only the sign-in page, the stylesheet and the icon are open to all.

The CSRF token is checked where the form is read (:func:`resolveflow.desk._auth.posted_form`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import _auth as auth

# The largest request body the desk reads: its biggest form is a few kilobytes.
MAX_BODY = 1024 * 1024
SIGN_IN = "/signin"
# Browsers ask for it on every site, signed in or not; it redirects to the SVG icon in /static/.
FAVICON = "/favicon.ico"
_PUBLIC_PREFIXES = ("/static/",)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request is larger than the {_size(limit)} this desk accepts.")


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


def _public(path: str) -> bool:
    return path in (SIGN_IN, FAVICON) or path.startswith(_PUBLIC_PREFIXES)


def sign_in_url(request: Request) -> str:
    """The sign-in page, with where to come back to."""
    # The path as sent (still percent-encoded), so that any path comes back as it was.
    raw: bytes = request.scope.get("raw_path") or request.url.path.encode()
    query = request.url.query
    back = auth.local_path(raw.decode("latin-1") + (f"?{query}" if query else ""))
    return SIGN_IN if back == "/" else f"{SIGN_IN}?{urlencode({'next': back})}"


class Guard:
    """ASGI middleware; it runs inside the session middleware, so it can tell who is signed in."""

    def __init__(self, app: ASGIApp, *, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        declared = request.headers.get("content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit() and len(declared) <= 18):
                await self._refuse(
                    request, send, 400, "Bad request", "The Content-Length header is not a number."
                )
                return
            if int(declared) > self.max_body:
                await self._refuse(request, send, 413, "Too large", BodyTooLarge(self.max_body).detail)
                return
        if request.method not in auth.SAFE_METHODS and not auth.same_origin(request):
            await self._refuse(
                request,
                send,
                403,
                "Forbidden",
                "This request did not come from the desk's own pages (its Origin or Referer is "
                "another site's, or missing). Nothing was recorded.",
            )
            return
        desk: Any = request.app.state.desk
        agent = await run_in_threadpool(auth.resolve_agent, request, desk.engine)
        if agent is None and not _public(request.url.path):
            if request.method in ("GET", "HEAD"):
                await RedirectResponse(sign_in_url(request), status_code=303)(scope, receive, send)
            else:
                await self._refuse(
                    request, send, 401, "Not signed in", "Sign in first: nothing was recorded."
                )
            return
        await self._counted(scope, receive, send, request)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, request: Request) -> None:
        """Run the app, refusing the body as soon as more of it arrives than the limit allows."""
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as too_large:
            # Handlers turn it into a page themselves; this is for a body read outside a handler.
            if started:
                raise
            await self._refuse(request, send, 413, "Too large", str(too_large.detail))

    async def _refuse(self, request: Request, send: Send, status: int, title: str, message: str) -> None:
        desk: Any = request.app.state.desk
        response: Response = desk.render(
            request, "error.html", {"title": title, "message": message}, status=status
        )
        if status in (400, 413):
            # The rest of the body is not read: the client should not send it on this connection.
            response.headers["connection"] = "close"
        await response(request.scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
