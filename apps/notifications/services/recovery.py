"""Recovery: the sweeper and the late-scheduled-send alarm."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.models import Status
from apps.core.registry import content_models
from apps.notifications import enqueue, policy
from apps.notifications.models import Delivery, DeliveryStatus, Reason
from apps.notifications.services.common import logger

# --------------------------------------------------------------------------------------------
# Recovery
# --------------------------------------------------------------------------------------------


def deliveries_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Put stuck rows back on the queue (beat, every minute).

    - held rows whose quiet hours or digest time have come: pending, enqueued;
    - pending rows that are due and were enqueued more than ``NOTIFY_STUCK_PENDING_S`` ago (or
      never: the on-commit enqueue was lost): enqueued again;
    - sending rows claimed more than ``NOTIFY_STUCK_SENDING_S`` ago (their worker died):
      pending again, enqueued; failed (``retries_exhausted``) when that was their last attempt.

    Also alarms (ERROR log) on scheduled notifying items whose publication time passed more
    than two minutes ago: the beat or the lifecycle task is not running.
    """
    now = now or timezone.now()
    stuck_pending = timedelta(seconds=settings.NOTIFY_STUCK_PENDING_S)
    stuck_sending = timedelta(seconds=settings.NOTIFY_STUCK_SENDING_S)
    with transaction.atomic():
        released = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.HELD, not_before__lte=now)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=released).update(
            status=DeliveryStatus.PENDING, not_before=None, enqueued_at=now, updated_at=now
        )
        stuck = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - stuck_sending)
            .values_list("pk", "attempts")
        )
        recovered: list[int] = []
        exhausted: list[int] = []
        for pk, attempts in stuck:
            # Stuck after their last attempt: failed, not put back (that would retry forever).
            done = policy.attempts_exhausted(attempts, max_attempts=settings.NOTIFY_MAX_ATTEMPTS)
            (exhausted if done else recovered).append(pk)
        Delivery.objects.filter(pk__in=recovered).update(
            status=DeliveryStatus.PENDING, enqueued_at=now, updated_at=now
        )
        Delivery.objects.filter(pk__in=exhausted).update(
            status=DeliveryStatus.FAILED, reason=Reason.RETRIES_EXHAUSTED, updated_at=now
        )
        lost = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - stuck_pending))
            .filter(status=DeliveryStatus.PENDING)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=lost).update(enqueued_at=now, updated_at=now)
        ids = released + recovered + lost
        transaction.on_commit(lambda: enqueue.send_batches(ids=ids))
    late = scheduled_items_late(now=now)
    if late:
        logger.error(
            "%d scheduled notifying item(s) are past their publication time and still "
            "unpublished: is celery beat running? %s",
            len(late),
            ", ".join(f"{t}/{pk}" for t, pk, _at in late[:10]),
        )
    if exhausted:
        logger.error(
            "sweeper failed %d stuck sending deliveries that had used their %d attempts",
            len(exhausted),
            settings.NOTIFY_MAX_ATTEMPTS,
        )
    if recovered or lost:
        logger.warning(
            "sweeper re-enqueued %d stuck sending and %d lost pending deliveries",
            len(recovered),
            len(lost),
        )
    return {
        "released": len(released),
        "recovered": len(recovered),
        "failed": len(exhausted),
        "lost": len(lost),
        "late": len(late),
    }


def scheduled_items_late(
    *, now: datetime | None = None, grace_s: int = 120
) -> list[tuple[str, int, datetime]]:
    """Scheduled items with ``notify`` whose publication time passed more than ``grace_s`` ago."""
    now = now or timezone.now()
    late: list[tuple[str, int, datetime]] = []
    for type_code, model in content_models().items():
        rows = model.objects.filter(
            status=Status.SCHEDULED, notify=True, publish_at__lt=now - timedelta(seconds=grace_s)
        ).values_list("pk", "publish_at")
        late.extend((type_code, pk, at) for pk, at in rows if at is not None)
    return late
