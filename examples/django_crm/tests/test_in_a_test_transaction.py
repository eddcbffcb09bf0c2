"""pytest-django's default: each test runs in a transaction that is rolled back. The store joins it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from tickets.services import engage, open_ticket

from resolveflow.contrib.django import store


@pytest.mark.django_db
def test_the_store_writes_inside_the_test_s_transaction(agent: Any) -> None:
    assert connection.in_atomic_block
    ticket = open_ticket("Crushed parcel", "Bo")
    engage(ticket, agent, "Parcel arrived crushed.")
    assert store().summary(ticket.case_id).step == "empathize"
    assert connection.in_atomic_block  # nothing committed the test's transaction


def test_the_models_module_s_examples_run() -> None:
    import doctest

    import resolveflow.contrib.django.models

    assert doctest.testmod(resolveflow.contrib.django.models).failed == 0


@pytest.mark.django_db
def test_times_read_back_right_whatever_the_session_time_zone(agent: Any) -> None:
    ticket = open_ticket("Crushed parcel", "Bo")
    engage(ticket, agent, "Parcel arrived crushed.")
    at = ticket.case.history[0].at
    if connection.vendor == "postgresql":
        # Django stamps times with its own zone (UTC here); the store must read the session's.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL TIME ZONE 'America/New_York'")
    assert store().summary(ticket.case_id).updated_at == at
    assert store(cached_entries=0).load(ticket.case_id).history[0].at == at
