"""``GET /api/v1/me/notifications/``: the pushes a device received, with why."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.gis.geos import Point
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.geo import WGS84
from apps.core.models import Urgency
from apps.core.services import content_areas_refresh, content_publish
from apps.notifications import services
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification
from tests.factories import CategoryFactory, EventFactory, NewsFactory, WorksFactory
from tests.notifications.helpers import FAR, phone_resident
from tests.residents.factories import bearer_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/notifications/"
# Places are stored on the 0.001° grid: a home at the centre is stored at (4.836, 45.764).
HOME = (4.836, 45.764)
#: 300 m east of HOME (one degree of longitude is 77.74 km at 45.764° N).
EAST_300_M = (4.836 + 300 / 77_737, 45.764)


@pytest.fixture
def mobility(db):
    return CategoryFactory(slug="mobilite", name_fr="Mobilité", name_en="Mobility")


@pytest.fixture
def culture_fr_only(db):
    """A category whose English name was never filled in."""
    return CategoryFactory(slug="fetes", name_fr="Fêtes", name_en="")


def publish(item, capture):
    content_areas_refresh(item=item)
    with capture(execute=True):
        content_publish(item=item)
    return item


def news_at(city, category, where=EAST_300_M, **fields):
    return NewsFactory(
        organization=city,
        category=category,
        notify=True,
        geometry=Point(*where, srid=WGS84),
        **fields,
    )


def test_lists_the_received_push_with_its_texts_item_and_why(
    city, mobility, log_backend, django_capture_on_commit_callbacks
):
    me = phone_resident(at=HOME, language="en", follows=[mobility])
    news = news_at(city, mobility, title_fr="Marché de nuit", title_en="Night market")
    publish(news, django_capture_on_commit_callbacks)
    notification = Notification.objects.get()

    response = me.client.get(URL)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["count"] == 1
    [row] = body["results"]
    sent_at = Delivery.objects.get().sent_at
    assert row == {
        "id": notification.pk,
        "kind": "new",
        "title": "Night market",
        "body": notification.text_for("en")["body"],
        "item": {"type": "news", "id": news.pk},
        "urgency": "info",
        "sent_at": row["sent_at"],
        "why": ["300 m from Home", "You follow Mobility"],
    }
    assert parse_datetime(row["sent_at"]) == sent_at


def test_why_is_in_the_devices_language_with_the_category_fallback(
    city, mobility, culture_fr_only, log_backend, django_capture_on_commit_callbacks
):
    french = phone_resident(at=HOME, language="fr", follows=[mobility, culture_fr_only])
    english = phone_resident(at=HOME, language="en", follows=[culture_fr_only])
    publish(news_at(city, mobility, title_fr="Marché"), django_capture_on_commit_callbacks)
    publish(news_at(city, culture_fr_only, title_fr="Bal"), django_capture_on_commit_callbacks)

    mine = french.client.get(URL).json()["results"]
    theirs = english.client.get(URL).json()["results"]

    assert [(r["title"], r["why"]) for r in mine] == [
        ("Bal", ["300 m de Domicile", "Vous suivez Fêtes"]),
        ("Marché", ["300 m de Domicile", "Vous suivez Mobilité"]),
    ]
    assert [(r["title"], r["why"]) for r in theirs] == [
        ("Bal", ["300 m from Home", "You follow Fêtes"]),
    ]


def test_other_kinds_test_digest_reminder_and_alerts(
    city, mobility, log_backend, django_capture_on_commit_callbacks
):
    me = phone_resident(at=None, language="en", max_pushes_per_day=2, follows=[mobility])
    # a city-wide alert: no place, no follow needed, never capped
    alert = NewsFactory(organization=city, category=mobility, geometry=None, notify=True)
    alert.urgency = Urgency.ALERT
    alert.save()
    publish(alert, django_capture_on_commit_callbacks)
    # a test push from the city (not capped either)
    with django_capture_on_commit_callbacks(execute=True):
        services.device_test_push(device=me.device)
    # the day's two pushes: an ordinary item and a reminder of a saved event
    first = NewsFactory(organization=city, category=mobility, geometry=None, notify=True)
    publish(first, django_capture_on_commit_callbacks)
    event = EventFactory(organization=city, category=mobility)
    publish(event, django_capture_on_commit_callbacks)
    me.client.post("/api/v1/me/saved/", {"type": "events", "id": event.pk}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        services.event_reminder_notify(event=event, start_at=event.start_at)
    # one over the cap, folded into a digest that goes out later
    second = NewsFactory(organization=city, category=mobility, geometry=None, notify=True)
    publish(second, django_capture_on_commit_callbacks)
    digest = Delivery.objects.get(notification__kind=Kind.DIGEST)
    assert digest.status == DeliveryStatus.HELD
    with (
        time_machine.travel(digest.not_before + timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.deliveries_sweep()

    with time_machine.travel(digest.not_before + timedelta(minutes=2)):
        rows = me.client.get(URL).json()["results"]

    by_kind = {row["kind"]: row for row in rows}
    assert sorted(by_kind) == ["digest", "new", "reminder", "test"]
    assert [r["kind"] for r in rows if r["kind"] == "new"] == ["new", "new"]  # alert + first
    alert_row = next(r for r in rows if r["item"] == {"type": "news", "id": alert.pk})
    assert (alert_row["urgency"], alert_row["why"]) == ("alert", ["You follow Mobility"])
    assert by_kind["digest"]["item"] is None
    assert by_kind["digest"]["why"] == ["Daily limit reached: summary"]
    assert by_kind["digest"]["title"] == "1 more update today"
    assert by_kind["reminder"]["item"] == {"type": "events", "id": event.pk}
    assert by_kind["reminder"]["why"] == ["You saved it"]
    assert by_kind["test"] == {**by_kind["test"], "item": None, "why": ["Test sent by the city"]}
    assert by_kind["test"]["title"] == "Test notification"


def test_only_pushes_actually_sent_are_listed(
    city, mobility, log_backend, django_capture_on_commit_callbacks
):
    me = phone_resident(at=HOME, follows=[mobility])
    publish(news_at(city, mobility, title_fr="Envoyée"), django_capture_on_commit_callbacks)
    waiting = news_at(city, mobility, title_fr="Pas encore partie")
    content_areas_refresh(item=waiting)
    content_publish(item=waiting)  # its dispatch has not run: the delivery is pending

    rows = me.client.get(URL).json()["results"]

    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 1
    assert [r["title"] for r in rows] == ["Envoyée"]


def test_other_devices_pushes_are_never_visible(
    city, mobility, log_backend, django_capture_on_commit_callbacks
):
    me = phone_resident(at=HOME, follows=[mobility])
    neighbour = phone_resident(at=HOME, follows=[mobility])
    far = phone_resident(at=FAR, follows=[mobility])
    publish(news_at(city, mobility, title_fr="Pour nous deux"), django_capture_on_commit_callbacks)
    publish(
        news_at(city, mobility, where=FAR, title_fr="Pour le lointain"),
        django_capture_on_commit_callbacks,
    )

    assert [r["title"] for r in me.client.get(URL).json()["results"]] == ["Pour nous deux"]
    assert [r["title"] for r in neighbour.client.get(URL).json()["results"]] == ["Pour nous deux"]
    assert [r["title"] for r in far.client.get(URL).json()["results"]] == ["Pour le lointain"]
    me.client.delete("/api/v1/me/")
    assert neighbour.client.get(URL).json()["count"] == 1
    assert Delivery.objects.filter(device_id=me.device.pk).count() == 0


def test_pages_newest_first_and_since(
    city, mobility, log_backend, django_capture_on_commit_callbacks
):
    me = phone_resident(at=HOME, follows=[mobility], max_pushes_per_day=50, info_per_week=50)
    start = timezone.now()
    for n in range(5):
        with time_machine.travel(start + timedelta(minutes=n)):
            publish(news_at(city, mobility, title_fr=f"N{n}"), django_capture_on_commit_callbacks)

    first = me.client.get(URL, {"page_size": 2}).json()
    second = me.client.get(URL, {"page_size": 2, "page": 2}).json()
    recent = me.client.get(URL, {"since": (start + timedelta(minutes=3)).isoformat()}).json()

    assert first["count"] == 5
    assert [r["title"] for r in first["results"]] == ["N4", "N3"]
    assert first["next"].endswith("page=2&page_size=2")
    assert [r["title"] for r in second["results"]] == ["N2", "N1"]
    assert [r["title"] for r in recent["results"]] == ["N4", "N3"]


@pytest.mark.parametrize("pushes", [2, 9])
def test_query_count_does_not_grow_with_the_page(
    pushes,
    city,
    mobility,
    log_backend,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    me = phone_resident(at=HOME, follows=[mobility], max_pushes_per_day=50, info_per_week=50)
    factories = [NewsFactory, WorksFactory, EventFactory]
    for n in range(pushes):
        item = factories[n % 3](organization=city, category=mobility, notify=True)
        publish(item, django_capture_on_commit_callbacks)

    with django_assert_num_queries(3):  # the token, the count, the page
        response = me.client.get(URL, {"page_size": 100})

    rows = response.json()["results"]
    assert len(rows) == pushes
    assert all("Vous suivez Mobilité" in row["why"] for row in rows)
    assert {row["item"]["type"] for row in rows} == {"news", "works"} | (
        {"events"} if pushes > 2 else set()
    )


def test_a_device_token_is_required(db):
    assert bearer_client("qd_nobody").get(URL).status_code == 401
    from rest_framework.test import APIClient

    anonymous = APIClient().get(URL)
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "x"},
        {"page_size": "-1"},
        {"page_size": "1e3"},
        {"since": "yesterday"},
        {"since": ""},
        {"since": "2026-13-45T00:00:00Z"},
        {"unknown": "1"},
    ],
)
def test_bad_parameters_are_400(params, resident):
    response = resident.client.get(URL, params)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(params)


def test_a_page_past_the_end_is_404(resident):
    assert resident.client.get(URL, {"page": "2"}).status_code == 404
