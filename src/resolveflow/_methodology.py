"""Methodology, Step, Outcome and Action: immutable definitions, checked when made.

A methodology is data: the same object comes from Python, from a file or from
a plugin. Construction rejects every structural mistake at once, naming the
offending object and what would be right, so a methodology that exists can be
run. Semantic properties (can a step be skipped?) are for ``verify``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from resolveflow._actor import ROLE
from resolveflow._engine import Engine
from resolveflow._escalation import Escalation, check_escalations, escalations_arg
from resolveflow._guards import Guard, check_guard_definition
from resolveflow._schema import EMPTY_SCHEMA, JSONSCHEMA_DIALECT, is_encodable, record_codec
from resolveflow._shown import shown
from resolveflow.exceptions import InvalidMethodology

# Ids and names fit the store's columns (100 characters): a definition that registers
# must also be storable.
_ID: Final = re.compile(r"(?=.{1,100}$)[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_NAME: Final = re.compile(r"(?=.{1,100}$)[a-z][a-z0-9_]*")
# No leading zeros, so that two spellings never name the same version ("1.0" / "01.0"),
# and at most nine digits a part, so that versions always compare as numbers.
_VERSION: Final = re.compile(r"(?:0|[1-9][0-9]{0,8})(?:\.(?:0|[1-9][0-9]{0,8})){0,2}")


def _tuple_of_str(value: Iterable[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _check_name(value: str, what: str) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidMethodology(
            f"{shown(value)} is not a valid name; use lowercase letters, digits and underscores, "
            "starting with a letter, at most 100 characters (e.g. 'offer_solution')",
            where=what,
        )


def _check_text(value: object, what: str, field: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidMethodology(f"{field} must be non-blank text, got {shown(value)}", where=what)
    if not is_encodable(value):
        # It would load, then fail when a view is sent as UTF-8 or a file is written.
        raise InvalidMethodology(
            f"{field} contains a lone surrogate, which is not a character (check the text's encoding)",
            where=what,
        )


def _check_texts(values: tuple[str, ...], what: str, field: str) -> None:
    for value in values:
        _check_text(value, what, field)


def _item(value: object) -> str:
    """A definition named by its kind and id (a Step where an Outcome belongs); anything else, bounded."""
    if isinstance(value, Step | Outcome):
        return f"{type(value).__name__} {value.id!r}"
    if isinstance(value, Action):
        return f"Action {value.name!r}"
    return shown(value)


def _check_description(value: object, what: str) -> None:
    # Optional, but text when given: a file cannot hold a blank or non-text description
    # (and would refuse to load what was written).
    if value is not None:
        _check_text(value, what, "description (None or text)")


@attrs.frozen(kw_only=True)
class Step:
    """A step a case can be at, with the guidance an agent sees there.

    Attributes:
        id: the step's id (lowercase, underscores), stable across versions.
        title: a short heading for the UI.
        prompts: short things to say or ask at this step.
        checklist: what to have done before moving on.

    Example:
        >>> Step(id="listen", title="Listen", prompts=("What happened?",)).id
        'listen'
    """

    id: str
    title: str
    prompts: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    checklist: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)

    def __attrs_post_init__(self) -> None:
        _check_name(self.id, "step")
        where = f"step {self.id!r}"
        _check_text(self.title, where, "title")
        _check_texts(self.prompts, where, "every prompt")
        _check_texts(self.checklist, where, "every checklist item")


@attrs.frozen(kw_only=True)
class Outcome:
    """A terminal step: where a case ends.

    Attributes:
        id: the outcome's id; a closed case's ``step``.
        title: a short heading for the UI.
        successful: whether reaching it means the customer was won back; every
            successful outcome must be reached through the methodology's
            ``required_steps``.
        guidance: what to tell the agent once the case is closed here.

    Example:
        >>> Outcome(id="resolved", title="Resolved", successful=True).successful
        True
    """

    id: str
    title: str
    successful: bool
    guidance: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)

    def __attrs_post_init__(self) -> None:
        _check_name(self.id, "outcome")
        where = f"outcome {self.id!r}"
        _check_text(self.title, where, "title")
        if not isinstance(self.successful, bool):
            raise InvalidMethodology("successful must be True or False", where=where)
        _check_texts(self.guidance, where, "every guidance line")


def _guards(value: Iterable[Guard]) -> tuple[Guard, ...]:
    return tuple(value)


def _steps(value: Iterable[Step]) -> tuple[Step, ...]:
    return tuple(value)


def _outcomes(value: Iterable[Outcome]) -> tuple[Outcome, ...]:
    return tuple(value)


def _actions(value: Iterable[Action]) -> tuple[Action, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Action:
    """A named event that moves a case from one of its sources to its target.

    Attributes:
        name: the action's name (the trigger a UI sends).
        sources: the steps it can be taken from.
        target: the step or outcome it leads to, or None for an action that
            records evidence and leaves the case where it is (from any source).
        title: a label for the button or form.
        evidence: the record type this action records, or None.
        guards: rules checked before it; all failing ones are reported.
        description: optional longer help for the form.

    Example:
        >>> from resolveflow import evidence
        >>> a = Action(name="hear_account", sources=("listen",), target="analyze",
        ...            title="Record the customer's account", evidence=evidence.CustomerAccount)
        >>> a.sources
        ('listen',)
    """

    name: str
    sources: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    target: str | None
    title: str
    evidence: type | None = None
    guards: tuple[Guard, ...] = attrs.field(default=(), converter=_guards)
    description: str | None = None

    def __attrs_post_init__(self) -> None:
        _check_name(self.name, "action")
        where = f"action {self.name!r}"
        if self.name == "migrate_version":
            raise InvalidMethodology(
                "the name is reserved for the history entry that records a version migration", where=where
            )
        _check_text(self.title, where, "title")
        _check_description(self.description, where)
        if not self.sources:
            raise InvalidMethodology("needs at least one source step", where=where)
        for source in self.sources:
            if not isinstance(source, str):
                raise InvalidMethodology(f"sources must be step ids (text), got {shown(source)}", where=where)
        if self.target is not None and not isinstance(self.target, str):
            raise InvalidMethodology(
                f"target must be a step id (text) or None, got {shown(self.target)}", where=where
            )
        if len(set(self.sources)) != len(self.sources):
            raise InvalidMethodology(f"lists a source twice: {self.sources}", where=where)
        for guard in self.guards:
            check_guard_definition(guard, where)
        names = [g.name for g in self.guards]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidMethodology(
                f"two guards share the refusal code {duplicates[0]!r}; give one a distinct name",
                where=where,
            )
        if self.evidence is not None:
            if not isinstance(self.evidence, type):
                raise InvalidMethodology(
                    f"evidence must be an evidence record class (an attrs class), got {shown(self.evidence)}",
                    where=where,
                )
            try:
                record_codec(self.evidence)
            except InvalidMethodology as error:
                raise InvalidMethodology(str(error), where=where) from error
        self._check_guard_fields(where)

    def _check_guard_fields(self, where: str) -> None:
        """A guard reading the evidence must name fields the record really has."""
        codec = record_codec(self.evidence) if self.evidence is not None else None
        fields = {f.attr: f for f in codec.fields} if codec is not None else {}
        for guard in self.guards:
            read = guard.evidence_fields()
            if (guard.uses_evidence or read) and codec is None:
                raise InvalidMethodology(
                    f"guard {guard.name!r} reads the evidence, but this action records none", where=where
                )
            for name in read:
                if name not in fields:
                    raise InvalidMethodology(
                        f"guard {guard.name!r} reads field {name!r}, which "
                        f"{self.evidence.__name__ if self.evidence else 'the evidence'} does not have; "
                        f"fields are: {', '.join(fields)}",
                        where=where,
                    )
            for name in guard.datetime_fields():
                if not fields[name].is_datetime:
                    raise InvalidMethodology(
                        f"guard {guard.name!r} compares field {name!r} with the time, "
                        "but it is not a datetime",
                        where=where,
                    )

    def target_from(self, source: str) -> str:
        """Where the action leads when taken at ``source``."""
        return source if self.target is None else self.target

    def evidence_schema(self) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) of the evidence this action records.

        Actions that record nothing accept an empty object (or no evidence).
        """
        body = (
            copy.deepcopy(dict(EMPTY_SCHEMA))
            if self.evidence is None
            else record_codec(self.evidence).schema()
        )
        schema = {"$schema": JSONSCHEMA_DIALECT, **body}
        if self.description and "description" not in schema:
            schema["description"] = self.description
        return schema


