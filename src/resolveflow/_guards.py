"""Guards: named rules checked before an action, and the refusals they give.

A guard never answers a bare False. It returns None when it passes, or a
:class:`Refusal` with a stable ``code`` (the guard's name, safe to branch on
and to translate), a readable ``message`` and the ``missing`` items an agent
must supply. Every guard of an action is checked, so a refusal lists them all.

Guards come in declarative kinds (``Requires``, ``AfterStep``,
``EvidenceIs`` ...) that files and diagrams can describe, plus ``Rule`` for a
Python predicate when nothing declarative fits.
"""

from __future__ import annotations

import abc
import datetime as _dt
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

import attrs

from resolveflow._actor import Actor, check_role
from resolveflow._history import HistoryEntry  # at run time too: GuardContext's type hints name it
from resolveflow._index import HistoryIndex
from resolveflow._promise import Promise
from resolveflow._refusal import ENGINE_REFUSAL_CODES, Refusal, make_refusal
from resolveflow._schema import record_codec, record_key
from resolveflow._slots import slot_writer
from resolveflow.exceptions import InvalidInput, InvalidMethodology

_CODE = re.compile(r"[a-z][a-z0-9_]*")


@attrs.frozen(kw_only=True, weakref_slot=False)
class GuardContext:
    """What a guard may look at: the case so far, the proposed evidence and the time.

    The questions guards ask (:meth:`latest`, :meth:`recorded`, :meth:`visited`,
    :meth:`entered_at`, :meth:`open_promises`) are answered from the case's
    index, in time that does not grow with the history; ``history`` itself is
    there for rules that need more.

    Attributes:
        step: the step the case is at.
        history: the accepted entries so far (a read-only sequence).
        evidence: the evidence proposed with the action (a typed record), or None
            when ``check()`` was called without evidence.
        at: the time the action would be recorded at.
        actor: who would take it (id and roles), or None when ``check()`` was
            asked without an actor: guards that look at the actor are then pending.

    Example:
        >>> import datetime
        >>> context = GuardContext(step="listen", history=(), evidence=None,
        ...                        at=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
        >>> context.visited("listen"), context.open_promises()
        (True, ())
    """

    step: str
    history: Sequence[HistoryEntry]
    evidence: object | None
    at: _dt.datetime
    actor: Actor | None = attrs.field(default=None, kw_only=True)
    # The case's own index, handed in by its ledger; a context made by hand (in a test)
    # builds one from ``history`` on first use. Not an __init__ argument.
    _index: HistoryIndex | None = attrs.field(default=None, init=False, eq=False, repr=False)

    def _idx(self) -> HistoryIndex:
        index = self._index
        if index is None:
            history = self.history
            index = HistoryIndex(history[0].from_step if history else self.step)
            for entry in history:
                index.add(entry.action, entry.from_step, entry.step, entry.at, entry.evidence, entry.actor)
            object.__setattr__(self, "_index", index)
        return index

    def entry_steps(self) -> tuple[tuple[str, str], ...]:
        """``(from_step, step)`` of every entry, in the step ids of the version the case is on now."""
        index = self._idx()
        return tuple(zip(index.froms, index.tos, strict=True))

    def recorded(
        self,
        record_type: type | tuple[type, ...],
        *,
        at_step: str | None = None,
        after: type | tuple[type, ...] | None = None,
    ) -> tuple[Any, ...]:
        """Every record of this type in the history, oldest first.

        Args:
            record_type: the evidence class to look for.
            at_step: only records made by actions taken from this step (current step ids,
                also for entries recorded before a migration).
            after: only records made after the latest record of this other type
                (none if there is no such record), e.g. completions since the plan.
        """
        index = self._idx()
        if after is None:
            positions = index.where(record_type)
        else:
            since = index.latest_position(after)
            positions = [] if since is None else index.after(record_type, since)
        if at_step is not None:
            froms = index.froms
            positions = [i for i in positions if froms[i] == at_step]
        history = self.history
        return tuple(history[i].evidence for i in positions)

    def has(self, record_type: type | tuple[type, ...]) -> bool:
        """Whether any record of this type was recorded."""
        return bool(self._idx().where(record_type))

    def latest(self, record_type: type | tuple[type, ...]) -> Any | None:
        """The most recent record of this type, or None."""
        position = self._idx().latest_position(record_type)
        return None if position is None else self.history[position].evidence

    def open_promises(self, kind: str | None = None) -> tuple[Promise, ...]:
        """Promises recorded and not yet settled (of one kind, or all), oldest first.

        Only what the records promised: the methodology's step deadlines (kind
        ``"step_deadline"``, in ``Case.overdue``) are what guards enforce, not among these.
        """
        promises = self._idx().promises.values()
        return tuple(p for p in promises if kind is None or p.kind == kind)

    def visited(self, step: str) -> bool:
        """Whether the case has been at this step (the initial step counts)."""
        return step in self._idx().visited

    def entered_at(self, step: str) -> _dt.datetime | None:
        """When the case last entered this step (the initial step: the first entry's time)."""
        return self._idx().entered.get(step)

    def acted_at(self, step: str) -> frozenset[str]:
        """The ids of the actors who took an action at this step (current step ids)."""
        return frozenset(self._idx().acted.get(step, ()))


