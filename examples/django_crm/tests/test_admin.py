"""The admin shows a ticket's case (step, history, diagram) read-only, escaped."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from tickets.models import Ticket
from tickets.services import engage, open_ticket

pytestmark = pytest.mark.usefixtures("clean_store")


def test_the_change_page_shows_the_case(admin_client: Any, agent: Any) -> None:
    ticket = open_ticket("Crushed parcel", "Bo")
    engage(ticket, agent, "Parcel arrived crushed.")
    ticket.fire("show_empathy", {"statement": "<script>alert(1)</script>"}, actor="<b>eve</b>")
    page = admin_client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert "present_solution" in page  # the step
    assert "engage_fully" in page and "show_empathy" in page  # the history
    assert "stateDiagram-v2" in page and "--&gt;" in page  # the diagram, escaped
    assert "&lt;b&gt;eve&lt;/b&gt;" in page and "<b>eve</b>" not in page
    assert "<script>alert(1)</script>" not in page


def test_the_list_shows_each_ticket_s_step(admin_client: Any) -> None:
    open_ticket("Crushed parcel", "Bo")
    Ticket.objects.create(subject="No case yet", customer="Cy")
    page = admin_client.get(reverse("admin:tickets_ticket_changelist")).content.decode()
    assert "engage" in page and "—" in page


def test_the_change_page_cannot_write_the_case(admin_client: Any) -> None:
    ticket = open_ticket("Crushed parcel", "Bo")
    url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    form = {"subject": "Renamed", "customer": "Bo", "status": "new", "case_id": "x"}
    response = admin_client.post(url, form)
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).case_id == ticket.case_id
    assert Ticket.objects.get(pk=ticket.pk).subject == "Renamed"
