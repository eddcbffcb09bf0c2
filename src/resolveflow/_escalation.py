"""Escalations: what the deadline worker does, as a system actor, when a promise is missed.

A methodology may declare, per promise kind, an :class:`Escalation`: how long
after its due time an open promise counts as missed (``grace``) and which
action the worker then takes on the case, as an :class:`~resolveflow.Actor`
holding the escalation's ``role``. The action goes through
:meth:`Store.fire <resolveflow.store.Store.fire>` like any other: its guards
still apply, and a refused escalation is reported (an event of its own, and a
refusal row when the store records refusals), never forced.

Design note: escalations are operating policy, not part of what a case
records. They are compared with ``eq=False`` on the methodology and stay out
of its definition digest, so that adding or tuning an escalation does not
rebind the cases already stored under that definition. The worker reads them
from the methodology the case is on, when the promise comes due.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol

import attrs

from resolveflow._actor import ROLE, Actor, check_actor_id
from resolveflow._canonical import CanonicalError, canonical_text
from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput, InvalidMethodology


class _Declaring(Protocol):
    """What of a Methodology the checks read (this module may not import it: it imports this one)."""

    @property
    def escalations(self) -> tuple[Escalation, ...]: ...
    @property
    def roles(self) -> tuple[str, ...]: ...
    @property
    def actions(self) -> tuple[Any, ...]: ...
    def action(self, name: str) -> Any: ...


WORKER_ACTOR: Final = "resolveflow-worker"
"""The actor id an escalation fires as, unless it names another."""

MAX_GRACE: Final = _dt.timedelta(days=366)
_KIND: Final = re.compile(r"[a-z][a-z0-9_]{0,19}")  # the deadlines table keeps 20 characters
_NAME: Final = re.compile(r"(?=.{1,100}$)[a-z][a-z0-9_]*")


@attrs.frozen(kw_only=True)
class Escalation:
    """What the deadline worker does when a promise of some kind is missed.

    Attributes:
        action: the action the worker takes on the case (it must exist in the methodology).
        role: the role the worker acts with (declared in the methodology's ``roles``).
        kind: the promise kind it is for (``"plan_item"``, ``"follow_up"`` ...); None: every kind
            no other escalation names.
        grace: how long after its due time an open promise counts as missed (default: at once).
        actor: the id the worker acts as (default ``"resolveflow-worker"``).
        evidence: the evidence the action is taken with, as JSON (None for none).

    Raises:
        InvalidMethodology: a blank or malformed action, role, kind or actor, a
            negative grace or one over a year, evidence that is not a mapping; and,
            when the methodology is made, an action it does not have, a role it does
            not declare, or two escalations for one kind.

    Example:
        >>> import datetime
        >>> from resolveflow._escalation import Escalation
        >>> e = Escalation(kind="plan_item", action="escalate", role="supervisor",
        ...                grace=datetime.timedelta(hours=4))
        >>> e.actor, e.system_actor().roles
        ('resolveflow-worker', frozenset({'supervisor'}))
    """

    action: str
    role: str
    kind: str | None = None
    grace: _dt.timedelta = _dt.timedelta(0)
    actor: str = WORKER_ACTOR
    evidence: Mapping[str, Any] | None = attrs.field(default=None, hash=False)

    def __attrs_post_init__(self) -> None:
        where = f"escalation {shown(self.action)}"
        if not isinstance(self.action, str) or not _NAME.fullmatch(self.action):
            raise InvalidMethodology(
                f"action {shown(self.action)} is not an action name (lowercase letters, digits and "
                "underscores, starting with a letter)",
                where="escalation",
            )
        if not isinstance(self.role, str) or not ROLE.fullmatch(self.role):
            raise InvalidMethodology(
                f"role {shown(self.role)} is not a snake_case word of at most 100 characters "
                "(the worker acts with this role; it may not be blank)",
                where=where,
            )
        if self.kind is not None and (not isinstance(self.kind, str) or not _KIND.fullmatch(self.kind)):
            raise InvalidMethodology(
                f"kind {shown(self.kind)} is not a promise kind (a snake_case word of at most 20 "
                "characters, e.g. 'plan_item'), nor None for every kind",
                where=where,
            )
        grace = self.grace
        if not isinstance(grace, _dt.timedelta) or not (_dt.timedelta(0) <= grace <= MAX_GRACE):
            raise InvalidMethodology(
                f"grace must be a timedelta from 0 to {MAX_GRACE.days} days, "
                f"got {grace if isinstance(grace, _dt.timedelta) else shown(grace)}",
                where=where,
            )
        try:
            check_actor_id(self.actor)
        except InvalidInput as error:
            raise InvalidMethodology(str(error), where=where) from None
        if self.evidence is not None:
            if not isinstance(self.evidence, Mapping):
                raise InvalidMethodology(
                    f"evidence must be None or a mapping of JSON values, got {shown(self.evidence)}",
                    where=where,
                )
            # JSON data only (what a file can hold and a fire can take), kept as a copy of its own:
            # a datetime, NaN or an int key is refused here, not when the methodology is written out.
            try:
                copied = json.loads(canonical_text(dict(self.evidence)))
            except CanonicalError as error:
                raise InvalidMethodology(
                    f"evidence must be JSON data: at {error.path}, {error.reason}", where=where
                ) from None
            object.__setattr__(self, "evidence", copied)

    def system_actor(self) -> Actor:
        """The actor the worker takes the action as: ``actor`` holding ``role``."""
        return Actor(self.actor, roles={self.role})


def escalations_arg(value: Iterable[Escalation]) -> tuple[Escalation, ...]:
    """The ``escalations=`` of a Methodology as a tuple (checked in :func:`check_escalations`)."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidMethodology(
            f"escalations must be a list of Escalation objects, got {shown(value)}", where="methodology"
        )
    return tuple(value)


