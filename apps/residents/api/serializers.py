"""Serializers of the resident API; input serializers reject unknown and read-only keys."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.core.item_types import CODE_CHOICES
from apps.core.models import Area, Category, Organization
from apps.residents.api.fields import (
    MAX_ID,
    GeoJSONPointField,
    LocalTimeField,
    PushTokenField,
    StrictBooleanField,
    StrictCharField,
    StrictInputMixin,
    StrictIntegerField,
    StrictSlugField,
    TimezoneField,
    UrgencyCodeField,
)
from apps.residents.models import Device, Place, PlaceLabel, Platform
from apps.residents.selectors import slugs_resolve

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


class DeviceRegisterInputSerializer(StrictInputMixin, serializers.Serializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    push_token = PushTokenField(required=False, allow_null=True)
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        help_text="Default: the request's Accept-Language (fr or en), else fr.",
    )
    timezone = TimezoneField(required=False, help_text="IANA name; default Europe/Paris.")
    transfer_code = StrictCharField(
        required=False,
        max_length=32,
        help_text="A code from POST /me/transfer-code/ on the old phone: the new device takes "
        "over its profile and the old device is erased.",
    )


class DeviceRegisteredSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    token = serializers.CharField(
        help_text="Bearer token for every /me/ call. Shown once: the server keeps only a hash."
    )


class DeviceProfileSerializer(serializers.ModelSerializer):
    """The calling device's preferences (``GET /me/``)."""

    min_urgency = UrgencyCodeField(help_text="Least urgent pushes received.")
    has_push_token = serializers.SerializerMethodField()
    quiet_hours_start = LocalTimeField(read_only=True, allow_null=True)
    quiet_hours_end = LocalTimeField(read_only=True, allow_null=True)
    weekly_digest_time = LocalTimeField(read_only=True)

    class Meta:
        model = Device
        fields = [
            "id",
            "platform",
            "language",
            "timezone",
            "notifications_enabled",
            "quiet_hours_start",
            "quiet_hours_end",
            "max_pushes_per_day",
            "info_per_week",
            "important_per_day",
            "weekly_digest_day",
            "weekly_digest_time",
            "min_urgency",
            "personalization_consent",
            "personalization_consent_at",
            "remind_saved_events",
            "remind_works_near_home",
            "has_push_token",
            "created_at",
        ]
        read_only_fields = fields

    def get_has_push_token(self, device: Device) -> bool:
        return bool(device.push_token and device.push_token_active)


class DevicePreferencesInputSerializer(StrictInputMixin, serializers.Serializer):
    """``PATCH /me/``: any subset of the preferences."""

    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    timezone = TimezoneField(required=False)
    notifications_enabled = StrictBooleanField(required=False)
    quiet_hours_start = serializers.TimeField(
        required=False,
        allow_null=True,
        help_text="Local time (HH:MM) pushes stop; set with quiet_hours_end, or both null.",
    )
    quiet_hours_end = serializers.TimeField(
        required=False,
        allow_null=True,
        help_text="Local time (HH:MM) pushes resume; may be earlier than the start (overnight).",
    )
    max_pushes_per_day = StrictIntegerField(required=False, min_value=1, max_value=50)
    info_per_week = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=50,
        help_text="Information pushes a week (Monday to Sunday, local time) at most; the "
        "excess goes into the digest. 0: information only in digests. Default 3.",
    )
    important_per_day = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=50,
        help_text="Important pushes a day at most (alerts are never limited). Default 2.",
    )
    weekly_digest_day = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=6,
        help_text="0 (Monday) to 6 (Sunday): the information beyond the weekly budget comes "
        "in one weekly digest that day; null: in the daily digest.",
    )
    weekly_digest_time = LocalTimeField(
        required=False, help_text="Local time (HH:MM) of the weekly digest. Default 18:00."
    )
    min_urgency = UrgencyCodeField(required=False)
    personalization_consent = StrictBooleanField(
        required=False,
        help_text="Consent to a personalized feed and to the interaction log; withdrawing it "
        "erases the log.",
    )
    remind_saved_events = StrictBooleanField(required=False)
    remind_works_near_home = StrictBooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("quiet_hours_start")
        end = attrs.get("quiet_hours_end")
        if start is not None and end is not None and start == end:
            raise serializers.ValidationError(
                {"quiet_hours_end": [_("Quiet hours must not start and end at the same time.")]}
            )
        return attrs


class PushTokenInputSerializer(StrictInputMixin, serializers.Serializer):
    push_token = PushTokenField(allow_null=True, help_text="The new token; null removes it.")


class PlaceSerializer(serializers.ModelSerializer):
    location = GeoJSONPointField(
        help_text="The stored point: snapped to the 0.001° grid (about 100 m)."
    )

    class Meta:
        model = Place
        fields = ["id", "label", "name", "location", "radius_m", "created_at", "updated_at"]
        read_only_fields = fields


class PlaceWriteSerializer(StrictInputMixin, serializers.Serializer):
    label = serializers.ChoiceField(choices=PlaceLabel.choices)  # type: ignore[assignment]
    name = StrictCharField(
        required=False, allow_blank=True, max_length=80, help_text='Free text ("Grandma\'s").'
    )
    location = GeoJSONPointField(help_text="Stored rounded to 0.001° (about 100 m).")
    radius_m = StrictIntegerField(
        min_value=Place.RADIUS_MIN_M, max_value=Place.RADIUS_MAX_M, help_text="Metres."
    )


class _SlugList(serializers.ListField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=StrictSlugField(max_length=80), max_length=500, **kwargs)


class InterestsSerializer(StrictInputMixin, serializers.Serializer):
    """What a device follows, by slug (``GET`` and ``PUT /me/interests/``)."""

    categories = _SlugList()
    areas = _SlugList()
    organizations = _SlugList()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        resolved: dict[str, list] = {}
        for name, model in (
            ("categories", Category),
            ("areas", Area),
            ("organizations", Organization),
        ):
            resolved[name], unknown = slugs_resolve(model, attrs[name])
            if unknown:
                errors[name] = [_("Unknown slug: %(s)s.") % {"s": ", ".join(unknown)}]
        if errors:
            raise serializers.ValidationError(errors)
        return resolved


class SavedItemInputSerializer(StrictInputMixin, serializers.Serializer):
    type = serializers.ChoiceField(choices=CODE_CHOICES)
    id = StrictIntegerField(min_value=1, max_value=MAX_ID)


class SavedItemSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=CODE_CHOICES, source="item_type")
    id = serializers.IntegerField(source="item_id")
    saved_at = serializers.DateTimeField(source="created_at")
    available = serializers.SerializerMethodField(
        help_text="False once the item is no longer public (expired, archived, deleted)."
    )
    title = serializers.SerializerMethodField()

    def _item(self, saved: Any) -> Any:
        return self.context.get("items", {}).get((saved.item_type, saved.item_id))

    def get_available(self, saved: Any) -> bool:
        return self._item(saved) is not None

    def get_title(self, saved: Any) -> str | None:
        item = self._item(saved)
        return item.title if item is not None else None


class TransferCodeSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Type it on the new phone (POST /devices/ with transfer_code). One use."
    )
    expires_at = serializers.DateTimeField()
