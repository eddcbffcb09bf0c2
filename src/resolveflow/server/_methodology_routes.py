"""The methodology routes: list, show, diagram and evidence schemas (read only, no store)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from resolveflow._methodology import Methodology
from resolveflow.diagrams import to_dot, to_mermaid, to_svg
from resolveflow.files import methodology_to_dict
from resolveflow.server import _params
from resolveflow.server._api import Api
from resolveflow.server._problems import Problem

DIAGRAM_FORMATS = {"mermaid": "text/vnd.mermaid", "dot": "text/vnd.graphviz", "svg": "image/svg+xml"}


def _api(request: Request) -> Api:
    api: Api = request.app.state.api
    return api


def summary(methodology: Methodology, versions: list[str]) -> dict[str, Any]:
    """A methodology in the list: id, version, title, source, description and every served version."""
    return {
        "id": methodology.id,
        "version": methodology.version,
        "versions": versions,
        "title": methodology.title,
        "source": methodology.source,
        "description": methodology.description,
    }


def _requested(request: Request) -> Methodology:
    api = _api(request)
    methodology_id = _params.methodology_id(str(request.path_params["methodology_id"]), "methodology_id")
    return api.methodology(methodology_id, _params.version(request))


async def list_methodologies(request: Request) -> Response:
    found: dict[str, list[Methodology]] = {}
    for methodology in _api(request).methodologies():
        found.setdefault(methodology.id, []).append(methodology)
    listed = [summary(ms[-1], [m.version for m in ms]) for ms in found.values()]
    return JSONResponse({"methodologies": listed})


async def show_methodology(request: Request) -> Response:
    methodology = _requested(request)
    versions = [m.version for m in _api(request).methodologies() if m.id == methodology.id]
    return JSONResponse(
        {"summary": summary(methodology, versions), "definition": methodology_to_dict(methodology)}
    )


async def diagram(request: Request) -> Response:
    methodology = _requested(request)
    chosen = request.query_params.get("format", "mermaid")
    if chosen not in DIAGRAM_FORMATS:
        raise Problem(
            400,
            "invalid-parameter",
            f"format: must be one of {', '.join(DIAGRAM_FORMATS)}",
            title="Invalid parameter",
            parameter="format",
        )
    draw = {"mermaid": to_mermaid, "dot": to_dot, "svg": to_svg}[chosen]
    if chosen == "svg":
        # Graphviz is a subprocess: run it off the event loop, which serves every other request.
        return Response(await run_in_threadpool(draw, methodology), media_type=DIAGRAM_FORMATS[chosen])
    text = draw(methodology)
    return PlainTextResponse(text, media_type=DIAGRAM_FORMATS[chosen])


async def schemas(request: Request) -> Response:
    methodology = _requested(request)
    return JSONResponse(
        {
            "methodology": {"id": methodology.id, "version": methodology.version},
            "actions": {
                action.name: {
                    "title": action.title,
                    "description": action.description,
                    "sources": list(action.sources),
                    "target": action.target,
                    "evidence_schema": action.evidence_schema(),
                }
                for action in methodology.actions
            },
        }
    )


ROUTES = [
    Route("/methodologies", list_methodologies, methods=["GET"]),
    Route("/methodologies/{methodology_id}", show_methodology, methods=["GET"]),
    Route("/methodologies/{methodology_id}/diagram", diagram, methods=["GET"]),
    Route("/methodologies/{methodology_id}/schemas", schemas, methods=["GET"]),
]
