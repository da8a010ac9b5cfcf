"""``manage.py replay_erasures [--since TIME] [--file PATH]``: erasures again after a restore."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.residents.erasures import erasure_log_path, erasures_replay


def _time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since: not an ISO 8601 date or time: {value!r}") from None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


class Command(BaseCommand):
    help = (
        "Delete again the devices recorded in the erasure log (ERASURE_LOG_PATH) that a backup "
        "restore brought back. Idempotent: run it after every restore, before opening the API."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            type=_time,
            help="only erasures at or after this time (ISO 8601), e.g. when the dump was taken",
        )
        parser.add_argument(
            "--file",
            dest="files",
            action="append",
            type=Path,
            help="an erasure log to read (repeatable; default: ERASURE_LOG_PATH), e.g. the "
            "logs of several hosts",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths: list[Path] = options["files"] or [erasure_log_path()]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise CommandError(f"No erasure log at {', '.join(missing)}.")
        erased = erasures_replay(paths=paths, since=options["since"])
        self.stdout.write(f"{erased} erased device(s) removed again.")
