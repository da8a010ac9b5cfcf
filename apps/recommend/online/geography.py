"""PostGIS's ``ST_Distance(geography, geography)`` from one point to indexed items, in process.

The ``distance_m`` of a list's or a feed page's items, and the ``near`` filter's decision for
the items close to the radius, are PostGIS's geodesic distances
(``apps.core.geo.DistanceM``). This module computes them from the item index's coordinates as
PostGIS 3 does, so that the index answers without an SQL statement (issue 13):

- point to point: the geodesic on the WGS 84 ellipsoid (GeographicLib's inverse problem, the
  ``geod_inverse`` of PROJ that PostGIS calls; here through pyproj, the same C code), with
  the coordinates taken through radians and back as PostGIS stores them;
- point to line or polygon ring: the nearest point of the geometry **on the sphere**
  (``edge_distance_to_point``: the foot of the great circle through each edge, or the nearer
  end), then the ellipsoidal distance to that point; 0 inside a polygon.

What PostGIS computes then differs from ours by rounding only: at most 1e-8 m was seen over
tens of thousands of pairs (tests/recommend/test_geography.py measures it against PostGIS).
``TOLERANCE_M`` is 100 times that. A distance is ``NaN`` (ask PostGIS) where the two could
differ by more:

- a point near a polygon's boundary (within a metre plus how far the polygon's longest edge
  bows between the plane and the sphere): inside or out is decided on the plane here;
- a multi-part geometry (several lines, polygons or rings) whose parts' nearest points give
  distances that differ: PostGIS takes the sphere's nearest part (its cached path) or the
  nearest part on the ellipsoid (its first call), and which one a row gets depends on the plan;
- nearest points tied on the sphere (within 1e-9) with different ellipsoidal distances;
- an item without segments, or spanning more than ``SPAN_DEGREES`` (poles, antimeridian).

Callers round (``distance_m`` is shown in whole metres) and compare with a radius: they also
ask PostGIS when a distance lies within ``TOLERANCE_M`` of a rounding step or of the radius
(``undecided``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pyproj import Geod

from apps.core.earth import EARTH_RADIUS_M, WGS84_A
from apps.recommend.online.segments import Segments, _gather, _inside

#: SRID 4326's spheroid, as PostGIS reads it from ``spatial_ref_sys`` (WGS 84).
_GEOD = Geod(a=WGS84_A, f=1 / 298.257223563)
#: How far our distances may be from PostGIS's and still be trusted (module doc).
TOLERANCE_M = 1e-6
#: An item wider or taller than this (degrees) is left to PostGIS (module doc).
SPAN_DEGREES = 10.0
#: Nearest points of other edges or parts within this relative distance on the sphere may be
#: nearer on the ellipsoid (the two disagree by well under 1 % over any direction).
_ELLIPSOID_SLACK = 0.01
_TIE = 1e-9
_DEG = math.pi / 180.0


def _through_radians(degrees: Any) -> Any:
    """Degrees as PostGIS hands them to ``geod_inverse``: to radians (``deg2rad``) and back."""
    return (math.pi * degrees / 180.0) * 180.0 / math.pi


def _ellipsoidal_m(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    if not len(lons):
        return np.zeros(0)
    q_lon = np.full(len(lons), _through_radians(np.float64(lon)))
    q_lat = np.full(len(lons), _through_radians(np.float64(lat)))
    return np.asarray(_GEOD.inv(lons, lats, q_lon, q_lat)[2], dtype=np.float64)


#: A unit vector (or a vector of them) as its three coordinate arrays: arithmetic on columns
#: costs a third of the numpy calls of (n, 3) stacks, crosses and ``einsum`` (this runs for
#: every page of a feed or a ``near`` list).
_Vec = tuple[np.ndarray, np.ndarray, np.ndarray]


def _unit(lon_r: Any, lat_r: Any) -> _Vec:
    """``geog2cart``: unit vectors of radian coordinates."""
    c = np.cos(lat_r)
    return c * np.cos(lon_r), c * np.sin(lon_r), np.sin(lat_r)


def _dot(a: _Vec, b: _Vec) -> np.ndarray:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _normalized(v: _Vec) -> _Vec:
    norm = np.sqrt(_dot(v, v))
    with np.errstate(invalid="ignore", divide="ignore"):
        return v[0] / norm, v[1] / norm, v[2] / norm


def _sphere_angle(a: _Vec, b: _Vec) -> np.ndarray:
    """Angles between unit vectors, robust at small angles."""
    cross = (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
    return np.arctan2(np.sqrt(_dot(cross, cross)), _dot(a, b))


def _nearest_on_edges(
    lon_r: float, lat_r: float, x1: np.ndarray, y1: np.ndarray, x2: np.ndarray, y2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per edge (radians): the sphere's nearest point (lon, lat radians) and its angle from the
    point, as PostGIS's ``edge_distance_to_point``."""
    p = _unit(lon_r, lat_r)  # floats, broadcast against the edges' arrays
    start, end = _unit(x1, y1), _unit(x2, y2)
    # The edge's normal, as PostGIS's robust_cross_product of its ends.
    lon_qpp, lon_qmp = (x2 + x1) / -2.0, (x2 - x1) / 2.0
    s_minus, s_plus = np.sin(y1 - y2), np.sin(y1 + y2)
    sin_qpp, sin_qmp, cos_qpp, cos_qmp = (np.sin(lon_qpp), np.sin(lon_qmp), np.cos(lon_qpp),
                                          np.cos(lon_qmp))  # fmt: skip
    normal = _normalized(
        (
            s_minus * sin_qpp * cos_qmp - s_plus * cos_qpp * sin_qmp,
            s_minus * cos_qpp * cos_qmp + s_plus * sin_qpp * sin_qmp,
            np.cos(y1) * np.cos(y2) * np.sin(x2 - x1),
        )
    )
    along = _dot(normal, p)
    foot = _normalized(
        (p[0] - normal[0] * along, p[1] - normal[1] * along, p[2] - normal[2] * along)
    )
    centre = _normalized((start[0] + end[0], start[1] + end[1], start[2] + end[2]))
    in_cone = _dot(foot, centre) >= _dot(start, centre) - 2e-16
    degenerate = (x1 == x2) & (y1 == y2)
    in_cone &= ~degenerate & np.isfinite(foot[0]) & np.isfinite(foot[1]) & np.isfinite(foot[2])
    toward = tuple(np.where(in_cone, f, s) for f, s in zip(foot, start, strict=True))
    d_foot = np.where(in_cone, _sphere_angle(p, toward), np.inf)  # type: ignore[arg-type]
    d_start, d_end = _sphere_angle(p, start), _sphere_angle(p, end)
    best = np.where(d_start < d_foot, d_start, d_foot)
    use_start = d_start < d_foot
    use_end = d_end < best
    best = np.where(use_end, d_end, best)
    foot_lon = np.arctan2(foot[1], foot[0])
    foot_lat = np.arcsin(np.clip(foot[2], -1.0, 1.0))
    lon_out = np.where(use_end, x2, np.where(use_start, x1, foot_lon))
    lat_out = np.where(use_end, y2, np.where(use_start, y1, foot_lat))
    return lon_out, lat_out, best


