"""Skipped dates of a recurrence (iCalendar EXDATE): service, API, iCalendar, admin preview."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from apps.events.models import Event
from apps.events.services import event_apply
from tests.api_support import key_client, published_event
from tests.staff import staff_login

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
#: Saturday 6 February 2027, 20:00 in Paris: eight Saturdays to 27 March (DST on the 28th).
FIRST = datetime(2027, 2, 6, 20, 0, tzinfo=PARIS)
WEEKLY = "FREQ=WEEKLY;BYDAY=SA;COUNT=8"


def local_days(event: Event) -> list[str]:
    return [
        timezone.localtime(o.start_at).date().isoformat()
        for o in event.occurrences.order_by("start_at")
    ]


def test_a_skipped_date_leaves_the_occurrences_and_is_material(mobility):
    event = published_event(start_at=FIRST, end_at=FIRST + timedelta(hours=2), rrule=WEEKLY)
    assert len(local_days(event)) == 8
    sequence = event.sequence
    event_apply(event=event, data={"excluded_dates": ["2027-02-20", "2027-03-06"]})
    event.refresh_from_db()
    assert local_days(event) == [
        "2027-02-06", "2027-02-13", "2027-02-27", "2027-03-13", "2027-03-20", "2027-03-27",
    ]  # fmt: skip
    assert event.sequence == sequence + 1  # calendars update
    # A skipped day with no date on it changes nothing but is kept as given.
    event_apply(event=event, data={"excluded_dates": ["2027-02-21"]})
    event.refresh_from_db()
    assert len(local_days(event)) == 8


def test_the_first_date_cannot_be_skipped(mobility):
    event = published_event(start_at=FIRST, end_at=FIRST + timedelta(hours=2), rrule=WEEKLY)
    with pytest.raises(ValidationError) as refused:
        event_apply(event=event, data={"excluded_dates": ["2027-02-06"]})
    assert "première date" in str(refused.value.message_dict["excluded_dates"])
    event.refresh_from_db()
    assert event.excluded_dates == [] and len(local_days(event)) == 8


def test_api_writes_and_reads_skipped_dates(city, culture):
    client = key_client(city)
    body = {
        "title_fr": "Concert du samedi",
        "category": "culture",
        "start_at": FIRST.isoformat(),
        "end_at": (FIRST + timedelta(hours=2)).isoformat(),
        "rrule": WEEKLY,
        "excluded_dates": ["2027-03-06", "2027-02-20", "2027-02-20"],
        "status": "published",
    }
    created = client.post("/api/v1/events/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["excluded_dates"] == ["2027-02-20", "2027-03-06"]
    detail = APIClient().get(f"/api/v1/events/{created.json()['id']}/").json()
    assert detail["excluded_dates"] == ["2027-02-20", "2027-03-06"]
    assert len(detail["occurrences"]) == 6

    bad = client.post("/api/v1/events/", {**body, "excluded_dates": ["20/02/2027"]}, format="json")
    assert bad.status_code == 400 and "excluded_dates" in str(bad.json()["fields"])
    first = client.post(
        "/api/v1/events/", {**body, "excluded_dates": ["2027-02-06"]}, format="json"
    )
    assert first.status_code == 400
    assert "excluded_dates" in first.json()["fields"]
    assert Event.objects.count() == 1


def test_ical_carries_the_skipped_dates_as_exdate(mobility):
    event = published_event(start_at=FIRST, end_at=FIRST + timedelta(hours=2), rrule=WEEKLY)
    event_apply(event=event, data={"excluded_dates": ["2027-02-20", "2027-03-27"]})
    response = APIClient().get(f"/api/v1/events/{event.pk}/ical/")
    (component,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    exdates = (
        [moment.dt for entry in component.get("exdate") for moment in entry.dts]
        if isinstance(component.get("exdate"), list)
        else [moment.dt for moment in component.get("exdate").dts]
    )
    assert exdates == [
        datetime(2027, 2, 20, 20, 0, tzinfo=PARIS),
        datetime(2027, 3, 27, 20, 0, tzinfo=PARIS),  # still winter time: the 28th changes
    ]


def test_admin_preview_marks_the_skipped_dates(client, city_editor):
    staff_login(client, city_editor)
    query = {
        "pick_freq": "WEEKLY",
        "pick_interval": "1",
        "pick_byday": "SA",
        "pick_end": "count",
        "pick_count": "8",
        "start_0": "06/02/2027",
        "start_1": "20:00",
        "skip": "20/02/2027\n\n06/03/2027",
    }
    body = client.get("/admin/events/event/recurrence-preview/", query).json()
    assert body["total"] == 6
    skipped = [d["day"] for d in body["dates"] if d["skipped"]]
    assert skipped == ["20/02/2027", "06/03/2027"]
    assert body["dates"][0]["first"] and not body["dates"][1]["first"]
    first = client.get("/admin/events/event/recurrence-preview/", {**query, "skip": "06/02/2027"})
    assert first.status_code == 400 and first.json()["field"] == "excluded_dates"
    garbage = client.get("/admin/events/event/recurrence-preview/", {**query, "skip": "demain"})
    assert garbage.status_code == 400
    assert garbage.json()["error"] == (
        "Dates sautées : « demain » n'est pas une date (jj/mm/aaaa)."
    )


@pytest.mark.parametrize("days", [[{"day": 1}], "2027-02-20", [20270220], ["2027-02-30"]])
def test_a_malformed_list_is_a_validation_error_not_a_crash(mobility, days):
    event = published_event(start_at=FIRST, end_at=FIRST + timedelta(hours=2), rrule=WEEKLY)
    with pytest.raises(ValidationError) as refused:
        event_apply(event=event, data={"excluded_dates": days})
    assert "excluded_dates" in refused.value.message_dict
    event.refresh_from_db()
    assert event.excluded_dates == [] and len(local_days(event)) == 8
