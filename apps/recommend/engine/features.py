"""Vectorised features of a batch of candidates for one resident (architecture.md §7). No ORM here.

``compute_features`` returns a ``FeatureMatrix``: one row per candidate, one named column per
entry of ``FEATURE_NAMES``, plus the facts the explanations check (distance to each place,
inside each place's radius, distance to the request point and to the resident's route, the
followed area an item touches). Columns are 0 when a signal is absent (no places, a city-wide
item, a cold resident), so the same model serves anonymous and personal feeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import scipy.sparse as sp

from apps.recommend.engine.candidates import ALERT, EVENTS, IMPORTANT, NEWS, WORKS, Candidates
from apps.recommend.engine.context import ResidentContext
from apps.recommend.engine.distance import haversine_m, segment_distance_m
from apps.recommend.engine.text_vectors import Idf, cosine_to, profile_vector, tfidf

DAY_S = 86400.0
# The popularity feature counts positives over this window (ItemPopularity is kept for it).
POPULARITY_WINDOW_S = 7 * DAY_S
ROUTE_SCALE_M = 300.0  # works this close to the line between two places are "on the route"
POPULARITY_REFERENCE = 50.0  # positives in 7 days that count as "very popular"

FEATURE_NAMES: tuple[str, ...] = (
    "decay_place_300",  # exp(-d/300 m), d = distance to the nearest saved place
    "decay_place_1000",
    "decay_place_3000",
    "decay_place_personal",  # exp(-d/s), s = the resident's own distance scale (history)
    "inside_place",  # within the radius of at least one saved place
    "decay_point_1000",  # exp(-d/1 km) to the request point
    "route_works",  # works near the line between two places, x severity
    "city_wide",  # no geometry: concerns the whole city
    "followed_category",
    "followed_area",
    "followed_organization",
    "category_affinity",  # shrunk share of the resident's engagement in this category
    "category_dismissal",  # shrunk share of their dismissals in this category
    "category_ctr_lift",  # their click-through on this category minus their overall one
    "type_affinity",  # shrunk share of their engagement on this item type
    "text_similarity",  # TF-IDF cosine to the items they engaged with
    "recency_1d",  # exp(-age/1 day) since publication
    "recency_7d",
    "event_starts_soon",  # exp(-time to start / 2 days), before the start
    "event_ongoing",
    "works_active",
    "works_upcoming",  # exp(-time to start / 3 days), starting within a week
    "urgency_important",
    "urgency_alert",
    "popularity",  # log(1 + positives in 7 days) / log(1 + 50)
    "type_news",
    "type_works",
    "type_events",
)
FEATURE_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


@dataclass(frozen=True, eq=False)
class FeatureMatrix:
    """Feature values (``n x len(names)``) and the facts behind them, row-aligned."""

    values: np.ndarray
    names: tuple[str, ...]
    place_distance_m: np.ndarray  # n x places; NaN for city-wide items
    inside_place: np.ndarray  # n x places, bool
    point_distance_m: np.ndarray  # n; NaN without a request point or geometry
    route_distance_m: np.ndarray  # n; NaN without a route (fewer than two places)
    followed_area: np.ndarray  # n; id of the first followed area the item touches, else -1
    text_unit: sp.csr_matrix  # n x hashed terms, TF-IDF rows of unit length

    def column(self, name: str) -> np.ndarray:
        return self.values[:, FEATURE_INDEX[name]]

    def __len__(self) -> int:
        return self.values.shape[0]


def _nan_min(matrix: np.ndarray) -> np.ndarray:
    """Row minimum ignoring NaN; NaN for rows that are all NaN (or when there are no columns)."""
    if matrix.shape[1] == 0:
        return np.full(matrix.shape[0], np.nan)
    filled = np.where(np.isnan(matrix), np.inf, matrix).min(axis=1)
    return np.where(np.isinf(filled), np.nan, filled)


def _decay(distance_m: np.ndarray, scale_m: float) -> np.ndarray:
    decay = np.exp(-distance_m / scale_m)
    decay[np.isnan(decay)] = 0.0
    return decay


def _lookup(ids: np.ndarray, values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``values`` at the position of each key in the sorted ``ids`` (0 for unknown keys)."""
    if len(ids) == 0:
        return np.zeros(len(keys))
    pos = np.minimum(np.searchsorted(ids, keys), len(ids) - 1)
    return np.where(ids[pos] == keys, values[pos], 0.0)


def _place_distances(c: Candidates, ctx: ResidentContext) -> np.ndarray:
    if not ctx.places:
        return np.zeros((len(c), 0))
    if c.place_distance_m is not None:
        if c.place_distance_m.shape[1] != len(ctx.places):
            raise ValueError("place_distance_m needs one column per saved place")
        return np.asarray(c.place_distance_m, dtype=np.float64)
    return haversine_m(
        c.lon[:, None], c.lat[:, None], ctx.place_lon[None, :], ctx.place_lat[None, :]
    )


