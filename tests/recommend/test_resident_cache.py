"""The feed's cache of resident inputs: filled by a personal feed, dropped by every write that
changes what the feed reads about the device (``/me/`` places and interests, preferences,
interactions, erasure)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.recommend.online.resident_cache import resident_inputs_cached
from apps.residents.services import device_erase, interests_set, place_create
from tests.factories import CategoryFactory
from tests.recommend.feed_support import URL, add_place, consenting, here, interact, news

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("model_dir")]


def _key(resident) -> str:
    return f"feed:inputs:{resident.device.pk}"


def _cached(resident):
    return cache.get(_key(resident))


def test_a_personal_feed_caches_its_inputs_and_reads_them_back(django_assert_num_queries):
    resident = consenting()
    add_place(resident)
    news(100)
    assert resident.client.get(URL).status_code == 200
    inputs = _cached(resident)
    assert inputs is not None and len(inputs.places) == 1
    with django_assert_num_queries(0):
        assert resident_inputs_cached(device_id=resident.device.pk) == inputs


def test_places_interests_and_interactions_drop_the_cached_inputs():
    resident = consenting()
    item = news(100)
    resident.client.get(URL)
    assert _cached(resident) is not None
    place_create(device=resident.device, label="work", location=here(500, 0), radius_m=300)
    assert _cached(resident) is None
    assert len(resident_inputs_cached(device_id=resident.device.pk).places) == 1
    interests_set(
        device=resident.device, categories=[CategoryFactory()], areas=[], organizations=[]
    )
    assert _cached(resident) is None
    assert len(resident_inputs_cached(device_id=resident.device.pk).follows.categories) == 1
    body = {"events": [{"type": "news", "id": item.pk, "action": "open", "context": "feed",
                        "at": timezone.now().isoformat(), "event_id": "3f0b9a4e-2a57-4a43-9d7c-"
                        "0d6f4c1c2b11"}]}  # fmt: skip
    response = resident.client.post("/api/v1/interactions/", body, format="json")
    assert response.status_code == 202, response.content
    assert _cached(resident) is None
    history = resident_inputs_cached(device_id=resident.device.pk).history
    assert [(t, i) for t, i, *_ in history] == [("news", item.pk)]
    interact(resident, item, "save")  # a direct write (fixtures, the shell) drops it too
    assert _cached(resident) is None


def test_erasure_and_withdrawn_consent_reach_the_cached_inputs():
    resident = consenting()
    add_place(resident)
    resident.client.get(URL)
    assert _cached(resident) is not None
    response = resident.client.patch("/api/v1/me/", {"personalization_consent": False},
                                     format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    assert _cached(resident) is None
    other = consenting()
    other.client.get(URL)
    assert _cached(other) is not None
    device_erase(device=other.device)
    assert _cached(other) is None
