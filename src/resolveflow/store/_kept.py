"""A kept ledger checked against the database: for writes (the tail) and for loads (every row).

``_heads.py`` says why the store keeps ledgers between calls and what that
trusts. This module holds the checks that decide whether a kept ledger still
stands for what the database holds:

- :func:`case_row_matches`: the case row says what the ledger says (head,
  step, outcome, definitions, methodology);
- :func:`replayed_tail`: entry rows written since the ledger was kept,
  replayed onto it through the guards and the chain;
- :func:`loaded`: a load's check, comparing every entry row with the rows
  compared before (raw column values, no decoding), decoding only the rows
  not seen yet.

Each returns None where anything differs; the caller then replays the case
in full, which names the bad entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import sqlalchemy as sa

from resolveflow._canonical import CanonicalError
from resolveflow._history import canonical_json
from resolveflow._ledger import Ledger
from resolveflow._methodology import Methodology
from resolveflow._seal import KeyRing, chained_on, seal_problem
from resolveflow._snapshot import replay_entry
from resolveflow.exceptions import InvalidSnapshot, ResolveflowError
from resolveflow.store import _rows
from resolveflow.store._heads import Seen
from resolveflow.store._tables import cases, entries

Resolver = Callable[[str, str], Methodology]

_CASE_COLUMNS: Final = (
    "methodology_id",
    "methodology_version",
    "step",
    "outcome",
    "last_seq",
    "head",
    "hash_recipe",
    "definitions",
    "created_at",
    "updated_at",
)
# Entry and case columns whose driver value SQLAlchemy decodes in Python (JSON, times): read as
# the driver returns them for the comparison, and decoded only where a row is new.
_DECODED: Final = frozenset({"at", "evidence", "created_at", "updated_at"})


def _raw(column: sa.Column[Any]) -> sa.ColumnElement[Any]:
    # A real CAST to text: psycopg decodes json and timestamptz in the driver itself, whatever
    # type SQLAlchemy is told, and a decoded value compares loosely (True == 1, 1 == 1.0).
    return sa.cast(column, sa.Text) if column.name in _DECODED else column


_ENTRY_WIDTH: Final = len(_rows.ENTRY_COLUMNS)
_CASE_END: Final = _ENTRY_WIDTH + len(_CASE_COLUMNS)
_HASH: Final = _rows.ENTRY_COLUMNS.index("hash")
_SEAL: Final = _rows.ENTRY_COLUMNS.index("seal")
# Every row: the entry's columns as stored, then the case row's (repeated by the join: one
# statement, so that both come from the same snapshot even under READ COMMITTED).
_RAW_COLUMNS: Final = (
    *(_raw(entries.c[name]).label(f"raw_{name}") for name in _rows.ENTRY_COLUMNS),
    *(_raw(cases.c[name]).label(name) for name in _CASE_COLUMNS),
)


def _case_and_entries(*columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
    return (
        sa.select(*columns)
        .select_from(cases)
        .outerjoin(entries, _rows.same_case(entries, cases))
        .where(_rows.one_case(cases))
        .order_by(entries.c.seq)
    )


def _decoded_once(name: str) -> sa.ColumnElement[Any]:
    # A case row time is not compared, but one that no longer decodes is an edited row: decoded
    # on the first row only, not once per entry.
    first = sa.or_(entries.c.seq.is_(None), entries.c.seq == 1)
    return sa.case((first, cases.c[name]), else_=sa.null()).label(f"decoded_{name}")


def _decoded_after_seen(name: str) -> sa.ColumnElement[Any]:
    return sa.case((entries.c.seq > sa.bindparam("seen"), entries.c[name]), else_=sa.null()).label(
        f"entry_{name}"
    )


# What a load reads when nothing changed since it last compared the rows: values as stored.
_RAW: Final = _case_and_entries(*_RAW_COLUMNS)
# What it reads otherwise: the same, plus the decoded entry columns of the rows not compared
# before (under the labels _rows.snapshot_entry reads) and the case row's times.
_DECODING: Final = _case_and_entries(
    *_RAW_COLUMNS,
    _decoded_once("created_at"),
    _decoded_once("updated_at"),
    *(_decoded_after_seen(name) for name in ("at", "evidence")),
    *(entries.c[name].label(f"entry_{name}") for name in _rows.ENTRY_COLUMNS if name not in _DECODED),
)


def _entry_values(rows: Sequence[sa.Row[Any]]) -> tuple[tuple[Any, ...], ...]:
    """Each entry row's values as stored (none for a case without entries: the join's one row)."""
    if not rows or rows[0].raw_seq is None:
        return ()
    return tuple(tuple(r[:_ENTRY_WIDTH]) for r in rows)


def case_row_matches(row: sa.Row[Any], ledger: Ledger, methodology_of: Resolver) -> bool:
    """Whether the case row says what ``ledger`` says; an edited case row is left to the full replay."""
    outcome = ledger.methodology.outcome(ledger.step)
    if (
        row.head != ledger.head
        or row.step != ledger.step
        or row.outcome != (outcome.id if outcome else None)
        or row.definitions != _rows.definitions_text_of(ledger)
    ):
        return False
    # Another definition registered since: the full replay refuses it by name.
    return methodology_of(row.methodology_id, row.methodology_version) is ledger.methodology


def replayed_tail(ledger: Ledger, tail: Sequence[sa.Row[Any]], methodology_of: Resolver) -> Ledger | None:
    """``ledger`` with ``tail`` (rows labelled ``entry_*``) replayed onto it; None if any does not replay.

    ``ledger`` is changed in place up to the first entry that does not
    replay: on None, drop it.
    """
    try:
        for r in tail:
            raw = _rows.snapshot_entry(r._mapping, "entry_")
            ledger = replay_entry(ledger, raw, r.entry_seq, methodology_of)
    except (InvalidSnapshot, ResolveflowError, CanonicalError, TypeError, ValueError):
        return None  # the full replay says precisely what is wrong
    return ledger


def seals_hold(keys: KeyRing, previous: str, rows: Sequence[sa.Row[Any]], prefix: str) -> bool:
    """Whether each row's seal chains on from ``previous`` (a seal, a hash, or the genesis hash)."""
    seq, digest, seal = (f"{prefix}{name}" for name in ("seq", "hash", "seal"))
    chain = ((r._mapping[seq], r._mapping[digest], r._mapping[seal]) for r in rows)
    return seal_problem(keys, previous, chain) is None


