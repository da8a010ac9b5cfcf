"""App config of interop: open feeds and imports (its poll is in backend/celery.py's beat table)."""

from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "apps.interop"
    verbose_name = "Interopérabilité"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.interop import receivers  # noqa: F401  (the OpenAgenda export outbox)
