"""App configuration for notifications (outbox, fan-out, FCM gateway)."""

from celery.schedules import crontab
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from apps.notifications import (  # noqa: F401
            receivers,  # connects signal receivers
            tasks,  # registers the tasks, which ``apps.notifications.enqueue`` finds by name
        )
        from backend.celery import beat_entry

        beat_entry("notifications-sweep", "apps.notifications.tasks.sweep_tick", 60.0)
        beat_entry("notifications-reminders", "apps.notifications.tasks.reminders_tick", 900.0)
        beat_entry(
            "notifications-purge",
            "apps.notifications.tasks.deliveries_purge_tick",
            crontab(hour=3, minute=47),
        )
