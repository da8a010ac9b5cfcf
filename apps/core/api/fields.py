"""Serializer fields shared by the API: GeoJSON geometries in and out.

Incoming geometries must be GeoJSON objects (RFC 7946): WGS 84 lon/lat, two coordinates per
position, no ``crs`` member (GDAL would obey it), a valid geometry (OGC rules, e.g. no
self-intersecting ring), at most ``API_GEOMETRY_MAX_VERTICES`` vertices and no wider than
``API_GEOMETRY_MAX_EXTENT_M`` — a roadwork spanning a continent is a mistake, not data.
"""

from __future__ import annotations

import json
import math
import struct
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
        raise serializers.ValidationError(_("Les coordonnées sont des tableaux imbriqués."))
    out: list[Any] = []
    for child in coordinates:
        out.extend(_positions(child, depth - 1))
    return out


def _check_position(position: Any) -> tuple[float, float]:
    if not isinstance(position, list) or len(position) != 2:
        raise serializers.ValidationError(
            _("Chaque position est une paire de nombres : longitude, latitude.")
        )
    lon, lat = position
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        raise serializers.ValidationError(_("Les coordonnées sont des nombres."))
    try:
        # An exact integer of hundreds of digits does not fit in a double (OverflowError).
        lon, lat = float(lon), float(lat)
    except OverflowError:
        raise serializers.ValidationError(_("Les coordonnées sont des nombres finis.")) from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise serializers.ValidationError(_("Les coordonnées sont des nombres finis."))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise serializers.ValidationError(
            _(
                "La longitude est comprise entre -180 et 180 et la latitude entre -90 et 90 "
                "(ordre lon, lat)."
            )
        )
    return lon, lat


def _collect(value: Any, *, nested: bool = False) -> list[tuple[float, float]]:
    """Every position of a GeoJSON geometry object, after checking its structure."""
    if not isinstance(value, dict):
        raise serializers.ValidationError(_("Un objet géométrie GeoJSON est attendu."))
    if "crs" in value:
        raise serializers.ValidationError(
            _(
                "Le membre « crs » n'est pas accepté : les coordonnées sont en WGS 84 lon/lat "
                "(RFC 7946)."
            )
        )
    kind = value.get("type")
    if kind not in GEOMETRY_TYPES or (nested and kind == "GeometryCollection"):
        raise serializers.ValidationError(
            _("Type de géométrie inconnu ; types possibles : %(types)s.")
            % {"types": ", ".join(GEOMETRY_TYPES)}
        )
    if kind == "GeometryCollection":
        members = value.get("geometries")
        if not isinstance(members, list) or not members:
            raise serializers.ValidationError(
                _("Une GeometryCollection demande le membre « geometries ».")
            )
        return [pos for member in members for pos in _collect(member, nested=True)]
    coordinates = value.get("coordinates")
    if coordinates is None:
        raise serializers.ValidationError(_("Une géométrie demande le membre « coordinates »."))
    return [_check_position(p) for p in _positions(coordinates, _DEPTH[kind])]


def parse_geojson_geometry(value: Any) -> GEOSGeometry:
    """Validate a GeoJSON geometry object and return it as a WGS 84 GEOS geometry."""
    positions = _collect(value)
    if not positions:
        raise serializers.ValidationError(_("Une géométrie demande au moins une position."))
    if len(positions) > settings.API_GEOMETRY_MAX_VERTICES:
        raise serializers.ValidationError(
            _("Trop de sommets (%(n)d au plus).") % {"n": settings.API_GEOMETRY_MAX_VERTICES}
        )
    lons = [lon for lon, _lat in positions]
    lats = [lat for _lon, lat in positions]
    diagonal = haversine_m(min(lons), min(lats), max(lons), max(lats))
    if diagonal > settings.API_GEOMETRY_MAX_EXTENT_M:
        raise serializers.ValidationError(
            _("La géométrie s'étend sur %(d)d km ; %(m)d km au plus est plausible.")
            % {"d": diagonal / 1000, "m": settings.API_GEOMETRY_MAX_EXTENT_M / 1000}
        )
    try:
        geometry = GEOSGeometry(json.dumps(value), srid=WGS84)
    except (GEOSException, GDALException, ValueError, TypeError):
        raise serializers.ValidationError(_("Géométrie illisible.")) from None
    geometry.srid = WGS84
    if geometry.empty:
        raise serializers.ValidationError(_("La géométrie est vide."))
    if not geometry.valid:
        raise serializers.ValidationError(
            _("Géométrie invalide : %(reason)s") % {"reason": invalid_reason(geometry.valid_reason)}
        )
    return geometry


