"""Vertex arrays of extended geometries and the feed's exact distances to them (pure numpy).

Lines, polygons and multi-geometries are kept as segments (``x1, y1, x2, y2`` in degrees,
contiguous per item) plus, for polygon rings, the polygon each edge belongs to. Distances
follow ``sql.LocalDistanceM`` exactly: the planar distance in an equirectangular frame centred
on the anchor's latitude (longitudes scaled by ``cos(lat)``), 0 inside a polygon, times
``METRES_PER_DEGREE``; the point-to-segment formula is PostGIS's (``distance2d_pt_seg``), so a
works line 2 km long is as far as its nearest stretch, not as its centroid.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.core.earth import METRES_PER_DEGREE


@dataclass(frozen=True, eq=False)
class Segments:
    """Segments of ``n`` items: item ``r`` owns ``ptr[r]:ptr[r + 1]`` (none for points)."""

    ptr: np.ndarray  # n + 1, int64
    x1: np.ndarray
    y1: np.ndarray
    x2: np.ndarray
    y2: np.ndarray
    polygon: np.ndarray  # per segment: polygon number of a ring edge, else -1

    @property
    def nbytes(self) -> int:
        arrays = (self.ptr, self.x1, self.y1, self.x2, self.y2, self.polygon)
        return sum(a.nbytes for a in arrays)

    def counts(self, rows: np.ndarray) -> np.ndarray:
        return self.ptr[rows + 1] - self.ptr[rows]


class SegmentsBuilder:
    """Collects the segments of GEOS geometries, one item after the other."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []  # (k, 4) arrays
        self._polygons: list[np.ndarray] = []
        self._counts: list[int] = []
        self._next_polygon = 0

    def add(self, geometry: Any) -> None:
        """Add the segments of ``geometry`` (``None`` or a point: no segments)."""
        start = len(self._parts)
        if geometry is not None and geometry.geom_type != "Point":
            self._walk(geometry)
        self._counts.append(sum(len(p) for p in self._parts[start:]))

    def _ring(self, coords: Sequence[Sequence[float]], polygon: int) -> None:
        xy = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        if len(xy) == 1:
            pairs = np.concatenate([xy, xy], axis=1)
        else:
            pairs = np.concatenate([xy[:-1], xy[1:]], axis=1)
        self._parts.append(pairs)
        self._polygons.append(np.full(len(pairs), polygon, dtype=np.int64))

    def _walk(self, g: Any) -> None:
        kind = g.geom_type
        if kind == "Point":
            self._ring([g.coords], -1)
        elif kind in {"LineString", "LinearRing"}:
            self._ring(g.coords, -1)
        elif kind == "Polygon":
            number = self._next_polygon
            self._next_polygon += 1
            for ring in g:
                self._ring(ring.coords, number)
        else:  # Multi* and GeometryCollection
            for part in g:
                self._walk(part)

    def build(self) -> Segments:
        counts = np.array(self._counts, dtype=np.int64)
        ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        if self._parts:
            pairs = np.concatenate(self._parts)
            polygon = np.concatenate(self._polygons)
        else:
            pairs = np.zeros((0, 4))
            polygon = np.zeros(0, dtype=np.int64)
        x1, y1, x2, y2 = (np.ascontiguousarray(pairs[:, k]) for k in range(4))
        return Segments(ptr, x1, y1, x2, y2, polygon)


def part_count(geometry: Any) -> int:
    """Points, lines and polygon rings of a GEOS geometry: PostGIS measures a geography's
    distance part by part (``apps.recommend.online.geography``)."""
    kind = geometry.geom_type
    if kind in {"Point", "LineString", "LinearRing"}:
        return 0 if geometry.empty else 1
    if kind == "Polygon":
        return 0 if geometry.empty else len(geometry)
    return sum(part_count(part) for part in geometry)


