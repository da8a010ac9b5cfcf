"""App configuration for roadworks."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorksConfig(AppConfig):
    name = "apps.works"
    label = "works"
    verbose_name = _("Travaux")

    def ready(self) -> None:
        from backend.celery import beat_entry

        beat_entry("works-status", "apps.works.tasks.works_status_tick", 300.0)
