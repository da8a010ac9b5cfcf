"""Scoring and ordering: stage 1 (hand weights), stage 2 (a trained model), filters, diversity.

``rank`` is the one entry point the feed, the simulator and the tests call: it computes the
features, drops what must never be shown (not live — expired, over, not yet published —,
dismissed, near-duplicates of a dismissed item), scores with the given ranker, pins relevant
alerts first (city-wide ones only while new) and re-ranks the head for diversity (at most
``max_per_category`` items of one category in any ``window`` consecutive positions).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

import numpy as np
from threadpoolctl import ThreadpoolController

from apps.recommend.engine.candidates import ALERT, Candidates
from apps.recommend.engine.context import ResidentContext
from apps.recommend.engine.features import FEATURE_NAMES, FeatureMatrix, compute_features
from apps.recommend.engine.text_vectors import Idf, max_cosine, tfidf

# Stage 1: hand-set weights on the raw features (most are in [0, 1]), chosen from what the
# product promises — near your places, about what you follow, now — before any data exists.
# Issue 18 raised the 1 km and personal distance decays (1.5 -> 2.0, 0.5 -> 1.0), tuned on the
# tuning populations only (offline/populations.py): stage 1 stays ahead of nearest-first where
# proximity dominates (docs/recommender.md, *Population checks*).
STAGE1_WEIGHTS: Mapping[str, float] = {
    "decay_place_300": 0.5,
    "decay_place_1000": 2.0,
    "decay_place_3000": 0.5,
    "decay_place_personal": 1.0,
    "inside_place": 0.8,
    "decay_point_1000": 1.5,
    "route_works": 1.0,
    "city_wide": 0.6,
    "followed_category": 1.2,
    "followed_area": 0.6,
    "followed_organization": 0.4,
    "category_affinity": 2.0,
    "category_dismissal": -2.0,
    "category_ctr_lift": 2.0,
    "type_affinity": 0.5,
    "text_similarity": 1.0,
    "recency_1d": 0.6,
    "recency_7d": 0.6,
    "event_starts_soon": 0.8,
    "event_ongoing": 0.5,
    "works_active": 0.5,
    "works_upcoming": 0.4,
    "urgency_important": 0.6,
    "urgency_alert": 2.5,
    "popularity": 0.5,
    "type_news": 0.0,
    "type_works": 0.0,
    "type_events": 0.0,
}

KEPT, NOT_LIVE, DISMISSED, NEAR_DUPLICATE = 0, 1, 2, 3


@cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()


def single_threaded() -> AbstractContextManager[Any]:
    """Run scikit-learn's OpenMP/BLAS code on one thread inside the block.

    Scoring a few hundred rows per request and fitting on a shared machine are both slower
    with a thread pool, several times slower on the 2-core CI machine under load (figures:
    bench/README.md, *Figures quoted by the code*).
    """
    return _threadpools().limit(limits=1)


class Ranker(Protocol):
    """Scores feature rows; ``contributions`` splits each score into per-feature terms."""

    @property
    def name(self) -> str: ...

    @property
    def idf(self) -> Idf | None: ...

    def score(self, values: np.ndarray) -> np.ndarray: ...

    def contributions(self, values: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Stage1Ranker:
    """The hand-weighted scorer: works with no data; its terms are its explanations."""

    weights: Mapping[str, float] = field(default_factory=lambda: dict(STAGE1_WEIGHTS))
    idf: Idf | None = None
    name: str = "stage1"
    #: Why the serving ranker is stage 1 (``""`` when chosen on purpose), e.g. "model missing".
    fallback_reason: str = ""

    @property
    def vector(self) -> np.ndarray:
        return np.array([self.weights.get(name, 0.0) for name in FEATURE_NAMES])

    def score(self, values: np.ndarray) -> np.ndarray:
        return values @ self.vector

    def contributions(self, values: np.ndarray) -> np.ndarray:
        return values * self.vector[None, :]


@dataclass(frozen=True, eq=False)
class ModelRanker:
    """Stage 2: a fitted scikit-learn estimator on ``FEATURE_NAMES`` (standardised inside).

    Contributions are exact for a linear model (``coef x standardised value``, i.e. relative
    to the average training item); for other models, the score change when the feature is
    set to its training mean (ablation), computed on the rows asked for only.
    """

    estimator: Any
    feature_means: np.ndarray
    idf: Idf | None
    version: str
    kind: str
    name: str = "stage2"

    def score(self, values: np.ndarray) -> np.ndarray:
        if len(values) == 0:
            return np.zeros(0)
        with single_threaded():
            scores = self.estimator.decision_function(values)
        return np.asarray(scores, dtype=np.float64).ravel()

    def contributions(self, values: np.ndarray) -> np.ndarray:
        last = self.estimator[-1]
        if hasattr(last, "coef_"):
            standardised = self.estimator[:-1].transform(values)
            return np.asarray(standardised) * np.asarray(last.coef_).ravel()[None, :]
        n, d = values.shape
        # One scoring call for all the ablations: row block j has feature j at its mean.
        ablated = np.tile(values, (d + 1, 1))
        for j in range(d):
            ablated[(j + 1) * n : (j + 2) * n, j] = self.feature_means[j]
        scores = self.score(ablated).reshape(d + 1, n)
        return (scores[0][None, :] - scores[1:]).T


@dataclass(frozen=True)
class RankConfig:
    max_per_category: int = 4
    window: int = 10
    diversify_top: int = 100
    duplicate_cosine: float = 0.9  # TF-IDF cosine to a dismissed item that hides a candidate
    pin_alerts: bool = True
    alert_point_m: float = 2000.0  # alerts this close to the request point are pinned
    # A city-wide alert is about everyone, so it is pinned in every feed: only while it is
    # new. Afterwards it ranks like any other item (its urgency still weighs in the score);
    # alerts inside a place, in a followed area or near the request point stay pinned while
    # live. (Issue 18: old city-wide alerts held the top of every feed in every population.)
    city_wide_alert_pin_s: float = 24 * 3600.0


@dataclass(frozen=True, eq=False)
class Ranking:
    """The result of ``rank``: row indices into the candidates, best first, and why."""

    order: np.ndarray
    scores: np.ndarray  # per candidate row; -inf for removed rows
    pinned: np.ndarray  # per candidate row
    removed: np.ndarray  # per candidate row: KEPT, NOT_LIVE, DISMISSED or NEAR_DUPLICATE
    features: FeatureMatrix
    ranker: Ranker
    now_s: float


def diversify(
    order: np.ndarray, categories: np.ndarray, *, max_per_category: int, window: int, top: int
) -> np.ndarray:
    """Greedy re-rank of the first ``top`` rows so that no category holds more than
    ``max_per_category`` of any ``window`` consecutive positions, when the pool allows; the
    best-scored eligible row goes next, and the best row overall when none is eligible.
    """
    rows = order[:top]
    row_categories = categories[rows]
    # Up to the first row that would crowd its category, the greedy takes the rows in order
    # (each is the best and eligible): found with one comparison per lag, not one step each.
    start = _first_crowded(row_categories, max_per_category, window)
    if start == len(rows):
        return order.astype(np.int64)
    # Plain Python lists side by side (rows, their categories): indexing numpy arrays or
    # building a generator per step costs more than the step itself (bench/feed_profile.py).
    head: list[int] = rows[start:].tolist()
    head_categories: list[Any] = row_categories[start:].tolist()
    result: list[int] = rows[:start].tolist()
    placed: list[Any] = row_categories[:start].tolist()  # the categories of ``result``
    # The categories of the last ``window - 1`` rows placed, as the loop below keeps them.
    recent: dict[Any, int] = {}
    for category in placed[max(0, start - window + 1) :] if window > 1 else []:
        recent[category] = recent.get(category, 0) + 1
    while head:
        pick = 0
        for k, category in enumerate(head_categories):
            if recent.get(category, 0) < max_per_category:
                pick = k
                break
        result.append(head.pop(pick))
        category = head_categories.pop(pick)
        placed.append(category)
        recent[category] = recent.get(category, 0) + 1
        if len(result) >= window:
            recent[placed[-window]] -= 1
    return np.concatenate([np.array(result, dtype=np.int64), order[top:]]).astype(np.int64)


def _first_crowded(categories: np.ndarray, max_per_category: int, window: int) -> int:
    """The first position whose category already fills ``max_per_category`` of the
    ``window - 1`` positions before it (``len(categories)`` if none)."""
    n = len(categories)
    same = np.zeros(n, dtype=np.int64)
    for lag in range(1, min(window, n)):
        same[lag:] += categories[lag:] == categories[:-lag]
    crowded = np.flatnonzero(same >= max_per_category)
    return int(crowded[0]) if len(crowded) else n


def _alerts_to_pin(c: Candidates, f: FeatureMatrix, config: RankConfig, now_s: float) -> np.ndarray:
    """Alerts about the resident: inside a place, in a followed area or near them; city-wide
    alerts while they are new (``RankConfig.city_wide_alert_pin_s``)."""
    with np.errstate(invalid="ignore"):
        near_point = f.point_distance_m <= config.alert_point_m
        new = now_s - c.published_s < config.city_wide_alert_pin_s
    about_them = (
        f.column("inside_place").astype(bool)
        | (f.followed_area >= 0)
        | (c.city_wide & new)
        | near_point
    )
    return (c.urgency == ALERT) & about_them


def rank(
    candidates: Candidates,
    context: ResidentContext,
    *,
    now_s: float,
    ranker: Ranker,
    config: RankConfig | None = None,
    features: FeatureMatrix | None = None,
) -> Ranking:
    """Order ``candidates`` for ``context`` at ``now_s``; removed rows are not in ``order``."""
    config = config or RankConfig()
    f = (
        features
        if features is not None
        else compute_features(candidates, context, now_s=now_s, idf=ranker.idf)
    )
    removed = np.full(len(candidates), KEPT, dtype=np.int8)
    if len(context.dismissed_text.indices) or len(context.dismissed_keys):
        dismissed_units = tfidf(context.dismissed_text, ranker.idf)
        near = max_cosine(f.text_unit, dismissed_units) >= config.duplicate_cosine
        removed[near] = NEAR_DUPLICATE
        removed[np.isin(candidates.keys, context.dismissed_keys)] = DISMISSED
    removed[~candidates.live(now_s)] = NOT_LIVE

    kept = np.flatnonzero(removed == KEPT)
    scores = np.full(len(candidates), -np.inf)
    scores[kept] = ranker.score(f.values[kept])
    pinned = np.zeros(len(candidates), dtype=bool)
    if config.pin_alerts:
        pinned[kept] = _alerts_to_pin(candidates, f, config, now_s)[kept]
    # Stable sort on (pinned first, score desc); ties keep the newest first.
    by_score = kept[np.lexsort((-candidates.published_s[kept], -scores[kept], ~pinned[kept]))]
    n_pinned = int(pinned.sum())
    rest = diversify(
        by_score[n_pinned:],
        candidates.category,
        max_per_category=config.max_per_category,
        window=config.window,
        top=config.diversify_top,
    )
    order = np.concatenate([by_score[:n_pinned], rest]).astype(np.int64)
    return Ranking(order, scores, pinned, removed, f, ranker, now_s)
