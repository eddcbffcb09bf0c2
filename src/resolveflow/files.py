"""Methodology files: YAML, TOML or JSON to a Methodology and back.

A methodology can live in a file instead of Python: steps, outcomes, actions,
the evidence records they take (built-in or declared in the file) and their
guards, every kind of which is described by :func:`methodology_schema`, the
JSON Schema editors validate against. A file that is wrong raises
:class:`~resolveflow.exceptions.InvalidMethodologyFile` naming the file, line,
column and key path; nothing is registered until the whole file has built. To
register every file of a directory, use :func:`resolveflow.load_directory`.
:func:`definition_digest` is the digest of a definition's file form, which
each case binds so that a different definition cannot stand in for it.
Loading checks a file with jsonschema, and YAML needs PyYAML: both come with
the ``files`` extra.

Example:
    >>> import resolveflow
    >>> from resolveflow import files
    >>> text = files.dump_methodology(resolveflow.get_methodology("engage"), "json")
    >>> files.methodology_from_text(text, "json") == resolveflow.get_methodology("engage")
    True
    >>> files.methodology_to_dict(resolveflow.get_methodology("engage"))["id"]
    'engage'
"""

from __future__ import annotations

from resolveflow._digest import definition_digest
from resolveflow._file_schema import methodology_schema
from resolveflow._files import (
    dump_methodology,
    load_methodology,
    methodology_from_dict,
    methodology_from_text,
    methodology_to_dict,
)
from resolveflow._public import publish as _publish

__all__ = [
    "definition_digest",
    "dump_methodology",
    "load_methodology",
    "methodology_from_dict",
    "methodology_from_text",
    "methodology_schema",
    "methodology_to_dict",
]

_publish(__name__, globals(), __all__)
