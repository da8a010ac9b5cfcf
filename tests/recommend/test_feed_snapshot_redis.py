"""Feed snapshots on Redis (the production cache): slots, rotation, erasure race, cell sharing.

``snapshot.snapshot_save`` writes with pipelines on Redis (two round trips for a personal
snapshot, one for a shared one) where the local-memory cache of the other tests takes the
plain cache calls; these tests run it against a real Redis server with the production backend.
"""

from __future__ import annotations

import os

import pytest
import redis
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.recommend.online.item_index import current_index
from apps.recommend.online.snapshot import (
    CURSOR_TTL,
    SHARED_TTL,
    SNAPSHOTS_PER_DEVICE,
    snapshots_forget,
)
from tests.recommend.feed_support import URL, add_place, consenting, event, news, works
from tests.recommend.feed_support import refs as refs_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("model_dir")]

#: A logical database of the shared Redis for cache tests (cleared before and after).
REDIS_URL = os.environ.get("TEST_ERASURE_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "apps.core.cache.FailOpenRedisCache", "LOCATION": REDIS_URL}
    }
    cache.clear()
    yield redis.Redis.from_url(REDIS_URL)
    cache.clear()


def _city() -> None:
    for k in range(9):
        (news, works, event)[k % 3](80 * k, 30 * (k % 4))


def _slots(client: redis.Redis, device_pk: int) -> dict[int, str]:
    prefix = f":1:feed:device:{device_pk}:"
    out = {}
    for key in client.scan_iter(match=f"{prefix}*"):
        suffix = key.decode()[len(prefix) :]
        if suffix.isdigit():
            out[int(suffix)] = cache.get(key.decode()[3:])
    return out


def test_personal_snapshots_keep_their_slots_and_the_last_ten_on_redis(redis_cache):
    resident = consenting()
    add_place(resident)
    _city()
    pk = resident.device.pk
    saved = SNAPSHOTS_PER_DEVICE + 2
    firsts = [resident.client.get(URL, {"page_size": 2}).json() for _ in range(saved)]

    slots = _slots(redis_cache, pk)
    assert sorted(slots) == list(range(3, saved + 1))
    assert all(cache.get(f"feed:snapshot:{key}") is not None for key in slots.values())
    assert 0 < redis_cache.ttl(f":1:feed:device:{pk}:n") <= CURSOR_TTL
    assert cache.get(f"feed:device:{pk}:n") == saved
    assert 0 < redis_cache.ttl(f":1:feed:snapshot:{slots[saved]}") <= CURSOR_TTL
    # The two oldest snapshots went with their slots: their cursors have expired.
    for first in firsts[:2]:
        response = resident.client.get(first["next"])
        assert response.status_code == 400
        assert "a expiré" in response.json()["fields"]["cursor"][0]
    for first in firsts[2:]:
        assert resident.client.get(first["next"]).status_code == 200

    snapshots_forget(device_id=pk, erased=False)
    assert _slots(redis_cache, pk) == {}
    assert not [k for k in redis_cache.scan_iter(match=":1:feed:snapshot:*")]


def test_a_snapshot_saved_after_the_erasure_mark_is_deleted_at_once(redis_cache):
    resident = consenting()
    add_place(resident)
    _city()
    pk = resident.device.pk
    cache.set(f"feed:device:{pk}:erased", 1, CURSOR_TTL)

    first = resident.client.get(URL, {"page_size": 2})

    assert first.status_code == 200 and first.json()["results"]
    assert _slots(redis_cache, pk) == {}
    assert not [k for k in redis_cache.scan_iter(match=":1:feed:snapshot:*")]


def test_an_anonymous_snapshot_is_shared_by_its_cell_on_redis(redis_cache):
    _city()
    query = {"lat": "45.7640", "lon": "4.8357", "page_size": 2}
    first = APIClient().get(URL, query)
    again = APIClient().get(URL, query)

    assert first["X-Feed-Snapshot"] == "ranked"
    assert again["X-Feed-Snapshot"] == "shared"
    assert again.json()["results"] == first.json()["results"]
    # The same snapshot (cursors differ only by their signing second).
    assert again.json()["next"].split("%3A")[0] == first.json()["next"].split("%3A")[0]
    assert 0 < redis_cache.ttl(":1:feed:shared:4.836,45.764") <= SHARED_TTL
    assert APIClient().get(first.json()["next"]).status_code == 200


