"""Online evaluation, pure: the nearest-first reference, team-draft interleaving, the sign test.

Team-draft interleaving (Radlinski, Kurup and Joachims, CIKM 2008) merges two rankings of the
same candidates into one list: each round a fair coin says which team picks first, then each
team adds its best item not yet in the list. A click is credited to the team that placed the
item; a request is a win for the team with more clicked items, a tie when both have as many.
Under "no preference" each request is a fair coin between the teams, whatever the residents'
position bias, so wins against losses (ties left out) is a binomial sign test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import binomtest

from apps.recommend.engine.features import FEATURE_NAMES
from apps.recommend.engine.text_vectors import Idf

#: Team codes of an interleaved list: the ranker being served, the reference it is measured against.
NO_TEAM, SERVED, REFERENCE = 0, 1, 2

_PLACE = FEATURE_NAMES.index("decay_place_3000")
_POINT = FEATURE_NAMES.index("decay_point_1000")


@dataclass(frozen=True)
class NearestFirstRanker:
    """Nearest first: the distance to the resident's nearest saved place or the request point.

    Scores are ``exp(-d / 3 km)`` of that distance (``decay_place_3000``, and the cube root of
    ``decay_point_1000``, the same decay), so higher is nearer; items without geometry score 0,
    with the farthest. ``idf`` is the served ranker's, so that both rankings of an interleaved
    request drop the same near-duplicates of dismissed items.
    """

    idf: Idf | None = None
    name: str = "nearest"
    fallback_reason: str = field(default="", compare=False)

    def score(self, values: np.ndarray) -> np.ndarray:
        if len(values) == 0:
            return np.zeros(0)
        point = np.cbrt(np.clip(values[:, _POINT], 0.0, None))
        return np.maximum(values[:, _PLACE], point)

    def contributions(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros_like(values, dtype=np.float64)
        scores = self.score(values)
        use_place = values[:, _PLACE] >= scores
        out[use_place, _PLACE] = scores[use_place]
        out[~use_place, _POINT] = scores[~use_place]
        return out


def team_draft(
    served: np.ndarray, reference: np.ndarray, *, length: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Interleave two orders of the same rows; returns ``(order, team)`` of ``length`` at most.

    ``team[k]`` is ``SERVED`` or ``REFERENCE``: who placed ``order[k]``. Rows in only one of the
    orders are picked by that team alone when its turn comes.
    """
    seen: set[int] = set()
    order: list[int] = []
    team: list[int] = []
    lists = {SERVED: [int(r) for r in served], REFERENCE: [int(r) for r in reference]}
    heads = {SERVED: 0, REFERENCE: 0}
    total = len(set(lists[SERVED]) | set(lists[REFERENCE]))
    length = min(length, total)

    def pick(who: int) -> bool:
        rows, k = lists[who], heads[who]
        while k < len(rows) and rows[k] in seen:
            k += 1
        heads[who] = k
        if k == len(rows):
            return False
        seen.add(rows[k])
        order.append(rows[k])
        team.append(who)
        return True

    while len(order) < length:
        first = SERVED if rng.random() < 0.5 else REFERENCE
        second = REFERENCE if first == SERVED else SERVED
        picked = pick(first)
        if len(order) < length:
            picked = pick(second) or picked
        if not picked:
            break
    return np.array(order, dtype=np.int64), np.array(team, dtype=np.int8)


def request_outcome(served_clicks: int, reference_clicks: int) -> int:
    """+1 the served ranker wins the request, -1 it loses, 0 a tie (equal, or no click)."""
    return (served_clicks > reference_clicks) - (served_clicks < reference_clicks)


def wilson_interval(successes: int, trials: int, *, alpha: float) -> tuple[float, float]:
    """Wilson score interval of a proportion at confidence ``1 - alpha``; (0, 1) without trials."""
    if trials <= 0:
        return 0.0, 1.0
    from scipy.stats import norm

    z = float(norm.ppf(1 - alpha / 2))
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


BETTER, WORSE, UNDECIDED = "better", "worse", "undecided"


@dataclass(frozen=True)
class Comparison:
    """Wins, losses and ties of the served ranker against its reference, and what they say.

    ``win_rate`` is wins / (wins + losses); ``ci_low``/``ci_high`` its Wilson interval at
    ``1 - alpha``; ``p_value`` the two-sided exact sign test of "no preference" (ties left
    out). ``verdict`` is ``better`` or ``worse`` when ``p_value < alpha`` over at least
    ``min_comparisons`` decided requests, else ``undecided``.
    """

    wins: int
    losses: int
    ties: int
    alpha: float
    min_comparisons: int
    win_rate: float = field(init=False)
    ci_low: float = field(init=False)
    ci_high: float = field(init=False)
    p_value: float = field(init=False)
    verdict: str = field(init=False)

    def __post_init__(self) -> None:
        decided = self.wins + self.losses
        rate = self.wins / decided if decided else 0.5
        low, high = wilson_interval(self.wins, decided, alpha=self.alpha)
        p = binomtest(self.wins, decided, 0.5).pvalue if decided else 1.0
        verdict = UNDECIDED
        if decided >= self.min_comparisons and p < self.alpha:
            verdict = BETTER if self.wins > self.losses else WORSE
        object.__setattr__(self, "win_rate", rate)
        object.__setattr__(self, "ci_low", low)
        object.__setattr__(self, "ci_high", high)
        object.__setattr__(self, "p_value", float(p))
        object.__setattr__(self, "verdict", verdict)

    @property
    def decided(self) -> int:
        return self.wins + self.losses
