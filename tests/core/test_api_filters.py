"""Shared list filters of the content API, checked on news: geo, taxonomy, sync, ordering."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import time_machine
from django.contrib.gis.geos import LineString
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.geo import WGS84, haversine_m, point
from apps.core.models import Status
from apps.news.models import News
from tests.api_support import published_news
from tests.factories import (
    CENTRE_LAT,
    CENTRE_LON,
    AreaFactory,
    CategoryFactory,
    NewsFactory,
    square,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/news/"


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def _public(**fields) -> News:
    fields.setdefault("status", Status.PUBLISHED)
    fields.setdefault("publish_at", timezone.now() - timedelta(hours=1))
    return NewsFactory(**fields)


def test_near_radius_matches_haversine_and_adds_distance(city, mobility):
    rng = random.Random(4)
    points = {}
    for _ in range(80):
        lon = CENTRE_LON + rng.uniform(-0.03, 0.03)
        lat = CENTRE_LAT + rng.uniform(-0.02, 0.02)
        item = _public(geometry=point(lon, lat), organization=city, category=mobility)
        points[item.pk] = haversine_m(CENTRE_LON, CENTRE_LAT, lon, lat)
    _public(geometry=None, organization=city, category=mobility)  # city-wide: never "near"
    radius = 1200
    inside = {pk for pk, d in points.items() if d < radius * 0.995}
    border = {pk for pk, d in points.items() if abs(d - radius) <= radius * 0.005}
    assert 10 < len(inside) < 70

    response = APIClient().get(
        URL, {"near": f"{CENTRE_LAT},{CENTRE_LON}", "radius": radius, "page_size": 100}
    )

    results = response.json()["results"]
    assert {item["id"] for item in results} - border == inside
    for item in results:
        assert item["distance_m"] == pytest.approx(points[item["id"]], rel=0.005, abs=1)


def test_near_defaults_to_1000_m_and_orders_by_distance(city, mobility):
    at = {m: _public(geometry=point(CENTRE_LON + m / 78_000, CENTRE_LAT)) for m in (900, 300, 1100)}

    response = APIClient().get(URL, {"near": f"{CENTRE_LAT},{CENTRE_LON}", "ordering": "distance"})

    assert _ids(response) == [at[300].pk, at[900].pk]
    distances = [item["distance_m"] for item in response.json()["results"]]
    assert distances == sorted(distances)
    far_first = APIClient().get(
        URL, {"near": f"{CENTRE_LAT},{CENTRE_LON}", "ordering": "-distance", "radius": 2000}
    )
    assert _ids(far_first) == [at[1100].pk, at[900].pk, at[300].pk]


def test_distance_m_is_absent_without_near():
    _public()
    item = APIClient().get(URL).json()["results"][0]
    assert "distance_m" not in item


def test_bbox_keeps_items_intersecting_the_box():
    box = (CENTRE_LON - 0.01, CENTRE_LAT - 0.01, CENTRE_LON + 0.01, CENTRE_LAT + 0.01)
    inside = _public(geometry=point(CENTRE_LON, CENTRE_LAT))
    outside = _public(geometry=point(CENTRE_LON + 0.05, CENTRE_LAT))
    # A street crossing the box, both ends outside it.
    crossing = _public(
        geometry=LineString(
            (CENTRE_LON - 0.03, CENTRE_LAT), (CENTRE_LON + 0.03, CENTRE_LAT), srid=WGS84
        )
    )

    ids = set(_ids(APIClient().get(URL, {"bbox": ",".join(map(str, box))})))

    assert ids == {inside.pk, crossing.pk}
    assert outside.pk not in ids


def test_area_filter_uses_the_areas_computed_from_geometry(city, mobility, centre):
    north = AreaFactory(slug="nord", geometry=square(CENTRE_LON, CENTRE_LAT + 0.05, 0.01))
    in_centre = published_news(geometry=point(CENTRE_LON, CENTRE_LAT))
    in_north = published_news(geometry=point(CENTRE_LON, CENTRE_LAT + 0.05))
    published_news(geometry=point(CENTRE_LON + 0.2, CENTRE_LAT))

    assert set(_ids(APIClient().get(URL, {"area": "centre"}))) == {in_centre.pk}
    both = APIClient().get(URL, {"area": f"centre,{north.slug}"})
    assert sorted(_ids(both)) == sorted([in_centre.pk, in_north.pk])
    assert both.json()["count"] == 2


def test_category_comma_list_and_organization(city, metropole, mobility, culture):
    a = _public(category=mobility, organization=city)
    b = _public(category=culture, organization=metropole)
    c = _public(category=CategoryFactory(slug="sport"), organization=city)

    assert set(_ids(APIClient().get(URL, {"category": "mobilite,culture"}))) == {a.pk, b.pk}
    assert set(_ids(APIClient().get(URL, {"organization": "ville"}))) == {a.pk, c.pk}
    combined = APIClient().get(URL, {"organization": "ville", "category": "culture"})
    assert _ids(combined) == []


def test_updated_since_is_inclusive_and_accepts_offsets():
    with time_machine.travel("2026-03-01T10:00:00Z", tick=False):
        old = _public()
    with time_machine.travel("2026-03-05T10:00:00Z", tick=False):
        recent = _public()

    since = APIClient().get(URL, {"updated_since": "2026-03-05T11:00:00+01:00"})
    assert _ids(since) == [recent.pk]
    # A "+" left unencoded in a query string arrives as a space: still understood.
    spaced = APIClient().get(URL + "?updated_since=2026-03-05T11:00:00 01:00")
    assert _ids(spaced) == [recent.pk]
    everything = APIClient().get(URL, {"updated_since": "2026-02-01T00:00:00Z"})
    assert set(_ids(everything)) == {old.pk, recent.pk}


def test_ordering_keys_and_default():
    now = timezone.now()
    items = [_public(publish_at=now - timedelta(hours=h)) for h in (3, 1, 2)]
    newest_first = [items[1].pk, items[2].pk, items[0].pk]

    assert _ids(APIClient().get(URL)) == newest_first
    assert _ids(APIClient().get(URL, {"ordering": "publish_at"})) == newest_first[::-1]


def test_pagination_is_stable_with_ties_and_count_is_exact():
    same = timezone.now() - timedelta(hours=1)
    created = {_public(publish_at=same).pk for _ in range(7)}
    NewsFactory()  # a draft: never counted

    seen: list[int] = []
    for page in (1, 2, 3):
        response = APIClient().get(URL, {"page_size": 3, "page": page})
        assert response.json()["count"] == 7
        seen += _ids(response)

    assert len(seen) == 7
    assert set(seen) == created
    assert seen == sorted(seen, reverse=True)  # ties broken by id, descending like the key


def test_page_past_the_end_is_a_404_with_the_error_shape():
    _public()
    response = APIClient().get(URL, {"page": 5})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_organizations_with_unknown_slugs_are_reported_per_parameter(mobility):
    response = APIClient().get(URL, {"category": "mobilite,nope", "organization": "ghost"})
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"category", "organization"}
    assert "nope" in fields["category"][0]
