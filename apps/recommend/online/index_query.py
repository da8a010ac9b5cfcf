"""The feed's candidates from the in-memory ``ItemIndex``: the SQL statement's sources, in numpy.

``index_catalog`` answers a ``CandidateRequest`` as ``candidate_query.feed_catalog`` does
(same sources, caps, orders and facts; ``tests/recommend/test_item_index.py`` compares both on
a generated city) without a query:

- nearest items per anchor and type: points from the type's KD-tree (re-measured with the
  haversine distance, widened until no unread point can be nearer), extended geometries by a
  bounding-box lower bound, then measured on their vertex arrays (``segments``);
- newest in followed categories, areas and organizations, from per-value lists already in
  newest-first order; events with a date in the next week from the sorted dates; works about
  to start, newest news, important and alert items, trending: precomputed lists filtered by
  the request's ``now``.

History items missing from the index (no longer public) are returned for the caller to read
with ``items_catalog`` (one query, only when there are some).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from apps.recommend.engine.candidates import ITEM_TYPES, TYPE_CODES, Candidates, item_keys
from apps.recommend.engine.distance import haversine_m
from apps.recommend.engine.text_vectors import empty_texts, take_rows
from apps.recommend.online.candidate_query import CandidateRequest, FeedCatalog
from apps.recommend.online.candidate_statement import (
    EVENTS_SOON,
    EVENTS_SOON_WINDOW,
    FOLLOWED_AREA,
    FOLLOWED_CATEGORY,
    FOLLOWED_ORGANIZATION,
    RECENT_NEWS,
    URGENT,
    WORKS_ACTIVE,
    WORKS_SOON_WINDOW,
    _near_cap,
)
from apps.recommend.online.item_index import ItemIndex, PointTree
from apps.recommend.online.segments import bbox_lower_bounds_m, local_distances_m

#: The KD-tree's planar metres never exceed the haversine distance by more than this factor
#: at city scale (tens of kilometres), so a point farther than ``d / SLACK`` in the tree
#: cannot be within ``d``.
SLACK = 0.97
DAY_S = 86400.0
_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class IndexAnswer:
    catalog: FeedCatalog
    #: History items the index does not hold: type code → ids (read them with SQL).
    missing_history: dict[str, list[int]]


def _union(parts: list[np.ndarray], n: int) -> np.ndarray:
    """``np.unique(np.concatenate(parts))`` of rows below ``n``, by marking them in a mask:
    a few microseconds where ``unique`` (hashing, then sorting) takes tens on a few hundred."""
    seen = np.zeros(n, dtype=bool)
    for part in parts:
        seen[part] = True
    return np.flatnonzero(seen)


def _first_public(rows: np.ndarray, k: int, public: np.ndarray, extra=None):
    """The first ``k`` of ``rows`` that are public (``public``: the request's mask of every
    row) and pass ``extra(rows)``, in order."""
    taken: list[np.ndarray] = []
    found, start, chunk = 0, 0, max(4 * k, 32)
    while start < len(rows) and found < k:
        part = rows[start : start + chunk]
        ok = public[part]
        if extra is not None:
            ok &= extra(part)
        part = part[ok][: k - found]
        taken.append(part)
        found += len(part)
        start += chunk
        chunk *= 2
    if len(taken) == 1:  # the usual case: one chunk held them
        return taken[0]
    return np.concatenate(taken) if taken else _EMPTY


def _followed(index: ItemIndex, lists, t: int, ids: Collection[int], k: int, public: np.ndarray):
    """The ``k`` newest public items in any of the followed values' lists (each newest first).

    The ``k`` newest of the union are among the ``k`` newest of each list, so each list is
    walked only that far, then the few found are merged.
    """
    parts = [_first_public(lists[(t, int(i))], k, public) for i in ids if (t, int(i)) in lists]
    parts = [p for p in parts if len(p)]
    if not parts:
        return _EMPTY
    rows = _union(parts, len(index))
    return rows[np.argsort(index.newest_rank[rows], kind="stable")][:k]


@dataclass(eq=False)
class _Anchor:
    """An anchor's degrees, its KD-tree query point (projected once per request), the metres
    to the extended rows measured from it so far (rows, metres), and the extended rows of the
    other sources still to measure: they go with the first nearest measurement, so the
    catalog's distances need no call of their own (``_distances``)."""

    lon: float
    lat: float
    query: np.ndarray
    measured: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    pending: np.ndarray = field(default_factory=lambda: _EMPTY)

    def measure(self, index: ItemIndex, rows: np.ndarray) -> np.ndarray:
        """Metres from here to ``rows`` (and to the pending rows, kept for later)."""
        extra, self.pending = self.pending, _EMPTY
        if len(extra):
            # Rows once each: a polygon's edges taken twice would cancel their own crossings.
            taken = np.zeros(len(index.segments.ptr) - 1, dtype=bool)
            taken[rows] = True
            extra = extra[~taken[extra]]
        both = np.concatenate([rows, extra]) if len(extra) else rows
        metres = local_distances_m(index.segments, both, [(self.lon, self.lat)])[:, 0]
        self.measured.append((both, metres))
        return metres[: len(rows)]


