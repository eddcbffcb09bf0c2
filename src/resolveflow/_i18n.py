"""Translatable messages: gettext-style catalogs for steps, guidance, actions and refusals.

English is the source language. A :class:`Catalog` maps English messages to
a translation; it reads the ``.po`` files translators already know (``msgid``
/ ``msgstr`` pairs), or takes a dict, or wraps any ``gettext``-like callable.
:func:`message_template` writes the ``.pot`` template of every message a
methodology shows, ready for translation tools.

Refusals given by resolveflow itself carry details in their text (step
names, item ids); a catalog may translate them by code with the msgid
``refusal:<code>`` (e.g. ``refusal:not_from_this_step``).
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from resolveflow._methodology import Methodology
from resolveflow._schema import record_codec
from resolveflow.exceptions import InvalidInput

Translate = Callable[[str], str]


class Catalog:
    """A message catalog: English message -> translation; unknown messages stay English.

    Example:
        >>> catalog = Catalog({"Listen": "Écouter"}, locale="fr")
        >>> catalog.gettext("Listen"), catalog.gettext("Assess")
        ('Écouter', 'Assess')
    """

    def __init__(self, messages: Mapping[str, str] | None = None, *, locale: str = "en") -> None:
        self.locale = locale
        self._messages = {k: v for k, v in (messages or {}).items() if k and v}

    def gettext(self, message: str) -> str:
        """The translation of ``message``, or ``message`` itself."""
        return self._messages.get(message, message)

    __call__ = gettext

    def __len__(self) -> int:
        return len(self._messages)

    @classmethod
    def from_po(cls, path: str | os.PathLike[str], *, locale: str | None = None) -> Catalog:
        """Read a ``.po`` file (msgid/msgstr pairs, multi-line strings, comments).

        Raises:
            InvalidInput: the file cannot be read or is not a .po catalog
                (the message names the line).
        """
        source = Path(path)
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidInput(f"cannot read {source}: {error}", argument="path") from error
        return cls(_parse_po(text, str(source)), locale=locale or source.stem)


# msgstr[0] stands for the singular of a plural entry; resolveflow's messages have no plurals.
_LINE = re.compile(r'^(msgid|msgid_plural|msgstr|msgstr\[\d+\]|msgctxt)\s+(".*")\s*$')


def _parse_po(text: str, origin: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    current: dict[str, str] = {}
    key: str | None = None

    def flush() -> None:
        if "msgid" in current and "msgstr" in current:
            messages[current["msgid"]] = current["msgstr"]
        current.clear()

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            if not line:
                flush()
                key = None
            continue
        match = _LINE.match(line)
        if match:
            key = match.group(1)
            if key == "msgstr[0]":
                key = "msgstr"
            if key == "msgid" and "msgstr" in current:
                flush()
            current[key] = _unquote(match.group(2), origin, number)
        elif line.startswith('"') and key is not None:
            current[key] += _unquote(line, origin, number)
        else:
            raise InvalidInput(f"{origin}:{number}: not a .po line: {raw!r}", argument="path")
    flush()
    return messages


def _unquote(literal: str, origin: str, number: int) -> str:
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError) as error:
        raise InvalidInput(f"{origin}:{number}: bad string {literal}", argument="path") from error
    if not isinstance(value, str):
        raise InvalidInput(f"{origin}:{number}: bad string {literal}", argument="path")
    return value


def translate_schema(schema: Any, translate: Translate) -> Any:
    """A copy of a JSON Schema with titles and descriptions translated."""
    if isinstance(schema, dict):
        return {
            k: translate(v)
            if k in ("title", "description") and isinstance(v, str)
            else translate_schema(v, translate)
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [translate_schema(v, translate) for v in schema]
    return schema


def methodology_messages(methodology: Methodology) -> list[str]:
    """Every message a UI shows for a methodology, in a stable order, without duplicates."""
    found: list[str] = []

    def add(values: Iterable[str | None]) -> None:
        for value in values:
            if value and value not in found:
                found.append(value)

    add([methodology.title, methodology.description])
    for step in methodology.steps:
        add([step.title, *step.prompts, *step.checklist])
    for outcome in methodology.outcomes:
        add([outcome.title, *outcome.guidance])
    for action in methodology.actions:
        add([action.title, action.description])
        add(guard.message for guard in action.guards)
        if action.evidence is not None:
            _schema_texts(record_codec(action.evidence).schema(), add)
    return found


def _schema_texts(schema: Any, add: Callable[[Iterable[str | None]], None]) -> None:
    if isinstance(schema, dict):
        # A record may have a field called "title" or "description": only text is a label.
        add([v for v in (schema.get("title"), schema.get("description")) if isinstance(v, str)])
        for value in schema.values():
            _schema_texts(value, add)
    elif isinstance(schema, list):
        for value in schema:
            _schema_texts(value, add)


def _po_quote(text: str) -> str:
    # json.dumps escapes exactly what a C-style .po string needs (quotes, backslashes,
    # every control character), and keeps other characters as they are.
    return json.dumps(text, ensure_ascii=False)


def message_template(methodologies: Iterable[Methodology]) -> str:
    """The ``.pot`` template of every message the given methodologies show.

    Example:
        >>> import resolveflow
        >>> pot = message_template([resolveflow.get_methodology("prescription")])
        >>> 'msgid "Acknowledge the problem"' in pot
        True
    """
    lines = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', ""]
    seen: set[str] = set()
    for methodology in methodologies:
        for message in methodology_messages(methodology):
            if message in seen:
                continue
            seen.add(message)
            lines += [
                f"#: {methodology.id}@{methodology.version}",
                f"msgid {_po_quote(message)}",
                'msgstr ""',
                "",
            ]
    return "\n".join(lines)
