"""``demo_totp``: the current TOTP codes of the demo logins, accepted by the admin."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.demo.services import demo_totp_key
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_demo_totp_prints_a_code_the_device_accepts():
    user = UserFactory(username="camille.martin")
    key = demo_totp_key(user=user)
    assert demo_totp_key(user=user) == key  # kept across runs of seed_demo
    out = StringIO()

    call_command("demo_totp", "camille.martin", "--force", stdout=out)

    code = out.getvalue().split(": ")[1].split()[0]
    assert TOTPDevice.objects.get(user=user).verify_token(code)


def test_demo_totp_refuses_production_and_accounts_outside_the_demo(settings):
    UserFactory(username="maire")
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("demo_totp", stdout=StringIO())
    settings.DEBUG = True
    with pytest.raises(CommandError, match="not demo logins: maire"):
        call_command("demo_totp", "maire", stdout=StringIO())