# A ledger makes one per decision, from checked values (see _slots.py); the index is
# not an __init__ argument, so this is the one way to hand the ledger's index in.
make_context: Final[
    Callable[
        [str, Sequence[HistoryEntry], object | None, _dt.datetime, Actor | None, HistoryIndex | None],
        GuardContext,
    ]
] = slot_writer(GuardContext, "step", "history", "evidence", "at", "actor", "_index")


@attrs.frozen(kw_only=True)
class Need:
    """Something a guard needs to have happened earlier on the path: a record, or a step.

    ``verify`` reasons with these instead of running guards: a guard passes
    on a path only if everything it needs is on that path; a guard that
    needs nothing is assumed able to pass.

    Attributes:
        record: an evidence type that must have been recorded...
        at_step: ...by an action taken at this step (None: at any step).
        step: a step that must have been visited.
    """

    record: type | None = None
    at_step: str | None = None
    step: str | None = None

    def describe(self) -> str:
        if self.record is not None:
            where = f" at {self.at_step}" if self.at_step else ""
            return f"{record_key(self.record)}{where}"
        return f"step {self.step}"


class Guard(abc.ABC):
    """A named rule checked before an action; subclass it for a kind of your own.

    Subclasses set ``name`` (the refusal code) and ``message`` and implement
    :meth:`check`. Set ``uses_evidence`` when the rule reads the proposed
    evidence: ``check()`` without evidence then leaves it pending. Set
    ``uses_actor`` when it reads ``context.actor``: ``check()`` without an
    actor leaves it pending.
    """

    name: str
    message: str
    uses_evidence: bool = False
    uses_actor: bool = False

    @abc.abstractmethod
    def check(self, context: GuardContext) -> Refusal | None:
        """Return None when the rule holds, else the refusal."""

    def describe(self) -> str:
        """A short label for diagrams and listings."""
        return self.name

    def references(self) -> tuple[str, ...]:
        """Step ids this guard names, so a methodology can check they exist."""
        return ()

    def needs(self) -> tuple[Need, ...]:
        """What must be on the path for this guard to be able to pass (for ``verify``)."""
        return ()

    def evidence_fields(self) -> tuple[str, ...]:
        """Fields of the proposed evidence this guard reads, checked against the action's record."""
        return ()

    def datetime_fields(self) -> tuple[str, ...]:
        """The subset of :meth:`evidence_fields` that must hold date-times."""
        return ()

    def roles(self) -> tuple[str, ...]:
        """Roles this guard names, so a methodology can check it declares them."""
        return ()

    def refuse(self, *missing: str, message: str | None = None) -> Refusal:
        return make_refusal(self.name, message or self.message, missing)


