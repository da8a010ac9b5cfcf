"""Saved items: ``/me/saved/`` list, create, read, delete; only public items can be saved."""

from __future__ import annotations

import pytest

from apps.core.services import content_archive, content_delete
from apps.residents.models import SavedItem
from tests.factories import EventFactory, NewsFactory, WorksFactory
from tests.residents.factories import published

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/saved/"


@pytest.fixture
def news():
    return published(NewsFactory(title_fr="Fête du quartier", title_en="Street party"))


def test_saved_item_create_then_list(resident, news):
    event = published(EventFactory())

    first = resident.client.post(URL, {"type": "news", "id": news.pk}, format="json")
    resident.client.post(URL, {"type": "events", "id": event.pk}, format="json")

    assert first.status_code == 201
    assert first.json()["type"] == "news"
    assert first.json()["id"] == news.pk
    assert first.json()["available"] is True
    listing = resident.client.get(URL, HTTP_ACCEPT_LANGUAGE="en").json()
    assert listing["count"] == 2
    assert [(r["type"], r["id"]) for r in listing["results"]] == [
        ("events", event.pk),
        ("news", news.pk),
    ]
    assert listing["results"][1]["title"] == "Street party"


def test_saving_twice_is_harmless(resident, news):
    assert (
        resident.client.post(URL, {"type": "news", "id": news.pk}, format="json").status_code == 201
    )

    again = resident.client.post(URL, {"type": "news", "id": news.pk}, format="json")

    assert again.status_code == 200
    assert SavedItem.objects.filter(device=resident.device).count() == 1


def test_saved_list_query_count_is_constant(resident, django_assert_num_queries):
    for factory in (NewsFactory, WorksFactory, EventFactory) * 4:
        item = published(factory())
        SavedItem.objects.create(device=resident.device, item_type=item.type_code, item_id=item.pk)

    # token + count + page + one query per content type
    with django_assert_num_queries(6):
        response = resident.client.get(URL)

    assert response.json()["count"] == 12
    assert all(row["available"] for row in response.json()["results"])


def test_saved_item_that_stopped_being_public_stays_listed_as_unavailable(resident, news):
    resident.client.post(URL, {"type": "news", "id": news.pk}, format="json")

    content_archive(item=news)

    row = resident.client.get(URL).json()["results"][0]
    assert (row["id"], row["available"], row["title"]) == (news.pk, False, None)


def test_deleted_item_disappears_from_saved_lists(resident, other_resident, news):
    resident.client.post(URL, {"type": "news", "id": news.pk}, format="json")
    other_resident.client.post(URL, {"type": "news", "id": news.pk}, format="json")

    content_delete(item=news)

    assert not SavedItem.objects.exists()


def test_saved_item_detail_and_delete(resident, news):
    resident.client.post(URL, {"type": "news", "id": news.pk}, format="json")
    detail = f"{URL}news/{news.pk}/"

    assert resident.client.get(detail).json()["id"] == news.pk
    assert resident.client.delete(detail).status_code == 204
    assert resident.client.get(detail).status_code == 404
    assert resident.client.delete(detail).status_code == 404


@pytest.mark.parametrize(
    "path", ["news/999999/", "videos/1/", "news/abc/", "news/99999999999999999999999/", "news/"]
)
def test_saved_item_detail_unknown_is_404(resident, news, path):
    response = resident.client.get(f"{URL}{path}")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_only_public_items_can_be_saved(resident):
    draft = NewsFactory()
    event = published(EventFactory())

    for body in ({"type": "news", "id": draft.pk}, {"type": "works", "id": event.pk}):
        response = resident.client.post(URL, body, format="json")
        assert response.status_code == 400
        assert "id" in response.json()["fields"]
    assert not SavedItem.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "videos", "id": 1}, "type"),
        ({"type": "news"}, "id"),
        ({"type": "news", "id": 0}, "id"),
        ({"type": "news", "id": -5}, "id"),
        ({"type": "news", "id": 2**63}, "id"),
        ({"type": "news", "id": "one"}, "id"),
        ({"type": "news", "id": 1, "note": "for later"}, "note"),
    ],
)
def test_saved_item_create_rejects_bad_input(resident, news, body, field):
    response = resident.client.post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not SavedItem.objects.exists()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("page_size=abc", 400),
        ("page_size=0", 400),
        ("page=last", 400),
        ("page=", 400),
        ("page=9", 404),
        ("page_size=2", 200),
    ],
)
def test_saved_list_pagination_parameters_are_validated(resident, query, status):
    response = resident.client.get(f"{URL}?{query}")

    assert response.status_code == status
