"""Periodic tasks of roadworks."""

from celery import shared_task

from apps.works.services import works_status_refresh


@shared_task(acks_late=True, ignore_result=True)
def works_status_tick() -> int:
    """Advance the planned → active → completed status of works (beat, every 5 minutes)."""
    return works_status_refresh()
