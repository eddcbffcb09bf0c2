"""A Griffe extension for the API reference (mkdocs.yml loads it): read resolveflow's docstrings as written.

resolveflow's docstrings follow the Google style, with habits Griffe's parser
does not share:

- ``Example:`` (singular) opens the doctest section. Griffe only knows
  ``Examples:`` and would render the doctests as Markdown (``>>>`` as nested
  quotes, ``['a', 'b']`` as broken link references); it is renamed here.
- reST's ``text::`` before an indented block is shown as ``text:`` (the
  indented block is a code block in Markdown too).
- Sphinx roles (``:class:`~resolveflow.Case```, ``:meth:`fire```) name other
  objects. They become optional cross-references: a link when the target is in
  the reference, inline code otherwise, never a build failure.

The source files are not changed; only the docstrings Griffe hands to
mkdocstrings are.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.MULTILINE)
_ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|exc|obj):`(?P<body>[^`]+)`")
_LITERAL = re.compile(r"^(?P<line>[ \t]*\S.*?)::[ \t]*$", re.MULTILINE)
_TITLED = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^>]+)>$")


def _scopes(obj: griffe.Object) -> list[griffe.Object]:
    """Where a relative name is looked up: the object if a class, then its parents outwards."""
    scopes: list[griffe.Object] = []
    current: griffe.Object | None = obj if obj.is_class or obj.is_module else obj.parent
    while current is not None:
        scopes.append(current)
        current = current.parent
    return scopes


def _identifier(obj: griffe.Object, name: str) -> str:
    """The full path a role's target most likely means, for autorefs to look up."""
    if name.startswith("resolveflow"):
        return name
    first, _, rest = name.partition(".")
    for scope in _scopes(obj):
        member: Any = scope.members.get(first)
        if member is None:
            continue
        base = member.target_path if member.is_alias else member.path
        return f"{base}.{rest}" if rest else base
    return f"resolveflow.{name}"


def _replace_roles(obj: griffe.Object, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        body = match["body"].strip()
        titled = _TITLED.match(body)
        if titled:
            title, target = titled["title"], titled["target"].strip()
        else:
            target = body.lstrip("~")
            title = target.rsplit(".", 1)[-1] if body.startswith("~") else target
        identifier = _identifier(obj, target.lstrip("~"))
        return f'<autoref identifier="{identifier}" optional><code>{title}</code></autoref>'

    return _ROLE.sub(replace, text)


class ResolveflowDocstrings(griffe.Extension):
    """Rename ``Example:`` sections and turn Sphinx roles into optional cross-references."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:  # noqa: ARG002 - Griffe's hook signature
        _rewrite(obj)

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:  # noqa: ARG002 - Griffe's hook signature
        _rewrite(pkg)  # on_object is not called for the package itself


def _rewrite(obj: griffe.Object) -> None:
    docstring = obj.docstring
    if docstring is None:
        return
    text = _EXAMPLE.sub(r"\g<indent>Examples:", docstring.value)
    text = _LITERAL.sub(r"\g<line>:", text)  # reST "text::" before a literal block
    docstring.value = _replace_roles(obj, text)
