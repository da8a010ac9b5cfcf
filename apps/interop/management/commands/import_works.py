"""``manage.py import_works --wzdx|--datex2 FILE_OR_URL --organization SLUG --category SLUG``.

Imports roadworks from a WZDx 4.x feed or a DATEX II v3 traffic regulation publication, through
the same path as a configured source (``apps.interop.sources.services.source_run``): the
location is recorded as a (disabled) source, so re-running updates and withdraws what the
previous run brought in, and changes nothing when the feed did not change.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.models import Category, Organization
from apps.interop.models import SourceFormat
from apps.interop.sources.services import SourceError, source_for_location, source_run


class Command(BaseCommand):
    help = "Import roadworks from a WZDx or DATEX II file or URL (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--wzdx", metavar="FILE_OR_URL", help="A WZDx 4.x work zone feed.")
        where.add_argument("--datex2", metavar="FILE_OR_URL", help="A DATEX II v3 publication.")
        parser.add_argument("--organization", required=True, help="Slug of the publisher.")
        parser.add_argument("--category", required=True, help="Slug of the works' category.")
        parser.add_argument(
            "--no-notify", action="store_true", help="Do not notify residents of these works."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        format = SourceFormat.WZDX if options["wzdx"] else SourceFormat.DATEX2
        location = options["wzdx"] or options["datex2"]
        try:
            organization = Organization.objects.get(slug=options["organization"])
            category = Category.objects.get(slug=options["category"])
        except (Organization.DoesNotExist, Category.DoesNotExist) as exc:
            raise CommandError(f"Unknown organization or category: {exc}") from exc
        source = source_for_location(
            location=location,
            format=format,
            organization=organization,
            category=category,
            notify=not options["no_notify"],
        )
        body = None
        if not source.url:
            try:
                with open(location, "rb") as handle:
                    body = handle.read()
            except OSError as exc:
                raise CommandError(f"Cannot read {location}: {exc}") from exc
        try:
            report = source_run(source=source, body=body)
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.withdrawn} withdrawn"
        )
