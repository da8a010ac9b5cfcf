"""Content lists answered from the item index: no list SQL on the common shapes (issue 13).

``GET /api/v1/news/``, ``/works/`` and ``/events/`` with only ``page``, ``page_size``,
``category``, ``organization``, ``area``, ``near`` (with ``radius``) and ``bbox`` are answered
from this process's ``ItemIndex`` (``item_index``), registered as a list accelerator
(``apps.core.api.accelerated``): which items are public now, filtered, in the list's order,
counted and versioned from the arrays; the page's items spliced from their pre-rendered
fragments (``apps.core.api.fragments``). The response is the SQL path's, byte for byte, with
the same validators (tests/recommend/test_index_lists.py compares them on generated cities).

It answers only when it can be exact, and returns ``None`` (the SQL path answers) otherwise:

- the index must be at the current content generation (read in this request): a stale index,
  one being rebuilt in the background, or the cache down all mean SQL;
- any other parameter (``q``, ``ordering``, dates, ``format``…), a repeated parameter, a
  value the form fields reject, an unknown slug, a page past the end: SQL, which gives the
  400 or 404 with its usual body;
- PostgreSQL only (times are exact to the microsecond there: ``date_part('epoch')``).

Geometry stays exact. ``bbox`` is PostGIS's planar ``ST_Intersects``: a point is in the box
when inside or on its edge, an extended geometry when one of its segments meets the box or,
for a polygon, the box lies inside it (even-odd over its rings). ``near`` is PostGIS's
geodesic distance, which the index's local frame approximates to within ~0.5 %: items
clearly inside or outside the radius are decided by the local frame; those within
``1 % + 5 m`` of it, and every item of the page (for ``distance_m``), by PostGIS's own
distance computed here (``geography``: the same ellipsoidal geodesic, to 1e-8 m). Only where
that could still differ from PostGIS in what the response shows (a distance within 1e-6 m of a
half metre or of the radius, a point on a polygon's edge, parts of a multi-geometry that
disagree) does one prepared statement read ``ST_Distance(geography, geography)`` as
``apps.core.geo.DistanceM`` does.

Queries: none for a page whose fragments are current (with ``near`` too, but for the rare
distances above); plus the SQL of the misses, and per process and generation one for the
taxonomy's slugs and the type's last removal.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django import forms
from django.core.cache import cache
from django.core.paginator import InvalidPage
from django.db import connection
from django.db.models import Max
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.core.api.conditional import etag_for, not_modified, set_validators
from apps.core.api.filters import RADIUS_DEFAULT_M
from apps.core.api.fragments import (
    ItemVersion,
    render_rows,
)
from apps.core.api.items import items_fetch
from apps.core.api.pagination import CountedPaginator
from apps.core.api.response_cache import GENERATION_KEY as RESPONSE_GENERATION_KEY
from apps.core.api.throttles import cache_read_first
from apps.core.cache import cache_values
from apps.core.earth import METRES_PER_DEGREE
from apps.core.models import Area, Category, Organization, Tombstone
from apps.core.prepared import run_prepared
from apps.recommend.engine.candidates import TYPE_CODES, item_keys
from apps.recommend.online.geography import index_distances_m, undecided
from apps.recommend.online.index_query import next_dates
from apps.recommend.online.item_index import (
    GENERATION_KEY,
    ItemIndex,
    _rows,
    generation_current,
    index_ready,
)
from apps.recommend.online.segments import (
    _gather,
    _inside,
    bbox_lower_bounds_m,
    local_distances_m,
)

#: The parameters answered here; any other one goes to the SQL path.
PARAMETERS = frozenset(
    {"page", "page_size", "category", "organization", "area", "near", "radius", "bbox"}
)
#: Items this close to the radius (relative, then metres) are measured by PostGIS.
BAND_RELATIVE, BAND_M = 0.01, 5.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TAXONOMY = {"category": Category, "area": Area, "organization": Organization}


class _FallbackError(Exception):
    """The SQL path must answer this request."""


def _moment(seconds: float) -> datetime | None:
    """POSIX seconds (``date_part('epoch')``: exact to the microsecond) as the ORM's datetime."""
    if not np.isfinite(seconds):
        return None
    return _EPOCH + timedelta(microseconds=round(float(seconds) * 1_000_000))