def test_a_ranked_anonymous_first_page_takes_two_round_trips(redis_cache, round_trips):
    """The throttle's script reads the generation and the cell's shared key with it; the
    snapshot is written in the round trip that reads the page's fragments."""
    _city()
    assert APIClient().get(URL, {"lat": "45.7000", "lon": "4.8000"}).status_code == 200  # warm
    round_trips.clear()

    first = APIClient().get(URL, {"lat": "45.7640", "lon": "4.8357", "page_size": 2})

    assert first.status_code == 200 and first["X-Feed-Snapshot"] == "ranked"
    assert round_trips == [["EVALSHA", "MGET"], ["SET", "SET", "MGET"]]
    assert 0 < redis_cache.ttl(":1:feed:shared:4.836,45.764") <= SHARED_TTL
    (saved,) = list(redis_cache.scan_iter(match=":1:feed:snapshot:*"))[:1] or [None]
    assert saved is not None and 0 < redis_cache.ttl(saved) <= CURSOR_TTL
    following = APIClient().get(first.json()["next"])
    assert following.status_code == 200 and following.json()["results"]
    assert not set(refs_of(following.json())) & set(refs_of(first.json()))


def test_snapshot_writes_go_alone_when_no_fragment_is_read(redis_cache, round_trips, settings):
    settings.API_FRAGMENT_SECONDS = 0  # fragments off: the page has no cache read to ride on
    _city()
    assert APIClient().get(URL, {"lat": "45.7000", "lon": "4.8000"}).status_code == 200
    round_trips.clear()

    first = APIClient().get(URL, {"lat": "45.7640", "lon": "4.8357", "page_size": 2})

    assert first.status_code == 200 and first["X-Feed-Snapshot"] == "ranked"
    assert round_trips == [["EVALSHA", "MGET"], ["SET", "SET"]]
    assert APIClient().get(first.json()["next"]).status_code == 200


def test_a_personal_first_page_reads_its_inputs_with_the_throttle(redis_cache, round_trips):
    resident = consenting()
    add_place(resident)
    _city()
    assert resident.client.get(URL, {"page_size": 2}).status_code == 200  # inputs now cached
    round_trips.clear()

    again = resident.client.get(URL, {"page_size": 2})

    assert again.status_code == 200 and again.json()["personalized"] is True
    # The throttle's with the generation and the inputs; the snapshot's slot (two); the page.
    assert round_trips == [
        ["EVALSHA", "MGET"],
        ["SET", "INCRBY"],
        ["SET", "SET", "EXPIRE", "GET"],
        ["MGET"],
    ]


def test_a_near_list_from_the_index_takes_two_round_trips(redis_cache, round_trips, settings):
    """The index's generation tokens ride on the throttle's script; the page's fragments."""
    settings.API_CACHE_SECONDS = 0
    _city()
    near = {"near": "45.7640,4.8357", "radius": 2000}
    current_index()  # built (a list request never builds it: the SQL path answers meanwhile)
    assert APIClient().get("/api/v1/works/", near).status_code == 200
    round_trips.clear()

    listed = APIClient().get("/api/v1/works/", near)

    assert listed.status_code == 200 and listed.json()["results"]
    assert round_trips == [["EVALSHA", "MGET"], ["MGET"]]


def test_a_cached_list_is_answered_in_the_throttles_round_trip(redis_cache, round_trips, settings):
    settings.API_CACHE_SECONDS = 60
    _city()
    first = APIClient().get("/api/v1/news/")
    assert first.status_code == 200 and first["X-Cache"] == "miss"
    round_trips.clear()

    again = APIClient().get("/api/v1/news/")

    assert again.status_code == 200 and again["X-Cache"] == "hit"
    assert again.content == first.content
    assert round_trips == [["EVALSHA", "MGET"]]
