"""Rules that never occur are refused at once, and nothing is written, in the API and the admin.

``FREQ=SECONDLY;BYMONTHDAY=31;BYMONTH=4;BYHOUR=1`` has no occurrence and made dateutil walk to
the year 9999 (minutes, with a transaction open); ``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30`` cost
seconds before its 400.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.events.models import Event, EventOccurrence
from tests.admin.conftest import admin_url
from tests.admin.test_forms import _add_data, _errors
from tests.api_support import key_client
from tests.staff import staff_login

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]

BOMB = "FREQ=SECONDLY;BYMONTHDAY=31;BYMONTH=4;BYHOUR=1"
SLOW = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"
#: Only a search finds that this one never occurs from a Tuesday (every 7th day is a Tuesday).
SEARCHED = "FREQ=DAILY;INTERVAL=7;BYDAY=MO"
RULES = {"bomb": BOMB, "30 February": SLOW, "Mondays from a Tuesday": SEARCHED}


#: A refusal is bounded work (milliseconds); the bomb it refuses ran for minutes. The bound is
#: loose on purpose: a CI machine shared by other suites must never fail it (no timed tests).
BOUND_S = 10.0


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
def test_event_publishing_refuses_the_rule_at_once_and_writes_nothing(rule, city, mobility):
    start = timezone.make_aware(timezone.datetime(2030, 1, 1, 18, 0))  # a Tuesday
    body = {
        "title_fr": "Piège",
        "category": "mobilite",
        "start_at": start.isoformat(),
        "end_at": (start + timedelta(hours=1)).isoformat(),
        "rrule": rule,
        "status": "published",
    }
    client = key_client(city)
    APIClient().get("/api/v1/events/")  # warm up: the first request imports and compiles

    started = time.perf_counter()
    response = client.post("/api/v1/events/", body, format="json")

    assert time.perf_counter() - started < BOUND_S  # was minutes (the bomb) and seconds
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid"
    assert "rrule" in response.json()["fields"], response.json()
    assert not Event.objects.exists()
    assert not EventOccurrence.objects.exists()


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
def test_event_admin_form_refuses_the_rule_at_once_in_french(rule, client, city_editor, mobility):
    staff_login(client, city_editor)
    data = _add_data(client, "events", mobility, rrule=rule)
    data.update(start_at_0="01/01/2030", start_at_1="18:00:00")  # a Tuesday
    data.update(end_at_0="01/01/2030", end_at_1="20:00:00")

    started = time.perf_counter()
    response = client.post(admin_url("events", "add"), data)

    assert time.perf_counter() - started < BOUND_S
    errors = _errors(response)
    assert "récurrence" in errors.lower(), errors
    assert "Error" not in errors and "dateutil" not in errors and "rrule" not in errors, errors
    assert not Event.objects.exists()


def test_event_ical_does_not_hand_a_refused_stored_rule_to_calendars(city, mobility):
    from tests.api_support import published_event

    event = published_event(organization=city, category=mobility, rrule="FREQ=WEEKLY;COUNT=3")
    Event.objects.filter(pk=event.pk).update(rrule=BOMB)  # stored before the validator existed

    response = APIClient().get(f"/api/v1/events/{event.pk}/ical/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "RRULE" not in text
    assert text.count("RDATE") == 1 and text.count(",") >= 1  # the two later weekly dates