# --- what the index does not hold: slugs and the last removal, per generation -----------------


@dataclass(frozen=True)
class _Facts:
    slugs: dict[str, dict[str, int]]
    removed: datetime | None


_facts_lock = threading.Lock()
#: Per content type: the generations key the facts were read under, and the facts.
_facts: dict[str, tuple[tuple[Any, ...], _Facts]] = {}


def _facts_for(key: tuple[Any, ...], type_code: str) -> _Facts:
    """Taxonomy slugs and the type's last removal, read once per (generations) key.

    The key holds the index generation (moved by every removal) and the type's response
    generation (moved by every taxonomy change): facts read under it stay true while it
    lasts. Without a usable key (a generation missing from the cache) they are read anew.
    """
    cached = _facts.get(type_code)
    if cached is not None and cached[0] == key and None not in key:
        return cached[1]
    removed = Tombstone.objects.filter(item_type=type_code).aggregate(latest=Max("removed_at"))
    facts = _Facts(slugs=_slugs(), removed=removed["latest"])
    if None not in key:
        with _facts_lock:
            _facts[type_code] = (key, facts)
    return facts


def _slugs() -> dict[str, dict[str, int]]:
    """Every slug of categories, areas and organizations: one statement."""
    selects = []
    for name, model in _TAXONOMY.items():
        table = connection.ops.quote_name(model._meta.db_table)
        selects.append(f"SELECT '{name}', slug, id FROM {table}")
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects))
        rows = cursor.fetchall()
    out: dict[str, dict[str, int]] = {name: {} for name in _TAXONOMY}
    for kind, slug, pk in rows:
        out[kind][slug] = pk
    return out


# --- parameters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Query:
    taxonomy: dict[str, list[str]]
    near: tuple[float, float] | None
    radius_m: float
    bbox: tuple[float, float, float, float] | None


def _parse(params: Any, filters: dict[str, Any]) -> _Query:
    """The query, read by the FilterSet's own form fields (``filters``: its ``base_filters``);
    anything they reject goes to SQL, which answers the 400."""
    if not set(params) <= PARAMETERS or any(len(params.getlist(k)) != 1 for k in params):
        raise _FallbackError

    def clean(name: str) -> Any:
        return filters[name].field.clean(params[name]) if name in params else None

    try:
        taxonomy = {name: slugs for name in _TAXONOMY if (slugs := clean(name))}
        radius, box = clean("radius"), clean("bbox")
        # The field's own checks, without the GEOS point the SQL path filters with.
        near = filters["near"].field.coordinates(params["near"]) if "near" in params else None
    except (forms.ValidationError, ValidationError):
        raise _FallbackError from None
    if radius is not None and near is None:
        raise _FallbackError  # the form's "radius needs near" 400
    return _Query(
        taxonomy=taxonomy,
        near=near,
        radius_m=float(RADIUS_DEFAULT_M if radius is None else radius),
        bbox=None if box is None else tuple(box.extent),
    )


# --- filters on the index's rows -----------------------------------------------------------------


def _type_rows(index: ItemIndex, t: int, now_s: float) -> np.ndarray:
    lo, hi = np.searchsorted(index.item_type, [t, t + 1])
    rows = np.arange(lo, hi, dtype=np.int64)
    return rows[index.public(rows, now_s)]


