from django.db import transaction

from tickets.models import Ticket


def open_ticket(subject: str, customer: str) -> Ticket:
    """A ticket and its case: both are committed, or neither is."""
    with transaction.atomic():
        ticket = Ticket.objects.create(subject=subject, customer=customer)
        ticket.open_case()
    return ticket


def engage(ticket: Ticket, user, notes: str) -> None:
    """The agent engages; the ticket's status follows the case's step, in the same transaction."""
    with transaction.atomic():
        entry = ticket.fire("engage_fully", {"notes": notes}, user=user)
        ticket.status = entry.step
        ticket.save(update_fields=["status"])
