"""Moving to a new phone: one-time transfer codes (format, expiry, single use, carry-over)."""

from __future__ import annotations

import re
import uuid
from datetime import time, timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.models import AreaKind
from apps.recommend.models import Interaction
from apps.residents.models import Device, SavedItem, TransferCode
from apps.residents.tokens import transfer_code_hash, transfer_code_normalize
from tests.factories import NewsFactory
from tests.residents.factories import PlaceFactory, bearer_client, make_resident, published

pytestmark = pytest.mark.django_db

CODE_URL = "/api/v1/me/transfer-code/"


def new_phone(code: str, **extra) -> tuple[int, dict]:
    response = APIClient().post(
        "/api/v1/devices/", {"platform": "ios", "transfer_code": code, **extra}, format="json"
    )
    return response.status_code, response.json()


def test_transfer_code_is_short_typable_and_stored_hashed(resident):
    response = resident.client.post(CODE_URL)

    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", body["code"])
    stored = TransferCode.objects.get(device=resident.device)
    assert stored.code_hash == transfer_code_hash(transfer_code_normalize(body["code"]))
    assert body["code"].replace("-", "") not in stored.code_hash
    expires = stored.expires_at - timezone.now()
    assert timedelta(minutes=14) < expires <= timedelta(minutes=15)


def test_transfer_code_endpoint_takes_no_body(resident):
    response = resident.client.post(CODE_URL, {"device": 3}, format="json")

    assert response.status_code == 400
    assert not TransferCode.objects.exists()


def test_transfer_code_normalisation_forgives_typing():
    assert transfer_code_normalize("abcde-fghjk") == "ABCDEFGHJK"
    assert transfer_code_normalize(" 0O1IL  23456 ") == "0011123456"
    assert transfer_code_normalize("ABCDE-FGHJ") is None
    assert transfer_code_normalize("ABCDE-FGHJU") is None  # U is not in the alphabet
    assert transfer_code_normalize("ÀBCDE-FGHJK") is None


def test_a_new_code_replaces_the_previous_one(resident):
    first = resident.client.post(CODE_URL).json()["code"]
    second = resident.client.post(CODE_URL).json()["code"]

    assert TransferCode.objects.filter(device=resident.device).count() == 1
    assert new_phone(first)[0] == 400
    assert new_phone(second)[0] == 201


def test_transfer_carries_the_profile_over_and_retires_the_old_device(taxonomy_followed):
    old = taxonomy_followed
    old_id = old.device.pk
    code = old.client.post(CODE_URL).json()["code"]

    status, body = new_phone(code.lower(), push_token="new-phone-token-0123456789")

    assert status == 201
    new = Device.objects.get(pk=body["id"])
    assert not Device.objects.filter(pk=old_id).exists()
    assert bearer_client(old.token).get("/api/v1/me/").status_code == 401
    client = bearer_client(body["token"])
    me = client.get("/api/v1/me/").json()
    assert (me["platform"], me["language"], me["timezone"]) == ("ios", "en", "Asia/Tokyo")
    assert (me["quiet_hours_start"], me["quiet_hours_end"]) == ("22:00:00", "07:00:00")
    assert (me["min_urgency"], me["max_pushes_per_day"]) == ("important", 3)
    assert me["personalization_consent"] is True
    assert me["has_push_token"] is True
    assert new.personalization_consent_at is not None
    assert [p["name"] for p in client.get("/api/v1/me/places/").json()] == ["Maison", "Bureau"]
    assert client.get("/api/v1/me/interests/").json() == {
        "categories": ["culture"],
        "areas": ["centre"],
        "organizations": ["ville"],
    }
    assert client.get("/api/v1/me/saved/").json()["count"] == 1
    assert Interaction.objects.filter(device=new).count() == 2
    assert not TransferCode.objects.exists()


def test_transfer_without_consent_does_not_carry_interactions(resident, news):
    resident.device.personalization_consent = False
    resident.device.save()
    Interaction.objects.create(
        device=resident.device,
        event_id=uuid.uuid4(),
        item_type=1,
        item_id=news.pk,
        action=2,
        context=1,
        at=timezone.now(),
    )
    code = resident.client.post(CODE_URL).json()["code"]

    status, _body = new_phone(code)

    assert status == 201
    assert not Interaction.objects.exists()


def test_explicit_language_and_timezone_win_over_copied_ones(resident):
    resident.client.patch(
        "/api/v1/me/", {"language": "en", "timezone": "Asia/Tokyo"}, format="json"
    )
    code = resident.client.post(CODE_URL).json()["code"]

    _, body = new_phone(code, language="fr", timezone="Europe/Brussels")

    new = Device.objects.get(pk=body["id"])
    assert (new.language, new.timezone) == ("fr", "Europe/Brussels")


def test_transfer_code_is_single_use(resident):
    code = resident.client.post(CODE_URL).json()["code"]

    assert new_phone(code)[0] == 201
    status, error = new_phone(code)

    assert status == 400
    assert "transfer_code" in error["fields"]
    assert Device.objects.count() == 1


def test_transfer_code_expires_after_fifteen_minutes(resident):
    code = resident.client.post(CODE_URL).json()["code"]

    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        status, error = new_phone(code)

    assert status == 400
    assert "transfer_code" in error["fields"]
    assert Device.objects.count() == 1
    assert resident.client.get("/api/v1/me/").status_code == 200


def test_transfer_code_still_works_just_before_expiry(resident):
    code = resident.client.post(CODE_URL).json()["code"]

    with time_machine.travel(timezone.now() + timedelta(minutes=14, seconds=50)):
        assert new_phone(code)[0] == 201


@pytest.mark.parametrize("code", ["ABCDE-FGHJK", "", "x" * 33, "ABCDE FGHJK!"])
def test_wrong_transfer_codes_are_400_and_register_nothing(resident, code):
    resident.client.post(CODE_URL)

    status, error = new_phone(code)

    assert status == 400
    assert "transfer_code" in error["fields"]
    assert Device.objects.count() == 1


@pytest.fixture
def news():
    return published(NewsFactory())


@pytest.fixture
def taxonomy_followed(culture, centre, city, news):
    old = make_resident(
        language="en",
        timezone="Asia/Tokyo",
        quiet_hours_start=time(22),
        quiet_hours_end=time(7),
        min_urgency=1,
        max_pushes_per_day=3,
        personalization_consent=True,
    )
    assert centre.kind == AreaKind.DISTRICT
    PlaceFactory(device=old.device, name="Maison")
    PlaceFactory(device=old.device, name="Bureau", label="work")
    old.client.put(
        "/api/v1/me/interests/",
        {"categories": ["culture"], "areas": ["centre"], "organizations": ["ville"]},
        format="json",
    )
    SavedItem.objects.create(device=old.device, item_type="news", item_id=news.pk)
    for action in ("open", "save"):
        old.client.post(
            "/api/v1/interactions/",
            {
                "events": [
                    {
                        "type": "news",
                        "id": news.pk,
                        "action": action,
                        "at": timezone.now().isoformat(),
                        "context": "feed",
                        "position": 0,
                        "event_id": str(uuid.uuid4()),
                    }
                ]
            },
            format="json",
        )
    return old