def _check_code(name: str, kind: str, message: object = "-") -> str:
    if not isinstance(message, str) or not message.strip():
        raise InvalidMethodology(
            f"guard {name!r} needs a non-blank message: it is what the agent reads", where=f"{kind} guard"
        )
    if not isinstance(name, str) or not _CODE.fullmatch(name):
        raise InvalidMethodology(
            "guard names are refusal codes: lowercase letters, digits and underscores, "
            f"starting with a letter; got {name!r}",
            where=f"{kind} guard",
        )
    return name


def _check_record(record: type) -> type:
    record_codec(record)  # raises InvalidMethodology naming the record
    return record


@attrs.frozen(kw_only=True)
class Requires(Guard):
    """The case must already hold a record of this type (optionally made at a given step).

    Example:
        >>> from resolveflow import evidence
        >>> Requires(record=evidence.Plan).name
        'requires_plan'
    """

    record: type = attrs.field(validator=lambda _, __, v: _check_record(v))
    at_step: str | None = None
    name: str = attrs.field(default="")
    message: str = attrs.field(default="")

    def __attrs_post_init__(self) -> None:
        key = record_key(self.record)
        title = record_codec(self.record).title.lower()
        if not self.name:
            object.__setattr__(self, "name", f"requires_{key}")
        _check_code(self.name, "Requires", self.message or "-")
        if not self.message:
            where = f" at step {self.at_step!r}" if self.at_step else ""
            object.__setattr__(self, "message", f"Record the {title}{where} first.")

    def check(self, context: GuardContext) -> Refusal | None:
        if self.at_step is None:
            found: Any = context.has(self.record)  # no records tuple needed to say "any"
        else:
            found = context.recorded(self.record, at_step=self.at_step)
        return None if found else self.refuse(record_key(self.record))

    def describe(self) -> str:
        key = record_key(self.record)
        return f"requires {key}" + (f" @ {self.at_step}" if self.at_step else "")

    def needs(self) -> tuple[Need, ...]:
        return (Need(record=self.record, at_step=self.at_step),)

    def references(self) -> tuple[str, ...]:
        return (self.at_step,) if self.at_step else ()


@attrs.frozen(kw_only=True)
class AfterStep(Guard):
    """The case must have passed through this step.

    Example:
        >>> AfterStep(step="listen").name
        'after_listen'
    """

    step: str
    name: str = ""
    message: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", f"after_{self.step}")
        _check_code(self.name, "AfterStep", self.message or "-")
        if not self.message:
            object.__setattr__(self, "message", f"The case must go through step {self.step!r} first.")

    def check(self, context: GuardContext) -> Refusal | None:
        return None if context.visited(self.step) else self.refuse(f"step:{self.step}")

    def describe(self) -> str:
        return f"after {self.step}"

    def needs(self) -> tuple[Need, ...]:
        return (Need(step=self.step),)

    def references(self) -> tuple[str, ...]:
        return (self.step,)


@attrs.frozen(kw_only=True)
class EvidenceIs(Guard):
    """A field of the proposed evidence must have a given value.

    Example:
        >>> g = EvidenceIs(field="satisfied", equals=True, name="customer_satisfied",
        ...                message="The customer must confirm they are satisfied.")
        >>> g.uses_evidence
        True
    """

    field: str
    equals: object
    name: str
    message: str
    uses_evidence: bool = attrs.field(default=True, init=False)

    def __attrs_post_init__(self) -> None:
        _check_code(self.name, "EvidenceIs", self.message)

    def evidence_fields(self) -> tuple[str, ...]:
        return (self.field,)

    def check(self, context: GuardContext) -> Refusal | None:
        if context.evidence is None:
            return None
        actual = getattr(context.evidence, self.field, None)
        return None if actual == self.equals else self.refuse(f"{self.field}={self.equals!r}")

    def describe(self) -> str:
        return f"{self.field} = {self.equals!r}"


