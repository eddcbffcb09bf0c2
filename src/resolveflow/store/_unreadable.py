"""Rows that do not read back: which one, found by halving, reported as TamperedHistory.

A row the store wrote always reads back. One edited by hand may not: a JSON
column holding text the store never writes (see ``_rows.load_json``), or a
time that is not one (SQLite keeps any text in a time column; PostgreSQL keeps
years that Python's datetime cannot). Decoding fails while the result is
fetched, where nothing says which row it was, so the query is read again in
halves until the first row that fails is found: a few queries more, on a path
only a damaged database takes, and an error that names the case and the entry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Final

import sqlalchemy as sa

from resolveflow.exceptions import ResolveflowError, TamperedHistory
from resolveflow.store._engine import reason
from resolveflow.store._tables import cases, entries

# What decoding a value raises: load_json's UnreadableJSON and SQLAlchemy's SQLite time parser
# a ValueError (TypeError for a value of another type), psycopg a DataError for a time outside
# the years 1 to 9999, and RecursionError the json module of an engine the caller made.
_DECODING: Final = (ValueError, TypeError, OverflowError, RecursionError, sa.exc.DataError)


def unreadable(error: BaseException) -> bool:
    """Whether an error raised by a query means that a stored value does not decode."""
    if isinstance(error, ResolveflowError):
        return False
    if isinstance(error, _DECODING):
        return True
    # SQLite's driver cannot decode text that is not UTF-8, which only an edit puts there.
    return isinstance(error, sa.exc.OperationalError) and "decode to UTF-8" in str(error.orig)


def _failure(conn: sa.Connection, query: sa.Select[Any], params: dict[str, Any]) -> str | None:
    try:
        conn.execute(query, params).all()
    except Exception as error:
        if not unreadable(error):
            raise
        return reason(error)
    return None


def first_failure(
    conn: sa.Connection, query: sa.Select[Any], params: dict[str, Any] | None = None
) -> tuple[int, str] | None:
    """The position (in the query's order) of its first row that does not decode, and why; or None.

    Reads about twice the query's rows, in a number of queries logarithmic in them.
    """
    values = params or {}
    total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery()), values).scalar_one()
    if not total or _failure(conn, query, values) is None:
        return None
    low, high = 0, total - 1  # the first row that fails is in [low, high]
    while low < high:
        middle = (low + high) // 2
        if _failure(conn, query.offset(low).limit(middle - low + 1), values) is None:
            low = middle + 1
        else:
            high = middle
    return low, _failure(conn, query.offset(low).limit(1), values) or "it does not decode"


def _identity(
    conn: sa.Connection, query: sa.Select[Any], params: dict[str, Any] | None, position: int, *columns: Any
) -> sa.Row[Any] | None:
    """The key columns (which always decode) of the row at ``position`` in the query's order."""
    only = query.with_only_columns(*columns, maintain_column_froms=True)
    return conn.execute(only.offset(position).limit(1), params or {}).first()


def stored_last_seq(conn: sa.Connection, tenant: str, case_id: str) -> int:
    """The case row's last sequence number, or 0 when it is missing or not a whole number."""
    found = conn.execute(
        sa.select(cases.c.last_seq).where(cases.c.tenant == tenant, cases.c.case_id == case_id)
    ).scalar()
    return found if type(found) is int and found >= 0 else 0


def _in_case(conn: sa.Connection, tenant: str, case_id: str) -> TamperedHistory | None:
    """The first row of a case that does not decode (its case row, else an entry row), or None."""
    found = first_failure(conn, sa.select(cases).where(cases.c.tenant == tenant, cases.c.case_id == case_id))
    if found is not None:
        return TamperedHistory(
            f"its case row does not read back: {found[1]}",
            case_id=case_id,
            entry=stored_last_seq(conn, tenant, case_id),
        )
    entry_rows = (
        sa.select(entries)
        .where(entries.c.tenant == tenant, entries.c.case_id == case_id)
        .order_by(entries.c.seq)
    )
    found = first_failure(conn, entry_rows)
    if found is None:
        return None
    position, why = found
    key = _identity(conn, entry_rows, None, position, entries.c.seq)
    seq = key.seq if key is not None and type(key.seq) is int else position + 1
    return TamperedHistory(f"entry row {seq} does not read back: {why}", case_id=case_id, entry=seq)


def unreadable_case(conn: sa.Connection, tenant: str, case_id: str) -> TamperedHistory:
    """What to raise when reading a case's rows failed to decode: the first row that does not."""
    found = _in_case(conn, tenant, case_id)
    if found is not None:
        return found
    # Each row decodes on its own, yet the read failed: still name the case.
    return TamperedHistory(
        "its rows do not read back", case_id=case_id, entry=stored_last_seq(conn, tenant, case_id)
    )


def unreadable_row(
    conn: sa.Connection,
    query: sa.Select[Any],
    case_column: sa.Column[Any],
    rows: str,
    params: dict[str, Any] | None = None,
) -> TamperedHistory | None:
    """For a query over rows that each belong to a case (in a unique order), the first row that
    does not decode, as its case's TamperedHistory; ``rows`` names them (``"deadline rows"``).

    ``case_column`` is the ``case_id`` column of the table the rows are from; its
    ``tenant`` column says whose case it is.
    """
    found = first_failure(conn, query, params)
    if found is None:
        return None
    position, why = found
    tenant_column = case_column.table.c.tenant
    key = _identity(conn, query, params, position, tenant_column, case_column)
    tenant, case_id = (key.tenant, key.case_id) if key is not None else (None, None)
    if not isinstance(tenant, str) or not isinstance(case_id, str):
        return None
    in_case = _in_case(conn, tenant, case_id)
    if in_case is not None:
        return in_case
    return TamperedHistory(
        f"one of its {rows} does not read back: {why}",
        case_id=case_id,
        entry=stored_last_seq(conn, tenant, case_id),
    )


@contextlib.contextmanager
def decoding_rows(
    conn: sa.Connection, query: sa.Select[Any], case_column: sa.Column[Any], rows: str = "rows"
) -> Iterator[None]:
    """A read of many cases' rows: a row that does not decode is TamperedHistory naming its case."""
    try:
        yield
    except Exception as error:
        if not unreadable(error):
            raise
        found = unreadable_row(conn, query, case_column, rows)
        if found is None:  # the failure did not happen again: nothing to name
            raise
        raise found from error