def check_escalations(methodology: _Declaring, where: str) -> None:
    """Each escalation names an action the methodology has and a role it declares; one per kind."""
    kinds: set[str | None] = set()
    for escalation in methodology.escalations:
        if not isinstance(escalation, Escalation):
            raise InvalidMethodology(
                f"escalations must hold Escalation objects, got {shown(escalation)}", where=where
            )
        e_where = f"{where}, escalation {escalation.action!r}"
        if methodology.action(escalation.action) is None:
            raise InvalidMethodology(
                f"names the action {escalation.action!r}, which the methodology does not have; "
                f"actions are: {', '.join(a.name for a in methodology.actions)}",
                where=e_where,
            )
        if escalation.role not in methodology.roles:
            raise InvalidMethodology(
                f"acts with the role {escalation.role!r}, which the methodology does not declare; "
                f"declare it in roles (declared: {', '.join(methodology.roles) or 'none'})",
                where=e_where,
            )
        if escalation.kind in kinds:
            named = "every kind" if escalation.kind is None else f"kind {escalation.kind!r}"
            raise InvalidMethodology(f"a second escalation for {named}", where=e_where)
        kinds.add(escalation.kind)


def escalation_for(methodology: _Declaring, kind: str) -> Escalation | None:
    """The escalation for promises of ``kind``: the one naming it, else the one for every kind."""
    fallback = None
    for escalation in methodology.escalations:
        if escalation.kind == kind:
            return escalation
        if escalation.kind is None:
            fallback = escalation
    return fallback


_UNITS: Final = ("days", "hours", "minutes", "seconds")


def escalation_from_dict(data: Mapping[str, Any]) -> Escalation:
    """An escalation as a methodology file declares it (the schema has checked its keys)."""
    grace = data.get("grace", {})
    return Escalation(
        kind=data.get("kind"),
        action=data["action"],
        role=data["role"],
        actor=data.get("actor", WORKER_ACTOR),
        grace=_dt.timedelta(**{unit: grace.get(unit, 0) for unit in _UNITS}),
        evidence=data.get("evidence"),
    )


def escalation_to_dict(escalation: Escalation) -> dict[str, Any]:
    """The file form of an escalation (the inverse of :func:`escalation_from_dict`)."""
    out: dict[str, Any] = {}
    if escalation.kind is not None:
        out["kind"] = escalation.kind
    out["action"] = escalation.action
    out["role"] = escalation.role
    if escalation.actor != WORKER_ACTOR:
        out["actor"] = escalation.actor
    if escalation.grace:  # whole seconds: a file holds no fractions of one
        rest = int(escalation.grace.total_seconds())
        grace: dict[str, int] = {}
        for unit, size in (("days", 86_400), ("hours", 3600), ("minutes", 60), ("seconds", 1)):
            amount, rest = divmod(rest, size)
            if amount:
                grace[unit] = amount
        out["grace"] = grace
    if escalation.evidence is not None:
        out["evidence"] = dict(escalation.evidence)
    return out
