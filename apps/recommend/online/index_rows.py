"""The per-item facts of the feed's item index, read from SQL and moved as whole rows.

``RowFacts`` holds what the index keeps per item (one row each, sorted by type then id): the
columns, the hashed text counts (CSR), the areas (CSR) and the vertex arrays of extended
geometries (``Segments``, CSR by item). ``rows_read`` reads them for querysets of content rows
(a few queries per type, one GEOS geometry per row); ``rows_merged`` gathers rows from two
sets, vectorised, so that an incremental refresh (``index_refresh``) builds the
facts of a new index from the previous index's rows and the few rows read again, and the full
build (``item_index.index_build``) and the refresh hand the same ``RowFacts`` to the same
assembly. A new per-item field of the index belongs here (read, ``rows_merged``,
``from_index``), so that both paths carry it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import scipy.sparse as sp
from django.contrib.gis.db.models.functions import Centroid
from django.db import connections
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from apps.recommend.engine.candidates import TYPE_CODES, item_keys
from apps.recommend.engine.text_vectors import N_FEATURES, encode_texts
from apps.recommend.online.candidate_statement import _text
from apps.recommend.online.segments import Segments, SegmentsBuilder, part_count
from apps.recommend.online.sql import CoordX, CoordY, EpochSeconds

#: An ``item_index.ItemIndex`` (not imported: that module imports this one).
ItemIndex = Any

SEVERITY = {"minor": 0.3, "moderate": 0.6, "major": 1.0}

#: 1-D columns, one value per row (``ItemIndex`` fields of the same names).
COLUMNS = (
    "item_type", "item_id", "category", "organization", "lon", "lat", "has_geometry",
    "is_point", "one_part", "publish_s", "published_s", "expires_s", "over_s", "start_s", "end_s",
    "urgency", "severity", "cancelled", "updated_s",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class RowFacts:
    """Per-item facts of ``n`` items (module doc); times are POSIX seconds, ``NaN`` for none."""

    item_type: np.ndarray  # int8
    item_id: np.ndarray  # int64
    category: np.ndarray  # int64
    organization: np.ndarray  # int64
    lon: np.ndarray
    lat: np.ndarray
    has_geometry: np.ndarray  # bool
    is_point: np.ndarray  # bool
    one_part: np.ndarray  # bool: one point, line or ring (``geography``: PostGIS's distance)
    publish_s: np.ndarray
    published_s: np.ndarray
    expires_s: np.ndarray
    over_s: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    urgency: np.ndarray  # int8
    severity: np.ndarray
    cancelled: np.ndarray  # bool: cancelled works (not in the "about to start" list)
    updated_s: np.ndarray
    bounds: np.ndarray  # n x 4
    text: sp.csr_matrix
    area_ptr: np.ndarray
    area_ids: np.ndarray
    segments: Segments

    def __len__(self) -> int:
        return len(self.item_id)

    @property
    def keys(self) -> np.ndarray:
        return item_keys(self.item_type, self.item_id)

    @classmethod
    def from_index(cls, index: ItemIndex) -> RowFacts:
        """The facts an index holds (its arrays, not copies)."""
        return cls(**{f.name: getattr(index, f.name) for f in fields(cls)})

    def take(self, rows: np.ndarray) -> RowFacts:
        """The facts of ``rows``, in that order."""
        return rows_merged(self, self, np.asarray(rows, dtype=np.int64))


def rows_merged(a: RowFacts, b: RowFacts, gather: np.ndarray) -> RowFacts:
    """Rows ``gather`` of ``a``'s rows followed by ``b``'s (below ``len(a)``: a row of ``a``,
    else of ``b``), gathered from both without stacking them first (no third copy of the index
    during a refresh): ``np.take`` for columns, CSR gathers for areas, vertices and texts."""
    n = len(gather)
    from_a = gather < len(a)
    at_a, at_b = gather[from_a], gather[~from_a] - len(a)

    def pick(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = np.empty((n, *x.shape[1:]), dtype=x.dtype)
        out[from_a] = x[at_a]
        out[~from_a] = y[at_b]
        return out

    def spans(
        ptr_a: np.ndarray, ptr_b: np.ndarray, parts: list[tuple[np.ndarray, np.ndarray]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        starts = pick(ptr_a[:-1], ptr_b[:-1]).astype(np.int64)
        counts = pick(np.diff(ptr_a), np.diff(ptr_b)).astype(np.int64)
        ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        total = int(ptr[-1])
        positions = np.repeat(starts - ptr[:-1], counts) + np.arange(total, dtype=np.int64)
        source_a = np.repeat(from_a, counts)
        out = []
        for x, y in parts:
            values = np.empty(total, dtype=x.dtype)
            values[source_a] = x[positions[source_a]]
            values[~source_a] = y[positions[~source_a]]
            out.append(values)
        return ptr, out

    sa, sb = a.segments, b.segments
    names = ("x1", "y1", "x2", "y2", "polygon")
    seg_ptr, (x1, y1, x2, y2, polygon) = spans(
        sa.ptr, sb.ptr, [(getattr(sa, k), getattr(sb, k)) for k in names]
    )
    area_ptr, (area_ids,) = spans(a.area_ptr, b.area_ptr, [(a.area_ids, b.area_ids)])
    ta, tb = a.text, b.text
    text_ptr, (indices, data) = spans(
        ta.indptr, tb.indptr, [(ta.indices, tb.indices), (ta.data, tb.data)]
    )
    text = sp.csr_matrix((data, indices, text_ptr.astype(ta.indptr.dtype)), shape=(n, ta.shape[1]))
    return RowFacts(
        **{name: pick(getattr(a, name), getattr(b, name)) for name in COLUMNS},
        bounds=pick(a.bounds, b.bounds),
        text=text,
        area_ptr=area_ptr,
        area_ids=area_ids,
        # Polygon numbers only tell polygons of one item apart: renumbered as a build numbers them.
        segments=Segments(seg_ptr, x1, y1, x2, y2, _renumber(polygon, seg_ptr)),
    )


def _renumber(polygon: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Polygon numbers 0, 1, … in segment order, as ``SegmentsBuilder`` numbers them: a new
    polygon where the number changes or the item does (ring edges are contiguous)."""
    at = np.flatnonzero(polygon >= 0)
    out = np.full(len(polygon), -1, dtype=np.int64)
    if not len(at):
        return out
    owner = np.searchsorted(ptr, at, side="right") - 1
    number = polygon[at]
    start = np.ones(len(at), dtype=bool)
    start[1:] = (number[1:] != number[:-1]) | (owner[1:] != owner[:-1])
    out[at] = np.cumsum(start) - 1
    return out


