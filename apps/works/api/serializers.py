"""Serializers of roadworks: list item, detail, and the publishing body (Open511/WZDx names)."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import GeoJSONGeometryField
from apps.core.api.serializers import ContentDetailMixin, ContentListItemSerializer, TextField
from apps.core.api.writes import ContentWriteSerializer, SafeDateTimeField, text
from apps.works.models import (
    RESTRICTION_UNITS,
    Impact,
    RestrictionType,
    RoadState,
    Severity,
    Works,
    WorksPeriod,
    WorkStatus,
    WorkType,
)


@extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Impact.choices)))
class ImpactsField(serializers.Field):
    """The impacted modes as a list of codes (``road``, ``sidewalk``, ``bike_lane``…)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, works: Works) -> list[str]:
        return works.impacted_systems


class WorksListItemSerializer(ContentListItemSerializer):
    """Roadworks in lists and feeds: dates, lifecycle status, traffic state, impacted modes."""

    impacts = ImpactsField()

    class Meta(ContentListItemSerializer.Meta):
        model = Works
        fields = (
            *ContentListItemSerializer.Meta.fields,
            "start_at",
            "end_at",
            "work_status",
            "work_type",
            "severity",
            "road_state",
            "impacts",
            "night_work",
        )


class WorksPeriodSerializer(serializers.ModelSerializer):
    """When the work happens: dates, ISO weekdays (``12345`` = Monday to Friday), hours."""

    weekdays = serializers.RegexField(r"^1?2?3?4?5?6?7?$", max_length=7, required=False)

    class Meta:
        model = WorksPeriod
        fields = ("start_date", "end_date", "weekdays", "daily_start_time", "daily_end_time")


class RestrictionSerializer(serializers.Serializer):
    """A WZDx restriction, e.g. ``{"type": "reduced-height", "value": 3.5, "unit": "m"}``."""

    type = serializers.ChoiceField(choices=RestrictionType.choices)
    value = serializers.FloatField(required=False, min_value=0, max_value=1_000_000)
    unit = serializers.ChoiceField(choices=sorted(RESTRICTION_UNITS), required=False)

    def validate_value(self, value: float) -> float:
        if not math.isfinite(value):
            raise serializers.ValidationError(_("A finite number."))
        return value


class DetourSerializer(serializers.Serializer):
    text = TextField(source="detour_text", allow_blank=True)
    geometry = GeoJSONGeometryField(source="detour_geometry", allow_null=True)


class WorksDetailSerializer(ContentDetailMixin, WorksListItemSerializer):
    """Roadworks with periods, lanes, roads, restrictions and the detour."""

    periods = WorksPeriodSerializer(many=True, read_only=True)
    restrictions = RestrictionSerializer(many=True, read_only=True)
    detour = DetourSerializer(source="*", read_only=True)

    class Meta(WorksListItemSerializer.Meta):
        fields = (
            *WorksListItemSerializer.Meta.fields,
            *ContentDetailMixin.detail_fields,
            "periods",
            "lanes_closed",
            "road_names",
            "restrictions",
            "reduced_speed_limit_kph",
            "detour",
            "contractor",
        )


class WorksWriteSerializer(ContentWriteSerializer):
    """Publishing body of roadworks: the shared fields plus dates, traffic and detour."""

    model_fields = (
        *ContentWriteSerializer.model_fields,
        "start_at",
        "end_at",
        "work_type",
        "severity",
        "road_state",
        "lanes_closed",
        "night_work",
        "road_names",
        "restrictions",
        "reduced_speed_limit_kph",
        "detour_text_fr",
        "detour_text_en",
        "detour_geometry",
        "contractor",
    )

    start_at = SafeDateTimeField()
    end_at = SafeDateTimeField()
    work_type = serializers.ChoiceField(choices=WorkType.choices, required=False)
    work_status = serializers.ChoiceField(
        choices=WorkStatus.choices,
        required=False,
        help_text="Follows the dates; only `cancelled` can be set (and not undone).",
    )
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    road_state = serializers.ChoiceField(choices=RoadState.choices, required=False)
    lanes_closed = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=20
    )
    impacts = serializers.ListField(
        child=serializers.ChoiceField(choices=Impact.choices),
        required=False,
        max_length=len(Impact.values),
        source="impacted_systems",
        help_text="Impacted modes; replaces the stored list.",
    )
    night_work = serializers.BooleanField(required=False)
    road_names = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=50
    )
    restrictions = RestrictionSerializer(  # type: ignore[call-arg]
        many=True, required=False, max_length=20
    )
    reduced_speed_limit_kph = serializers.IntegerField(
        required=False, allow_null=True, min_value=5, max_value=130
    )
    detour_text_fr = text(5000)
    detour_text_en = text(5000)
    detour_geometry = GeoJSONGeometryField(
        required=False,
        allow_null=True,
        geometry_types=("LineString", "MultiLineString"),
        help_text="The detour route: a GeoJSON LineString or MultiLineString.",
    )
    contractor = text(200)
    periods = WorksPeriodSerializer(  # type: ignore[call-arg]
        many=True, required=False, max_length=50, help_text="Replaces the stored periods."
    )

    def validate_work_status(self, value: str) -> str:
        if value != WorkStatus.CANCELLED:
            raise serializers.ValidationError(
                _("Only 'cancelled' can be set; the other statuses follow the dates.")
            )
        return value

    def validate_type(self, attrs: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        self.check_range(attrs, "start_at", "end_at", errors)
        for index, period in enumerate(attrs.get("periods") or []):
            if period["end_date"] < period["start_date"]:
                errors[f"periods.{index}.end_date"] = _("A period ends after it starts.")
            if (period.get("daily_start_time") is None) != (period.get("daily_end_time") is None):
                errors[f"periods.{index}.daily_end_time"] = _("Give both hours, or none.")
        return errors
