"""Staff sign-in: lock-out after failed passwords, the TOTP second factor, session lifetime."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.models import Membership
from tests.factories import UserFactory
from tests.staff import PASSWORD, staff_login, totp_code, totp_device

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
INDEX = reverse("admin:index")
NEWS = reverse("admin:news_news_changelist")
VERIFY = reverse("staff_mfa_verify")
ENROL = reverse("staff_mfa_enrol")


def sign_in(client: Client, username: str, password: str, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def sender(db):
    """Staff outside any organization, allowed to send test pushes."""
    user = UserFactory(username="testeur")
    user.user_permissions.add(Permission.objects.get(codename="send_test_push"))
    return user


@pytest.fixture
def clerk(db):
    """Staff with no organization and no push right (manages taxonomy, say)."""
    return UserFactory(username="stagiaire")


# --- lock-out (django-axes) ---------------------------------------------------------------


def test_staff_login_fifty_wrong_passwords_lock_the_account_and_the_right_one_is_refused(
    client, city_editor, settings
):
    answers = [sign_in(client, "camille", f"essai-{n}").status_code for n in range(50)]

    assert 302 not in answers
    assert answers[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert set(answers[settings.AXES_FAILURE_LIMIT :]) == {429}
    locked = sign_in(client, "camille", PASSWORD)
    assert locked.status_code == 429
    assert "Trop de tentatives de connexion échouées" in locked.content.decode()
    assert not signed_in(client)


def test_staff_login_lock_is_per_username_and_address(client, city_editor, metropole_editor):
    for n in range(5):
        sign_in(client, "camille", f"essai-{n}")

    # The same address may still sign in another user; another address, the same user.
    assert sign_in(Client(), "dominique", PASSWORD).status_code == 302
    assert sign_in(Client(REMOTE_ADDR="192.0.2.44"), "camille", PASSWORD).status_code == 302
    assert sign_in(Client(), "camille", PASSWORD).status_code == 429


def test_staff_login_lock_ends_after_the_cool_off(client, city_editor, settings):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for n in range(5):
            sign_in(client, "camille", f"essai-{n}")
        assert sign_in(client, "camille", PASSWORD).status_code == 429

        clock.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))

        assert sign_in(client, "camille", PASSWORD).status_code == 302


def test_staff_login_unlock_command_lifts_the_lock(client, city_editor):
    for n in range(5):
        sign_in(client, "camille", f"essai-{n}")

    call_command("axes_reset_username", "camille")

    assert sign_in(client, "camille", PASSWORD).status_code == 302


def test_staff_login_forged_forwarded_for_does_not_escape_the_lock_without_a_proxy(
    client, city_editor
):
    for n in range(5):
        sign_in(client, "camille", f"essai-{n}", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    forged = sign_in(client, "camille", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99")

    assert forged.status_code == 429


def test_staff_login_behind_a_proxy_locks_the_address_the_proxy_reports(
    client, city_editor, settings
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for n in range(5):
        # The client forges the left part; the proxy appends the address it saw.
        sign_in(client, "camille", f"essai-{n}", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.7")

    same = sign_in(client, "camille", PASSWORD, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7")
    other = sign_in(Client(), "camille", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8")

    assert same.status_code == 429
    assert other.status_code == 302


# --- second factor (django-otp, TOTP) -------------------------------------------------------


@pytest.mark.parametrize("persona", ["superuser", "city_editor", "sender"])
def test_mfa_is_required_before_anything_else_for_whoever_can_notify(request, client, persona):
    user = request.getfixturevalue(persona)

    assert sign_in(client, user.username, PASSWORD).status_code == 302

    for page in (INDEX, NEWS, reverse("admin:notifications_notification_changelist")):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(ENROL)
    # The session authenticates nothing on the API either, until the second factor.
    api = client.post("/api/v1/news/", {"title_fr": "x"}, content_type="application/json")
    assert api.status_code in (401, 403)
    assert client.get(ENROL).status_code == 200


def test_mfa_is_optional_for_staff_who_cannot_notify(client, clerk):
    assert sign_in(client, clerk.username, PASSWORD).status_code == 302

    assert client.get(INDEX).status_code == 200
    assert client.get(ENROL).status_code == 200  # they may enrol themselves


def test_mfa_enrolment_pairs_an_app_confirmed_by_its_first_code(client, superuser):
    sign_in(client, superuser.username, PASSWORD)
    page = client.get(ENROL, {"next": NEWS})
    html = page.content.decode()
    assert "<svg" in html  # the QR code, drawn by the server
    key = re.search(r'id="mfa-key">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    device = TOTPDevice.objects.get(user=superuser)
    assert not device.confirmed
    assert key == __import__("base64").b32encode(device.bin_key).decode()

    wrong = client.post(ENROL, {"otp_token": "000000", "next": NEWS})
    assert "Code incorrect" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0  # the wait a wrong code costs: tested below
    device.throttling_failure_timestamp = None
    device.save()
    done = client.post(ENROL, {"otp_token": totp_code(device), "next": NEWS})

    assert done.status_code == 302 and done["Location"] == NEWS
    assert client.get(NEWS).status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_mfa_with_a_device_asks_for_the_code_and_a_password_cannot_add_another(client, city_editor):
    device = totp_device(city_editor)
    sign_in(client, city_editor.username, PASSWORD)

    assert client.get(INDEX)["Location"].startswith(VERIFY)
    assert client.get(ENROL)["Location"].startswith(VERIFY)  # no second device on a password
    assert TOTPDevice.objects.filter(user=city_editor).count() == 1

    assert client.post(VERIFY, {"otp_token": totp_code(device)}).status_code == 302
    assert client.get(INDEX).status_code == 200


def test_mfa_wrong_codes_slow_down_the_next_tries(client, city_editor):
    device = totp_device(city_editor)
    sign_in(client, city_editor.username, PASSWORD)

    wrong = client.post(VERIFY, {"otp_token": "123456"})
    right_too_soon = client.post(VERIFY, {"otp_token": totp_code(device)})

    assert "Code incorrect" in wrong.content.decode()
    assert "Trop de codes erronés" in right_too_soon.content.decode()
    assert client.get(INDEX).status_code == 302


def test_mfa_optional_user_with_a_device_must_use_it(client, clerk):
    totp_device(clerk)
    sign_in(client, clerk.username, PASSWORD)

    assert client.get(INDEX)["Location"].startswith(VERIFY)


def test_mfa_verified_session_may_publish_through_the_api(client, city_editor, mobility):
    staff_login(client, city_editor)

    response = client.post(
        "/api/v1/news/",
        {"title_fr": "Marché de Noël", "summary_fr": "Place Bellecour.", "category": "mobilite"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content


# --- session lifetime -------------------------------------------------------------------------


def test_staff_session_ends_after_the_idle_limit(client, city_editor, settings):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        staff_login(client, city_editor)
        clock.shift(timedelta(seconds=settings.STAFF_SESSION_IDLE_S - 60))
        assert client.get(INDEX).status_code == 200  # active: the idle clock restarts

        clock.shift(timedelta(seconds=settings.STAFF_SESSION_IDLE_S + 1))
        response = client.get(NEWS)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not signed_in(client)


def test_staff_session_ends_after_the_absolute_limit_even_when_active(
    client, city_editor, settings
):
    step = timedelta(seconds=settings.STAFF_SESSION_IDLE_S // 2)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        staff_login(client, city_editor)
        elapsed = timedelta(0)
        while elapsed + step <= timedelta(seconds=settings.STAFF_SESSION_MAX_AGE_S):
            clock.shift(step)
            elapsed += step
            assert client.get(INDEX).status_code == 200
        clock.shift(step)
        response = client.get(INDEX)

    assert response["Location"].startswith(LOGIN)
    assert not signed_in(client)


def test_staff_session_cookie_does_not_outlive_the_absolute_limit(client, city_editor, settings):
    staff_login(client, city_editor)

    assert client.cookies["sessionid"]["max-age"] == settings.STAFF_SESSION_MAX_AGE_S
    assert Membership.objects.filter(user=city_editor).exists()
