"""The demo city's map, in pure geometry: districts tiling the commune, streets, places.

Everything is drawn in metres on a local plane around the city centre (x east, y north) and
converted to WGS84 longitude/latitude at the end; at the scale of a commune the error of this
equirectangular projection is far below a metre. The districts are the cells of a jittered
lattice whose shared edges carry the same wiggles on both sides, so they tile the commune
exactly: no gap, no overlap. A seeded RNG makes the map identical on every run.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.geos import LineString, MultiLineString, MultiPolygon, Point, Polygon

from apps.core.geo import ROUND_DEGREE_LAT_MEAN_M, ROUND_DEGREE_LON_EQUATOR_M, WGS84

METRES_PER_DEGREE_LAT = ROUND_DEGREE_LAT_MEAN_M
METRES_PER_DEGREE_LON_AT_EQUATOR = ROUND_DEGREE_LON_EQUATOR_M
#: Interior points added on each lattice edge, at these fractions of its length.
EDGE_STEPS = (0.25, 0.5, 0.75)

XY = tuple[float, float]


@dataclass(frozen=True)
class District:
    slug: str
    name: str
    code: str
    geometry: MultiPolygon


class CityMap:
    """The commune, its districts and its streets, built from the ``city`` data section."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.lon0, self.lat0 = (float(v) for v in data["centre"])
        self._lon_scale = METRES_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(self.lat0))
        self.code: str = data["commune"]["code"]
        grid = data["grid"]
        rng = random.Random(grid["seed"])
        xs: list[float] = grid["x"]
        ys: list[float] = grid["y"]  # north to south
        jitter, wiggle = float(grid["node_jitter_m"]), float(grid["edge_wiggle_m"])
        self._nodes = {
            (i, j): (x + rng.uniform(-jitter, jitter), y + rng.uniform(-jitter, jitter))
            for j, y in enumerate(ys)
            for i, x in enumerate(xs)
        }
        self._edges: dict[tuple[tuple[int, int], tuple[int, int]], list[XY]] = {}
        for j in range(len(ys)):
            for i in range(len(xs) - 1):
                self._edges[((i, j), (i + 1, j))] = self._wiggled((i, j), (i + 1, j), rng, wiggle)
        for i in range(len(xs)):
            for j in range(len(ys) - 1):
                self._edges[((i, j), (i, j + 1))] = self._wiggled((i, j), (i, j + 1), rng, wiggle)
        self.columns, self.rows = len(xs) - 1, len(ys) - 1
        self.streets: dict[str, list[XY]] = {
            name: [(float(x), float(y)) for x, y in points]
            for name, points in data["streets"].items()
        }
        districts = data["districts"]
        if len(districts) != self.columns * self.rows:
            raise ValueError("one district per lattice cell, in row-major order")
        self.districts = [
            District(
                slug=slug,
                name=name,
                code=f"{self.code}{index + 1:04d}",
                geometry=self._multipolygon(self._cell_ring(*divmod(index, self.columns)[::-1])),
            )
            for index, (slug, name) in enumerate(districts)
        ]
        self.commune = self._multipolygon(self._outline())
        for street, points in self.streets.items():
            if not self.commune.contains(self.line(points)):
                raise ValueError(f"street {street!r} leaves the commune")

    # --- projection ---------------------------------------------------------------------------

    def lonlat(self, x: float, y: float) -> XY:
        """Local metres → (lon, lat), rounded to about 1 cm."""
        return (
            round(self.lon0 + x / self._lon_scale, 7),
            round(self.lat0 + y / METRES_PER_DEGREE_LAT, 7),
        )

    def point(self, x: float, y: float) -> Point:
        return Point(*self.lonlat(x, y), srid=WGS84)

    def line(self, points: Sequence[XY]) -> LineString:
        return LineString([self.lonlat(x, y) for x, y in points], srid=WGS84)

    # --- streets and places -------------------------------------------------------------------

    def street(self, name: str) -> list[XY]:
        try:
            return self.streets[name]
        except KeyError:
            raise ValueError(f"unknown street {name!r}") from None

    def street_section(self, name: str, start: float = 0.0, end: float = 1.0) -> LineString:
        """The part of a street between two fractions of its length (0 = first point)."""
        if not 0.0 <= start < end <= 1.0:
            raise ValueError(f"bad section {start}-{end} of {name!r}")
        points = self.street(name)
        cumulative = [0.0]
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            cumulative.append(cumulative[-1] + math.hypot(x2 - x1, y2 - y1))
        total = cumulative[-1]
        first, last = start * total, end * total
        section = [self._along(points, cumulative, first)]
        section += [p for p, s in zip(points, cumulative, strict=True) if first < s < last]
        section.append(self._along(points, cumulative, last))
        return self.line(section)

    def street_point(self, name: str, at: float, offset: Sequence[float] = (0.0, 0.0)) -> Point:
        """A point at fraction ``at`` of a street, moved by ``offset`` metres (x, y)."""
        lon, lat = self.street_section(name, 0.0, max(at, 1e-6)).coords[-1]
        return Point(
            lon + offset[0] / self._lon_scale,
            lat + offset[1] / METRES_PER_DEGREE_LAT,
            srid=WGS84,
        )

    def street_multiline(self, name: str) -> MultiLineString:
        return MultiLineString(self.line(self.street(name)), srid=WGS84)

    def zone(self, x: float, y: float, radius_m: float, sides: int = 16) -> Polygon:
        """A regular polygon of ``radius_m`` around (x, y): a sector, a square, a park."""
        ring = [
            self.lonlat(
                x + radius_m * math.cos(2 * math.pi * k / sides),
                y + radius_m * math.sin(2 * math.pi * k / sides),
            )
            for k in range(sides)
        ]
        return Polygon([*ring, ring[0]], srid=WGS84)

    def district(self, slug: str) -> District:
        for district in self.districts:
            if district.slug == slug:
                return district
        raise ValueError(f"unknown district {slug!r}")

    # --- lattice ------------------------------------------------------------------------------

    def _wiggled(
        self, a: tuple[int, int], b: tuple[int, int], rng: random.Random, amplitude: float
    ) -> list[XY]:
        """The edge from node ``a`` to node ``b`` with small perpendicular wiggles."""
        (x1, y1), (x2, y2) = self._nodes[a], self._nodes[b]
        length = math.hypot(x2 - x1, y2 - y1)
        nx, ny = (y1 - y2) / length, (x2 - x1) / length
        points = [(x1, y1)]
        for t in EDGE_STEPS:
            shift = rng.uniform(-amplitude, amplitude)
            points.append((x1 + t * (x2 - x1) + shift * nx, y1 + t * (y2 - y1) + shift * ny))
        points.append((x2, y2))
        return points

    def _path(self, a: tuple[int, int], b: tuple[int, int]) -> list[XY]:
        """Edge points from node ``a`` to node ``b`` (either direction), without ``b``."""
        if (a, b) in self._edges:
            return self._edges[(a, b)][:-1]
        return list(reversed(self._edges[(b, a)]))[:-1]

    def _ring(self, corners: Sequence[tuple[int, int]]) -> list[XY]:
        ring: list[XY] = []
        for a, b in zip(corners, [*corners[1:], corners[0]], strict=True):
            ring += self._path(a, b)
        return [*ring, ring[0]]

    def _cell_ring(self, i: int, j: int) -> list[XY]:
        return self._ring([(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)])

    def _outline(self) -> list[XY]:
        top = [(i, 0) for i in range(self.columns + 1)]
        right = [(self.columns, j) for j in range(1, self.rows + 1)]
        bottom = [(i, self.rows) for i in range(self.columns - 1, -1, -1)]
        left = [(0, j) for j in range(self.rows - 1, 0, -1)]
        return self._ring([*top, *right, *bottom, *left])

    def _multipolygon(self, ring: Sequence[XY]) -> MultiPolygon:
        polygon = Polygon([self.lonlat(x, y) for x, y in ring], srid=WGS84)
        if not polygon.valid:
            raise ValueError(f"invalid polygon: {polygon.valid_reason}")
        return MultiPolygon(polygon, srid=WGS84)

    @staticmethod
    def _along(points: Sequence[XY], cumulative: Sequence[float], distance: float) -> XY:
        for (x1, y1), (x2, y2), s1, s2 in zip(
            points, points[1:], cumulative, cumulative[1:], strict=False
        ):
            if distance <= s2 or s2 == cumulative[-1]:
                t = 0.0 if s2 == s1 else (distance - s1) / (s2 - s1)
                return (x1 + t * (x2 - x1), y1 + t * (y2 - y1))
        return points[-1]
