"""GDPR: export completeness, erasure completeness, retention purges — all found generically."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.db import models
from django.utils import timezone

from apps.recommend.models import Interaction
from apps.recommend.services import interactions_purge
from apps.recommend.tasks import interactions_purge_tick
from apps.residents.gdpr import device_data_sets
from apps.residents.models import Device, Place, TransferCode
from apps.residents.services import devices_purge_inactive
from apps.residents.tasks import residents_purge_tick
from backend.celery import app as celery_app
from tests.factories import EventFactory, NewsFactory
from tests.residents.factories import PlaceFactory, bearer_client, make_resident, published

pytestmark = pytest.mark.django_db


def _event(item, action="open", at=None):
    return {
        "type": item.type_code,
        "id": item.pk,
        "action": action,
        "at": (at or timezone.now()).isoformat(),
        "context": "feed",
        "position": 3,
        "event_id": str(uuid.uuid4()),
    }


@pytest.fixture
def full_resident(culture, centre, city, django_capture_on_commit_callbacks):
    """A resident with data in every model this project relates to a device."""
    resident = make_resident(
        push_token="fcm-" + "p" * 60, personalization_consent=True, language="en"
    )
    client = resident.client
    client.post(
        "/api/v1/me/places/",
        {
            "label": "home",
            "name": "Maison",
            "radius_m": 500,
            "location": {"type": "Point", "coordinates": [4.83571, 45.76389]},
        },
        format="json",
    )
    client.put(
        "/api/v1/me/interests/",
        {"categories": ["culture"], "areas": ["centre"], "organizations": ["ville"]},
        format="json",
    )
    news, event = published(NewsFactory()), published(EventFactory())
    client.post("/api/v1/me/saved/", {"type": "events", "id": event.pk}, format="json")
    client.post(
        "/api/v1/interactions/",
        {"events": [_event(news), _event(event, "save")]},
        format="json",
    )
    client.post("/api/v1/me/transfer-code/")
    alert = NewsFactory(category=culture, notify=True, title_fr="Fête", title_en="Party")
    with django_capture_on_commit_callbacks(execute=True):
        published(alert)  # pushed to the resident (near their home, follows culture)
    return resident


def test_export_contains_every_personal_datum_and_no_secret(full_resident):
    response = full_resident.client.get("/api/v1/me/export/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    export = response.json()
    device = export["device"]
    assert device["id"] == full_resident.device.pk
    assert device["push_token"] == "fcm-" + "p" * 60
    assert device["language"] == "en"
    assert device["personalization_consent"] is True
    assert "token_hash" not in device
    assert export["places"][0]["name"] == "Maison"
    assert export["places"][0]["location"] == {"type": "Point", "coordinates": [4.836, 45.764]}
    assert export["category_follows"][0]["category"] == "culture"
    assert export["area_follows"][0]["area"] == "centre"
    assert export["organization_follows"][0]["organization"] == "ville"
    assert export["saved_items"][0]["item_type"] == "events"
    assert sorted(row["action"] for row in export["interactions"]) == ["open", "save"]
    assert {row["item_type"] for row in export["interactions"]} == {"news", "events"}
    assert export["transfer_codes"][0].keys() == {"id", "expires_at", "created_at"}
    [delivery] = export["deliveries"]
    assert delivery["status"] == "sent"
    assert delivery["kind"] == "new"
    assert delivery["texts"]["en"]["title"] == "Party"
    assert delivery["why"]["category"] is True
    assert "error_code" not in delivery
    text = json.dumps(export)
    assert full_resident.device.token_hash not in text
    assert full_resident.token not in text
    assert TransferCode.objects.get().code_hash not in text


def test_export_lists_every_row_of_every_related_model(full_resident, other_resident):
    """Generic: every model reachable from Device, now or added later, is in the export."""
    other_resident.client.post(
        "/api/v1/me/places/",
        {"label": "work", "radius_m": 300, "location": {"type": "Point", "coordinates": [2, 48]}},
        format="json",
    )
    export = full_resident.client.get("/api/v1/me/export/").json()
    data_sets = device_data_sets(full_resident.device)

    assert {d.key for d in data_sets} <= set(export)
    for data_set in data_sets:
        rows = list(data_set.queryset.order_by("pk").values_list("pk", flat=True))
        assert [row["id"] for row in export[data_set.key]] == rows, data_set.key
    populated = {d.key for d in data_sets if export[d.key]}
    assert {
        "places",
        "category_follows",
        "area_follows",
        "organization_follows",
        "saved_items",
        "interactions",
        "transfer_codes",
        "deliveries",
    } <= populated


def test_export_needs_a_device_token():
    assert bearer_client("qd_nobody").get("/api/v1/me/export/").status_code == 401


def _rows_about(device_pk: int) -> dict[str, int]:
    """Walk every model with a relation to Device (hidden ones too) and count rows for it."""
    counts: dict[str, int] = {}
    device = Device(pk=device_pk)
    for data_set in device_data_sets(device):
        counts[data_set.key] = data_set.queryset.count()
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields(include_hidden=True):
            if isinstance(field, models.ForeignKey) and field.related_model is Device:
                label = f"{model._meta.label}.{field.name}"
                counts[label] = model._default_manager.filter(**{field.attname: device_pk}).count()
    counts["device"] = Device.objects.filter(pk=device_pk).count()
    return counts


def test_erase_leaves_nothing_about_the_device(full_resident, other_resident):
    PlaceFactory(device=other_resident.device)
    pk = full_resident.device.pk
    before = _rows_about(pk)
    assert sum(before.values()) >= 9

    response = full_resident.client.delete("/api/v1/me/")

    assert response.status_code == 204
    assert _rows_about(pk) == dict.fromkeys(before, 0)
    assert Place.objects.filter(device=other_resident.device).count() == 1
    assert bearer_client(full_resident.token).get("/api/v1/me/").status_code == 401


def test_every_relation_to_a_device_cascades():
    """Rows left behind with ``device_id = NULL`` would escape the erasure: forbid them."""
    offenders = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.get_fields(include_hidden=True)
        if isinstance(field, models.ForeignKey)
        and field.related_model is Device
        and field.remote_field.on_delete is not models.CASCADE
    ]
    assert offenders == []


def test_inactive_devices_are_purged_after_the_configured_days(settings, full_resident):
    settings.DEVICE_INACTIVE_DAYS = 270
    active = make_resident()
    start = timezone.now()

    with time_machine.travel(start + timedelta(days=269)):
        bearer_client(active.token).get("/api/v1/me/")  # seen again: stays
        assert devices_purge_inactive() == 0
    with time_machine.travel(start + timedelta(days=271)):
        result = residents_purge_tick.delay().get()

    assert result["devices"] == 1
    assert not Device.objects.filter(pk=full_resident.device.pk).exists()
    assert not Place.objects.exists()
    assert not Interaction.objects.exists()
    assert Device.objects.filter(pk=active.device.pk).exists()


def test_expired_transfer_codes_are_purged(full_resident):
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert residents_purge_tick.delay().get()["transfer_codes"] == 1
    assert not TransferCode.objects.exists()


def test_interactions_older_than_retention_are_purged(settings, full_resident):
    settings.RETENTION_DAYS = 90
    news = published(NewsFactory())
    start = timezone.now()
    full_resident.client.post("/api/v1/interactions/", {"events": [_event(news)]}, format="json")
    with time_machine.travel(start + timedelta(days=80)):
        fresh = _event(news)
        full_resident.client.post("/api/v1/interactions/", {"events": [fresh]}, format="json")

    with time_machine.travel(start + timedelta(days=90, hours=1)):
        assert interactions_purge_tick.delay().get() == 3
    assert list(Interaction.objects.values_list("event_id", flat=True)) == [
        uuid.UUID(fresh["event_id"])
    ]
    assert interactions_purge(now=start + timedelta(days=90, hours=1)) == 0


def test_purges_are_in_the_beat_schedule():
    schedule = celery_app.conf.beat_schedule
    assert schedule["residents-purge"]["task"] == "apps.residents.tasks.residents_purge_tick"
    assert schedule["interactions-purge"]["task"] == "apps.recommend.tasks.interactions_purge_tick"
