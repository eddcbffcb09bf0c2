"""The case routes: open, view, check, fire, history, snapshot, overdue, and the queries over cases.

Every route reads and writes through the store the request's token sees
(:meth:`Api.store_for`), and records every action for the token's actor.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any
from urllib.parse import quote

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from resolveflow._case import Case
from resolveflow._history import format_time
from resolveflow._view import OverdueItem
from resolveflow.exceptions import ConcurrencyConflict, Refused
from resolveflow.server import _params
from resolveflow.server._api import Api
from resolveflow.server._auth import Grant
from resolveflow.server._body import json_object, read_json
from resolveflow.server._etag import HASH_PREFIX, etag, parse_if_match
from resolveflow.server._problems import Problem, problem_for, stale_conflict

_OPEN = frozenset({"methodology", "case_id", "version"})
_EVIDENCE = frozenset({"evidence"})


def _api(request: Request) -> Api:
    api: Api = request.app.state.api
    return api


def _grant(request: Request) -> Grant:
    grant: Grant = request.state.grant
    return grant


def case_url(request: Request, case_id: str) -> str:
    """The case's path, under the prefix the API is mounted at."""
    root: str = request.scope.get("root_path", "")
    return f"{root}/cases/{quote(case_id, safe='')}"


def _case_etag(case: Case) -> str:
    return etag(len(case.history), case.head)


async def _body(
    request: Request, allowed: frozenset[str], required: frozenset[str] = frozenset()
) -> dict[str, Any]:
    api = _api(request)
    body = await read_json(request, limit=api.max_body, max_depth=api.max_depth)
    if body is None:
        body = {}
    data = json_object(body)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise Problem(
            400,
            "bad-body",
            f"unknown member(s) {', '.join(map(repr, unknown))}; the body takes {sorted(allowed)}"
            + ("; who acts comes from the token" if {"actor", "roles"} & set(unknown) else ""),
        )
    missing = sorted(required - set(data))
    if missing:
        raise Problem(400, "bad-body", f"the body needs {', '.join(map(repr, missing))}")
    return data


def _text_member(data: dict[str, Any], member: str) -> str:
    value = data.get(member)
    if not isinstance(value, str):
        raise Problem(400, "bad-body", f"{member!r} must be a string")
    return value


async def open_case(request: Request) -> Response:
    api = _api(request)
    data = await _body(request, _OPEN, frozenset({"methodology", "case_id"}))
    methodology_id = _params.methodology_id(_text_member(data, "methodology"))
    version = None
    if "version" in data and data["version"] is not None:
        version = _text_member(data, "version")
        if not _params.VERSION.fullmatch(version):
            raise Problem(400, "bad-body", "'version' must be dotted numbers, such as '1.0'")
    case_id = _params.text_id(_text_member(data, "case_id"), "case_id")
    if "/" in case_id:
        # Routing decodes an encoded slash before it matches: such a case could not be addressed.
        raise Problem(
            400,
            "invalid-parameter",
            "case_id: must not hold '/' (a case id is one path segment)",
            title="Invalid parameter",
            parameter="case_id",
        )
    methodology = api.methodology(methodology_id, version)
    case = await api.store_for(request).open_case(methodology, case_id=case_id)
    view = case.view(actor=_grant(request).actor)
    headers = {"Location": case_url(request, case.id), "ETag": _case_etag(case)}
    return JSONResponse(view.to_json(), status_code=201, headers=headers)


async def _load(request: Request) -> Case:
    return await _api(request).store_for(request).load(_params.case_id(request))


async def view_case(request: Request) -> Response:
    case = await _load(request)
    tag = _case_etag(case)
    seen = request.headers.get("if-none-match")
    if seen is not None and tag in (t.strip() for t in seen.split(",")):
        # The screen is up to date (a poll): nothing to send. The view's overdue items and
        # durations depend on the time too; a client that shows them asks without the header.
        return Response(status_code=304, headers={"ETag": tag})
    view = case.view(actor=_grant(request).actor)
    return JSONResponse(view.to_json(), headers={"ETag": tag})


async def check_action(request: Request) -> Response:
    action = _params.action(request)
    data = await _body(request, _EVIDENCE)
    case = await _load(request)
    decision = case.check(action, data.get("evidence"), actor=_grant(request).actor)
    return JSONResponse(decision.to_json(), headers={"ETag": _case_etag(case)})


