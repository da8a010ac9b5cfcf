"""Builders for the feed's database tests: content around the centre, residents, the feed."""

from __future__ import annotations

import itertools
import math
import uuid
from datetime import timedelta
from typing import Any

from django.contrib.gis.geos import LineString, Point
from django.db.models import F
from django.utils import timezone

from apps.core.geo import WGS84, DistanceM, point
from apps.core.models import Urgency
from apps.core.registry import content_models
from apps.core.services import content_areas_refresh
from apps.recommend.codes import Action, Context, ItemType
from apps.recommend.models import Interaction
from apps.residents.models import AreaFollow, CategoryFollow, Place
from apps.residents.rounding import snap_coordinates
from tests.factories import CENTRE_LAT, CENTRE_LON, EventFactory, NewsFactory, WorksFactory
from tests.residents.factories import make_resident, published

URL = "/api/v1/feed/"
METRES_PER_DEG_LAT = 111_195.0
WORDS = (
    "concert", "piscine", "marché", "chantier", "bibliothèque", "tramway", "jardin", "conseil",
    "exposition", "vélo", "collecte", "école", "théâtre", "parking", "fibre", "stade",
    "festival", "atelier", "canalisation", "musée", "brocante", "élagage", "réunion", "cinéma",
    "trottoir",
)  # fmt: skip
_titles = itertools.count(1)


def title() -> str:
    """A title of its own, so that items are not near-duplicates of each other."""
    k = next(_titles)
    return " ".join(WORDS[(k * step) % len(WORDS)] for step in (1, 7, 11, 13)) + f" n°{k}"


def at(dx_m: float = 0.0, dy_m: float = 0.0) -> tuple[float, float]:
    """(lon, lat) ``dx_m`` metres east and ``dy_m`` north of the centre."""
    lat = CENTRE_LAT + dy_m / METRES_PER_DEG_LAT
    lon = CENTRE_LON + dx_m / (METRES_PER_DEG_LAT * math.cos(math.radians(CENTRE_LAT)))
    return lon, lat


def here(dx_m: float = 0.0, dy_m: float = 0.0) -> Point:
    return point(*at(dx_m, dy_m))


def snapped(dx_m: float = 0.0, dy_m: float = 0.0) -> Point:
    """The request point as the feed uses it: on the 0.001° grid of saved places."""
    return point(*snap_coordinates(*at(dx_m, dy_m)))


def news(dx_m: float | None = 0.0, dy_m: float = 0.0, **fields: Any):
    """A published news item ``dx_m``/``dy_m`` from the centre (``dx_m=None``: city-wide)."""
    geometry = None if dx_m is None else here(dx_m, dy_m)
    fields.setdefault("title_fr", title())
    return _tagged(published(NewsFactory(geometry=geometry, **fields)))


def _tagged(item):
    """Tag the item with the areas its geometry touches, as ``content_save`` does."""
    content_areas_refresh(item=item)
    return item


def works(dx_m: float = 0.0, dy_m: float = 0.0, **fields: Any):
    fields.setdefault("geometry", LineString(at(dx_m, dy_m), at(dx_m + 120, dy_m), srid=WGS84))
    fields.setdefault("title_fr", title())
    return _tagged(published(WorksFactory(**fields)))


def event(dx_m: float = 0.0, dy_m: float = 0.0, *, starts_in=timedelta(days=1), **fields: Any):
    start = timezone.now() + starts_in
    fields.setdefault("geometry", here(dx_m, dy_m))
    fields.setdefault("title_fr", title())
    item = EventFactory(start_at=start, end_at=start + timedelta(hours=2), **fields)
    from apps.events.services import event_save

    event_save(event=item)
    return _tagged(published(item))


def alert(dx_m: float | None = 0.0, dy_m: float = 0.0, **fields: Any):
    return news(dx_m, dy_m, urgency=Urgency.ALERT, **fields)


def consenting(**preferences: Any):
    """A resident who accepted personalization."""
    return make_resident(personalization_consent=True, **preferences)


def add_place(resident, dx_m: float = 0.0, dy_m: float = 0.0, *, label="home", radius_m=500):
    return Place.objects.create(
        device=resident.device, label=label, location=here(dx_m, dy_m), radius_m=radius_m
    )


def follow_category(resident, category) -> None:
    CategoryFollow.objects.create(device=resident.device, category=category)


def follow_area(resident, area) -> None:
    AreaFollow.objects.create(device=resident.device, area=area)


def interact(resident, item, action: str = "open", *, ago=timedelta(hours=1)) -> Interaction:
    """Log an interaction of ``resident`` with ``item`` as the interactions endpoint would."""
    return Interaction.objects.create(
        device=resident.device,
        event_id=uuid.uuid4(),
        item_type=ItemType.from_code(item.type_code),
        item_id=item.pk,
        action=Action.from_code(action),
        context=Context.FEED,
        at=timezone.now() - ago,
    )


def expire(item) -> None:
    """Make ``item`` over without the lifecycle having archived it yet (a lagging beat)."""
    model = type(item)
    past = timezone.now() - timedelta(minutes=1)
    if item.type_code == "news":
        model.objects.filter(pk=item.pk).update(expires_at=past, publish_at=past - timedelta(1))
    elif item.type_code == "works":
        model.objects.filter(pk=item.pk).update(end_at=past, start_at=past - timedelta(days=3))
    else:
        model.objects.filter(pk=item.pk).update(
            last_end_at=past, end_at=past, start_at=past - timedelta(hours=2)
        )


def refs(body: dict) -> list[tuple[str, int]]:
    return [(item["type"], item["id"]) for item in body["results"]]


def read_all(client, url: str, **headers: Any) -> list[dict]:
    """Every page of a feed, following ``next``; returns the pages' bodies."""
    pages = []
    while url:
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content
        pages.append(response.json())
        url = pages[-1]["next"]
    return pages


def distance_m(ref: tuple[str, int], to: Point) -> float | None:
    """Geodesic metres from the item's real geometry to ``to`` (PostGIS, the ground truth)."""
    model = content_models()[ref[0]]
    row = (
        model.objects.filter(pk=ref[1])
        .annotate(d=DistanceM("geometry", to))
        .values_list("d", F("geometry"))
        .get()
    )
    return None if row[1] is None else row[0]
