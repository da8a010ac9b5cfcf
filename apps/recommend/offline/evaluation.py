"""Offline evaluation of the recommender on the simulated city (architecture.md: the protocol).

Per seed: generate a city, log the training days under the logging policy, train stage 2 with
``fitting.fit``, save it in a ``ModelStore`` and serve whatever ``ModelStore.load`` returns
(so a model the store refuses is evaluated as the stage 1 it falls back to). On each test day
every resident opens the feed once; **all** live candidates are ranked — plus a few items that
just ended, expired or are not yet published, as a stale cache would pass them, to check the
production filter — by the model, by stage 1 (both through ``ranking.rank``, the production
code path) and by the baselines random, newest-first, nearest-first and popular (which get the
live items only). Metrics against the hidden graded relevance: nDCG@10, recall@20 and MRR
(relevant = grade ≥ 2), catalog coverage of the top 10s, intra-list category diversity of the
top 10, expired-item rate of the top 20; nDCG@10 by slice (cold / warm / heavy residents,
item type, home district). Seeds are aggregated as means with 95 % Student-t intervals.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from apps.recommend.engine.candidates import ITEM_TYPES
from apps.recommend.engine.context import IMPRESSION, POSITIVE_WEIGHT, build_context
from apps.recommend.engine.distance import haversine_m
from apps.recommend.engine.features import DAY_S
from apps.recommend.engine.ranking import RankConfig, Ranker, Stage1Ranker, rank
from apps.recommend.offline.fitting import (
    POPULARITY_WINDOW_S,
    NotEnoughDataError,
    Popularity,
    fit,
    history_of,
)
from apps.recommend.offline.metrics import (
    intra_list_diversity,
    mean_ci,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)
from apps.recommend.offline.simulation import (
    DISTRICTS,
    City,
    SimConfig,
    generate_city,
    grades,
    simulate_log,
    utility,
)
from apps.recommend.store import ModelStore

METHODS = ("model", "stage1", "random", "newest", "nearest", "popular")
METRICS = ("ndcg@10", "recall@20", "mrr", "coverage", "diversity", "expired")
RELEVANT = 2.0  # grade from which an item counts as relevant for recall and MRR
HEAVY_POSITIVES = 10
STALE_WINDOW_S = 2 * DAY_S


@dataclass
class SeedResult:
    seed: int
    metrics: dict[str, dict[str, float]]  # method -> metric -> value
    slices: dict[str, dict[str, float]]  # slice -> method -> nDCG@10
    slice_sizes: dict[str, int]
    served: str
    validation: dict[str, dict[str, float]]
    requests: int
    stale_per_request: float  # not-live items slipped into each model pool (must be filtered)
    seconds: float


@dataclass
class Report:
    config: SimConfig
    rank_config: RankConfig = field(default_factory=RankConfig)
    seeds: list[SeedResult] = field(default_factory=list)

    def summary(self, method: str, metric: str) -> tuple[float, float]:
        return mean_ci([s.metrics[method][metric] for s in self.seeds])

    def slice_summary(self, name: str, method: str) -> tuple[float, float]:
        return mean_ci([s.slices.get(name, {}).get(method, math.nan) for s in self.seeds])

    def ratio(
        self, method: str, baseline: str, slice_name: str | None = None
    ) -> tuple[float, float]:
        def value(s: SeedResult, m: str) -> float:
            return (
                s.slices.get(slice_name, {}).get(m, math.nan)
                if slice_name
                else s.metrics[m]["ndcg@10"]
            )

        return mean_ci([value(s, method) / value(s, baseline) for s in self.seeds])


class _Accumulator:
    """Collects per-request values of one seed."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.slices: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.top10: dict[str, set[int]] = defaultdict(set)
        self.shown_total: dict[str, int] = defaultdict(int)
        self.expired: dict[str, int] = defaultdict(int)
        self.live: set[int] = set()

    def add(
        self,
        method: str,
        order: np.ndarray,
        pool: np.ndarray,
        gain: np.ndarray,
        live: np.ndarray,
        categories: np.ndarray,
        kinds: np.ndarray,
        slices: Iterable[str],
    ) -> None:
        """``order``: positions in ``pool`` best first; ``gain``/``live`` aligned with ``pool``."""
        ranked_gain = gain[order]
        all_gain = gain[live]
        self.values[method, "ndcg@10"].append(ndcg_at_k(ranked_gain, all_gain, 10))
        relevant = int((all_gain >= RELEVANT).sum())
        self.values[method, "recall@20"].append(recall_at_k(ranked_gain >= RELEVANT, relevant, 20))
        self.values[method, "mrr"].append(
            reciprocal_rank(ranked_gain >= RELEVANT) if relevant else math.nan
        )
        self.values[method, "diversity"].append(intra_list_diversity(categories[order], 10))
        self.top10[method].update(int(i) for i in pool[order[:10]])
        self.shown_total[method] += min(20, len(order))
        self.expired[method] += int((~live[order[:20]]).sum())
        ndcg = self.values[method, "ndcg@10"][-1]
        for name in slices:
            self.slices[name, method].append(ndcg)
        for code, kind in enumerate(ITEM_TYPES):
            of_kind = order[kinds[order] == code]
            self.slices[kind, method].append(
                ndcg_at_k(gain[of_kind], gain[live & (kinds == code)], 10)
            )

    def result(
        self,
    ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]], dict[str, int]]:
        metrics: dict[str, dict[str, float]] = {}
        for method in METHODS:
            metrics[method] = {
                name: float(np.nanmean(self.values[method, name]))
                if self.values[method, name]
                else math.nan
                for name in ("ndcg@10", "recall@20", "mrr", "diversity")
            }
            metrics[method]["coverage"] = len(self.top10[method]) / max(len(self.live), 1)
            metrics[method]["expired"] = self.expired[method] / max(self.shown_total[method], 1)
        slices: dict[str, dict[str, float]] = defaultdict(dict)
        sizes: dict[str, int] = {}
        for (name, method), values in self.slices.items():
            finite = [v for v in values if not math.isnan(v)]
            slices[name][method] = float(np.mean(finite)) if finite else math.nan
            sizes[name] = len(finite)
        return metrics, dict(slices), sizes


