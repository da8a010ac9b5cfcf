"""``python manage.py evaluate_recommender``: the offline evaluation on the simulated city."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.recommend.evaluation import as_json, evaluate, render_markdown, targets
from apps.recommend.simulation import SimConfig

TINY = {"residents": 150, "days": 10, "seeds": 2}


class Command(BaseCommand):
    help = (
        "Simulate a city, train stage 2 on its logged feed, rank every live item for every "
        "resident and compare with stage 1 and the baselines (Markdown table on stdout)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = SimConfig()
        parser.add_argument(
            "--seeds", type=int, default=5, help="independent cities (≥ 5 for the targets)"
        )
        parser.add_argument("--residents", type=int, default=defaults.residents)
        parser.add_argument(
            "--days", type=int, default=defaults.days, help="logged days, the last one for test"
        )
        parser.add_argument("--seed", type=int, default=0, help="first seed")
        parser.add_argument(
            "--jobs",
            type=int,
            default=min(2, os.cpu_count() or 1),
            help="seeds run in parallel processes (default: 2, or 1 on a single core)",
        )
        parser.add_argument(
            "--tiny", action="store_true", help="CI smoke size: 150 residents, 10 days, 2 seeds"
        )
        parser.add_argument("--json", type=Path, help="also write every number to this JSON file")
        parser.add_argument(
            "--check", action="store_true", help="exit with an error if a target is not met"
        )

    def handle(self, *args, **options) -> None:
        if options["tiny"]:
            options.update(TINY)
        if options["seeds"] < 1 or options["residents"] < 20 or options["days"] < 4:
            raise CommandError("need --seeds ≥ 1, --residents ≥ 20 and --days ≥ 4")
        config = SimConfig(
            residents=options["residents"], days=options["days"], seed=options["seed"]
        )
        started = time.perf_counter()

        def progress(result) -> None:
            self.stderr.write(f"seed {result.seed}: {result.served}, {result.seconds:.0f} s")

        report = evaluate(config, options["seeds"], jobs=options["jobs"], progress=progress)
        elapsed = time.perf_counter() - started
        self.stdout.write(render_markdown(report))
        self.stdout.write(
            f"\nRun: `python manage.py evaluate_recommender --seeds {options['seeds']} "
            f"--residents {config.residents} --days {config.days} --seed {config.seed} "
            f"--jobs {options['jobs']}` in {elapsed:.0f} s on {platform.machine()} "
            f"({platform.python_implementation()} {platform.python_version()})."
        )
        if options["json"]:
            data = as_json(report) | {"seconds": elapsed}
            options["json"].write_text(json.dumps(data, indent=2, ensure_ascii=False))
        if options["check"] and not all(met for _, met, _ in targets(report)):
            raise CommandError("evaluation targets not met")
