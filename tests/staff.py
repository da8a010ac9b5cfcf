"""Signing staff in as a browser does: password (django-axes counts it), then the TOTP code.

Tests of the admin use ``staff_login`` rather than ``force_login``: an editor or a superuser
whose session has not passed the second factor sees only the verification page.
"""

from __future__ import annotations

import time
from typing import Any

from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "motdepasse-solide-42"  # tests.factories.UserFactory


def totp_device(user: Any) -> TOTPDevice:
    """``user``'s confirmed authenticator (created on first use)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    """A code ``device`` accepts now: the current step, or the next one if the current one was
    just used (django-otp refuses a code twice)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:
        totp.time += device.step * (device.last_t + 1 - totp.t())
    return f"{totp.token():0{device.digits}d}"


def staff_login(client: Any, user: Any, *, password: str = PASSWORD) -> Any:
    """Sign ``user`` in to the admin through the login page and, if they have or need one,
    their authenticator; returns ``client``."""
    from apps.core.admin.staff import mfa_required

    response = client.post(
        reverse("admin:login"), {"username": user.get_username(), "password": password}
    )
    assert response.status_code == 302, f"password refused for {user}"
    if mfa_required(user) or TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        device = totp_device(user)
        response = client.post(reverse("staff_mfa_verify"), {"otp_token": totp_code(device)})
        assert response.status_code == 302, f"second factor refused for {user}"
    return client
