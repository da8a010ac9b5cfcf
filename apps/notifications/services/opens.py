"""Opens from push, counted for every device without keeping who opened (issue 18, item 4).

The interaction log tells the ranker what a consenting resident opened; the city's statistics
need every open, consent or not, and must not learn *who*. So each push about an item carries a
random single-use ticket (``open_ticket`` in its data). When the batch is recorded, the SHA-256
digests of the tickets of pushes FCM accepted are stored (``OpenTicket``: digest and
notification only, inserted in a shuffled order). The app reports an open with the ticket
(``POST /api/v1/opens/``, no device credentials): the digest is deleted and the notification's
counter goes up, in one transaction. A ticket counts once; a replayed, forged or expired ticket
counts nothing; and what stays in the database is a number. Tickets expire with their
notification's open window (``retention.deliveries_purge``).
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F

from apps.notifications.models import Notification, OpenTicket

#: Bytes of randomness in a ticket (128 bits: unguessable, 22 characters in the push).
TICKET_BYTES = 16
#: The longest ticket text accepted (a base64url of 16 bytes is 22 characters).
TICKET_MAX_CHARS = 64


def ticket_new() -> str:
    """A fresh random ticket, as it travels in the push's data."""
    return secrets.token_urlsafe(TICKET_BYTES)


def ticket_digest(ticket: str) -> bytes:
    return hashlib.sha256(ticket.encode()).digest()


def tickets_store(tickets: Iterable[tuple[int, str]]) -> int:
    """Store the digests of ``(notification_id, ticket)`` pairs of pushes just sent, in a
    random order (the table's physical order must not follow the deliveries')."""
    rows = [OpenTicket(digest=ticket_digest(t), notification_id=n) for n, t in tickets]
    random.SystemRandom().shuffle(rows)
    OpenTicket.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def open_report(*, notification_id: int, ticket: str) -> bool:
    """Count one open of ``notification_id`` if ``ticket`` is one of its unused tickets; return
    whether it counted. The ticket is consumed and the counter incremented in one transaction:
    of two concurrent reports of one ticket, the second deletes nothing (it waits for the
    first's row lock), so a ticket counts once."""
    with transaction.atomic():
        used, _by_model = OpenTicket.objects.filter(
            digest=ticket_digest(ticket), notification_id=notification_id
        ).delete()
        if not used:
            return False
        Notification.objects.filter(pk=notification_id).update(opens=F("opens") + 1)
    return True
