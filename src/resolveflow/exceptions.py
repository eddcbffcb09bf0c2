"""Every error resolveflow raises, under one root.

The tree::

    ResolveflowError
    ├── InvalidMethodology   a definition is structurally wrong (raised when it is made)
    │   └── InvalidMethodologyFile   a methodology file is wrong: file:line:column and key path
    ├── UnknownMethodology   no methodology with that id (or version) is registered
    ├── UnknownAction        the action is not part of the case's methodology
    ├── InvalidEvidence      evidence does not match the action's schema (field paths inside)
    ├── InvalidInput         a call argument is wrong: blank actor, naive or backward time ...
    ├── Refused              one or more guards refused the action (refusals inside)
    ├── InvalidSnapshot      a snapshot does not replay exactly (names the first bad entry)
    │   ├── TamperedHistory  stored rows do not replay (names the case and the entry)
    │   └── DefinitionMismatch  the registered definition is not the one the case was recorded under
    ├── ConcurrencyConflict  another writer moved a stored case on first
    ├── IdempotencyConflict  an idempotency key reused for a different request
    ├── CaseNotFound         no stored case has this id
    ├── CaseExists           a case with this id is already stored
    ├── DiagramUnavailable   SVG needs Graphviz (the Python package and the dot program)
    ├── WebhookVerificationError  a webhook request's headers, timestamp or signature do not verify
    └── StoreUnavailable     the database could not be used: unreachable, lost mid-call ...
        ├── StoreFull        ... because its disk (or its size limit) is full
        ├── StoreReadOnly    ... because it only accepts reads
        └── StoreLocked      ... because another transaction held a lock for too long

Context travels as keyword-only attributes (``action=``, ``step=``,
``refusals=`` ...) so that a CRM can render or log an error without parsing
its message. A call that raises any of these has changed nothing.

Example:
    >>> import resolveflow
    >>> try:
    ...     resolveflow.get_methodology("no-such-flow")
    ... except resolveflow.ResolveflowError as error:
    ...     print(type(error).__name__)
    UnknownMethodology
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from resolveflow._shown import shown

if TYPE_CHECKING:
    from resolveflow._refusal import Refusal

__all__ = [
    "CaseExists",
    "CaseNotFound",
    "ConcurrencyConflict",
    "DefinitionMismatch",
    "DiagramUnavailable",
    "IdempotencyConflict",
    "InvalidEvidence",
    "InvalidInput",
    "InvalidMethodology",
    "InvalidMethodologyFile",
    "InvalidSnapshot",
    "Refused",
    "ResolveflowError",
    "StoreFull",
    "StoreLocked",
    "StoreReadOnly",
    "StoreUnavailable",
    "TamperedHistory",
    "UnknownAction",
    "UnknownMethodology",
    "WebhookVerificationError",
]


class ResolveflowError(Exception):
    """The root of every error raised by resolveflow."""


class InvalidMethodology(ResolveflowError, ValueError):
    """A methodology definition is structurally invalid.

    Raised when a :class:`~resolveflow.Methodology`, step, action or guard is
    built, never later: a methodology that exists is well formed.

    Attributes:
        where: the offending object, e.g. ``"action 'finish'"``.
    """

    def __init__(self, message: str, *, where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


class UnknownMethodology(ResolveflowError, LookupError):
    """No registered methodology has this id (or this version).

    Attributes:
        methodology_id: the id that was asked for.
        version: the version that was asked for, or None for "latest".
        available: the ids (or, for a version miss, the versions) that exist.
    """

    def __init__(
        self,
        methodology_id: str,
        *,
        version: str | None = None,
        available: Sequence[str] = (),
        hint: str | None = None,
    ) -> None:
        self.methodology_id = methodology_id
        self.version = version
        self.available = tuple(available)
        listed = ", ".join(self.available) or "none"
        if version is None:
            message = f"unknown methodology {shown(methodology_id)}; available: {listed}"
        else:
            message = (
                f"methodology {shown(methodology_id)} has no version {shown(version)}; versions: {listed}"
            )
        if hint:
            message += f"; {hint}"
        super().__init__(message)


class UnknownAction(ResolveflowError, LookupError):
    """The action is not part of the case's methodology at all.

    An action the methodology knows but that cannot be taken from the current
    step is not unknown: it is refused, with the code ``not_from_this_step``.

    Attributes:
        action: the name that was given.
        step: the step the case was at.
        available: the actions leaving that step.
    """

    def __init__(
        self,
        action: str,
        *,
        step: str,
        methodology: str,
        available: Sequence[str],
        closed: bool = False,
    ) -> None:
        self.action = action
        self.step = step
        self.methodology = methodology
        self.available = tuple(available)
        listed = ", ".join(self.available) or ("none (the case is closed)" if closed else "none")
        super().__init__(
            f"methodology {methodology!r} has no action {action!r}; "
            f"actions available at step {step!r}: {listed}"
        )


class InvalidEvidence(ResolveflowError, ValueError):
    """Evidence does not match what the action records.

    Attributes:
        action: the action the evidence was given for.
        errors: ``(path, problem)`` pairs, e.g. ``("items[0].due", "is required")``;
            the path is ``""`` when the evidence as a whole is wrong.
    """

    def __init__(self, *, action: str, errors: Sequence[tuple[str, str]]) -> None:
        self.action = action
        self.errors = tuple(errors)
        details = "; ".join(f"{path or '<evidence>'}: {problem}" for path, problem in self.errors)
        super().__init__(f"invalid evidence for action {action!r}: {details}")

    @property
    def paths(self) -> tuple[str, ...]:
        """The field paths that were wrong, in the order found."""
        return tuple(path for path, _ in self.errors)


class InvalidInput(ResolveflowError, ValueError):
    """An argument of a call is wrong (not the evidence, which has its own error).

    Attributes:
        argument: the argument's name, e.g. ``"actor"`` or ``"at"``.
    """

    def __init__(self, message: str, *, argument: str) -> None:
        super().__init__(f"{argument}: {message}")
        self.argument = argument


class Refused(ResolveflowError):
    """One or more guards refused the action; nothing was recorded.

    Attributes:
        action: the refused action.
        step: the step the case is (still) at.
        refusals: every failing guard, each a :class:`~resolveflow.Refusal` with
            ``code``, ``message`` and ``missing``.
    """

    def __init__(self, *, action: str, step: str, refusals: Sequence[Refusal]) -> None:
        self.action = action
        self.step = step
        self.refusals = tuple(refusals)
        reasons = "; ".join(f"[{r.code}] {r.message}" for r in self.refusals)
        super().__init__(f"action {action!r} refused at step {step!r}: {reasons}")

    @property
    def codes(self) -> tuple[str, ...]:
        """The refusal codes, in guard order."""
        return tuple(r.code for r in self.refusals)


class InvalidSnapshot(ResolveflowError, ValueError):
    """A snapshot does not replay exactly to the case it claims to be.

    Attributes:
        entry: the 1-based sequence number of the first bad history entry, or
            None when the problem is outside the history (format, methodology,
            claimed step).
        reason: what was wrong with it.
    """

    def __init__(self, reason: str, *, entry: int | None = None) -> None:
        self.entry = entry
        self.reason = reason
        where = f"history entry {entry}: " if entry is not None else ""
        super().__init__(f"invalid snapshot: {where}{reason}")


class DefinitionMismatch(InvalidSnapshot):
    """The methodology registered under a case's id and version is not the definition it was recorded under.

    A case binds the digest of every definition its history was recorded
    under (``snapshot()["definitions"]``, the store's ``definitions`` column).
    Restoring it under another definition with the same id and version could
    let entries stand that the original guards would refuse, so it is refused:
    register the original definition again, or give the new one a new version
    and migrate the case to it.

    Attributes:
        methodology_id: the methodology's id.
        version: the version whose definition differs.
        expected: the digest the case recorded (``"sha256:…"``).
        found: the digest of the definition registered now.
        entry: the history entry that moved the case onto that version (a
            migration), or None for the version the case was opened with.
    """

    def __init__(
        self, *, methodology_id: str, version: str, expected: str, found: str, entry: int | None = None
    ) -> None:
        self.methodology_id = methodology_id
        self.version = version
        self.expected = expected
        self.found = found
        super().__init__(
            f"{methodology_id}@{version} is not the definition this case was recorded under "
            f"(the case has {expected[:19]}…, the registered one is {found[:19]}…); register the original "
            "definition again, or give the new one a new version and migrate the case to it",
            entry=entry,
        )


class WebhookVerificationError(ResolveflowError):
    """A webhook request did not verify: a header is missing or wrong, it is too old, or no signature matches.

    Raised by :func:`resolveflow.webhooks.verify`; answer such a request with
    a 4xx status and do not act on it. The message says what was wrong and
    never shows a secret.

    Attributes:
        code: why, one of ``missing_header``, ``duplicate_header``,
            ``malformed_header``, ``too_many_headers``,
            ``unsupported_signature`` (no ``v1`` entry), ``timestamp_too_old``,
            ``timestamp_too_new``, ``no_matching_signature`` and ``not_json``
            (the signature is valid but the body is not JSON).
        header: the header at fault (``"webhook-timestamp"`` …), or None.
        reason: the message without the code.

    Example:
        >>> error = WebhookVerificationError("webhook-id appears more than once",
        ...                                  code="duplicate_header", header="webhook-id")
        >>> str(error)
        'webhook not verified (duplicate_header): webhook-id appears more than once'
    """

    def __init__(self, reason: str, *, code: str, header: str | None = None) -> None:
        self.reason = reason
        self.code = code
        self.header = header
        super().__init__(f"webhook not verified ({code}): {reason}")


class DiagramUnavailable(ResolveflowError):
    """An SVG was asked for, but Graphviz (the ``graphviz`` package or the ``dot`` program) is missing.

    The message says what to install; Mermaid and DOT text need neither.
    """


class InvalidMethodologyFile(InvalidMethodology):
    """A methodology file (or dict) is wrong, or a methodology cannot be written as one.

    The message starts with where the problem is, then says what was
    expected: ``heard.yaml:41:13: actions[2].target: unknown step 'act';
    steps are: hear, empathize``.

    Attributes:
        file: the file (or the ``origin`` given for a dict or text), or None.
        line: the 1-based line, or None when the format does not say (JSON
            and TOML give it for syntax errors only).
        column: the 1-based column, or None.
        key_path: where in the document, e.g. ``"actions[2].target"``;
            ``""`` for the document as a whole.
        reason: the message without the location.

    Example:
        >>> error = InvalidMethodologyFile("unknown step 'act'", file="x.yaml", line=4,
        ...                                column=13, key_path="actions[0].target")
        >>> str(error)
        "x.yaml:4:13: actions[0].target: unknown step 'act'"
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        key_path: str = "",
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.key_path = key_path
        self.reason = reason
        location = file or ""
        if line is not None:
            location += f":{line}" + (f":{column}" if column is not None else "")
        super().__init__(reason, where=": ".join(part for part in (location, key_path) if part))


class ConcurrencyConflict(ResolveflowError):
    """Another writer recorded an entry on this case since it was read.

    Nothing was written. Reload the case, decide again (the guards may now
    answer differently) and retry, or let :meth:`Store.fire_with_retry` do it.

    Attributes:
        case_id: the case.
        expected_seq: the sequence number the call expected the case to be at.
        current_seq: the sequence number it is at now.

    Example:
        >>> from resolveflow import ConcurrencyConflict
        >>> error = ConcurrencyConflict(case_id="C-1", expected_seq=3, current_seq=4)
        >>> error.current_seq
        4
    """

    def __init__(self, *, case_id: str, expected_seq: int, current_seq: int) -> None:
        self.case_id = case_id
        self.expected_seq = expected_seq
        self.current_seq = current_seq
        super().__init__(
            f"case {case_id!r} was expected at entry {expected_seq} but another writer has "
            f"moved it to entry {current_seq}; reload it and decide again (or use fire_with_retry)"
        )


class IdempotencyConflict(ResolveflowError, ValueError):
    """An idempotency key was reused on a case for a request with different content.

    Attributes:
        case_id: the case.
        key: the idempotency key.
        seq: the entry the key already stands for.
    """

    def __init__(self, *, case_id: str, key: str, seq: int) -> None:
        self.case_id = case_id
        self.key = key
        self.seq = seq
        super().__init__(
            f"idempotency key {key!r} on case {case_id!r} was already used for entry {seq} with a "
            "different action, evidence, actor or time; use a new key for a new request"
        )


class CaseNotFound(ResolveflowError, LookupError):
    """No stored case has this id.

    Attributes:
        case_id: the id that was asked for.
    """

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"no stored case has the id {case_id!r}; open it first with store.open_case()")


