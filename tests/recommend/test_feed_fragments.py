"""The feed splices pre-rendered items: the same bytes as live serialization, fresh data."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from apps.core.api.items import items_fetch, serialize_items
from apps.core.services import content_save
from tests.recommend.feed_support import URL, at, event, news, snapped, works

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("model_dir")]


@pytest.fixture
def small_city():
    items = []
    for k in range(6):
        items.append(news(120 * k, 40 * k))
        items.append(works(-90 * k, 30 * k))
        items.append(event(60 * k, -70 * k))
    return items


def _live_items(body, language):
    """What the feed's items were before fragments: serialize_items + score and reasons."""
    from django.utils import translation

    refs = [(item["type"], item["id"]) for item in body["results"]]
    with translation.override(language):
        data = serialize_items(items_fetch(refs, near=snapped()))
    for row, item in zip(data, body["results"], strict=True):
        row["score"], row["reasons"] = item["score"], item["reasons"]
    return [JSONRenderer().render(row) for row in data]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_feed_items_are_byte_identical_cold_and_warm(small_city, language):
    client = APIClient()
    lon, lat = at()
    params = {"lat": lat, "lon": lon, "page_size": 18}
    cold = client.get(URL, params, HTTP_ACCEPT_LANGUAGE=language)
    warm = client.get(URL, params, HTTP_ACCEPT_LANGUAGE=language)  # shared snapshot, warm
    assert cold.status_code == warm.status_code == 200
    assert warm.content == cold.content
    body = cold.json()
    assert len(body["results"]) == 18
    expected = _live_items(body, language)
    for item, raw in zip(body["results"], expected, strict=True):
        assert raw in cold.content, item["id"]
    with override_settings(API_FRAGMENT_SECONDS=0):
        live = client.get(URL, params, HTTP_ACCEPT_LANGUAGE=language)
    assert live.content == cold.content


def test_an_edited_item_shows_its_new_title_in_the_feed(small_city):
    client = APIClient()
    lon, lat = at()
    params = {"lat": lat, "lon": lon, "page_size": 18}
    first = client.get(URL, params).json()
    target = next(
        i
        for i in small_city
        if i.pk == first["results"][0]["id"] and i.type_code == first["results"][0]["type"]
    )
    target.title_fr = "Titre corrigé"
    content_save(item=target)
    again = client.get(URL, params).json()
    titles = {(i["type"], i["id"]): i["title"] for i in again["results"]}
    assert titles[(target.type_code, target.pk)] == "Titre corrigé"