def _baselines(
    city: City,
    r: int,
    pool: np.ndarray,
    live: np.ndarray,
    popularity: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    c = city.catalog
    live_pos = np.flatnonzero(live)
    published = c.published_s[pool[live_pos]]
    places = city.profiles[r].places
    d = haversine_m(
        c.lon[pool[live_pos], None], c.lat[pool[live_pos], None],
        np.array([p.lon for p in places])[None, :], np.array([p.lat for p in places])[None, :],
    ).min(axis=1)  # fmt: skip
    d = np.where(np.isnan(d), np.inf, d)
    return {
        "random": rng.permutation(live_pos),
        "newest": live_pos[np.argsort(-published, kind="stable")],
        "nearest": live_pos[np.lexsort((-published, d))],
        "popular": live_pos[np.lexsort((-published, -popularity[live_pos]))],
    }


def run_seed(config: SimConfig, *, rank_config: RankConfig | None = None) -> SeedResult:
    """Simulate, train, serve through the store and measure every method on the test days."""
    started = time.perf_counter()
    city = generate_city(config)
    log = simulate_log(city)
    served: Ranker
    try:
        trained = fit(log, city.catalog, city.profiles, seed=config.seed)
    except NotEnoughDataError as error:  # a young city: stage 1 serves, as in production
        served, validation = Stage1Ranker(fallback_reason=f"not enough data: {error}"), {}
    else:
        validation = trained.metrics
        with tempfile.TemporaryDirectory(prefix="quartier-eval-") as directory:
            store = ModelStore(directory)
            store.save(trained)
            served = store.load()
    rankers: dict[str, Ranker] = {"model": served, "stage1": Stage1Ranker()}
    popularity = Popularity(log, POPULARITY_WINDOW_S)
    by_resident = {r: np.flatnonzero(log.resident == r) for r in range(config.residents)}
    positives = np.zeros(config.residents, dtype=np.int64)
    np.add.at(positives, log.resident[POSITIVE_WEIGHT[log.action] > 0], 1)
    rng = np.random.default_rng(config.seed + 7)
    acc = _Accumulator()
    c = city.catalog
    requests = stale_count = 0
    for day in range(config.test_days):
        for r in range(config.residents):
            t = city.test_start_s + (day + rng.uniform(8, 20) / 24) * DAY_S
            live_all = c.live(t)
            with np.errstate(invalid="ignore"):
                stale = ~live_all & (
                    (np.abs(np.fmin(c.end_s, c.expires_s) - t) < STALE_WINDOW_S)
                    | ((c.published_s > t) & (c.published_s < t + DAY_S / 2))
                )
            mine = by_resident[r]
            before = mine[log.at_s[mine] < t]
            # Items the resident already opened or dismissed are consumed: ranking them again
            # would score the noise that made them click, not a prediction.
            consumed = np.zeros(len(c), dtype=bool)
            consumed[log.item[before[log.action[before] != IMPRESSION]]] = True
            pool = np.flatnonzero((live_all | stale) & ~consumed)
            stale_count += int((stale & ~consumed).sum())
            live = live_all[pool]
            acc.live.update(int(i) for i in pool[live])
            gain = np.where(live, grades(utility(city, r, pool, t)), 0.0)
            history = history_of(log, before, c)
            context = build_context(city.profiles[r], history, now_s=t)
            pop = popularity.at(pool, t)
            candidates = c.take(pool).with_popularity(pop)
            orders = {
                name: rank(candidates, context, now_s=t, ranker=ranker, config=rank_config).order
                for name, ranker in rankers.items()
            }
            orders.update(_baselines(city, r, pool, live, pop, rng))
            kind = (
                "cold"
                if len(history) == 0
                else ("heavy" if positives[r] >= HEAVY_POSITIVES else "warm")
            )
            slices = (kind, f"district:{DISTRICTS[city.home_district[r]]}")
            for method in METHODS:
                acc.add(
                    method,
                    orders[method],
                    pool,
                    gain,
                    live,
                    c.category[pool],
                    c.item_type[pool],
                    slices,
                )
            requests += 1
    metrics, slice_values, sizes = acc.result()
    return SeedResult(
        seed=config.seed,
        metrics=metrics,
        slices=slice_values,
        slice_sizes=sizes,
        served=(getattr(served, "version", "") and f"stage 2 {getattr(served, 'kind', '')}")
        or f"stage 1 ({getattr(served, 'fallback_reason', '')})",
        validation=validation,
        requests=requests,
        stale_per_request=stale_count / max(requests, 1),
        seconds=time.perf_counter() - started,
    )


def evaluate(
    config: SimConfig,
    seeds: int,
    *,
    rank_config: RankConfig | None = None,
    jobs: int = 1,
    progress: Callable[[SeedResult], Any] | None = None,
) -> Report:
    """Run ``seeds`` seeds (``config.seed``, ``config.seed + 1``, …), ``jobs`` at a time."""
    configs = [replace(config, seed=config.seed + k) for k in range(seeds)]
    report = Report(config, rank_config or RankConfig())
    if jobs <= 1:
        results: Iterable[SeedResult] = (run_seed(c, rank_config=rank_config) for c in configs)
        for result in results:
            report.seeds.append(result)
            if progress:
                progress(result)
        return report
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_seed, c, rank_config=rank_config) for c in configs]
        for future in futures:
            report.seeds.append(future.result())
            if progress:
                progress(report.seeds[-1])
    return report
