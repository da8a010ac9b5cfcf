"""Feed snapshots in Redis that this release cannot use: rebuilt or expired, never a 500.

Redis outlives a release and is shared by every web process: during a rolling deploy (and
when two bench servers share a Redis database) a snapshot written by other code sits under the
keys this code reads — a class that moved (the pre-split ``apps.recommend.feed.snapshot``), a
snapshot without a field added since, arrays of another length. Real Redis (a private server),
the values written as the other code would write them; never mocks.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest
import redis
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.core.cache import cache_available
from backend.settings import cache_settings
from tests.factories import CENTRE_LAT, CENTRE_LON
from tests.faults.other_release import old_release_snapshot
from tests.recommend.feed_support import URL, event, news, works

pytestmark = pytest.mark.django_db

FIRST_PAGE = f"{URL}?lat={CENTRE_LAT}&lon={CENTRE_LON}&page_size=2"


@pytest.fixture
def live_cache(settings, redis_server, tmp_path):
    settings.RECOMMENDER_MODEL_DIR = str(tmp_path / "models")
    settings.CACHES = {"default": cache_settings(redis_server.url)}
    for k in range(6):
        (news, works, event)[k % 3](60 * k, 40 * (k % 5))
    return redis.Redis.from_url(redis_server.url)


def _stored_snapshot_key(client: redis.Redis) -> bytes:
    """The Redis key of the one snapshot the first page stored (shared by its grid cell)."""
    (key,) = client.keys("*feed:snapshot:*")
    assert isinstance(key, bytes)
    return key


def _snapshot_name(key: bytes) -> str:
    return key.decode().split(":", 2)[-1]  # without Django's "<prefix>:<version>:"


def _first_page(client: APIClient):
    response = client.get(FIRST_PAGE)
    assert response.status_code == 200, response.content[:500]
    assert len(response.json()["results"]) == 2
    return response


def _assert_cursor_expired(client: APIClient, first) -> None:
    response = client.get(first.json()["next"])
    assert response.status_code == 400, response.content[:500]
    assert "a expiré" in response.json()["fields"]["cursor"][0]


def test_feed_snapshot_of_another_release_is_rebuilt_not_500(live_cache, caplog):
    client = APIClient()
    first = _first_page(client)
    key = _stored_snapshot_key(live_cache)
    live_cache.set(key, old_release_snapshot(), ex=60)

    with caplog.at_level(logging.WARNING, logger="apps.core.cache"):
        again = _first_page(client)  # the cell's shared snapshot is unreadable: ranked again
        _assert_cursor_expired(client, first)

    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first.json()["results"]]
    assert cache_available()  # Redis answered: an unreadable value is no outage
    logged = [r.getMessage() for r in caplog.records if r.name == "apps.core.cache"]
    assert len(logged) == 1 and "No module named 'apps.recommend.feed'" in logged[0], logged


@pytest.mark.parametrize("damage", ["missing_field", "short_arrays", "foreign_object"])
def test_feed_snapshot_of_another_shape_is_rebuilt_not_500(live_cache, damage):
    client = APIClient()
    first = _first_page(client)
    name = _snapshot_name(_stored_snapshot_key(live_cache))
    snapshot = cache.get(name)
    if damage == "missing_field":  # written by a release without a field added since
        object.__delattr__(snapshot, "area_names")
    elif damage == "short_arrays":
        snapshot = replace(snapshot, scores=snapshot.scores[:-1], pinned=np.zeros(1, dtype=bool))
    else:
        snapshot = {"key": snapshot.key}
    cache.set(name, snapshot, 60)

    again = _first_page(client)
    _assert_cursor_expired(client, first)

    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first.json()["results"]]
