"""``Candidates``: the items to rank for one request, as a struct of numpy arrays.

The database glue fills it from one SQL query per content type (or from ``CandidateRecord``
rows); the simulator fills it from its synthetic city. Times are POSIX seconds (UTC), distances
metres, coordinates WGS84 degrees. ``NaN`` means "none": no geometry (a city-wide item), no
start, no end, no expiry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np
import scipy.sparse as sp

from apps.recommend.engine.text_vectors import N_FEATURES, empty_texts, encode_texts, take_rows

#: Item type codes, in the order of ``Candidates.item_type`` (the API's ``type`` values). The
#: engine imports no other app (tests/recommend/test_layout.py), so this is its copy of
#: ``apps.core.item_types.ITEM_TYPES``/``TYPE_INDEX``; tests/core/test_vocabulary.py pins it.
ITEM_TYPES = ("news", "works", "events")
NEWS, WORKS, EVENTS = 0, 1, 2
TYPE_CODES = {name: code for code, name in enumerate(ITEM_TYPES)}

#: Urgency levels as ``apps.core.models.Urgency`` (INFO, IMPORTANT, ALERT).
INFO, IMPORTANT, ALERT = 0, 1, 2

# Keys pack (type, id) into one int64 so that sets of items compare with ``np.isin``.
_KEY_SHIFT = 1 << 40


def item_keys(item_type, item_id) -> np.ndarray:
    """One int64 key per (type code, id) pair: ``type * 2**40 + id``."""
    return np.asarray(item_type, dtype=np.int64) * _KEY_SHIFT + np.asarray(item_id, dtype=np.int64)


def item_key(type_name: str, item_id: int) -> int:
    """The key of one item given its API type name (``"events"``) and id."""
    return TYPE_CODES[type_name] * _KEY_SHIFT + int(item_id)


@dataclass(frozen=True)
class CandidateRecord:
    """One candidate as plain values (what a ``values_list`` row maps to)."""

    type: str
    id: int
    category_id: int
    organization_id: int
    lon: float | None
    lat: float | None
    published_at_s: float
    start_at_s: float | None = None
    end_at_s: float | None = None
    expires_at_s: float | None = None
    urgency: int = INFO
    popularity: float = 0.0
    severity: float = 0.0
    area_ids: Sequence[int] = ()
    text: str = ""


def _floats(values: Iterable[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Candidates:
    """Items to rank, one row each. Arrays all have length ``n``.

    ``text`` holds raw hashed term counts (``engine.text_vectors.encode_texts``); ``area_item``
    and ``area_id`` list the (row, area id) pairs of the areas each item touches.
    ``severity`` (0-1) is the traffic impact of works (0 for other types).
    ``place_distance_m`` (``n x places``) and ``point_distance_m`` (``n``) may carry distances
    the database computed to the real geometry (a line, a polygon); without them the features
    use the haversine distance from ``lon``/``lat``, the item's representative point.
    """

    item_type: np.ndarray
    item_id: np.ndarray
    category: np.ndarray
    organization: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    published_s: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    expires_s: np.ndarray
    urgency: np.ndarray
    popularity: np.ndarray
    severity: np.ndarray
    text: sp.csr_matrix
    area_item: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    area_id: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    place_distance_m: np.ndarray | None = None
    point_distance_m: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.item_type)
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in {"area_item", "area_id"} or value is None:
                continue
            if value.shape[0] != n:
                raise ValueError(f"Candidates.{f.name} has {value.shape[0]} rows, expected {n}")
        if self.text.shape[1] != N_FEATURES:
            raise ValueError(
                "Candidates.text must come from apps.recommend.engine.text_vectors.encode_texts"
            )
        if len(self.area_item) != len(self.area_id):
            raise ValueError("area_item and area_id must have the same length")
        if len(self.area_item) and (self.area_item.min() < 0 or self.area_item.max() >= n):
            raise ValueError("area_item holds row indices of the candidates")

    def __len__(self) -> int:
        return len(self.item_type)

    @property
    def keys(self) -> np.ndarray:
        return item_keys(self.item_type, self.item_id)

    @property
    def city_wide(self) -> np.ndarray:
        """Items without geometry (they concern the whole city)."""
        return np.isnan(self.lon) | np.isnan(self.lat)

    def live(self, now_s: float) -> np.ndarray:
        """Published by ``now_s``, not expired, not over (an ended event, finished works)."""
        with np.errstate(invalid="ignore"):
            return (self.published_s <= now_s) & ~(self.expires_s <= now_s) & ~(self.end_s <= now_s)

    def take(self, rows, *, texts: bool = True) -> Candidates:
        """The candidates at ``rows`` (indices or a boolean mask), areas re-indexed;
        ``texts=False``: empty texts instead of gathering them (a caller that drops them)."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        area_item, area_id = self._areas_of(rows)
        return Candidates(
            item_type=self.item_type[rows],
            item_id=self.item_id[rows],
            category=self.category[rows],
            organization=self.organization[rows],
            lon=self.lon[rows],
            lat=self.lat[rows],
            published_s=self.published_s[rows],
            start_s=self.start_s[rows],
            end_s=self.end_s[rows],
            expires_s=self.expires_s[rows],
            urgency=self.urgency[rows],
            popularity=self.popularity[rows],
            severity=self.severity[rows],
            text=take_rows(self.text, rows) if texts else empty_texts(len(rows)),
            area_item=area_item,
            area_id=area_id,
            place_distance_m=None if self.place_distance_m is None else self.place_distance_m[rows],
            point_distance_m=None if self.point_distance_m is None else self.point_distance_m[rows],
        )

    def _areas_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(new row, area id) pairs of ``rows``, which may repeat (a catalog sliced per request)."""
        order = np.argsort(self.area_item, kind="stable")
        counts = np.bincount(self.area_item, minlength=len(self))
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        per_row = counts[rows]
        total = int(per_row.sum())
        new_item = np.repeat(np.arange(len(rows), dtype=np.int64), per_row)
        offsets = np.arange(total) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        positions = order[np.repeat(starts[rows], per_row) + offsets]
        return new_item, self.area_id[positions]

    def with_popularity(self, popularity: np.ndarray) -> Candidates:
        return replace(self, popularity=np.asarray(popularity, dtype=np.float64))

    @classmethod
    def from_records(
        cls, records: Sequence[CandidateRecord], *, text: sp.csr_matrix | None = None
    ) -> Candidates:
        """Build from plain rows; ``text`` may pass cached hashed counts instead of encoding."""
        n = len(records)
        area_item = np.array(
            [row for row, r in enumerate(records) for _ in r.area_ids], dtype=np.int64
        )
        area_id = np.array([a for r in records for a in r.area_ids], dtype=np.int64)
        if text is None:
            texts = [r.text for r in records]
            text = encode_texts(texts) if any(texts) else empty_texts(n)
        return cls(
            item_type=np.array([TYPE_CODES[r.type] for r in records], dtype=np.int8),
            item_id=np.array([r.id for r in records], dtype=np.int64),
            category=np.array([r.category_id for r in records], dtype=np.int64),
            organization=np.array([r.organization_id for r in records], dtype=np.int64),
            lon=_floats(r.lon for r in records),
            lat=_floats(r.lat for r in records),
            published_s=np.array([r.published_at_s for r in records], dtype=np.float64),
            start_s=_floats(r.start_at_s for r in records),
            end_s=_floats(r.end_at_s for r in records),
            expires_s=_floats(r.expires_at_s for r in records),
            urgency=np.array([r.urgency for r in records], dtype=np.int8),
            popularity=np.array([r.popularity for r in records], dtype=np.float64),
            severity=np.array([r.severity for r in records], dtype=np.float64),
            text=text,
            area_item=area_item,
            area_id=area_id,
        )
