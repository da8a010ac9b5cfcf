"""Render the pre-rendered JSON of every public item again (after a taxonomy rename, a deploy).

``python manage.py render_fragments [--type news] [--language fr] [--batch 500]`` prints its
progress per type and language; items whose fragment is already current are only read.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.api.fragments import fragments_render_all
from apps.core.api.items import list_item_types


class Command(BaseCommand):
    help = "Render the pre-rendered item JSON (fragments) of every public item, with progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--type", action="append", dest="types", help="news, works, events")
        parser.add_argument("--language", action="append", dest="languages")
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        known_types = list(list_item_types())
        known_languages = [code for code, _name in settings.LANGUAGES]
        for value in options["types"] or []:
            if value not in known_types:
                raise CommandError(f"unknown type {value!r}; one of: {', '.join(known_types)}")
        for value in options["languages"] or []:
            if value not in known_languages:
                raise CommandError(
                    f"unknown language {value!r}; one of: {', '.join(known_languages)}"
                )
        if not 1 <= options["batch"] <= 5000:
            raise CommandError("--batch is between 1 and 5000")
        started = time.monotonic()

        def progress(type_code: str, language: str, done: int, total: int) -> None:
            self.stdout.write(f"{type_code} {language}: {done}/{total}")

        written = fragments_render_all(
            type_codes=options["types"],
            languages=options["languages"],
            batch=options["batch"],
            progress=progress,
        )
        elapsed = time.monotonic() - started
        self.stdout.write(f"{written} fragments written in {elapsed:.1f} s")