def _point_distance(c: Candidates, ctx: ResidentContext) -> np.ndarray:
    if ctx.point is None:
        return np.full(len(c), np.nan)
    if c.point_distance_m is not None:
        return np.asarray(c.point_distance_m, dtype=np.float64)
    return haversine_m(c.lon, c.lat, ctx.point[0], ctx.point[1])


def _route_distance(c: Candidates, ctx: ResidentContext) -> np.ndarray:
    """Distance to the nearest straight line between two saved places (home-work, …)."""
    if len(ctx.places) < 2:
        return np.full(len(c), np.nan)
    segments = [
        segment_distance_m(c.lon, c.lat, a.lon, a.lat, b.lon, b.lat)
        for a, b in combinations(ctx.places, 2)
    ]
    return _nan_min(np.stack(segments, axis=1))


def _followed_areas(c: Candidates, ctx: ResidentContext) -> np.ndarray:
    first = np.full(len(c), -1, dtype=np.int64)
    if len(ctx.followed_areas) and len(c.area_id):
        hit = np.isin(c.area_id, ctx.followed_areas)
        # Assign in reverse so that the first listed followed area of an item wins.
        first[c.area_item[hit][::-1]] = c.area_id[hit][::-1]
    return first


def compute_features(
    c: Candidates, ctx: ResidentContext, *, now_s: float, idf: Idf | None = None
) -> FeatureMatrix:
    """Features of every candidate for ``ctx`` at ``now_s`` (POSIX seconds)."""
    n = len(c)
    place_d = _place_distances(c, ctx)
    with np.errstate(invalid="ignore"):
        inside = place_d <= ctx.place_radius_m[None, :]
    nearest = _nan_min(place_d)
    point_d = _point_distance(c, ctx)
    route_d = _route_distance(c, ctx)
    followed_area = _followed_areas(c, ctx)
    units = tfidf(c.text, idf) if c.text.nnz else c.text  # no texts: no TF-IDF to weigh
    profile = profile_vector(ctx.profile_text, ctx.profile_weight, idf)

    is_works = c.item_type == WORKS
    is_event = c.item_type == EVENTS
    to_start = c.start_s - now_s
    with np.errstate(invalid="ignore"):
        started = to_start <= 0
        not_ended = ~(c.end_s <= now_s)
        before = to_start > 0
    age = np.maximum(now_s - c.published_s, 0.0)

    columns = {
        "decay_place_300": _decay(nearest, 300.0),
        "decay_place_1000": _decay(nearest, 1000.0),
        "decay_place_3000": _decay(nearest, 3000.0),
        "decay_place_personal": _decay(nearest, ctx.distance_scale_m),
        "inside_place": inside.any(axis=1) if inside.shape[1] else np.zeros(n),
        "decay_point_1000": _decay(point_d, 1000.0),
        "route_works": is_works * _decay(route_d, ROUTE_SCALE_M) * (0.5 + 0.5 * c.severity),
        "city_wide": c.city_wide,
        "followed_category": np.isin(c.category, ctx.followed_categories),
        "followed_area": followed_area >= 0,
        "followed_organization": np.isin(c.organization, ctx.followed_organizations),
        "category_affinity": _lookup(ctx.affinity_categories, ctx.affinity_positive, c.category),
        "category_dismissal": _lookup(ctx.affinity_categories, ctx.affinity_dismissal, c.category),
        "category_ctr_lift": _lookup(ctx.affinity_categories, ctx.affinity_ctr_lift, c.category),
        "type_affinity": ctx.type_affinity[c.item_type] if ctx.personalized else np.zeros(n),
        "text_similarity": cosine_to(units, profile),
        "recency_1d": np.exp(-age / DAY_S),
        "recency_7d": np.exp(-age / (7 * DAY_S)),
        "event_starts_soon": is_event
        * np.where(before, np.exp(-np.nan_to_num(to_start) / (2 * DAY_S)), 0.0),
        "event_ongoing": is_event & started & not_ended,
        "works_active": is_works & started & not_ended,
        "works_upcoming": is_works
        * np.where(
            before & (to_start <= 7 * DAY_S), np.exp(-np.nan_to_num(to_start) / (3 * DAY_S)), 0.0
        ),
        "urgency_important": c.urgency == IMPORTANT,
        "urgency_alert": c.urgency == ALERT,
        "popularity": np.log1p(np.maximum(c.popularity, 0.0)) / np.log1p(POPULARITY_REFERENCE),
        "type_news": c.item_type == NEWS,
        "type_works": is_works,
        "type_events": is_event,
    }
    values = np.empty((n, len(FEATURE_NAMES)), dtype=np.float64)
    for j, name in enumerate(FEATURE_NAMES):
        values[:, j] = columns[name]
    return FeatureMatrix(
        values=values,
        names=FEATURE_NAMES,
        place_distance_m=place_d,
        inside_place=inside,
        point_distance_m=point_d,
        route_distance_m=route_d,
        followed_area=followed_area,
        text_unit=units,
    )
