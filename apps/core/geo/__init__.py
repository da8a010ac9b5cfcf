"""Geo policy (docs/architecture.md §4): the Earth's numbers and the "within N metres" SQL.

- ``apps.core.earth``: SRID, Earth radius, metres per degree, haversine. No Django import;
  re-exported here.
- ``apps.core.geo.sql``: the "within N metres" and distance expressions (``DWithinM``,
  ``DistanceM``), ``within_m``, ``annotate_distance_m``, ``point``, ``IsValidGeometry``,
  ``SimplifiedGeometry`` and the ``geography_index`` migration operation.

Every name stays importable from ``apps.core.geo``.
"""

from __future__ import annotations

from apps.core.earth import (
    EARTH_RADIUS_M,
    METRES_PER_DEGREE,
    ROUND_DEGREE_LAT_EQUATOR_M,
    ROUND_DEGREE_LAT_MEAN_M,
    ROUND_DEGREE_LON_EQUATOR_M,
    WGS84,
    WGS84_A,
    WGS84_E2,
    haversine_m,
    metres_per_degree,
)
from apps.core.geo.sql import (
    QS,
    DistanceM,
    DWithinM,
    IsValidGeometry,
    MetreValue,
    SimplifiedGeometry,
    annotate_distance_m,
    geography_index,
    point,
    within_m,
)

__all__ = [
    "EARTH_RADIUS_M",
    "METRES_PER_DEGREE",
    "QS",
    "ROUND_DEGREE_LAT_EQUATOR_M",
    "ROUND_DEGREE_LAT_MEAN_M",
    "ROUND_DEGREE_LON_EQUATOR_M",
    "WGS84",
    "WGS84_A",
    "WGS84_E2",
    "DWithinM",
    "DistanceM",
    "IsValidGeometry",
    "MetreValue",
    "SimplifiedGeometry",
    "annotate_distance_m",
    "geography_index",
    "haversine_m",
    "metres_per_degree",
    "point",
    "within_m",
]
