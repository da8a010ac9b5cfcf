"""App configuration of public alerts (CAP 1.2 out and in, drills, delivery reports)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "apps.alerts"
    label = "alerts"
    verbose_name = _("Alertes")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.alerts import (  # noqa: F401
            receivers,  # CAP messages follow the publications, updates and withdrawals
            tasks,  # the poll of the CAP sources (beat, backend/celery.py)
        )
