"""Periodic tasks of public alerts: poll the active CAP sources (beat, backend/celery.py)."""

from __future__ import annotations

from celery import shared_task

from apps.alerts.models import CapSource
from apps.alerts.services import cap_source_poll


@shared_task(acks_late=True, ignore_result=True)
def cap_source_poll_task(source_id: int) -> None:
    """Read one CAP source; failures are recorded on it, and the next poll tries again."""
    source = CapSource.objects.filter(pk=source_id, active=True).first()
    if source is not None:
        cap_source_poll(source=source)


@shared_task(acks_late=True, ignore_result=True)
def cap_sources_poll() -> int:
    """Enqueue one read per active CAP source (beat, every minute: warnings cannot wait)."""
    ids = list(CapSource.objects.filter(active=True).values_list("pk", flat=True))
    for pk in ids:
        cap_source_poll_task.delay(pk)
    return len(ids)
