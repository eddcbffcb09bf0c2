"""A ticket and its case in one transaction, on SQLite and PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from tickets.models import Ticket
from tickets.services import engage, open_ticket

from resolveflow.contrib.django import actor_for, store
from resolveflow.contrib.django.models import Case
from resolveflow.exceptions import InvalidInput, Refused
from resolveflow.store import CaseExists, ConcurrencyConflict

pytestmark = pytest.mark.usefixtures("clean_store")


class Boom(Exception):
    pass


def test_a_ticket_and_its_case_commit_together(committed: Any) -> None:
    ticket = open_ticket("Crushed parcel", "Bo")
    assert not connection.in_atomic_block
    assert committed("tickets_ticket") == 1
    assert committed("resolveflow_cases", f"WHERE case_id = '{ticket.case_id}'") == 1
    assert Ticket.objects.get().case_id == f"tickets.ticket-{ticket.pk}"
    assert ticket.case.step == "engage"


def test_an_exception_in_atomic_rolls_back_both(committed: Any, agent: Any) -> None:
    ticket = open_ticket("Late delivery", "Cy")

    def engage_then_fail() -> None:
        with transaction.atomic():
            engage(ticket, agent, "It came a week late.")
            Ticket.objects.create(subject="Another", customer="Di")
            assert ticket.case.step == "empathize"  # seen inside the transaction
            raise Boom

    with pytest.raises(Boom):
        engage_then_fail()
    assert committed("tickets_ticket") == 1
    assert committed("resolveflow_entries") == 0
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
    assert ticket.case.step == "engage"
    # The store kept the rolled-back entry's ledger in memory; the next write replays the truth.
    engage(ticket, agent, "Second try.")
    assert [entry.evidence.notes for entry in ticket.case.history] == ["Second try."]


def test_an_exception_rolls_back_a_new_ticket_and_its_case(committed: Any) -> None:
    def open_then_fail() -> None:
        with transaction.atomic():
            open_ticket("Never stored", "Ed")
            raise Boom

    with pytest.raises(Boom):
        open_then_fail()
    assert committed("tickets_ticket") == 0
    assert committed("resolveflow_cases") == 0


def test_a_refusal_inside_atomic_leaves_the_transaction_usable(committed: Any, agent: Any) -> None:
    ticket = open_ticket("Wrong size", "Flo")
    with transaction.atomic():
        engage(ticket, agent, "Sent a size too small.")
        with pytest.raises(Refused) as refused:
            ticket.fire("record_liability_review", {"company_at_fault": True}, user=agent)
        assert [r.code for r in refused.value.refusals] == ["liability_review_by_legal"]
        Ticket.objects.filter(pk=ticket.pk).update(status="escalated")  # the transaction still works
    assert committed("resolveflow_entries") == 1
    assert Ticket.objects.get(pk=ticket.pk).status == "escalated"
    assert ticket.case.step == "empathize"


def test_a_database_error_inside_the_store_leaves_the_transaction_usable(committed: Any) -> None:
    first = open_ticket("First", "Gus")
    with transaction.atomic():
        second = Ticket.objects.create(subject="Second", customer="Hal")
        with pytest.raises(CaseExists):
            store().open_case("engage", case_id=first.case_id)  # the insert fails in the database
        second.open_case()
    assert committed("tickets_ticket") == 2
    assert committed("resolveflow_cases") == 2


def test_roles_come_from_permissions_directly_or_through_groups(agent: Any, django_user_model: Any) -> None:
    ticket = open_ticket("Broken screen", "Ida")
    engage(ticket, agent, "Screen cracked on arrival.")
    lawyers = Group.objects.create(name="lawyers")
    legal = Permission.objects.get(content_type__app_label="resolveflow", codename="role_legal")
    lawyers.permissions.add(legal)
    lee = django_user_model.objects.create_user(username="lee", password="not-used")
    lee.groups.add(lawyers)
    lee = django_user_model.objects.get(pk=lee.pk)  # permissions are cached per user object
    assert actor_for(lee).roles == {"legal"}
    assert actor_for(agent).roles == frozenset()
    entry = ticket.fire("record_liability_review", {"company_at_fault": False}, user=lee)
    assert (entry.actor, entry.roles) == ("lee", frozenset({"legal"}))


def test_every_role_of_the_registered_methodologies_has_a_permission() -> None:
    codenames = set(
        Permission.objects.filter(content_type__app_label="resolveflow").values_list("codename", flat=True)
    )
    assert {"role_legal", "role_go_to_rep", "role_complaints_manager"} <= codenames


def test_the_case_rows_are_a_read_only_model(agent: Any) -> None:
    ticket = open_ticket("Missing part", "Jo")
    engage(ticket, agent, "One screw missing.")
    row = Case.objects.get(case_id=ticket.case_id)
    assert (row.methodology_id, row.step, row.last_seq, row.tenant) == ("engage", "empathize", 1, "")
    with pytest.raises(InvalidInput):
        row.save()
    with pytest.raises(InvalidInput):
        row.delete()


def test_the_mixin_refuses_what_it_cannot_do(agent: Any) -> None:
    ticket = Ticket.objects.create(subject="No case", customer="Kim")
    with pytest.raises(InvalidInput, match="open_case"):
        ticket.fire("engage_fully", {"notes": "x"}, user=agent)
    ticket.open_case()
    with pytest.raises(InvalidInput, match="already has case"):
        ticket.open_case()
    with pytest.raises(InvalidInput, match="user"):
        ticket.fire("engage_fully", {"notes": "x"})


def test_tenants_keep_their_cases_apart(committed: Any) -> None:
    acme, globex = store(tenant="acme"), store(tenant="globex")
    acme.open_case("engage", case_id="T-1")
    globex.open_case("engage", case_id="T-1")
    acme.fire("T-1", "engage_fully", {"notes": "Late."}, actor="ana")
    assert (acme.load("T-1").step, globex.load("T-1").step) == ("empathize", "engage")
    assert sorted(Case.objects.values_list("tenant", "step")) == [("acme", "empathize"), ("globex", "engage")]
    assert committed("resolveflow_entries", "WHERE tenant = 'acme'") == 1  # outside atomic(): committed


def test_store_transaction_gives_a_connection_for_your_own_statements(committed: Any) -> None:
    import sqlalchemy as sa

    cases = store()
    with transaction.atomic():
        ticket = Ticket.objects.create(subject="Raw SQL", customer="Lou")
        with cases.transaction() as conn:
            mark = sa.text("UPDATE tickets_ticket SET status = 'raw' WHERE id = :id")
            conn.execute(mark, {"id": ticket.pk})
            cases.open_case("engage", case_id="RAW-1", connection=conn)
    assert committed("tickets_ticket", "WHERE status = 'raw'") == 1
    assert committed("resolveflow_cases", "WHERE case_id = 'RAW-1'") == 1


def test_two_agents_at_once_record_one_entry(committed: Any) -> None:
    ticket = open_ticket("Crushed parcel", "Bo")
    ready = threading.Barrier(2)
    outcomes: list[str] = []

    def act(agent: str) -> None:
        try:  # each thread has its own Django connection, so its own transaction
            mine = Ticket.objects.get(pk=ticket.pk)
            ready.wait()
            mine.fire("engage_fully", {"notes": f"{agent} engaged."}, actor=agent)
            outcomes.append("recorded")
        except (ConcurrencyConflict, Refused) as lost:
            outcomes.append(type(lost).__name__)
        except Exception as error:
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(name,)) for name in ("ana", "bo")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) in (["ConcurrencyConflict", "recorded"], ["Refused", "recorded"]), outcomes
    assert committed("resolveflow_entries") == 1
    assert ticket.case.step == "empathize"


def test_a_store_with_options_is_a_new_one_and_unknown_options_are_refused() -> None:
    assert store(record_refusals=True).record_refusals and store() is store()
    with pytest.raises(InvalidInput) as raised:
        store(pool_size=5)
    assert raised.value.argument == "options"


def test_superusers_hold_every_role_and_inactive_users_none(django_user_model: Any) -> None:
    boss = django_user_model.objects.create_superuser(username="boss", password="not-used")
    assert actor_for(boss).roles >= {"legal", "go_to_rep", "complaints_manager"}
    gone = django_user_model.objects.create_user(username="gone", password="not-used", is_active=False)
    gone.user_permissions.add(
        Permission.objects.get(content_type__app_label="resolveflow", codename="role_legal")
    )
    assert actor_for(django_user_model.objects.get(pk=gone.pk)).roles == frozenset()


def test_an_unknown_database_alias_is_refused() -> None:
    from resolveflow.contrib.django import engine_for

    with pytest.raises(InvalidInput) as raised:
        store(using="nowhere")
    assert raised.value.argument == "using"
    assert engine_for() is engine_for("default")
