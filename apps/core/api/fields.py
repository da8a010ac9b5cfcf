"""Serializer fields shared by the API: GeoJSON geometries in and out.

Incoming geometries must be GeoJSON objects (RFC 7946): WGS 84 lon/lat, two coordinates per
position, no ``crs`` member (GDAL would obey it), a valid geometry (OGC rules, e.g. no
self-intersecting ring), at most ``API_GEOMETRY_MAX_VERTICES`` vertices and no wider than
``API_GEOMETRY_MAX_EXTENT_M`` — a roadwork spanning a continent is a mistake, not data.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField

from apps.core.geo import WGS84, haversine_m

GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)
_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def _positions(coordinates: Any, depth: int) -> list[Any]:
    """Flatten ``coordinates`` nested ``depth`` times into positions, checking the nesting."""
    if depth == 0:
        return [coordinates]
    if not isinstance(coordinates, list):
        raise serializers.ValidationError(_("Coordinates are nested arrays."))
    out: list[Any] = []
    for child in coordinates:
        out.extend(_positions(child, depth - 1))
    return out


def _check_position(position: Any) -> tuple[float, float]:
    if not isinstance(position, list) or len(position) != 2:
        raise serializers.ValidationError(_("Each position is [longitude, latitude]."))
    lon, lat = position
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        raise serializers.ValidationError(_("Coordinates are numbers."))
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise serializers.ValidationError(_("Coordinates are finite numbers."))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise serializers.ValidationError(
            _("Longitude is within [-180, 180] and latitude within [-90, 90] (lon, lat order).")
        )
    return float(lon), float(lat)


def _collect(value: Any, *, nested: bool = False) -> list[tuple[float, float]]:
    """Every position of a GeoJSON geometry object, after checking its structure."""
    if not isinstance(value, dict):
        raise serializers.ValidationError(_("Expected a GeoJSON geometry object."))
    if "crs" in value:
        raise serializers.ValidationError(
            _("The 'crs' member is not allowed: coordinates are WGS 84 lon/lat (RFC 7946).")
        )
    kind = value.get("type")
    if kind not in GEOMETRY_TYPES or (nested and kind == "GeometryCollection"):
        raise serializers.ValidationError(
            _("Unknown geometry type; one of: %(types)s.") % {"types": ", ".join(GEOMETRY_TYPES)}
        )
    if kind == "GeometryCollection":
        members = value.get("geometries")
        if not isinstance(members, list) or not members:
            raise serializers.ValidationError(_("A GeometryCollection needs 'geometries'."))
        return [pos for member in members for pos in _collect(member, nested=True)]
    coordinates = value.get("coordinates")
    if coordinates is None:
        raise serializers.ValidationError(_("A geometry needs 'coordinates'."))
    return [_check_position(p) for p in _positions(coordinates, _DEPTH[kind])]


def parse_geojson_geometry(value: Any) -> GEOSGeometry:
    """Validate a GeoJSON geometry object and return it as a WGS 84 GEOS geometry."""
    positions = _collect(value)
    if not positions:
        raise serializers.ValidationError(_("A geometry needs at least one position."))
    if len(positions) > settings.API_GEOMETRY_MAX_VERTICES:
        raise serializers.ValidationError(
            _("Too many vertices (at most %(n)d).") % {"n": settings.API_GEOMETRY_MAX_VERTICES}
        )
    lons = [lon for lon, _lat in positions]
    lats = [lat for _lon, lat in positions]
    diagonal = haversine_m(min(lons), min(lats), max(lons), max(lats))
    if diagonal > settings.API_GEOMETRY_MAX_EXTENT_M:
        raise serializers.ValidationError(
            _("The geometry spans %(d)d km; at most %(m)d km is plausible.")
            % {"d": diagonal / 1000, "m": settings.API_GEOMETRY_MAX_EXTENT_M / 1000}
        )
    try:
        geometry = GEOSGeometry(json.dumps(value), srid=WGS84)
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        raise serializers.ValidationError(_("Unreadable geometry: %(e)s") % {"e": exc}) from None
    geometry.srid = WGS84
    if geometry.empty:
        raise serializers.ValidationError(_("The geometry is empty."))
    if not geometry.valid:
        raise serializers.ValidationError(
            _("Invalid geometry: %(reason)s") % {"reason": geometry.valid_reason}
        )
    return geometry


class GeoJSONGeometryField(GeometryField):
    """A GeoJSON geometry (any type) out, a validated GeoJSON geometry object in.

    ``geometry_types`` restricts the accepted types (e.g. ``("Point",)`` for a venue).
    """

    def __init__(self, *, geometry_types: tuple[str, ...] | None = None, **kwargs: Any) -> None:
        self.geometry_types = geometry_types
        kwargs.setdefault("precision", 7)  # about a centimetre
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        data = super().to_representation(value)
        return json.loads(json.dumps(data)) if data is not None else None

    def to_internal_value(self, value: Any) -> GEOSGeometry:
        geometry = parse_geojson_geometry(value)
        if self.geometry_types and geometry.geom_type not in self.geometry_types:
            raise serializers.ValidationError(
                _("Expected a %(types)s.") % {"types": " or ".join(self.geometry_types)}
            )
        return geometry