async def fire_action(request: Request) -> Response:
    api = _api(request)
    store = api.store_for(request)
    case_id = _params.case_id(request)
    action = _params.action(request)
    key = _params.idempotency_key(request)
    if_match = request.headers.get("if-match")
    expected = parse_if_match(if_match)
    data = await _body(request, _EVIDENCE)
    if expected is not None:
        seq, prefix = expected
        current = await store.summary(case_id)
        if current.last_seq == seq and current.head[:HASH_PREFIX] != prefix:
            raise Problem(
                412,
                "stale",
                "the ETag does not match the case's history; load it again",
                title="Case changed",
                expected_seq=seq,
                current_seq=current.last_seq,
            )
    try:
        entry = await store.fire(
            case_id,
            action,
            data.get("evidence"),
            actor=_grant(request).actor,
            expected_seq=None if expected is None else expected[0],
            idempotency_key=key,
        )
    except Refused as error:
        row = await store.summary(case_id)
        raise problem_for(error, methodology=api.known(row.methodology_id, row.methodology_version)) from None
    except ConcurrencyConflict as error:
        raise stale_conflict(error, if_match=expected is not None) from None
    row = await store.summary(case_id)
    body = {"entry": entry.to_json(), "case": row.to_json()}
    return JSONResponse(
        body, headers={"ETag": etag(row.last_seq, row.head), "Location": case_url(request, case_id)}
    )


async def history(request: Request) -> Response:
    case_id = _params.case_id(request)
    after = _params.count(request, "after_seq", default=0, minimum=0, maximum=_params.MAX_SEQ)
    limit = _params.count(request, "limit", default=50, minimum=1, maximum=_params.MAX_PAGE)
    page = await _api(request).store_for(request).history(case_id, after_seq=after, limit=limit)
    return JSONResponse(
        {
            "case_id": page.case_id,
            "entries": [e.to_json() for e in page.entries],
            "next_after_seq": page.next_after_seq,
        }
    )


async def snapshot(request: Request) -> Response:
    case = await _load(request)
    return JSONResponse(case.snapshot(), headers={"ETag": _case_etag(case)})


def _overdue_item(item: OverdueItem) -> dict[str, Any]:
    return {"kind": item.kind, "ref": item.ref, "description": item.description, "due": format_time(item.due)}


async def case_overdue(request: Request) -> Response:
    now = _params.when(request)
    case = await _load(request)
    return JSONResponse({"case_id": case.id, "overdue": [_overdue_item(i) for i in case.overdue(now)]})


async def list_cases(request: Request) -> Response:
    params = request.query_params
    step, outcome = params.get("step"), params.get("outcome")
    if step is not None and outcome is not None:
        raise Problem(400, "invalid-parameter", "give step or outcome, not both", title="Invalid parameter")
    methodology = params.get("methodology")
    if methodology is not None:
        _params.methodology_id(methodology)
    after = params.get("after")
    if after is not None:
        _params.text_id(after, "after")
    limit = _params.count(request, "limit", default=50, minimum=1, maximum=_params.MAX_PAGE)
    store = _api(request).store_for(request)
    if step is not None:
        found = await store.cases_at(_params.name(step, "step"), methodology, after=after, limit=limit)
    else:
        wanted = None if outcome is None else _params.name(outcome, "outcome")
        found = await store.cases_by_outcome(wanted, methodology, after=after, limit=limit)
    return JSONResponse(
        {
            "cases": [s.to_json() for s in found],
            "next_after": found[-1].case_id if len(found) == limit else None,
        }
    )


async def overdue(request: Request) -> Response:
    api = _api(request)
    now = _params.when(request) or api.now()
    limit = _params.count(request, "limit", default=100, minimum=1, maximum=_params.MAX_PAGE)
    found = await api.store_for(request).overdue(now, limit=limit)
    return JSONResponse({"now": format_time(now), "overdue": [d.to_json() for d in found]})


def _plain(value: Any) -> Any:
    """Analytics records as JSON: times as RFC 3339, durations as seconds."""
    if isinstance(value, _dt.datetime):
        return format_time(value)
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if attrs.has(type(value)):
        return {f.name: _plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


async def analytics(request: Request) -> Response:
    api = _api(request)
    now = _params.when(request) or api.now()
    methodology = request.query_params.get("methodology")
    if methodology is not None:
        _params.methodology_id(methodology)
    found = await api.store_for(request).analytics(now=now, methodology_id=methodology)
    return JSONResponse(_plain(found))


ROUTES = [
    Route("/cases", list_cases, methods=["GET"]),
    Route("/cases", open_case, methods=["POST"]),
    Route("/cases/{case_id}", view_case, methods=["GET"]),
    Route("/cases/{case_id}/check/{action}", check_action, methods=["POST"]),
    Route("/cases/{case_id}/actions/{action}", fire_action, methods=["POST"]),
    Route("/cases/{case_id}/history", history, methods=["GET"]),
    Route("/cases/{case_id}/snapshot", snapshot, methods=["GET"]),
    Route("/cases/{case_id}/overdue", case_overdue, methods=["GET"]),
    Route("/overdue", overdue, methods=["GET"]),
    Route("/analytics", analytics, methods=["GET"]),
]
