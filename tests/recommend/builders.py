"""Small builders for the recommender's pure tests: candidates and residents around a centre."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from apps.recommend.engine.candidates import CandidateRecord, Candidates
from apps.recommend.engine.context import Place, ResidentProfile
from tests.factories import CENTRE_LAT, CENTRE_LON

# A Wednesday, 10:00 in Paris.
NOW_S = datetime(2026, 3, 11, 9, 0, tzinfo=UTC).timestamp()
DAY_S = 86400.0
CULTURE, MOBILITY, SPORT = 1, 2, 3
CITY, METROPOLE = 10, 11
CENTRE_AREA, NORTH_AREA = 100, 101


def offset(dx_m: float, dy_m: float = 0.0) -> tuple[float, float]:
    """(lon, lat) of the point ``dx_m`` metres east and ``dy_m`` north of the centre."""
    lat = CENTRE_LAT + dy_m / 111_195.0
    lon = CENTRE_LON + dx_m / (111_195.0 * math.cos(math.radians(CENTRE_LAT)))
    return lon, lat


def record(item_id: int, **fields) -> CandidateRecord:
    """A live news item at the centre, published an hour ago, unless ``fields`` say otherwise."""
    lon, lat = fields.pop("at", offset(0))
    values = {
        "type": "news",
        "id": item_id,
        "category_id": MOBILITY,
        "organization_id": CITY,
        "lon": lon,
        "lat": lat,
        "published_at_s": NOW_S - 3600,
        "text": f"information numéro {item_id}",
    }
    values.update(fields)
    return CandidateRecord(**values)


def candidates(*records: CandidateRecord) -> Candidates:
    return Candidates.from_records(list(records))


HOME = Place("Domicile", *offset(0), radius_m=500.0)
WORK = Place("Travail", *offset(3000, 2000), radius_m=300.0)


def profile(**fields) -> ResidentProfile:
    values = {"places": (HOME, WORK)}
    values.update(fields)
    return ResidentProfile(**values)