def fetch_array(queryset: QuerySet, columns: int, dtype: Any) -> np.ndarray:
    """The rows of a ``values_list`` queryset of numbers as one ``n x columns`` array, read
    with the driver's tuples only (no ORM iterator per row: half the time for 200,000 ids)."""
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return np.array(cursor.fetchall(), dtype=dtype).reshape(-1, columns)


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.fromiter(
        (np.nan if v is None else v for v in values), dtype=np.float64, count=len(values)
    )


def rows_read(
    querysets: Sequence[QuerySet], *, language: str, previous: ItemIndex | None
) -> RowFacts:
    """The facts of the rows of ``querysets`` (one per content type, in type order), read with
    the text of ``language``; text rows of unchanged item versions come from ``previous``."""
    parts: list[tuple[int, list[tuple[Any, ...]]]] = []
    area_rows: dict[int, dict[int, list[int]]] = {}
    for queryset in querysets:
        model = queryset.model
        code = model.type_code
        t = TYPE_CODES[code]
        extra: list[Any] = []
        if code == "works":
            extra = [EpochSeconds("start_at"), EpochSeconds("end_at"), EpochSeconds("end_at"),
                     F("severity"), F("work_status")]  # fmt: skip
        elif code == "events":
            extra = [EpochSeconds("start_at"), EpochSeconds("last_end_at"),
                     EpochSeconds("last_end_at")]  # fmt: skip
        values = queryset.order_by("pk").values_list(
            "pk",
            "category_id",
            "organization_id",
            CoordX(Centroid("geometry")),
            CoordY(Centroid("geometry")),
            EpochSeconds("publish_at"),
            EpochSeconds(Coalesce("publish_at", "published_at", "created_at")),
            EpochSeconds("expires_at"),
            EpochSeconds("updated_at"),
            "urgency",
            _text(language),
            "geometry",
            *extra,
        )
        rows = list(values)
        parts.append((t, rows))
        through: Any = model.areas.through
        item_column = through._meta.get_field(str(model._meta.model_name)).attname
        links = through.objects.filter(**{f"{item_column}__in": queryset.values("pk")})
        mine = area_rows.setdefault(t, {})
        for item_id, area_id in links.order_by("pk").values_list(item_column, "area_id"):
            mine.setdefault(item_id, []).append(area_id)
    return _facts(parts, area_rows, language=language, previous=previous)


