"""Writes on the interaction log: logging batches, moving, erasing, the retention purge."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.recommend.codes import Action, Context, ItemType
from apps.recommend.models import Interaction
from apps.residents.models import Device


def interactions_log(*, device: Device, events: Iterable[dict[str, Any]]) -> bool:
    """Store validated events of ``device``; return whether they were stored.

    Nothing is stored when the device has not accepted personalization (GDPR: consent is the
    legal basis of the log). Events whose ``event_id`` the device already sent are skipped
    (unique index + ``ignore_conflicts``), so a retried batch is harmless. ``events`` carry
    API codes: ``type``, ``id``, ``action``, ``context``, ``position``, ``at``, ``event_id``.
    """
    if not device.personalization_consent:
        return False
    rows = [
        Interaction(
            device=device,
            event_id=event["event_id"],
            item_type=ItemType.from_code(event["type"]),
            item_id=event["id"],
            action=Action.from_code(event["action"]),
            context=Context.from_code(event["context"]),
            position=event.get("position"),
            at=event["at"],
        )
        for event in events
    ]
    Interaction.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return True


def interactions_erase(*, device: Device) -> int:
    """Delete the whole log of ``device`` (consent withdrawn); return how many rows."""
    deleted, _counts = Interaction.objects.filter(device=device).delete()
    return deleted


def interactions_move(*, old_device: Device, new_device: Device) -> int:
    """Give ``old_device``'s log to ``new_device`` (a transfer); return how many rows."""
    return Interaction.objects.filter(device=old_device).update(device=new_device)


def interactions_purge(*, now: datetime | None = None, batch: int = 10_000) -> int:
    """Delete interactions older than ``RETENTION_DAYS``, in batches; return how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)
    purged = 0
    while True:
        with transaction.atomic():
            ids = list(
                Interaction.objects.filter(at__lt=cutoff)
                .order_by("at")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return purged
            Interaction.objects.filter(pk__in=ids).delete()
        purged += len(ids)