def _nearest_points(
    index: ItemIndex, at: _Anchor, cap: int, public: np.ndarray
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per type with point items, its public point items around the anchor: at least every
    one within the ``cap``-th nearest public one's distance, as (rows, haversine metres).

    The first read of every type is measured in one haversine call (elementwise: the same
    metres as one call per type); a type it does not settle is read wider on its own.
    """

    def read(tree: PointTree, k: int) -> tuple[float, np.ndarray]:
        planar, found = tree.tree.query(at.query, k=k)
        if k == 1:  # scalars then
            planar, found = np.atleast_1d(planar), np.atleast_1d(found)
        rows = tree.rows[found]
        return planar[-1], rows[public[rows]]

    def metres(rows: np.ndarray) -> np.ndarray:
        return haversine_m(at.lon, at.lat, index.lon[rows], index.lat[rows])

    reads = []
    for t, tree in index.points.items():
        k = min(len(tree.rows), 2 * cap + 8)
        reads.append((t, tree, k, *read(tree, k)))
    if not reads:
        return {}
    exact_all = metres(np.concatenate([rows for *_, rows in reads]))
    out = {}
    start = 0
    for t, tree, k, farthest, rows in reads:
        exact = exact_all[start : start + len(rows)]
        start += len(rows)
        n = len(tree.rows)
        # Unread points are at least ``farthest`` away in the tree, so at least
        # ``farthest * SLACK`` on the sphere: done once that passes the cap-th distance.
        while k < n and not (
            len(rows) >= cap and farthest * SLACK >= np.partition(exact, cap - 1)[cap - 1]
        ):
            k = min(n, 2 * k)
            farthest, rows = read(tree, k)
            exact = metres(rows)
        out[t] = (rows, exact)
    return out


_NO_POINTS = (_EMPTY, np.zeros(0))


def _nearest(
    index: ItemIndex,
    t: int,
    at: _Anchor,
    cap: int,
    public: np.ndarray,
    points: tuple[np.ndarray, np.ndarray],
):
    """The ``cap`` nearest public items of type ``t`` with a geometry, nearest first.

    Extended geometries: the ``2 cap`` nearest bounding-box centres and the big ones are
    measured first; that gives a bound ``D`` (the ``cap``-th distance so far); every other one
    whose centre lies within ``D`` plus the largest half-diagonal may be nearer: those whose
    bounding box is within ``D`` are measured too. A type without extended geometries (no
    tree, no big ones) skips all that: it would only add empty arrays. ``points``: the type's
    from ``_nearest_points``.
    """
    rows, exact = points
    ext = index.extended_trees.get(t)
    if ext is not None and (ext.tree is not None or len(ext.big)):
        lon, lat, query = at.lon, at.lat, at.query
        found = [ext.big]
        if ext.tree is not None:
            k = min(len(ext.rows), 2 * cap)
            found.append(ext.rows[np.atleast_1d(ext.tree.query(query, k=k)[1])])
        first = np.concatenate(found)
        first = first[public[first]]
        measured = at.measure(index, first)
        rows = np.concatenate([rows, first])
        exact = np.concatenate([exact, measured])
        if ext.tree is not None:
            bound = np.partition(exact, cap - 1)[cap - 1] if len(exact) >= cap else np.inf
            if np.isinf(bound):
                near = ext.rows
            else:
                reach = (bound + ext.radius_m) / SLACK
                near = ext.rows[ext.tree.query_ball_point(query, reach)]
            measured_first = np.zeros(len(index), dtype=bool)  # setdiff1d, without a sort
            measured_first[first] = True
            near = near[~measured_first[near]]
            near = near[public[near]]
            if len(near):  # mostly none: the first ones held the bound's neighbourhood
                near = near[bbox_lower_bounds_m(index.bounds[near], lon, lat) <= bound]
            if len(near):
                rows = np.concatenate([rows, near])
                exact = np.concatenate([exact, at.measure(index, near)])
    best = np.lexsort((-index.item_id[rows], exact))[:cap]  # ties: the newest (the SQL's order)
    return rows[best]


def _other_sources(
    index: ItemIndex, request: CandidateRequest, t: int, public: np.ndarray
) -> list[np.ndarray]:
    """The sources of type ``t`` that do not depend on the anchors."""
    now_s = request.now.timestamp()
    out: list[np.ndarray] = []
    if request.personal:
        for lists, ids, k in (
            (index.by_category, request.followed_categories, FOLLOWED_CATEGORY),
            (index.by_area, request.followed_areas, FOLLOWED_AREA),
            (index.by_organization, request.followed_organizations, FOLLOWED_ORGANIZATION),
        ):
            out.append(_followed(index, lists, t, ids, k, public))
    code = ITEM_TYPES[t]
    if code == "events":
        out.append(_events_soon(index, now_s, public))
    elif code == "works":
        until = now_s + WORKS_SOON_WINDOW.total_seconds()
        with np.errstate(invalid="ignore"):
            soon = lambda rows: index.start_s[rows] <= until  # noqa: E731
        out.append(_first_public(index.works_soon, WORKS_ACTIVE, public, soon))
    elif code == "news":
        out.append(_first_public(index.newest[t], RECENT_NEWS, public))
    trending = index.trending.get(t, _EMPTY)
    out.append(trending[public[trending]])
    out.append(_first_public(index.urgent.get(t, _EMPTY), URGENT, public))
    return out


def _events_soon(index: ItemIndex, now_s: float, public: np.ndarray) -> np.ndarray:
    """Events of the first ``EVENTS_SOON`` dates running or starting within a week (of any
    event: the SQL source limits the dates before it keeps the public events)."""
    lo = np.searchsorted(index.occ_start, now_s - DAY_S, side="left")
    hi = np.searchsorted(index.occ_start, now_s + EVENTS_SOON_WINDOW.total_seconds(), "left")
    window = np.arange(lo, hi)
    window = window[index.occ_end[window] > now_s][:EVENTS_SOON]
    rows = np.unique(index.occ_row[window])
    rows = rows[rows >= 0]
    return rows[public[rows]]


def next_dates(index: ItemIndex, rows: np.ndarray, now_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Each event row's next date not yet ended (start, end), NaN without one (as the SQL)."""
    start = np.full(len(rows), np.nan)
    end = np.full(len(rows), np.nan)
    counts = index.occ_ptr[rows + 1] - index.occ_ptr[rows]
    has = np.flatnonzero(counts)
    if not len(has):
        return start, end
    c = counts[has]
    first = index.occ_ptr[rows[has]]
    positions = np.repeat(first - (np.cumsum(c) - c), c) + np.arange(int(c.sum()))
    occ = index.occ_of_row[positions]  # per row, by start then id
    rank = np.where(index.occ_end[occ] > now_s, np.arange(len(occ)), len(occ))
    nearest = np.minimum.reduceat(rank, np.concatenate(([0], np.cumsum(c)[:-1])))
    found = nearest < len(occ)
    chosen = occ[nearest[found]]
    start[has[found]] = index.occ_start[chosen]
    end[has[found]] = index.occ_end[chosen]
    return start, end


def _next_starts(index: ItemIndex, rows: np.ndarray, now_s: float) -> np.ndarray:
    """Each row's start: an event's next date not yet ended (else its first), as the SQL."""
    start = index.start_s[rows].copy()
    upcoming, _end = next_dates(index, rows, now_s)
    found = ~np.isnan(upcoming)
    start[found] = upcoming[found]
    return start


def _areas(index: ItemIndex, rows: np.ndarray, followed: Collection[int]):
    """(new row, area id) of the followed areas each row touches, in the items' own order."""
    if not followed or not len(rows):
        return _EMPTY, _EMPTY
    counts = index.area_ptr[rows + 1] - index.area_ptr[rows]
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    positions = np.repeat(index.area_ptr[rows] - (np.cumsum(counts) - counts), counts)
    ids = index.area_ids[positions + np.arange(int(counts.sum()))]
    keep = np.isin(ids, np.fromiter(followed, dtype=np.int64))
    return owner[keep], ids[keep]


def _distances(index: ItemIndex, rows: np.ndarray, anchors: list[_Anchor]) -> np.ndarray:
    """``local_distances_m(index.segments, rows, anchors)`` for sorted ``rows``, from the
    metres measured already (a row's metres do not depend on the rows measured with it);
    rows some anchor has not measured are measured now."""
    out = np.full((len(rows), len(anchors)), np.nan)
    if not len(rows) or not anchors:
        return out
    need = index.segments.counts(rows) > 0
    everywhere = need.copy()
    for j, at in enumerate(anchors):
        seen = np.zeros(len(rows), dtype=bool)
        if at.measured:
            measured = np.concatenate([m for m, _ in at.measured])
            metres = np.concatenate([d for _, d in at.measured])
            pos = np.minimum(np.searchsorted(rows, measured), len(rows) - 1)
            hit = rows[pos] == measured
            out[pos[hit], j] = metres[hit]
            seen[pos[hit]] = True
        everywhere &= seen
    need &= ~everywhere
    if need.any():
        out[need] = local_distances_m(index.segments, rows[need], [(a.lon, a.lat) for a in anchors])
    return out


def index_catalog(index: ItemIndex, request: CandidateRequest) -> IndexAnswer:
    """The ``FeedCatalog`` of ``request`` from ``index`` (module doc)."""
    now_s = request.now.timestamp()
    # The anchors' coordinates read once (each GEOS coordinate read is a ctypes call).
    anchors = [(float(a.x), float(a.y)) for a in request.anchors]
    # Each anchor projected once (not once per type), every row's public flag computed once.
    queries = [_Anchor(lon, lat, index.project_point(lon, lat)) for lon, lat in anchors]
    public = index.public_mask(now_s)
    types = range(len(ITEM_TYPES))
    others = [s for t in types for s in _other_sources(index, request, t, public)]
    history_rows = _EMPTY
    missing: dict[str, list[int]] = {}
    if request.personal:
        for code, ids in request.history.items():
            wanted = np.fromiter((int(i) for i in ids), dtype=np.int64)
            at = index.rows_of(item_keys(np.full(len(wanted), TYPE_CODES[code]), wanted))
            history_rows = np.concatenate([history_rows, at[at >= 0]])
            if (at < 0).any():
                missing[code] = sorted(int(i) for i in wanted[at < 0])
    # The extended rows of the other sources and the history are measured from each anchor
    # along with its first nearest ones (one call instead of two).
    if queries:
        pending = _union([*others, history_rows], len(index))
        pending = pending[index.segments.counts(pending) > 0]
        for anchor in queries:
            anchor.pending = pending
    cap = _near_cap(len(queries))
    nearest = []
    for anchor in queries:
        around = _nearest_points(index, anchor, cap, public)
        nearest += [
            _nearest(index, t, anchor, cap, public, around.get(t, _NO_POINTS)) for t in types
        ]
    is_source = np.zeros(len(index), dtype=bool)
    for source in (*nearest, *others):
        is_source[source] = True
    candidates = np.flatnonzero(is_source)  # np.unique of the sources, without sorting
    if len(history_rows):
        wanted_rows = is_source.copy()
        wanted_rows[history_rows] = True
        rows = np.flatnonzero(wanted_rows)
        is_candidate = is_source[rows]
    else:  # an anonymous feed: the candidates are already sorted and unique
        rows, is_candidate = candidates, np.ones(len(candidates), dtype=bool)
    distances = _distances(index, rows, queries)
    if anchors:
        a_lon = np.array([a[0] for a in anchors])
        a_lat = np.array([a[1] for a in anchors])
        points = haversine_m(
            index.lon[rows][:, None], index.lat[rows][:, None], a_lon[None, :], a_lat[None, :]
        )
        distances = np.where(np.isnan(distances), points, distances)
    area_item, area_id = _areas(index, rows, request.followed_areas if request.personal else ())
    n_places = len(request.places)
    catalog = Candidates(
        item_type=index.item_type[rows],
        item_id=index.item_id[rows],
        category=index.category[rows],
        organization=index.organization[rows],
        lon=index.lon[rows],
        lat=index.lat[rows],
        published_s=index.published_s[rows],
        start_s=_next_starts(index, rows, now_s),
        end_s=index.end_s[rows],
        expires_s=index.expires_s[rows],
        urgency=index.urgency[rows],
        popularity=index.popularity[rows],
        severity=index.severity[rows],
        text=take_rows(index.text, rows) if request.texts else empty_texts(len(rows)),
        area_item=area_item,
        area_id=area_id,
        place_distance_m=distances[:, :n_places] if anchors else None,
        point_distance_m=distances[:, n_places] if request.point is not None else None,
    )
    return IndexAnswer(FeedCatalog(catalog, is_candidate), missing)


def catalog_extend(fc: FeedCatalog, extra: Candidates) -> FeedCatalog:
    """``fc`` with the rows of ``extra`` appended as non-candidates (history read from SQL)."""
    if not len(extra):
        return fc
    a = fc.catalog

    def cat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.concatenate([x, y.astype(x.dtype)])

    def nan_rows(x: np.ndarray | None) -> np.ndarray | None:
        if x is None:
            return None
        return np.concatenate([x, np.full((len(extra), *x.shape[1:]), np.nan)])

    catalog = Candidates(
        item_type=cat(a.item_type, extra.item_type),
        item_id=cat(a.item_id, extra.item_id),
        category=cat(a.category, extra.category),
        organization=cat(a.organization, extra.organization),
        lon=cat(a.lon, extra.lon),
        lat=cat(a.lat, extra.lat),
        published_s=cat(a.published_s, extra.published_s),
        start_s=cat(a.start_s, extra.start_s),
        end_s=cat(a.end_s, extra.end_s),
        expires_s=cat(a.expires_s, extra.expires_s),
        urgency=cat(a.urgency, extra.urgency),
        popularity=cat(a.popularity, extra.popularity),
        severity=cat(a.severity, extra.severity),
        text=sp.vstack([a.text, extra.text], format="csr")
        if a.text.shape[0]
        else extra.text.tocsr(),
        area_item=a.area_item,
        area_id=a.area_id,
        place_distance_m=nan_rows(a.place_distance_m),
        point_distance_m=nan_rows(a.point_distance_m),
    )
    return FeedCatalog(catalog, np.concatenate([fc.is_candidate, np.zeros(len(extra), bool)]))


def feed_catalog_indexed(
    request: CandidateRequest, *, text_language: str, generation: Any = None
) -> FeedCatalog:
    """The request's catalog from this process's index, else from the SQL statement.
    ``generation``: the cached content generation if the caller read it (``None``, a miss:
    read here).

    SQL when the index is off (``FEED_ITEM_INDEX = False``), asked in another text language
    than it holds, or when the cache (the content generation) is unreachable; history items
    the index does not hold are read with ``items_catalog`` (one query, when there are some).
    """
    from django.conf import settings

    from apps.recommend.online.candidate_query import feed_catalog, items_catalog
    from apps.recommend.online.item_index import current_index_read

    index = None
    if getattr(settings, "FEED_ITEM_INDEX", True) and text_language == settings.LANGUAGE_CODE:
        index, generation = current_index_read(generation)
    if index is None:
        return feed_catalog(request, text_language=text_language)
    answer = index_catalog(index, request)
    catalog = answer.catalog
    if answer.missing_history:
        extra = items_catalog(answer.missing_history, now=request.now, text_language=text_language)
        catalog = catalog_extend(catalog, extra)
    # The generation read now, if the index is at it (not while a background rebuild runs).
    return replace(catalog, generation=generation if index.generation == generation else None)
