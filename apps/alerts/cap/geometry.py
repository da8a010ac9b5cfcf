"""Geometries ↔ CAP areas: ``polygon`` (``lat,lon`` pairs, closed) and ``circle``
(``lat,lon radius_km``), both WGS 84 (CAP 1.2 §3.2.4).

Out: a point becomes a circle of ``CAP_POINT_RADIUS_M``; a line a polygon, the band of
``CAP_LINE_BUFFER_M`` around it; a polygon its outer ring (CAP has no holes: the area is a
little larger, never smaller); a multi-geometry or a collection, each part. Rings with many
vertices are simplified (topology kept) to at most ``MAX_VERTICES``, as aggregators expect.
In: polygons and circles back to a GEOS geometry (a circle as a 32-sided polygon).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from django.contrib.gis.geos import (
    GeometryCollection,
    GEOSGeometry,
    LinearRing,
    LineString,
    MultiPolygon,
    Point,
    Polygon,
)

from apps.core.earth import EARTH_RADIUS_M
from apps.core.geo import WGS84

#: Web Mercator: buffers and simplification in metres (scaled by 1/cos(latitude)).
MERCATOR = 3857
MAX_VERTICES = 200
CIRCLE_SIDES = 32


def _parts(geometry: GEOSGeometry) -> Iterator[GEOSGeometry]:
    if isinstance(geometry, GeometryCollection):  # Multi* are collections too
        for part in geometry:
            yield from _parts(part)
    elif not geometry.empty:
        yield geometry


def _scale(geometry: GEOSGeometry) -> float:
    """Mercator metres per ground metre at the geometry's latitude."""
    return 1 / max(math.cos(math.radians(geometry.centroid.y)), 0.01)


def _in_metres(geometry: GEOSGeometry) -> GEOSGeometry:
    return geometry.transform(MERCATOR, clone=True)


def _back(geometry: GEOSGeometry) -> GEOSGeometry:
    return geometry.transform(WGS84, clone=True)


def buffered(geometry: GEOSGeometry, metres: float) -> GEOSGeometry:
    """``geometry`` grown by ``metres`` on the ground (a band around a line)."""
    scale = _scale(geometry)
    return _back(_in_metres(geometry).buffer(metres * scale, quadsegs=4))


def _simplified(polygon: Polygon) -> Polygon:
    if polygon.num_coords <= MAX_VERTICES:
        return polygon
    scale, tolerance = _scale(polygon), 5.0
    metric = _in_metres(polygon)
    result = metric
    while result.num_coords > MAX_VERTICES and tolerance < 100_000:
        result = metric.simplify(tolerance * scale, preserve_topology=True)
        tolerance *= 2
    simplified = _back(result)
    if isinstance(simplified, MultiPolygon):
        simplified = max(simplified, key=lambda part: part.area)
    return simplified if isinstance(simplified, Polygon) else polygon


def _pair(lon: float, lat: float) -> str:
    return f"{lat:.6f},{lon:.6f}"


def ring_text(polygon: Polygon) -> str:
    """The outer ring of ``polygon`` as a CAP ``polygon``: ``lat,lon`` pairs, closed."""
    coords = list(_simplified(polygon).exterior_ring.coords)
    if coords[0] != coords[-1]:
        coords.append(coords[0])
    return " ".join(_pair(lon, lat) for lon, lat, *_z in coords)


def cap_shapes(
    geometry: GEOSGeometry | None, *, point_radius_m: float, line_buffer_m: float
) -> tuple[list[str], list[str]]:
    """The ``polygon`` and ``circle`` texts of ``geometry`` (empty lists for none)."""
    polygons: list[str] = []
    circles: list[str] = []
    if geometry is None:
        return polygons, circles
    for part in _parts(geometry):
        if isinstance(part, Point):
            circles.append(f"{_pair(part.x, part.y)} {point_radius_m / 1000:.3f}")
        elif isinstance(part, LineString | LinearRing):
            band = buffered(part, line_buffer_m)
            for polygon in _parts(band):
                if isinstance(polygon, Polygon):
                    polygons.append(ring_text(polygon))
        elif isinstance(part, Polygon):
            polygons.append(ring_text(part))
    return polygons, circles


class AreaSyntaxError(ValueError):
    """A CAP ``polygon`` or ``circle`` that does not follow §3.2.4."""


def _parse_pair(text: str) -> tuple[float, float]:
    try:
        lat_text, lon_text = text.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise AreaSyntaxError(f"not a lat,lon pair: {text[:40]!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
        raise AreaSyntaxError(f"coordinates out of range: {text[:40]!r}")
    return lon, lat


def polygon_from_text(text: str) -> GEOSGeometry:
    """A CAP ``polygon``: at least four pairs, the first equal to the last."""
    pairs = [_parse_pair(pair) for pair in text.split()]
    if len(pairs) < 4:
        raise AreaSyntaxError("a polygon needs at least four points")
    if pairs[0] != pairs[-1]:
        raise AreaSyntaxError("a polygon must end where it starts")
    polygon = Polygon(pairs, srid=WGS84)
    return polygon if polygon.valid else polygon.buffer(0)


def circle_from_text(text: str) -> Polygon:
    """A CAP ``circle`` (``lat,lon radius_km``) as a polygon of ``CIRCLE_SIDES`` sides."""
    try:
        centre, radius_text = text.split()
        radius_km = float(radius_text)
    except ValueError:
        raise AreaSyntaxError(f"not a circle: {text[:40]!r}") from None
    if not (0 <= radius_km <= 20_000) or math.isnan(radius_km):
        raise AreaSyntaxError(f"radius out of range: {radius_text[:20]!r}")
    lon, lat = _parse_pair(centre)
    radius_m = max(radius_km * 1000, 1.0)
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    ring = [
        (
            lon + dlon * math.cos(2 * math.pi * k / CIRCLE_SIDES),
            max(-90.0, min(90.0, lat + dlat * math.sin(2 * math.pi * k / CIRCLE_SIDES))),
        )
        for k in range(CIRCLE_SIDES)
    ]
    ring.append(ring[0])
    return Polygon(ring, srid=WGS84)


def union_of(shapes: list[GEOSGeometry]) -> GEOSGeometry | None:
    """The union of CAP shapes as one (multi)polygon, or None."""
    if not shapes:
        return None
    merged: GEOSGeometry = shapes[0]
    for shape in shapes[1:]:
        merged = merged.union(shape)
    return merged
