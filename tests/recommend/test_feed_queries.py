"""The feed runs a constant number of SQL queries, whatever the page size (architecture.md §8)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.core.models import Urgency
from apps.core.services import content_archive
from apps.recommend.online.item_index import current_index
from tests.factories import AreaFactory, CategoryFactory, square
from tests.recommend.feed_support import (
    URL,
    add_place,
    at,
    consenting,
    event,
    follow_area,
    follow_category,
    interact,
    news,
    refs,
    works,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("model_dir")]

# The page's items (one per content type: 3): the candidates come from the process's item
# index (built once, before, by ``warm_index``); then, for a minute, the same cell's snapshot
# serves every anonymous caller, and the page's items are pre-rendered: the item index, at
# the current content generation, tells they are still public and current, and their
# distances (``index_lists.page_versions``; else one statement, apps/core/api/fragments.py).
ANONYMOUS_FIRST = 3
ANONYMOUS_SHARED = 0
# Device (1) + items (3): candidates and the history items' facts come from the index (they
# are all public here), the places, follows and history from the cache of resident inputs,
# filled by the device's previous feed request (else one more query: ``resident_inputs``).
PERSONAL_FIRST = 4
# Device (1) + its dismissals since the snapshot (1) + items (3).
PERSONAL_NEXT = 5


@pytest.fixture
def busy_city():
    """Forty items of each type, so that every page holds all three types."""
    culture = CategoryFactory(slug="culture")
    district = AreaFactory(slug="centre", geometry=square(*at(), 0.03))
    items = []
    for k in range(40):
        extra = {"category": culture} if k % 4 == 0 else {"urgency": Urgency.IMPORTANT}
        items.append(news(40 * k, 30 * (k % 7), **extra))
        items.append(works(35 * k, -25 * (k % 5), urgency=Urgency.IMPORTANT if k % 9 == 0 else 0))
        items.append(event(-30 * k, 20 * (k % 3)))
    return items, culture, district


@pytest.fixture
def warm_index(busy_city):
    """The item index as a web process holds it between requests (built at the first one)."""
    assert current_index() is not None


def test_anonymous_feed_queries(busy_city, warm_index, django_assert_num_queries):
    client = APIClient()
    for k, page_size in enumerate((10, 50)):
        lon, lat = at(0, 300 * k)  # another grid cell: no shared snapshot yet
        with django_assert_num_queries(ANONYMOUS_FIRST):
            body = client.get(URL, {"lat": lat, "lon": lon, "page_size": page_size}).json()
        with django_assert_num_queries(ANONYMOUS_SHARED):
            again = client.get(URL, {"lat": lat, "lon": lon, "page_size": page_size}).json()
        assert refs(again) == refs(body)
        assert len(body["results"]) == page_size
        assert {item["type"] for item in body["results"]} == {"news", "works", "events"}
        with django_assert_num_queries(3):  # a next page: its items only
            page = client.get(body["next"]).json()
        assert len(page["results"]) == page_size


def test_personal_feed_queries(busy_city, django_assert_num_queries):
    items, culture, district = busy_city
    resident = consenting()
    add_place(resident, radius_m=1000)
    add_place(resident, 2000, 1000, label="work", radius_m=500)
    follow_category(resident, culture)
    follow_area(resident, district)
    for item in items[:45:2]:  # every type
        interact(resident, item, "open")
    interact(resident, items[1], "dismiss")
    assert current_index() is not None  # built once per content change, not per request
    resident.client.get(URL, {"page_size": 5})  # reads the inputs (one query) and caches them

    for page_size in (10, 50):
        with django_assert_num_queries(PERSONAL_FIRST):
            body = resident.client.get(URL, {"page_size": page_size}).json()
        assert body["personalized"] is True
        assert len(body["results"]) == page_size
        assert {item["type"] for item in body["results"]} == {"news", "works", "events"}
        with django_assert_num_queries(PERSONAL_NEXT):
            page = resident.client.get(body["next"]).json()
        assert len(page["results"]) == page_size


def test_history_items_no_longer_public_cost_one_query(busy_city, django_assert_num_queries):
    """The index holds live items only: the facts of a history item that left the public set
    (archived here) are read from SQL, in one query whatever their number."""
    items, _, _ = busy_city
    resident = consenting()
    for item in items[:6]:
        interact(resident, item, "open")
    for item in items[:3]:
        content_archive(item=item)
    assert current_index() is not None
    resident.client.get(URL, {"page_size": 5})  # the resident's inputs, now cached
    with django_assert_num_queries(PERSONAL_FIRST + 1):
        body = resident.client.get(URL, {"page_size": 10}).json()
    assert body["personalized"] is True
    assert not {(item.type_code, item.pk) for item in items[:3]} & set(refs(body))


def test_interleaved_personal_feed_queries(busy_city, settings, django_assert_num_queries):
    """Interleaving (online evaluation) ranks twice in memory and costs no query."""
    settings.FEED_INTERLEAVING_SHARE = 1.0
    settings.FEED_INTERLEAVING_REFERENCE = "nearest"
    resident = consenting()
    add_place(resident, radius_m=1000)
    resident.client.get(URL, {"page_size": 5})  # reads the inputs (one query) and caches them
    with django_assert_num_queries(PERSONAL_FIRST):
        body = resident.client.get(URL, {"page_size": 20}).json()
    assert len(body["results"]) == 20 and all("ranker" in item for item in body["results"])
    with django_assert_num_queries(PERSONAL_NEXT):
        page = resident.client.get(body["next"]).json()
    assert len(page["results"]) == 20 and all("ranker" in item for item in page["results"])
