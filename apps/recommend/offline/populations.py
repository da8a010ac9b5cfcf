"""Simulated populations the served ranking is checked on (issue 18, point 1).

Each population changes the shape of the hidden utility (``simulation.SimConfig``: the weights
of interests, distance and recency, how much residents differ from one another, their distance
scales) or what residents declare (how many categories they follow). The served ranking must be
at least as good as nearest-first on every one of them and 1.2x better on average.

``TUNING`` populations may be looked at while stage 1's weights, the candidate mix and the
serving gate are tuned. ``HELD_BACK`` populations were decided and written down here before any
tuning (this file was committed alone; its commit time is the record) and are run once, when
the model is final: their results are reported as they come, never tuned on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from apps.recommend.offline.simulation import SimConfig


@dataclass(frozen=True)
class Population:
    name: str
    description: str
    overrides: dict[str, Any]

    def config(self, base: SimConfig) -> SimConfig:
        return replace(base, **self.overrides)


POPULATIONS: tuple[Population, ...] = (
    Population("project", "the project's simulated city (default weights)", {}),
    Population(
        "distance",
        "distance-dominant: interest 0.2, distance 3.5, recency 1.0",
        {"interest_weight": 0.2, "distance_weight": 3.5, "recency_weight": 1.0},
    ),
    Population(
        "category",
        "category-dominant: interest 1.2, distance 1.0",
        {"interest_weight": 1.2, "distance_weight": 1.0},
    ),
    Population(
        "recency",
        "recency-dominant: interest 0.4, distance 1.2, recency 3.0",
        {"interest_weight": 0.4, "distance_weight": 1.2, "recency_weight": 3.0},
    ),
    Population(
        "no-category",
        "nobody declares a category",
        {"followed_categories": 0},
    ),
    Population(
        "several-categories",
        "everyone declares 4 categories",
        {"followed_categories": 4},
    ),
    # Held back (see HELD_BACK): not looked at before the model is final.
    Population(
        "mixed",
        "mixed: each resident's interest, distance and recency weights scaled by their own "
        "log-normal factors (sd 0.6), distance scales around 600 m",
        {"weight_spread": 0.6, "distance_scale_m": 600.0},
    ),
    Population(
        "one-category",
        "everyone declares exactly one category; own tastes (weight spread 0.4), "
        "distance scales around 600 m, interest 0.4, distance 2.5",
        {
            "followed_categories": 1,
            "weight_spread": 0.4,
            "distance_scale_m": 600.0,
            "interest_weight": 0.4,
            "distance_weight": 2.5,
        },
    ),
)

#: Decided before tuning; run once when the model is final.
HELD_BACK: frozenset[str] = frozenset({"mixed", "one-category"})
TUNING: tuple[str, ...] = tuple(p.name for p in POPULATIONS if p.name not in HELD_BACK)
BY_NAME: dict[str, Population] = {p.name: p for p in POPULATIONS}
