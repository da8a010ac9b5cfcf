"""The push simulator (issue 18, item 5): ``POST /me/simulate/`` replays last week's
notifications against candidate settings; with the device's own settings it finds exactly the
pushes the real pipeline delivered; it stores nothing and rejects bad settings with a 400."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.gis.geos import LineString
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.models import Urgency
from apps.core.services import content_publish, content_save
from apps.notifications import services, simulation
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification
from apps.residents.models import CategoryFollow, Device, Place
from tests.factories import CENTRE_LAT, CENTRE_LON, WorksFactory, square
from tests.notifications.helpers import FAR, NEAR, phone, phone_resident

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("log_backend")]

API = "/api/v1/me/simulate/"
#: Wednesday 2 December 2026, 13:00 in Paris.
T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
#: Saturday 5 December, noon in Paris: the week replayed holds all of the above.
ASKED = datetime(2026, 12, 5, 11, 0, tzinfo=UTC)
ITEM_KINDS = (Kind.NEW, Kind.UPDATE, Kind.REMINDER)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def call(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return call


@pytest.fixture
def week(run, mobility):
    """A week of the real pipeline for a resident with a budget of 2 information pushes and
    quiet hours 22:00-07:00; returns the resident and the works published."""
    resident = phone_resident(
        follows=[mobility],
        info_per_week=2,
        quiet_hours_start=time(22, 0),
        quiet_hours_end=time(7, 0),
    )
    phone(at=FAR, follows=[mobility])  # another resident, elsewhere
    works: dict[str, Any] = {}

    def publish(name, **fields):
        fields.setdefault("title_fr", name)
        item = WorksFactory(category=mobility, notify=True, **fields)
        run(content_publish, item=item)
        works[name] = item

    with time_machine.travel(T0, tick=False):
        for n in range(3):  # two pushes, the third over the weekly budget: digest
            publish(f"Chantier {n}")
        publish("Chantier loin", geometry=None, urgency=Urgency.IMPORTANT)  # city-wide
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        publish("Ailleurs", geometry=square(*FAR, 0.002))
    with time_machine.travel(datetime(2026, 12, 2, 17, 30, tzinfo=UTC), tick=False):
        run(services.deliveries_sweep)  # the daily digest, 18:30 in Paris
    # Thursday 22:30 in Paris: an important roadwork held by the quiet hours until 07:00
    with time_machine.travel(datetime(2026, 12, 3, 21, 30, tzinfo=UTC), tick=False):
        publish("Chantier de nuit", urgency=Urgency.IMPORTANT)
    with time_machine.travel(datetime(2026, 12, 4, 6, 0, tzinfo=UTC), tick=False):
        run(services.deliveries_sweep)
    # Friday: "Chantier 0" moves a little: an update, over the spent weekly budget (digest)
    with time_machine.travel(datetime(2026, 12, 4, 10, 0, tzinfo=UTC), tick=False):
        item = works["Chantier 0"]
        item.refresh_from_db()
        item.geometry = LineString(
            (CENTRE_LON, CENTRE_LAT), (CENTRE_LON + 0.001, CENTRE_LAT), srid=4326
        )
        run(content_save, item=item)
    assert Notification.objects.filter(kind=Kind.UPDATE).count() == 1
    with time_machine.travel(datetime(2026, 12, 4, 17, 30, tzinfo=UTC), tick=False):
        run(services.deliveries_sweep)
    return resident, works


def _real(device: Device) -> tuple[dict[int, tuple[str, datetime | None]], list[datetime]]:
    """What the pipeline did for ``device``: per notification about an item, (push, sent at)
    or (digest, None); and when its digests were sent."""
    rows = Delivery.objects.filter(device=device).select_related("notification")
    items: dict[int, tuple[str, datetime | None]] = {}
    digests: list[datetime] = []
    for row in rows:
        if row.notification.kind == Kind.DIGEST:
            assert row.status == DeliveryStatus.SENT and row.sent_at is not None
            digests.append(row.sent_at)
        elif row.status == DeliveryStatus.SENT:
            items[row.notification_id] = ("push", row.sent_at)
        elif row.reason in ("capped", "budget"):
            items[row.notification_id] = ("digest", None)
    return items, sorted(digests)


def _simulated(answer) -> dict[int, tuple[str, datetime | None]]:
    return {
        i["notification_id"]: (
            i["delivered_as"],
            datetime.fromisoformat(i["sent_at"]) if i["delivered_as"] == "push" else None,
        )
        for i in answer["items"]
    }


def _simulate(resident, body=None):
    with time_machine.travel(ASKED, tick=False):
        return resident.client.post(API, body or {}, format="json")


def test_unchanged_settings_find_exactly_the_real_deliveries(week):
    resident, works = week
    real_items, real_digests = _real(resident.device)

    answer = _simulate(resident)

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert _simulated(body) == real_items
    assert [datetime.fromisoformat(d["sent_at"]) for d in body["digests"]] == real_digests
    sent = Delivery.objects.filter(device=resident.device, status=DeliveryStatus.SENT)
    assert body["pushes"] == sent.count() == 6  # 2 information, 2 important, 2 digests
    # the scenario exercised each rule: budget digests, a push held by the quiet hours, an
    # update
    assert sorted(v[0] for v in real_items.values()) == ["digest"] * 2 + ["push"] * 4
    update = Notification.objects.get(kind=Kind.UPDATE)
    assert real_items[update.pk] == ("digest", None)
    night = Notification.objects.get(item_id=works["Chantier de nuit"].pk, kind=Kind.NEW)
    assert real_items[night.pk] == ("push", datetime(2026, 12, 4, 6, 0, tzinfo=UTC))
    assert body["considered"] == Notification.objects.filter(kind__in=ITEM_KINDS).count()
    assert body["truncated"] is False
    by_id = {i["notification_id"]: i for i in body["items"]}
    assert by_id[night.pk]["urgency"] == "important"
    assert by_id[night.pk]["item"] == {"type": "works", "id": works["Chantier de nuit"].pk}
    assert by_id[night.pk]["title"] == night.text_for("fr")["title"]


def test_candidate_settings_change_the_answer(week, mobility):
    resident, works = week
    ids = {
        name: Notification.objects.get(item_id=item.pk, kind=Kind.NEW).pk
        for name, item in works.items()
    }

    generous = _simulate(resident, {"info_per_week": 10}).json()
    no_quiet = _simulate(resident, {"quiet_hours_start": None, "quiet_hours_end": None}).json()
    far = {"label": "work", "location": {"type": "Point", "coordinates": list(FAR)}}
    moved = _simulate(resident, {"places": [{**far, "radius_m": 1000}]}).json()
    unfollowed = _simulate(
        resident, {"interests": {"categories": [], "areas": [], "organizations": []}}
    ).json()
    weekly = _simulate(resident, {"weekly_digest_day": 6}).json()
    silent = _simulate(resident, {"notifications_enabled": False}).json()

    assert {i["delivered_as"] for i in generous["items"]} == {"push"}
    assert generous["pushes"] == 6  # the digests' items now come as pushes
    night = _simulated(no_quiet)[ids["Chantier de nuit"]]
    assert night == ("push", datetime(2026, 12, 3, 21, 30, tzinfo=UTC))
    # far away: the city-wide important item and the far works ("Ailleurs" has no follow
    # filter problem: it is information in the followed category)
    assert set(_simulated(moved)) == {ids["Chantier loin"], ids["Ailleurs"]}
    # no category followed: only what is important reaches the place
    assert set(_simulated(unfollowed)) == {ids["Chantier loin"], ids["Chantier de nuit"]}
    [digest] = weekly["digests"]
    # Sunday 18:00 in Paris
    assert datetime.fromisoformat(digest["sent_at"]) == datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    assert weekly["pushes"] == 4  # the weekly digest has not gone yet on Saturday
    assert silent["items"] == [] and silent["pushes"] == 0


def test_the_simulation_stores_nothing(week, mobility):
    resident, _works = week
    device = resident.device
    before = (
        Notification.objects.count(),
        Delivery.objects.count(),
        list(Place.objects.filter(device=device).values()),
        list(CategoryFollow.objects.filter(device=device).values()),
        Device.objects.filter(pk=device.pk).values().get(),
    )
    body = {
        "info_per_week": 0,
        "quiet_hours_start": "20:00",
        "quiet_hours_end": "09:00",
        "min_urgency": "important",
        "places": [
            {
                "label": "home",
                "location": {"type": "Point", "coordinates": list(NEAR)},
                "radius_m": 3000,
            }
        ],
        "interests": {"categories": [], "areas": [], "organizations": []},
    }
    with time_machine.travel(ASKED, tick=False):
        resident.client.get("/api/v1/me/")  # the device is seen: no write of last_seen_at below
        with CaptureQueriesContext(connection) as queries:
            answer = resident.client.post(API, body, format="json")

    assert answer.status_code == 200, answer.content
    assert answer["Cache-Control"] == "no-store"
    writes = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    after = (
        Notification.objects.count(),
        Delivery.objects.count(),
        list(Place.objects.filter(device=device).values()),
        list(CategoryFollow.objects.filter(device=device).values()),
        Device.objects.filter(pk=device.pk).values().get(),
    )
    assert after == before


def test_the_replay_is_bounded(week, monkeypatch):
    resident, _works = week
    monkeypatch.setattr(simulation, "MAX_NOTIFICATIONS", 2)

    body = _simulate(resident).json()

    assert body["considered"] == 2 and body["truncated"] is True
    newest = Notification.objects.filter(kind__in=ITEM_KINDS).order_by("-created_at", "-id")[:2]
    assert {i["notification_id"] for i in body["items"]} <= {n.pk for n in newest}
    # older than 7 days: not replayed
    with time_machine.travel(T0 + timedelta(days=9), tick=False):
        late = resident.client.post(API, {}, format="json").json()
    assert late["considered"] == 0 and late["items"] == []


@pytest.mark.parametrize(
    "body",
    [
        {
            "places": [
                {
                    "label": "home",
                    "location": {"type": "Point", "coordinates": list(NEAR)},
                    "radius_m": 50,
                }
            ]
        },
        {
            "places": [
                {
                    "label": "home",
                    "location": {"type": "Point", "coordinates": list(NEAR)},
                    "radius_m": 500,
                }
            ]
            * 11
        },
        {"places": "here"},
        {"interests": {"categories": ["inconnue"], "areas": [], "organizations": []}},
        {"max_pushes_per_day": 0},
        {"info_per_week": "3"},
        {"quiet_hours_start": "22:00"},  # the device has none: both or neither
        {"language": "en"},  # not a setting that changes pushes
        {"unknown": 1},
    ],
)
def test_bad_settings_are_400(body):
    resident = phone_resident()
    answer = resident.client.post(API, body, format="json")
    assert answer.status_code == 400, answer.content


def test_without_a_device_token_it_is_401():
    from rest_framework.test import APIClient

    assert APIClient().post(API, {}, format="json").status_code == 401


def test_the_simulator_is_in_the_openapi_schema():
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/v1/schema/?format=json").json()
    operation = schema["paths"][API]["post"]
    assert operation["operationId"] == "me_simulate"
    assert "SimulateInputRequest" in schema["components"]["schemas"]
    assert "Simulation" in schema["components"]["schemas"]


def test_the_query_count_does_not_grow_with_the_week(
    week, run, mobility, django_assert_num_queries
):
    """One query per item type present, whatever the number of notifications replayed."""
    resident, _works = week
    with time_machine.travel(ASKED, tick=False):
        resident.client.get("/api/v1/me/")  # the device is seen: last_seen_at is not written
        with django_assert_num_queries(9):
            first = resident.client.post(API, {}, format="json")
        for n in range(5):
            run(
                content_publish, item=WorksFactory(category=mobility, notify=True, title_fr=f"+{n}")
            )
        with django_assert_num_queries(9):
            second = resident.client.post(API, {}, format="json")
    assert second.json()["considered"] == first.json()["considered"] + 5
