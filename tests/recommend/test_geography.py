"""``geography_distances_m`` against PostGIS's ``ST_Distance(geography, geography)`` itself.

Random points, lines, polygons (some with holes) and multi-geometries around a city, measured
from random points: every distance the module gives equals PostGIS's to within a tenth of
``TOLERANCE_M``, through both of PostGIS's paths (one statement over many rows with the same
point, which caches it, and one statement per row); the ones it leaves to PostGIS are few and
are the cases its doc names (near a polygon's boundary, parts that disagree).
"""

from __future__ import annotations

import numpy as np
import pytest
from django.contrib.gis.geos import (
    GEOSGeometry,
    LineString,
    MultiLineString,
    MultiPolygon,
    Point,
    Polygon,
)
from django.db import connection

from apps.recommend.online.geography import (
    TOLERANCE_M,
    geography_distances_m,
    undecided,
)
from apps.recommend.online.segments import SegmentsBuilder, part_count

pytestmark = [pytest.mark.django_db]
LON, LAT = 4.85, 45.75  # Lyon


def _line(rng: np.random.Generator, lon: float, lat: float, n: int) -> LineString:
    steps = rng.normal(0, 0.004, size=(n, 2))
    return LineString(*[(lon + x, lat + y) for x, y in np.cumsum(steps, axis=0)])


def _box(lon: float, lat: float, w: float, h: float) -> list[tuple[float, float]]:
    return [(lon, lat), (lon + w, lat), (lon + w, lat + h), (lon, lat + h), (lon, lat)]


def _geometry(rng: np.random.Generator) -> GEOSGeometry:
    lon, lat = LON + rng.uniform(-0.05, 0.05), LAT + rng.uniform(-0.04, 0.04)
    kind = rng.integers(0, 6)
    if kind == 0:
        return Point(lon, lat)
    if kind == 1:
        return _line(rng, lon, lat, int(rng.integers(2, 7)))
    w, h = rng.uniform(0.002, 0.03, size=2)
    if kind == 2:
        return Polygon(_box(lon, lat, w, h))
    if kind == 3:  # a hole in the middle
        return Polygon(_box(lon, lat, w, h), _box(lon + w / 4, lat + h / 4, w / 2, h / 2))
    if kind == 4:
        return MultiLineString(_line(rng, lon, lat, 3), _line(rng, lon + 0.01, lat, 4))
    return MultiPolygon(Polygon(_box(lon, lat, w, h)), Polygon(_box(lon + 2 * w, lat, w, h)))


def _arrays(geometries: list[GEOSGeometry]) -> dict[str, object]:
    builder = SegmentsBuilder()
    for g in geometries:
        builder.add(g)
    return {
        "point_lon": np.array([g.centroid.x for g in geometries]),
        "point_lat": np.array([g.centroid.y for g in geometries]),
        "is_point": np.array([g.geom_type == "Point" for g in geometries]),
        "one_part": np.array([part_count(g) == 1 for g in geometries]),
        "bounds": np.array([g.extent for g in geometries], dtype=np.float64),
        "segments": builder.build(),
    }


def _postgis(geometries: list[GEOSGeometry], lon: float, lat: float, *, cached: bool) -> np.ndarray:
    sql = (
        "SELECT ST_Distance(geography(ST_GeomFromEWKB(g)), "
        "geography(ST_SetSRID(ST_MakePoint(%s, %s), 4326))) FROM unnest(%s::bytea[]) "
        "WITH ORDINALITY AS u(g, k) ORDER BY k"
    )
    with connection.cursor() as cursor:
        if cached:
            cursor.execute(sql, [lon, lat, [bytes(g.ewkb) for g in geometries]])
            return np.array([r[0] for r in cursor.fetchall()])
        out = []
        for g in geometries:
            cursor.execute(sql, [lon, lat, [bytes(g.ewkb)]])
            out.append(cursor.fetchone()[0])
        return np.array(out)


def _srid(geometries: list[GEOSGeometry]) -> list[GEOSGeometry]:
    for g in geometries:
        g.srid = 4326
    return geometries


def test_distances_equal_postgis_by_both_paths():
    rng = np.random.default_rng(5)
    geometries = _srid([_geometry(rng) for _ in range(300)])
    arrays = _arrays(geometries)
    rows = np.arange(len(geometries))
    known = total = 0
    for _ in range(12):
        lon, lat = LON + rng.uniform(-0.05, 0.05), LAT + rng.uniform(-0.04, 0.04)
        ours = geography_distances_m(lon, lat, rows=rows, **arrays)
        cached = _postgis(geometries, lon, lat, cached=True)
        single = _postgis(geometries, lon, lat, cached=False)
        sure = np.isfinite(ours)
        assert np.abs(ours[sure] - cached[sure]).max() <= TOLERANCE_M / 10
        assert np.abs(ours[sure] - single[sure]).max() <= TOLERANCE_M / 10
        # Points are always measured; and nearly everything else.
        points = arrays["is_point"]
        assert sure[points].all()
        known, total = known + int(sure.sum()), total + len(sure)
        assert (ours[sure] == 0).any() or not (cached == 0).any()  # inside a polygon: 0
    assert known / total > 0.97, (known, total)


def test_inside_outside_and_holes():
    outer = _box(LON, LAT, 0.02, 0.02)
    hole = _box(LON + 0.005, LAT + 0.005, 0.01, 0.01)
    geometries = _srid([Polygon(outer, hole)])
    arrays = _arrays(geometries)
    rows = np.arange(1)
    at = {
        "in the ring": (LON + 0.002, LAT + 0.01),
        "in the hole": (LON + 0.01, LAT + 0.01),
        "outside": (LON - 0.01, LAT + 0.01),
    }
    for name, (lon, lat) in at.items():
        ours = geography_distances_m(lon, lat, rows=rows, **arrays)
        pg = _postgis(geometries, lon, lat, cached=False)
        assert np.isfinite(ours).all(), name
        assert abs(ours[0] - pg[0]) <= TOLERANCE_M / 10, name
    assert geography_distances_m(LON + 0.002, LAT + 0.01, rows=rows, **arrays)[0] == 0.0
    # On the boundary: left to PostGIS.
    edge = geography_distances_m(LON + 0.02, LAT + 0.01, rows=rows, **arrays)
    assert np.isnan(edge).all()


def test_undecided_near_half_metres_and_the_radius():
    d = np.array([10.2, 10.5, 10.5 + TOLERANCE_M / 2, 10.5 + 2 * TOLERANCE_M, 1000.0, np.nan])
    assert undecided(d).tolist() == [False, True, True, False, False, True]
    assert undecided(d, radius_m=1000.0).tolist() == [False, True, True, False, True, True]


def test_items_without_segments_or_too_wide_are_left_to_postgis():
    wide = LineString((0.0, 40.0), (20.0, 40.0))
    geometries = _srid([wide, Point(LON, LAT)])
    arrays = _arrays(geometries)
    ours = geography_distances_m(LON, LAT, rows=np.arange(2), **arrays)
    assert np.isnan(ours[0]) and ours[1] == 0.0
