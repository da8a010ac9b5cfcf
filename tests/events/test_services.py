"""Event saving: occurrences from RRULE and extra dates, venue point, series end, SEQUENCE."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core.services import content_publish
from apps.events.models import Event, EventOccurrence, EventStatus
from apps.events.services import event_cancel, event_save
from tests.factories import CategoryFactory, OrganizationFactory, VenueFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def _new_event(**fields) -> Event:
    event = Event(
        title_fr="Marché du samedi",
        category=CategoryFactory(slug="marches"),
        organization=OrganizationFactory(slug="ville"),
        **fields,
    )
    event_save(event=event)
    return event


def test_weekly_rrule_keeps_local_time_across_daylight_saving():
    start = datetime(2027, 3, 20, 8, 0, tzinfo=PARIS)  # DST starts on 28 March 2027
    event = _new_event(
        start_at=start, end_at=start + timedelta(hours=5), rrule="FREQ=WEEKLY;COUNT=3"
    )

    starts = [timezone.localtime(o.start_at, PARIS) for o in event.occurrences.all()]
    assert [(s.day, s.hour) for s in starts] == [(20, 8), (27, 8), (3, 8)]
    assert event.last_end_at == starts[-1] + timedelta(hours=5)


def test_extra_dates_are_kept_and_drive_the_series_end():
    start = timezone.now() + timedelta(days=3)
    event = _new_event(start_at=start, end_at=start + timedelta(hours=2))
    extra = (start + timedelta(days=7), start + timedelta(days=7, hours=2))

    event_save(event=event, extra_dates=[extra])
    event.title_fr = "Renamed"
    event_save(event=event)  # extra dates survive an edit that does not mention them

    origins = list(event.occurrences.values_list("origin", flat=True))
    assert origins == [EventOccurrence.Origin.MAIN, EventOccurrence.Origin.EXTRA]
    assert Event.objects.get(pk=event.pk).last_end_at == extra[1]


def test_geometry_defaults_to_the_venue_point():
    venue = VenueFactory()
    start = timezone.now() + timedelta(days=1)
    event = _new_event(start_at=start, end_at=start + timedelta(hours=1), venue=venue)
    assert event.geometry.equals(venue.location)


def test_rrule_that_yields_nothing_is_refused():
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError):
        _new_event(
            start_at=start,
            end_at=start + timedelta(hours=1),
            rrule="FREQ=DAILY;UNTIL=20000101T000000Z",
        )
    assert not Event.objects.filter(title_fr="Marché du samedi").exists()


def test_cancel_bumps_sequence_and_keeps_the_event_listed():
    start = timezone.now() + timedelta(days=1)
    event = _new_event(start_at=start, end_at=start + timedelta(hours=1))
    content_publish(item=event)

    assert event_cancel(event=event) == ["event_status"]

    event.refresh_from_db()
    assert event.event_status == EventStatus.CANCELLED
    assert event.sequence == 1
    assert Event.objects.public().filter(pk=event.pk).exists()


def test_events_that_are_over_are_never_public():
    start = timezone.now() + timedelta(hours=1)
    event = _new_event(start_at=start, end_at=start + timedelta(hours=1))
    content_publish(item=event)
    assert Event.objects.public().count() == 1

    assert Event.objects.public(at=start + timedelta(hours=2)).count() == 0
    assert Event.objects.due_for_archiving(at=start + timedelta(hours=2)).count() == 1


def test_starting_between_uses_every_occurrence():
    start = timezone.now() + timedelta(days=1)
    event = _new_event(
        start_at=start, end_at=start + timedelta(hours=1), rrule="FREQ=DAILY;COUNT=10"
    )
    window = Event.objects.starting_between(
        start + timedelta(days=4, minutes=-1), start + timedelta(days=4, minutes=1)
    )
    assert list(window) == [event]
    assert not Event.objects.starting_between(start + timedelta(days=11)).exists()
