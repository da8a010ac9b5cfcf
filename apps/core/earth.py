"""The Earth's numbers and scalar geodesy: radius, metres per degree, haversine (no Django).

The pure half of the geo package: ``apps.core.geo`` re-exports every name, and every module that
converts degrees to metres takes its constants from here. It imports no Django and lives beside
the package, not in it, for code that must stay free of the ORM. The recommendation engine
imports no other app at all, so it keeps a copy of ``EARTH_RADIUS_M`` that a test pins to this
one (tests/core/test_vocabulary.py).
"""

from __future__ import annotations

import math

#: The SRID of every stored geometry (WGS 84 longitude/latitude degrees).
WGS84 = 4326
#: The mean Earth radius (IUGG R1), metres: the sphere of ``haversine_m`` and of the engine.
EARTH_RADIUS_M = 6_371_008.8
#: Metres per degree of a great circle on that sphere (a degree of latitude, roughly).
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180.0
#: WGS 84 ellipsoid: semi-major axis (m) and first eccentricity squared.
WGS84_A = 6_378_137.0
WGS84_E2 = 6.694379990141317e-3
#: Rounded metres per degree that the synthetic cities (demo, bench) and the standards' local
#: planes were built with: a degree of longitude at the equator (WGS 84 ``a·π/180``, rounded),
#: the mean degree of latitude, and the degree of latitude at the equator. They fix the layout
#: of generated data (and the bench's pinned figures), so they are kept as they were.
ROUND_DEGREE_LON_EQUATOR_M = 111_320.0
ROUND_DEGREE_LAT_MEAN_M = 111_132.0
ROUND_DEGREE_LAT_EQUATOR_M = 110_540.0

_DEG = math.pi / 180.0


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude at latitude ``lat`` on WGS 84 (exact:
    ``N(φ)·cos φ`` and ``M(φ)``, the scale factors of geodetic coordinates)."""
    s = math.sin(lat * _DEG)
    w = math.sqrt(1.0 - WGS84_E2 * s * s)
    return (
        WGS84_A * math.cos(lat * _DEG) / w * _DEG,
        WGS84_A * (1.0 - WGS84_E2) / (w * w * w) * _DEG,
    )


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres on the mean Earth sphere (ground truth for tests)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
