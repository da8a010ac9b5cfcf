"""Celery tasks of the push pipeline; all routed to the ``push`` queue (``backend.celery``).

Every task is idempotent and ``acks_late``: a task redelivered after a worker died claims only
rows still pending, so it cannot push twice what another run already sent.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.notifications import retention, services


@shared_task(acks_late=True, ignore_result=True)
def dispatch(notification_id: int) -> int:
    """Cut a notification's pending deliveries into ``send_batch`` tasks of ≤ 500."""
    return services.notification_dispatch(notification_id=notification_id)


@shared_task(acks_late=True, ignore_result=True)
def send_batch(delivery_ids: list[int]) -> dict[str, Any]:
    """Claim, send and record one batch of deliveries."""
    report = services.deliveries_send(ids=delivery_ids)
    return {"claimed": report.claimed, "sent": report.sent, "retried": report.retried}


@shared_task(acks_late=True, ignore_result=True)
def sweep_tick() -> dict[str, int]:
    """Re-enqueue held, lost and stuck deliveries; alarm on late scheduled sends (beat, 1 min)."""
    return services.deliveries_sweep()


@shared_task(acks_late=True, ignore_result=True)
def reminders_tick() -> dict[str, int]:
    """Create the due reminders of saved events and of roadworks near homes (beat, 15 min)."""
    return services.reminders_run()


@shared_task(acks_late=True, ignore_result=True)
def deliveries_purge_tick() -> dict[str, int]:
    """Delete deliveries older than ``RETENTION_DAYS`` (daily)."""
    return retention.deliveries_purge()
