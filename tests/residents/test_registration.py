"""Anonymous registration, bearer-token authentication and the push-token rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from apps.residents.auth import (
    DeviceTokenAuthentication,
    OptionalDeviceTokenAuthentication,
    device_of,
)
from apps.residents.models import Device
from apps.residents.tokens import device_token_hash
from tests.residents.factories import bearer_client, make_resident

pytestmark = pytest.mark.django_db

FCM_TOKEN = "fcm-token:" + "a" * 140
OTHER_FCM_TOKEN = "fcm-token:" + "b" * 140


def register(body: dict, **headers) -> tuple[int, dict]:
    response = APIClient().post("/api/v1/devices/", body, format="json", **headers)
    return response.status_code, response.json()


def test_device_register_returns_id_and_a_token_stored_only_as_its_hash():
    status, body = register({"platform": "android"})

    assert status == 201
    assert set(body) == {"id", "token"}
    device = Device.objects.get(pk=body["id"])
    assert device.token_hash == device_token_hash(body["token"])
    assert body["token"] not in device.token_hash
    assert len(body["token"]) >= 40
    assert device.platform == "android"
    assert device.push_token is None
    assert device.timezone == "Europe/Paris"
    assert device.personalization_consent is False


def test_device_register_response_is_not_cacheable():
    response = APIClient().post("/api/v1/devices/", {"platform": "ios"}, format="json")
    assert response["Cache-Control"] == "no-store"


def test_device_register_takes_language_timezone_and_push_token():
    status, body = register(
        {
            "platform": "ios",
            "push_token": FCM_TOKEN,
            "language": "en",
            "timezone": "America/Montreal",
        }
    )

    assert status == 201
    device = Device.objects.get(pk=body["id"])
    assert (device.language, device.timezone, device.push_token) == (
        "en",
        "America/Montreal",
        FCM_TOKEN,
    )
    assert device.push_token_active is True
    assert device.push_token_updated_at is not None


def test_device_register_defaults_language_to_accept_language():
    _, body = register({"platform": "web"}, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert Device.objects.get(pk=body["id"]).language == "en"
    _, body = register({"platform": "web"}, HTTP_ACCEPT_LANGUAGE="de-DE")
    assert Device.objects.get(pk=body["id"]).language == "fr"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "platform"),
        ({"platform": "windows"}, "platform"),
        ({"platform": "android", "language": "de"}, "language"),
        ({"platform": "android", "timezone": "Europe/Lyon"}, "timezone"),
        ({"platform": "android", "timezone": "../../etc/passwd"}, "timezone"),
        ({"platform": "android", "push_token": "short"}, "push_token"),
        ({"platform": "android", "push_token": "has spaces " * 5}, "push_token"),
        ({"platform": "android", "push_token": "x" * 1025}, "push_token"),
        ({"platform": "android", "is_staff": True}, "is_staff"),
        ({"platform": "android", "token": "mine"}, "token"),
        ({"platform": "android", "transfer_code": "nope"}, "transfer_code"),
    ],
)
def test_device_register_rejects_bad_input_and_creates_nothing(body, field):
    status, error = register(body)

    assert status == 400
    assert error["error"] == "invalid"
    assert field in error["fields"]
    assert not Device.objects.exists()


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"android"', "application/json", 400),
        ("platform=android", "application/x-www-form-urlencoded", 415),
    ],
)
def test_device_register_rejects_malformed_bodies(content, content_type, expected):
    response = APIClient().generic("POST", "/api/v1/devices/", content, content_type=content_type)

    assert response.status_code == expected
    assert "error" in response.json()
    assert not Device.objects.exists()


def test_registering_a_push_token_held_by_another_device_moves_it():
    first = make_resident(push_token=FCM_TOKEN)

    _, body = register({"platform": "android", "push_token": FCM_TOKEN})

    first.refresh()
    assert first.device.push_token is None
    assert first.device.push_token_active is False
    assert Device.objects.get(pk=body["id"]).push_token == FCM_TOKEN
    assert Device.objects.filter(push_token=FCM_TOKEN).count() == 1


def test_me_requires_a_device_token_with_a_bearer_challenge():
    response = APIClient().get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer qd_unknown-token",
        "Bearer",
        "Bearer a b",
        "Bearer " + "x" * 500,
        "bearer qd_unknown-token",
    ],
)
def test_me_rejects_wrong_tokens_with_401(resident, header):
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_a_token_authenticates_its_own_device_only(resident, other_resident):
    assert resident.client.get("/api/v1/me/").json()["id"] == resident.device.pk
    assert other_resident.client.get("/api/v1/me/").json()["id"] == other_resident.device.pk


def test_last_seen_at_is_written_at_most_once_an_hour(resident, django_assert_num_queries):
    start = timezone.now()
    with (
        time_machine.travel(start + timedelta(minutes=30), tick=False),
        django_assert_num_queries(1),  # the token lookup, no write
    ):
        assert resident.client.get("/api/v1/me/").status_code == 200
    assert resident.refresh().last_seen_at < start + timedelta(minutes=1)

    later = start + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        with django_assert_num_queries(2):  # lookup + one UPDATE
            resident.client.get("/api/v1/me/")
        with django_assert_num_queries(1):
            resident.client.get("/api/v1/me/")
    assert resident.refresh().last_seen_at == later


class _WhoAmI(APIView):
    authentication_classes = [OptionalDeviceTokenAuthentication]
    permission_classes: list = []

    def get(self, request):
        from rest_framework.response import Response

        device = device_of(request)
        return Response(
            {"device": device.pk if device else None, "user": request.user.is_authenticated}
        )


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("Bearer qd_revoked", None), ("Bearer", None), ("Basic abc", None)],
)
def test_optional_authentication_treats_missing_or_bad_tokens_as_anonymous(header, expected):
    headers = {"HTTP_AUTHORIZATION": header} if header else {}
    response = _WhoAmI.as_view()(APIRequestFactory().get("/feed/", **headers))

    assert response.status_code == 200
    assert response.data == {"device": expected, "user": False}


def test_optional_authentication_identifies_a_device_and_keeps_user_anonymous(resident):
    request = APIRequestFactory().get("/feed/", HTTP_AUTHORIZATION=f"Bearer {resident.token}")
    response = _WhoAmI.as_view()(request)

    assert response.data == {"device": resident.device.pk, "user": False}


def test_strict_authentication_ignores_other_schemes():
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION="Api-Key abc")
    from rest_framework.request import Request

    assert DeviceTokenAuthentication().authenticate(Request(request)) is None


def test_erased_device_token_stops_working(resident):
    assert resident.client.delete("/api/v1/me/").status_code == 204

    response = bearer_client(resident.token).get("/api/v1/me/")

    assert response.status_code == 401