@attrs.frozen(kw_only=True, eq=True)
class Methodology:
    """An immutable, versioned customer-recovery methodology.

    Attributes:
        id: lowercase id with hyphens, e.g. ``"seven-as"``.
        version: dotted numbers, e.g. ``"1.0"``.
        title: a human title.
        source: where its steps and rules come from (a citation).
        steps: the working steps, in their usual order.
        actions: every action between them.
        outcomes: the terminal steps.
        initial: the step a new case starts at.
        required_steps: the steps, in order, that every path to a successful
            outcome must pass through.
        roles: the roles its guards name (snake_case words, e.g. ``"legal"``):
            a guard naming a role not declared here is a mistake, refused.
        escalations: what the deadline worker does when a promise is missed
            (:class:`Escalation`, at most one per promise kind); operating
            policy, left out of equality and of the definition digest.
        description: optional summary.

    Raises:
        InvalidMethodology: a structural mistake, named (unknown step in an
            action, duplicate id, an action leaving an outcome ...).

    Example:
        >>> import resolveflow
        >>> m = resolveflow.get_methodology("prescription")
        >>> m.initial, m.required_steps
        ('acknowledge', ('acknowledge', 'remedy_now', 'prevent_recurrence'))
    """

    id: str
    version: str
    title: str
    source: str
    steps: tuple[Step, ...] = attrs.field(converter=_steps)
    actions: tuple[Action, ...] = attrs.field(converter=_actions)
    outcomes: tuple[Outcome, ...] = attrs.field(converter=_outcomes)
    initial: str
    required_steps: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    description: str | None = None
    roles: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    escalations: tuple[Escalation, ...] = attrs.field(default=(), converter=escalations_arg, eq=False)
    _by_id: Mapping[str, Step | Outcome] = attrs.field(init=False, repr=False, eq=False, alias="_by_id")
    _by_action: Mapping[str, Action] = attrs.field(init=False, repr=False, eq=False, alias="_by_action")
    _engine: Engine = attrs.field(init=False, repr=False, eq=False, alias="_engine")
    # The definition's digest, filled on first use by resolveflow._digest (a case binds it).
    _digest: str | None = attrs.field(init=False, default=None, repr=False, eq=False, alias="_digest")
    # Step -> the step deadlines its actions declare, filled on first use by resolveflow._step_deadlines.
    _step_deadlines: dict[str, tuple[Any, ...]] = attrs.field(
        init=False, factory=dict, repr=False, eq=False, alias="_step_deadlines"
    )

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID.fullmatch(self.id):
            raise InvalidMethodology(
                f"id {shown(self.id)} is not valid; use lowercase words joined by hyphens, "
                "at most 100 characters (e.g. 'seven-as')",
                where="methodology",
            )
        where = f"methodology {self.id!r}"
        if not isinstance(self.version, str) or not _VERSION.fullmatch(self.version):
            raise InvalidMethodology(
                f"version {shown(self.version)} is not valid; use up to three dotted numbers "
                "without leading zeros, of at most nine digits each, such as '1.0' or '2.1.3'",
                where=where,
            )
        _check_text(self.title, where, "title")
        _check_text(self.source, where, "source")
        _check_description(self.description, where)
        by_id: dict[str, Step | Outcome] = {}
        for kind, items in (("steps", self.steps), ("outcomes", self.outcomes)):
            expected = Step if kind == "steps" else Outcome
            for item in items:
                if not isinstance(item, expected):
                    raise InvalidMethodology(
                        f"{kind} must hold {expected.__name__} objects, got {_item(item)}", where=where
                    )
                if item.id in by_id:
                    raise InvalidMethodology(
                        f"the id {item.id!r} is used twice; step and outcome ids must be unique",
                        where=where,
                    )
                by_id[item.id] = item
        if not self.steps:
            raise InvalidMethodology("needs at least one step", where=where)
        if not self.outcomes:
            raise InvalidMethodology("needs at least one outcome", where=where)
        if not any(o.successful for o in self.outcomes):
            raise InvalidMethodology("needs at least one successful outcome", where=where)
        known = ", ".join(by_id)
        if (
            not isinstance(self.initial, str)
            or self.initial not in by_id
            or isinstance(by_id[self.initial], Outcome)
        ):
            raise InvalidMethodology(
                f"initial step {shown(self.initial)} is not one of its steps: "
                f"{', '.join(s.id for s in self.steps)}",
                where=where,
            )
        by_action: dict[str, Action] = {}
        for action in self.actions:
            if not isinstance(action, Action):
                raise InvalidMethodology(
                    f"actions must hold Action objects, got {_item(action)}", where=where
                )
            a_where = f"{where}, action {action.name!r}"
            if action.name in by_action:
                raise InvalidMethodology(
                    "the name is used by two actions; give one Action several sources instead",
                    where=a_where,
                )
            if action.name in by_id:
                raise InvalidMethodology(
                    "an action may not share its name with a step or outcome", where=a_where
                )
            for source in action.sources:
                if source not in by_id:
                    raise InvalidMethodology(
                        f"source {source!r} is not a step; steps are: {known}", where=a_where
                    )
                if isinstance(by_id[source], Outcome):
                    raise InvalidMethodology(
                        f"source {source!r} is an outcome, and no action may leave an outcome",
                        where=a_where,
                    )
            if action.target is not None and action.target not in by_id:
                raise InvalidMethodology(
                    f"target {action.target!r} is not a step; steps are: {known}", where=a_where
                )
            for guard in action.guards:
                for ref in guard.references():
                    if ref not in by_id:
                        raise InvalidMethodology(
                            f"guard {guard.name!r} names step {ref!r}, which does not exist; "
                            f"steps are: {known}",
                            where=a_where,
                        )
                    if isinstance(by_id[ref], Outcome):
                        # No action leaves an outcome, so such a guard could never pass.
                        raise InvalidMethodology(
                            f"guard {guard.name!r} names {ref!r}, an outcome; guards can only "
                            f"refer to working steps: {', '.join(s.id for s in self.steps)}",
                            where=a_where,
                        )
            by_action[action.name] = action
        if not self.required_steps:
            raise InvalidMethodology("required_steps must name at least one step", where=where)
        for step in self.required_steps:
            if not isinstance(step, str) or step not in by_id or isinstance(by_id[step], Outcome):
                raise InvalidMethodology(
                    f"required step {shown(step)} is not one of its steps: "
                    f"{', '.join(s.id for s in self.steps)}",
                    where=where,
                )
        twice = sorted({s for s in self.required_steps if self.required_steps.count(s) > 1})
        if twice:
            raise InvalidMethodology(f"required_steps lists {shown(twice[0])} twice", where=where)
        self._check_roles(where)
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_by_action", by_action)
        check_escalations(self, where)
        # One transitions Machine per methodology version, shared by every case.
        engine = Engine(
            self.key,
            states=self.step_ids,
            initial=self.initial,
            actions=[(a.name, a.sources, a.target, a.guards) for a in self.actions],
        )
        object.__setattr__(self, "_engine", engine)

    def _check_roles(self, where: str) -> None:
        """Roles are snake_case words, declared once, and every role a guard names is declared."""
        for role in self.roles:
            if not isinstance(role, str) or not ROLE.fullmatch(role):
                raise InvalidMethodology(
                    f"role {shown(role)} is not a snake_case word of at most 100 characters", where=where
                )
        if len(set(self.roles)) != len(self.roles):
            raise InvalidMethodology("roles lists a role twice", where=where)
        declared = set(self.roles)
        for action in self.actions:
            for guard in action.guards:
                for role in guard.roles():
                    if role not in declared:
                        raise InvalidMethodology(
                            f"guard {guard.name!r} names the role {role!r}, which the methodology does not "
                            f"declare; declare it in roles (declared: {', '.join(self.roles) or 'none'})",
                            where=f"{where}, action {action.name!r}",
                        )

    @property
    def key(self) -> tuple[str, str]:
        """``(id, version)``: what identifies this methodology in a registry or store."""
        return (self.id, self.version)

    @property
    def step_ids(self) -> tuple[str, ...]:
        """Every step and outcome id, steps first."""
        return tuple(self._by_id)

    def node(self, step_id: str) -> Step | Outcome:
        """The Step or Outcome with this id.

        Raises:
            KeyError: no such step; the message lists the ids that exist.
        """
        try:
            return self._by_id[step_id]
        except KeyError:
            raise KeyError(
                f"{self.id} has no step {shown(step_id)}; steps are: {', '.join(self._by_id)}"
            ) from None

    def outcome(self, step_id: str) -> Outcome | None:
        """The Outcome with this id, or None when the id is a working step."""
        node = self._by_id.get(step_id)
        return node if isinstance(node, Outcome) else None

    def action(self, name: str) -> Action | None:
        """The action with this name, or None."""
        return self._by_action.get(name)

    def actions_from(self, step_id: str) -> tuple[Action, ...]:
        """The actions that can be taken at a step, in declaration order."""
        return tuple(a for a in self.actions if step_id in a.sources)

    @property
    def successful_outcomes(self) -> tuple[str, ...]:
        """Ids of the outcomes that count as success."""
        return tuple(o.id for o in self.outcomes if o.successful)