class CaseExists(ResolveflowError, ValueError):
    """A case with this id is already stored.

    Attributes:
        case_id: the id that is taken.
    """

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"a case with the id {case_id!r} is already stored; load it with store.load()")


class TamperedHistory(InvalidSnapshot):
    """The stored rows of a case do not replay: a row was edited, removed or added.

    Attributes:
        case_id: the case.
        entry: the sequence number of the first bad entry row (for a case row
            that disagrees with its entries, the case's last sequence number).
        reason: what was wrong.
    """

    def __init__(self, reason: str, *, case_id: str, entry: int) -> None:
        super().__init__(reason, entry=entry)
        self.case_id = case_id
        self.entry: int = entry
        # The base message names the entry; the store's names the case too.
        self.args = (f"stored case {case_id!r}, entry {entry}: {reason}",)


class StoreUnavailable(ResolveflowError):
    """The store's database could not be used: unreachable, read-only, full, locked, or lost mid-call.

    The transaction was rolled back, so nothing was recorded; retry once the
    database is back (a retry with the same idempotency key is always safe).
    The one exception is a connection lost while a write was being committed
    to a database server: the server may have committed it before the
    connection went, so ``maybe_recorded`` is True and the message says so
    (load the case, or retry with the same idempotency key, to find out).
    The database driver's error is the ``__cause__``.

    Attributes:
        operation: what the store was doing, e.g. ``"fire"`` or ``"load"``.
        reason: the database's own words (its first line, cut short).
        maybe_recorded: True only when a commit was cut off (see above).

    Example:
        >>> from resolveflow.exceptions import StoreUnavailable
        >>> str(StoreUnavailable("attempt to write a readonly database", operation="fire"))
        'fire: the database could not be used (attempt to write a readonly database); nothing was recorded'
    """

    def __init__(self, reason: str, *, operation: str, maybe_recorded: bool = False) -> None:
        self.operation = operation
        self.reason = reason
        self.maybe_recorded = maybe_recorded
        outcome = (
            "the connection was lost while committing, so the change may or may not have been "
            "recorded: load the case, or retry with the same idempotency key"
            if maybe_recorded
            else "nothing was recorded"
        )
        super().__init__(f"{operation}: the database could not be used ({reason}); {outcome}")


class StoreFull(StoreUnavailable):
    """The database is out of space (SQLite: the disk or ``max_page_count``; PostgreSQL: ``disk_full``).

    Nothing was recorded; writes succeed again once there is room, and reads go on meanwhile.

    Example:
        >>> from resolveflow.exceptions import StoreFull, StoreUnavailable
        >>> issubclass(StoreFull, StoreUnavailable)
        True
    """


class StoreReadOnly(StoreUnavailable):
    """The database accepts only reads (a read-only file or mount, a standby, a read-only transaction).

    Nothing was recorded. Send writes to a writable primary.

    Example:
        >>> from resolveflow.exceptions import StoreReadOnly
        >>> StoreReadOnly("attempt to write a readonly database", operation="fire").operation
        'fire'
    """


class StoreLocked(StoreUnavailable):
    """Another transaction held a lock the store needed for longer than the database waits.

    SQLite waits ``busy_timeout`` (30 s) for the write lock, PostgreSQL its
    ``lock_timeout``. Nothing was recorded; retry (with the same idempotency
    key), and look for a long transaction holding the lock.

    Example:
        >>> from resolveflow.exceptions import StoreLocked
        >>> "locked" in str(StoreLocked("database is locked", operation="fire"))
        True
    """
