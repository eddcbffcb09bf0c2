"""An example help desk on resolveflow: Starlette, Jinja2 templates and the SQLite store.

Run it from the repository root with ``./scripts/desk`` (or
``python -m examples.desk``). It uses only resolveflow's public API: the
registry for the methodologies, ``case.view()`` / ``case.actions()`` for what
to show, the forms generated from each action's ``evidence_schema``, and
``resolveflow.store`` for every read and write. See docs/desk.md.
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
