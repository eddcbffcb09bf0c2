"""In pytest-django's default mode each test runs inside a transaction that is rolled back: the store joins it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from resolveflow.contrib.django import store
from tickets.services import engage, open_ticket


@pytest.mark.django_db
def test_the_store_writes_inside_the_test_s_transaction(agent: Any) -> None:
    assert connection.in_atomic_block
    ticket = open_ticket("Crushed parcel", "Bo")
    engage(ticket, agent, "Parcel arrived crushed.")
    assert store().summary(ticket.case_id).step == "empathize"
    assert connection.in_atomic_block  # nothing committed the test's transaction
