"""The population checks (issue 18): the offline evaluation run on each simulated population.

For every population of ``offline.populations`` the whole protocol of ``offline.evaluation``
runs (simulate, log under newest-first, train, serve what the store and the serving gate
accept, rank every live item for every resident on the test day). The served ranking — the
model, or stage 1 when the gate refused it — must be at least as good as nearest-first on
every population, 1.2x better on average, and 1.5x newest-first as before.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.recommend.engine.ranking import RankConfig
from apps.recommend.offline.evaluation import Report, SeedResult, evaluate
from apps.recommend.offline.evaluation_report import as_json
from apps.recommend.offline.populations import BY_NAME, HELD_BACK, Population
from apps.recommend.offline.simulation import SimConfig

NEAREST_FLOOR = 1.0  # served / nearest-first on every population
NEAREST_MEAN = 1.2  # served / nearest-first, mean over populations
NEWEST_FLOOR = 1.5  # served / newest-first on every population


@dataclass
class PopulationResult:
    population: Population
    report: Report
    seconds: float

    def ndcg(self, method: str) -> float:
        return float(np.mean([s.metrics[method]["ndcg@10"] for s in self.report.seeds]))

    def ratio(self, baseline: str) -> float:
        return self.ndcg("model") / self.ndcg(baseline)

    @property
    def served_models(self) -> int:
        return sum(s.served.startswith("stage 2") for s in self.report.seeds)


def check_populations(
    base: SimConfig,
    names: Sequence[str],
    seeds: int,
    *,
    rank_config: RankConfig | None = None,
    jobs: int = 1,
    progress: Callable[[str, SeedResult], Any] | None = None,
) -> list[PopulationResult]:
    """Evaluate ``seeds`` seeds of each named population (unknown names raise ``KeyError``)."""
    results = []
    for name in names:
        population = BY_NAME[name]
        started = time.perf_counter()
        report = evaluate(
            population.config(base),
            seeds,
            rank_config=rank_config,
            jobs=jobs,
            progress=functools.partial(progress, name) if progress else None,
        )
        results.append(PopulationResult(population, report, time.perf_counter() - started))
    return results


def population_targets(results: Sequence[PopulationResult]) -> list[tuple[str, bool, str]]:
    """(name, met, detail) for the issue 18 targets, on the means over seeds."""
    nearest = {r.population.name: r.ratio("nearest") for r in results}
    newest = {r.population.name: r.ratio("newest") for r in results}
    worst = min(nearest, key=lambda k: nearest[k])
    worst_newest = min(newest, key=lambda k: newest[k])
    mean = float(np.mean(list(nearest.values())))
    return [
        (
            "served ≥ nearest-first on every population",
            nearest[worst] >= NEAREST_FLOOR,
            f"lowest {nearest[worst]:.2f} ({worst})",
        ),
        (
            f"served ≥ {NEAREST_MEAN} x nearest-first on average",
            mean >= NEAREST_MEAN,
            f"mean ratio {mean:.2f}",
        ),
        (
            f"served ≥ {NEWEST_FLOOR} x newest-first on every population",
            newest[worst_newest] >= NEWEST_FLOOR,
            f"lowest {newest[worst_newest]:.2f} ({worst_newest})",
        ),
    ]


def render_population_markdown(results: Sequence[PopulationResult]) -> str:
    """One row per population: nDCG@10 of each ranking, the ratios, what was served."""
    if not results:
        return ""
    cfg = results[0].report.config
    n = len(results[0].report.seeds)
    lines = [
        f"Population checks: {cfg.residents} residents, {cfg.days} logged days (last "
        f"{cfg.test_days} for test), {n} seeds per population; nDCG@10 means over seeds.",
        "",
        "| population | role | served | stage 1 | nearest-first | newest-first "
        "| served / nearest | served / newest | model served (seeds) | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        name = r.population.name
        role = "held back" if name in HELD_BACK else "tuning"
        lines.append(
            f"| {name} | {role} | {r.ndcg('model'):.3f} | {r.ndcg('stage1'):.3f} "
            f"| {r.ndcg('nearest'):.3f} | {r.ndcg('newest'):.3f} "
            f"| {r.ratio('nearest'):.2f} | {r.ratio('newest'):.2f} "
            f"| {r.served_models}/{n} | {r.seconds:.0f} |"
        )
    lines += ["", "| target | met | detail |", "|---|---|---|"]
    for name, met, detail in population_targets(results):
        lines.append(f"| {name} | {'yes' if met else '**no**'} | {detail} |")
    refused = [
        (r.population.name, s.seed, s.served)
        for r in results
        for s in r.report.seeds
        if not s.served.startswith("stage 2")
    ]
    if refused:
        lines += ["", "Seeds where stage 1 was served:", ""]
        lines += [f"- {name}, seed {seed}: {served}" for name, seed, served in refused]
    return "\n".join(lines)


def populations_json(results: Sequence[PopulationResult]) -> dict[str, Any]:
    def finite(value: float) -> float | None:
        return None if math.isnan(value) else value

    return {
        "populations": {
            r.population.name: {
                "held_back": r.population.name in HELD_BACK,
                "overrides": r.population.overrides,
                "ratio_nearest": finite(r.ratio("nearest")),
                "ratio_newest": finite(r.ratio("newest")),
                "evaluation": as_json(r.report),
            }
            for r in results
        },
        "targets": [
            {"name": n, "met": ok, "detail": d} for n, ok, d in population_targets(results)
        ],
    }
