"""``python manage.py bench_city``: build the bench city for load tests (PostGIS only)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bench.city.build import BenchCityError, CitySpec, build

DEFAULT_MANIFEST = Path(settings.VAR_DIR) / "bench" / "city.json"


class Command(BaseCommand):
    help = (
        "Build a city of 500,000 people for load tests: 20 districts, publishers, live news, "
        "roadworks and events, devices with places and interests, and the interaction log, "
        "reproducibly from a seed. PostGIS only; refuses a database holding other data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--devices", type=int, default=100_000)
        parser.add_argument("--items", type=int, default=20_000, help="live news+works+events")
        parser.add_argument("--interactions", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--reset", action="store_true", help="Empty a previous bench city first."
        )
        parser.add_argument(
            "--token-sample",
            type=int,
            default=1_000,
            help="Devices whose clear token goes to the manifest (for the load test).",
        )
        parser.add_argument(
            "--manifest",
            type=Path,
            default=DEFAULT_MANIFEST,
            help=f"Where to write the manifest with clear tokens (default {DEFAULT_MANIFEST}).",
        )

    def handle(self, *args, **options):
        for name in ("devices", "items", "interactions"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1.")
        spec = CitySpec(
            devices=options["devices"],
            items=options["items"],
            interactions=options["interactions"],
            seed=options["seed"],
            token_sample=min(options["token_sample"], options["devices"]),
        )
        try:
            report = build(spec, reset=options["reset"], manifest_path=options["manifest"])
        except BenchCityError as exc:
            raise CommandError(str(exc)) from exc
        for table, count in report.counts.items():
            self.stdout.write(f"  {table:<32} {count:>10,}")
        for step, seconds in report.timings.items():
            self.stdout.write(f"  {step:<32} {seconds:>9.1f} s")
        self.stdout.write(f"  indexes checked: {len(report.indexes)}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Bench city (seed {spec.seed}) built in {report.wall_seconds:.1f} s; "
                f"tokens of {spec.token_sample} devices in {report.manifest_path}"
            )
        )
