"""App configuration for residents (devices, places, interests, saved items, GDPR)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentsConfig(AppConfig):
    name = "apps.residents"
    label = "residents"
    verbose_name = _("Habitants")

    def ready(self) -> None:
        from apps.residents import receivers  # noqa: F401 - connects signal receivers
        from apps.residents.api import schema  # noqa: F401 - OpenAPI auth extension