def _facts(
    parts: list[tuple[int, list[tuple[Any, ...]]]],
    area_rows: dict[int, dict[int, list[int]]],
    *,
    language: str,
    previous: ItemIndex | None,
) -> RowFacts:
    rows = [row for _t, part in parts for row in part]
    n = len(rows)
    item_type = np.concatenate(
        [np.full(len(part), t, dtype=np.int8) for t, part in parts] or [np.zeros(0, np.int8)]
    )
    columns = list(zip(*(row[:12] for row in rows), strict=True)) if rows else [()] * 12
    item_id = np.array(columns[0], dtype=np.int64)

    def extra(k: int, default: Any) -> list[Any]:
        return [row[12 + k] if len(row) > 12 + k else default for row in rows]

    updated = _floats(columns[8])
    keys = item_keys(item_type, item_id)
    text = _texts(keys, updated, list(columns[10]), previous, language)
    area_lists = [area_rows.get(int(t), {}).get(int(i), []) for t, i in zip(item_type, item_id,
                                                                          strict=True)]  # fmt: skip
    counts = np.fromiter((len(a) for a in area_lists), dtype=np.int64, count=n)
    area_ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    area_ids = np.fromiter((a for areas in area_lists for a in areas), dtype=np.int64,
                           count=int(area_ptr[-1]))  # fmt: skip
    builder = SegmentsBuilder()
    bounds = np.full((n, 4), np.nan)
    has_geometry = np.zeros(n, dtype=bool)
    is_point = np.zeros(n, dtype=bool)
    one_part = np.zeros(n, dtype=bool)
    for row, geometry in enumerate(columns[11]):
        builder.add(geometry)
        if geometry is not None:
            has_geometry[row] = True
            is_point[row] = geometry.geom_type == "Point"
            one_part[row] = part_count(geometry) == 1
            if not geometry.empty:
                bounds[row] = geometry.extent
    built = builder.build()
    segments = Segments(
        built.ptr, built.x1, built.y1, built.x2, built.y2, _renumber(built.polygon, built.ptr)
    )
    return RowFacts(
        item_type=item_type,
        item_id=item_id,
        category=np.array(columns[1], dtype=np.int64),
        organization=np.array(columns[2], dtype=np.int64),
        lon=_floats(columns[3]),
        lat=_floats(columns[4]),
        has_geometry=has_geometry,
        is_point=is_point,
        one_part=one_part,
        publish_s=_floats(columns[5]),
        published_s=_floats(columns[6]),
        expires_s=_floats(columns[7]),
        over_s=_floats(extra(2, None)),
        start_s=_floats(extra(0, None)),
        end_s=_floats(extra(1, None)),
        urgency=np.array(columns[9], dtype=np.int8),
        severity=np.array([SEVERITY.get(v, 0.0) for v in extra(3, None)], dtype=np.float64),
        cancelled=np.array([v == "cancelled" for v in extra(4, None)], dtype=bool),
        updated_s=updated,
        bounds=bounds,
        text=text,
        area_ptr=area_ptr,
        area_ids=area_ids,
        segments=segments,
    )


def _texts(
    keys: np.ndarray,
    updated: np.ndarray,
    texts: list[str],
    previous: ItemIndex | None,
    language: str,
) -> sp.csr_matrix:
    """Hashed term counts of every item, reusing the previous index's rows of the same version."""
    n = len(keys)
    reuse = np.full(n, -1, dtype=np.int64)
    if previous is not None and previous.text_language == language and len(previous):
        at = previous.rows_of(keys)
        same = (at >= 0) & (previous.updated_s[np.maximum(at, 0)] == updated)
        reuse[same] = at[same]
    missing = np.flatnonzero(reuse < 0)
    encoded = encode_texts([texts[k] or "" for k in missing]) if len(missing) else None
    if previous is None or not (reuse >= 0).any():
        if encoded is None:
            return sp.csr_matrix((n, N_FEATURES), dtype=np.float32)
        return encoded.tocsr()
    old = previous.text[reuse[reuse >= 0]]
    order = np.concatenate([np.flatnonzero(reuse >= 0), missing])
    stacked = sp.vstack([old, encoded] if encoded is not None else [old], format="csr")
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    return stacked[inverse].tocsr()
