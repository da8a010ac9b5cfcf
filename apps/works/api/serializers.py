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
    MAX_LANES,
    ROAD_STATE_IMPACTS,
    Direction,
    Impact,
    LaneStatus,
    LaneType,
    RestrictionType,
    RestrictionUnit,
    RoadState,
    Severity,
    VehicleImpact,
    Works,
    WorksPeriod,
    WorkStatus,
    WorkType,
    restriction_error,
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
    """A WZDx 4.2 restriction: ``{"type": "reduced-height", "value": 350, "unit": "centimeters"}``.

    ``value`` and ``unit`` go together; lengths in centimeters/feet/inches, weights in
    kilograms/pounds/tons. The retired ``reduced-speed``, ``pedestrian-detour``,
    ``no-through-traffic`` and units ``m``/``t``/``km/h`` are refused with their replacement.
    """

    type = serializers.CharField(
        max_length=40, help_text=f"One of: {', '.join(RestrictionType.values)}."
    )
    value = serializers.FloatField(required=False, min_value=0, max_value=1_000_000)
    unit = serializers.CharField(
        max_length=20, required=False, help_text=f"One of: {', '.join(RestrictionUnit.values)}."
    )

    def validate_value(self, value: float) -> float:
        if not math.isfinite(value):
            raise serializers.ValidationError(_("Un nombre fini est attendu."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        error = restriction_error(attrs)
        if error:
            field, message = error
            raise serializers.ValidationError({field: message})
        return attrs


class LaneSerializer(serializers.Serializer):
    """A WZDx 4.2 lane: position from the left (1), type, status, its own restrictions."""

    order = serializers.IntegerField(min_value=1, max_value=99)
    type = serializers.ChoiceField(choices=LaneType.choices)
    status = serializers.ChoiceField(choices=LaneStatus.choices)
    restrictions = RestrictionSerializer(  # type: ignore[call-arg]
        many=True, required=False, max_length=20
    )


class DetourSerializer(serializers.Serializer):
    text = TextField(source="detour_text", allow_blank=True)
    geometry = GeoJSONGeometryField(source="detour_geometry", allow_null=True)


class WorksDetailSerializer(ContentDetailMixin, WorksListItemSerializer):
    """Roadworks with periods, lanes, roads, restrictions and the detour."""

    periods = WorksPeriodSerializer(many=True, read_only=True)
    restrictions = RestrictionSerializer(many=True, read_only=True)
    lanes = LaneSerializer(many=True, read_only=True)
    detour = DetourSerializer(source="*", read_only=True)

    class Meta(WorksListItemSerializer.Meta):
        fields = (
            *WorksListItemSerializer.Meta.fields,
            *ContentDetailMixin.detail_fields,
            "periods",
            "vehicle_impact",
            "direction",
            "lanes_closed",
            "lanes",
            "road_names",
            "restrictions",
            "reduced_speed_limit_kph",
            "detour",
            "contractor",
        )


class WorksWriteSerializer(ContentWriteSerializer):
    """Publishing body of roadworks: the shared fields plus dates, traffic and detour."""

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
    vehicle_impact = serializers.ChoiceField(
        choices=VehicleImpact.choices,
        required=False,
        allow_blank=True,
        help_text="WZDx detail of `road_state` (must agree with it); blank = the plain one.",
    )
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    lanes = LaneSerializer(  # type: ignore[call-arg]
        many=True, required=False, max_length=MAX_LANES, help_text="WZDx lanes, left to right."
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
                _("Seul « cancelled » peut être indiqué ; les autres états suivent les dates.")
            )
        return value

    def validate_type(self, attrs: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        self.check_range(attrs, "start_at", "end_at", errors)
        impact, state = self.current(attrs, "vehicle_impact"), self.current(attrs, "road_state")
        if impact and state and impact not in ROAD_STATE_IMPACTS.get(state, ()):
            errors["vehicle_impact"] = _("Ne s'accorde pas avec road_state « %(state)s ».") % {
                "state": state
            }
        for index, period in enumerate(attrs.get("periods") or []):
            if period["end_date"] < period["start_date"]:
                errors[f"periods.{index}.end_date"] = _("Une période finit après son début.")
            if (period.get("daily_start_time") is None) != (period.get("daily_end_time") is None):
                errors[f"periods.{index}.daily_end_time"] = _(
                    "Indiquez les deux heures, ou aucune."
                )
        return errors
