"""Periodic tasks of the recommender: retention purge, popularity, online evaluation, nightly
training."""

from celery import shared_task

from apps.recommend.services import (
    interactions_purge,
    item_popularity_refresh,
    online_evaluation_daily,
)


@shared_task(acks_late=True, ignore_result=True)
def interactions_purge_tick() -> int:
    """Delete interactions older than ``RETENTION_DAYS`` (daily)."""
    return interactions_purge()


@shared_task(acks_late=True, ignore_result=True)
def item_popularity_refresh_tick() -> int:
    """Rebuild the 7-day popularity the feed reads (every few minutes)."""
    return item_popularity_refresh()


@shared_task(acks_late=True, ignore_result=True)
def recommender_train_nightly() -> str:
    """Train stage 2 and serve it if it beats stage 1 (nightly); returns the outcome."""
    from apps.recommend.offline.training_job import recommender_train

    result = recommender_train()
    return result.version or result.reason


@shared_task(acks_late=True, ignore_result=True)
def online_evaluation_nightly() -> int:
    """Count yesterday's interleaved feeds, roll back a model doing worse (nightly)."""
    return online_evaluation_daily()
