"""Periodic tasks of the core: the content lifecycle tick."""

from celery import shared_task

from apps.core.services import content_lifecycle_run


@shared_task(acks_late=True, ignore_result=True)
def content_lifecycle_tick() -> dict[str, int]:
    """Publish due scheduled items and archive expired ones (beat, every minute)."""
    return content_lifecycle_run()
