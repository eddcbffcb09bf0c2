"""The limits page states the limits the code enforces (so the page cannot drift)."""

from __future__ import annotations

from pathlib import Path

from resolveflow import _canonical, _file_formats, _file_records, _files, _ledger, _seal
from resolveflow._shown import LIMIT
from resolveflow.store import _args, _audit, _heads, _rows, _store, _tables

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "limits.md").read_text(encoding="utf-8")


def _spelled(number: int) -> str:
    return f"{number:,}"


def test_every_limit_on_the_page_is_the_one_in_the_code() -> None:
    assert f"at most {_ledger.MAX_ID} characters" in PAGE
    assert f"{_canonical.MAX_DEPTH} arrays and objects deep" in PAGE
    assert f"{_file_formats.MAX_DEPTH} levels of mappings and lists" in PAGE
    assert f"at most {_spelled(_file_formats.MAX_EXPANDED)}" in PAGE
    assert f"{_file_formats.MAX_DIGITS} digits in JSON" in PAGE
    assert f"{_spelled(_files.MAX_FILE_CHARS)} characters" in PAGE
    assert f"{_spelled(_files.MAX_FILE_CHARS * 4)} bytes" in PAGE
    assert f"the {_spelled(_file_records.MAX_RECORD_CLASSES)} most recent" in PAGE
    assert f"cut at {LIMIT}" in PAGE
    assert f"1 to {_spelled(_store._MAX_PAGE)} entries" in PAGE
    assert _canonical.MAX_SAFE_INTEGER == 2**53 - 1 and "2**53 − 1" in PAGE
    assert f"non-blank, at most {_args.MAX_TEXT} characters, no NUL" in PAGE
    assert _args.MAX_COUNT == 2**63 - 1 and "to 2**63 − 1" in PAGE
    assert f"integers of at most {_rows.MAX_DIGITS} digits" in PAGE
    assert f"batch size 1 to {_spelled(_audit.MAX_BATCH)}" in PAGE
    assert f"1 to {_seal.MAX_KEYS} keys" in PAGE and f"at least {_seal.MIN_SECRET_BYTES} bytes" in PAGE
    assert f"a stored seal at most {_tables.SEAL} characters" in PAGE
    window, default = (
        _store.MAX_IDEMPOTENCY_WINDOW.days,
        int(_store.IDEMPOTENCY_WINDOW.total_seconds()) // 3600,
    )
    assert f"to {window} days (default {default} hours)" in PAGE
    assert f"(default {_spelled(_heads.DEFAULT_CACHED_ENTRIES)})" in PAGE


def test_the_http_api_limits_on_the_page_are_the_ones_in_the_code() -> None:
    from resolveflow.server import _auth, _body, _params

    assert f"at most {_spelled(_body.MAX_BODY)} bytes" in PAGE
    assert f"nested at most {_body.MAX_DEPTH} arrays" in PAGE
    assert f"tokens of {_auth.MIN_TOKEN} to {_auth.MAX_TOKEN} characters" in PAGE
    assert f"path ids of 1 to {_params.MAX_ID} characters" in PAGE
    assert f"pages of 1 to {_spelled(_params.MAX_PAGE)} items" in PAGE
