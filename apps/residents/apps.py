"""App configuration for residents (devices, places, interests, saved items, GDPR)."""

from celery.schedules import crontab
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentsConfig(AppConfig):
    name = "apps.residents"
    label = "residents"
    verbose_name = _("Habitants")

    def ready(self) -> None:
        from apps.residents import receivers  # noqa: F401 - connects signal receivers
        from apps.residents.api import schema  # noqa: F401 - OpenAPI auth extension
        from backend.celery import beat_entry

        beat_entry(
            "residents-purge",
            "apps.residents.tasks.residents_purge_tick",
            crontab(hour=3, minute=17),
        )
