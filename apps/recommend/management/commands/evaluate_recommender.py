"""``python manage.py evaluate_recommender``: the offline evaluation on the simulated city."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.recommend.engine.ranking import RankConfig
from apps.recommend.offline.evaluation import evaluate
from apps.recommend.offline.evaluation_report import as_json, render_markdown, targets
from apps.recommend.offline.population_checks import (
    check_populations,
    population_targets,
    populations_json,
    render_population_markdown,
)
from apps.recommend.offline.populations import BY_NAME, HELD_BACK, TUNING
from apps.recommend.offline.simulation import SimConfig

TINY = {"residents": 150, "days": 10, "seeds": 2}


def _utility_args(config: SimConfig) -> str:
    """The non-default utility weights, as command-line options."""
    defaults = SimConfig()
    names = ("interest_weight", "distance_weight", "noise_sd")
    return "".join(
        f" --{name.replace('_', '-')} {getattr(config, name)}"
        for name in names
        if getattr(config, name) != getattr(defaults, name)
    )


def _cap_arg(rank_config: RankConfig) -> str:
    cap = rank_config.max_per_category
    return "" if cap == RankConfig().max_per_category else f" --max-per-category {cap}"


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
        parser.add_argument(
            "--interest-weight",
            type=float,
            default=defaults.interest_weight,
            help="weight of interests in the hidden utility (robustness checks)",
        )
        parser.add_argument(
            "--distance-weight",
            type=float,
            default=defaults.distance_weight,
            help="weight of proximity in the hidden utility (robustness checks)",
        )
        parser.add_argument(
            "--noise-sd",
            type=float,
            default=defaults.noise_sd,
            help="unpredictable taste in the hidden utility (robustness checks)",
        )
        parser.add_argument(
            "--max-per-category",
            type=int,
            default=RankConfig().max_per_category,
            help="diversity cap: items of one category in any 10 consecutive positions",
        )
        parser.add_argument(
            "--populations",
            help="run the population checks instead: 'tuning', 'held-back', 'all' or "
            "comma-separated names (" + ", ".join(BY_NAME) + ")",
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
        if options["max_per_category"] < 1 or options["noise_sd"] < 0:
            raise CommandError("need --max-per-category ≥ 1 and --noise-sd ≥ 0")
        config = SimConfig(
            residents=options["residents"],
            days=options["days"],
            seed=options["seed"],
            interest_weight=options["interest_weight"],
            distance_weight=options["distance_weight"],
            noise_sd=options["noise_sd"],
        )
        started = time.perf_counter()

        def progress(result) -> None:
            self.stderr.write(f"seed {result.seed}: {result.served}, {result.seconds:.0f} s")

        rank_config = RankConfig(max_per_category=options["max_per_category"])
        if options["populations"]:
            self._populations(options, config, rank_config)
            return
        report = evaluate(
            config,
            options["seeds"],
            rank_config=rank_config,
            jobs=options["jobs"],
            progress=progress,
        )
        self._report(
            options,
            started,
            markdown=render_markdown(report),
            arguments=f"--seeds {options['seeds']} --residents {config.residents} "
            f"--days {config.days} --seed {config.seed} --jobs {options['jobs']}"
            f"{_utility_args(config)}{_cap_arg(rank_config)}",
            data=as_json(report),
            met=all(met for _, met, _ in targets(report)),
            what="evaluation",
        )

    def _report(
        self,
        options: dict[str, Any],
        started: float,
        *,
        markdown: str,
        arguments: str,
        data: dict[str, Any],
        met: bool,
        what: str,
    ) -> None:
        """Print the tables and how to run them again; the JSON; ``--check``'s verdict."""
        elapsed = time.perf_counter() - started
        self.stdout.write(markdown)
        self.stdout.write(
            f"\nRun: `python manage.py evaluate_recommender {arguments}` in {elapsed:.0f} s on "
            f"{platform.machine()} "
            f"({platform.python_implementation()} {platform.python_version()})."
        )
        if options["json"]:
            options["json"].write_text(
                json.dumps(data | {"seconds": elapsed}, indent=2, ensure_ascii=False)
            )
        if options["check"] and not met:
            raise CommandError(f"{what} targets not met")

    def _populations(self, options, config: SimConfig, rank_config: RankConfig) -> None:
        wanted = options["populations"]
        groups = {
            "tuning": list(TUNING),
            "held-back": [n for n in BY_NAME if n in HELD_BACK],
            "all": list(BY_NAME),
        }
        names = groups.get(wanted) or [n.strip() for n in wanted.split(",") if n.strip()]
        unknown = [n for n in names if n not in BY_NAME]
        if unknown or not names:
            raise CommandError(
                f"unknown population {', '.join(unknown) or repr(wanted)}: "
                f"tuning, held-back, all or {', '.join(BY_NAME)}"
            )
        started = time.perf_counter()

        def progress(name: str, result) -> None:
            self.stderr.write(f"{name} seed {result.seed}: {result.served}, {result.seconds:.0f} s")

        results = check_populations(
            config,
            names,
            options["seeds"],
            rank_config=rank_config,
            jobs=options["jobs"],
            progress=progress,
        )
        self._report(
            options,
            started,
            markdown=render_population_markdown(results),
            arguments=f"--populations {wanted} --seeds {options['seeds']} "
            f"--residents {config.residents} --days {config.days} --seed {config.seed} "
            f"--jobs {options['jobs']}{_cap_arg(rank_config)}",
            data=populations_json(results),
            met=all(met for _, met, _ in population_targets(results)),
            what="population",
        )
