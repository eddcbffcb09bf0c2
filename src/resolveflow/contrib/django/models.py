"""Models: :class:`CaseMixin` attaches a case to your model; :class:`Case` reads the store's case rows.

Example:
    >>> from resolveflow.contrib.django.models import CaseMixin
    >>> sorted(f.name for f in CaseMixin._meta.fields)
    ['case_id', 'methodology']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models, router, transaction

from resolveflow.contrib.django import store as _store
from resolveflow.contrib.django._roles import actor_for
from resolveflow.exceptions import InvalidInput

if TYPE_CHECKING:
    from resolveflow._actor import Actor
    from resolveflow._case import Case as _Case
    from resolveflow._history import HistoryEntry
    from resolveflow._methodology import Methodology
    from resolveflow.store import Store


class Case(models.Model):
    """The store's case rows (``resolveflow_cases``), read-only, for your queries and joins.

    The table is created by this app's migration and written only by the
    store: saving or deleting a ``Case`` raises. It also carries the role
    permissions (``resolveflow.role_<role>``).
    """

    pk = models.CompositePrimaryKey("tenant", "case_id")
    tenant = models.CharField(max_length=200)
    case_id = models.CharField(max_length=200)
    methodology_id = models.CharField(max_length=100)
    methodology_version = models.CharField(max_length=100)
    step = models.CharField(max_length=100)
    outcome = models.CharField(max_length=100, null=True)
    last_seq = models.IntegerField()

    class Meta:
        managed = False
        db_table = "resolveflow_cases"
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.case_id} ({self.methodology_id} at {self.step})"

    def save(self, *args: Any, **kwargs: Any) -> None:  # noqa: ARG002 - Model.save's signature
        raise InvalidInput(
            "cases are written by the store only: use its open_case() and fire()", argument="case"
        )

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:  # noqa: ARG002
        raise InvalidInput("a case's history is append-only: it cannot be deleted here", argument="case")


class CaseMixin(models.Model):
    """An abstract model with a case: ``ticket.open_case()``, ``ticket.case``, ``ticket.fire(...)``.

    Adds two fields, ``case_id`` (unique, empty until a case is opened) and
    ``methodology``. Every helper goes through :func:`resolveflow.contrib.django.store`
    for the database the object lives in, inside ``transaction.atomic()``, so
    the object's own save and the case's entry commit together.

    Set ``resolveflow_methodology`` on your model for the default methodology,
    and override :meth:`case_tenant` for a multi-tenant CRM.
    """

    case_id = models.CharField(max_length=200, unique=True, null=True, blank=True, editable=False)
    methodology = models.CharField(max_length=100, blank=True, editable=False)

    resolveflow_methodology: ClassVar[str | None] = None

    class Meta:
        abstract = True

    def case_tenant(self) -> str | None:
        """The tenant whose cases this object's case belongs to (None: no tenant)."""
        return None

    def case_using(self) -> str:
        """The database alias this object's case is stored in: the object's own."""
        return self._state.db or router.db_for_write(type(self), instance=self) or "default"

    def case_store(self) -> Store:
        """The store this object's case is kept in (Django's connection, the object's tenant)."""
        return _store(self.case_using(), self.case_tenant())

    def new_case_id(self) -> str:
        """The id of a case opened for this object: ``<app_label>.<model>-<pk>`` (override to change)."""
        return f"{self._meta.label_lower}-{self.pk}"

    def open_case(self, methodology: str | Methodology | None = None) -> _Case:
        """Open this object's case and save the object with it, in one transaction.

        Saves the object first if it has no primary key yet. ``methodology``
        is a registered id (its latest version) or a ``Methodology``.

        Raises:
            InvalidInput: no methodology given and none set on the model; the
                object already has a case.
            CaseExists: a case with this id is already stored.
        """
        chosen = methodology or self.resolveflow_methodology
        if not chosen:
            raise InvalidInput(
                f"name a methodology, or set resolveflow_methodology on {type(self).__name__}",
                argument="methodology",
            )
        if self.case_id:
            raise InvalidInput(f"{self} already has case {self.case_id!r}", argument="case_id")
        with transaction.atomic(using=self.case_using()):
            if self.pk is None:
                self.save()
            case_id = self.new_case_id()
            case = self.case_store().open_case(chosen, case_id=case_id)
            self.case_id, self.methodology = case_id, case.methodology.id
            self.save(update_fields=["case_id", "methodology"])
        return case

    @property
    def case(self) -> _Case:
        """This object's case, loaded from the store (its history replayed and checked).

        Raises:
            InvalidInput: no case was opened for the object.
        """
        return self.case_store().load(self._require_case())

    def fire(
        self,
        action: str,
        evidence: Any = None,
        *,
        user: Any = None,
        actor: str | Actor | None = None,
        **options: Any,
    ) -> HistoryEntry:
        """Record ``action`` on this object's case, in the current transaction.

        Pass the Django ``user`` (their roles come from their permissions, see
        :func:`~resolveflow.contrib.django.actor_for`) or an ``actor``. Other
        keyword arguments go to :meth:`Store.fire <resolveflow.store.Store.fire>`
        (``idempotency_key``, ``expected_seq`` ...). A refusal raises
        :class:`~resolveflow.exceptions.Refused` and rolls back only the case's
        savepoint: your transaction stays usable.

        Raises:
            InvalidInput: neither ``user`` nor ``actor``, or no case yet.
            Refused: a guard refused the action.
        """
        case_id = self._require_case()
        if user is not None:
            actor = actor_for(user)
        if actor is None:
            raise InvalidInput("pass the user (or the actor) who takes the action", argument="actor")
        with transaction.atomic(using=self.case_using()):
            return self.case_store().fire(case_id, action, evidence, actor=actor, **options)

    def _require_case(self) -> str:
        if not self.case_id:
            raise InvalidInput(f"{self} has no case: call open_case() first", argument="case_id")
        return str(self.case_id)
