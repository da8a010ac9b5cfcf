"""Coarse places (architecture.md §4): the grid saved places are snapped to before they are stored.

Rule: each coordinate is rounded to the nearest 0.001 degree (three decimals). The grid cell
is 111 m north-south and 111 m * cos(latitude) east-west (79 m at 45° N), so a stored point is
never more than 79 m from the point the resident gave (half the cell diagonal at the equator;
68 m at 45° N). Radii start at 100 m, so the rounding never moves a place out of its own circle.
"""

from __future__ import annotations

#: Decimal places kept for longitude and latitude.
PLACE_DECIMALS = 3
#: The largest distance, in metres, between a given point and its stored snapped point.
PLACE_MAX_SHIFT_M = 79


def snap_coordinates(lon: float, lat: float) -> tuple[float, float]:
    """Snap ``(lon, lat)`` to the 0.001° grid."""
    return round(float(lon), PLACE_DECIMALS) + 0.0, round(float(lat), PLACE_DECIMALS) + 0.0
