"""Translatable messages: gettext catalogs for steps, guidance, actions and refusals.

English is the source language. A :class:`Catalog` maps English messages to
a translation with gettext's own rules: it reads compiled ``.mo`` files with
the standard library (:class:`gettext.GNUTranslations`), ``.po`` source files
with Babel (the ``i18n`` extra), or takes a dict. Fuzzy entries are not used,
a message with a ``msgctxt`` is found only through that context
(:meth:`Catalog.pgettext`), and plurals follow the catalog's ``Plural-Forms``
header. :func:`message_template` writes the ``.pot`` template of every message
a methodology shows, ready for translation tools.

Refusals given by resolveflow itself carry details in their text (step
names, item ids); a catalog may translate them by code with the msgid
``refusal:<code>`` (e.g. ``refusal:not_from_this_step``).

Catalog files are read as untrusted input: a malformed, truncated or
oversized file raises :class:`~resolveflow.InvalidInput`, and the work done
stays proportional to the file's size.
"""

from __future__ import annotations

import gettext
import io
import os
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from resolveflow._methodology import Methodology
from resolveflow._schema import record_codec
from resolveflow.exceptions import InvalidInput

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog as BabelCatalog
    from babel.messages.catalog import Message

Translate = Callable[[str], str]

_INSTALL_HINT = "pip install 'resolveflow[i18n]'"

# gettext's languages use at most 6 plural forms; Babel allocates nplurals strings per plural entry.
_MAX_PLURALS = 16
# gettext re-joins header continuation lines one by one, and Babel reads a .po header with the email
# parser, which splits parameters in quadratic time: keep headers small (real ones are under 2 KiB).
_MAX_HEADER_BYTES = 64 * 1024
_MAX_HEADER_LINES = 512
# msgfmt checks a plural expression by evaluating it for n = 0 .. 1000.
_PLURAL_PROBE = range(1001)
# Strings of a .mo may share bytes, but not so much that reading them costs more than a few file sizes.
_MO_BYTES_PER_FILE_BYTE = 4
_MO_MAGIC = {0x950412DE: "<", 0xDE120495: ">"}


