"""Ranking metrics shared by training (validation) and the offline evaluation.

Gains are graded relevances (0, 1, 2, 3); DCG uses the exponential gain ``2^g - 1`` and the
``log2(rank + 1)`` discount, the convention of the MIND benchmark and of most papers.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def dcg(gains_in_rank_order: np.ndarray, k: int) -> float:
    top = np.asarray(gains_in_rank_order, dtype=np.float64)[:k]
    return float(((2.0**top - 1.0) / np.log2(np.arange(2, len(top) + 2))).sum())


def ndcg_at_k(gains_in_rank_order: np.ndarray, all_gains: np.ndarray, k: int = 10) -> float:
    """nDCG@k of a ranking against the ideal order of ``all_gains`` (NaN if none is relevant)."""
    ideal = dcg(np.sort(np.asarray(all_gains, dtype=np.float64))[::-1], k)
    if ideal <= 0.0:
        return math.nan
    return dcg(gains_in_rank_order, k) / ideal


def recall_at_k(relevant_in_rank_order: np.ndarray, n_relevant: int, k: int = 20) -> float:
    """Share of the relevant items found in the top ``k``; NaN if nothing is relevant."""
    if n_relevant <= 0:
        return math.nan
    return float(np.count_nonzero(np.asarray(relevant_in_rank_order)[:k])) / n_relevant


def reciprocal_rank(relevant_in_rank_order: np.ndarray) -> float:
    """1 / rank of the first relevant item (0 when none is ranked)."""
    hits = np.flatnonzero(np.asarray(relevant_in_rank_order))
    return 1.0 / (hits[0] + 1) if len(hits) else 0.0


def intra_list_diversity(categories_in_rank_order: np.ndarray, k: int = 10) -> float:
    """Share of pairs of the top ``k`` that belong to different categories (NaN below 2 items)."""
    top = np.asarray(categories_in_rank_order)[:k]
    if len(top) < 2:
        return math.nan
    same = (top[:, None] == top[None, :]).sum() - len(top)
    return 1.0 - same / (len(top) * (len(top) - 1))


def grouped_ndcg(scores: np.ndarray, gains: np.ndarray, groups: np.ndarray, k: int = 10) -> float:
    """Mean nDCG@k over groups (one logged request each) that hold at least one positive.

    Ties in ``scores`` are broken against the positives (the pessimistic order), so a constant
    scorer earns no credit from the logging order.
    """
    order = np.lexsort((gains, -scores, groups))
    sorted_groups = groups[order]
    bounds = np.flatnonzero(np.diff(sorted_groups)) + 1
    values = []
    for block in np.split(order, bounds):
        g = gains[block]
        if g.max() > 0:
            values.append(ndcg_at_k(g, g, k))
    return float(np.mean(values)) if values else math.nan


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of its Student-t confidence interval (0 width for one value)."""
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    if len(data) == 0:
        return math.nan, math.nan
    if len(data) == 1:
        return float(data[0]), 0.0
    half = (
        stats.t.ppf(0.5 + confidence / 2, len(data) - 1) * data.std(ddof=1) / math.sqrt(len(data))
    )
    return float(data.mean()), float(half)
