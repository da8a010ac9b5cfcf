"""Preferences: ``GET/PATCH /me/`` and ``PUT /me/push-token/``."""

from __future__ import annotations

from datetime import time

import pytest

from apps.core.models import Urgency
from apps.residents.models import Device
from tests.residents.factories import make_resident

pytestmark = pytest.mark.django_db

FCM_TOKEN = "fcm-token:" + "c" * 140


def test_me_shows_the_preferences(resident, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = resident.client.get("/api/v1/me/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "id": resident.device.pk,
        "platform": "android",
        "language": "fr",
        "timezone": "Europe/Paris",
        "notifications_enabled": True,
        "quiet_hours_start": None,
        "quiet_hours_end": None,
        "max_pushes_per_day": 5,
        "info_per_week": 3,
        "important_per_day": 2,
        "weekly_digest_day": None,
        "weekly_digest_time": "18:00:00",
        "min_urgency": "info",
        "personalization_consent": False,
        "personalization_consent_at": None,
        "remind_saved_events": True,
        "remind_works_near_home": True,
        "has_push_token": False,
        "created_at": response.json()["created_at"],
    }


def test_me_patch_changes_every_preference(resident):
    response = resident.client.patch(
        "/api/v1/me/",
        {
            "language": "en",
            "timezone": "Pacific/Noumea",
            "notifications_enabled": False,
            "quiet_hours_start": "22:30",
            "quiet_hours_end": "07:00",
            "max_pushes_per_day": 12,
            "min_urgency": "important",
            "personalization_consent": True,
            "remind_saved_events": False,
            "remind_works_near_home": False,
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["quiet_hours_start"] == "22:30:00"
    assert body["min_urgency"] == "important"
    device = resident.refresh()
    assert device.language == "en"
    assert device.timezone == "Pacific/Noumea"
    assert device.notifications_enabled is False
    assert (device.quiet_hours_start, device.quiet_hours_end) == (time(22, 30), time(7, 0))
    assert device.max_pushes_per_day == 12
    assert device.min_urgency == Urgency.IMPORTANT
    assert device.personalization_consent is True
    assert device.personalization_consent_at is not None
    assert (device.remind_saved_events, device.remind_works_near_home) == (False, False)


def test_me_patch_of_one_field_leaves_the_others(resident):
    resident.client.patch("/api/v1/me/", {"language": "en"}, format="json")
    resident.client.patch("/api/v1/me/", {"max_pushes_per_day": 3}, format="json")

    device = resident.refresh()
    assert (device.language, device.max_pushes_per_day) == ("en", 3)


def test_quiet_hours_can_be_cleared_together(resident):
    resident.client.patch(
        "/api/v1/me/", {"quiet_hours_start": "23:00", "quiet_hours_end": "06:00"}, format="json"
    )
    response = resident.client.patch(
        "/api/v1/me/", {"quiet_hours_start": None, "quiet_hours_end": None}, format="json"
    )

    assert response.status_code == 200
    assert resident.refresh().quiet_hours_start is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"language": "de"}, "language"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"notifications_enabled": "maybe"}, "notifications_enabled"),
        ({"quiet_hours_start": "25:00", "quiet_hours_end": "07:00"}, "quiet_hours_start"),
        ({"quiet_hours_start": "22:00"}, "quiet_hours_start"),
        ({"quiet_hours_start": "22:00", "quiet_hours_end": "22:00"}, "quiet_hours_end"),
        ({"max_pushes_per_day": 0}, "max_pushes_per_day"),
        ({"max_pushes_per_day": 51}, "max_pushes_per_day"),
        ({"max_pushes_per_day": 2**70}, "max_pushes_per_day"),
        ({"min_urgency": "critical"}, "min_urgency"),
        ({"min_urgency": 2}, "min_urgency"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"id": 99}, "id"),
        ({"platform": "ios"}, "platform"),
        ({"has_push_token": True}, "has_push_token"),
        ({"personalization_consent_at": "2020-01-01T00:00:00Z"}, "personalization_consent_at"),
    ],
)
def test_me_patch_rejects_bad_input_and_changes_nothing(resident, body, field):
    before = resident.client.get("/api/v1/me/").json()

    response = resident.client.patch("/api/v1/me/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert field in response.json()["fields"]
    assert resident.client.get("/api/v1/me/").json() == before


def test_half_quiet_hours_against_existing_values_is_rejected(resident):
    resident.client.patch(
        "/api/v1/me/", {"quiet_hours_start": "23:00", "quiet_hours_end": "06:00"}, format="json"
    )

    response = resident.client.patch("/api/v1/me/", {"quiet_hours_end": None}, format="json")

    assert response.status_code == 400
    assert resident.refresh().quiet_hours_end == time(6, 0)


def test_consent_records_when_it_was_given_and_clears_on_withdrawal(resident):
    resident.client.patch("/api/v1/me/", {"personalization_consent": True}, format="json")
    given_at = resident.refresh().personalization_consent_at
    assert given_at is not None

    resident.client.patch("/api/v1/me/", {"personalization_consent": True}, format="json")
    assert resident.refresh().personalization_consent_at == given_at

    resident.client.patch("/api/v1/me/", {"personalization_consent": False}, format="json")
    assert resident.refresh().personalization_consent_at is None


def test_push_token_put_sets_rotates_and_removes(resident):
    url = "/api/v1/me/push-token/"
    assert resident.client.put(url, {"push_token": FCM_TOKEN}, format="json").status_code == 204
    device = resident.refresh()
    assert (device.push_token, device.push_token_active) == (FCM_TOKEN, True)
    assert resident.client.get("/api/v1/me/").json()["has_push_token"] is True

    rotated = FCM_TOKEN + "-new"
    resident.client.put(url, {"push_token": rotated}, format="json")
    assert resident.refresh().push_token == rotated

    resident.client.put(url, {"push_token": None}, format="json")
    device = resident.refresh()
    assert (device.push_token, device.push_token_active) == (None, False)


def test_push_token_put_moves_the_token_from_another_device(resident):
    holder = make_resident(push_token=FCM_TOKEN)

    resident.client.put("/api/v1/me/push-token/", {"push_token": FCM_TOKEN}, format="json")

    assert holder.refresh().push_token is None
    assert Device.objects.get(push_token=FCM_TOKEN) == resident.device


def test_push_token_put_reactivates_a_token_marked_dead(resident):
    resident.client.put("/api/v1/me/push-token/", {"push_token": FCM_TOKEN}, format="json")
    Device.objects.filter(pk=resident.device.pk).update(push_token_active=False)

    resident.client.put("/api/v1/me/push-token/", {"push_token": FCM_TOKEN}, format="json")

    assert resident.refresh().push_token_active is True


@pytest.mark.parametrize(
    "body", [{}, {"push_token": "tiny"}, {"push_token": 42}, {"push_token": "x" * 20, "a": 1}]
)
def test_push_token_put_rejects_bad_input(resident, body):
    response = resident.client.put("/api/v1/me/push-token/", body, format="json")

    assert response.status_code == 400
    assert resident.refresh().push_token is None


@pytest.mark.parametrize(
    "body",
    [{"notifications_enabled": "false"}, {"notifications_enabled": 0}, {"max_pushes_per_day": "7"}],
)
def test_preferences_take_json_types_only(resident, body):
    response = resident.client.patch("/api/v1/me/", body, format="json")

    assert response.status_code == 400
    assert resident.refresh().max_pushes_per_day == 5
    assert resident.device.notifications_enabled is True
