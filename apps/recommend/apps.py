"""App configuration for the recommender."""

from celery.schedules import crontab
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendConfig(AppConfig):
    name = "apps.recommend"
    label = "recommend"
    verbose_name = _("Recommandation")

    def ready(self) -> None:
        from apps.recommend import receivers  # noqa: F401 - connects signal receivers
        from backend.celery import beat_entry

        beat_entry(
            "interactions-purge",
            "apps.recommend.tasks.interactions_purge_tick",
            crontab(hour=3, minute=37),
        )
        beat_entry(
            "item-popularity-refresh",
            "apps.recommend.tasks.item_popularity_refresh_tick",
            600.0,
        )
        # At night, after the purge and away from the morning peak of the feed.
        beat_entry(
            "recommender-train",
            "apps.recommend.tasks.recommender_train_nightly",
            crontab(hour=4, minute=13),
        )
