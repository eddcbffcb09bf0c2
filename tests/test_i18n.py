"""Translation catalogs: .mo through gettext, .po through Babel, hostile files refused.

The rules are gettext's: fuzzy entries are not used, a message with a msgctxt is
found only through that context, plurals follow the Plural-Forms header, and a
message without a translation comes back unchanged. The .mo files are real ones,
written by Babel (and by msgfmt where it is installed) or laid out by hand.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.mofile import write_mo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import resolveflow
from resolveflow import Catalog, InvalidInput

DOCS = Path(__file__).resolve().parents[1] / "docs"

FR_PO = r"""# French, partial
#, fuzzy
msgid ""
msgstr ""
"Language: fr\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\n"

msgctxt "button"
msgid "Close"
msgstr "Fermer"

msgctxt "case"
msgid "Close"
msgstr "Clore"

#, fuzzy
msgid "Listen"
msgstr "Écouter"

msgid "Assess"
msgstr "Évaluer"

msgid "Untranslated"
msgstr ""

msgid "%d open item"
msgid_plural "%d open items"
msgstr[0] "%d point ouvert"
msgstr[1] "%d points ouverts"

msgid "Problem acknowledged"
msgstr "Problème "
"reconnu"

#~ msgid "Old"
#~ msgstr "Ancien"
"""


def po_file(tmp_path: Path, text: str, name: str = "fr.po") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def mo_file(tmp_path: Path, catalog: BabelCatalog, name: str = "fr.mo") -> Path:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return path


def polish() -> BabelCatalog:
    """A Babel catalog with contexts, a fuzzy entry and Polish plurals (three forms)."""
    catalog = BabelCatalog(locale="pl")
    catalog.add("Close", "Zamknij", context="button")
    catalog.add("Close", "Zakończ sprawę", context="case")
    catalog.add("Listen", "Słuchaj")
    catalog.add("Assess", "Oceń", flags=["fuzzy"])
    catalog.add(("%d day", "%d days"), ("%d dzień", "%d dni", "%d dni"))
    catalog.add(("%d item", "%d items"), ("%d punkt", "%d punkty", "%d punktów"), context="plan")
    return catalog


def mo_layout(entries: list[tuple[bytes, bytes]], order: str = "<") -> bytes:
    """A .mo file laid out by hand: header, two index tables, then the strings."""
    table = 28 + 16 * len(entries)
    ids, strings, id_index, string_index = b"", b"", b"", b""
    for msgid, _ in entries:
        id_index += struct.pack(f"{order}2I", len(msgid), table + len(ids))
        ids += msgid + b"\0"
    for _, msgstr in entries:
        string_index += struct.pack(f"{order}2I", len(msgstr), table + len(ids) + len(strings))
        strings += msgstr + b"\0"
    header = struct.pack(f"{order}7I", 0x950412DE, 0, len(entries), 28, 28 + 8 * len(entries), 0, 0)
    return header + id_index + string_index + ids + strings


UTF8 = b"Content-Type: text/plain; charset=UTF-8\n"


# --- a catalog from a dict ---------------------------------------------------------


def test_a_dict_catalog_translates_plain_messages_only() -> None:
    catalog = Catalog({"Listen": "Écouter", "Assess": "", "": "x"}, locale="fr")
    assert catalog("Listen") == "Écouter" and catalog.gettext("Assess") == "Assess"
    assert len(catalog) == 1 and catalog.locale == "fr"
    assert repr(catalog) == "Catalog(locale='fr', messages=1)"
    assert catalog.pgettext("button", "Listen") == "Listen"
    assert catalog.ngettext("%d day", "%d days", 1) == "%d day"
    assert catalog.npgettext("plan", "%d day", "%d days", 3) == "%d days"
    assert catalog("") == ""


# --- compiled .mo catalogs (gettext) ------------------------------------------------


def test_mo_contexts_give_one_translation_each(tmp_path: Path) -> None:
    catalog = Catalog.from_mo(mo_file(tmp_path, polish()))
    assert catalog.pgettext("button", "Close") == "Zamknij"
    assert catalog.pgettext("case", "Close") == "Zakończ sprawę"
    # A message with a context is found only through that context.
    assert catalog.gettext("Close") == "Close"
    assert catalog.pgettext("other", "Close") == "Close"
    assert catalog.pgettext("button", "Listen") == "Listen"


def test_mo_fuzzy_entries_are_not_written_nor_used(tmp_path: Path) -> None:
    catalog = Catalog.from_mo(mo_file(tmp_path, polish()))
    assert catalog("Listen") == "Słuchaj"
    assert catalog("Assess") == "Assess"
    assert len(catalog) == 5  # two contexts of Close, Listen, and the two plural entries


def test_mo_plurals_follow_the_plural_forms_header(tmp_path: Path) -> None:
    catalog = Catalog.from_mo(mo_file(tmp_path, polish()))
    forms = {n: catalog.ngettext("%d day", "%d days", n) for n in (1, 2, 5, 22, 25)}
    assert forms == {1: "%d dzień", 2: "%d dni", 5: "%d dni", 22: "%d dni", 25: "%d dni"}
    items = {n: catalog.npgettext("plan", "%d item", "%d items", n) for n in (1, 3, 5, 22, 112)}
    assert items == {1: "%d punkt", 3: "%d punkty", 5: "%d punktów", 22: "%d punkty", 112: "%d punktów"}
    assert catalog.ngettext("%d item", "%d items", 3) == "%d items"  # no context: not found
    assert catalog.gettext("%d day") == "%d dzień"  # gettext of a plural entry: the form for 1
    assert catalog.ngettext("%d week", "%d weeks", 1) == "%d week"
    assert catalog.ngettext("%d week", "%d weeks", 5) == "%d weeks"


def test_mo_locale_comes_from_the_argument_the_language_header_or_the_file_name(tmp_path: Path) -> None:
    path = mo_file(tmp_path, polish(), name="messages.mo")
    assert Catalog.from_mo(path).locale == "pl"
    assert Catalog.from_mo(path, locale="pl_PL").locale == "pl_PL"
    bare = tmp_path / "de.mo"
    bare.write_bytes(mo_layout([(b"", UTF8), (b"Listen", "Zuhören".encode())]))
    assert Catalog.from_mo(bare).locale == "de" and Catalog.from_mo(bare)("Listen") == "Zuhören"


def test_mo_big_endian_files_read_too(tmp_path: Path) -> None:
    path = tmp_path / "fr.mo"
    path.write_bytes(mo_layout([(b"", UTF8), (b"Listen", "Écouter".encode())], order=">"))
    assert Catalog.from_mo(path)("Listen") == "Écouter"


def test_an_empty_translation_counts_as_none(tmp_path: Path) -> None:
    path = tmp_path / "fr.mo"
    path.write_bytes(mo_layout([(b"", UTF8), (b"Listen", b""), (b"%d day\0%d days", b"%d jour\0")]))
    catalog = Catalog.from_mo(path)
    assert catalog("Listen") == "Listen"
    assert catalog.ngettext("%d day", "%d days", 1) == "%d jour"
    assert catalog.ngettext("%d day", "%d days", 2) == "%d days"
    assert len(catalog) == 1


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_po_reads_as_msgfmt_compiles_it(tmp_path: Path) -> None:
    source = po_file(tmp_path, FR_PO)
    compiled = tmp_path / "compiled.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(source)], check=True, capture_output=True)
    by_babel, by_msgfmt = Catalog.from_po(source), Catalog.from_mo(compiled)
    for ask in ASKS:
        assert ask(by_babel) == ask(by_msgfmt)
    assert len(by_babel) == len(by_msgfmt) == 5


# --- .po source catalogs (Babel) ----------------------------------------------------

ASKS: list[Callable[[Catalog], str]] = [
    lambda c: c("Close"),
    lambda c: c.pgettext("button", "Close"),
    lambda c: c.pgettext("case", "Close"),
    lambda c: c.pgettext("other", "Close"),
    lambda c: c("Listen"),
    lambda c: c("Assess"),
    lambda c: c("Untranslated"),
    lambda c: c("Old"),
    lambda c: c("Problem acknowledged"),
    *(lambda c, n=n: c.ngettext("%d open item", "%d open items", n) for n in (0, 1, 2, 7)),
]


def test_po_is_read_with_gettext_rules(tmp_path: Path) -> None:
    catalog = Catalog.from_po(po_file(tmp_path, FR_PO))
    assert [ask(catalog) for ask in ASKS] == [
        "Close",  # only in contexts
        "Fermer",
        "Clore",
        "Close",
        "Listen",  # fuzzy: not used
        "Évaluer",
        "Untranslated",
        "Old",  # obsolete: not used
        "Problème reconnu",
        "%d point ouvert",  # French: 0 is singular (the header's plural=(n > 1))
        "%d point ouvert",
        "%d points ouverts",
        "%d points ouverts",
    ]
    assert catalog.locale == "fr" and len(catalog) == 5


def test_po_without_plural_forms_uses_gettext_default_whatever_the_language(tmp_path: Path) -> None:
    # Babel alone would take Arabic's six CLDR forms from the Language header; gettext uses n != 1.
    text = (
        'msgid ""\nmsgstr ""\n"Language: ar\\n"\n\n'
        'msgid "%d day"\nmsgid_plural "%d days"\nmsgstr[0] "one"\nmsgstr[1] "many"\n'
    )
    catalog = Catalog.from_po(po_file(tmp_path, text, "ar.po"))
    forms = [catalog.ngettext("%d day", "%d days", n) for n in (0, 1, 2, 11)]
    assert forms == ["many", "one", "many", "many"]


def test_po_locale_defaults_to_the_file_name_without_a_language_header(tmp_path: Path) -> None:
    path = po_file(tmp_path, 'msgid "Listen"\nmsgstr "Escuchar"\n', "es.po")
    assert Catalog.from_po(path).locale == "es"
    assert Catalog.from_po(path, locale="es_MX").locale == "es_MX"
    # The Language header is taken as written, as gettext does, whatever it says.
    for language in ("pt-BR", "sr@latin", "Brazilian Portuguese"):
        header = f'msgid ""\nmsgstr "Language: {language}\\n"\n\nmsgid "Listen"\nmsgstr "Ouvir"\n'
        catalog = Catalog.from_po(po_file(tmp_path, header, "messages.po"))
        assert catalog.locale == language and catalog("Listen") == "Ouvir"


def test_po_plural_forms_and_control_characters(tmp_path: Path) -> None:
    po = po_file(
        tmp_path,
        'msgid "Listen"\nmsgstr "Écouter"\n\n'
        'msgid "%d item"\nmsgid_plural "%d items"\nmsgstr[0] "%d élément"\nmsgstr[1] "%d éléments"\n',
    )
    catalog = Catalog.from_po(po)
    assert catalog.gettext("Listen") == "Écouter"
    assert catalog.gettext("%d item") == "%d élément"
    m = resolveflow.get_methodology("engage")
    odd = attrs.evolve(m, id="odd-title", title="Line one\rline\ttwo")
    pot = tmp_path / "odd.pot"
    pot.write_text(resolveflow.message_template([odd]), encoding="utf-8")
    assert len(Catalog.from_po(pot)) == 0  # the template it writes, it reads back: nothing translated


BABEL_MODULES = (
    "babel",
    "babel.messages",
    "babel.messages.catalog",
    "babel.messages.mofile",
    "babel.messages.pofile",
)


def test_po_without_babel_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = mo_file(tmp_path, polish())
    for name in BABEL_MODULES:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(InvalidInput, match=re.escape("resolveflow[i18n]")) as raised:
        Catalog.from_po(po_file(tmp_path, FR_PO))
    assert raised.value.argument == "path" and "Catalog.from_mo" in str(raised.value)
    assert Catalog.from_mo(compiled).pgettext("button", "Close") == "Zamknij"  # .mo needs only gettext


# --- the template -----------------------------------------------------------------


def test_message_template_lists_every_shown_message() -> None:
    m = resolveflow.get_methodology("seven-as")
    pot = resolveflow.message_template([m])
    for step in m.steps:
        assert f"msgid {json.dumps(step.title, ensure_ascii=False)}" in pot
        for prompt in step.prompts:
            assert json.dumps(prompt, ensure_ascii=False) in pot
    for action in m.actions:
        assert json.dumps(action.title, ensure_ascii=False) in pot
        for guard in action.guards:
            assert json.dumps(guard.message, ensure_ascii=False) in pot


def test_message_template_reads_back_as_an_empty_catalog(tmp_path: Path) -> None:
    pot = tmp_path / "resolveflow.pot"
    every = [resolveflow.get_methodology(i) for i in resolveflow.available()]
    pot.write_text(resolveflow.message_template(every), encoding="utf-8")
    assert len(Catalog.from_po(pot)) == 0


MESSAGE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\x04"), min_size=1, max_size=30
).filter(str.strip)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(MESSAGE, min_size=1, max_size=5, unique=True))
def test_a_translated_template_gives_back_each_message(tmp_path: Path, messages: list[str]) -> None:
    m = resolveflow.get_methodology("engage")
    step = attrs.evolve(m.steps[0], title=messages[0], prompts=tuple(messages[1:]))
    odd = attrs.evolve(m, id="odd", steps=(step, *m.steps[1:]))
    # A translator fills in every msgstr: the catalog must answer each message exactly.
    filled = re.sub(r'(msgid "(.+)")\nmsgstr ""', r'\1\nmsgstr "«\2»"', resolveflow.message_template([odd]))
    path = tmp_path / "round.po"
    path.write_text(filled, encoding="utf-8")
    catalog = Catalog.from_po(path)
    for message in messages:
        assert catalog(message) == f"«{message}»"


# --- a missing message comes back unchanged ----------------------------------------

KNOWN = {"Close", "Listen", "Assess", "%d day", "%d item", "%d days", "%d items"}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    message=st.text(st.characters(blacklist_characters="\x04"), max_size=20).filter(lambda m: m not in KNOWN),
    context=st.text(max_size=10),
    n=st.integers(0, 10**6),
)
def test_a_message_without_translation_comes_back_unchanged(
    tmp_path: Path, message: str, context: str, n: int
) -> None:
    path = tmp_path / "pl.mo"
    if not path.exists():
        mo_file(tmp_path, polish(), name="pl.mo")
    catalogs = [Catalog.from_mo(path), Catalog({"Listen": "Słuchaj"})]
    for catalog in catalogs:
        assert catalog(message) == message
        assert catalog.pgettext(context, message) == message
        assert catalog.ngettext(message, message + "s", n) == (message if n == 1 else message + "s")
        assert catalog.npgettext(context, message, message + "s", n) == (message if n == 1 else message + "s")


# --- malformed and hostile files ------------------------------------------------------


def test_bad_po_files_are_named(tmp_path: Path) -> None:
    bad = po_file(tmp_path, 'msgid "x"\nmsgstr "y"\nnonsense here\n', "bad.po")
    with pytest.raises(InvalidInput, match=r"bad.po:3"):
        Catalog.from_po(bad)
    with pytest.raises(InvalidInput, match="cannot read"):
        Catalog.from_po(tmp_path / "missing.po")
    with pytest.raises(InvalidInput, match="cannot read"):
        Catalog.from_mo(tmp_path / "missing.mo")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('msgid "x"\nmsgstr "unterminated\n', r":2: not a \.po line"),
        ('msgid "x"\nmsgstr "two" "strings"\n', r":2: not a \.po line"),
        ('msgid "x"\nmsgstr "octal \\101"\n', r":2: not a \.po line"),
        ('msgstr "y"\nmsgid "x"\nmsgstr "z"\n', r":1: msgstr cannot come after the end of an entry"),
        ('msgid "x"\nmsgid_plural "xs"\nmsgstr[1] "a"\n', r":3: msgstr\[1\] cannot come after msgid_plural"),
        ('msgid "x"\nmsgstr[0] "a"\n', r":2: msgstr\[0\] cannot come after msgid"),
        ('msgid "x"\n# comment\nmsgstr "a"\n', r":2: a comment inside an entry"),
        ('"y"\n', r":1: a string outside an entry"),
        ('msgid "x"\nmsgstr "a"\n\nmsgid "x"\nmsgstr "b"\n', r":4: duplicate message 'x'"),
        ('msgctxt "c"\nmsgid "x"\nmsgstr "a"\nmsgctxt "c"\nmsgid "x"\nmsgstr "b"\n', "in context 'c'"),
        ('msgid "x"\nmsgstr "a"\n\nmsgid "y"\n', "ends inside an entry, after msgid"),
        ('msgid ""\nmsgstr "Content-Type: text/plain; charset=nope\\n"\n\nmsgid "é"\nmsgstr "a"\n', "nope"),
        (
            'msgid ""\nmsgstr "Plural-Forms: nplurals=1000000000; plural=0;\\n"\n\n'
            'msgid "d"\nmsgid_plural "ds"\nmsgstr[0] "j"\n',
            "nplurals=1000000000",
        ),
        (
            'msgid ""\nmsgstr "Plural-Forms: nplurals=2; plural=n/0;\\n"\n\n'
            'msgid "d"\nmsgid_plural "ds"\nmsgstr[0] "j"\nmsgstr[1] "js"\n',
            "not a readable catalog",
        ),
        ('msgid ""\nmsgstr "Plural-Forms: nplurals=2; plural=import os;\\n"\n', "not a readable"),
        ('msgid ""\nmsgstr "Plural-Forms: nplurals=many; plural=0;\\n"\n\nmsgid "a"\nmsgstr "b"\n', "many"),
        ('msgid "d"\nmsgid_plural "ds"\nmsgstr[0] "a"\nmsgstr[1] "b"\nmsgstr[2] "c"\n', "num_plurals"),
        ('#-#-#-#-#  fr.po  #-#-#-#-#\nmsgid "a"\nmsgstr "b"\n', ":1: cannot parse po file with conflicts"),
        # The email parser Babel reads a header with is quadratic in its parameters.
        ('msgid ""\nmsgstr "Content-Type: text/plain; ' + "a=b;" * 20000 + '\\n"\n', ":1: header entry over"),
        ('msgid ""\nmsgstr ""\n' + '"X: y\\n"\n' * 600, ":1: header entry over"),
    ],
)
def test_malformed_po_files_are_refused(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as raised:
        Catalog.from_po(po_file(tmp_path, text))
    assert raised.value.argument == "path"


def test_po_bytes_that_do_not_decode_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "fr.po"
    path.write_bytes(b'msgid "x"\nmsgstr "\xe9"\n')
    with pytest.raises(InvalidInput, match=r"fr.po:2: cannot decode"):
        Catalog.from_po(path)
    path.write_bytes(
        b'msgid ""\nmsgstr "Content-Type: text/plain; charset=ISO-8859-1\\n"\n\nmsgid "x"\nmsgstr "\xe9"\n'
    )
    assert Catalog.from_po(path)("x") == "é"


def written(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "bad.mo"
    path.write_bytes(data)
    return path


GOOD_MO = mo_layout([(b"", UTF8), (b"Listen", "Écouter".encode())])


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "too short"),
        (b"\0" * 40, "no .mo magic number"),
        (GOOD_MO[:4] + struct.pack("<I", 7 << 16) + GOOD_MO[8:], "unknown format version 7"),
        (GOOD_MO[:8] + struct.pack("<I", 2**32 - 1) + GOOD_MO[12:], "announces 4294967295 messages"),
        (GOOD_MO[:-1], "lies outside the file"),
        (mo_layout([(b"", UTF8), (b"", UTF8)]), "more than one header"),
        (mo_layout([(b"", b"Content-Type: text/plain; charset=nope\n")]), "nope"),
        (mo_layout([(b"", b"Content-Type: text/plain\n")]), "not a readable"),
        (mo_layout([(b"", UTF8), (b"x", b"\xff")]), "not a readable"),
        (mo_layout([(b"", UTF8 + b"Plural-Forms: nplurals=2; plural=n/(n-7);\n")]), "by zero"),
        (mo_layout([(b"", UTF8 + b"Plural-Forms: nplurals=2\n")]), "not a readable"),
        (mo_layout([(b"", b"X: y\n" + b" continued\n" * 1000)]), "header entry over"),
        (mo_layout([(b"", UTF8), (b"a\0b\0c", b"x")]), "not a readable"),
    ],
)
def test_malformed_mo_files_are_refused(tmp_path: Path, data: bytes, problem: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(problem)) as raised:
        Catalog.from_mo(written(tmp_path, data))
    assert raised.value.argument == "path"


def test_mo_entries_reusing_one_big_string_are_refused(tmp_path: Path) -> None:
    # gettext would copy the same 64 KiB once per entry: a 90 KiB file costing 64 MiB.
    data = bytearray(mo_layout([(b"", UTF8)] + [(b"k%04d" % i, b"v") for i in range(1000)]))
    big_at = len(data)
    data += b"x" * 65536 + b"\0"
    strings_at = struct.unpack_from("<I", data, 16)[0]
    for i in range(1, 1001):
        struct.pack_into("<2I", data, strings_at + 8 * i, 65536, big_at)
    with pytest.raises(InvalidInput, match="reuse the same bytes"):
        Catalog.from_mo(written(tmp_path, bytes(data)))


def test_every_truncation_of_a_mo_file_is_refused(tmp_path: Path) -> None:
    data = mo_file(tmp_path, polish()).read_bytes()
    for cut in range(len(data)):
        with pytest.raises(InvalidInput):
            Catalog.from_mo(written(tmp_path, data[:cut]))


def test_a_truncated_po_file_is_refused_or_gives_no_wrong_translation(tmp_path: Path) -> None:
    data = FR_PO.encode()
    whole = [ask(Catalog.from_po(written(tmp_path, data))) for ask in ASKS]
    english = [ask(Catalog()) for ask in ASKS]
    refused = 0
    for cut in range(len(data)):
        try:
            catalog = Catalog.from_po(written(tmp_path, data[:cut]))
        except InvalidInput:
            refused += 1
            continue
        for ask, full, source in zip(ASKS, whole, english, strict=True):
            # A cut between the lines of a multi-line string leaves a shorter, valid string.
            if full != "Problème reconnu":
                assert ask(catalog) in (full, source)
    assert refused > len(data) // 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_files_raise_only_resolveflow_errors(tmp_path: Path, data: st.DataObject) -> None:
    po = FR_PO.encode()
    mo = io.BytesIO()
    write_mo(mo, polish())
    for original, read in ((po, Catalog.from_po), (mo.getvalue(), Catalog.from_mo)):
        corrupt = bytearray(original)
        for _ in range(data.draw(st.integers(1, 4))):
            at = data.draw(st.integers(0, len(corrupt) - 1))
            corrupt[at] = data.draw(st.integers(0, 255))
        path = tmp_path / "corrupt"
        path.write_bytes(bytes(corrupt))
        with contextlib.suppress(InvalidInput):
            read(path)


# --- the documentation page -----------------------------------------------------------


def test_translations_page_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (DOCS / "translations.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "docs/translations.md has no python example"
    monkeypatch.chdir(tmp_path)
    for name, body in re.findall(r'```po title="([^"]+)"\n(.*?)```', text, flags=re.S):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body, encoding="utf-8")
    namespace: dict[str, object] = {"__name__": "translations"}
    for block in blocks:
        exec(compile(block, "translations.md", "exec"), namespace)
