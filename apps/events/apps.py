"""App configuration for events."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
    verbose_name = _("Agenda")

    def ready(self) -> None:
        from apps.core.api.items import register_list_item
        from apps.events import receivers  # noqa: F401 - connects signal receivers
        from apps.events.api.serializers import EventListItemSerializer
        from apps.events.selectors import event_list

        register_list_item("events", serializer=EventListItemSerializer, queryset=event_list)
