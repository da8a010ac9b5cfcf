"""The test-push form is no oracle: it answers alike for every device it may not reach.

The rule (docs/editor-guide.md § 11, docs/privacy.md): a test push may target a device that can
receive it (a live push token, notifications on). An unknown id and an existing device that is
not reachable get the same page, so the form tells nothing about which ids exist or what a
resident chose in the app. A staff member sends at most ``TEST_PUSH_PER_HOUR`` test pushes an
hour, so nobody walks the ids pushing strangers' phones.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

import apps.notifications.admin.notifications as test_push_admin
from apps.notifications.models import Delivery, Notification
from apps.residents.services import device_preferences_update
from tests.notifications.helpers import phone
from tests.residents.factories import make_resident

pytestmark = pytest.mark.django_db

TEST_PUSH = reverse("admin:notifications_notification_test_push")


def page_without_token(response) -> str:
    """The page as the staff member reads it, minus the per-request CSRF token."""
    return re.sub(
        r'value="[^"]*" name="csrfmiddlewaretoken"|name="csrfmiddlewaretoken" value="[^"]*"',
        "",
        response.content.decode(),
    )


def test_test_push_form_answers_alike_for_unknown_and_unreachable_devices(
    superuser_client, log_backend
):
    no_token = make_resident().device
    dead = phone()
    dead.push_token_active = False
    dead.save(update_fields=["push_token_active"])
    muted = phone()
    device_preferences_update(device=muted, changes={"notifications_enabled": False})
    unknown = max(no_token.pk, dead.pk, muted.pk) + 1000

    pages = {}
    for name, device_id in [
        ("unknown", unknown),
        ("no_token", no_token.pk),
        ("dead", dead.pk),
        ("muted", muted.pk),
    ]:
        response = superuser_client.post(TEST_PUSH, {"device": device_id})
        assert response.status_code == 200
        pages[name] = page_without_token(response).replace(f'value="{device_id}"', "")

    assert pages["no_token"] == pages["unknown"]
    assert pages["dead"] == pages["unknown"]
    assert pages["muted"] == pages["unknown"]
    assert "Aucun appareil joignable n&#x27;a cet identifiant" in pages["unknown"]
    assert not Notification.objects.exists()
    assert log_backend.records() == []


def test_test_push_form_caps_the_pushes_of_one_staff_member_per_hour(superuser_client, log_backend):
    device = phone()
    for _ in range(test_push_admin.TEST_PUSH_PER_HOUR):
        superuser_client.post(TEST_PUSH, {"device": device.pk})
    assert Delivery.objects.count() == test_push_admin.TEST_PUSH_PER_HOUR

    response = superuser_client.post(TEST_PUSH, {"device": device.pk})

    assert response.status_code == 200
    assert "notifications de test depuis une heure" in response.content.decode()
    assert Delivery.objects.count() == test_push_admin.TEST_PUSH_PER_HOUR
