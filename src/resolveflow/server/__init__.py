"""A JSON HTTP API over the store, with an OpenAPI 3.1 document generated from the methodologies.

:func:`create_app` returns a Starlette application (ASGI) that an application
mounts or that ``resolveflow serve`` runs with uvicorn: methodologies (list,
definition, diagram, evidence schemas), cases (open, the view, check, fire
with ``If-Match`` and ``Idempotency-Key``, history, snapshot, overdue) and
the queries over them. Every error is an RFC 9457 problem; every request but
``GET /openapi.json`` carries a bearer token naming the actor (and the
tenant). :func:`openapi_document` is the document, with each action's
evidence schema in it. See docs/http-api.md.

Needs the ``server`` extra (``pip install 'resolveflow[server]'``).

Example:
    >>> import resolveflow
    >>> from resolveflow.server import openapi_document
    >>> doc = openapi_document([resolveflow.get_methodology("engage")])
    >>> doc["openapi"], sorted(doc["components"]["securitySchemes"])
    ('3.1.0', ['bearer'])
"""

from __future__ import annotations

try:
    import starlette as _starlette  # noqa: F401 - fail early with the extra's name
except ImportError as _error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "resolveflow.server needs Starlette; install it with: pip install 'resolveflow[server]'"
    ) from _error

from resolveflow._public import publish as _publish
from resolveflow.server._app import create_app
from resolveflow.server._auth import Grant, load_tokens
from resolveflow.server._body import MAX_BODY, MAX_DEPTH
from resolveflow.server._openapi import openapi_document

__all__ = ["MAX_BODY", "MAX_DEPTH", "Grant", "create_app", "load_tokens", "openapi_document"]

_publish(__name__, globals(), __all__)
