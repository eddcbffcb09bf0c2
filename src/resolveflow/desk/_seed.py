"""Demo cases for a new desk: several methodologies, different steps, some promises already late.

Every demo case is written through the store's public API with explicit past
times (``at=``), exactly as a real desk would have recorded it over the last
days: the guards check each entry at its own time, so a plan agreed five days
ago may promise things for two days ago, and those now show as overdue.

A new desk database is made all or nothing (:func:`create_demo_database`): the
cases and the demo agents are written into a temporary file beside it, which is renamed into place
only once every case is in. A failure leaves no database behind, so the next
start tries again instead of serving a half-made desk.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

import resolveflow.store

from . import _auth as auth

# (how long ago, action, evidence as a form would post it)
Entry = tuple[dt.timedelta, str, dict[str, Any] | None]


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def _seven_as_at_act(now: dt.datetime) -> list[Entry]:
    agreed = now - dt.timedelta(days=5)
    return [
        (
            dt.timedelta(days=6),
            "acknowledge_feelings",
            {"feelings": "Angry: the sofa arrived with a broken leg."},
        ),
        (
            dt.timedelta(days=6) - dt.timedelta(minutes=10),
            "hear_grievances",
            {
                "points": ["Broken leg on delivery", "Nobody called back for a week"],
                "customer_finished": True,
            },
        ),
        (
            dt.timedelta(days=6) - dt.timedelta(minutes=15),
            "give_apology",
            {"statement": "I am sorry about the damage and that we left you waiting.", "admits_fault": True},
        ),
        (
            dt.timedelta(days=5, minutes=10),
            "give_assurance",
            {"commitment": "We will put this right this week."},
        ),
        (
            dt.timedelta(days=5, minutes=5),
            "discuss_solutions",
            {
                "customer_ready": True,
                "customer_expects": "Her money back for the delivery and a sofa that stands.",
                "we_can_offer": "A refund of the fee now, a new leg by courier, a call once it is fitted.",
            },
        ),
        (
            dt.timedelta(days=5),
            "agree_plan",
            {
                "agreed_with": "Ms Ortiz",
                "items": [
                    {
                        "id": "refund",
                        "description": "Refund the delivery fee",
                        "due": _iso(agreed + dt.timedelta(days=1)),
                        "priority": "pressing",
                    },
                    {
                        "id": "leg",
                        "description": "Courier a replacement leg",
                        "due": _iso(agreed + dt.timedelta(days=3)),
                        "priority": "pressing",
                    },
                    {
                        "id": "call",
                        "description": "Call to check it fits",
                        "due": _iso(agreed + dt.timedelta(days=6)),
                        "priority": "long_term",
                    },
                ],
            },
        ),
        (dt.timedelta(days=4, hours=12), "complete_item", {"item_id": "refund", "note": "Refunded by card."}),
    ]


def _seven_as_rescheduled(now: dt.datetime) -> list[Entry]:
    return [
        (
            dt.timedelta(days=2, minutes=30),
            "acknowledge_feelings",
            {"feelings": "Upset: the order was cancelled twice."},
        ),
        (
            dt.timedelta(days=2, minutes=20),
            "hear_grievances",
            {"points": ["Order cancelled twice", "Charged both times"], "customer_finished": True},
        ),
        (
            dt.timedelta(days=2, minutes=10),
            "give_apology",
            {"statement": "I am sorry, that should not have happened."},
        ),
        (
            dt.timedelta(days=2, minutes=5),
            "give_assurance",
            {"commitment": "We will sort the order and both charges out."},
        ),
        (
            dt.timedelta(days=2),
            "reschedule",
            {"resume_at": _iso(now - dt.timedelta(days=1)), "reason": "Too upset to agree anything today."},
        ),
    ]


def _prescription(_now: dt.datetime) -> list[Entry]:
    return [
        (
            dt.timedelta(hours=1),
            "acknowledge_problem",
            {
                "customer_perspective": "The March invoice charged the plan twice.",
                "accepts_accountability": True,
            },
        ),
    ]


def _four_steps(_now: dt.datetime) -> list[Entry]:
    return [
        (
            dt.timedelta(days=3, hours=2),
            "hear_customer",
            {"summary": "Waited 40 minutes for a table booked weeks ago."},
        ),
        (
            dt.timedelta(days=3, hours=1),
            "record_assessment",
            {
                "cause": "miscommunication",
                "findings": "The booking was written down for the wrong evening.",
                "lesson": "Read the date back to the caller when taking a booking.",
            },
        ),
        (
            dt.timedelta(days=3, minutes=30),
            "show_understanding",
            {"why_unhappy": "They booked weeks ahead for an evening out and were kept standing."},
        ),
        (
            dt.timedelta(days=3),
            "make_offer",
            {"description": "Dinner for two on the house, on a date they choose."},
        ),
        (
            dt.timedelta(days=2),
            "propose_change",
            {
                "document": "Front-of-house manual",
                "change": "Bookings are read back to the caller before hanging up.",
            },
        ),
    ]


def _five_steps(_now: dt.datetime) -> list[Entry]:
    return [
        (
            dt.timedelta(hours=5),
            "hear_account",
            {"summary": "The laptop repair took three weeks, not three days."},
        ),
        (
            dt.timedelta(hours=4),
            "record_cause",
            {
                "cause": "A supplier delay",
                "findings": "The part was back-ordered and nobody told the customer.",
            },
        ),
    ]


def _iso_10002(now: dt.datetime) -> list[Entry]:
    received = now - dt.timedelta(days=1, hours=3)
    return [
        (
            dt.timedelta(days=1, hours=2),
            "register_complaint",
            {
                "reference": "CMP-2026-0042",
                "complainant": "J. Meyer",
                "description": "The boiler service visit was missed twice.",
                "channel": "telephone",
                "received_at": _iso(received),
            },
        ),
        (
            dt.timedelta(days=1),
            "send_acknowledgement",
            {
                "channel": "email",
                "sent_at": _iso(now - dt.timedelta(days=1)),
                "summary": "Received, reference given.",
            },
        ),
    ]


# (case id, methodology, how long ago it was opened, its entries)
DEMO_CASES: tuple[tuple[str, str, dt.timedelta, Callable[[dt.datetime], list[Entry]]], ...] = (
    ("DESK-101", "seven-as", dt.timedelta(days=6, minutes=5), _seven_as_at_act),
    ("DESK-102", "seven-as", dt.timedelta(days=2, hours=1), _seven_as_rescheduled),
    ("DESK-103", "seven-as", dt.timedelta(minutes=20), lambda _now: []),
    ("DESK-104", "prescription", dt.timedelta(hours=1, minutes=10), _prescription),
    ("DESK-105", "four-steps", dt.timedelta(days=3, hours=3), _four_steps),
    ("DESK-106", "five-steps", dt.timedelta(hours=6), _five_steps),
    ("DESK-107", "iso-10002", dt.timedelta(days=1, hours=2, minutes=5), _iso_10002),
    ("DESK-108", "carp", dt.timedelta(minutes=3), lambda _now: []),
)

DEMO_ACTOR = "demo"


def seed(store: resolveflow.store.Store, now: dt.datetime) -> list[str]:
    """Write the demo cases into an empty store; returns their ids."""
    for case_id, methodology, opened_ago, entries in DEMO_CASES:
        store.open_case(methodology, case_id=case_id, at=now - opened_ago)
        for ago, action, evidence in entries(now):
            store.fire(case_id, action, evidence, actor=DEMO_ACTOR, at=now - ago)
    return [case_id for case_id, *_ in DEMO_CASES]


# SQLite keeps these beside a database file while it is open (WAL) or writing (rollback journal).
_SIDE_FILES = ("-wal", "-shm", "-journal")


def _remove_with_side_files(path: Path) -> None:
    for suffix in ("", *_SIDE_FILES):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def create_demo_database(
    path: str | os.PathLike[str],
    now: dt.datetime,
    *,
    clock: Callable[[], dt.datetime] | None = None,
    hasher: PasswordHasher | None = None,
) -> list[str]:
    """Create the SQLite file ``path`` with the store's tables, the demo cases and agents, all or nothing.

    Everything is written to a temporary file in the same folder, which replaces
    ``path`` only when seeding succeeded; if anything fails, the temporary file is
    removed and the error propagates, leaving ``path`` as it was. Returns the
    demo case ids.
    """
    target = Path(path)
    scratch = target.with_name(f".{target.name}.seeding-{secrets.token_hex(4)}")
    try:
        store = resolveflow.store.connect(scratch, clock=clock)
        try:
            store.create_schema()
            case_ids = seed(store, now)
            auth.create_tables(store.engine)
            auth.seed_demo_agents(store.engine, hasher or PasswordHasher())
        finally:
            store.close()
        # Fold the write-ahead log into the file, so that renaming the file alone moves everything.
        connection = sqlite3.connect(scratch)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("PRAGMA journal_mode=DELETE")
        finally:
            connection.close()
        # Side files left by an earlier database of this name would be read as this one's.
        for suffix in _SIDE_FILES:
            with contextlib.suppress(FileNotFoundError):
                Path(f"{target}{suffix}").unlink()
        os.replace(scratch, target)
    finally:
        _remove_with_side_files(scratch)
    return case_ids