@attrs.frozen(kw_only=True)
class _EvidenceTime(Guard):
    """A date-time field of the proposed evidence compared with the time of the action."""

    field: str
    name: str
    message: str
    uses_evidence: bool = attrs.field(default=True, init=False)

    def __attrs_post_init__(self) -> None:
        _check_code(self.name, type(self).__name__, self.message)

    def evidence_fields(self) -> tuple[str, ...]:
        return (self.field,)

    def datetime_fields(self) -> tuple[str, ...]:
        return (self.field,)

    def _holds(self, value: _dt.datetime, now: _dt.datetime) -> bool:
        raise NotImplementedError

    def check(self, context: GuardContext) -> Refusal | None:
        value = getattr(context.evidence, self.field, None)
        if value is None or self._holds(value, context.at):
            return None
        return self.refuse(self.field)


@attrs.frozen(kw_only=True)
class LaterThanNow(_EvidenceTime):
    """A time in the proposed evidence must be later than the time of the action.

    Example:
        >>> LaterThanNow(field="resume_at", name="resume_in_future", message="Later, please.").describe()
        'resume_at > now'
    """

    def _holds(self, value: _dt.datetime, now: _dt.datetime) -> bool:
        return value > now

    def describe(self) -> str:
        return f"{self.field} > now"


@attrs.frozen(kw_only=True)
class NotLaterThanNow(_EvidenceTime):
    """A time in the proposed evidence must not be in the future.

    Example:
        >>> NotLaterThanNow(field="taken_at", name="already_taken", message="Not yet.").describe()
        'taken_at <= now'
    """

    def _holds(self, value: _dt.datetime, now: _dt.datetime) -> bool:
        return value <= now

    def describe(self) -> str:
        return f"{self.field} <= now"


@attrs.frozen(kw_only=True)
class NotBefore(Guard):
    """Not before the time held in a recorded field, e.g. do not resume before the agreed call-back.

    Passes when no such record exists yet (nothing was scheduled).

    Example:
        >>> from resolveflow import evidence
        >>> NotBefore(record=evidence.Reschedule, field="resume_at", name="not_before_call_back",
        ...           message="Wait for the agreed time.").describe()
        'not before reschedule.resume_at'
    """

    record: type = attrs.field(validator=lambda _, __, v: _check_record(v))
    field: str
    name: str
    message: str

    def __attrs_post_init__(self) -> None:
        _check_code(self.name, "NotBefore", self.message)
        fields = {f.attr: f for f in record_codec(self.record).fields}
        if self.field not in fields or not fields[self.field].is_datetime:
            raise InvalidMethodology(
                f"field {self.field!r} is not a datetime field of {self.record.__name__}; "
                f"datetime fields are: {', '.join(n for n, f in fields.items() if f.is_datetime) or 'none'}",
                where=f"NotBefore guard {self.name!r}",
            )

    def check(self, context: GuardContext) -> Refusal | None:
        latest = context.latest(self.record)
        moment = getattr(latest, self.field, None) if latest is not None else None
        if moment is None or context.at >= moment:
            return None
        # The time in the words too: an agent reads the message, not the missing list.
        when = moment.isoformat()
        return self.refuse(f"not_before:{when}", message=f"{self.message} Not before {when}.")

    def describe(self) -> str:
        return f"not before {record_key(self.record)}.{self.field}"


@attrs.frozen(kw_only=True)
class WithinDeadline(Guard):
    """Only within a time limit after the case (last) entered a step, e.g. remedy within 24 hours.

    Passes while the case has not been at that step. A case past its
    deadline is refused this action: give it another way on (an escalation).

    Example:
        >>> WithinDeadline(step="acknowledge", hours=24, name="within_a_day",
        ...                message="The remedy must start within a day.").describe()
        'within 1 day, 0:00:00 of acknowledge'
    """

    step: str
    days: int = 0
    hours: int = 0
    minutes: int = 0
    name: str
    message: str

    def __attrs_post_init__(self) -> None:
        _check_code(self.name, "WithinDeadline", self.message)
        amounts = (self.days, self.hours, self.minutes)
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in amounts) or not any(amounts):
            raise InvalidMethodology(
                "give a positive time limit in whole days, hours and/or minutes",
                where=f"WithinDeadline guard {self.name!r}",
            )

    @property
    def limit(self) -> _dt.timedelta:
        """The time allowed."""
        return _dt.timedelta(days=self.days, hours=self.hours, minutes=self.minutes)

    def check(self, context: GuardContext) -> Refusal | None:
        entered = context.entered_at(self.step)
        if entered is None or context.at <= entered + self.limit:
            return None
        return self.refuse(f"deadline:{(entered + self.limit).isoformat()}")

    def describe(self) -> str:
        return f"within {self.limit} of {self.step}"

    def references(self) -> tuple[str, ...]:
        return (self.step,)


