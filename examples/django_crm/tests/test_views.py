"""The example's view takes actions as the signed-in user, with the roles their permissions grant."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from tickets.models import Ticket
from tickets.services import open_ticket

pytestmark = pytest.mark.usefixtures("clean_store")


def post(client: Client, ticket: Ticket, action: str, body: object, **headers: str) -> tuple[int, Any]:
    url = reverse("ticket-fire", args=[ticket.pk, action])
    response = client.post(url, json.dumps(body), content_type="application/json", headers=headers)
    return response.status_code, response.json()


@pytest.fixture
def signed_in(client: Client, agent: Any) -> Client:
    client.force_login(agent)
    return client


def test_an_action_moves_the_case_and_the_ticket(signed_in: Client) -> None:
    ticket = open_ticket("Crushed parcel", "Bo")
    assert post(signed_in, ticket, "engage_fully", {"notes": "Crushed."}) == (
        200,
        {"seq": 1, "step": "empathize"},
    )
    assert Ticket.objects.get(pk=ticket.pk).status == "empathize"
    assert ticket.case.history[0].actor == "ana"


def test_a_refusal_is_409_and_names_the_missing_role(signed_in: Client, agent: Any) -> None:
    ticket = open_ticket("Crushed parcel", "Bo")
    post(signed_in, ticket, "engage_fully", {"notes": "Crushed."})
    status, body = post(signed_in, ticket, "record_liability_review", {"company_at_fault": True})
    assert status == 409
    assert [r["code"] for r in body["refusals"]] == ["liability_review_by_legal"]
    agent.user_permissions.add(
        Permission.objects.get(content_type__app_label="resolveflow", codename="role_legal")
    )
    assert post(signed_in, ticket, "record_liability_review", {"company_at_fault": True})[0] == 200
    assert ticket.case.history[-1].roles == {"legal"}


def test_bad_evidence_is_422_a_stale_sequence_412_and_a_retry_records_nothing_new(signed_in: Client) -> None:
    ticket = open_ticket("Crushed parcel", "Bo")
    assert post(signed_in, ticket, "engage_fully", {})[0] == 422
    assert post(signed_in, ticket, "engage_fully", {"notes": "x"}, **{"If-Match": "5"})[0] == 412
    first = post(signed_in, ticket, "engage_fully", {"notes": "x"}, **{"Idempotency-Key": "k-1"})
    assert post(signed_in, ticket, "engage_fully", {"notes": "x"}, **{"Idempotency-Key": "k-1"}) == first
    assert len(ticket.case.history) == 1
    assert Ticket.objects.get(pk=ticket.pk).status == "empathize"


def test_only_signed_in_users_act(client: Client) -> None:
    ticket = open_ticket("Crushed parcel", "Bo")
    url = reverse("ticket-fire", args=[ticket.pk, "engage_fully"])
    assert client.post(url, "{}", content_type="application/json").status_code == 302  # to the login page
    assert ticket.case.history == ()
