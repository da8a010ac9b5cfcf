"""What the ranker knows about one resident: profile, places, follows and interaction history.

``build_context`` turns a ``ResidentProfile`` (what the resident set: places, followed
categories, areas and organizations, consent) and a ``History`` (their past interactions joined
with the items' facts) into a ``ResidentContext`` as of a given time. Serving, training and the
simulator all call it, so a model is trained on exactly the signals it is served with; training
calls it with the history *before* each logged request, never after (no label leakage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from apps.recommend.engine.candidates import ITEM_TYPES, TYPE_CODES, item_keys
from apps.recommend.engine.distance import haversine_m
from apps.recommend.engine.text_vectors import empty_texts, encode_texts, take_rows

#: Interaction actions, in the order of their integer codes (the API's ``action`` values).
ACTIONS = ("impression", "open", "save", "unsave", "like", "share", "dismiss")
IMPRESSION, OPEN, SAVE, UNSAVE, LIKE, SHARE, DISMISS = range(len(ACTIONS))
ACTION_CODES = {name: code for code, name in enumerate(ACTIONS)}
#: Where an interaction happened, in the order of their codes (the API's ``context`` values).
CONTEXTS = ("feed", "push", "map", "search", "detail")
CONTEXT_CODES = {name: code for code, name in enumerate(CONTEXTS)}
FEED = 0

#: How much each action says the resident liked the item (0 for the others).
POSITIVE_WEIGHT = np.array([0.0, 1.0, 2.0, 0.0, 2.0, 2.0, 0.0])
POSITIVE_ACTIONS = np.flatnonzero(POSITIVE_WEIGHT > 0)

HALF_LIFE_S = 30 * 86400.0  # interactions lose half their weight every month
PRIOR_WEIGHT = 3.0  # pseudo-interactions pulling shares towards neutral for small histories
CTR_PRIOR = 5.0  # pseudo-impressions of a category at the resident's own click-through rate
DEFAULT_DISTANCE_SCALE_M = 1000.0
PROFILE_ROWS = 200  # most recent positive items making the text profile


@dataclass(frozen=True)
class Place:
    """A saved place: a label the resident chose ("Domicile"), a point and a radius."""

    label: str
    lon: float
    lat: float
    radius_m: float


@dataclass(frozen=True)
class ResidentProfile:
    """What the resident declared. ``personalized=False`` means they refused personalisation."""

    places: tuple[Place, ...] = ()
    followed_categories: frozenset[int] = frozenset()
    followed_areas: frozenset[int] = frozenset()
    followed_organizations: frozenset[int] = frozenset()
    personalized: bool = True


@dataclass(frozen=True, eq=False)
class History:
    """One resident's past interactions, each joined with the item's facts. Any order.

    ``item_key`` from ``candidates.item_keys``; ``action`` codes from ``ACTIONS``; ``text`` the
    item's hashed counts (``text_vectors.encode_texts``); ``lon``/``lat`` ``NaN`` for city-wide
    items.
    """

    item_key: np.ndarray
    item_type: np.ndarray
    category: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    action: np.ndarray
    at_s: np.ndarray
    text: sp.csr_matrix

    @classmethod
    def empty(cls) -> History:
        none = np.zeros(0)
        ints = np.zeros(0, dtype=np.int64)
        return cls(ints, ints, ints, none, none, ints, none, empty_texts(0))

    def __len__(self) -> int:
        return len(self.action)

    @classmethod
    def from_records(cls, records: Sequence[HistoryRecord]) -> History:
        """Build from plain rows (an interaction joined with its item's facts)."""
        nan = float("nan")
        return cls(
            item_key=item_keys([TYPE_CODES[r.type] for r in records], [r.id for r in records]),
            item_type=np.array([TYPE_CODES[r.type] for r in records], dtype=np.int64),
            category=np.array([r.category_id for r in records], dtype=np.int64),
            lon=np.array([nan if r.lon is None else r.lon for r in records], dtype=np.float64),
            lat=np.array([nan if r.lat is None else r.lat for r in records], dtype=np.float64),
            action=np.array([ACTION_CODES[r.action] for r in records], dtype=np.int64),
            at_s=np.array([r.at_s for r in records], dtype=np.float64),
            text=encode_texts([r.text for r in records]) if records else empty_texts(0),
        )


@dataclass(frozen=True)
class HistoryRecord:
    """One past interaction as plain values: the item (API type and id, category, point,
    text), the action (API name) and when (POSIX seconds)."""

    type: str
    id: int
    category_id: int
    lon: float | None
    lat: float | None
    action: str
    at_s: float
    text: str = ""


def _ids(values) -> np.ndarray:
    return np.array(sorted(values), dtype=np.int64)


def _read_only(matrix: sp.csr_matrix) -> sp.csr_matrix:
    for array in (matrix.data, matrix.indices, matrix.indptr):
        array.flags.writeable = False
    return matrix


#: The texts of a context without any (one shared matrix, read-only: every feed request makes
#: contexts, and a scipy matrix costs tens of microseconds to build).
_NO_TEXTS = _read_only(empty_texts(0))


@dataclass(frozen=True, eq=False)
class ResidentContext:
    """Everything the features read about the resident, as of one moment.

    Per-category signals are aligned arrays: ``affinity_categories`` (sorted ids) with
    ``affinity_positive`` (shrunk share of their engagement), ``affinity_dismissal`` (shrunk
    share of their dismissals) and ``affinity_ctr_lift`` (click-through on that category minus
    their overall click-through). ``type_affinity`` is the shrunk share of engagement per item
    type. ``profile_text``/``profile_weight`` are the items they engaged with, weighted.
    """

    places: tuple[Place, ...] = ()
    point: tuple[float, float] | None = None
    followed_categories: np.ndarray = field(default_factory=lambda: _ids(()))
    followed_areas: np.ndarray = field(default_factory=lambda: _ids(()))
    followed_organizations: np.ndarray = field(default_factory=lambda: _ids(()))
    affinity_categories: np.ndarray = field(default_factory=lambda: _ids(()))
    affinity_positive: np.ndarray = field(default_factory=lambda: np.zeros(0))
    affinity_dismissal: np.ndarray = field(default_factory=lambda: np.zeros(0))
    affinity_ctr_lift: np.ndarray = field(default_factory=lambda: np.zeros(0))
    type_affinity: np.ndarray = field(
        default_factory=lambda: np.full(len(ITEM_TYPES), 1.0 / len(ITEM_TYPES))
    )
    profile_text: sp.csr_matrix = field(default_factory=lambda: _NO_TEXTS)
    profile_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dismissed_keys: np.ndarray = field(default_factory=lambda: _ids(()))
    dismissed_text: sp.csr_matrix = field(default_factory=lambda: _NO_TEXTS)
    distance_scale_m: float = DEFAULT_DISTANCE_SCALE_M
    n_positive: int = 0
    n_impressions: int = 0
    personalized: bool = True

    @classmethod
    def anonymous(cls, point: tuple[float, float] | None = None) -> ResidentContext:
        """The non-personalised context: only the request point, if any (lon, lat)."""
        return cls(point=point, personalized=False)

    @property
    def place_lon(self) -> np.ndarray:
        return np.array([p.lon for p in self.places], dtype=np.float64)

    @property
    def place_lat(self) -> np.ndarray:
        return np.array([p.lat for p in self.places], dtype=np.float64)

    @property
    def place_radius_m(self) -> np.ndarray:
        return np.array([p.radius_m for p in self.places], dtype=np.float64)


def _shares(keys: np.ndarray, weights: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """Shrunk share of ``weights`` falling in each of ``categories``."""
    if len(keys) == 0:
        return np.zeros(len(categories))
    sums = np.bincount(np.searchsorted(categories, keys), weights, minlength=len(categories))
    return np.maximum(sums, 0.0) / (max(float(weights.sum()), 0.0) + PRIOR_WEIGHT)


def _distance_scale(places: Sequence[Place], lon: np.ndarray, lat: np.ndarray) -> float:
    """Geometric mean of the nearest-place distances of engaged items, shrunk towards 1 km."""
    located = ~(np.isnan(lon) | np.isnan(lat))
    if not places or not located.any():
        return DEFAULT_DISTANCE_SCALE_M
    p_lon = np.array([p.lon for p in places])
    p_lat = np.array([p.lat for p in places])
    d = haversine_m(lon[located, None], lat[located, None], p_lon[None, :], p_lat[None, :])
    logs = np.log(np.maximum(d.min(axis=1), 50.0))
    log_scale = (logs.sum() + PRIOR_WEIGHT * np.log(DEFAULT_DISTANCE_SCALE_M)) / (
        len(logs) + PRIOR_WEIGHT
    )
    return float(np.clip(np.exp(log_scale), 150.0, 8000.0))


def build_context(
    profile: ResidentProfile,
    history: History | None,
    *,
    now_s: float,
    point: tuple[float, float] | None = None,
) -> ResidentContext:
    """The resident's context at ``now_s`` from interactions strictly before it.

    A resident who refused personalisation gets ``ResidentContext.anonymous(point)``: their
    places, follows and history are not used.
    """
    if not profile.personalized:
        return ResidentContext.anonymous(point)
    history = history if history is not None else History.empty()
    past = np.flatnonzero(history.at_s < now_s)
    action = history.action[past]
    decay = 0.5 ** ((now_s - history.at_s[past]) / HALF_LIFE_S)
    positive_w = POSITIVE_WEIGHT[action] * decay
    positive_w -= (action == UNSAVE) * decay  # taking a save back withdraws part of it
    is_positive = POSITIVE_WEIGHT[action] > 0
    is_dismiss = action == DISMISS
    is_impression = action == IMPRESSION
    category = history.category[past]

    categories = np.unique(category)
    dismiss_w = is_dismiss * decay
    imp_counts = np.bincount(
        np.searchsorted(categories, category[is_impression]), minlength=len(categories)
    )
    pos_counts = np.bincount(
        np.searchsorted(categories, category[is_positive]), minlength=len(categories)
    )
    user_ctr = (is_positive.sum() + 1.0) / (is_impression.sum() + 5.0)
    ctr = (pos_counts + CTR_PRIOR * user_ctr) / (imp_counts + CTR_PRIOR)
    item_type = history.item_type[past]
    type_sums = np.bincount(item_type, positive_w, minlength=len(ITEM_TYPES))
    type_affinity = (np.maximum(type_sums, 0.0) + PRIOR_WEIGHT / len(ITEM_TYPES)) / (
        max(float(positive_w.sum()), 0.0) + PRIOR_WEIGHT
    )

    engaged = past[is_positive]
    recent = engaged[np.argsort(history.at_s[engaged])[::-1][:PROFILE_ROWS]]
    dismissed = past[is_dismiss]
    return ResidentContext(
        places=tuple(profile.places),
        point=point,
        followed_categories=_ids(profile.followed_categories),
        followed_areas=_ids(profile.followed_areas),
        followed_organizations=_ids(profile.followed_organizations),
        affinity_categories=categories.astype(np.int64),
        affinity_positive=_shares(category, positive_w, categories),
        affinity_dismissal=_shares(category, dismiss_w, categories),
        affinity_ctr_lift=ctr - user_ctr,
        type_affinity=type_affinity,
        profile_text=take_rows(history.text, recent),
        profile_weight=POSITIVE_WEIGHT[history.action[recent]]
        * 0.5 ** ((now_s - history.at_s[recent]) / HALF_LIFE_S),
        dismissed_keys=np.unique(history.item_key[dismissed]).astype(np.int64),
        dismissed_text=take_rows(history.text, dismissed),
        distance_scale_m=_distance_scale(
            profile.places, history.lon[engaged], history.lat[engaged]
        ),
        n_positive=int(is_positive.sum()),
        n_impressions=int(is_impression.sum()),
        personalized=True,
    )