def _role(value: object, kind: str) -> str:
    try:
        return check_role(value)
    except InvalidInput as error:
        raise InvalidMethodology(str(error), where=f"{kind} guard") from None


def _has_role(value: object) -> str:
    return _role(value, "HasRole")


def _or_role(value: object) -> str | None:
    return None if value is None else _role(value, "NamedActor")


@attrs.frozen(kw_only=True)
class HasRole(Guard):
    """Only an actor holding this role may take the action.

    Without an actor (``check()`` asked without one) it is left pending. The
    refusal names the role missing as ``role:<role>``.

    Example:
        >>> HasRole(role="legal").name
        'needs_role_legal'
    """

    role: str = attrs.field(converter=_has_role)
    name: str = ""
    message: str = ""
    uses_actor: bool = attrs.field(default=True, init=False)

    def __attrs_post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", f"needs_role_{self.role}")
        if not self.message:
            object.__setattr__(self, "message", f"Only someone with the role {self.role!r} may do this.")
        _check_code(self.name, "HasRole", self.message)

    def check(self, context: GuardContext) -> Refusal | None:
        actor = context.actor
        return None if actor is not None and actor.has(self.role) else self.refuse(f"role:{self.role}")

    def describe(self) -> str:
        return f"role {self.role}"

    def roles(self) -> tuple[str, ...]:
        return (self.role,)


@attrs.frozen(kw_only=True)
class OtherThan(Guard):
    """Four eyes: the actor must not be anyone who took an action at ``step``.

    For example, compensation proposed at ``propose`` is approved by someone
    else. Passes while nobody has acted at that step.

    Example:
        >>> OtherThan(step="propose").name
        'four_eyes_propose'
    """

    step: str
    name: str = ""
    message: str = ""
    uses_actor: bool = attrs.field(default=True, init=False)

    def __attrs_post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", f"four_eyes_{self.step}")
        if not self.message:
            object.__setattr__(
                self, "message", f"Someone other than whoever acted at step {self.step!r} must do this."
            )
        _check_code(self.name, "OtherThan", self.message)

    def check(self, context: GuardContext) -> Refusal | None:
        actor = context.actor
        if actor is None or actor.id not in context.acted_at(self.step):
            return None
        return self.refuse(f"other_than:{self.step}")

    def describe(self) -> str:
        return f"not whoever acted at {self.step}"

    def references(self) -> tuple[str, ...]:
        return (self.step,)


