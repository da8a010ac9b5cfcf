"""iCalendar feeds (RFC 5545), parsed back with the icalendar library."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.events.models import EventOccurrence
from apps.events.services import event_cancel, event_save
from tests.api_support import published_event
from tests.factories import VenueFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def _calendar(path: str, params=None) -> icalendar.Calendar:
    response = APIClient().get(path, params or {})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def _events(calendar: icalendar.Calendar) -> list[icalendar.Event]:
    return list(calendar.walk("VEVENT"))


def test_one_event_with_recurrence_place_and_stable_uid(mobility, settings):
    start = datetime(2030, 3, 23, 18, 0, tzinfo=PARIS)  # a Saturday, winter time
    venue = VenueFactory(name="Kiosque", address="Parc de la Tête d'Or", city="Lyonnay")
    event = published_event(
        category=mobility,
        title_fr="Concert au parc",
        summary_fr="Orchestre municipal.",
        start_at=start,
        end_at=start + timedelta(hours=2),
        rrule="FREQ=WEEKLY;COUNT=3",
        venue=venue,
        geometry=venue.location,
    )
    EventOccurrence.objects.create(
        event=event, start_at=start + timedelta(days=30), end_at=start + timedelta(days=30, hours=2)
    )
    path = f"/api/v1/events/{event.pk}/ical/"

    calendar = _calendar(path)
    (vevent,) = _events(calendar)

    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert vevent["UID"] == f"{event.uuid}@127.0.0.1"
    assert str(vevent["SUMMARY"]) == "Concert au parc"
    assert "Orchestre municipal." in str(vevent["DESCRIPTION"])
    assert vevent.decoded("DTSTART") == start
    assert vevent.decoded("DTSTART").tzinfo.key == "Europe/Paris"  # wall-clock kept over DST
    assert vevent.decoded("DTEND") == start + timedelta(hours=2)
    assert vevent["RRULE"]["FREQ"] == ["WEEKLY"] and vevent["RRULE"]["COUNT"] == [3]
    rdates = [d.dt for d in vevent["RDATE"].dts]
    assert rdates == [start + timedelta(days=30)]
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert vevent["SEQUENCE"] == 0
    assert "Kiosque" in str(vevent["LOCATION"]) and "Lyonnay" in str(vevent["LOCATION"])
    assert (vevent["GEO"].latitude, vevent["GEO"].longitude) == (
        round(venue.location.y, 6),
        round(venue.location.x, 6),
    )
    # The public page (apps.site), not the API detail: calendars show it to people.
    assert str(vevent["URL"]) == f"{settings.SITE_URL}/events/{event.pk}-concert-au-parc/"
    assert [str(c) for c in vevent["CATEGORIES"].cats] == ["Mobilité"]

    event.title_fr = "Concert au parc (nouvel horaire)"
    event.start_at += timedelta(hours=1)
    event.end_at += timedelta(hours=1)
    event_save(event=event)
    (moved,) = _events(_calendar(path))
    assert moved["UID"] == vevent["UID"]  # same event for calendars
    assert moved["SEQUENCE"] == 1  # a material change is a new revision


def test_cancelled_event_stays_with_status_cancelled(mobility):
    event = published_event()
    event_cancel(event=event)

    (vevent,) = _events(_calendar(f"/api/v1/events/{event.pk}/ical/"))

    assert str(vevent["STATUS"]) == "CANCELLED"
    assert vevent["SEQUENCE"] == 1
    feed = _events(_calendar("/api/v1/events/ical/"))
    assert [str(v["STATUS"]) for v in feed] == ["CANCELLED"]


def test_all_day_events_use_dates(mobility):
    start = datetime(2030, 7, 14, 0, 0, tzinfo=PARIS)
    event = published_event(
        start_at=start,
        end_at=start + timedelta(days=1, hours=23),
        has_start_time=False,
        has_end_time=False,
    )
    (vevent,) = _events(_calendar(f"/api/v1/events/{event.pk}/ical/"))
    assert vevent.decoded("DTSTART") == date(2030, 7, 14)
    assert vevent.decoded("DTEND") == date(2030, 7, 15)  # exclusive end


def test_feed_applies_the_list_filters(mobility, culture):
    soon = timezone.now() + timedelta(days=1)
    concert = published_event(category=culture, title_fr="Concert", start_at=soon)
    published_event(category=mobility, title_fr="Atelier vélo", start_at=soon)

    calendar = _calendar("/api/v1/events/ical/", {"category": "culture"})

    assert [str(v["SUMMARY"]) for v in _events(calendar)] == ["Concert"]
    assert _events(calendar)[0]["UID"] == f"{concert.uuid}@127.0.0.1"
    assert str(calendar["X-WR-CALNAME"])
    everything = _calendar("/api/v1/events/ical/")
    assert len(_events(everything)) == 2


def test_feed_ignores_the_accept_header_and_has_validators(mobility):
    published_event()
    response = APIClient().get("/api/v1/events/ical/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    again = APIClient().get("/api/v1/events/ical/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
