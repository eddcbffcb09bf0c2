"""The ledger: a case's history, its index, and the one append.

A :class:`Ledger` owns everything a case is made of: the methodology version
it runs, its id, the version it was opened with, the hash-chained entries and
the :class:`~resolveflow._index.HistoryIndex` its guards ask. Every way a
history grows goes through it: :meth:`Ledger.accept` (an action: evidence
checked, every guard run, the entry hashed onto the chain and appended),
:meth:`Ledger.migrated` (a version move); a replay (``_snapshot.py``) calls the
same two with an ``expect`` hook that insists each entry is exactly the one
stored before it is appended. ``Case``, restore, migrations and the store all
use these and nothing else, so there is one path for an entry, and it costs
the same at entry 20,000 as at entry 2: the index is extended in place, never
rebuilt.

The ledger is private and mutable; ``Case`` is its sealed public face.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final, overload

import attrs

from resolveflow._actor import MAX_ID, Actor, as_actor
from resolveflow._canonical import CanonicalError
from resolveflow._fast_evidence import load_dump as fast_load_dump
from resolveflow._guards import make_context
from resolveflow._history import (
    JCS,
    RECIPES,
    HistoryEntry,
    canonical_text,
    chain_hash,
    entry_hash,
    format_time,
    genesis_hash,
    new_entry,
)
from resolveflow._index import HistoryIndex
from resolveflow._methodology import Action, Methodology
from resolveflow._migrating import check_migration
from resolveflow._migration import MIGRATE_ACTION, Migration
from resolveflow._refusal import Refusal
from resolveflow._schema import INVALID, Errors, is_encodable, record_codec
from resolveflow._slots import slot_writer
from resolveflow.exceptions import InvalidEvidence, InvalidInput, Refused, UnknownAction


@attrs.frozen(kw_only=True)
class Decision:
    """The answer to "may this action be taken now?".

    Attributes:
        action: the action asked about.
        allowed: True when nothing refuses it.
        refusals: every reason it is refused (empty when allowed).
        target: the step it would lead to.
        pending: names of guards that read the evidence and were not checked
            because no evidence was given; they run when it is.

    Example:
        >>> import resolveflow
        >>> case = resolveflow.open_case("prescription", case_id="c-1")
        >>> case.check("remedy").allowed
        False
    """

    action: str
    allowed: bool
    refusals: tuple[Refusal, ...]
    target: str
    pending: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible data for an API response."""
        return {
            "action": self.action,
            "allowed": self.allowed,
            "refusals": [r.to_json() for r in self.refusals],
            "target": self.target,
            "pending": list(self.pending),
        }


# check() makes one per refused answer, from checked values (see _slots.py).
_MakeDecision = Callable[[str, bool, tuple[Refusal, ...], str, tuple[str, ...]], Decision]
_make_decision: Final[_MakeDecision] = slot_writer(
    Decision, "action", "allowed", "refusals", "target", "pending"
)


@functools.lru_cache(maxsize=4096)
def _allowed_decision(action: str, target: str, pending: tuple[str, ...]) -> Decision:
    """An allowed Decision depends on nothing else, and is immutable: one object per answer."""
    return Decision(action=action, allowed=True, refusals=(), target=target, pending=pending)


def check_case_id(case_id: object) -> str:
    """A case id: non-blank text of at most MAX_ID characters (InvalidInput otherwise)."""
    if (
        not isinstance(case_id, str)
        or not case_id.strip()
        or len(case_id) > MAX_ID
        or not is_encodable(case_id)
    ):
        shown = repr(case_id) if isinstance(case_id, str) else f"a {type(case_id).__name__}"
        raise InvalidInput(
            f"a case id must be non-blank text of at most {MAX_ID} characters, got {shown[:80]}",
            argument="case_id",
        )
    return case_id


def check_actor(actor: object) -> Actor:
    """An ``actor=`` argument: an Actor, or an id as an actor without roles (InvalidInput otherwise)."""
    return as_actor(actor)


def load_evidence(action: Action, evidence: object) -> tuple[object | None, Any, Errors]:
    """Validate evidence for an action: (record, canonical JSON data, errors)."""
    errors: Errors = []
    if action.evidence is None:
        if evidence is None or (isinstance(evidence, Mapping) and not evidence):
            return None, None, errors
        errors.append(("", "this action records no evidence; pass none"))
        return None, None, errors
    codec = record_codec(action.evidence)
    if evidence is None:
        errors.append(("", f"this action records a {codec.title.lower()}; none was given"))
        return None, None, errors
    # Well-formed input (what fire() and restore() nearly always get) in one pass;
    # anything unusual takes the full path below, which names every problem.
    fast = fast_load_dump(codec, evidence)
    if fast is not None:
        return fast[0], fast[1], errors
    if not isinstance(evidence, Mapping | action.evidence):
        errors.append(
            ("", f"expected a {action.evidence.__name__} or a JSON object, got {type(evidence).__name__}")
        )
        return None, None, errors
    record = codec.load(evidence, "", errors)
    if record is INVALID or errors:
        return None, None, errors
    return record, codec.dump(record), errors