def _gather(
    segments: Segments, rows: np.ndarray, counts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Segment indices of ``rows`` (in row order) and the position in ``rows`` of each
    (``counts``: the rows' segment counts, when the caller has them already)."""
    if counts is None:
        counts = segments.counts(rows)
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    starts = np.repeat(segments.ptr[rows] - (np.cumsum(counts) - counts), counts)
    return starts + np.arange(total, dtype=np.int64), owner


def local_distances_m(
    segments: Segments, rows: np.ndarray, anchors: Iterable[tuple[float, float]]
) -> np.ndarray:
    """``len(rows) x anchors`` metres from each anchor (lon, lat) to each row's segments.

    ``NaN`` for rows without segments (points, no geometry): their distance is the haversine
    one of their point, as in the SQL path.
    """
    rows = np.asarray(rows, dtype=np.int64)
    anchors = list(anchors)
    out = np.full((len(rows), len(anchors)), np.nan)
    if not len(rows) or not anchors:
        return out
    counts = segments.counts(rows)
    idx, owner = _gather(segments, rows, counts)
    if not len(idx):
        return out
    x1, y1, x2, y2 = segments.x1[idx], segments.y1[idx], segments.x2[idx], segments.y2[idx]
    polygon = segments.polygon[idx]
    has = np.flatnonzero(counts)
    firsts = np.searchsorted(owner, has)
    ring = polygon >= 0
    # The ring edges are the same for every anchor: taken once, not once per anchor.
    edges = None
    if ring.any():
        edges = (x1[ring], y1[ring], x2[ring], y2[ring], polygon[ring], owner[ring])
    for j, (lon, lat) in enumerate(anchors):
        k = np.cos(np.radians(lat))
        d = _point_segment(lon * k, lat, x1 * k, y1, x2 * k, y2)
        nearest = np.minimum.reduceat(d, firsts)
        if edges is not None:
            nearest[_inside_rows(lon, lat, *edges, len(rows))[has]] = 0.0
        out[has, j] = nearest * METRES_PER_DEGREE
    return out


def _point_segment(px: float, py: float, ax, ay, bx, by) -> np.ndarray:
    """PostGIS's ``distance2d_pt_seg``, vectorised over segments."""
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    from_ax, from_ay = px - ax, py - ay  # the same differences for r and to_a, taken once
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (from_ax * dx + from_ay * dy) / length2
        s = ((ay - py) * dx - (ax - px) * dy) / length2
    to_a = np.hypot(from_ax, from_ay)
    to_b = np.hypot(px - bx, py - by)
    across = np.abs(s) * np.sqrt(length2)
    degenerate = length2 == 0
    return np.where(degenerate | (r < 0), to_a, np.where(r > 1, to_b, across))


def _inside(px, py, x1, y1, x2, y2, polygon, owner) -> np.ndarray:
    """Owners (positions in ``rows``) of the polygons containing the point (even-odd rule)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        spans = (y1 > py) != (y2 > py)
        cross_x = (x2 - x1) * (py - y1) / (y2 - y1) + x1
    crossing = spans & (px < cross_x)
    if not crossing.any():
        return np.zeros(0, dtype=np.int64)
    numbers, counts = np.unique(polygon[crossing], return_counts=True)
    odd = numbers[counts % 2 == 1]
    return np.unique(owner[np.isin(polygon, odd)])


def _inside_rows(px, py, x1, y1, x2, y2, polygon, owner, n: int) -> np.ndarray:
    """``_inside`` as a mask of the ``n`` owners: the same even-odd rule, with the crossings
    counted per polygon by ``bincount`` instead of ``unique`` and ``isin`` (which sort: tens
    of microseconds on a few hundred edges, for each anchor of each feed request)."""
    inside = np.zeros(n, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        spans = (y1 > py) != (y2 > py)
        cross_x = (x2 - x1) * (py - y1) / (y2 - y1) + x1
    crossing = spans & (px < cross_x)
    if crossing.any():
        odd = np.bincount(polygon[crossing], minlength=int(polygon.max()) + 1) % 2 == 1
        inside[owner[odd[polygon]]] = True
    return inside


def bbox_lower_bounds_m(bounds: np.ndarray, lon: float, lat: float) -> np.ndarray:
    """A lower bound of the metres from (lon, lat) to geometries of bounding boxes ``bounds``
    (``n x 4``: min lon, min lat, max lon, max lat), in the anchor's local frame."""
    k = np.cos(np.radians(lat))
    dx = np.maximum(np.maximum(bounds[:, 0] - lon, lon - bounds[:, 2]), 0.0) * k
    dy = np.maximum(np.maximum(bounds[:, 1] - lat, lat - bounds[:, 3]), 0.0)
    return np.hypot(dx, dy) * METRES_PER_DEGREE
