"""The OpenAPI 3.1 document, generated from the methodologies rather than from Python types.

Every route, the problem schema, the bearer security scheme, and each
methodology's evidence schemas: one component per methodology, version and
action (``Evidence.<id>.<version>.<action>``), which the check and fire
operations' request bodies list in an ``anyOf``, and which
``x-resolveflow-evidence`` maps from methodology, version and action. The
evidence schemas are the ones ``case.actions()`` gives a form (JSON Schema
2020-12, OpenAPI 3.1's own dialect).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from resolveflow._methodology import Methodology
from resolveflow._registry import available, get_methodology, versions
from resolveflow.server._body import MAX_BODY, MAX_DEPTH
from resolveflow.server._params import MAX_ID, MAX_PAGE

_ANY_OBJECT: Final = {"type": "object"}
_TEXT: Final = {"type": "string"}
_NAME_PATTERN: Final = "^[a-z][a-z0-9_]{0,99}$"
_COMPONENT: Final = re.compile(r"[^A-Za-z0-9._-]")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def evidence_component(methodology: Methodology, action: str) -> str:
    """The component name of an action's evidence schema."""
    return _COMPONENT.sub("_", f"Evidence.{methodology.id}.{methodology.version}.{action}")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _object(properties: dict[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": sorted(required)}


def _schemas() -> dict[str, Any]:
    refusal = _object(
        {"code": _TEXT, "message": _TEXT, "missing": _array(_TEXT)}, ("code", "message", "missing")
    )
    entry = _object(
        {
            "seq": {"type": "integer", "minimum": 1},
            "action": _TEXT,
            "from_step": _TEXT,
            "step": _TEXT,
            "actor": {"anyOf": [_TEXT, _object({"id": _TEXT, "roles": _array(_TEXT)}, ("id", "roles"))]},
            "at": {"type": "string", "format": "date-time"},
            "evidence": {},
            "hash": _TEXT,
        },
        ("seq", "action", "from_step", "step", "actor", "at", "hash"),
    )
    summary = _object(
        {
            "case_id": _TEXT,
            "methodology": _object({"id": _TEXT, "version": _TEXT}, ("id", "version")),
            "step": _TEXT,
            "outcome": _nullable(_TEXT),
            "last_seq": {"type": "integer", "minimum": 0},
            "head": _TEXT,
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
        ("case_id", "methodology", "step", "outcome", "last_seq", "head"),
    )
    action_view = _object(
        {
            "name": _TEXT,
            "title": _TEXT,
            "target": _TEXT,
            "enabled": {"type": "boolean"},
            "refusals": _array(_ref("Refusal")),
            "pending": _array(_TEXT),
            "evidence_schema": _ANY_OBJECT,
            "description": _nullable(_TEXT),
        },
        ("name", "title", "target", "enabled", "refusals", "pending", "evidence_schema"),
    )
    overdue_item = _object(
        {"kind": _TEXT, "ref": _TEXT, "description": _TEXT, "due": {"type": "string", "format": "date-time"}},
        ("kind", "ref", "description", "due"),
    )
    deadline = dict(overdue_item)
    deadline["properties"] = {**overdue_item["properties"], "case_id": _TEXT, "methodology_id": _TEXT}
    view = _object(
        {
            "case_id": _TEXT,
            "methodology": _ANY_OBJECT,
            "step": _object({"id": _TEXT, "title": _TEXT}, ("id", "title")),
            "outcome": _nullable(_ANY_OBJECT),
            "progress": _object(
                {
                    "position": {"type": "integer"},
                    "total": {"type": "integer"},
                    "done": _array(_TEXT),
                    "remaining": _array(_TEXT),
                },
                ("position", "total", "done", "remaining"),
            ),
            "actions": _array(_ref("ActionView")),
            "overdue": _array(_ref("OverdueItem")),
            "durations": {"type": "object", "additionalProperties": {"type": "number"}},
            "history": _array(_ref("HistoryEntry")),
            "at": _TEXT,
        },
        ("case_id", "methodology", "step", "outcome", "progress", "actions", "overdue", "history"),
    )
    problem = _object(
        {
            "type": {"type": "string", "format": "uri"},
            "title": _TEXT,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": _TEXT,
            "instance": _TEXT,
            "refusals": _array(_ref("Refusal")),
            "errors": _array(_object({"path": _TEXT, "problem": _TEXT}, ("path", "problem"))),
            "available": _array(_TEXT),
        },
        ("type", "title", "status", "detail", "instance"),
    )
    problem["description"] = (
        "RFC 9457 problem details. A refusal carries `refusals` (code, message, missing); invalid "
        "evidence `errors` (path, problem); an unknown action or methodology `available`."
    )
    listed = _object(
        {
            "id": _TEXT,
            "version": _TEXT,
            "versions": _array(_TEXT),
            "title": _TEXT,
            "source": _TEXT,
            "description": _nullable(_TEXT),
        },
        ("id", "version", "versions", "title", "source"),
    )
    return {
        "Problem": problem,
        "Refusal": refusal,
        "HistoryEntry": entry,
        "CaseSummary": summary,
        "ActionView": action_view,
        "OverdueItem": overdue_item,
        "Deadline": deadline,
        "CaseView": view,
        "MethodologySummary": listed,
        "Decision": _object(
            {
                "action": _TEXT,
                "allowed": {"type": "boolean"},
                "refusals": _array(_ref("Refusal")),
                "target": _TEXT,
                "pending": _array(_TEXT),
            },
            ("action", "allowed", "refusals", "target", "pending"),
        ),
        "FireResult": _object(
            {"entry": _ref("HistoryEntry"), "case": _ref("CaseSummary")}, ("entry", "case")
        ),
        "HistoryPage": _object(
            {
                "case_id": _TEXT,
                "entries": _array(_ref("HistoryEntry")),
                "next_after_seq": _nullable({"type": "integer"}),
            },
            ("case_id", "entries", "next_after_seq"),
        ),
        "CaseList": _object(
            {"cases": _array(_ref("CaseSummary")), "next_after": _nullable(_TEXT)}, ("cases", "next_after")
        ),
        "OpenCase": {
            **_object(
                {
                    "methodology": {"type": "string", "pattern": "^[a-z][a-z0-9]*(-[a-z0-9]+)*$"},
                    "version": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)*$"},
                    "case_id": {"type": "string", "minLength": 1, "maxLength": MAX_ID, "pattern": "^[^/]*$"},
                },
                ("methodology", "case_id"),
            ),
            "additionalProperties": False,
        },
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


_PROBLEM_RESPONSE: Final = {
    "description": "A problem (RFC 9457): see docs/http-api.md for each status",
    "content": {"application/problem+json": {"schema": _ref("Problem")}},
}
_ETAG_HEADER: Final = {
    "ETag": {"description": 'The case\'s version: "<seq>-<head hash prefix>"', "schema": _TEXT}
}


def _ok(schema: dict[str, Any], description: str = "OK", *, etag: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": _json(schema)}
    if etag:
        response["headers"] = dict(_ETAG_HEADER)
    return response


def _operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: Iterable[dict[str, Any]] = (),
    body: dict[str, Any] | None = None,
    tags: Iterable[str] = (),
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": list(tags),
        "parameters": list(parameters),
        "responses": {**responses, "default": _PROBLEM_RESPONSE},
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def _paths(evidence_refs: list[dict[str, str]]) -> dict[str, Any]:
    case_id = _path("case_id", {"type": "string", "minLength": 1, "maxLength": MAX_ID}, "The case's id.")
    action = _path("action", {"type": "string", "pattern": _NAME_PATTERN}, "The action's name.")
    methodology_id = _path(
        "methodology_id",
        {"type": "string", "pattern": "^[a-z][a-z0-9]*(-[a-z0-9]+)*$"},
        "The methodology id.",
    )
    version = _query("version", {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)*$"}, "Default: the latest.")
    now = _query("now", {"type": "string", "format": "date-time"}, "RFC 3339 with an offset; default: now.")
    limit = _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "Page size.")
    name = {"type": "string", "pattern": _NAME_PATTERN}
    evidence_body = {
        "required": False,
        "content": _json(
            {
                "type": "object",
                "properties": {
                    "evidence": {
                        "description": "The action's evidence, as its schema in the view (or "
                        "GET /methodologies/{id}/schemas) says; omit it for an action without evidence.",
                        "anyOf": [*evidence_refs, {"type": "null"}],
                    }
                },
                "additionalProperties": False,
            }
        ),
    }
    cases, methodologies = ["cases"], ["methodologies"]
    return {
        "/openapi.json": {
            "get": {
                **_operation("openapi", "This document", {"200": _ok(_ANY_OBJECT)}, tags=["meta"]),
                "security": [],
            }
        },
        "/methodologies": {
            "get": _operation(
                "list_methodologies",
                "The methodologies served, latest version of each",
                {
                    "200": _ok(
                        _object({"methodologies": _array(_ref("MethodologySummary"))}, ["methodologies"])
                    )
                },
                tags=methodologies,
            )
        },
        "/methodologies/{methodology_id}": {
            "get": _operation(
                "show_methodology",
                "A methodology's definition (its file form)",
                {"200": _ok(_object({"summary": _ref("MethodologySummary"), "definition": _ANY_OBJECT}))},
                parameters=[methodology_id, version],
                tags=methodologies,
            )
        },
        "/methodologies/{methodology_id}/diagram": {
            "get": _operation(
                "methodology_diagram",
                "A diagram: Mermaid (default), Graphviz DOT, or SVG (needs Graphviz on the server)",
                {
                    "200": {
                        "description": "The diagram",
                        "content": {
                            "text/vnd.mermaid": {"schema": _TEXT},
                            "text/vnd.graphviz": {"schema": _TEXT},
                            "image/svg+xml": {"schema": _TEXT},
                        },
                    }
                },
                parameters=[
                    methodology_id,
                    version,
                    _query(
                        "format", {"type": "string", "enum": ["mermaid", "dot", "svg"]}, "Default: mermaid."
                    ),
                ],
                tags=methodologies,
            )
        },
        "/methodologies/{methodology_id}/schemas": {
            "get": _operation(
                "evidence_schemas",
                "Each action's evidence JSON Schema",
                {"200": _ok(_object({"methodology": _ANY_OBJECT, "actions": _ANY_OBJECT}, ["actions"]))},
                parameters=[methodology_id, version],
                tags=methodologies,
            )
        },
        "/cases": {
            "get": _operation(
                "list_cases",
                "Cases at a step, closed at an outcome, or (neither given) the open cases, by case id",
                {"200": _ok(_ref("CaseList"))},
                parameters=[
                    _query("step", name, "Cases currently at this step."),
                    _query("outcome", name, "Cases closed at this outcome."),
                    _query("methodology", {"type": "string"}, "Only this methodology's cases."),
                    _query("after", {"type": "string", "minLength": 1, "maxLength": MAX_ID}, "Start after."),
                    limit,
                ],
                tags=cases,
            ),
            "post": _operation(
                "open_case",
                "Open a case",
                {
                    "201": {
                        **_ok(_ref("CaseView"), "Opened: the view", etag=True),
                        "headers": {**_ETAG_HEADER, "Location": {"schema": _TEXT}},
                    }
                },
                body={"required": True, "content": _json(_ref("OpenCase"))},
                tags=cases,
            ),
        },
        "/cases/{case_id}": {
            "get": _operation(
                "view_case",
                "The view: step guidance, progress, every action enabled or refused with its form schema",
                {
                    "200": _ok(_ref("CaseView"), etag=True),
                    "304": {"description": "Not modified (If-None-Match)", "headers": dict(_ETAG_HEADER)},
                },
                parameters=[
                    case_id,
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "schema": _TEXT,
                        "description": "The ETag the client has: 304 while the case has not moved.",
                    },
                ],
                tags=cases,
            )
        },
        "/cases/{case_id}/check/{action}": {
            "post": _operation(
                "check_action",
                "May this be done now, and if not why? Records nothing",
                {"200": _ok(_ref("Decision"), etag=True)},
                parameters=[case_id, action],
                body=evidence_body,
                tags=cases,
            )
        },
        "/cases/{case_id}/actions/{action}": {
            "post": _operation(
                "fire_action",
                "Take the action: one entry in the case's history, or a problem and nothing recorded",
                {
                    "200": _ok(
                        _ref("FireResult"), "Recorded (or the first attempt's entry, for a retry)", etag=True
                    )
                },
                parameters=[
                    case_id,
                    action,
                    {
                        "name": "If-Match",
                        "in": "header",
                        "required": False,
                        "schema": _TEXT,
                        "description": "The ETag the client last saw: a stale one gets 412.",
                    },
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": "^[!-~]{1,200}$"},
                        "description": "A key per submission: a retry records nothing new.",
                    },
                ],
                body=evidence_body,
                tags=cases,
            )
        },
        "/cases/{case_id}/history": {
            "get": _operation(
                "case_history",
                "A page of the case's history, oldest first",
                {"200": _ok(_ref("HistoryPage"))},
                parameters=[
                    case_id,
                    _query("after_seq", {"type": "integer", "minimum": 0}, "Entries after this one."),
                    limit,
                ],
                tags=cases,
            )
        },
        "/cases/{case_id}/snapshot": {
            "get": _operation(
                "case_snapshot",
                "The case's snapshot (resolveflow.restore takes it)",
                {"200": _ok(_ANY_OBJECT, etag=True)},
                parameters=[case_id],
                tags=cases,
            )
        },
        "/cases/{case_id}/overdue": {
            "get": _operation(
                "case_overdue",
                "The case's promises past due",
                {
                    "200": _ok(
                        _object({"case_id": _TEXT, "overdue": _array(_ref("OverdueItem"))}, ["overdue"])
                    )
                },
                parameters=[case_id, now],
                tags=cases,
            )
        },
        "/overdue": {
            "get": _operation(
                "overdue",
                "Promises past due on every open case, the longest overdue first",
                {
                    "200": _ok(
                        _object({"now": _TEXT, "overdue": _array(_ref("Deadline"))}, ["now", "overdue"])
                    )
                },
                parameters=[now, limit],
                tags=cases,
            )
        },
        "/analytics": {
            "get": _operation(
                "analytics",
                "How the cases were handled: outcomes, time in step, resolution times, refusals, overdue",
                {"200": _ok(_ANY_OBJECT)},
                parameters=[now, _query("methodology", {"type": "string"}, "Only this methodology.")],
                tags=cases,
            )
        },
    }


def _registered() -> list[Methodology]:
    return [get_methodology(mid, v) for mid in available() for v in versions(mid)]


def openapi_document(methodologies: Iterable[Methodology] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the HTTP API, with each action's evidence schema in it.

    Args:
        methodologies: the methodologies the API serves (default: every registered
            one, each version).

    Returns:
        The document as a JSON-ready dict (``GET /openapi.json`` serves it).

    Example:
        >>> import resolveflow
        >>> doc = openapi_document([resolveflow.get_methodology("engage", "1.0")])
        >>> doc["openapi"], "/cases/{case_id}/actions/{action}" in doc["paths"]
        ('3.1.0', True)
        >>> doc["components"]["schemas"]["Evidence.engage.1.0.engage_fully"]["required"]
        ['notes']
    """
    from resolveflow import __version__

    chosen = _registered() if methodologies is None else list(methodologies)
    schemas = _schemas()
    index: dict[str, dict[str, dict[str, Any]]] = {}
    refs: list[dict[str, str]] = []
    for methodology in chosen:
        for spec in methodology.actions:
            component = evidence_component(methodology, spec.name)
            schema = dict(spec.evidence_schema())
            schema.pop("$schema", None)  # OpenAPI 3.1's dialect is JSON Schema 2020-12 already
            schema.setdefault("description", f"{methodology.id} {methodology.version}: {spec.title}")
            schemas[component] = schema
            refs.append(_ref(component))
            index.setdefault(methodology.id, {}).setdefault(methodology.version, {})[spec.name] = _ref(
                component
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "resolveflow HTTP API",
            "version": __version__,
            "description": (
                "Customer-recovery cases driven by their methodology. Errors are RFC 9457 problems. "
                f"Request bodies: JSON, at most {MAX_BODY} bytes, nested at most {MAX_DEPTH} deep."
            ),
        },
        "paths": _paths(refs),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "x-resolveflow-evidence": index,
    }