def _taxonomy_filter(
    index: ItemIndex, t: int, rows: np.ndarray, taxonomy: dict[str, list[str]], facts: _Facts
) -> np.ndarray:
    for name, slugs in taxonomy.items():
        known = facts.slugs[name]
        if any(slug not in known for slug in slugs):
            raise _FallbackError  # the form's "unknown slug" 400
        ids = np.array([known[slug] for slug in slugs], dtype=np.int64)
        if name == "category":
            rows = rows[np.isin(index.category[rows], ids)]
        elif name == "organization":
            rows = rows[np.isin(index.organization[rows], ids)]
        else:
            lists = [index.by_area.get((t, int(a))) for a in ids]
            present = [x for x in lists if x is not None]
            tagged = np.unique(np.concatenate(present)) if present else np.zeros(0)
            rows = rows[np.isin(rows, tagged.astype(np.int64))]
    return rows


def _segments_meet_box(
    index: ItemIndex, rows: np.ndarray, box: tuple[float, float, float, float]
) -> np.ndarray:
    """Which of ``rows`` (extended geometries) intersect the closed box, as GEOS says."""
    min_x, min_y, max_x, max_y = box
    idx, owner = _gather(index.segments, rows)
    seg = index.segments
    x1, y1, x2, y2 = seg.x1[idx], seg.y1[idx], seg.x2[idx], seg.y2[idx]
    # Liang-Barsky: the part of each segment inside the box is [t0, t1] when t0 <= t1.
    dx, dy = x2 - x1, y2 - y1
    t0 = np.zeros(len(idx))
    t1 = np.ones(len(idx))
    meets = np.ones(len(idx), dtype=bool)
    for p, q in ((-dx, x1 - min_x), (dx, max_x - x1), (-dy, y1 - min_y), (dy, max_y - y1)):
        parallel = p == 0
        meets &= ~(parallel & (q < 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(parallel, 0.0, q / np.where(parallel, 1.0, p))
        entering = ~parallel & (p < 0)
        leaving = ~parallel & (p > 0)
        t0 = np.where(entering, np.maximum(t0, r), t0)
        t1 = np.where(leaving, np.minimum(t1, r), t1)
    meets &= t0 <= t1
    out = np.zeros(len(rows), dtype=bool)
    out[owner[meets]] = True
    # A box inside a polygon meets no edge: test one corner against the rings (even-odd).
    ring = seg.polygon[idx] >= 0
    if ring.any():
        edges = (x1[ring], y1[ring], x2[ring], y2[ring], seg.polygon[idx][ring], owner[ring])
        out[_inside(min_x, min_y, *edges)] = True
    return out


def _bbox_filter(
    index: ItemIndex, rows: np.ndarray, box: tuple[float, float, float, float]
) -> np.ndarray:
    min_x, min_y, max_x, max_y = box
    b = index.bounds[rows]
    with np.errstate(invalid="ignore"):
        overlaps = (b[:, 0] <= max_x) & (b[:, 2] >= min_x) & (b[:, 1] <= max_y) & (b[:, 3] >= min_y)
    rows, b = rows[overlaps], b[overlaps]  # rows without geometry (NaN bounds) drop here
    inside = (b[:, 0] >= min_x) & (b[:, 2] <= max_x) & (b[:, 1] >= min_y) & (b[:, 3] <= max_y)
    keep = inside | index.is_point[rows]  # a point's bounds are the point
    partial = np.flatnonzero(~keep)
    if len(partial):
        extended = rows[partial]
        if (index.segments.counts(extended) == 0).any():
            raise _FallbackError  # an empty geometry: nothing to test (points are segments too)
        keep[partial] = _segments_meet_box(index, extended, box)
    return rows[keep]


def _near_filter(
    index: ItemIndex, rows: np.ndarray, lon: float, lat: float, radius_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rows surely within ``radius_m`` and rows PostGIS must decide (near the radius)."""
    band = radius_m * BAND_RELATIVE + BAND_M
    rows = rows[index.has_geometry[rows]]
    rows = rows[bbox_lower_bounds_m(index.bounds[rows], lon, lat) <= radius_m + band]
    k = np.cos(np.radians(lat))
    distance = np.full(len(rows), np.nan)
    points = index.is_point[rows]
    p = rows[points]
    distance[points] = np.hypot((index.lon[p] - lon) * k, index.lat[p] - lat) * METRES_PER_DEGREE
    extended = np.flatnonzero(~points)
    if len(extended):
        if (index.segments.counts(rows[extended]) == 0).any():
            raise _FallbackError
        distance[extended] = local_distances_m(index.segments, rows[extended], [(lon, lat)])[:, 0]
    sure = rows[distance < radius_m - band]
    unsure = rows[np.abs(distance - radius_m) <= band]
    return sure, unsure


# --- order and version ----------------------------------------------------------------------------


def _ordered(
    index: ItemIndex, type_code: str, rows: np.ndarray, next_start: np.ndarray | None
) -> np.ndarray:
    """``rows`` in the list's default order (``ContentFilterSet.order``)."""
    if type_code == "events":
        assert next_start is not None
        key = np.where(np.isnan(next_start), np.inf, next_start)
        return rows[np.lexsort((index.item_id[rows], key))]  # next_start_at ASC NULLS LAST, id
    # publish_at DESC NULLS LAST, id DESC: the index's newest rank puts NULLs first.
    rank = index.newest_rank[rows]
    key = np.where(np.isnan(index.publish_s[rows]), rank + len(index), rank)
    return rows[np.argsort(key, kind="stable")]


def _version(
    view: Any,
    index: ItemIndex,
    rows: np.ndarray,
    next_end: np.ndarray | None,
    removed: datetime | None,
) -> dict[str, Any]:
    """The SQL path's version aggregates (``ContentViewSet.conditional``) from the arrays."""
    empty = not len(rows)

    def least(values: np.ndarray) -> datetime | None:
        finite = values[np.isfinite(values)]
        return None if not len(finite) else _moment(float(finite.min()))

    version: dict[str, Any] = {}
    for name in view.version_aggregates():
        if name == "count":
            version[name] = len(rows)
        elif name == "updated":
            version[name] = None if empty else _moment(float(index.updated_s[rows].max()))
        elif name == "until_expires_at":
            version[name] = least(index.expires_s[rows])
        elif name == "until_end_at" and view.model.type_code == "works":
            version[name] = least(index.end_s[rows])
        elif name == "next_change" and next_end is not None:
            version[name] = least(next_end)
        else:
            raise _FallbackError  # an aggregate this module does not know
    version["removed"] = None if empty else removed
    moments = [version["updated"], version["removed"]]
    version["last_modified"] = max((m for m in moments if m is not None), default=None)
    return version


# --- the answer -----------------------------------------------------------------------------------


def index_list(view: Any, request: Any) -> Any:
    """The list response from the item index, or ``None`` for the SQL path (module doc)."""
    if connection.vendor != "postgresql" or not view.spliced():
        return None
    try:
        return _answer(view, request)
    except _FallbackError:
        return None


def index_list_reads(view: Any, request: Any) -> list[str]:
    """The cache keys ``index_list`` reads first: the content generation (the index's) and the
    type's response generation (``facts``); the throttle reads them in its round trip."""
    return [GENERATION_KEY, RESPONSE_GENERATION_KEY.format(scope=view.model.type_code)]


def _answer(view: Any, request: Any) -> Any:
    type_code = view.model.type_code
    query = _parse(request.query_params, view.filterset_class.base_filters)
    keys = index_list_reads(view, request)
    tokens = cache_values(keys, cache_read_first(request))  # read by the throttle
    response_key = keys[1]
    if None in tokens.values():  # never set yet: create them (as a first bump would), reread
        generation_current()
        cache.add(response_key, time.time_ns(), timeout=None)
        tokens = cache_values(keys)
    generation = tokens.get(GENERATION_KEY)
    index = index_ready(generation) if isinstance(generation, str) else None
    if index is None:
        raise _FallbackError  # stale (being rebuilt) or no cache: SQL knows
    facts = _facts_for((generation, tokens.get(response_key)), type_code)
    now_s = datetime.now(UTC).timestamp()
    t = TYPE_CODES[type_code]
    rows = _type_rows(index, t, now_s)
    rows = _taxonomy_filter(index, t, rows, query.taxonomy, facts)
    if query.bbox is not None:
        rows = _bbox_filter(index, rows, query.bbox)
    near = None
    unsure = np.zeros(0, dtype=np.int64)
    if query.near is not None:
        rows, unsure = _near_filter(index, rows, *query.near, query.radius_m)
        near = query.near
    next_start = next_end = None
    if type_code == "events":
        candidates = np.concatenate([rows, unsure])
        starts, ends = next_dates(index, candidates, now_s)
        next_start, next_end = starts[: len(rows)], ends[: len(rows)]
        unsure_start, unsure_end = starts[len(rows) :], ends[len(rows) :]
    distances: dict[int, float] = {}
    if near is not None:
        # PostGIS decides the rows near the radius and measures the page's: one statement
        # over the unsure rows and the first ``end + len(unsure)`` rows of the order with
        # all of them in (dropping k unsure rows moves a page's rows by k at most).
        end = _page_end(view, request)
        union = np.concatenate([rows, unsure])
        union_start = None
        if next_start is not None:
            union_start = np.concatenate([next_start, unsure_start])
        head = _ordered(index, type_code, union, union_start)[: end + len(unsure)]
        measured = np.union1d(head, unsure)
        distances = _measured_m(view.model, index, measured, near, query.radius_m)
        within = np.array(
            [distances[int(i)] <= query.radius_m for i in index.item_id[unsure]], dtype=bool
        )
        rows = np.concatenate([rows, unsure[within]])
        if next_start is not None:
            next_start = np.concatenate([next_start, unsure_start[within]])
            next_end = np.concatenate([next_end, unsure_end[within]])
    ordered = _ordered(index, type_code, rows, next_start)
    version = _version(view, index, ordered, next_end, facts.removed)
    etag = etag_for(request, version, fmt=request.accepted_renderer.format)
    not_changed = not_modified(request, etag=etag, last_modified=version["last_modified"])
    if not_changed is not None:
        set_validators(not_changed, etag=etag, last_modified=version["last_modified"])
        return not_changed
    return view.cached(_page(view, request, index, type_code, ordered, version, near, distances),
                       version, etag)  # fmt: skip


def _page_end(view: Any, request: Any) -> int:
    """The position after the requested page's last row (before knowing the count)."""
    paginator = view.paginator
    try:
        size = paginator.get_page_size(request)
        number = paginator.get_page_number(request, None)
    except ValidationError:
        raise _FallbackError from None
    return int(size) * int(number)


def _measured_m(
    model: Any, index: ItemIndex, rows: np.ndarray, near: tuple[float, float], radius_m: float
) -> dict[int, float]:
    """PostGIS's distances from ``near`` to ``rows``, by item id: computed here
    (``geography``), and read from PostGIS only where they may differ in what the response
    shows (a rounding step, the radius) or cannot be computed here."""
    computed = index_distances_m(index, rows, *near)
    ids = index.item_id[rows]
    ask = undecided(computed, radius_m)
    out = {int(pk): float(d) for pk, d in zip(ids[~ask], computed[~ask], strict=True)}
    if ask.any():
        out.update(_distances_m(model, [int(pk) for pk in ids[ask]], near))
    return out


_DISTANCES: dict[str, str] = {}


def _distances_m(model: Any, ids: list[int], near: tuple[float, float]) -> dict[int, float]:
    """``ST_Distance(geography, geography)`` from ``near`` to items ``ids`` of ``model``, as
    the SQL path's ``distance_m`` (``apps.core.geo.DistanceM``): one prepared statement."""
    if not ids:
        return {}
    table = model._meta.db_table
    sql = _DISTANCES.get(table)
    if sql is None:
        quote = connection.ops.quote_name
        sql = _DISTANCES[table] = (
            f"SELECT {quote('id')}, ST_Distance(geography({quote('geometry')}), geography("
            "ST_SetSRID(ST_MakePoint(%s::float8, %s::float8), 4326))) "
            f"FROM {quote(table)} WHERE {quote('id')} = ANY(%s::bigint[])"
        )
    rows = run_prepared(connection, sql, [float(near[0]), float(near[1]), ids])
    found = {int(pk): float(d) for pk, d in rows if d is not None}
    if len(found) != len(ids):
        raise _FallbackError  # a row deleted since the index was built
    return found


def page_versions(
    refs: list[tuple[str, int]],
    point: tuple[float, float] | None,
    now_s: float,
    *,
    generation: str | None = None,
) -> list[ItemVersion | None] | None:
    """What ``fragments.items_versions`` reads with SQL for the feed's page, from the index:
    which refs are public at ``now_s``, their ``updated_at`` and PostGIS's distance to
    ``point`` (``geography``). ``None`` (SQL answers) unless the index is at the content
    generation read now (``generation``: read earlier in this request), holds every ref,
    and every distance is sure (``undecided``)."""
    if not refs or connection.vendor != "postgresql":
        return None
    if generation is None:
        generation = cache.get(GENERATION_KEY)
    index = index_ready(generation) if isinstance(generation, str) else None
    if index is None:
        return None
    types = np.fromiter((TYPE_CODES[t] for t, _pk in refs), dtype=np.int8, count=len(refs))
    ids = np.fromiter((pk for _t, pk in refs), dtype=np.int64, count=len(refs))
    rows = _rows(index.keys, item_keys(types, ids))
    if (rows < 0).any():
        return None  # not in the index: unpublished since, or deleted (SQL tells)
    distances = np.full(len(rows), np.nan)
    located = index.has_geometry[rows]
    if point is not None and located.any():
        distances[located] = index_distances_m(index, rows[located], *point)
        if undecided(distances[located]).any():
            return None
    public = index.public(rows, now_s)
    return [
        ItemVersion(t, int(pk), _moment(float(index.updated_s[row])),
                    float(d) if point is not None and has else None)
        if shown else None
        for (t, pk), row, d, has, shown in zip(refs, rows, distances, located, public,
                                               strict=True)
    ]  # fmt: skip


def _page(
    view: Any,
    request: Any,
    index: ItemIndex,
    type_code: str,
    ordered: np.ndarray,
    version: dict[str, Any],
    near: Any,
    distances: dict[int, float],
) -> Response:
    paginator = view.paginator
    paginator.request = request
    try:
        size = paginator.get_page_size(request)
        number = paginator.get_page_number(request, None)
        paginator.page = CountedPaginator(ordered, size, count=version["count"]).page(number)
    except (InvalidPage, ValidationError):
        raise _FallbackError from None  # the SQL path's 400 or 404
    page_rows = np.asarray(paginator.page.object_list, dtype=np.int64)
    ids = [int(i) for i in index.item_id[page_rows]]
    versions = [
        ItemVersion(
            type_code,
            pk,
            _moment(float(index.updated_s[row])),
            distances[pk] if near is not None else None,
        )
        for pk, row in zip(ids, page_rows, strict=True)
    ]

    def load(positions: list[int]) -> list[Any]:
        wanted = [(type_code, ids[p]) for p in positions]
        items = {item.pk: item for item in items_fetch(wanted)}
        if len(items) != len(wanted):
            raise _FallbackError  # no longer public
        return [items[ids[p]] for p in positions]

    # Misses are stored under the generation read with the fragments, before ``load`` reads
    # the items: a taxonomy change committed in between leaves them stale, never wrong.
    rendered = render_rows(versions, load, generations={}, request=request)
    return view.spliced_page(paginator, version["count"], rendered)
