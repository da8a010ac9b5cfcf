"""App configuration for notifications (outbox, fan-out, FCM gateway)."""

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
