"""RFC 9457 problem details: every error the API returns, and the mapping from resolveflow's errors.

A :class:`Problem` is raised anywhere in a request and rendered as
``application/problem+json`` with ``type``, ``title``, ``status``, ``detail``
and ``instance``, plus members of its own (``refusals``, ``errors``,
``available`` ...). :func:`problem_for` turns each resolveflow error into one;
nothing else reaches the client, and never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from starlette.responses import Response

from resolveflow._methodology import Methodology
from resolveflow.exceptions import (
    CaseExists,
    CaseNotFound,
    ConcurrencyConflict,
    DiagramUnavailable,
    IdempotencyConflict,
    InvalidEvidence,
    InvalidInput,
    InvalidSnapshot,
    Refused,
    ResolveflowError,
    StoreUnavailable,
    UnknownAction,
    UnknownMethodology,
)

PROBLEM_JSON: Final = "application/problem+json"
# Problem type URIs live under one base; docs/http-api.md lists each of them.
TYPE_BASE: Final = "https://resolveflow.dev/problems/"
# Seconds a client waits before trying again when the database could not be used.
RETRY_AFTER: Final = 5
# Refusal codes that come from the case's state rather than from what was sent.
_STATE_CODES: Final = frozenset({"case_closed", "not_from_this_step"})

TITLES: Final[Mapping[int, str]] = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    500: "Internal server error",
    501: "Not implemented",
    503: "Service unavailable",
}


class Problem(Exception):
    """An HTTP error as RFC 9457 problem details; raise it from any handler.

    Args:
        status: the HTTP status.
        kind: the last part of the type URI (``"refused"``, ``"case-not-found"`` ...).
        detail: what went wrong for this request, in words.
        headers: extra response headers (``WWW-Authenticate``, ``Retry-After``, ``Allow``).
        extra: members of the problem beyond the standard five.
    """

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.title = title or TITLES.get(status, "Error")
        self.headers = dict(headers or {})
        self.extra = extra

    def to_json(self, instance: str) -> dict[str, Any]:
        """The problem's JSON members; ``instance`` is the request's path."""
        return {
            "type": TYPE_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            **self.extra,
        }

    def response(self, instance: str) -> Response:
        """The ``application/problem+json`` response."""
        body = json.dumps(self.to_json(instance), ensure_ascii=False, separators=(",", ":"))
        return Response(body, status_code=self.status, media_type=PROBLEM_JSON, headers=self.headers)


def _refusal_status(error: Refused, methodology: Methodology | None) -> int:
    """422 when only guards that read the posted evidence refused, 409 when the case's state did."""
    if methodology is None:
        return 409
    action = methodology.action(error.action)
    reading = {g.name for g in action.guards if g.uses_evidence} if action is not None else set()
    codes = {r.code for r in error.refusals}
    if codes and not (codes & _STATE_CODES) and codes <= (reading | {"invalid_evidence"}):
        return 422
    return 409


def problem_for(error: ResolveflowError, *, methodology: Methodology | None = None) -> Problem:
    """The problem a resolveflow error becomes (see docs/http-api.md for the table).

    Args:
        error: what the store or a case raised.
        methodology: the case's methodology, when known, to tell a refusal of the
            evidence (422) from a refusal by the case's state (409).
    """
    if isinstance(error, Refused):
        status = _refusal_status(error, methodology)
        return Problem(
            status,
            "refused",
            f"{error.action!r} was refused at step {error.step!r}: "
            + "; ".join(r.message for r in error.refusals),
            title="Action refused",
            action=error.action,
            step=error.step,
            refusals=[r.to_json() for r in error.refusals],
        )
    if isinstance(error, InvalidEvidence):
        return Problem(
            422,
            "invalid-evidence",
            f"the evidence for {error.action!r} does not match its schema",
            title="Invalid evidence",
            action=error.action,
            errors=[{"path": path, "problem": problem} for path, problem in error.errors],
        )
    if isinstance(error, UnknownAction):
        return Problem(
            404,
            "unknown-action",
            str(error),
            title="Unknown action",
            action=error.action,
            available=list(error.available),
        )
    if isinstance(error, UnknownMethodology):
        return Problem(
            404,
            "unknown-methodology",
            str(error),
            title="Unknown methodology",
            available=list(error.available),
        )
    if isinstance(error, CaseNotFound):
        return Problem(404, "case-not-found", f"no case {error.case_id!r}", title="Case not found")
    if isinstance(error, CaseExists):
        return Problem(409, "case-exists", f"a case {error.case_id!r} already exists", title="Case exists")
    if isinstance(error, ConcurrencyConflict):
        return Problem(
            412,
            "stale",
            f"the case moved on: the request was made at entry {error.expected_seq}, "
            f"the case is at entry {error.current_seq}; load it again",
            title="Case changed",
            expected_seq=error.expected_seq,
            current_seq=error.current_seq,
        )
    if isinstance(error, IdempotencyConflict):
        return Problem(
            422,
            "idempotency-key-reused",
            f"the Idempotency-Key {error.key!r} was used for another request (entry {error.seq})",
            title="Idempotency key reused",
            seq=error.seq,
        )
    if isinstance(error, StoreUnavailable):
        return Problem(
            503,
            "store-unavailable",
            f"the database could not be used ({error.operation}); try again later",
            title="Store unavailable",
            headers={"Retry-After": str(RETRY_AFTER)},
            maybe_recorded=error.maybe_recorded,
        )
    if isinstance(error, DiagramUnavailable):
        return Problem(501, "diagram-unavailable", str(error), title="Diagram unavailable")
    if isinstance(error, InvalidInput):
        return Problem(400, "invalid-input", str(error), title="Invalid input", argument=error.argument)
    if isinstance(error, InvalidSnapshot):
        # A stored history that does not replay: the record was tampered with, not the request.
        return Problem(500, "tampered-history", "the stored case does not verify", title="Tampered history")
    return Problem(500, "internal", "the request could not be completed")


def stale_conflict(error: ConcurrencyConflict, *, if_match: bool) -> Problem:
    """A conflict: 412 when the client's ``If-Match`` is stale, 409 when another writer won a race."""
    problem = problem_for(error)
    if if_match:
        return problem
    return Problem(
        409,
        "conflict",
        "another request moved the case on at the same time; load it and try again",
        title="Conflict",
        current_seq=error.current_seq,
    )
