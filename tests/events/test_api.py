"""Events API: occurrence-aware date filters, free/audience, next dates, publishing, status."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from apps.events.models import Event, EventOccurrence, EventStatus, Venue
from tests.api_support import key_client, published_event
from tests.factories import VenueFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/events/"
T0 = "2026-06-01T10:00:00+02:00"


def _ids(params=None) -> list[int]:
    response = APIClient().get(URL, params or {})
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def _day(n: int, hour: int = 20):
    base = timezone.localtime().replace(hour=hour, minute=0, second=0, microsecond=0)
    return base + timedelta(days=n)


@time_machine.travel(T0, tick=False)
def test_start_window_looks_at_every_occurrence(mobility):
    weekly = published_event(start_at=_day(2), end_at=_day(2, 22), rrule="FREQ=WEEKLY;COUNT=4")
    single = published_event(start_at=_day(3), end_at=_day(3, 22))
    # Occurrences before and after the window, none inside it: not a match.
    around = published_event(start_at=_day(5), end_at=_day(5, 22))
    EventOccurrence.objects.create(event=around, start_at=_day(30), end_at=_day(30, 22))

    window = {"starts_after": _day(15, 0).isoformat(), "starts_before": _day(17, 0).isoformat()}
    assert _ids(window) == [weekly.pk]  # its third occurrence, day 16
    assert set(_ids({"starts_after": _day(3, 0).isoformat()})) == {weekly.pk, single.pk, around.pk}
    assert _ids({"starts_before": _day(3, 0).isoformat()}) == [weekly.pk]


@time_machine.travel(T0, tick=False)
def test_next_dates_and_default_ordering(mobility):
    later = published_event(start_at=_day(9), end_at=_day(9, 22))
    series = published_event(
        start_at=_day(-12), end_at=_day(-12, 22), rrule="FREQ=WEEKLY;COUNT=4"
    )  # started 12 days ago: days -12, -5, 2 and 9
    soon = published_event(start_at=_day(1), end_at=_day(1, 22))

    results = APIClient().get(URL).json()["results"]

    assert [item["id"] for item in results] == [soon.pk, series.pk, later.pk]
    item = next(r for r in results if r["id"] == series.pk)
    assert item["next_start_at"] == _day(2).isoformat()
    assert item["next_end_at"] == _day(2, 22).isoformat()
    assert item["start_at"] == _day(-12).isoformat() and item["is_recurring"] is True


def test_free_and_audience_filters(mobility):
    free = published_event(is_free=True, audience="children")
    paying = published_event(is_free=False, price_min="12.50", audience="adults")

    assert _ids({"free": "true"}) == [free.pk]
    assert _ids({"free": "false"}) == [paying.pk]
    assert set(_ids({"audience": "children,adults"})) == {free.pk, paying.pk}
    assert _ids({"audience": "adults"}) == [paying.pk]


def test_detail_has_occurrences_venue_offers_and_ical_link(mobility, settings):
    venue = VenueFactory(name="Kiosque", city="Lyonnay")
    event = published_event(
        venue=venue,
        rrule="FREQ=DAILY;COUNT=2",
        is_free=False,
        price_min="5.00",
        price_info_fr="Tarif réduit 3 €",
        ticket_url="https://billets.example/1",
        registration_required=True,
        registration_url="https://ville.example/inscription",
        age_min=6,
        age_max=12,
        accessibility=["motor", "hearing"],
    )

    data = APIClient().get(f"{URL}{event.pk}/").json()

    assert len(data["occurrences"]) == 2
    assert data["venue"]["name"] == "Kiosque" and data["venue"]["location"]["type"] == "Point"
    assert data["offers"] == {
        "is_free": False,
        "price_min": "5.00",
        "price_info": "Tarif réduit 3 €",
        "ticket_url": "https://billets.example/1",
    }
    assert data["registration"] == {"required": True, "url": "https://ville.example/inscription"}
    assert (data["age_min"], data["age_max"]) == (6, 12)
    assert data["accessibility"] == ["motor", "hearing"]
    assert data["ical_url"] == f"{settings.SITE_URL}/api/v1/events/{event.pk}/ical/"


def test_publishing_an_event_with_venue_extra_dates_and_recurrence(city, mobility):
    existing = VenueFactory(name="Salle des fêtes", address="1 place de la Mairie")
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    body = {
        "title_fr": "Atelier vélo",
        "category": "mobilite",
        "start_at": start.isoformat(),
        "end_at": (start + timedelta(hours=2)).isoformat(),
        "rrule": "FREQ=WEEKLY;COUNT=3",
        "extra_dates": [
            {
                "start_at": (start + timedelta(days=40)).isoformat(),
                "end_at": (start + timedelta(days=40, hours=3)).isoformat(),
            }
        ],
        "venue": {
            "name": "Salle des fêtes",
            "address": "1 place de la Mairie",
            "location": {"type": "Point", "coordinates": [4.84, 45.77]},
        },
        "status": "published",
    }

    response = key_client(city).post(URL, body, format="json")

    assert response.status_code == 201, response.content
    event = Event.objects.get(pk=response.json()["id"])
    assert event.venue == existing  # reused by name and address
    existing.refresh_from_db()
    assert existing.location.coords == (4.84, 45.77)
    assert event.geometry.coords == (4.84, 45.77)  # the venue's point
    assert event.occurrences.count() == 4
    assert event.last_end_at == start + timedelta(days=40, hours=3)
    assert len(response.json()["extra_dates"]) == 1
    assert Venue.objects.count() == 1


def test_cancelling_bumps_the_sequence_and_keeps_the_event_listed(city, mobility):
    event = published_event(organization=city)
    client = key_client(city)

    response = client.patch(f"{URL}{event.pk}/", {"event_status": "cancelled"}, format="json")

    assert response.status_code == 200
    event.refresh_from_db()
    assert event.event_status == EventStatus.CANCELLED
    assert event.sequence == 1
    listed = APIClient().get(URL).json()["results"]
    assert [(item["id"], item["event_status"]) for item in listed] == [(event.pk, "cancelled")]

    postponed = published_event(organization=city)
    client.patch(f"{URL}{postponed.pk}/", {"event_status": "postponed"}, format="json")
    assert Event.objects.get(pk=postponed.pk).event_status == EventStatus.POSTPONED


def test_publishing_an_event_that_is_already_over_is_refused_and_rolled_back(city, mobility):
    past = timezone.now() - timedelta(days=2)
    response = key_client(city).post(
        URL,
        {
            "title_fr": "Trop tard",
            "category": "mobilite",
            "start_at": past.isoformat(),
            "end_at": (past + timedelta(hours=1)).isoformat(),
            "status": "published",
        },
        format="json",
    )
    # content_publish refuses (the event is over): 400, and the draft it saved is rolled back.
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert not Event.objects.exists()


def test_patching_the_venue_moves_the_event_unless_a_geometry_comes_with_it(city, mobility):
    event = published_event(organization=city, category=mobility, venue=VenueFactory())
    venue = {
        "name": "Kiosque",
        "address": "Parc",
        "location": {"type": "Point", "coordinates": [4.85, 45.78]},
    }
    client = key_client(city)

    moved = client.patch(f"{URL}{event.pk}/", {"venue": venue}, format="json")
    assert moved.status_code == 200, moved.content
    assert Event.objects.get(pk=event.pk).geometry.coords == (4.85, 45.78)

    drawn = {"type": "Point", "coordinates": [4.86, 45.79]}
    kept = client.patch(
        f"{URL}{event.pk}/", {"venue": {**venue, "name": "Scène"}, "geometry": drawn}, format="json"
    )
    assert kept.status_code == 200, kept.content
    assert Event.objects.get(pk=event.pk).geometry.coords == (4.86, 45.79)
