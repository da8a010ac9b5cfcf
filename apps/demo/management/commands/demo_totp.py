"""``python manage.py demo_totp [username…]``: the current TOTP codes of the demo logins.

The admin asks staff who can notify residents for a second factor; the demo logins have one
(``seed_demo`` prints their keys). This prints the code each would show now, for whoever tries
the demo without an authenticator app. Debug mode only, like ``seed_demo``.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.demo.context import demo_data


class Command(BaseCommand):
    help = "Print the current TOTP code of the demo logins (debug mode only)."

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="*", help="Demo logins (default: all).")
        parser.add_argument("--force", action="store_true", help="Run even with DJANGO_DEBUG off.")

    def handle(self, *args, usernames: list[str], force: bool = False, **options):
        if not (settings.DEBUG or force):
            raise CommandError("demo_totp runs only with DJANGO_DEBUG=1, or with --force.")
        demo = [entry["username"] for entry in demo_data("city")["users"]]
        unknown = sorted(set(usernames) - set(demo))
        if unknown:
            raise CommandError(f"not demo logins: {', '.join(unknown)}")
        devices = TOTPDevice.objects.filter(
            user__username__in=usernames or demo, confirmed=True, name="démo"
        ).select_related("user")
        for device in devices.order_by("user__username"):
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
            totp.time = time.time()
            left = device.step - int(totp.time - device.t0) % device.step
            code = f"{totp.token():0{device.digits}d}"
            self.stdout.write(f"{device.user.username}: {code}  (valid {left} s more)")