def invalid_evidence_refusal(errors: Errors) -> Refusal:
    """The refusal ``check()`` gives for evidence that does not validate."""
    return Refusal(
        code="invalid_evidence",
        message="The evidence is not valid: " + "; ".join(f"{p or '<evidence>'}: {m}" for p, m in errors),
        missing=tuple(p or "<evidence>" for p, _ in errors),
    )


class Entries(Sequence[HistoryEntry]):
    """A read-only view of the first ``n`` entries of a ledger (what guards see as ``history``).

    The ledger only ever appends, so the view stays what it was when made,
    and making one costs nothing, however long the history.
    """

    __slots__ = ("_items", "_n")

    def __init__(self, items: list[HistoryEntry], n: int) -> None:
        self._items = items
        self._n = n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> HistoryEntry: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[HistoryEntry, ...]: ...
    def __getitem__(self, index: int | slice) -> HistoryEntry | tuple[HistoryEntry, ...]:
        if isinstance(index, slice):
            return tuple(self._items[: self._n][index])
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError("history index out of range")
        return self._items[index]

    def __iter__(self) -> Iterator[HistoryEntry]:
        items = self._items
        return (items[i] for i in range(self._n))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(other) == self._n and all(a == b for a, b in zip(self, other, strict=False))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(tuple(self))


