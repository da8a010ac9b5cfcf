"""App config of interop: open feeds and imports (its poll is in backend/celery.py's beat table)."""

from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "apps.interop"
    verbose_name = "Interopérabilité"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.interop import tasks  # noqa: F401  (registers the tasks enqueued by name)
        from apps.interop.dialog import receivers  # noqa: F401  (connects the DiaLog outbox)
        from apps.interop.openagenda import (  # noqa: F401
            receivers as openagenda_receivers,  # connects the OpenAgenda export outbox
        )