def _same_entry(stored: dict[str, Any], held: dict[str, Any]) -> bool:
    """Whether a decoded row is the kept entry, compared as canonical JSON.

    Not with ``==``: Python's equality takes ``true`` for ``1`` and would accept a row edited
    that way. Canonical JSON tells them apart, and takes ``1.0`` for ``1`` as the replay does.
    """
    try:
        return canonical_json(stored) == canonical_json(held)
    except (CanonicalError, TypeError, ValueError):
        return False


def loaded(
    conn: sa.Connection,
    binds: dict[str, object],
    ledger: Ledger,
    seen: Seen | None,
    *,
    keys: KeyRing | None,
    methodology_of: Resolver,
) -> tuple[Ledger, Seen] | None:
    """``ledger`` shown to be the stored case, and the rows now compared; None: replay in full.

    The case row and every entry row are read as stored. When they equal,
    value for value, what the last load compared with this same ledger
    (``seen``), nothing is decoded. Otherwise one statement reads them again
    with the new rows decoded: the rows compared before must be equal; the
    next ones, up to the ledger's length, must be the ledger's entries (and,
    with a key ring, carry seals that chain on); rows past the ledger are
    replayed through the guards. The case row must then say what the ledger
    says. ``binds`` names the case (its ``tenant`` and ``case_id``).
    """
    if seen is not None:
        rows = conn.execute(_RAW, binds).all()
        if not rows:
            return None  # the full read raises CaseNotFound
        if (
            tuple(rows[0][_ENTRY_WIDTH:_CASE_END]) == seen[0]
            and _entry_values(rows) == seen[1]
            and case_row_matches(rows[0], ledger, methodology_of)
        ):
            return ledger, seen
    compared = seen[1] if seen is not None else ()
    rows = conn.execute(_DECODING, {**binds, "seen": len(compared)}).all()
    if not rows:
        return None
    row = rows[0]
    stored = rows if row.raw_seq is not None else []
    have = len(ledger)
    if (
        type(row.last_seq) is not int
        or row.last_seq != len(stored)
        or not len(compared) <= have <= len(stored)
        or row.hash_recipe != ledger.recipe
    ):
        return None
    raw = _entry_values(stored)
    if raw[: len(compared)] != compared or [r[0] for r in raw] != list(range(1, len(raw) + 1)):
        return None
    if keys is not None:
        # Rows compared before were compared with their seals; the others are checked as a restore would.
        last = compared[-1] if compared else None
        previous = ledger.genesis if last is None else chained_on(last[_SEAL], last[_HASH])
        if not seals_hold(keys, previous, stored[len(compared) :], "raw_"):
            return None
    held = ledger.entries
    for r in stored[len(compared) : have]:
        if not _same_entry(_rows.snapshot_entry(r._mapping, "entry_"), held[r.raw_seq - 1].to_json()):
            return None
    if len(stored) > have:
        found = replayed_tail(ledger, stored[have:], methodology_of)
        if found is None:
            return None
        ledger = found
    if not case_row_matches(row, ledger, methodology_of):
        return None
    return ledger, (tuple(row[_ENTRY_WIDTH:_CASE_END]), raw)