class Ledger:
    """A case's history, its guards' index and the one append; see the module docstring."""

    __slots__ = (
        "_entries",
        "_genesis",
        "_tuple",
        "case_id",
        "definitions",
        "index",
        "methodology",
        "opened_with",
        "recipe",
    )

    def __init__(
        self, methodology: Methodology, case_id: str, *, opened_with: str | None = None, recipe: str = JCS
    ) -> None:
        if not isinstance(methodology, Methodology):
            raise InvalidInput(
                f"expected a Methodology, got {type(methodology).__name__}", argument="methodology"
            )
        self.methodology = methodology
        # Every definition the history was recorded under, oldest first: a snapshot binds their digests.
        self.definitions: tuple[Methodology, ...] = (methodology,)
        self.case_id = check_case_id(case_id)
        self.opened_with = methodology.version if opened_with is None else opened_with
        if recipe not in RECIPES:
            raise InvalidInput(f"unknown hash recipe {recipe!r}; use one of {RECIPES}", argument="recipe")
        self.recipe = recipe  # how entries are hashed: see _history.RECIPES
        self._entries: list[HistoryEntry] = []
        self._tuple: tuple[HistoryEntry, ...] | None = ()
        self.index = HistoryIndex(methodology.initial)
        self._genesis = genesis_hash(methodology.id, self.opened_with, self.case_id)

    # --- reading -------------------------------------------------------------

    @property
    def entries(self) -> tuple[HistoryEntry, ...]:
        """Every entry, oldest first (one tuple per length, made when first asked for)."""
        found = self._tuple
        if found is None:
            found = self._tuple = tuple(self._entries)
        return found

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def last(self) -> HistoryEntry | None:
        """The latest entry, or None."""
        entries = self._entries
        return entries[-1] if entries else None

    @property
    def step(self) -> str:
        """The current step: where the last entry led, or the initial step."""
        entries = self._entries
        return entries[-1].step if entries else self.methodology.initial

    @property
    def genesis(self) -> str:
        """The hash the chain starts from (methodology id, opening version, case id)."""
        return self._genesis

    @property
    def head(self) -> str:
        """The hash of the last entry, or the genesis hash of the empty history."""
        entries = self._entries
        return entries[-1].hash if entries else self._genesis

    def path(self) -> list[str]:
        """The steps the case has been at, in order, in the current version's ids."""
        index = self.index
        if not index.froms:
            return [self.methodology.initial]
        return [
            index.froms[0],
            *(to for source, to in zip(index.froms, index.tos, strict=True) if to != source),
        ]

    def forward(self, at: _dt.datetime) -> _dt.datetime:
        """``at``, refused when it is earlier than the last entry (history only moves forward)."""
        last = self.last
        if last is not None and at < last.at:
            raise InvalidInput(
                f"{format_time(at)} is earlier than the last entry ({format_time(last.at)}); "
                "history only moves forward",
                argument="at",
            )
        return at

    def verify_chain(self) -> bool:
        """Recompute every hash from the entries' content: True when the chain holds."""
        previous = self._genesis
        for number, entry in enumerate(self._entries, start=1):
            if entry.seq != number or entry_hash(previous, entry.body(), self.recipe) != entry.hash:
                return False
            previous = entry.hash
        return True

    # --- deciding ------------------------------------------------------------

    def action(self, name: object) -> Action:
        """The methodology's action of this name; UnknownAction names the ones at this step."""
        found = self.methodology.action(name) if isinstance(name, str) else None
        if found is None:
            step = self.step
            shown = name if isinstance(name, str) else f"<{type(name).__name__}>"
            raise UnknownAction(
                shown[:200],
                step=step,
                methodology=self.methodology.id,
                available=[a.name for a in self.methodology.actions_from(step)],
                closed=self.methodology.outcome(step) is not None,
            )
        return found

    def structural_refusal(self, action: Action, step: str) -> Refusal | None:
        """A closed case or a wrong step refuses before evidence or guards are looked at."""
        if step in action.sources:
            return None  # a step an action leaves is never an outcome
        outcome = self.methodology.outcome(step)
        if outcome is not None:
            return Refusal(
                code="case_closed",
                message=f"The case is closed at {outcome.title!r}; no action can be taken.",
            )
        here = ", ".join(a.name for a in self.methodology.actions_from(step)) or "none"
        return Refusal(
            code="not_from_this_step",
            message=(
                f"{action.title!r} can only be taken at {', '.join(action.sources)}; "
                f"the case is at {step!r}, where the actions are: {here}."
            ),
            missing=tuple(f"step:{s}" for s in action.sources),
        )

    def run_guards(
        self, action: Action, step: str, record: object | None, at: _dt.datetime, actor: Actor | None = None
    ) -> tuple[str | None, tuple[Refusal, ...], tuple[str, ...]]:
        """Every guard of ``action`` from ``step`` (which it leaves): (target or None, refusals, pending)."""
        dest, condition = self.methodology._engine.route(step, action.name)
        if record is None:
            if not condition.plain:  # nothing to look at until the evidence comes
                return dest, (), condition.waiting
        elif not condition.guards:
            return dest, (), ()
        context = make_context(
            step, Entries(self._entries, len(self._entries)), record, at, actor, self.index
        )
        target, refusals, pending = condition.decide(dest, context)
        return target, tuple(refusals), tuple(pending)

    def decide(
        self, action: Action, record: object | None, at: _dt.datetime, actor: Actor | None = None
    ) -> tuple[str | None, tuple[Refusal, ...], tuple[str, ...]]:
        """The structure, then the guards: (target or None, refusals, pending)."""
        step = self.step
        refusal = self.structural_refusal(action, step)
        if refusal is not None:
            return None, (refusal,), ()
        return self.run_guards(action, step, record, at, actor)

    def check(
        self, action: Action, evidence: object, at: _dt.datetime, actor: Actor | None = None
    ) -> Decision:
        """The answer ``Case.check`` gives; changes nothing."""
        step = self.step
        name = action.name
        refusal = self.structural_refusal(action, step)
        if refusal is not None:
            return _make_decision(name, False, (refusal,), action.target_from(step), ())
        record: object | None = None
        if evidence is None:
            # An action none of whose guards can run without evidence gets the same
            # answer at a step whatever the case holds: made once per methodology version.
            engine = self.methodology._engine
            known: Decision | None = engine.memo.get((step, name))
            if known is not None:
                return known
            dest, condition = engine.route(step, name)
            if not condition.plain:
                known = engine.memo[(step, name)] = _allowed_decision(name, dest, condition.waiting)
                return known
        else:
            record, _, errors = load_evidence(action, evidence)
            if errors:
                return _make_decision(
                    name, False, (invalid_evidence_refusal(errors),), action.target_from(step), ()
                )
        # Pending holds exactly the guards skipped for want of evidence or an actor.
        _, refusals, pending = self.run_guards(action, step, record, at, actor)
        if not refusals:
            return _allowed_decision(name, action.target_from(step), pending)
        return _make_decision(name, False, refusals, action.target_from(step), pending)

    # --- the one append ------------------------------------------------------

    def accept(
        self,
        action: Action,
        evidence: object,
        actor: Actor,
        at: _dt.datetime,
        *,
        at_text: str | None = None,
        expect: Callable[[HistoryEntry, Any], None] | None = None,
        sealed: bool = False,
    ) -> HistoryEntry:
        """Record ``action``: evidence validated, every guard run, the entry chained and appended.

        ``actor`` and ``at`` are checked by the caller (``at`` no earlier than the
        last entry); ``at_text`` is ``format_time(at)`` when the caller has it (a
        stored time). ``expect`` sees the entry and its evidence as hashed before
        it is appended and may raise to refuse it (a replay comparing with what
        was stored). ``sealed`` is for a replay only, of an entry whose seal
        verified (``_seal.py``): its guards passed when it was recorded and no one
        without the key can have changed it, so they are not run again (the
        structure, the evidence and the hash still are). Raises Refused or
        InvalidEvidence, changing nothing.
        """
        step = self.step
        refusal = self.structural_refusal(action, step)
        if refusal is not None:
            raise Refused(action=action.name, step=step, refusals=(refusal,))
        record, data, errors = load_evidence(action, evidence)
        if errors:
            raise InvalidEvidence(action=action.name, errors=errors)
        if sealed:
            target = self.methodology._engine.route(step, action.name)[0]
        else:
            found, refusals, _ = self.run_guards(action, step, record, at, actor)
            if refusals or found is None:
                raise Refused(action=action.name, step=step, refusals=refusals)
            target = found
        entry = self._next_entry(action.name, target, actor, at, record, data, at_text)
        if expect is not None:
            expect(entry, data)
        self._append(entry, step)
        return entry

    def _next_entry(
        self,
        action: str,
        step: str,
        actor: Actor,
        at: _dt.datetime,
        record: object | None,
        data: Any,
        at_text: str | None = None,
    ) -> HistoryEntry:
        """The entry that would follow the current last one, hashed onto the chain."""
        last = self.last
        if last is not None:
            seq, from_step, previous = last.seq + 1, last.step, last.hash
        else:
            seq, from_step, previous = 1, self.methodology.initial, self._genesis
        digest = chain_hash(
            previous,
            seq=seq,
            action=action,
            from_step=from_step,
            step=step,
            actor=actor.id,
            roles=actor.roles,
            at=format_time(at) if at_text is None else at_text,
            evidence=self._evidence_text(action, data),
        )
        return new_entry(seq, action, from_step, step, actor.id, at, record, digest, actor.roles)

    def _evidence_text(self, action: str, data: Any) -> str:
        """The canonical text of validated evidence; what no canonical form can write is refused."""
        try:
            return canonical_text(data, self.recipe)
        except CanonicalError as error:
            raise InvalidEvidence(action=action, errors=[(error.path.lstrip("$."), error.reason)]) from None

    def _append(self, entry: HistoryEntry, from_step: str) -> None:
        """The one place a history grows; ``from_step`` in the current version's ids.

        The index goes first: it refuses a record whose promise hooks fail
        before anything changes, so a refused entry is never half recorded.
        """
        self.index.add(entry.action, from_step, entry.step, entry.at, entry.evidence, entry.actor)
        self._entries.append(entry)
        self._tuple = None

    # --- migrations ----------------------------------------------------------

    def migrated(
        self,
        migration: Migration,
        target: Methodology,
        actor: Actor,
        at: _dt.datetime,
        *,
        expect: Callable[[HistoryEntry, Any], None] | None = None,
    ) -> Ledger:
        """A new ledger on ``target`` with a ``migrate_version`` entry; this one is left as it is.

        Raises Refused with every reason the case cannot move (see ``check_migration``).
        """
        self.forward(at)
        step = self.step
        index = self.index
        records = [
            (type(entry.evidence), source)
            for entry, source in zip(self._entries, index.froms, strict=True)
            if entry.evidence is not None and not isinstance(entry.evidence, Migration)
        ]
        landing, refusals = check_migration(
            migration, source=self.methodology, target=target, step=step, visits=self.path(), records=records
        )
        if refusals:
            raise Refused(action=MIGRATE_ACTION, step=step, refusals=refusals)
        data = migration.to_json()
        entry = self._next_entry(MIGRATE_ACTION, landing, actor, at, migration, data)
        if expect is not None:
            expect(entry, data)
        moved = self.copy()
        moved.methodology = target
        moved.definitions = (*self.definitions, target)
        moved.index.remap(migration.target_step, (e.at for e in self._entries))
        moved._append(entry, migration.target_step(step))
        return moved

    def copy(self) -> Ledger:
        """An independent ledger with the same history: appending to one leaves the other as it was.

        Costs a copy of the entry list and the index (references to the same
        immutable entries), not a replay.
        """
        out: Ledger = object.__new__(Ledger)
        out.methodology = self.methodology
        out.definitions = self.definitions
        out.case_id = self.case_id
        out.opened_with = self.opened_with
        out.recipe = self.recipe
        out._genesis = self._genesis
        out._entries = list(self._entries)
        out._tuple = self._tuple  # a tuple of the same entries (or None): immutable, safe to share
        out.index = self.index.copy()
        return out
