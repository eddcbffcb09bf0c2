"""The resolveflow help desk: a small web application for agents, on the store's public API.

Installed with the ``desk`` extra (``pip install 'resolveflow[desk]'``) and
started with ``resolveflow desk`` or ``python -m resolveflow.desk``; see
docs/desk.md. It is built on Starlette with Jinja2 templates and drives every
case through ``resolveflow`` and ``resolveflow.store`` only (a test fails if
it imports a private resolveflow module): the registry for the methodologies,
``case.view()`` for what to show, forms generated from each action's
``evidence_schema``, and the async store for every read and write.

:func:`create_app` gives the ASGI application, to serve with any ASGI server
or to mount in your own; :func:`serve` runs it with uvicorn, as the command does.

Example:
    >>> import tempfile, pathlib
    >>> from resolveflow.desk import create_app
    >>> app = create_app(pathlib.Path(tempfile.mkdtemp()) / "desk.db", demo=False)
    >>> {"/", "/cases/{case_id}", "/promises", "/reports"} <= {route.path for route in app.routes}
    True
"""

from __future__ import annotations

from ._app import create_app
from ._main import main, serve

__all__ = ["create_app", "main", "serve"]

# Shown (in help(), reprs and the API reference) under the module a user imports.
for _function in (create_app, main, serve):
    _function.__module__ = __name__
del _function
