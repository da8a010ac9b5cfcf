"""Serializers of events: list item, detail, and the publishing body (schema.org names)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import GeoJSONGeometryField
from apps.core.api.serializers import (
    ContentDetailMixin,
    ContentListItemSerializer,
    FieldsOnceMixin,
    TextField,
    absolute_url,
)
from apps.core.api.writes import ContentWriteSerializer, SafeDateTimeField, text
from apps.events.models import (
    Accessibility,
    AttendanceMode,
    Audience,
    Event,
    EventOccurrence,
    EventStatus,
    Venue,
    validate_rrule,
)
from apps.events.recurrence import MAX_OCCURRENCES


class VenueRefSerializer(FieldsOnceMixin, serializers.ModelSerializer):
    """Where an event happens, as shown in lists."""

    class Meta:
        model = Venue
        fields = ("name", "address", "city")


class EventListItemSerializer(ContentListItemSerializer):
    """An event in lists and feeds: first and next dates, venue, price, audience, status."""

    next_start_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Start of the next occurrence not yet ended."
    )
    next_end_at = serializers.DateTimeField(read_only=True, allow_null=True)
    is_recurring = serializers.SerializerMethodField()
    venue = VenueRefSerializer(read_only=True, allow_null=True)

    class Meta(ContentListItemSerializer.Meta):
        model = Event
        fields = (
            *ContentListItemSerializer.Meta.fields,
            "start_at",
            "end_at",
            "has_start_time",
            "has_end_time",
            "next_start_at",
            "next_end_at",
            "is_recurring",
            "venue",
            "event_status",
            "is_free",
            "audience",
            "attendance_mode",
        )

    def get_is_recurring(self, event: Event) -> bool:
        return bool(event.rrule)


class EventOccurrenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = EventOccurrence
        fields = ("start_at", "end_at")


class VenueSerializer(serializers.ModelSerializer):
    """A venue with its position (GeoJSON Point) and accessibility."""

    location = GeoJSONGeometryField(geometry_types=("Point",))

    class Meta:
        model = Venue
        fields = ("name", "address", "postal_code", "city", "location", "website", "accessibility")


class OffersSerializer(serializers.Serializer):
    is_free = serializers.BooleanField()
    price_min = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    price_info = TextField(allow_blank=True)
    ticket_url = serializers.CharField(allow_blank=True)


class RegistrationSerializer(serializers.Serializer):
    required = serializers.BooleanField(  # type: ignore[assignment]
        source="registration_required"
    )
    url = serializers.CharField(source="registration_url", allow_blank=True)


class EventDetailSerializer(ContentDetailMixin, EventListItemSerializer):
    """An event with every occurrence, the full venue, offers, audience and accessibility."""

    occurrences = EventOccurrenceSerializer(many=True, read_only=True)
    venue = VenueSerializer(read_only=True, allow_null=True)  # type: ignore[assignment]
    offers = OffersSerializer(source="*", read_only=True)
    registration = RegistrationSerializer(source="*", read_only=True)
    ical_url = serializers.SerializerMethodField()
    excluded_dates = serializers.ListField(
        child=serializers.DateField(),
        read_only=True,
        help_text="Local dates the rule skips (iCalendar EXDATE), left out of `occurrences`.",
    )

    class Meta(EventListItemSerializer.Meta):
        fields = (
            *EventListItemSerializer.Meta.fields,
            *ContentDetailMixin.detail_fields,
            "occurrences",
            "rrule",
            "excluded_dates",
            "offers",
            "age_min",
            "age_max",
            "accessibility",
            "online_url",
            "registration",
            "sequence",
            "ical_url",
        )

    @extend_schema_field(OpenApiTypes.URI)
    def get_ical_url(self, event: Event) -> str:
        return absolute_url(reverse("events-ical-item", args=[event.pk]))


class VenueWriteSerializer(serializers.Serializer):
    """A venue by name and address: reused when it exists, created otherwise."""

    name = text(200, required=True)
    address = text(300, required=True)
    postal_code = text(10)
    city = text(100)
    location = GeoJSONGeometryField(geometry_types=("Point",))
    website = serializers.URLField(required=False, allow_blank=True)
    accessibility = serializers.ListField(
        child=serializers.ChoiceField(choices=Accessibility.choices), required=False, max_length=5
    )


class EventDateSerializer(serializers.Serializer):
    start_at = SafeDateTimeField()
    end_at = SafeDateTimeField()


class EventWriteSerializer(ContentWriteSerializer):
    """Publishing body of an event: the shared fields plus dates, venue, offers, audience."""

    start_at = SafeDateTimeField(help_text="First occurrence (iCalendar DTSTART).")
    end_at = SafeDateTimeField()
    has_start_time = serializers.BooleanField(required=False)
    has_end_time = serializers.BooleanField(required=False)
    rrule = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=300,
        validators=[validate_rrule],
        help_text="RFC 5545 RRULE without the prefix, e.g. `FREQ=WEEKLY;BYDAY=SA;COUNT=8`.",
    )
    extra_dates = EventDateSerializer(  # type: ignore[call-arg]
        many=True,
        required=False,
        max_length=MAX_OCCURRENCES,
        help_text="Dates added by hand (iCalendar RDATE); replaces the stored ones.",
    )
    excluded_dates = serializers.ListField(
        child=serializers.DateField(),
        required=False,
        max_length=MAX_OCCURRENCES,
        help_text=(
            "Local dates (`YYYY-MM-DD`) the rule skips (iCalendar EXDATE); replaces the stored "
            "ones. The first date (`start_at`) cannot be skipped."
        ),
    )
    venue = VenueWriteSerializer(required=False, allow_null=True)
    event_status = serializers.ChoiceField(choices=EventStatus.choices, required=False)
    attendance_mode = serializers.ChoiceField(choices=AttendanceMode.choices, required=False)
    online_url = serializers.URLField(required=False, allow_blank=True)
    is_free = serializers.BooleanField(required=False)
    price_min = serializers.DecimalField(
        max_digits=7, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    price_info_fr = text(300)
    price_info_en = text(300)
    ticket_url = serializers.URLField(required=False, allow_blank=True)
    audience = serializers.ChoiceField(choices=Audience.choices, required=False)
    age_min = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=120)
    age_max = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=120)
    accessibility = serializers.ListField(
        child=serializers.ChoiceField(choices=Accessibility.choices), required=False, max_length=5
    )
    registration_required = serializers.BooleanField(required=False)
    registration_url = serializers.URLField(required=False, allow_blank=True)
    sequence = serializers.IntegerField(read_only=True, help_text="iCalendar SEQUENCE.")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["extra_dates"] = [
            {"start_at": o["start_at"], "end_at": o["end_at"]}
            for o in EventDateSerializer(
                instance.occurrences.filter(origin=EventOccurrence.Origin.EXTRA), many=True
            ).data
        ]
        return data

    def validate_excluded_dates(self, value: list[Any]) -> list[str]:
        return sorted({day.isoformat() for day in value})

    def validate_type(self, attrs: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        self.check_range(attrs, "start_at", "end_at", errors)
        self.check_range(attrs, "age_min", "age_max", errors)
        for index, span in enumerate(attrs.get("extra_dates") or []):
            if span["end_at"] < span["start_at"]:
                errors[f"extra_dates.{index}.end_at"] = _("Une date finit après son début.")
        if self.current(attrs, "is_free") and self.current(attrs, "price_min") is not None:
            errors["price_min"] = _("Un événement gratuit n'a pas de prix.")
        return errors
