"""Diagrams of a methodology, drawn from the model: Mermaid, Graphviz DOT and SVG.

Each drawing is computed from the methodology itself, one edge per action and
source step, so it cannot drift from what a case can do. Given a case, it also
shows where the case is and the edges it took. Mermaid and DOT are plain text
and need nothing installed; SVG needs Graphviz (the ``diagrams`` extra and the
``dot`` program) and raises :class:`~resolveflow.exceptions.DiagramUnavailable`
without it.

Example:
    >>> import resolveflow
    >>> from resolveflow import diagrams
    >>> case = resolveflow.open_case("engage", case_id="D-1")
    >>> print(diagrams.to_mermaid("engage", case=case).splitlines()[0])
    stateDiagram-v2
    >>> diagrams.to_dot("engage").startswith("digraph")
    True
"""

from __future__ import annotations

from resolveflow._diagram import to_dot, to_mermaid, to_svg
from resolveflow._public import publish as _publish

__all__ = ["to_dot", "to_mermaid", "to_svg"]

_publish(__name__, globals(), __all__)
