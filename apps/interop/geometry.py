"""Geometry for the standards: lines from any works geometry, and a polygon's centreline.

A standard that needs a line (WZDx, CIFS, DATEX II linear locations) gets, for a polygon
worksite, its **centreline**: the long axis of the polygon's minimum rotated rectangle (the
segment joining the midpoints of the rectangle's two short sides), clipped to the polygon; when
the clip falls apart (a concave site), its longest piece. The rectangle is computed in a local
plane in metres (longitudes scaled by cos(latitude)) so that "longest" means metres, not
degrees. A point becomes a two-vertex line on itself, since CIFS and GML lines need two.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, LineString, MultiLineString, Point, Polygon

from apps.core.geo import ROUND_DEGREE_LAT_EQUATOR_M, ROUND_DEGREE_LON_EQUATOR_M, WGS84


def _local(lon0: float, lat0: float) -> tuple[float, float]:
    # Only the ratio matters (which rectangle is smallest); rounded scales are enough.
    return ROUND_DEGREE_LON_EQUATOR_M * math.cos(math.radians(lat0)), ROUND_DEGREE_LAT_EQUATOR_M


def _min_rotated_rectangle_axis(polygon: Polygon) -> LineString:
    """The long axis of the minimum rotated rectangle around ``polygon`` (rotating calipers)."""
    centroid = polygon.centroid
    kx, ky = _local(centroid.x, centroid.y)
    hull: Any = polygon.convex_hull
    ring = list(hull.exterior_ring.coords) if hull.geom_type == "Polygon" else list(hull.coords)
    points = [((x - centroid.x) * kx, (y - centroid.y) * ky) for x, y in ring]
    best: tuple[float, float, float, float, float, float] | None = None
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        angle = math.atan2(y2 - y1, x2 - x1)
        cos, sin = math.cos(-angle), math.sin(-angle)
        rotated = [(x * cos - y * sin, x * sin + y * cos) for x, y in points]
        xs, ys = [p[0] for p in rotated], [p[1] for p in rotated]
        area = (max(xs) - min(xs)) * (max(ys) - min(ys))
        if best is None or area < best[0]:
            best = (area, angle, min(xs), max(xs), min(ys), max(ys))
    if best is None:  # a degenerate hull: a point
        return LineString(centroid, centroid, srid=WGS84)
    _, angle, x0, x1, y0, y1 = best
    if x1 - x0 >= y1 - y0:
        ends = ((x0, (y0 + y1) / 2), (x1, (y0 + y1) / 2))
    else:
        ends = (((x0 + x1) / 2, y0), ((x0 + x1) / 2, y1))
    cos, sin = math.cos(angle), math.sin(angle)
    lonlat = [
        (centroid.x + (x * cos - y * sin) / kx, centroid.y + (x * sin + y * cos) / ky)
        for x, y in ends
    ]
    # A hair longer so that clipping keeps the ends that lie on the boundary.
    (ax, ay), (bx, by) = lonlat
    dx, dy = (bx - ax) * 1e-6, (by - ay) * 1e-6
    return LineString((ax - dx, ay - dy), (bx + dx, by + dy), srid=WGS84)


def polygon_centreline(polygon: Polygon) -> LineString:
    """The centreline of a worksite polygon (see the module docstring)."""
    axis = _min_rotated_rectangle_axis(polygon)
    clipped = axis.intersection(polygon)
    pieces = _line_parts(clipped)
    if not pieces:
        return LineString(polygon.centroid, polygon.centroid, srid=WGS84)
    return max(pieces, key=lambda line: line.length)


def _line_parts(geometry: Any, *, merge: bool = True) -> list[LineString]:
    if geometry.empty:
        return []
    if geometry.geom_type == "LineString":
        return [geometry]
    if geometry.geom_type == "MultiLineString":
        if not merge:
            return list(geometry)
        merged = geometry.merged
        return [merged] if merged.geom_type == "LineString" else list(merged)
    if geometry.geom_type == "GeometryCollection":
        return [part for member in geometry for part in _line_parts(member)]
    return []


def lines_of(geometry: Any, *, merge: bool = True) -> list[LineString]:
    """The lines a standard can carry for ``geometry``: its lines, polygon centrelines, points.

    Lines that join end to end are merged into one unless ``merge`` is false (a detour's
    segments stay the segments the editor or the source gave, in their order).
    """
    if geometry is None or geometry.empty:
        return []
    kind = geometry.geom_type
    if kind in ("LineString", "MultiLineString"):
        return [_srid(line) for line in _line_parts(geometry, merge=merge)]
    if kind == "Polygon":
        return [polygon_centreline(geometry)]
    if kind == "MultiPolygon":
        return [polygon_centreline(part) for part in geometry]
    if kind == "Point":
        return [LineString(geometry, geometry, srid=WGS84)]
    if kind == "MultiPoint":
        return [LineString(point, point, srid=WGS84) for point in geometry]
    return [line for member in geometry for line in lines_of(member)]


def _srid(line: LineString) -> LineString:
    if line.srid is None:
        line.srid = WGS84
    return line


def as_works_geometry(lines: list[LineString]) -> GEOSGeometry | None:
    """What an import stores: one line as a LineString, several as a MultiLineString."""
    if not lines:
        return None
    if len(lines) == 1:
        return lines[0]
    return MultiLineString(*lines, srid=WGS84)


def line_or_point(pairs: list[tuple[float, float]]) -> LineString | Point:
    """A line from lon/lat pairs, or a point when they all coincide (a point exported as a line)."""
    if len(set(pairs)) == 1:
        return Point(*pairs[0], srid=WGS84)
    return LineString(pairs, srid=WGS84)


def lat_lon_text(line: Any) -> str:
    """A line as "lat lon lat lon …", latitude first, 6 decimals (about 10 cm): a CIFS
    ``polyline``, a GML ``posList`` (EPSG:4326 axis order)."""
    return " ".join(f"{y:.6f} {x:.6f}" for x, y in line.coords)


def line_from_lat_lon_text(text: str) -> LineString | Point:
    """``lat_lon_text`` read back, swapped to GEOS's x = longitude (``line_or_point``)."""
    numbers = [float(n) for n in text.split()]
    return line_or_point([(numbers[i + 1], numbers[i]) for i in range(0, len(numbers) - 1, 2)])
