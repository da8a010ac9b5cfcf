"""Only public items are ever visible: lists, counts, details, GeoJSON, search, iCalendar, feed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.api.items import items_fetch
from apps.core.models import Status
from apps.events.services import event_save
from tests.api_support import published_event, published_news, published_works
from tests.factories import CENTRE_LAT, CENTRE_LON, EventFactory, NewsFactory, WorksFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now
TITLE = "Travaux secrets"


def _hidden_states() -> dict[str, dict]:
    past, future = NOW() - timedelta(days=3), NOW() + timedelta(days=3)
    return {
        "draft": {"status": Status.DRAFT},
        "scheduled": {"status": Status.SCHEDULED, "publish_at": future},
        "published later": {"status": Status.PUBLISHED, "publish_at": future},
        "expired": {
            "status": Status.PUBLISHED,
            "publish_at": past - timedelta(days=1),
            "expires_at": past,
        },
        "archived": {"status": Status.ARCHIVED, "publish_at": past},
    }


def _hidden(kind: str) -> list[int]:
    ids = []
    for fields in _hidden_states().values():
        if kind == "news":
            ids.append(NewsFactory(title_fr=TITLE, **fields).pk)
        elif kind == "works":
            ids.append(WorksFactory(title_fr=TITLE, **fields).pk)
        else:
            event = EventFactory(title_fr=TITLE, **fields)
            event_save(event=event)
            ids.append(event.pk)
    past = NOW() - timedelta(days=1)
    if kind == "works":  # published, but finished
        ids.append(
            WorksFactory(
                title_fr=TITLE,
                status=Status.PUBLISHED,
                publish_at=past - timedelta(days=5),
                start_at=past - timedelta(days=4),
                end_at=past,
            ).pk
        )
    if kind == "events":  # published, but over
        event = EventFactory(
            title_fr=TITLE,
            status=Status.PUBLISHED,
            publish_at=past - timedelta(days=5),
            start_at=past - timedelta(hours=3),
            end_at=past,
        )
        event_save(event=event)
        ids.append(event.pk)
    return ids


MAKERS = {"news": published_news, "works": published_works, "events": published_event}


@pytest.mark.parametrize("kind", ["news", "works", "events"])
def test_only_public_items_are_listed_counted_shown_and_found(kind):
    public = MAKERS[kind](title_fr=TITLE)
    hidden = _hidden(kind)
    client = APIClient()
    base = f"/api/v1/{kind}/"

    for params in (
        {},
        {"q": "travaux"},
        {"near": f"{CENTRE_LAT},{CENTRE_LON}", "radius": 5000},
        {"updated_since": "2000-01-01T00:00:00Z"},
    ):
        body = client.get(base, params).json()
        assert body["count"] == 1, (params, body)
        assert [item["id"] for item in body["results"]] == [public.pk]
    geojson = client.get(base, {"format": "geojson"}).json()
    assert geojson["count"] == 1
    assert [feature["id"] for feature in geojson["features"]] == [public.pk]
    assert client.get(f"{base}{public.pk}/").status_code == 200
    for pk in hidden:
        assert client.get(f"{base}{pk}/").status_code == 404
        assert client.get(f"{base}{pk}/", {"format": "geojson"}).status_code == 404
    refs = [(kind, public.pk)] + [(kind, pk) for pk in hidden]
    assert [item.pk for item in items_fetch(refs)] == [public.pk]


def test_hidden_events_never_reach_icalendar():
    public = published_event(title_fr="Concert public")
    hidden = _hidden("events")
    client = APIClient()

    feed = client.get("/api/v1/events/ical/").content.decode()

    assert "Concert public" in feed and TITLE not in feed
    assert client.get(f"/api/v1/events/{public.pk}/ical/").status_code == 200
    for pk in hidden:
        assert client.get(f"/api/v1/events/{pk}/ical/").status_code == 404