class Catalog:
    """A message catalog: English message -> translation; unknown messages stay English.

    A catalog is the ``translate=`` of :meth:`Case.view <resolveflow.Case.view>`:
    calling it is :meth:`gettext`. An empty translation counts as none.

    Example:
        >>> catalog = Catalog({"Listen": "Écouter"}, locale="fr")
        >>> catalog.gettext("Listen"), catalog("Assess")
        ('Écouter', 'Assess')
    """

    def __init__(self, messages: Mapping[str, str] | None = None, *, locale: str = "en") -> None:
        table = {k: v for k, v in (messages or {}).items() if k and v}
        self.locale = locale
        self._translations: gettext.NullTranslations = _Table(table)
        self._size = len(table)

    def gettext(self, message: str) -> str:
        """The translation of ``message`` (without a context), or ``message`` itself."""
        if not message:  # gettext would answer the catalog's header
            return message
        return self._translations.gettext(message) or message

    __call__ = gettext

    def pgettext(self, context: str, message: str) -> str:
        """The translation of ``message`` in ``context`` (its ``msgctxt``), or ``message`` itself."""
        return self._translations.pgettext(context, message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The plural form for ``n`` (by the catalog's ``Plural-Forms``), or English's."""
        english = singular if n == 1 else plural
        try:
            return self._translations.ngettext(singular, plural, n) or english
        except ArithmeticError:  # a plural expression that divides by zero for this n
            return english

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        """:meth:`ngettext` in a context."""
        english = singular if n == 1 else plural
        try:
            return self._translations.npgettext(context, singular, plural, n) or english
        except ArithmeticError:
            return english

    def __len__(self) -> int:
        """The number of translated messages (each context counts)."""
        return self._size

    def __repr__(self) -> str:
        return f"Catalog(locale={self.locale!r}, messages={self._size})"

    @classmethod
    def from_mo(cls, path: str | os.PathLike[str], *, locale: str | None = None) -> Catalog:
        """Read a compiled ``.mo`` catalog (what ``msgfmt`` writes) with :mod:`gettext`.

        ``locale`` defaults to the catalog's ``Language`` header, else the file's stem.

        Raises:
            InvalidInput: the file cannot be read or is not a well-formed .mo catalog.
        """
        source = Path(path)
        return cls._from_mo(_read(source), str(source), locale=locale, stem=source.stem)

    @classmethod
    def from_po(cls, path: str | os.PathLike[str], *, locale: str | None = None) -> Catalog:
        """Read a ``.po`` (or ``.pot``) source catalog with Babel, as ``msgfmt`` would compile it.

        Needs the ``i18n`` extra (Babel). ``locale`` defaults to the catalog's
        ``Language`` header, else the file's stem.

        Raises:
            InvalidInput: Babel is not installed, or the file cannot be read or is
                not a well-formed .po catalog (the message names the line).
        """
        source = Path(path)
        compiled, language = _compile_po(_read(source), str(source))
        return cls._from_mo(compiled, str(source), locale=locale or language, stem=source.stem)

    @classmethod
    def _from_mo(cls, data: bytes, origin: str, *, locale: str | None, stem: str) -> Catalog:
        size = _check_mo(data, origin)
        try:
            translations = gettext.GNUTranslations(io.BytesIO(data))
            plural: Callable[[int], int] = translations.plural  # type: ignore[attr-defined]
            for n in _PLURAL_PROBE:
                plural(n)
        except (OSError, struct.error, ValueError, LookupError, TypeError, ArithmeticError) as error:
            # ValueError covers UnicodeDecodeError and bad Plural-Forms; LookupError an unknown charset.
            raise InvalidInput(f"{origin}: not a readable catalog: {error}", argument="path") from error
        catalog = cls(locale=locale or translations.info().get("language") or stem)
        catalog._translations = translations
        catalog._size = size
        return catalog


class _Table(gettext.NullTranslations):
    """The translations of a dict: messages without context or plural."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self._messages = messages

    def gettext(self, message: str) -> str:
        return self._messages.get(message, message)


def _read(source: Path) -> bytes:
    try:
        return source.read_bytes()
    except OSError as error:
        raise InvalidInput(f"cannot read {source}: {error}", argument="path") from error


def _check_mo(data: bytes, origin: str) -> int:
    """Check the layout of a .mo file before gettext reads it; the number of translated messages.

    gettext trusts the file: an entry count or offsets that point anywhere make it
    fail with raw errors, or copy the same bytes over and over.
    """

    def bad(problem: str) -> InvalidInput:
        return InvalidInput(f"{origin}: not a .mo catalog: {problem}", argument="path")

    size = len(data)
    if size < 28:
        raise bad("too short for a .mo header")
    order = _MO_MAGIC.get(struct.unpack_from("<I", data)[0])
    if order is None:
        raise bad("no .mo magic number")
    version, count, ids_at, strings_at = struct.unpack_from(f"{order}4I", data, 4)
    if version >> 16 not in (0, 1):
        raise bad(f"unknown format version {version >> 16}")
    if ids_at + 8 * count > size or strings_at + 8 * count > size:
        raise bad(f"it announces {count} messages but is only {size} bytes long (truncated?)")
    budget = _MO_BYTES_PER_FILE_BYTE * size
    headers = translated = 0
    for i in range(count):
        id_length, id_at = struct.unpack_from(f"{order}2I", data, ids_at + 8 * i)
        length, at = struct.unpack_from(f"{order}2I", data, strings_at + 8 * i)
        if id_at + id_length >= size or at + length >= size:
            raise bad(f"message {i} lies outside the file (truncated?)")
        budget -= id_length + length
        if budget < 0:
            raise bad("its messages reuse the same bytes beyond reason")
        if id_length == 0:
            headers += 1
            if headers > 1:
                raise bad("more than one header entry")
            if length > _MAX_HEADER_BYTES or data.count(b"\n", at, at + length) > _MAX_HEADER_LINES:
                raise bad(f"header entry over {_MAX_HEADER_BYTES} bytes or {_MAX_HEADER_LINES} lines")
        elif data[at : at + length].strip(b"\0"):
            translated += 1
    return translated


# --- .po source catalogs (Babel) ----------------------------------------------------

# Babel reads a string as whatever lies between the first and the last quote, and knows
# fewer escapes than msgfmt in older versions: refuse what it would misread.
_PO_STRING = r'"(?:[^"\\]|\\[\\"nrt])*"'
_PO_STRING_LINE = re.compile(_PO_STRING)
_PO_KEYWORD_LINE = re.compile(rf"(msgctxt|msgid|msgid_plural|msgstr)(?:\[(\d{{1,2}})\])? +{_PO_STRING}")
_NOT_PO = "not a .po line (an unknown keyword, an unterminated string or an unknown escape)"
# Which keyword may follow which, as msgfmt reads an entry (None: between entries).
_PO_FOLLOWS: dict[str | None, frozenset[str]] = {
    None: frozenset({"msgctxt", "msgid"}),
    "msgctxt": frozenset({"msgid"}),
    "msgid": frozenset({"msgid_plural", "msgstr"}),
    "msgid_plural": frozenset({"msgstr[]"}),
    "msgstr": frozenset({"msgctxt", "msgid"}),
    "msgstr[]": frozenset({"msgstr[]", "msgctxt", "msgid"}),
}


class _Malformed(Exception):
    """A .po problem found around Babel (not a ValueError, which Babel catches and rewords)."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def _compile_po(data: bytes, origin: str) -> tuple[bytes, str | None]:
    """A .po file compiled to .mo bytes as msgfmt does it, and its Language header as written.

    Fuzzy, untranslated and obsolete entries are left out; contexts and plural forms kept.
    """
    try:
        import babel.messages.catalog  # noqa: F401
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import PoFileError, PoFileParser
    except ImportError as error:
        raise InvalidInput(
            f"reading {origin} needs Babel: {_INSTALL_HINT} "
            "(or compile it with msgfmt and use Catalog.from_mo)",
            argument="path",
        ) from error
    catalog = _strict_babel_catalog()
    compiled = io.BytesIO()
    try:
        # read_po() with abort_invalid, on a catalog that bounds nplurals and refuses duplicates.
        PoFileParser(catalog, ignore_obsolete=True, abort_invalid=True).parse(_po_lines(data, catalog))
        catalog.charset = "utf-8"
        write_mo(compiled, catalog, use_fuzzy=False)
    except _Malformed as error:
        where = origin if error.line is None else f"{origin}:{error.line + 1}"
        raise InvalidInput(f"{where}: {error.problem}", argument="path") from error
    except PoFileError as error:
        problem = str(error).rsplit(" on ", 1)[0]
        raise InvalidInput(f"{origin}:{error.lineno + 1}: {problem}", argument="path") from error
    except (ValueError, LookupError, TypeError) as error:
        raise InvalidInput(f"{origin}: not a readable .po catalog: {error}", argument="path") from error
    return compiled.getvalue(), catalog.language  # type: ignore[attr-defined]


def _strict_babel_catalog() -> BabelCatalog:
    from babel.messages.catalog import Catalog as BabelCatalog

    class StrictCatalog(BabelCatalog):
        """Babel's catalog, with gettext's plural default and msgfmt's refusals."""

        def __init__(self) -> None:
            self.plural_forms_given = False
            self.language: str | None = None
            self.seen: set[tuple[str, str | None]] = set()
            super().__init__()

        def __setitem__(self, id: Any, message: Message) -> None:
            msgid = message.id[0] if isinstance(message.id, list | tuple) else message.id
            key = (msgid, message.context)
            line = None if message.lineno is None else message.lineno - 1
            if key in self.seen:
                where = "" if message.context is None else f" in context {message.context!r}"
                raise _Malformed(line, f"duplicate message {msgid!r}{where}")
            if not msgid and message.context is not None:
                raise _Malformed(line, "an empty msgid with a context")
            self.seen.add(key)
            if not msgid:
                header = str(message.string)
                if len(header) > _MAX_HEADER_BYTES or header.count("\n") > _MAX_HEADER_LINES:
                    problem = f"header entry over {_MAX_HEADER_BYTES} characters or {_MAX_HEADER_LINES} lines"
                    raise _Malformed(line, problem)
                message.string = self._read_header(header)
            super().__setitem__(id, message)

        def _read_header(self, header: str) -> str:
            """The header without its Language, which is kept as written (Babel would parse it
            as a CLDR locale, refuse some values gettext takes and infer plural rules from it)."""
            kept, name = [], ""
            for field in header.split("\n"):
                if not field[:1].isspace():
                    name, _, value = field.partition(":")
                    name = name.strip().lower()
                    if name == "language":
                        self.language = value.strip() or None
                    self.plural_forms_given |= name == "plural-forms"
                if name != "language":
                    kept.append(field)
            return "\n".join(kept)

        @property
        def num_plurals(self) -> int:
            if not self.plural_forms_given:
                return 2  # gettext's default (plural=n != 1), whatever the Language
            count = super().num_plurals
            if not 1 <= count <= _MAX_PLURALS:
                raise _Malformed(None, f"Plural-Forms: nplurals={count} (1 to {_MAX_PLURALS} expected)")
            return count

        @property
        def plural_expr(self) -> str:
            return super().plural_expr if self.plural_forms_given else "(n != 1)"

    return StrictCatalog()


def _po_lines(data: bytes, catalog: BabelCatalog) -> Iterator[str]:
    """The lines of a .po file for Babel, decoded in the catalog's charset as Babel would.

    Refuses what msgfmt refuses and Babel would misread: an unterminated string or
    an unknown escape, keywords out of order (a msgstr without msgid, plural forms
    out of sequence), a file that ends inside an entry.
    """
    last: str | None = None
    next_form = 0
    for number, raw in enumerate(data.split(b"\n")):
        try:
            line = raw.decode(catalog.charset)
        except (UnicodeDecodeError, LookupError) as error:
            raise _Malformed(number, f"cannot decode the line as {catalog.charset}: {error}") from error
        text = line.strip()
        if not text:
            pass
        elif text[0] == "#":
            if last not in (None, "msgstr", "msgstr[]"):
                raise _Malformed(number, f"a comment inside an entry, after {last}")
            last = None
        elif text[0] == '"':
            if last is None:
                raise _Malformed(number, "a string outside an entry")
            if not _PO_STRING_LINE.fullmatch(text):
                raise _Malformed(number, f"{_NOT_PO}: {_excerpt(text)}")
        else:
            match = _PO_KEYWORD_LINE.fullmatch(text)
            if match is None:
                raise _Malformed(number, f"{_NOT_PO}: {_excerpt(text)}")
            keyword, form = match.group(1), match.group(2)
            if form is not None:
                keyword += "[]"
            if keyword not in _PO_FOLLOWS[last] or (form is not None and int(form) != next_form):
                shown = keyword if form is None else f"msgstr[{form}]"
                raise _Malformed(number, f"{shown} cannot come after {last or 'the end of an entry'}")
            next_form = 0 if form is None else int(form) + 1
            last = keyword
        yield line
    if last not in (None, "msgstr", "msgstr[]"):
        raise _Malformed(None, f"the file ends inside an entry, after {last} (truncated?)")


def _excerpt(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:60]) + "..."


# --- messages of a methodology -------------------------------------------------------


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


_PO_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _po_quote(text: str) -> str:
    # The escapes every .po reader knows (msgfmt, Babel); other characters stay as they are.
    return '"' + text.translate(_PO_ESCAPES) + '"'


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
