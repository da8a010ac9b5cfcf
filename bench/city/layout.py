"""The bench city's territory: 20 districts over about 100 km², and where things happen (no ORM).

The city is a 10.5 km x 9.6 km rectangle centred on ``CENTRE`` (the default admin map centre),
cut into a 5 x 4 grid of districts whose inner corners are jittered, so the districts tile the
commune exactly and are not plain rectangles. People and content are not spread evenly:
``sample_points`` mixes a dense centre, a few secondary hubs (stations, business parks) and a
uniform background, as in a real city of 500,000. Coordinates are WGS 84 degrees; lengths are
metres on a local equirectangular projection (good to 0.1 % over 10 km).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from apps.core.earth import ROUND_DEGREE_LON_EQUATOR_M

CENTRE = (4.8357, 45.7640)
WIDTH_M = 10_500
HEIGHT_M = 9_600
COLUMNS, ROWS = 5, 4
NODE_JITTER_M = 250
# The city was laid out with the equatorial degree on both axes; changing it would move it.
METRES_PER_DEGREE_LAT = ROUND_DEGREE_LON_EQUATOR_M

DISTRICT_NAMES = (
    "Les Hauts-de-Saône",
    "Montvert",
    "La Croix-Blanche",
    "Saint-Roch",
    "Les Brotteaux-Neufs",
    "Le Vieux-Bourg",
    "Les Terreaux",
    "Centre-Ville",
    "La Presqu'île",
    "Saint-Just",
    "La Guillotière",
    "Le Confluent",
    "Gerland",
    "Les États-Unis",
    "Monplaisir",
    "Vaise",
    "La Duchère",
    "Les Charpennes",
    "Grange-Blanche",
    "Le Mont-Cindre",
)

#: Secondary hubs as (x, y) metres from the centre, with their spread (metres).
HUBS = ((-2600.0, 1800.0, 700.0), (2800.0, -1500.0, 800.0), (1200.0, 2900.0, 600.0))


def metres_per_degree_lon(lat: float = CENTRE[1]) -> float:
    return METRES_PER_DEGREE_LAT * math.cos(math.radians(lat))


def to_lonlat(x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Metres east/north of the centre → longitude, latitude."""
    lon = CENTRE[0] + np.asarray(x, dtype=float) / metres_per_degree_lon()
    lat = CENTRE[1] + np.asarray(y, dtype=float) / METRES_PER_DEGREE_LAT
    return lon, lat


def bbox() -> tuple[float, float, float, float]:
    """The city as ``(min_lon, min_lat, max_lon, max_lat)``."""
    (west, east), (south, north) = to_lonlat(
        np.array([-WIDTH_M / 2, WIDTH_M / 2]), np.array([-HEIGHT_M / 2, HEIGHT_M / 2])
    )
    return float(west), float(south), float(east), float(north)


@dataclass(frozen=True)
class District:
    slug: str
    name: str
    code: str
    ring: tuple[tuple[float, float], ...]  # closed ring of (lon, lat)


def districts(rng: np.random.Generator) -> list[District]:
    """The 20 districts, as quadrilaterals of a jittered grid (outer edges stay straight)."""
    xs = np.linspace(-WIDTH_M / 2, WIDTH_M / 2, COLUMNS + 1)
    ys = np.linspace(HEIGHT_M / 2, -HEIGHT_M / 2, ROWS + 1)
    node_x = np.tile(xs, (ROWS + 1, 1))
    node_y = np.tile(ys[:, None], (1, COLUMNS + 1))
    jitter = rng.uniform(-NODE_JITTER_M, NODE_JITTER_M, size=(2, ROWS + 1, COLUMNS + 1))
    node_x[1:-1, 1:-1] += jitter[0, 1:-1, 1:-1]
    node_y[1:-1, 1:-1] += jitter[1, 1:-1, 1:-1]
    # Border nodes slide only along their edge, so the commune stays a rectangle.
    node_x[0, 1:-1] += jitter[0, 0, 1:-1]
    node_x[-1, 1:-1] += jitter[0, -1, 1:-1]
    node_y[1:-1, 0] += jitter[1, 1:-1, 0]
    node_y[1:-1, -1] += jitter[1, 1:-1, -1]
    lon, lat = to_lonlat(node_x, node_y)
    out = []
    for row in range(ROWS):
        for col in range(COLUMNS):
            corners = ((row, col), (row, col + 1), (row + 1, col + 1), (row + 1, col))
            ring = [(round(float(lon[r, c]), 6), round(float(lat[r, c]), 6)) for r, c in corners]
            index = row * COLUMNS + col
            name = DISTRICT_NAMES[index]
            out.append(
                District(
                    slug=f"bench-{_slug(name)}",
                    name=name,
                    code=f"B{index + 1:02d}",
                    ring=(*ring, ring[0]),
                )
            )
    return out


