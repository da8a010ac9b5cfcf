"""Every list endpoint runs a constant, small number of SQL queries whatever the page size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.api.items import items_fetch, serialize_items
from apps.core.geo import point
from apps.core.models import Status, Tombstone
from apps.events.models import Event, EventOccurrence
from apps.news.models import News
from apps.works.models import Works
from tests.factories import (
    CENTRE_LAT,
    CENTRE_LON,
    AreaFactory,
    CategoryFactory,
    OrganizationFactory,
    VenueFactory,
)

pytestmark = pytest.mark.django_db
N = 24


@pytest.fixture
def city_content(city, mobility, centre):
    """N public items of each type, with areas and occurrences, written in bulk (fast)."""
    now = timezone.now()
    common = {
        "status": Status.PUBLISHED,
        "publish_at": now - timedelta(hours=1),
        "category": mobility,
        "organization": city,
        "geometry": point(CENTRE_LON, CENTRE_LAT),
    }
    news = News.objects.bulk_create(News(title_fr=f"Contenu {i}", **common) for i in range(N))
    works = Works.objects.bulk_create(
        Works(
            title_fr=f"Contenu {i}",
            start_at=now - timedelta(days=1),
            end_at=now + timedelta(days=9),
            impacts_road=True,
            **common,
        )
        for i in range(N)
    )
    venue = VenueFactory()
    start = now + timedelta(days=1)
    events = Event.objects.bulk_create(
        Event(
            title_fr=f"Contenu {i}",
            venue=venue,
            start_at=start,
            end_at=start + timedelta(hours=2),
            last_end_at=start + timedelta(days=14, hours=2),
            rrule="FREQ=WEEKLY;COUNT=3",
            **common,
        )
        for i in range(N)
    )
    EventOccurrence.objects.bulk_create(
        EventOccurrence(
            event=event,
            start_at=start + timedelta(weeks=w),
            end_at=start + timedelta(weeks=w, hours=2),
            origin="main" if w == 0 else "rule",
        )
        for event in events
        for w in range(3)
    )
    for model, items in ((News, news), (Works, works), (Event, events)):
        owner = f"{model._meta.model_name}_id"
        model.areas.through.objects.bulk_create(
            model.areas.through(**{owner: item.pk, "area_id": centre.pk}) for item in items
        )
    for _i in range(N):
        CategoryFactory()
        OrganizationFactory()
        AreaFactory(parent=centre)
    Tombstone.objects.bulk_create(
        Tombstone(item_type="news", item_id=10_000 + i, reason="deleted", removed_at=now)
        for i in range(N)
    )
    return {"news": news, "works": works, "events": events}


NEAR = {"near": f"{CENTRE_LAT},{CENTRE_LON}", "radius": 5000}
FILTERED = {**NEAR, "category": "mobilite", "area": "centre", "organization": "ville"}

# (path, parameters, queries): ≤ 4 everywhere (architecture.md §8).
CASES = [
    ("/api/v1/news/", {}, 2),
    ("/api/v1/news/", {"format": "geojson"}, 2),
    ("/api/v1/news/", {**FILTERED, "q": "contenu", "ordering": "distance"}, 3),
    ("/api/v1/works/", {}, 2),
    ("/api/v1/works/", {**FILTERED, "impact": "road", "status": "active,planned"}, 3),
    ("/api/v1/events/", {}, 2),
    ("/api/v1/events/", {**FILTERED, "starts_after": "2000-01-01T00:00:00Z", "free": "true"}, 3),
    ("/api/v1/events/ical/", {}, 3),
    ("/api/v1/categories/", {}, 2),
    ("/api/v1/organizations/", {}, 2),
    ("/api/v1/areas/", {}, 2),
    ("/api/v1/removed/", {"type": "news"}, 2),
]


@pytest.mark.parametrize(("path", "params", "queries"), CASES)
def test_list_queries_do_not_grow_with_the_page(
    city_content, django_assert_num_queries, path, params, queries
):
    client = APIClient()
    for size in (2, 20):
        with django_assert_num_queries(queries):
            response = client.get(path, {**params, "page_size": size})
        assert response.status_code == 200, response.content
        if path.endswith("/ical/"):
            assert response.content.count(b"BEGIN:VEVENT") == N
        elif params.get("format") == "geojson":
            assert len(response.json()["features"]) == size
        else:
            assert len(response.json()["results"]) == size
    assert queries <= 4


def test_serialize_items_mixes_types_without_queries(city_content, django_assert_num_queries):
    refs = [
        (kind, item.pk)
        for trio in zip(*(city_content[k] for k in ("news", "works", "events")), strict=True)
        for kind, item in zip(("news", "works", "events"), trio, strict=True)
    ]
    with django_assert_num_queries(3):  # one per type
        items = items_fetch(refs, near=point(CENTRE_LON, CENTRE_LAT))
    with django_assert_num_queries(0):
        data = serialize_items(items)

    assert [(row["type"], row["id"]) for row in data] == refs
    listed = APIClient().get("/api/v1/events/", {**NEAR, "page_size": 1}).json()["results"][0]
    event_row = next(row for row in data if row["type"] == "events")
    assert set(event_row) == set(listed)  # the same list fields as the endpoint
    assert all("distance_m" in row for row in data)