def geography_distances_m(
    lon: float,
    lat: float,
    *,
    point_lon: np.ndarray,
    point_lat: np.ndarray,
    is_point: np.ndarray,
    one_part: np.ndarray,
    bounds: np.ndarray,
    segments: Segments,
    rows: np.ndarray,
) -> np.ndarray:
    """PostGIS's geography distance (metres) from (lon, lat) to each of ``rows``; ``NaN`` where
    PostGIS must be asked (module doc). The arrays are the item index's, indexed by row."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.full(len(rows), np.nan)
    if not len(rows):
        return out
    points = np.flatnonzero(is_point[rows])
    if len(points):
        p = rows[points]
        out[points] = _ellipsoidal_m(
            lon, lat, _through_radians(point_lon[p]), _through_radians(point_lat[p])
        )
    extended = np.flatnonzero(~is_point[rows])
    if not len(extended):
        return out
    ext_rows = rows[extended]
    b = bounds[ext_rows]
    with np.errstate(invalid="ignore"):
        sane = (segments.counts(ext_rows) > 0) & (b[:, 2] - b[:, 0] <= SPAN_DEGREES)
        sane &= b[:, 3] - b[:, 1] <= SPAN_DEGREES
    extended, ext_rows = extended[sane], ext_rows[sane]
    if not len(ext_rows):
        return out
    idx, owner = _gather(segments, ext_rows)
    x1d, y1d, x2d, y2d = segments.x1[idx], segments.y1[idx], segments.x2[idx], segments.y2[idx]
    lon_r, lat_r = math.pi * lon / 180.0, math.pi * lat / 180.0
    n_lon, n_lat, angle = _nearest_on_edges(
        lon_r, lat_r, math.pi * x1d / 180.0, math.pi * y1d / 180.0,
        math.pi * x2d / 180.0, math.pi * y2d / 180.0,
    )  # fmt: skip
    firsts = np.searchsorted(owner, np.arange(len(ext_rows)))
    least = np.minimum.reduceat(angle, firsts)[owner]
    several = ~one_part[ext_rows]
    # Edges tied with the sphere's nearest; and of a multi-part item, those whose nearest
    # point may be the ellipsoid's nearest.
    tied = angle <= least * (1 + _TIE) + 1e-15
    close = tied | (several[owner] & (angle <= least * (1 + _ELLIPSOID_SLACK) + 1e-15))
    measured = np.full(len(idx), np.inf)
    measured[close] = _ellipsoidal_m(lon, lat, n_lon[close] * 180.0 / math.pi,
                                     n_lat[close] * 180.0 / math.pi)  # fmt: skip
    chosen = np.minimum.reduceat(np.where(tied, measured, np.inf), firsts)
    chosen_high = np.maximum.reduceat(np.where(tied, measured, -np.inf), firsts)
    lowest = np.minimum.reduceat(measured, firsts)
    value = chosen.copy()
    value[chosen_high - chosen > TOLERANCE_M] = np.nan  # ties on the sphere disagree
    value[several & (chosen - lowest > TOLERANCE_M)] = np.nan  # parts disagree
    ring = segments.polygon[idx] >= 0
    if ring.any():
        has_ring = np.zeros(len(ext_rows), dtype=bool)
        has_ring[owner[ring]] = True
        # How far an edge bows between the plane (inside test) and the sphere, generously.
        length_m = np.hypot((x2d - x1d) * np.cos(lat_r), y2d - y1d) * _DEG * EARTH_RADIUS_M
        bow = np.zeros(len(ext_rows))
        np.maximum.at(bow, owner[ring], length_m[ring] ** 2 / EARTH_RADIUS_M)
        inside = np.zeros(len(ext_rows), dtype=bool)
        inside[_inside(lon, lat, x1d[ring], y1d[ring], x2d[ring], y2d[ring],
                       segments.polygon[idx][ring], owner[ring])] = True  # fmt: skip
        value[has_ring & (chosen <= 1.0 + bow)] = np.nan  # too near the boundary to tell
        value[has_ring & inside & (chosen > 1.0 + bow)] = 0.0
    out[extended] = value
    return out


def undecided(distances: np.ndarray, radius_m: float | None = None) -> np.ndarray:
    """Where PostGIS must decide: ``NaN``, a distance within ``TOLERANCE_M`` of a half metre
    (``distance_m`` is shown rounded) or of ``radius_m`` (the ``near`` filter's ``<=``)."""
    with np.errstate(invalid="ignore"):
        unknown = ~np.isfinite(distances)
        half = np.abs(distances - np.floor(distances) - 0.5) <= TOLERANCE_M
        if radius_m is not None:
            half |= np.abs(distances - radius_m) <= TOLERANCE_M
    return unknown | half


def index_distances_m(index: Any, rows: np.ndarray, lon: float, lat: float) -> np.ndarray:
    """``geography_distances_m`` to ``rows`` of an ``ItemIndex``."""
    return geography_distances_m(
        lon,
        lat,
        point_lon=index.lon,
        point_lat=index.lat,
        is_point=index.is_point,
        one_part=index.one_part,
        bounds=index.bounds,
        segments=index.segments,
        rows=rows,
    )
