"""Writes on the interaction log: logging batches, moving, erasing, the retention purge, and
the popularity aggregate the feed reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core.item_types import ItemType
from apps.recommend.codes import Action, Context
from apps.recommend.engine.features import POPULARITY_WINDOW_S
from apps.recommend.models import Interaction, ItemPopularity
from apps.recommend.online.item_index import generation_bump
from apps.recommend.online.resident_cache import resident_inputs_forget
from apps.recommend.selectors import item_popularity
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
    resident_inputs_forget(device.pk)  # the feed's cached history of this device
    return True


def interactions_erase(*, device: Device) -> int:
    """Delete the whole log of ``device`` (consent withdrawn); return how many rows."""
    deleted, _counts = Interaction.objects.filter(device=device).delete()
    resident_inputs_forget(device.pk)
    return deleted


def interactions_move(*, old_device: Device, new_device: Device) -> int:
    """Give ``old_device``'s log to ``new_device`` (a transfer); return how many rows."""
    resident_inputs_forget(old_device.pk, new_device.pk)
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


#: The popularity window the ranker was trained with.
POPULARITY_WINDOW = timedelta(seconds=POPULARITY_WINDOW_S)


@transaction.atomic
def item_popularity_refresh(*, now: datetime | None = None) -> int:
    """Rebuild ``ItemPopularity`` from the positives of the last 7 days; return the row count.

    One aggregate over the ``at`` index, then the table is replaced in one transaction:
    readers see the previous table until the commit.
    """
    now = now or timezone.now()
    counts = item_popularity(since=now - POPULARITY_WINDOW, until=now)
    if connection.vendor == "postgresql":
        # Two refreshes at once (a slow one overlapping the next tick) would both delete, then
        # both insert the same keys: the second waits here for the first to commit. Readers are
        # not blocked (EXCLUSIVE mode allows plain SELECTs).
        with connection.cursor() as cursor:
            table = ItemPopularity._meta.db_table
            cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
    ItemPopularity.objects.all().delete()
    ItemPopularity.objects.bulk_create(
        [
            ItemPopularity(
                item_type=ItemType.from_code(type_code),
                item_id=item_id,
                positives=n,
                refreshed_at=now,
            )
            for (type_code, item_id), n in counts.items()
        ],
        batch_size=2000,
    )
    generation_bump()  # the feed's index reads popularity and the trending lists
    return len(counts)
