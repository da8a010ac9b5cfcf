"""Export the audit trail for a CADA request: a period, optionally one organization or item."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.core.audit import export
from apps.core.audit.trail import EXPORT_MAX_RECORDS, TrailFilter, records_count, trail_rows
from apps.core.models import Organization


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = (
        "Write the audit trail (who, when, what changed) of a period as CSV or JSON, "
        "for one organization (--organization SLUG) or one item (--item news:42). "
        "docs/privacy.md, 'Audit trail'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--until", required=True, help="last day (included), YYYY-MM-DD")
        parser.add_argument("--organization", help="slug of the organization")
        parser.add_argument("--item", help="TYPE:ID of one item, e.g. works:12")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        since = timezone.make_aware(datetime.combine(_day(options["since"]), time.min))
        until = timezone.make_aware(datetime.combine(_day(options["until"]), time.min))
        organization_id = None
        if options["organization"]:
            organization = Organization.objects.filter(slug=options["organization"]).first()
            if organization is None:
                raise CommandError(f"no organization {options['organization']!r}")
            organization_id = organization.pk
        item_type = item_id = None
        if options["item"]:
            item_type, _colon, raw_id = options["item"].partition(":")
            if not raw_id.isdigit():
                raise CommandError("--item reads TYPE:ID, e.g. works:12")
            item_id = int(raw_id)
        flt = TrailFilter(
            since=since,
            until=until + timedelta(days=1),
            organization_id=organization_id,
            item_type=item_type,
            item_id=item_id,
        )
        try:
            flt.check()
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        count = records_count(flt)
        if count > EXPORT_MAX_RECORDS:
            raise CommandError(
                f"{count} records: an export holds at most {EXPORT_MAX_RECORDS}; shorten the period"
            )
        lines = (export.json_lines if options["format"] == "json" else export.csv_lines)(
            trail_rows(flt)
        )
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                out.writelines(lines)
        else:
            for line in lines:
                self.stdout.write(line, ending="")
