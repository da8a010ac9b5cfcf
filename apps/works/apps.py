"""App configuration for roadworks."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorksConfig(AppConfig):
    name = "apps.works"
    label = "works"
    verbose_name = _("Travaux")

    def ready(self) -> None:
        from apps.core.api.items import register_list_item
        from apps.works.api.serializers import WorksListItemSerializer
        from apps.works.selectors import works_list

        register_list_item("works", serializer=WorksListItemSerializer, queryset=works_list)
