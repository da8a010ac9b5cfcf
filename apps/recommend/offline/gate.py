"""The serving gate: is a trained model good enough to replace stage 1 (issue 18)?

A model is served only if, on the held-out days of the log, it beats stage 1 **and** is at
least as good as nearest-first on every population the log lets us tell apart: everyone, and
the residents who declared no category, one, or several. Nearest-first orders the impressed
items of a request by the distance to the resident's nearest place (items without a place
or without geometry last, newest first among equals) — the baseline the feed must never lose
to. A population with fewer than ``MIN_SEGMENT_REQUESTS`` held-out requests holding a positive
is reported and not checked (its nDCG would be noise).

Pure: arrays in, a JSON-ready ``Gate`` out (stored in the model's metadata, served or not).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from apps.recommend.engine.features import FEATURE_INDEX
from apps.recommend.offline.metrics import grouped_ndcg

MIN_SEGMENT_REQUESTS = 30
SEGMENTS: tuple[tuple[str, int, int], ...] = (  # name, declared categories from, to (inclusive)
    ("everyone", 0, 1_000),
    ("no declared category", 0, 0),
    ("one declared category", 1, 1),
    ("several declared categories", 2, 1_000),
)


@dataclass(frozen=True)
class SegmentCheck:
    segment: str
    requests: int  # held-out requests with at least one positive
    model: float
    stage1: float
    nearest: float
    checked: bool
    passed: bool


@dataclass(frozen=True)
class Gate:
    passed: bool
    reason: str  # "served", or why not (an operator's log line)
    checks: list[SegmentCheck] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reason": self.reason,
            "checks": [
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in c.items()}
                for c in (asdict(check) for check in self.checks)
            ],
        }


def nearest_first_scores(values: np.ndarray) -> np.ndarray:
    """Scores that order rows as nearest-first does (decay is monotone in the distance)."""
    distance = values[:, FEATURE_INDEX["decay_place_3000"]]
    newest = values[:, FEATURE_INDEX["recency_7d"]]
    return distance + 1e-6 * newest


def _requests_with_positive(gain: np.ndarray, group: np.ndarray) -> int:
    if len(group) == 0:
        return 0
    return len(np.unique(group[gain > 0]))


def serving_gate(
    *,
    values: np.ndarray,
    gain: np.ndarray,
    group: np.ndarray,
    declared: np.ndarray,
    model_scores: np.ndarray,
    stage1_scores: np.ndarray,
) -> Gate:
    """Check the model on held-out rows (all arrays aligned: one entry per held-out row)."""
    nearest_scores = nearest_first_scores(values)
    checks = []
    for name, low, high in SEGMENTS:
        rows = np.flatnonzero((declared >= low) & (declared <= high))
        requests = _requests_with_positive(gain[rows], group[rows])
        model, stage1, nearest = (
            grouped_ndcg(scores[rows], gain[rows], group[rows], 10) if requests else math.nan
            for scores in (model_scores, stage1_scores, nearest_scores)
        )
        checked = requests >= MIN_SEGMENT_REQUESTS
        checks.append(
            SegmentCheck(
                name, requests, model, stage1, nearest, checked, not checked or model >= nearest
            )
        )
    everyone = checks[0]
    if not everyone.model >= everyone.stage1:
        return Gate(
            False,
            f"worse than stage 1 on the held-out days ({everyone.model:.3f} < "
            f"{everyone.stage1:.3f} nDCG@10)",
            checks,
        )
    lost = [c for c in checks if not c.passed]
    if lost:
        detail = "; ".join(f"{c.segment} {c.model:.3f} < {c.nearest:.3f}" for c in lost)
        return Gate(False, f"worse than nearest-first on the held-out days: {detail}", checks)
    return Gate(True, "served", checks)
