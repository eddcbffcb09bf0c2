"""The audit: every stored case replayed in full, in batches that can be resumed.

A write moves a case on from the ledger the store kept at its last write
(``_heads.py``) and so no longer re-reads old rows; :meth:`Store.verify` is
where every row of every case goes back through the guards and the hash
chain. It reads case ids in key order, a batch at a time, each case in its own
read transaction (so a long audit never holds one open), and reports the
first bad entry of each case it could not replay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal

import attrs
import sqlalchemy as sa

from resolveflow.exceptions import DefinitionMismatch, UnknownMethodology
from resolveflow.store import _engine
from resolveflow.store._args import count_arg, text_arg
from resolveflow.store._errors import CaseNotFound, TamperedHistory
from resolveflow.store._tables import cases

Kind = Literal["tampered", "definition", "unknown_methodology"]

MAX_BATCH: Final = 10_000


@attrs.frozen(kw_only=True)
class AuditFinding:
    """A stored case that does not replay, and why.

    Attributes:
        case_id: the case.
        kind: ``"tampered"`` (a row does not replay: edited, removed, added),
            ``"definition"`` (another definition is registered under the case's
            id and version than the one it was recorded under) or
            ``"unknown_methodology"`` (its methodology is not registered here).
        entry: the first bad entry's sequence number (None when no entry is to blame).
        reason: what is wrong, in words.

    Example:
        >>> AuditFinding(case_id="C-1", kind="tampered", entry=4, reason="hash mismatch").to_json()["entry"]
        4
    """

    case_id: str
    kind: Kind
    entry: int | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible data for a report or an API response."""
        return {"case_id": self.case_id, "kind": self.kind, "entry": self.entry, "reason": self.reason}


@attrs.frozen(kw_only=True)
class AuditReport:
    """What :meth:`Store.verify` checked and found.

    Attributes:
        checked: cases replayed in this call.
        entries: their entries, in all.
        findings: the cases that do not replay (their first bad entry each).
        next_after: pass it as ``after`` to go on where this call stopped;
            None when it reached the last case.

    Example:
        >>> AuditReport(checked=2, entries=9, findings=(), next_after=None).clean
        True
    """

    checked: int
    entries: int
    findings: tuple[AuditFinding, ...]
    next_after: str | None

    @property
    def clean(self) -> bool:
        """True when every case checked replays."""
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible data for a report or an API response."""
        return {
            "checked": self.checked,
            "entries": self.entries,
            "findings": [finding.to_json() for finding in self.findings],
            "next_after": self.next_after,
        }


def case_ids(conn: sa.Connection, tenant: str, after: str | None, count: int) -> list[str]:
    """Up to ``count`` of a tenant's case ids after ``after``, in key order (keyset paging: no OFFSET)."""
    query = sa.select(cases.c.case_id).where(cases.c.tenant == tenant).order_by(cases.c.case_id).limit(count)
    if after is not None:
        query = query.where(cases.c.case_id > after)
    return [str(case_id) for case_id in conn.execute(query).scalars()]


def audit_case(case_id: str, replay: Callable[[str], int]) -> tuple[int, AuditFinding | None]:
    """(entries replayed, the finding or None) for one case; ``replay`` returns its entry count."""
    try:
        return replay(case_id), None
    except CaseNotFound:
        return 0, None  # removed since its id was read: nothing left to audit
    except TamperedHistory as error:
        found = AuditFinding(case_id=case_id, kind="tampered", entry=error.entry, reason=error.reason)
    except DefinitionMismatch as error:
        found = AuditFinding(case_id=case_id, kind="definition", entry=error.entry, reason=str(error))
    except UnknownMethodology as error:
        found = AuditFinding(case_id=case_id, kind="unknown_methodology", entry=None, reason=str(error))
    return 0, found


def sweep(
    engine: sa.Engine,
    tenant: str,
    operation: str,
    handle: Callable[[str], int],
    *,
    after: object,
    limit: object,
    batch_size: object,
    on_finding: Callable[[str], None] = lambda _case_id: None,
) -> AuditReport:
    """Run ``handle`` (a case id -> its entry count) on a tenant's stored cases in id order, resumably.

    The arguments are checked first; ids are read ``batch_size`` at a time, each
    batch in a read transaction of its own; a case ``handle`` cannot replay is a
    finding (and ``on_finding`` hears of it).
    """
    start = None if after is None else text_arg(after, "after")
    most = None if limit is None else count_arg(limit, "limit", minimum=1)
    size = count_arg(batch_size, "batch_size", minimum=1, maximum=MAX_BATCH)
    seen = entries = 0
    findings: list[AuditFinding] = []
    more = True
    while more and (most is None or seen < most):
        want = size if most is None else min(size, most - seen)
        with _engine.read(engine, operation) as conn:
            ids = case_ids(conn, tenant, start, want)
        for case_id in ids:
            count, finding = audit_case(case_id, handle)
            entries += count
            if finding is not None:
                findings.append(finding)
                on_finding(case_id)
        seen += len(ids)
        more = len(ids) == want
        start = ids[-1] if ids else start
    if more:  # stopped by the limit: is there anything after it?
        with _engine.read(engine, operation) as conn:
            more = bool(case_ids(conn, tenant, start, 1))
    return AuditReport(
        checked=seen,
        entries=entries,
        findings=tuple(findings),
        next_after=start if more else None,
    )
