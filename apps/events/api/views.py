"""Views of events: the content ViewSet plus iCalendar feeds (filters in filters.py)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Min, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.conditional import set_validators
from apps.core.api.content_schema import content_viewset_schema
from apps.core.api.renderers import FirstRendererNegotiation, ICalendarRenderer
from apps.core.api.schema import CONDITIONAL_PARAMETERS, NOT_MODIFIED
from apps.core.api.viewsets import ContentViewSet
from apps.events.api.filters import EventFilterSet
from apps.events.api.schema import LIST_EXAMPLE, WRITE_EXAMPLE
from apps.events.api.serializers import (
    EventDetailSerializer,
    EventListItemSerializer,
    EventWriteSerializer,
)
from apps.events.ical import events_calendar
from apps.events.models import Event
from apps.events.selectors import event_detail, event_list
from apps.events.services import event_apply

#: An iCalendar feed holds at most this many events (the first by the requested ordering).
ICAL_MAX_EVENTS = 500


@content_viewset_schema(
    type_code="events",
    label="Events",
    list_serializer=EventListItemSerializer,
    detail_serializer=EventDetailSerializer,
    write_serializer=EventWriteSerializer,
    list_description=(
        "Ordered by the next occurrence by default. `starts_after`/`starts_before` look at "
        "every occurrence of recurring events."
    ),
    list_example=LIST_EXAMPLE,
    write_example=WRITE_EXAMPLE,
)
class EventViewSet(ContentViewSet):
    """Events of the city and its partners, with iCalendar feeds."""

    model = Event
    list_serializer_class = EventListItemSerializer
    detail_serializer_class = EventDetailSerializer
    write_serializer_class = EventWriteSerializer
    filterset_class = EventFilterSet
    list_selector = staticmethod(event_list)
    detail_selector = staticmethod(event_detail)
    apply_service = staticmethod(event_apply)
    apply_item = "event"
    filtered_actions: ClassVar[tuple[str, ...]] = ("list", "ical")

    def version_aggregates(self) -> dict[str, Any]:
        # The next dates shown change when the earliest next occurrence ends.
        return {**super().version_aggregates(), "next_change": Min("next_end_at")}

    def changes_at(self, version: dict[str, Any]) -> Any:
        moments = [super().changes_at(version), version.get("next_change")]
        return min((m for m in moments if m is not None), default=None)

    def get_queryset(self) -> QuerySet:
        if self.action == "ical_item":
            return event_detail()
        if self.action == "ical":
            return event_list().defer(None).prefetch_related("occurrences")  # with bodies
        return super().get_queryset()

    @extend_schema(
        operation_id="events_ical",
        summary="iCalendar feed of the events matching the filters",
        description=(
            f"The same filters as the list; at most {ICAL_MAX_EVENTS} events, no pagination. "
            "Subscribe to it from a calendar application."
        ),
        tags=["events"],
        filters=True,
        parameters=CONDITIONAL_PARAMETERS,
        responses={(200, "text/calendar"): str, 304: NOT_MODIFIED},
    )
    @action(
        detail=False,
        url_path="ical",
        renderer_classes=[ICalendarRenderer],
        content_negotiation_class=FirstRendererNegotiation,
    )
    def ical(self, request: Request) -> Any:
        queryset = self.filter_queryset(self.get_queryset())
        version, etag, cached = self.conditional(queryset, removals=True)
        if cached is not None:
            return cached
        body = events_calendar(queryset[:ICAL_MAX_EVENTS], name=str(_("Agenda")))
        return self._calendar(body, etag, version, "events.ics")

    @extend_schema(
        operation_id="events_ical_item",
        summary="iCalendar of one event (all its occurrences)",
        tags=["events"],
        parameters=CONDITIONAL_PARAMETERS,
        responses={(200, "text/calendar"): str, 304: NOT_MODIFIED},
    )
    @action(
        detail=True,
        url_path="ical",
        url_name="ical-item",
        renderer_classes=[ICalendarRenderer],
        content_negotiation_class=FirstRendererNegotiation,
    )
    def ical_item(self, request: Request, pk: str | None = None) -> Any:
        queryset = self.get_queryset().filter(pk=self.pk_from_url())
        version, etag, cached = self.conditional(queryset)
        if not version["count"]:
            raise Http404
        if cached is not None:
            return cached
        event = queryset.get()
        body = events_calendar([event], name=event.title)
        return self._calendar(body, etag, version, f"event-{event.pk}.ics")

    def _calendar(self, body: bytes, etag: str, version: dict[str, Any], filename: str) -> Any:
        response = Response(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return set_validators(response, etag=etag, last_modified=version["last_modified"])
