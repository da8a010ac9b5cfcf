"""App config of interop: open feeds and imports; registers the poll of import sources."""

from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "apps.interop"
    verbose_name = "Interopérabilité"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backend.celery import beat_entry

        beat_entry("interop-sources-poll", "apps.interop.tasks.sources_poll", 15 * 60.0)
