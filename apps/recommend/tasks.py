"""Periodic tasks of the recommender: the interaction retention purge."""

from celery import shared_task

from apps.recommend.services import interactions_purge


@shared_task(acks_late=True, ignore_result=True)
def interactions_purge_tick() -> int:
    """Delete interactions older than ``RETENTION_DAYS`` (daily)."""
    return interactions_purge()
