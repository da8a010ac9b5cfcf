"""Redis stopped or hung: reads are served from the database, writes that need it answer 503.

Real servers: a private redis-server stopped (refused connections), paused with SIGSTOP or a
black-hole port (hung: connections accepted, never answered). Never mocks.
"""

from __future__ import annotations

import logging
import time

import pytest
from rest_framework.test import APIClient

from apps.news.models import News
from apps.residents.models import Device
from backend.settings import cache_settings
from tests.api_support import key_client, published_event, published_news, published_works
from tests.factories import CENTRE_LAT, CENTRE_LON

pytestmark = pytest.mark.django_db

#: What one request may cost with the cache unreachable (the socket timeouts, with margin).
FAST_S = 1.5


@pytest.fixture
def content(city, mobility):
    return {
        "news": published_news(organization=city, category=mobility),
        "works": published_works(organization=city, category=mobility),
        "events": published_event(organization=city, category=mobility),
    }


def _use_cache(settings, url: str, *, retry_s: float = 5.0) -> None:
    config = cache_settings(url)
    config["OPTIONS"] = {**config["OPTIONS"], "RETRY_S": retry_s}  # type: ignore[dict-item]
    settings.CACHES = {"default": config}


def _reads(content) -> list[str]:
    urls = []
    for kind, item in content.items():
        urls += [
            f"/api/v1/{kind}/",
            f"/api/v1/{kind}/{item.pk}/",
            f"/api/v1/{kind}/?format=geojson",
        ]
    return [*urls, f"/api/v1/feed/?lat={CENTRE_LAT}&lon={CENTRE_LON}", "/api/v1/feed/"]


def _timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - started


def _assert_reads_served(content) -> None:
    client = APIClient()
    for url in _reads(content):
        response, took = _timed(client.get, url)
        assert response.status_code == 200, (url, response.content[:300])
        assert took < FAST_S, (url, took)
        assert "X-Cache" not in response  # answered from the database
    assert client.get("/api/v1/news/").json()["count"] == 1
    assert client.get(f"/api/v1/feed/?lat={CENTRE_LAT}&lon={CENTRE_LON}").json()["results"]


def _assert_registration_refused() -> None:
    before = Device.objects.count()
    response, took = _timed(
        APIClient().post, "/api/v1/devices/", {"platform": "android"}, format="json"
    )
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json()["error"] == "cache_unavailable"
    assert Device.objects.count() == before
    assert took < FAST_S


def _assert_health_degraded() -> None:
    response, took = _timed(APIClient().get, "/api/v1/health/")
    assert response.status_code == 200  # the instance can serve: keep it in the balancer
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "unavailable",
        "broker": "eager",
    }
    assert took < FAST_S


def test_redis_stopped_reads_served_registration_503_health_degraded(
    settings, redis_server, content
):
    _use_cache(settings, redis_server.url)
    assert APIClient().get("/api/v1/news/")["X-Cache"] == "miss"  # a working cache first
    assert APIClient().get("/api/v1/news/")["X-Cache"] == "hit"
    redis_server.stop()

    _assert_reads_served(content)
    _assert_registration_refused()
    _assert_health_degraded()


def test_redis_hung_reads_served_registration_503_health_degraded(settings, black_hole, content):
    _use_cache(settings, black_hole.url)

    _assert_reads_served(content)
    _assert_registration_refused()
    _assert_health_degraded()


def test_redis_paused_reads_served_then_recovers(settings, redis_server, content):
    _use_cache(settings, redis_server.url, retry_s=0.5)
    redis_server.pause()
    try:
        _assert_reads_served(content)
        _assert_registration_refused()
    finally:
        redis_server.resume()
    time.sleep(0.6)
    response = APIClient().post("/api/v1/devices/", {"platform": "android"}, format="json")
    assert response.status_code == 201
    assert APIClient().get("/api/v1/health/").json()["status"] == "ok"


def test_redis_outage_is_logged_once_per_interval(settings, redis_server, content, caplog):
    _use_cache(settings, redis_server.url, retry_s=60)
    redis_server.stop()
    client = APIClient()
    with caplog.at_level(logging.WARNING, logger="apps.core.cache"):
        for _ in range(20):
            assert client.get("/api/v1/news/").status_code == 200
    outages = [r for r in caplog.records if r.name == "apps.core.cache"]
    assert len(outages) == 1
    assert "failing open for 60 s" in outages[0].getMessage()


def test_redis_down_feed_cursor_is_503_first_page_200(settings, redis_server, content):
    _use_cache(settings, redis_server.url)
    first = APIClient().get(f"/api/v1/feed/?lat={CENTRE_LAT}&lon={CENTRE_LON}&page_size=1")
    assert first.status_code == 200
    next_url = first.json()["next"]
    assert next_url
    redis_server.stop()

    response, took = _timed(APIClient().get, next_url)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"] == "cache_unavailable"
    assert took < FAST_S
    page = APIClient().get(f"/api/v1/feed/?lat={CENTRE_LAT}&lon={CENTRE_LON}&page_size=1")
    assert page.status_code == 200
    assert page.json()["results"][0]["id"] == first.json()["results"][0]["id"]


def test_redis_hung_publishing_works_and_no_stale_list_after_recovery(
    settings, redis_server, content, city
):
    """A write during the outage cannot bump the generation: the process bumps it on recovery."""
    _use_cache(settings, redis_server.url, retry_s=0.5)
    reader = APIClient()
    assert reader.get("/api/v1/news/").json()["count"] == 1
    assert reader.get("/api/v1/news/")["X-Cache"] == "hit"  # an entry that would turn stale
    redis_server.pause()
    try:
        body = {
            "title_fr": "Coupure d'eau",
            "summary_fr": "Rue Centrale, de 9 h à 12 h.",
            "category": "mobilite",
            "status": "published",
            "geometry": {"type": "Point", "coordinates": [CENTRE_LON, CENTRE_LAT]},
        }
        response, took = _timed(key_client(city).post, "/api/v1/news/", body, format="json")
        assert response.status_code == 201, response.content
        assert took < FAST_S
        assert reader.get("/api/v1/news/").json()["count"] == 2
    finally:
        redis_server.resume()
    time.sleep(0.6)

    listed = reader.get("/api/v1/news/")
    assert listed.json()["count"] == 2
    assert News.objects.filter(title_fr="Coupure d'eau").count() == 1
