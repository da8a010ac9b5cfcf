"""event_apply: the rules of an event write, whoever writes (API, admin)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.core.models import Status
from apps.core.services import content_publish
from apps.events.models import Event, EventOccurrence, EventStatus, Venue
from apps.events.services import event_apply
from apps.notifications.models import Kind, Notification
from tests.factories import CENTRE_LAT, CENTRE_LON, VenueFactory
from tests.notifications.helpers import phone

pytestmark = pytest.mark.django_db
ELSEWHERE = Point(CENTRE_LON + 0.01, CENTRE_LAT, srid=4326)


def _data(category, **extra):
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    return {
        "title_fr": "Concert au parc",
        "category": category,
        "start_at": start,
        "end_at": start + timedelta(hours=2),
        **extra,
    }


def _venue(**extra):
    return {
        "name": "Kiosque",
        "address": "Parc de la Tête d'Or",
        "location": Point(CENTRE_LON, CENTRE_LAT, srid=4326),
        **extra,
    }


def test_event_apply_creates_an_event_at_its_venue_with_extra_dates(city, culture):
    data = _data(culture, venue=_venue(), rrule="FREQ=WEEKLY;COUNT=2")
    extra = data["start_at"] + timedelta(days=30)
    data["extra_dates"] = [{"start_at": extra, "end_at": extra + timedelta(hours=1)}]

    event = event_apply(data=data, organization=city)

    stored = Event.objects.get(pk=event.pk)
    assert stored.status == Status.DRAFT and stored.event_status == EventStatus.SCHEDULED
    assert stored.venue == Venue.objects.get(name="Kiosque")
    assert stored.geometry == stored.venue.location
    origins = sorted(stored.occurrences.values_list("origin", flat=True))
    assert origins == ["extra", "main", "rule"]
    assert stored.last_end_at == extra + timedelta(hours=1)


def test_event_apply_reuses_a_venue_by_name_and_address(city, culture):
    existing = VenueFactory(name="Kiosque", address="Parc de la Tête d'Or")

    event = event_apply(data=_data(culture, venue=_venue(location=ELSEWHERE)), organization=city)

    assert event.venue == existing and Venue.objects.count() == 1
    existing.refresh_from_db()
    assert existing.location == ELSEWHERE  # the venue is updated with the body's fields


def test_event_apply_a_new_venue_moves_an_existing_event(city, culture):
    event = event_apply(data=_data(culture, venue=_venue()), organization=city)

    event_apply(event=event, data={"venue": _venue(name="Scène", location=ELSEWHERE)})

    assert Event.objects.get(pk=event.pk).geometry == ELSEWHERE


def test_event_apply_a_venue_with_a_drawn_geometry_keeps_the_drawing(city, culture):
    event = event_apply(data=_data(culture, venue=_venue()), organization=city)
    route = Point(CENTRE_LON - 0.01, CENTRE_LAT, srid=4326)

    event_apply(
        event=event, data={"venue": _venue(name="Scène", location=ELSEWHERE), "geometry": route}
    )

    assert Event.objects.get(pk=event.pk).geometry == route


def test_event_apply_an_edit_without_venue_keeps_the_geometry(city, culture):
    route = Point(CENTRE_LON - 0.01, CENTRE_LAT, srid=4326)
    event = event_apply(data=_data(culture, venue=_venue(), geometry=route), organization=city)

    event_apply(event=event, data={"title_fr": "Concert du soir"})

    assert Event.objects.get(pk=event.pk).geometry == route


def test_event_apply_keeps_extra_dates_unless_given(city, culture):
    data = _data(culture)
    extra = data["start_at"] + timedelta(days=10)
    event = event_apply(
        data={**data, "extra_dates": [(extra, extra + timedelta(hours=1))]}, organization=city
    )

    event_apply(event=event, data={"title_fr": "Autre"})
    assert event.occurrences.filter(origin=EventOccurrence.Origin.EXTRA).count() == 1

    event_apply(event=event, data={"extra_dates": []})
    assert not event.occurrences.filter(origin=EventOccurrence.Origin.EXTRA).exists()


def test_event_apply_creates_an_event_in_any_status(city, culture):
    event = event_apply(data=_data(culture, event_status=EventStatus.POSTPONED), organization=city)

    assert event.event_status == EventStatus.POSTPONED and event.sequence == 0


def test_event_apply_cancels_a_public_event_with_an_update_push(
    city, culture, django_capture_on_commit_callbacks
):
    phone(follows=[culture])
    event = event_apply(data=_data(culture, notify=True), organization=city)
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=event)

    event_apply(event=event, data={"event_status": EventStatus.CANCELLED})

    stored = Event.objects.get(pk=event.pk)
    assert stored.event_status == EventStatus.CANCELLED and stored.sequence == 1
    assert Notification.objects.get(kind=Kind.UPDATE).tag == f"events-{event.pk}"


def test_event_apply_postpones_and_reschedules(city, culture):
    event = event_apply(data=_data(culture), organization=city)

    event_apply(event=event, data={"event_status": EventStatus.POSTPONED})
    assert Event.objects.get(pk=event.pk).event_status == EventStatus.POSTPONED

    later = event.start_at + timedelta(days=14)
    event_apply(
        event=event,
        data={
            "event_status": EventStatus.RESCHEDULED,
            "start_at": later,
            "end_at": later + timedelta(hours=2),
        },
    )
    stored = Event.objects.get(pk=event.pk)
    assert (stored.event_status, stored.start_at) == (EventStatus.RESCHEDULED, later)


def test_event_apply_refuses_to_postpone_a_cancelled_event(city, culture):
    event = event_apply(data=_data(culture, event_status=EventStatus.CANCELLED), organization=city)

    with pytest.raises(ValidationError):
        event_apply(event=event, data={"event_status": EventStatus.POSTPONED, "title_fr": "X"})

    stored = Event.objects.get(pk=event.pk)
    assert (stored.event_status, stored.title_fr) == (EventStatus.CANCELLED, "Concert au parc")


def test_event_apply_stays_in_the_editors_organizations(city, metropole, culture, city_editor):
    with pytest.raises(PermissionDenied):
        event_apply(data=_data(culture, venue=_venue()), organization=metropole, user=city_editor)

    assert not Event.objects.exists() and not Venue.objects.exists()
