"""One webhook POST with the standard library: a timeout, no redirects, a bounded read, no raw errors.

:func:`check_url` refuses what the relay must never post to (another scheme,
no host, credentials in the URL, control characters). :func:`post` sends one
request and always returns a :class:`PostResult`: a 2xx status is success;
anything else (another status, a redirect, a timeout, a refused connection, a
TLS failure, a malformed response) is a failure with a one-line reason. It
reads at most :data:`MAX_RESPONSE_BYTES` of the response, connects directly
(no proxy from the environment) and never follows a redirect: a receiver that
moved must be configured again, not followed to another host.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Final

import attrs

from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput

MAX_URL_CHARS: Final = 2000
MAX_RESPONSE_BYTES: Final = 64 * 1024
_REASON_CHARS: Final = 200
USER_AGENT: Final = "resolveflow-relay"


@attrs.frozen
class PostResult:
    """What one POST came to: ``ok`` (a 2xx status), the status if any, and a reason when it failed."""

    ok: bool
    status: int | None
    reason: str | None


def check_url(url: object, argument: str = "url") -> str:
    """The URL, if it is an absolute http(s) URL with a host and no credentials (InvalidInput otherwise).

    Example:
        >>> check_url("https://crm.example/hooks/resolveflow")
        'https://crm.example/hooks/resolveflow'
    """
    if not isinstance(url, str):
        raise InvalidInput(f"expected an http(s) URL, got {type(url).__name__}", argument=argument)
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput(f"a webhook URL is at most {MAX_URL_CHARS} characters", argument=argument)
    if any(ord(c) < 0x21 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in url):
        raise InvalidInput(
            "a webhook URL has no spaces, control characters or lone surrogates", argument=argument
        )
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput(f"not a URL: {shown(url)}", argument=argument) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput(
            f"a webhook URL starts with http:// or https://, got {shown(url)}", argument=argument
        )
    if not parts.hostname:
        raise InvalidInput(f"a webhook URL names a host, got {shown(url)}", argument=argument)
    if parts.username is not None or parts.password is not None:
        # They would be shown wherever the URL is (logs, dead letters); use a secret instead.
        raise InvalidInput("a webhook URL carries no user name or password", argument=argument)
    if port == 0:
        raise InvalidInput("a webhook URL's port is 1 to 65535", argument=argument)
    return url


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # the 3xx response is then an HTTPError: a failed delivery


_OPENER: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def _cut(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _REASON_CHARS else line[: _REASON_CHARS - 1] + "…"


def _read_some(response: Any) -> bytes:
    try:
        return bytes(response.read(MAX_RESPONSE_BYTES))
    except (OSError, http.client.HTTPException, ValueError):
        return b""


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> PostResult:
    """POST ``body`` to ``url``: a :class:`PostResult`, never an exception from the network."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={**headers, "content-type": "application/json", "user-agent": USER_AGENT},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = int(response.status)
            _read_some(response)
    except urllib.error.HTTPError as error:
        detail = _read_some(error).decode("utf-8", "replace")
        kind = "a redirect (not followed)" if 300 <= error.code < 400 else f"HTTP {error.code}"
        return PostResult(False, error.code, _cut(f"{kind}: {detail}" if detail.strip() else kind))
    except urllib.error.URLError as error:
        return PostResult(False, None, _cut(f"cannot connect: {error.reason}"))
    except TimeoutError:
        return PostResult(False, None, f"no response within {timeout:g} s")
    except (OSError, http.client.HTTPException, ValueError) as error:
        return PostResult(False, None, _cut(f"{type(error).__name__}: {error}"))
    if 200 <= status < 300:
        return PostResult(True, status, None)
    return PostResult(False, status, f"HTTP {status}")
