"""Erasure and withdrawn consent reach the shared cache: nothing about the device stays in Redis."""

from __future__ import annotations

import os
import re

import pytest
import redis
from django.core.cache import cache

from tests.factories import NewsFactory
from tests.residents.factories import make_resident, published

pytestmark = pytest.mark.django_db

#: A logical database of the shared Redis that only these tests use (cleared before and after).
REDIS_URL = os.environ.get("TEST_ERASURE_REDIS_URL", "redis://127.0.0.1:6379/14")
PLACE_NAME = "Chez Mamie Odette"


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "apps.core.cache.FailOpenRedisCache", "LOCATION": REDIS_URL}
    }
    cache.clear()
    yield redis.Redis.from_url(REDIS_URL)
    cache.clear()


def _resident_with_a_personal_feed():
    resident = make_resident(personalization_consent=True)
    resident.client.post(
        "/api/v1/me/places/",
        {
            "label": "home",
            "name": PLACE_NAME,
            "radius_m": 500,
            "location": {"type": "Point", "coordinates": [4.83571, 45.76389]},
        },
        format="json",
    )
    published(NewsFactory())
    feed = resident.client.get("/api/v1/feed/?lat=45.76389&lon=4.83571")
    assert feed.status_code == 200, feed.content
    # Snapshot keys travel in cursors, in URLs (and access logs): random, naming no device.
    client = redis.Redis.from_url(REDIS_URL)
    snapshot_keys = [k.decode() for k in client.scan_iter(match="*feed:snapshot:*")]
    assert snapshot_keys
    assert all(re.fullmatch(r":1:feed:snapshot:[\w-]{16}", key) for key in snapshot_keys)
    resident.client.get("/api/v1/feed/")  # a second snapshot (pull to refresh)
    return resident


def _traces(client: redis.Redis, device_pk: int) -> list[bytes]:
    """Keys whose name or value tells something about the device.

    The erasure mark (``feed:device:<id>:erased``, value 1, 30 minutes) is not one: it holds
    only the random id of a device that no longer exists, so that a feed request racing with
    the erasure deletes its own snapshot.
    """
    found = []
    for key in client.scan_iter(count=1000):
        if key.endswith(f"feed:device:{device_pk}:erased".encode()):
            assert 0 < client.ttl(key) <= 30 * 60
            continue
        # Throttle logs are sorted sets of request times (``LoggedRateThrottle``).
        value = (client.get(key) if client.type(key) == b"string" else None) or b""
        if (
            PLACE_NAME.encode() in value
            or f"device-{device_pk}".encode() in key
            or f"feed:device:{device_pk}:".encode() in key
        ):
            found.append(key)
    return found


def test_device_erase_removes_feed_snapshots_and_throttles_from_redis(
    redis_cache, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    resident = _resident_with_a_personal_feed()
    pk = resident.device.pk
    assert _traces(redis_cache, pk), "the personal feed was not cached: the test proves nothing"

    with capture(execute=True):
        assert resident.client.delete("/api/v1/me/").status_code == 204

    assert _traces(redis_cache, pk) == []


def test_consent_withdrawal_removes_the_personal_feed_snapshots(redis_cache):
    """Withdrawing consent keeps the device (and its throttles) but drops its personal feed."""
    resident = _resident_with_a_personal_feed()
    pk = resident.device.pk

    response = resident.client.patch(
        "/api/v1/me/", {"personalization_consent": False}, format="json"
    )

    assert response.status_code == 200
    left = [key for key in _traces(redis_cache, pk) if b"throttle" not in key]
    assert left == []


def test_inactivity_purge_removes_the_device_from_redis(
    redis_cache, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from apps.residents.models import Device
    from apps.residents.services import devices_purge_inactive

    resident = _resident_with_a_personal_feed()
    pk = resident.device.pk
    Device.objects.filter(pk=pk).update(last_seen_at=timezone.now() - timedelta(days=400))

    with django_capture_on_commit_callbacks(execute=True):
        assert devices_purge_inactive() == 1

    assert _traces(redis_cache, pk) == []


def test_transfer_removes_the_old_device_from_redis(
    redis_cache, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    resident = _resident_with_a_personal_feed()
    pk = resident.device.pk
    code = resident.client.post("/api/v1/me/transfer-code/").json()["code"]

    with django_capture_on_commit_callbacks(execute=True):
        moved = APIClient().post(
            "/api/v1/devices/", {"platform": "ios", "transfer_code": code}, format="json"
        )

    assert moved.status_code == 201
    assert _traces(redis_cache, pk) == []
