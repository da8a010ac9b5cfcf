"""Serializer fields and helpers of the resident API: strict input, GeoJSON points, codes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django.contrib.gis.geos import Point
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.geo import point
from apps.core.models import Urgency


class StrictInputMixin:
    """Reject keys the serializer does not write (unknown or read-only) instead of ignoring them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            fields = self.fields  # type: ignore[attr-defined]
            writable = {name for name, field in fields.items() if not field.read_only}
            extra = [key for key in data if key not in writable]
            if extra:
                raise serializers.ValidationError(
                    {str(key): [_("Unknown or read-only field.")] for key in extra}
                )
        return super().to_internal_value(data)  # type: ignore[misc]


class _JSONTyped:
    """Accept only the JSON type the schema documents: no ``"12"`` for 12, ``1`` for true or
    ``12`` for ``"12"`` (DRF coerces them silently)."""

    json_types: tuple[type, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) is not (bool in self.json_types) or not isinstance(
            data, self.json_types
        ):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictCharField(_JSONTyped, serializers.CharField):
    json_types = (str,)


class StrictSlugField(_JSONTyped, serializers.SlugField):
    json_types = (str,)


class StrictIntegerField(_JSONTyped, serializers.IntegerField):
    json_types = (int, float)  # 12.0 is an integer in JSON Schema; 12.5 still fails


class StrictBooleanField(_JSONTyped, serializers.BooleanField):
    json_types = (bool,)


class StrictUUIDField(_JSONTyped, serializers.UUIDField):
    json_types = (str,)


@extend_schema_field(
    {
        "type": "object",
        "description": "A GeoJSON Point (RFC 7946), WGS84: coordinates are [longitude, latitude].",
        "properties": {
            "type": {"type": "string", "enum": ["Point"]},
            "coordinates": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
                "example": [4.8357, 45.764],
            },
        },
        "required": ["type", "coordinates"],
        "additionalProperties": False,
    }
)
class GeoJSONPointField(serializers.Field):
    """A GeoJSON Point in WGS84; ranges checked; no ``crs`` or other members accepted."""

    default_error_messages = {
        "invalid": _('Expected a GeoJSON Point: {{"type": "Point", "coordinates": [lon, lat]}}.'),
        "longitude": _("Longitude must be between -180 and 180."),
        "latitude": _("Latitude must be between -90 and 90."),
    }

    def to_internal_value(self, data: Any) -> Point:
        if not isinstance(data, Mapping) or set(data) != {"type", "coordinates"}:
            self.fail("invalid")
        coordinates = data["coordinates"]
        if (
            data["type"] != "Point"
            or not isinstance(coordinates, list)
            or len(coordinates) != 2
            or not all(
                isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c)
                for c in coordinates
            )
        ):
            self.fail("invalid")
        lon, lat = (float(c) for c in coordinates)
        if not -180 <= lon <= 180:
            self.fail("longitude")
        if not -90 <= lat <= 90:
            self.fail("latitude")
        return point(lon, lat)

    def to_representation(self, value: Point) -> dict[str, Any]:
        return {"type": "Point", "coordinates": [value.x, value.y]}


class UrgencyCodeField(serializers.ChoiceField):
    """``Urgency`` stored as its integer, spoken as ``info`` / ``important`` / ``alert``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Urgency.codes(), **kwargs)

    def to_internal_value(self, data: Any) -> int:  # type: ignore[override]
        return int(Urgency.from_code(super().to_internal_value(data)))

    def to_representation(self, value: Any) -> str:
        return Urgency(value).code


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(value: str) -> None:
    """An IANA time zone name known to the system's tz database (``Europe/Paris``)."""
    if value not in _timezones():
        raise serializers.ValidationError(_("Unknown IANA time zone (e.g. Europe/Paris)."))


class TimezoneField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)
        self.validators.append(validate_timezone)


#: FCM / APNs registration tokens: printable ASCII without spaces.
PUSH_TOKEN_REGEX = r"^[\x21-\x7e]{16,1024}$"


class PushTokenField(_JSONTyped, serializers.RegexField):
    json_types = (str,)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            PUSH_TOKEN_REGEX,
            max_length=1024,
            error_messages={"invalid": _("Invalid push token (16 to 1024 printable characters).")},
            **kwargs,
        )


#: Ids are PostgreSQL bigints.
MAX_ID = 2**63 - 1


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
        "example": "18:00:00",
        "description": "A local wall-clock time in the device's time zone (no offset).",
    }
)
class LocalTimeField(serializers.TimeField):
    """A time of day in the device's zone: ``HH:MM[:SS]``, documented as such (OpenAPI's
    ``format: time`` would demand an offset)."""
