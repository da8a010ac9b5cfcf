"""The public register of pushes (issue 18, item 5): JSON, CSV and the web page list every push
sent about an item, with its publisher, targeting and rounded reach; never tests or digests."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.core.models import Urgency
from apps.core.services import content_areas_refresh, content_publish
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification
from apps.notifications.retention import deliveries_purge
from apps.notifications.services.outbox import device_test_push
from apps.notifications.services.sending import deliveries_send
from tests.factories import CENTRE_LAT, CENTRE_LON, AreaFactory, WorksFactory, square
from tests.notifications.helpers import FAR, phone

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("log_backend")]

API = "/api/v1/transparency/notifications/"


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    def run(item):
        with django_capture_on_commit_callbacks(execute=True):
            content_publish(item=item)
        return Notification.objects.get(kind=Kind.NEW, item_type=item.type_code, item_id=item.pk)

    return run


@pytest.fixture
def district():
    return AreaFactory(
        name="Le Moulin", slug="le-moulin", geometry=square(CENTRE_LON, CENTRE_LAT, 0.05)
    )


def test_the_register_lists_each_push_with_publisher_targeting_and_rounded_reach(
    publish, mobility, city, district
):
    devices = [phone(follows=[mobility]) for _ in range(7)]
    phone(at=FAR, follows=[mobility])  # not reached
    works = WorksFactory(
        organization=city, category=mobility, notify=True, urgency=Urgency.IMPORTANT
    )
    content_areas_refresh(item=works)
    notification = publish(works)
    notification.refresh_from_db()

    answer = Client().get(API)

    assert answer.status_code == 200
    [entry] = answer.json()["results"]
    assert notification.reached == 7 == len(devices)
    assert entry["reached"] in (5, 10)  # 7, rounded to 5 by the key of (notification, 7)
    assert entry["id"] == notification.pk
    assert entry["kind"] == "new"
    assert entry["item"] == {"type": "works", "id": works.pk}
    assert entry["title"]["fr"] == notification.texts["fr"]["title"]
    assert entry["publisher"] == city.name
    assert entry["targeting"] == {
        "areas": ["Le Moulin"],
        "city_wide": False,
        "category": {"fr": mobility.name_fr, "en": mobility.name_en or mobility.name_fr},
        "urgency": "important",
    }
    # the same answer every time: the rounding is keyed, not drawn per request
    assert Client().get(API).json()["results"][0]["reached"] == entry["reached"]


def test_small_reach_is_masked_and_tests_and_digests_are_not_listed(
    publish, mobility, city, superuser
):
    [one, *_] = [phone(follows=[mobility]) for _ in range(3)]
    notification = publish(WorksFactory(organization=city, category=mobility, notify=True))
    test = device_test_push(device=one, user=superuser)
    deliveries_send(ids=[test.pk])
    assert Delivery.objects.get(pk=test.pk).status == DeliveryStatus.SENT

    results = Client().get(API).json()["results"]

    assert [(r["id"], r["reached"]) for r in results] == [(notification.pk, None)]


def test_the_reach_is_kept_after_the_deliveries_are_purged(publish, mobility, city, settings):
    for _ in range(6):
        phone(follows=[mobility])
    notification = publish(WorksFactory(organization=city, category=mobility, notify=True))
    before = Client().get(API).json()["results"]
    settings.RETENTION_DAYS = 1

    deliveries_purge(now=timezone.now() + timedelta(days=2))

    assert not Delivery.objects.filter(notification=notification).exists()
    assert Client().get(API).json()["results"] == before


def test_csv_has_a_header_and_one_line_per_push(publish, mobility, city):
    for _ in range(5):
        phone(follows=[mobility])
    first = publish(WorksFactory(organization=city, category=mobility, notify=True))
    second = publish(WorksFactory(organization=city, category=mobility, notify=True, geometry=None))

    answer = Client().get("/api/v1/transparency/notifications.csv")

    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert [int(r["id"]) for r in rows] == [second.pk, first.pk]  # newest first
    assert rows[0]["city_wide"] == "yes"
    assert rows[1]["publisher"] == city.name
    assert {r["reached"] for r in rows} <= {"5", ""}


def test_csv_streams_in_chunks_across_equal_send_times(publish, mobility, city, monkeypatch):
    """Keyset pages of the CSV neither skip nor repeat pushes sent at the same time."""
    from apps.notifications.api import transparency

    monkeypatch.setattr(transparency, "CSV_CHUNK", 2)
    for _ in range(5):
        phone(follows=[mobility], info_per_week=10)
    published = [
        publish(WorksFactory(organization=city, category=mobility, notify=True)) for _ in range(5)
    ]
    same = timezone.now()
    Notification.objects.update(first_sent_at=same)

    body = b"".join(Client().get("/api/v1/transparency/notifications.csv").streaming_content)

    ids = [int(r["id"]) for r in csv.DictReader(io.StringIO(body.decode()))]
    assert ids == sorted((n.pk for n in published), reverse=True)


def test_the_web_page_in_both_languages(publish, mobility, city):
    for _ in range(5):
        phone(follows=[mobility])
    notification = publish(WorksFactory(organization=city, category=mobility, notify=True))

    french = Client().get("/transparence/notifications/")
    english = Client().get("/transparence/notifications/?lang=en")

    assert french.status_code == english.status_code == 200
    page = french.content.decode()
    assert '<html lang="fr">' in page
    assert "Registre public des notifications" in page
    assert notification.texts["fr"]["title"] in page
    assert city.name in page
    assert '<html lang="en">' in english.content.decode()
    assert notification.texts["en"]["title"] in english.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        f"{API}?since=yesterday",
        f"{API}?page=0",
        f"{API}?device=1",
        "/api/v1/transparency/notifications.csv?since=nope",
        "/api/v1/transparency/notifications.csv?page=2",
        "/transparence/notifications/?lang=de",
        "/transparence/notifications/?page=x",
        "/transparence/notifications/?page=99",
        "/transparence/notifications/?q=1",
    ],
)
def test_bad_parameters_are_400(url):
    assert Client().get(url).status_code == 400


def test_since_keeps_later_pushes(publish, mobility, city):
    for _ in range(5):
        phone(follows=[mobility])
    old = publish(WorksFactory(organization=city, category=mobility, notify=True))
    Notification.objects.filter(pk=old.pk).update(first_sent_at=timezone.now() - timedelta(days=10))
    new = publish(WorksFactory(organization=city, category=mobility, notify=True))
    since = (timezone.now() - timedelta(days=1)).isoformat()

    results = Client().get(API, {"since": since}).json()["results"]

    assert [r["id"] for r in results] == [new.pk]


@pytest.mark.parametrize("count", [2, 5])
def test_the_list_costs_the_same_queries_for_2_or_5_pushes(
    count, publish, mobility, city, django_assert_num_queries
):
    for _ in range(5):
        phone(follows=[mobility], info_per_week=10)
    for _ in range(count):
        publish(WorksFactory(organization=city, category=mobility, notify=True))

    # count, page, the works with organization and category, their areas
    with django_assert_num_queries(4):
        answer = Client().get(API)
    assert len(answer.json()["results"]) == count
