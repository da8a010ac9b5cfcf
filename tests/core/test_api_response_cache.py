"""The shared cache of anonymous content responses: hits, and invalidation by every write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.api.response_cache import GENERATION_KEY
from apps.core.services import (
    content_archive,
    content_delete,
    content_publish,
    content_save,
    content_unpublish,
)
from apps.events.models import Venue
from tests.api_support import key_client, published_event, published_news
from tests.factories import CENTRE_LAT, CENTRE_LON, NewsFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _get(path, params=None, **headers):
    return APIClient().get(path, params or {}, **headers)


def _titles(response) -> list[str]:
    return [item["title"] for item in response.json()["results"]]


def test_second_anonymous_request_is_a_hit_without_sql(django_assert_num_queries):
    published_news(title_fr="Fête des voisins")
    first = _get("/api/v1/news/")
    assert first["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = _get("/api/v1/news/")
    assert second["X-Cache"] == "hit"
    assert second.content == first.content
    assert second["ETag"] == first["ETag"] and second["Last-Modified"] == first["Last-Modified"]
    assert second["Content-Type"] == first["Content-Type"]
    assert {"Accept", "Accept-Language"} <= {v.strip() for v in second["Vary"].split(",")}


def test_if_none_match_gets_a_304_from_the_cache(django_assert_num_queries):
    published_news()
    etag = _get("/api/v1/news/")["ETag"]
    with django_assert_num_queries(0):
        again = _get("/api/v1/news/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag and again["X-Cache"] == "hit"


def test_language_format_and_query_have_their_own_entries():
    published_news(title_fr="Marché de Noël", title_en="Christmas market")
    assert _titles(_get("/api/v1/news/")) == ["Marché de Noël"]
    assert _titles(_get("/api/v1/news/", HTTP_ACCEPT_LANGUAGE="en")) == ["Christmas market"]
    geojson = _get("/api/v1/news/", {"format": "geojson"})
    assert geojson.json()["type"] == "FeatureCollection" and geojson["X-Cache"] == "miss"
    paged = _get("/api/v1/news/", {"page_size": 5})
    assert paged["X-Cache"] == "miss"
    # Parameter order does not matter: the same entry.
    assert _get("/api/v1/news/", {"page_size": 5, "page": 1})["X-Cache"] == "miss"
    assert _get("/api/v1/news/?page=1&page_size=5")["X-Cache"] == "hit"


def test_publish_edit_archive_unpublish_delete_invalidate_at_once(city, mobility):
    news = NewsFactory.build(title_fr="Brouillon", category=mobility, organization=city)
    content_save(item=news)
    assert _get("/api/v1/news/").json()["count"] == 0
    assert _get("/api/v1/news/")["X-Cache"] == "hit"

    content_publish(item=news)
    assert _titles(_get("/api/v1/news/")) == ["Brouillon"]

    news.title_fr = "Titre corrigé"
    content_save(item=news)
    assert _titles(_get("/api/v1/news/")) == ["Titre corrigé"]
    assert _get(f"/api/v1/news/{news.pk}/").json()["title"] == "Titre corrigé"

    content_archive(item=news)
    assert _get("/api/v1/news/").json()["count"] == 0
    assert _get(f"/api/v1/news/{news.pk}/").status_code == 404

    content_publish(item=news)
    assert _get("/api/v1/news/").json()["count"] == 1
    content_unpublish(item=news)
    assert _get("/api/v1/news/").json()["count"] == 0

    content_publish(item=news)
    assert _get("/api/v1/news/").json()["count"] == 1
    content_delete(item=news)
    assert _get("/api/v1/news/").json()["count"] == 0


def test_a_write_to_one_type_keeps_the_others_cached(city, mobility):
    published_event(category=mobility, organization=city)
    _get("/api/v1/events/")
    # (published_news() would create a category: that renews every type, as it should.)
    news = NewsFactory.build(category=mobility, organization=city)
    content_save(item=news)
    content_publish(item=news)
    assert _get("/api/v1/news/").json()["count"] == 1
    assert _get("/api/v1/events/")["X-Cache"] == "hit"


def test_the_generation_is_bumped_again_when_the_transaction_commits(
    django_capture_on_commit_callbacks,
):
    news = published_news()
    key = GENERATION_KEY.format(scope="news")
    with django_capture_on_commit_callbacks() as callbacks:
        news.title_fr = "Modifié"
        content_save(item=news)
        during = cache.get(key)
    assert callbacks
    for callback in callbacks:
        callback()
    assert cache.get(key) > during


def test_category_organization_and_venue_changes_invalidate():
    news = published_news()
    event = published_event(
        venue=Venue.objects.create(name="Kiosque", address="Parc", location=news.geometry)
    )
    _get("/api/v1/news/")
    _get("/api/v1/events/")
    news.category.name_fr = "Voirie"
    news.category.save()
    assert _get("/api/v1/news/").json()["results"][0]["category"]["name"] == "Voirie"
    news.organization.name = "Métropole de Lyonnay"
    news.organization.save()
    assert (
        _get("/api/v1/news/").json()["results"][0]["organization"]["name"] == "Métropole de Lyonnay"
    )
    event.venue.name = "Kiosque à musique"
    event.venue.save()
    assert _get("/api/v1/events/").json()["results"][0]["venue"]["name"] == "Kiosque à musique"


def test_authenticated_requests_neither_read_nor_fill_the_cache():
    city = OrganizationFactory(slug="ville")
    published_news(organization=city)
    client = key_client(city)
    staff = client.get("/api/v1/news/")
    assert staff.status_code == 200 and "X-Cache" not in staff
    assert _get("/api/v1/news/")["X-Cache"] == "miss"  # the key holder's answer was not stored
    assert "X-Cache" not in client.get("/api/v1/news/")


def test_precise_positions_are_not_stored_rounded_ones_are():
    published_news()
    precise = {"near": f"{CENTRE_LAT + 0.000123},{CENTRE_LON}", "radius": 2000}
    rounded = {"near": f"{CENTRE_LAT:.3f},{CENTRE_LON:.3f}", "radius": 2000}
    for params, second in ((precise, "miss"), (rounded, "hit")):
        assert _get("/api/v1/news/", params)["X-Cache"] == "miss"
        assert _get("/api/v1/news/", params)["X-Cache"] == second


def test_errors_are_not_cached():
    first = _get("/api/v1/news/", {"near": "91,4"})
    second = _get("/api/v1/news/", {"near": "91,4"})
    assert first.status_code == second.status_code == 400
    assert second.get("X-Cache") != "hit"
    assert _get("/api/v1/news/", {"page": 9}).status_code == 404
    assert _get("/api/v1/news/", {"page": 9}).get("X-Cache") != "hit"


def test_an_entry_ends_when_an_item_expires(time_machine):
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    published_news(title_fr="Bientôt périmée", expires_at=now + timedelta(seconds=30))
    assert _titles(_get("/api/v1/news/")) == ["Bientôt périmée"]
    time_machine.move_to(now + timedelta(seconds=10), tick=False)
    assert _get("/api/v1/news/")["X-Cache"] == "hit"
    time_machine.move_to(now + timedelta(seconds=31), tick=False)  # no write happened
    gone = _get("/api/v1/news/")
    assert gone["X-Cache"] == "miss" and gone.json()["count"] == 0


def test_an_event_entry_ends_when_the_next_occurrence_ends(time_machine):
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    published_event(
        start_at=now - timedelta(minutes=10),
        end_at=now + timedelta(seconds=40),
        rrule="FREQ=DAILY;COUNT=3",
    )
    first = _get("/api/v1/events/").json()["results"][0]["next_start_at"]
    time_machine.move_to(now + timedelta(seconds=41), tick=False)
    later = _get("/api/v1/events/")
    assert later["X-Cache"] == "miss"
    assert later.json()["results"][0]["next_start_at"] != first


@override_settings(API_CACHE_SECONDS=0)
def test_the_cache_can_be_turned_off():
    published_news()
    assert "X-Cache" not in _get("/api/v1/news/")
    assert "X-Cache" not in _get("/api/v1/news/")


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/9",
        }
    }
)
def test_on_redis(django_assert_num_queries):
    cache.clear()
    published_news(title_fr="Sur Redis")
    assert _get("/api/v1/news/")["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        hit = _get("/api/v1/news/")
    assert hit["X-Cache"] == "hit" and _titles(hit) == ["Sur Redis"]
    published_news(title_fr="Deuxième")
    assert sorted(_titles(_get("/api/v1/news/"))) == ["Deuxième", "Sur Redis"]
    cache.clear()


@pytest.mark.parametrize(
    "foreign",
    [{"generation": 1, "body": b"{}"}, ["not", "an", "entry"], "text"],
    ids=["fewer-fields", "list", "string"],
)
def test_an_entry_of_another_shape_is_a_miss_then_replaced(foreign):
    """Another release sharing the Redis (a rolling deploy) wrote this key: a miss, not a 500."""
    published_news(title_fr="Fête des voisins")
    first = _get("/api/v1/news/")
    entries = [k for k in cache._cache if k.startswith(":1:api:resp:")]  # type: ignore[attr-defined]
    assert len(entries) == 1
    cache.set(entries[0].removeprefix(":1:"), foreign)

    again = _get("/api/v1/news/")

    assert again.status_code == 200 and again["X-Cache"] == "miss"
    assert again.content == first.content
    assert _get("/api/v1/news/")["X-Cache"] == "hit"  # the foreign entry was overwritten
