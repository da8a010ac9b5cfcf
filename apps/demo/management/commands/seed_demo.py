"""``python manage.py seed_demo``: build the demo city (idempotent) and print the demo logins."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core.models import Membership
from apps.demo.context import demo_data
from apps.demo.services import demo_reset, demo_seed

#: How the table of logins names each role: a validator publishes, a writer asks one to.
ROLES: dict[str, str] = {
    Membership.Role.VALIDATOR: "validator",
    Membership.Role.EDITOR: "writer (rédacteur)",
}
COUNTED = (
    "areas",
    "organizations",
    "users",
    "categories",
    "venues",
    "devices",
    "news",
    "works",
    "events",
)


@contextmanager
def _quiet(logger_name: str, quiet: bool):
    """Hide a logger's INFO lines (one per published item) unless asked for more verbosity."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    if quiet:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class Command(BaseCommand):
    help = (
        "Build the demo city: districts, publishers and their staff, categories, venues, "
        "news, roadworks and events dated around today. Running it again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo news, works and events first, so they are re-dated from today.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DJANGO_DEBUG off (the demo logins have published passwords).",
        )

    def handle(self, *args, reset: bool = False, force: bool = False, **options):
        if not (settings.DEBUG or force):
            raise CommandError(
                "seed_demo creates staff logins whose passwords are published in the README: "
                "it runs only with DJANGO_DEBUG=1 (as `make run` sets), or with --force."
            )
        with _quiet("apps.core.services", quiet=options["verbosity"] < 2):
            if reset:
                deleted = demo_reset()
                self.stdout.write(
                    "Demo content deleted: " + ", ".join(f"{n} {k}" for k, n in deleted.items())
                )
            report = demo_seed()
        city = demo_data("city")["commune"]["name"]
        counts = ", ".join(
            f"{name} {report.created[name]}/{report.created[name] + report.existing[name]}"
            for name in COUNTED
        )
        self.stdout.write(f"Demo city {city} ready (created/total): {counts}")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins for /admin/ (username / password):"))
        for login in report.logins:
            who = (
                "superuser"
                if login.superuser
                else f"{ROLES.get(login.role, login.role)} of {login.organization}"
            )
            self.stdout.write(f"  {login.username} / {login.password}    ({who})")
        self.stdout.write(
            "Then a second factor: add the TOTP key to an authenticator app (FreeOTP, Aegis…), "
            "or run `python manage.py demo_totp` for the current codes."
        )
        for login in report.logins:
            self.stdout.write(f"  {login.username}: {login.totp_key}")
        editor = next(login for login in report.logins if not login.superuser)
        self.stdout.write(
            self.style.SUCCESS(f"Demo editor login: {editor.username} / {editor.password}")
        )
        self.stdout.write(self.style.SUCCESS(f"Demo editor TOTP key: {editor.totp_key}"))
