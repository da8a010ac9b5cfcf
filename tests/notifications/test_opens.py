"""Opens from push, counted for every device, with nothing kept about who opened (issue 18,
item 4): ``POST /api/v1/opens/`` and ``services.opens``. The end-to-end case through the real
worker is ``test_worker.py::test_an_open_is_counted_for_a_device_without_consent…``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.core.services import content_publish
from apps.notifications.models import Notification, OpenTicket
from apps.notifications.retention import deliveries_purge
from apps.notifications.services.opens import (
    open_report,
    ticket_digest,
    ticket_new,
    tickets_store,
)
from tests.factories import WorksFactory
from tests.notifications.helpers import phone

pytestmark = pytest.mark.django_db

URL = "/api/v1/opens/"


@pytest.fixture
def pushed(fcm_settings, fake_fcm, mobility, city, django_capture_on_commit_callbacks):
    """A roadwork pushed to three phones through the fake FCM; returns the notification and
    each phone's push data."""
    phones = [phone(follows=[mobility]) for _ in range(3)]
    works = WorksFactory(organization=city, category=mobility, notify=True)
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=works)
    notification = Notification.objects.get(item_type="works", item_id=works.pk)
    data = {m["token"]: m["message"]["data"] for m in fake_fcm.messages}
    return notification, [data[p.push_token] for p in phones]


def report(body, **headers):
    return Client().post(URL, body, content_type="application/json", **headers)


def test_each_push_carries_its_own_ticket_and_only_digests_are_stored(pushed):
    _notification, data = pushed
    tickets = [d["open_ticket"] for d in data]
    assert len(set(tickets)) == 3
    stored = {bytes(d) for d in OpenTicket.objects.values_list("digest", flat=True)}
    assert len(stored) == 3
    assert not any(t.encode() in stored for t in tickets)  # digests, never the tickets


def test_a_ticket_counts_once_and_only_for_its_notification(pushed):
    notification, data = pushed
    first, second, _ = (d["open_ticket"] for d in data)

    assert report({"notification_id": notification.pk, "ticket": first}).json() == {"counted": True}
    assert report({"notification_id": notification.pk, "ticket": first}).json() == {
        "counted": False
    }
    # the right ticket for another notification id counts nothing, and stays usable
    assert not open_report(notification_id=notification.pk + 1, ticket=second)
    assert open_report(notification_id=notification.pk, ticket=second)
    assert not open_report(notification_id=notification.pk, ticket=ticket_new())  # forged

    notification.refresh_from_db()
    assert notification.opens == 2
    assert OpenTicket.objects.count() == 1


def test_a_report_needs_no_credentials_and_ignores_them(pushed):
    """A device token sent along does not make the open any less anonymous: it is not read."""
    notification, data = pushed
    answer = report(
        {"notification_id": notification.pk, "ticket": data[0]["open_ticket"]},
        HTTP_AUTHORIZATION="Bearer not-even-a-valid-token",
    )
    assert (answer.status_code, answer.json()) == (200, {"counted": True})
    assert answer["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "notification_id"),
        ({"notification_id": 1}, "ticket"),
        ({"notification_id": "x", "ticket": "a" * 22}, "notification_id"),
        ({"notification_id": 0, "ticket": "a" * 22}, "notification_id"),
        ({"notification_id": 2**63, "ticket": "a" * 22}, "notification_id"),
        ({"notification_id": 1, "ticket": "short"}, "ticket"),
        ({"notification_id": 1, "ticket": "a" * 65}, "ticket"),
        ({"notification_id": 1, "ticket": "has space in it ....."}, "ticket"),
        ({"notification_id": 1, "ticket": ["a" * 22]}, "ticket"),
    ],
)
def test_bad_reports_are_400_and_change_nothing(pushed, body, field):
    notification, _ = pushed
    answer = report(body)
    assert answer.status_code == 400
    assert field in answer.json()["fields"]
    notification.refresh_from_db()
    assert notification.opens == 0
    assert OpenTicket.objects.count() == 3


def test_unknown_query_parameters_are_refused(pushed):
    answer = Client().post(f"{URL}?device=1", {}, content_type="application/json")
    assert answer.status_code == 400


def test_tickets_expire_with_the_open_window(pushed, settings):
    notification, data = pushed
    settings.NOTIFY_OPEN_WINDOW_DAYS = 30
    later = timezone.now() + timedelta(days=31)

    assert deliveries_purge(now=later)["open_tickets"] == 3

    assert not open_report(notification_id=notification.pk, ticket=data[0]["open_ticket"])


def test_tickets_are_stored_in_a_shuffled_order(mobility):
    """The table's physical order must not follow the deliveries' (and so the devices')."""
    notification = Notification.objects.create(key="k", kind="new", item_type="works", item_id=1)
    tickets = [(notification.pk, ticket_new()) for _ in range(200)]
    tickets_store(tickets)
    expected = [ticket_digest(t) for _, t in tickets]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT digest FROM {OpenTicket._meta.db_table} ORDER BY ctid")
        stored = [bytes(row[0]) for row in cursor.fetchall()]
    assert sorted(stored) == sorted(expected)
    assert stored != expected
