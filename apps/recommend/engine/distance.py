"""Vectorised distances in metres between WGS84 points, and from points to segments.

Pure numpy (no GeoDjango): features are computed for a thousand candidates per request.
Longitudes and latitudes are degrees; ``NaN`` coordinates (items without geometry) give
``NaN`` distances, which the callers treat as "no location".
"""

from __future__ import annotations

import numpy as np

# The mean Earth radius, ``apps.core.earth.EARTH_RADIUS_M``: the engine imports no other app
# (tests/recommend/test_layout.py), so it keeps this copy, pinned by tests/core/test_vocabulary.py.
EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres; arguments broadcast like numpy arrays."""
    phi1 = np.radians(lat1)
    phi2 = np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    h = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def segment_distance_m(lon, lat, a_lon, a_lat, b_lon, b_lat) -> np.ndarray:
    """Distance in metres from points (``lon``, ``lat`` arrays) to the segment A-B.

    Uses a local equirectangular projection centred on the segment, exact to well under 1 %
    at city scale (a few tens of kilometres), which is all a resident's route needs.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    lat0 = np.radians((a_lat + b_lat) / 2.0)
    kx = EARTH_RADIUS_M * np.cos(lat0) * np.pi / 180.0
    ky = EARTH_RADIUS_M * np.pi / 180.0
    px, py = (lon - a_lon) * kx, (lat - a_lat) * ky
    bx, by = (b_lon - a_lon) * kx, (b_lat - a_lat) * ky
    length2 = bx * bx + by * by
    if length2 == 0.0:
        return np.hypot(px, py)
    t = np.clip((px * bx + py * by) / length2, 0.0, 1.0)
    return np.hypot(px - t * bx, py - t * by)