#: GEOS's reasons for an invalid geometry (``valid_reason``: "Self-intersection[4.8 45.7]"),
#: in the request's language; an unlisted reason reads as the generic one.
_INVALID_REASONS = {
    "Self-intersection": _("elle se recoupe"),
    "Ring Self-intersection": _("un anneau se recoupe"),
    "Too few points": _("trop peu de points"),
    "Duplicate Rings": _("un anneau est en double"),
    "Interior is disconnected": _("son intérieur est coupé en morceaux"),
    "Hole lies outside shell": _("un trou est hors du contour"),
    "Nested holes": _("des trous sont imbriqués"),
    "Nested shells": _("des contours sont imbriqués"),
    "Invalid Coordinate": _("une coordonnée est invalide"),
    "Ring is not closed": _("un anneau n'est pas fermé"),
}


def invalid_reason(reason: str) -> str:
    """GEOS's ``valid_reason`` in words, with the point it names as two plain numbers."""
    name, _bracket, where = reason.partition("[")
    words = str(_INVALID_REASONS.get(name.strip(), _("sa forme est incorrecte")))
    numbers = where.rstrip("]").split()
    try:
        lon, lat = (float(number) for number in numbers)
    except ValueError:
        return words
    return str(_("%(what)s (vers lon %(lon).6g, lat %(lat).6g)")) % {
        "what": words,
        "lon": lon,
        "lat": lat,
    }


_WKB_TYPES = {
    1: "Point",
    2: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


class _WKBReader:
    """Reads OGC/ISO WKB (as GEOS writes it) into GeoJSON geometry objects, rounding."""

    def __init__(self, data: bytes, precision: int) -> None:
        self.data, self.offset, self.precision = data, 0, precision

    def _unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from(self.order + fmt, self.data, self.offset)
        self.offset += struct.calcsize(self.order + fmt)
        return values

    def _positions(self, count: int, dims: int) -> list[list[float]]:
        values = self._unpack(f"{count * dims}d")
        p = self.precision
        return [[round(v, p) for v in values[i : i + dims]] for i in range(0, len(values), dims)]

    def geometry(self) -> dict[str, Any]:
        self.order = "<" if self.data[self.offset] == 1 else ">"
        self.offset += 1
        (code,) = self._unpack("I")
        # EWKB flags (Z, M, SRID) in the high bits, or ISO codes (1000 Z, 2000 M, 3000 ZM).
        iso, base = divmod(code & 0x0FFFFFFF, 1000)
        dims = 2 + bool(code & 0x80000000) + bool(code & 0x40000000) + (0, 1, 1, 2)[iso]
        if code & 0x20000000:
            self._unpack("I")  # an embedded SRID: always 4326 here
        kind = _WKB_TYPES[base]
        if kind == "Point":
            (position,) = self._positions(1, dims)
            empty = any(math.isnan(v) for v in position)
            return {"type": kind, "coordinates": [] if empty else position}
        if kind == "LineString":
            (count,) = self._unpack("I")
            return {"type": kind, "coordinates": self._positions(count, dims)}
        if kind == "Polygon":
            (rings,) = self._unpack("I")
            coordinates = []
            for _ring in range(rings):
                (count,) = self._unpack("I")
                coordinates.append(self._positions(count, dims))
            return {"type": kind, "coordinates": coordinates}
        (parts,) = self._unpack("I")
        children = [self.geometry() for _part in range(parts)]
        if kind == "GeometryCollection":
            return {"type": kind, "geometries": children}
        return {"type": kind, "coordinates": [child["coordinates"] for child in children]}


def geojson_geometry(geometry: GEOSGeometry, precision: int = 7) -> dict[str, Any]:
    """A GEOS geometry as a GeoJSON geometry object, coordinates rounded to ``precision``.

    Decoded from the geometry's WKB (one GEOS call, then ``struct``): the same output as
    rest_framework_gis' field, which goes through GDAL's JSON writer and parses it back, at a
    fraction of the cost (a list page renders 20 geometries per request).
    """
    if geometry.empty:
        return {"type": geometry.geom_type, "coordinates": []}
    return _WKBReader(bytes(geometry.wkb), precision).geometry()


class GeoJSONGeometryField(GeometryField):
    """A GeoJSON geometry (any type) out, a validated GeoJSON geometry object in.

    ``geometry_types`` restricts the accepted types (e.g. ``("Point",)`` for a venue).
    """

    def __init__(self, *, geometry_types: tuple[str, ...] | None = None, **kwargs: Any) -> None:
        self.geometry_types = geometry_types
        kwargs.setdefault("precision", 7)  # about a centimetre
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        if value is None or isinstance(value, dict):
            return value
        return geojson_geometry(value, self.precision)

    def to_internal_value(self, value: Any) -> GEOSGeometry:
        geometry = parse_geojson_geometry(value)
        if self.geometry_types and geometry.geom_type not in self.geometry_types:
            raise serializers.ValidationError(
                _("Géométrie attendue : %(types)s.") % {"types": " or ".join(self.geometry_types)}
            )
        return geometry
