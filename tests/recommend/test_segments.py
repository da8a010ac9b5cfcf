"""The item index's segment helpers: the per-row point-in-polygon mask against ``_inside``."""

from __future__ import annotations

import numpy as np
from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon

from apps.recommend.online.segments import (
    SegmentsBuilder,
    _gather,
    _inside,
    _inside_rows,
    local_distances_m,
)


def _square(x: float, y: float, half: float) -> tuple[tuple[float, float], ...]:
    return ((x - half, y - half), (x + half, y - half), (x + half, y + half), (x - half, y + half),
            (x - half, y - half))  # fmt: skip


def _shapes(rng: np.random.Generator) -> list:
    """Polygons (some with a hole, some multi), lines and points around (0, 0)."""
    shapes: list = []
    for _ in range(60):
        x, y = rng.uniform(-0.02, 0.02, size=2)
        half = rng.uniform(0.001, 0.008)
        kind = rng.integers(5)
        if kind == 0:
            shapes.append(Polygon(_square(x, y, half)))
        elif kind == 1:
            shapes.append(Polygon(_square(x, y, half), _square(x, y, half / 3)))  # a hole
        elif kind == 2:
            shapes.append(MultiPolygon(Polygon(_square(x, y, half)),
                                       Polygon(_square(x + 3 * half, y, half / 2))))  # fmt: skip
        elif kind == 3:
            shapes.append(LineString((x, y), (x + half, y + half), (x + 2 * half, y)))
        else:
            shapes.append(Point(x, y))
    return shapes


def test_inside_rows_marks_the_owners_inside_returns():
    rng = np.random.default_rng(3)
    builder = SegmentsBuilder()
    for shape in _shapes(rng):
        builder.add(shape)
    segments = builder.build()
    n = len(segments.ptr) - 1
    checked = 0
    for _ in range(200):
        rows = rng.choice(n, size=rng.integers(1, n), replace=False)
        idx, owner = _gather(segments, rows)
        ring = segments.polygon[idx] >= 0
        if not ring.any():
            continue
        edges = (segments.x1[idx][ring], segments.y1[idx][ring], segments.x2[idx][ring],
                 segments.y2[idx][ring], segments.polygon[idx][ring], owner[ring])  # fmt: skip
        px, py = rng.uniform(-0.025, 0.025, size=2)
        expected = np.zeros(len(rows), dtype=bool)
        expected[_inside(px, py, *edges)] = True
        assert np.array_equal(_inside_rows(px, py, *edges, len(rows)), expected)
        checked += int(expected.any())
    assert checked > 20  # anchors inside some polygon, not only outside all


def test_local_distances_are_zero_inside_a_polygon_and_not_in_its_hole():
    builder = SegmentsBuilder()
    builder.add(Polygon(_square(0, 0, 0.01), _square(0, 0, 0.003)))
    builder.add(Point(0.005, 0.005))
    segments = builder.build()
    out = local_distances_m(segments, np.array([0, 1]), [(0.005, 0.005), (0.0, 0.0), (0.02, 0)])
    assert out[0, 0] == 0.0  # inside the polygon
    assert out[0, 1] > 300  # in the hole: the inner ring is ~330 m away
    assert out[0, 2] > 1000  # outside
    assert np.isnan(out[1]).all()  # a point has no segments