@attrs.frozen(kw_only=True)
class NamedActor(Guard):
    """Only the actor named in the latest record of a type (a hand-off's target), or holding ``or_role``.

    Passes while there is no such record. The refusal names who may act as
    ``actor:<id>`` (and ``role:<or_role>`` when given).

    Example:
        >>> from resolveflow import evidence
        >>> NamedActor(record=evidence.Handoff, field="to").name
        'named_in_handoff'
    """

    record: type = attrs.field(validator=lambda _, __, v: _check_record(v))
    field: str
    or_role: str | None = attrs.field(default=None, converter=_or_role)
    name: str = ""
    message: str = ""
    uses_actor: bool = attrs.field(default=True, init=False)

    def __attrs_post_init__(self) -> None:
        key = record_key(self.record)
        if not self.name:
            object.__setattr__(self, "name", f"named_in_{key}")
        if not self.message:
            title = record_codec(self.record).title.lower()
            extra = f" or someone with the role {self.or_role!r}" if self.or_role else ""
            object.__setattr__(self, "message", f"Only the person named in the {title}{extra} may do this.")
        _check_code(self.name, "NamedActor", self.message)
        fields = {f.attr: f for f in record_codec(self.record).fields}
        if self.field not in fields:
            raise InvalidMethodology(
                f"field {self.field!r} is not a field of {self.record.__name__}; "
                f"its fields are: {', '.join(fields)}",
                where=f"NamedActor guard {self.name!r}",
            )

    def check(self, context: GuardContext) -> Refusal | None:
        latest = context.latest(self.record)
        named = getattr(latest, self.field, None) if latest is not None else None
        actor = context.actor
        if named is None or actor is None or actor.id == named:
            return None
        if self.or_role is not None and actor.has(self.or_role):
            return None
        missing = [f"actor:{named}"] + ([f"role:{self.or_role}"] if self.or_role else [])
        return self.refuse(*missing)

    def describe(self) -> str:
        return f"named in {record_key(self.record)}.{self.field}"

    def roles(self) -> tuple[str, ...]:
        return (self.or_role,) if self.or_role else ()


@attrs.frozen(kw_only=True)
class Rule(Guard):
    """A rule written as a Python predicate, for what no declarative kind expresses.

    The predicate gets the :class:`GuardContext` and returns True (passes),
    False (refused, nothing specific missing) or an iterable of missing items
    (refused when not empty).

    Example:
        >>> weekday = Rule(name="on_a_weekday", message="Only on weekdays.",
        ...                predicate=lambda ctx: ctx.at.weekday() < 5)
        >>> weekday.name
        'on_a_weekday'
    """

    name: str
    message: str
    # Compared by identity: two definitions whose rules decide differently must not be equal.
    predicate: Callable[[GuardContext], bool | Iterable[str]]
    uses_evidence: bool = False

    def __attrs_post_init__(self) -> None:
        _check_code(self.name, "Rule", self.message)

    def check(self, context: GuardContext) -> Refusal | None:
        result = self.predicate(context)
        if result is True:
            return None
        if result is False:
            return self.refuse()
        if isinstance(result, str):
            return self.refuse(result) if result else None
        if not isinstance(result, Iterable):
            raise InvalidMethodology(
                f"the predicate returned {result!r}; return True, False or the missing items",
                where=f"Rule {self.name!r}",
            )
        missing = tuple(str(item) for item in result)
        return self.refuse(*missing) if missing else None


def check_guard_definition(guard: object, where: str) -> None:
    """Reject a guard object that could not give a proper refusal (custom subclasses included)."""
    if not isinstance(guard, Guard):
        raise InvalidMethodology(
            f"guards must be Guard instances (Requires, AfterStep, Rule ...), got {guard!r}", where=where
        )
    name = getattr(guard, "name", None)
    message = getattr(guard, "message", None)
    if not isinstance(name, str) or not _CODE.fullmatch(name):
        raise InvalidMethodology(
            f"guard {type(guard).__name__} needs a 'name' that is a snake_case refusal code, got {name!r}",
            where=where,
        )
    if not isinstance(message, str) or not message.strip():
        raise InvalidMethodology(f"guard {name!r} needs a non-blank 'message'", where=where)
    if name in ENGINE_REFUSAL_CODES:
        raise InvalidMethodology(
            f"guard name {name!r} is reserved for resolveflow's own refusals; choose another", where=where
        )


def run_guard(guard: Guard, context: GuardContext) -> Refusal | None:
    """Run one guard and insist on a proper answer: None, or a Refusal."""
    result = guard.check(context)
    if result is None or isinstance(result, Refusal):
        return result
    raise InvalidMethodology(
        f"guard {guard.name!r} returned {result!r}; a guard returns None (passes) or a Refusal",
        where=f"guard {guard.name!r}",
    )