def commune_ring() -> tuple[tuple[float, float], ...]:
    west, south, east, north = (round(v, 6) for v in bbox())
    return ((west, north), (east, north), (east, south), (west, south), (west, north))


def polygon_wkt(ring: tuple[tuple[float, float], ...]) -> str:
    coordinates = ",".join(f"{lon:.6f} {lat:.6f}" for lon, lat in ring)
    return f"SRID=4326;MULTIPOLYGON((({coordinates})))"


def sample_xy(rng: np.random.Generator, n: int, *, centre_share: float = 0.5) -> np.ndarray:
    """``n`` positions in metres: a dense centre, the hubs, and a uniform background."""
    kind = rng.choice(3, size=n, p=[centre_share, 0.25, 0.75 - centre_share])
    xy = np.empty((n, 2))
    centre = kind == 0
    xy[centre] = rng.normal(0.0, 1800.0, size=(int(centre.sum()), 2))
    hubs = kind == 1
    hub = rng.integers(0, len(HUBS), size=int(hubs.sum()))
    spec = np.array(HUBS)[hub]
    xy[hubs] = spec[:, :2] + rng.normal(0.0, 1.0, size=(len(hub), 2)) * spec[:, 2:3]
    flat = kind == 2
    xy[flat, 0] = rng.uniform(-WIDTH_M / 2, WIDTH_M / 2, size=int(flat.sum()))
    xy[flat, 1] = rng.uniform(-HEIGHT_M / 2, HEIGHT_M / 2, size=int(flat.sum()))
    margin = 30.0
    xy[:, 0] = np.clip(xy[:, 0], -WIDTH_M / 2 + margin, WIDTH_M / 2 - margin)
    xy[:, 1] = np.clip(xy[:, 1], -HEIGHT_M / 2 + margin, HEIGHT_M / 2 - margin)
    return xy


def point_wkt(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon:.6f} {lat:.6f})"


def line_wkt(rng: np.random.Generator, x: float, y: float) -> str:
    """A street-like LineString from (x, y): 2-5 segments of 60-250 m with gentle turns."""
    heading = rng.uniform(0.0, 2 * math.pi)
    xs, ys = [x], [y]
    for _segment in range(int(rng.integers(2, 6))):
        heading += rng.normal(0.0, 0.35)
        length = rng.uniform(60.0, 250.0)
        xs.append(float(np.clip(xs[-1] + length * math.cos(heading), -WIDTH_M / 2, WIDTH_M / 2)))
        ys.append(float(np.clip(ys[-1] + length * math.sin(heading), -HEIGHT_M / 2, HEIGHT_M / 2)))
    lon, lat = to_lonlat(np.array(xs), np.array(ys))
    coordinates = ",".join(f"{a:.6f} {b:.6f}" for a, b in zip(lon, lat, strict=True))
    return f"SRID=4326;LINESTRING({coordinates})"


def site_wkt(rng: np.random.Generator, x: float, y: float) -> str:
    """A work site: a small rectangle of 30-90 m a side."""
    half_w, half_h = rng.uniform(15.0, 45.0, size=2)
    corners_x = np.array([x - half_w, x + half_w, x + half_w, x - half_w, x - half_w])
    corners_y = np.array([y - half_h, y - half_h, y + half_h, y + half_h, y - half_h])
    lon, lat = to_lonlat(corners_x, corners_y)
    coordinates = ",".join(f"{a:.6f} {b:.6f}" for a, b in zip(lon, lat, strict=True))
    return f"SRID=4326;POLYGON(({coordinates}))"


def _slug(name: str) -> str:
    table = str.maketrans("àâçéèêëîïôûùü'", "aaceeeeiiouuu-")
    return "-".join(name.lower().translate(table).replace("-", " ").split())
