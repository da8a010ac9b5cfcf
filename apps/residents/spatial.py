"""Which places reach a geometry: the indexed form of the notifications audience's geo test.

A place reaches an item when ``ST_DWithin(geography(location), geography(item), radius_m)``.
PostGIS cannot use an index on ``location`` for that test because the distance differs per row.
So each place also has an indexed *reach box* — ``location`` expanded by ``radius_m`` converted
to degrees (latitude: ``radius_m / 110000``; longitude: the same over ``cos(latitude)``, a bit
larger than the true extent) — computed by an expression GiST index (migration 0001), never
stored. ``Place.objects.reaching(geometry)`` first keeps places whose box overlaps the item's
bounding box (index scan), then applies the exact geodesic test — mostly decided by a cheap
planar band (``PlanarBand``, ``ReachesExactly``) whose answer is provably the geodesic test's.
On SpatiaLite the box test and the band are skipped (no expression index there) and the plain
ellipsoidal test alone gives the answer.
Boxes do not wrap around the antimeridian.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.geos import GEOSGeometry
from django.db.models import BooleanField, Func, Value

from apps.core.geo import WGS84, metres_per_degree

#: The indexed expression. Keep it identical to the index in migration 0001 (a test checks
#: that the planner uses the index).
REACH_BOX_SQL = (
    "ST_Expand({location}, "
    "{radius} / (110000.0 * GREATEST(cos(radians(ST_Y({location}))), 0.05)), "
    "{radius} / 110000.0)"
)
REACH_INDEX_NAME = "residents_place_reach_gist"


def reach_index_sql() -> str:
    """``CREATE INDEX`` of the reach boxes (PostGIS)."""
    expression = REACH_BOX_SQL.format(location='"location"', radius='"radius_m"')
    return (
        f'CREATE INDEX IF NOT EXISTS "{REACH_INDEX_NAME}" ON "residents_place" '
        f"USING gist (({expression}))"
    )


class ReachBoxOverlaps(Func):
    """True when a place's reach box overlaps ``geometry``'s bounding box (PostGIS ``&&``)."""

    output_field = BooleanField()

    def __init__(self, geometry: GEOSGeometry, **extra: Any) -> None:
        if geometry.srid is None:
            geometry = GEOSGeometry(geometry.wkt, srid=WGS84)
        elif geometry.srid != WGS84:
            geometry = geometry.transform(WGS84, clone=True)
        super().__init__(
            "location", "radius_m", Value(geometry, output_field=GeometryField(srid=WGS84)), **extra
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sqls: list[str] = []
        params: list[Any] = []
        for expression in self.get_source_expressions():
            sql, sql_params = compiler.compile(expression)
            sqls.append(sql)
            params.append(sql_params)
        location, radius, geometry = sqls
        box = REACH_BOX_SQL.format(location=location, radius=radius)
        # The location and radius are columns (no parameters); the box repeats them.
        return f"({box} && {geometry})", list(params[2])

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return "1 = 1", []


# --- the planar band: most places decided without the geodesic test ------------------------

_DEG = math.pi / 180.0
#: A radius below every radius of curvature of the WGS 84 ellipsoid (m), for the error terms.
_R_MIN = 6_300_000.0
#: The band is used only for items within these bounds (else the plain geodesic test).
BAND_MAX_LAT = 70.0
BAND_MAX_SPAN_DEG = 1.0


@dataclass(frozen=True)
class PlanarBand:
    """Constants of the planar pre-test of ``reaching_exactly(geometry)`` for one item.

    Places are mapped to local metres by ``x = lon·kx, y = lat·ky`` (``kx, ky``: the metres per
    degree at the item's mid-latitude φ0) and ``d`` is the planar distance from the mapped
    place to the mapped item (``scaled``). For a place of radius ``r`` inside ``box``:

    - ``d ≤ r·accept_k - accept_m`` ⇒ PostGIS's geodesic distance ≤ ``r`` (reaches);
    - ``d > r·reject_k + reject_m`` ⇒ it is > ``r`` (does not reach);
    - in between (a thin band around the circle), the exact geodesic test decides.

    So the result is exactly the geodesic test's. **Why the bounds hold.** Let ``B`` be the
    latitude band of ``box`` (the item's bounding box widened by the largest place radius and
    by the bulge of any geodesic between two of its points, below). Geodetic coordinates are
    orthogonal: the ellipsoid's length element is ``ds² = (M(φ)dφ)² + (N(φ)cos φ dλ)²``, the
    planar one ``(ky dφ)² + (kx dλ)²``, so along any path inside ``B`` true / planar length
    lies in ``[lo, hi]``, the extremes of ``M(φ)/ky`` and ``N(φ)cos φ/kx`` over ``B`` (each is
    monotone in ``|φ|``: the ends of ``B`` and the equator suffice).

    1. *Ellipsoid vs plane.* For points ``P, Q`` in ``box`` the planar segment stays in ``B``
       (latitude is linear along it) and the geodesic stays in ``B`` (bulge margin), so
       ``lo·|P'Q'| ≤ geodesic(P, Q) ≤ hi·|P'Q'|``; taking minima over ``Q`` on the item drawn
       with straight edges in (lon, lat), ``G_ll``: ``lo·d ≤ dist(P, G_ll) ≤ hi·d``.
    2. *Edges.* PostGIS draws edges as great-circle arcs (``G``). A straight (lon, lat) line
       has geodesic curvature at most ``2|tan φ|/R`` (its heading's turn plus a parallel's
       curvature), so an edge of length ``L`` is within ``h = L²·tan|φ|max / (4R)`` of its arc;
       ``h`` takes a factor 2 more (sphere vs ellipsoid) and 1 mm: ``|dist(P,G) - dist(P,G_ll)|
       ≤ h`` (polygons: the slivers between arc and segment are ``h`` thin; inside ⇒ 0).
    3. *PostGIS's distance* is the ellipsoidal distance from ``P`` to the point of ``G`` closest
       on the sphere, ``Qs``: at least ``dist(P, G)``; and, with ``[blo, bhi]`` the bounds of
       ellipsoid / sphere length over ``B``, at most ``bhi·sphere(P, Qs) ≤ bhi·sphere(P, Qe) ≤
       (bhi/blo)·dist(P, G)`` (``Qe``: closest on the ellipsoid); ``g = bhi/blo``.

    Hence ``lo·d - h ≤ geodesic ≤ g·(hi·d + h)``: accept when ``g·(hi·d + h) ≤ r``, reject
    when ``lo·d - h > r``; both keep a relative 1e-9 and 1 mm of floating-point slack. Places
    outside ``box`` (the reach-box prefilter removes them anyway) go to the exact test.
    """

    kx: float
    ky: float
    scaled: GEOSGeometry
    box: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max
    accept_k: float
    accept_m: float
    reject_k: float
    reject_m: float


def _edges(geometry: GEOSGeometry) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    rings: list[Any] = []

    def walk(g: Any) -> None:
        kind = g.geom_type
        if kind == "Point":
            return
        if kind in ("LineString", "LinearRing"):
            rings.append(g.coords)
        elif kind == "Polygon":
            for ring in g:
                rings.append(ring.coords)
        else:
            for part in g:
                walk(part)

    walk(geometry)
    return [(a, b) for coords in rings for a, b in itertools.pairwise(coords)]


def planar_band(geometry: GEOSGeometry, max_radius_m: float) -> PlanarBand | None:
    """The band constants for ``geometry`` (WGS 84), or ``None`` when the item is too large,
    too close to a pole or to the antimeridian for them (the caller then tests exactly)."""
    if geometry.empty:
        return None
    lon_min, lat_min, lon_max, lat_max = geometry.extent
    if lat_max - lat_min > BAND_MAX_SPAN_DEG or lon_max - lon_min > 2 * BAND_MAX_SPAN_DEG:
        return None
    far = max(abs(lat_min), abs(lat_max)) + BAND_MAX_SPAN_DEG / 10
    if far > BAND_MAX_LAT:
        return None
    # The reach box widens by r / 110000 degrees of latitude, r / (110000·cos φ) of longitude.
    d_lat = max_radius_m / 110_000.0
    d_lon = max_radius_m / (110_000.0 * math.cos(far * _DEG))
    box = (lon_min - d_lon, lat_min - d_lat, lon_max + d_lon, lat_max + d_lat)
    if box[0] < -179.0 or box[2] > 179.0:
        return None
    tan_far = math.tan(far * _DEG)
    # Longest geodesic between two points of the box, and how far poleward it can bulge.
    span_m = 111_700.0 * math.hypot(box[2] - box[0], box[3] - box[1])
    bulge = 2.0 * span_m * span_m * tan_far / (8.0 * _R_MIN * _R_MIN) / _DEG
    band = (box[1] - bulge, box[3] + bulge)
    phi0 = (lat_min + lat_max) / 2.0
    kx, ky = metres_per_degree(phi0)
    lats = [band[0], band[1]] + ([0.0] if band[0] < 0.0 < band[1] else [])
    ratios: list[float] = []
    spheres: list[float] = []
    for lat in lats:
        nx, ny = metres_per_degree(lat)
        ratios += [nx / kx, ny / ky]
        spheres += [nx / math.cos(lat * _DEG), ny]  # ellipsoid / sphere, up to a constant
    lo, hi = min(ratios), max(ratios)
    g = max(spheres) / min(spheres)
    longest = max(
        (math.hypot((b[0] - a[0]) * kx, (b[1] - a[1]) * ky) for a, b in _edges(geometry)),
        default=0.0,
    )
    h = 2.0 * longest * longest * tan_far / (4.0 * _R_MIN) + 0.001
    slack = 1e-9
    # SRID 4326 only so that PostGIS compares it with ``ST_Scale(location, …)``: plane metres.
    scaled = GEOSGeometry(memoryview(_scaled_wkb(geometry, kx, ky)), srid=WGS84)
    return PlanarBand(
        kx=kx,
        ky=ky,
        scaled=scaled,
        box=box,
        accept_k=(1.0 - slack) / (g * hi),
        accept_m=h / hi + 0.001,
        reject_k=(1.0 + slack) / lo,
        reject_m=h / lo + 0.001,
    )


def _scaled_wkb(geometry: GEOSGeometry, kx: float, ky: float) -> bytes:
    """``geometry`` with x multiplied by ``kx`` and y by ``ky`` (no SRID)."""
    from django.contrib.gis.geos import LinearRing, LineString, Point, Polygon
    from django.contrib.gis.geos.collections import GeometryCollection

    def scale(g: Any) -> Any:
        kind = g.geom_type
        if kind == "Point":
            return Point(g.x * kx, g.y * ky)
        if kind == "LineString":
            return LineString([(x * kx, y * ky) for x, y in g.coords])
        if kind == "LinearRing":
            return LinearRing([(x * kx, y * ky) for x, y in g.coords])
        if kind == "Polygon":
            return Polygon(*[scale(ring) for ring in g])
        if isinstance(g, GeometryCollection):
            return type(g)(*[scale(part) for part in g])
        raise ValueError(f"unsupported geometry type {kind}")

    return bytes(scale(geometry).wkb)


def _wgs84(geometry: GEOSGeometry) -> GEOSGeometry:
    if geometry.srid is None:
        return GEOSGeometry(geometry.wkt, srid=WGS84)
    if geometry.srid != WGS84:
        return geometry.transform(WGS84, clone=True)
    return geometry


class ReachesExactly(Func):
    """True when a place's circle (``location``, ``radius_m``) reaches ``geometry``: exactly
    PostGIS's geodesic ``ST_DWithin(geography, geography, radius_m)``, mostly decided by the
    planar band (``PlanarBand``: much cheaper a place) on PostGIS; the plain ellipsoidal test
    on SpatiaLite.

    ``boxed``: the caller already kept only places whose reach box overlaps ``geometry``
    (``ReachBoxOverlaps``, radii ≤ ``max_radius_m``), which lie inside ``PlanarBand.box``: the
    band's own box test is skipped.
    """

    output_field = BooleanField()

    def __init__(
        self, geometry: GEOSGeometry, max_radius_m: float, *, boxed: bool = False, **extra: Any
    ) -> None:
        geometry = _wgs84(geometry)
        self.band = planar_band(geometry, max_radius_m)
        self.boxed = boxed
        super().__init__(
            "location", "radius_m", Value(geometry, output_field=GeometryField(srid=WGS84)), **extra
        )

    def _parts(self, compiler: Any) -> tuple[str, str, str, list[Any]]:
        sqls: list[str] = []
        params: list[Any] = []
        for expression in self.get_source_expressions():
            sql, sql_params = compiler.compile(expression)
            sqls.append(sql)
            params.append(list(sql_params))
        location, radius, geometry = sqls
        return location, radius, geometry, params[2]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        location, radius, geometry, g_params = self._parts(compiler)
        exact = f"ST_DWithin(geography({location}), geography({geometry}), {radius})"
        band = self.band
        if band is None:
            return f"({exact})", g_params
        scaled_sql, s_params = compiler.compile(
            Value(band.scaled, output_field=GeometryField(srid=WGS84))
        )
        planar = f"ST_Scale({location}, {band.kx!r}, {band.ky!r})"
        banded = (
            f"(ST_DWithin({planar}, {scaled_sql}, {radius} * {band.accept_k!r} - "
            f"{band.accept_m!r}) OR (ST_DWithin({planar}, {scaled_sql}, {radius} * "
            f"{band.reject_k!r} + {band.reject_m!r}) AND {exact}))"
        )
        if self.boxed:
            return banded, [*s_params, *s_params, *g_params]
        x0, y0, x1, y1 = band.box
        # A bounding-box test (one call; inside CASE, so no index is tempted by it).
        envelope = f"ST_MakeEnvelope({x0!r}, {y0!r}, {x1!r}, {y1!r}, {WGS84})"
        sql = f"(CASE WHEN {location} && {envelope} THEN {banded} ELSE {exact} END)"
        return sql, [*s_params, *s_params, *g_params, *g_params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        location, radius, geometry, g_params = self._parts(compiler)
        return f"(ST_Distance({location}, {geometry}, 1) <= {radius})", g_params
