"""Incremental sync: ``updated_since`` for changes, ``/api/v1/removed/`` for removals."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from apps.core.services import content_archive, content_delete, content_publish, content_save
from tests.api_support import published_event, published_news, published_works

pytestmark = pytest.mark.django_db


def _ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_a_client_learns_changes_and_removals_since_its_last_sync(mobility):
    client = APIClient()
    with time_machine.travel("2026-03-01T08:00:00Z", tick=False):
        changed, archived, deleted, untouched = (published_news() for _ in range(4))
        works = published_works()
    with time_machine.travel("2026-03-01T09:00:00Z", tick=False):
        first_sync = client.get("/api/v1/news/", {"ordering": "updated_at"}).json()["results"]
        last_seen = first_sync[-1]["updated_at"]

    with time_machine.travel("2026-03-02T10:00:00Z", tick=False):
        changed.title_fr = "Corrigé"
        content_save(item=changed)
        content_archive(item=archived)
        deleted_id = deleted.pk
        content_delete(item=deleted)
        content_archive(item=works)
        created = published_news()

    with time_machine.travel("2026-03-02T11:00:00Z", tick=False):
        updates = client.get(
            "/api/v1/news/", {"updated_since": last_seen, "ordering": "updated_at"}
        )
        removed = client.get("/api/v1/removed/", {"since": last_seen})
        removed_news = client.get("/api/v1/removed/", {"since": last_seen, "type": "news"})

    # updated_since is inclusive: the items at the boundary come again (harmless).
    assert set(_ids(updates)) - {untouched.pk} == {changed.pk, created.pk}
    rows = removed.json()["results"]
    assert removed.json()["count"] == 3
    assert {(r["type"], r["id"], r["reason"]) for r in rows} == {
        ("news", archived.pk, "archived"),
        ("news", deleted_id, "deleted"),
        ("works", works.pk, "archived"),
    }
    assert {r["type"] for r in removed_news.json()["results"]} == {"news"}


def test_an_item_that_comes_back_leaves_the_removed_list(mobility):
    event = published_event()
    content_archive(item=event)
    assert [r["id"] for r in APIClient().get("/api/v1/removed/").json()["results"]] == [event.pk]

    content_publish(item=event)

    assert APIClient().get("/api/v1/removed/").json()["count"] == 0
    listed = APIClient().get("/api/v1/events/", {"updated_since": "2000-01-01T00:00:00Z"})
    assert _ids(listed) == [event.pk]


def test_removed_list_is_oldest_first_and_paginated(mobility):
    items = [published_news() for _ in range(5)]
    for minute, item in enumerate(items):
        with time_machine.travel(f"2026-03-02T10:0{minute}:00Z", tick=False):
            content_archive(item=item)

    page = APIClient().get("/api/v1/removed/", {"page_size": 2, "page": 2}).json()

    assert page["count"] == 5
    assert [row["id"] for row in page["results"]] == [items[2].pk, items[3].pk]
