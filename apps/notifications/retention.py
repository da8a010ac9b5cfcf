"""Storage limitation for the push pipeline (GDPR art. 5(1)(e), docs/privacy.md).

A delivery says which device was told what, and why (a place, a followed area): it is personal
data. Finished deliveries are kept ``RETENTION_DAYS`` (the interaction log's period: both feed
"what did I receive" and the statistics), then deleted in batches by a daily beat task.
Notifications about items are not personal and stay with their counters (``targeted``); digests
and test pushes are addressed to one device and go with their last delivery, and with the
device when it is erased (``device_notifications_forget``). The open tickets of a notification
(``services.opens``) expire ``NOTIFY_OPEN_WINDOW_DAYS`` after it was created: an open reported
later is not counted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification, OpenTicket

FINISHED = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
PERSONAL_KINDS = (Kind.DIGEST, Kind.TEST)


def deliveries_purge(*, now: datetime | None = None, batch: int = 10_000) -> dict[str, int]:
    """Delete finished deliveries created more than ``RETENTION_DAYS`` ago, the digests and
    test pushes left without deliveries, and expired open tickets; return the counts."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RETENTION_DAYS)
    purged = 0
    while True:
        with transaction.atomic():
            ids = list(
                Delivery.objects.filter(created_at__lt=cutoff, status__in=FINISHED)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            Delivery.objects.filter(pk__in=ids).delete()
        purged += len(ids)
    orphans, _ = Notification.objects.filter(
        kind__in=PERSONAL_KINDS, deliveries__isnull=True
    ).delete()
    window = now - timedelta(days=settings.NOTIFY_OPEN_WINDOW_DAYS)
    tickets, _ = OpenTicket.objects.filter(notification__created_at__lt=window).delete()
    return {"deliveries": purged, "personal_notifications": orphans, "open_tickets": tickets}


def device_notifications_forget(*, device_id: int) -> int:
    """Delete the digests and test pushes addressed to an erased device (its deliveries went
    with it by cascade); return how many."""
    deleted = 0
    for kind in PERSONAL_KINDS:
        count, _ = Notification.objects.filter(
            kind=kind, key__startswith=f"{kind}:{device_id}:"
        ).delete()
        deleted += count
    return deleted
