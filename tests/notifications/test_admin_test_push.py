"""The admin's "send a test push to device <id>": who may, what is refused, what it reports."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification, Reason
from apps.residents.services import device_preferences_update
from tests.notifications.helpers import phone
from tests.residents.factories import make_resident
from tests.staff import staff_login

pytestmark = pytest.mark.django_db

TEST_PUSH = reverse("admin:notifications_notification_test_push")
CHANGELIST = reverse("admin:notifications_notification_changelist")


def errors_of(response) -> list[str]:
    return list(response.context["form"].errors.get("device", []))


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", "Ce champ est obligatoire."),
        ("abc", "Saisissez un nombre entier."),
        ("1.5", "Saisissez un nombre entier."),
        ("0", "Assurez-vous que cette valeur est supérieure ou égale à 1."),
        ("-3", "Assurez-vous que cette valeur est supérieure ou égale à 1."),
        ("99999999999999999999", "Assurez-vous que cette valeur est inférieure ou égale à"),
        ("424242", "Aucun appareil joignable n'a cet identifiant"),
    ],
)
def test_bad_device_ids_are_refused_and_nothing_is_sent(
    value, error, superuser_client, log_backend
):
    phone()  # a device exists, just not this one

    response = superuser_client.post(TEST_PUSH, {"device": value})

    assert response.status_code == 200
    assert any(message.startswith(error) for message in errors_of(response)), errors_of(response)
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()
    assert log_backend.records() == []


UNREACHABLE = [
    "Aucun appareil joignable n'a cet identifiant : vérifiez le numéro, et que l'application "
    "est ouverte sur le téléphone, avec les notifications activées."
]


def test_a_device_without_a_live_token_is_refused_like_an_unknown_id(superuser_client, log_backend):
    no_token = make_resident().device
    dead = phone()
    dead.push_token_active = False
    dead.save(update_fields=["push_token_active"])

    for device in (no_token, dead):
        response = superuser_client.post(TEST_PUSH, {"device": device.pk})
        assert errors_of(response) == UNREACHABLE  # no oracle: test_admin_test_push_oracle
    assert not Notification.objects.exists()


def test_a_device_that_turned_notifications_off_is_not_disturbed_nor_revealed(
    superuser_client, log_backend
):
    device = phone()
    device_preferences_update(device=device, changes={"notifications_enabled": False})

    response = superuser_client.post(TEST_PUSH, {"device": device.pk})

    assert errors_of(response) == UNREACHABLE
    assert not Delivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_test_push_is_sent_at_once_and_reported(client, superuser, log_backend):
    device = phone(
        language="en", quiet_hours_start="00:00", quiet_hours_end="23:59", max_pushes_per_day=1
    )
    staff_login(client, superuser)

    response = client.post(TEST_PUSH, {"device": str(device.pk)}, follow=True)

    assert response.redirect_chain == [(TEST_PUSH, 302)]
    assert f"Notification de test envoyée à l&#x27;appareil {device.pk}." in (
        response.content.decode()
    )
    [record] = log_backend.records()
    assert record.push.token == device.push_token
    assert record.push.title == "Test notification"  # the device's language
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.notification.kind == Kind.TEST
    assert delivery.notification.created_by == superuser
    page = client.get(
        reverse("admin:notifications_notification_change", args=[delivery.notification_id])
    ).content.decode()
    assert f'<div class="readonly">{superuser.username}</div>' in page
    assert '<td class="count">1</td>' in page  # a test push's counts are not masked


@pytest.mark.django_db(transaction=True)
def test_a_dead_token_is_reported_with_its_reason(client, superuser, fcm_settings, fake_fcm):
    device = phone()
    fake_fcm.set_faults(unregistered=[device.push_token])
    staff_login(client, superuser)

    response = client.post(TEST_PUSH, {"device": device.pk}, follow=True)

    html = response.content.decode()
    assert (
        f"Échec de l&#x27;envoi à l&#x27;appareil {device.pk} : Jeton invalide "
        "(code UNREGISTERED)." in html
    )
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.reason) == (DeliveryStatus.FAILED, Reason.DEAD_TOKEN)
    device.refresh_from_db()
    assert device.push_token_active is False


def test_editors_may_not_send_test_pushes(editor_client, log_backend):
    device = phone()

    assert editor_client.get(TEST_PUSH).status_code == 403
    assert editor_client.post(TEST_PUSH, {"device": device.pk}).status_code == 403
    assert "Envoyer une notification de test" not in editor_client.get(CHANGELIST).content.decode()
    assert not Notification.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(TEST_PUSH)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_permission_lets_an_editor_send_them(client, city_editor, log_backend):
    city_editor.user_permissions.add(Permission.objects.get(codename="send_test_push"))
    staff_login(client, city_editor)

    page = client.get(TEST_PUSH)
    listing = client.get(CHANGELIST)

    assert page.status_code == 200
    assert 'id="test-push-form"' in page.content.decode()
    assert "Envoyer une notification de test" in listing.content.decode()
