"""``manage.py create_api_key <org slug> [--name NAME]``: make an organization API key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.models import Organization
from apps.core.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an organization and print it once (only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", help="slug of the organization")
        parser.add_argument("--name", default="", help="what the key is for (default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["organization"]
        try:
            organization = Organization.objects.get(slug=slug)
        except Organization.DoesNotExist:
            known = ", ".join(Organization.objects.values_list("slug", flat=True)[:20])
            raise CommandError(f"No organization {slug!r}. Known: {known or 'none'}.") from None
        key, raw = api_key_create(organization=organization, name=options["name"] or "cli")
        self.stderr.write(
            f"API key {key.prefix}… for {organization.name} ({organization.slug}). "
            "Copy it now: it is not stored and cannot be shown again."
        )
        self.stdout.write(raw)
