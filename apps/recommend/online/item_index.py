"""The feed's in-memory item index: every live item's facts as numpy arrays, per process.

``ItemIndex`` holds, one row per item that is published and not yet over or expired (sorted by
type then id), what the candidate statement read per request: category, organization,
representative point, times, urgency, severity, popularity, areas, hashed text counts; plus
the vertex arrays of extended geometries (``segments``), the upcoming dates of events, the
precomputed source lists (newest per type, per category, area and organization, alerts,
works about to start, trending) and a KD-tree of point items per type on projected
coordinates. ``index_query`` answers a feed request from it (``docs/recommender.md``).

Freshness: a *content generation* token lives in the shared cache. Content signals
(``content_saved``, ``content_removed``), direct model saves and the popularity refresh replace
it (``generation_bump``), at once and again on commit; each request reads it (one cache
round trip) and a process whose index was built under another token refreshes it before
answering (``current_index``): ``index_refresh`` reads the live ids and only the rows updated
since its previous read, and patches the previous index's rows (``index_rows``); changes
that do not move ``updated_at`` replace a second token (``FULL_KEY``) and force a full read,
as does a periodic safety net. Time alone (a publication time reached, an expiry, an event's
next date) needs no refresh: the arrays keep the times and each request applies its own
``now``. A full read reuses the previous index's text rows of unchanged item versions.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse as sp
from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from scipy.spatial import cKDTree

from apps.core.earth import METRES_PER_DEGREE
from apps.core.item_types import ItemType
from apps.core.models import Status, Urgency
from apps.core.registry import content_models
from apps.recommend.engine.candidates import ITEM_TYPES, TYPE_CODES, item_keys
from apps.recommend.models import ItemPopularity
from apps.recommend.online.candidate_statement import TRENDING
from apps.recommend.online.index_rows import SEVERITY, RowFacts, fetch_array, rows_read
from apps.recommend.online.segments import Segments
from apps.recommend.online.sql import EpochSeconds

__all__ = ["SEVERITY", "ItemIndex", "current_index", "generation_bump", "index_build"]

GENERATION_KEY = "feed:index:generation"
#: Replaced by the changes an incremental refresh cannot see (``generation_bump(full=True)``).
FULL_KEY = "feed:index:full"


def _nan_to(values: np.ndarray, fill: float) -> np.ndarray:
    return np.where(np.isnan(values), fill, values)


def _nan_key(values: np.ndarray) -> np.ndarray:
    """Sort key of ``-publish_at`` as PostgreSQL orders ``DESC``: NULLs first."""
    return np.where(np.isnan(values), -np.inf, -values)


@dataclass(frozen=True, eq=False)
class PointTree:
    """A KD-tree of one type's point items on projected metres, and their index rows."""

    tree: cKDTree
    rows: np.ndarray


#: Extended geometries whose bounding box's half-diagonal is larger (a long line, a district)
#: are measured at every request instead of being found through the tree.
BIG_M = 1000.0


@dataclass(frozen=True, eq=False)
class ExtendedTree:
    """Extended geometries of one type: centres tree, its rows and largest half-diagonal
    (projected metres), and the rows too big for it."""

    tree: cKDTree | None
    rows: np.ndarray
    radius_m: float
    big: np.ndarray


@dataclass(frozen=True, eq=False)
class ItemIndex:
    """Live items, one row each (module doc). Times are POSIX seconds, ``NaN`` for none."""

    generation: str
    built_at_s: float
    text_language: str
    item_type: np.ndarray
    item_id: np.ndarray
    keys: np.ndarray  # sorted
    category: np.ndarray
    organization: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    has_geometry: np.ndarray
    is_point: np.ndarray
    one_part: np.ndarray
    bounds: np.ndarray  # n x 4 (min lon, min lat, max lon, max lat); NaN without geometry
    publish_s: np.ndarray
    published_s: np.ndarray
    expires_s: np.ndarray
    over_s: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    urgency: np.ndarray
    popularity: np.ndarray
    severity: np.ndarray
    updated_s: np.ndarray
    text: sp.csr_matrix
    area_ptr: np.ndarray
    area_ids: np.ndarray
    segments: Segments
    # Occurrences of events ending after the build, sorted by (start, id); event row or -1.
    occ_start: np.ndarray
    occ_end: np.ndarray
    occ_row: np.ndarray
    # Per event row, its occurrences (positions in the arrays above): CSR.
    occ_ptr: np.ndarray
    occ_of_row: np.ndarray
    # Source lists: index rows in the order the SQL source reads them.
    newest_rank: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    newest: dict[int, np.ndarray] = field(default_factory=dict)  # per type
    by_category: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    by_area: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    by_organization: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    urgent: dict[int, np.ndarray] = field(default_factory=dict)
    works_soon: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    trending: dict[int, np.ndarray] = field(default_factory=dict)
    points: dict[int, PointTree] = field(default_factory=dict)
    extended: dict[int, np.ndarray] = field(default_factory=dict)  # rows with segments
    # Extended geometries per type: a KD-tree of their bounding boxes' centres (those whose
    # half-diagonal is at most ``BIG_M``) and the rows of the bigger ones, measured always.
    extended_trees: dict[int, ExtendedTree] = field(default_factory=dict)
    origin_lat: float = 0.0
    # Per row: cancelled works (left out of ``works_soon``).
    cancelled: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # Per row, the window in which it is public (``public``): from its publication (-inf
    # without one) until the first of its expiry and its end (+inf without): two comparisons
    # per request instead of three with NaN handling, derived once per build.
    public_from_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    public_until_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Every distinct bound of those windows, sorted: between two consecutive ones no row
    # changes, so the last ``public_mask`` (read-only, with its interval's number) serves every
    # request until the clock passes the next bound.
    public_edges_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    _public_last: list[Any] = field(default_factory=lambda: [None], repr=False)
    # The refresh's bookkeeping (``index_refresh``): when its rows were read (exact POSIX
    # microseconds: the next refresh re-reads rows updated since then, less a slack), when the
    # last full read was, under which ``FULL_KEY`` token, and incremental refreshes since.
    read_at_us: int = 0
    full_at_s: float = 0.0
    full_token: str | None = None
    refreshes: int = 0

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays, trees and lists (what one process holds for the index)."""
        total = self.text.data.nbytes + self.text.indices.nbytes + self.text.indptr.nbytes
        total += self.segments.nbytes
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                total += value.nbytes
            elif isinstance(value, dict):
                for item in value.values():
                    if isinstance(item, np.ndarray):
                        total += item.nbytes + 100
                    elif isinstance(item, PointTree | ExtendedTree):
                        # cKDTree keeps a copy of the data, its index array and its nodes.
                        tree = item.tree
                        total += item.rows.nbytes + (tree.data.nbytes * 3 if tree else 0)
        return total

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """Index rows of item keys; -1 where the item is not in the index."""
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, pos, -1)

    def public(self, rows: np.ndarray, now_s: float) -> np.ndarray:
        """``ContentQuerySet.public(now)`` of ``rows`` (every row is published)."""
        return (self.public_from_s[rows] <= now_s) & (self.public_until_s[rows] > now_s)

    def public_mask(self, now_s: float) -> np.ndarray:
        """``public`` of every row, read-only: each source reads its rows' flags instead of
        comparing their times again; computed once per interval between two bounds of the
        rows' windows (``public_edges_s``), not once per request."""
        interval = int(np.searchsorted(self.public_edges_s, now_s, side="right"))
        last = self._public_last[0]
        if last is not None and last[0] == interval:
            return last[1]
        mask = (self.public_from_s <= now_s) & (self.public_until_s > now_s)
        mask.flags.writeable = False
        self._public_last[0] = (interval, mask)  # one reference swap: safe across threads
        return mask

    def project_point(self, lon: float, lat: float) -> np.ndarray:
        """``project`` of one point, as a ``(2,)`` array (a KD-tree query): the same products
        in the same order, so the same metres, without two arrays and a stack per query."""
        k = np.cos(np.radians(self.origin_lat))
        return np.array([lon * k * METRES_PER_DEGREE, lat * METRES_PER_DEGREE])

    def project(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Equirectangular metres around the city's latitude (the KD-trees' frame)."""
        k = np.cos(np.radians(self.origin_lat))
        return np.column_stack([lon * k * METRES_PER_DEGREE, lat * METRES_PER_DEGREE])


# --- the content generation ------------------------------------------------------------------


def generation_current() -> str | None:
    """The content generation token, created when missing; ``None`` if the cache is down."""
    token = cache.get(GENERATION_KEY)
    if token is None:
        cache.add(GENERATION_KEY, secrets.token_hex(8), None)
        token = cache.get(GENERATION_KEY)
    return token if isinstance(token, str) else None


def full_token_current() -> str | None:
    """The token of the last change that needs a full read, created when missing: a cache
    emptied or restarted may have lost a replacement, so it starts a new token, and every
    process reads its index whole again. ``None`` if the cache is down."""
    token = cache.get(FULL_KEY)
    if token is None:
        cache.add(FULL_KEY, secrets.token_hex(8), None)
        token = cache.get(FULL_KEY)
    return token if isinstance(token, str) else None


def _bump(full: bool = False) -> None:
    if full:  # first: a process that sees the new generation sees the new full token too
        cache.set(FULL_KEY, secrets.token_hex(8), None)
    cache.set(GENERATION_KEY, secrets.token_hex(8), None)


def refresh_slack_s() -> float:
    """Seconds an incremental refresh reads back before the previous read (``index_refresh``)."""
    return float(getattr(settings, "FEED_INDEX_REFRESH_SLACK_S", 300))


def _bump_committed(signalled_s: float, full: bool) -> None:
    # A transaction committed long after its writes: rows it saved carry an ``updated_at``
    # older than the refresh's slack allows for, so the next refresh reads everything.
    _bump(full or time.time() - signalled_s > refresh_slack_s() / 2)


def generation_bump(*, full: bool = False) -> None:
    """Content changed: every process refreshes its index before its next feed.

    Now (this transaction's own reads see the change) and on commit (another process that
    refreshed in between read the rows from before the commit). ``full``: a change that does
    not move the rows' ``updated_at`` (areas' outlines, a save of chosen fields, a migration),
    which only a full read sees.
    """
    _bump(full)
    transaction.on_commit(partial(_bump_committed, time.time(), full))


# --- building --------------------------------------------------------------------------------


def live_querysets(now: datetime) -> list[QuerySet]:
    """Per content type (in type order): its live rows at ``now`` (published, not expired, not
    over), the rows the index holds."""
    out: list[QuerySet] = []
    for _code, model in sorted(content_models().items(), key=lambda kv: TYPE_CODES[kv[0]]):
        over = model.objects.none().over_q(now)
        live = model.objects.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now), status=Status.PUBLISHED
        )
        out.append(live.exclude(over) if over is not None else live)
    return out


def index_build(
    *, generation: str, now: datetime | None = None, previous: ItemIndex | None = None
) -> ItemIndex:
    """Read every live item (a few queries per type) into a new ``ItemIndex``."""
    now = now or timezone.now()
    language = settings.LANGUAGE_CODE
    full_token = full_token_current()
    facts = rows_read(live_querysets(now), language=language, previous=previous)
    return index_assemble(
        facts, generation=generation, now=now, language=language,
        read_at_us=epoch_us(now), full_at_s=now.timestamp(), full_token=full_token,
    )  # fmt: skip


def epoch_us(moment: datetime) -> int:
    """Exact POSIX microseconds of an aware datetime."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _groups(
    item_type: np.ndarray, value: np.ndarray, rows: np.ndarray, position: np.ndarray
) -> dict[tuple[int, int], np.ndarray]:
    """``rows`` grouped by (type, value), each group in ``position`` order (the newest first)."""
    if not len(rows):
        return {}
    order = np.lexsort((position[rows], value, item_type))
    t, v, r = item_type[order], value[order], rows[order]
    cut = np.flatnonzero((t[1:] != t[:-1]) | (v[1:] != v[:-1])) + 1
    starts = np.concatenate(([0], cut))
    ends = np.concatenate((cut, [len(r)]))
    return {(int(t[a]), int(v[a])): r[a:b] for a, b in zip(starts, ends, strict=True)}


def _popularity(keys: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Positives of the last 7 days per row, and the trending rows per type (``TRENDING``)."""
    popularity = np.zeros(len(keys))
    trending: dict[int, np.ndarray] = {}
    for t in range(len(ITEM_TYPES)):
        top = ItemPopularity.objects.filter(item_type=ItemType.from_index(t)).order_by(
            "-positives", "item_id"
        )
        top_ids = np.array(top.values_list("item_id", flat=True)[:TRENDING], dtype=np.int64)
        at = _rows(keys, item_keys(np.full(len(top_ids), t), top_ids))
        trending[t] = at[at >= 0]
    stats = ItemPopularity.objects.values_list("item_type", "item_id", "positives")
    stat_rows = fetch_array(stats, 3, np.int64)
    if len(stat_rows):
        type_index = np.array([ItemType(c).index for c in stat_rows[:, 0]], dtype=np.int64)
        at = _rows(keys, item_keys(type_index, stat_rows[:, 1]))
        popularity[at[at >= 0]] = stat_rows[at >= 0, 2]
    return popularity, trending


def index_assemble(
    facts: RowFacts,
    *,
    generation: str,
    now: datetime,
    language: str,
    read_at_us: int,
    full_at_s: float,
    full_token: str | None,
    refreshes: int = 0,
) -> ItemIndex:
    """The index of ``facts`` (rows sorted by type then id): popularity, trending and event
    dates read now (whole: small tables), lists and trees derived, vectorised."""
    n = len(facts)
    item_type, item_id = facts.item_type, facts.item_id
    keys = item_keys(item_type, item_id)  # sorted: types in order, then ids
    popularity, trending = _popularity(keys)
    rank = np.lexsort((-item_id, _nan_key(facts.publish_s)))  # newest first
    position = np.empty(n, dtype=np.int64)
    position[rank] = np.arange(n)
    rows = np.arange(n, dtype=np.int64)
    area_owner = np.repeat(rows, np.diff(facts.area_ptr))
    newest = {t: rank[item_type[rank] == t] for t in range(len(ITEM_TYPES))}
    urgency, cancelled = facts.urgency, facts.cancelled
    works = TYPE_CODES["works"]
    has_geometry, is_point = facts.has_geometry, facts.is_point
    origin_lat = float(np.nanmean(facts.lat)) if has_geometry.any() else 0.0
    events_model = content_models().get("events")
    public_from = _nan_to(facts.publish_s, -np.inf)
    public_until = _nan_to(np.fmin(facts.expires_s, facts.over_s), np.inf)
    index = ItemIndex(
        generation=generation,
        built_at_s=now.timestamp(),
        text_language=language,
        keys=keys,
        popularity=popularity,
        **{f.name: getattr(facts, f.name) for f in fields(RowFacts)},
        **_occurrences(events_model, keys, now),  # type: ignore[arg-type]
        newest_rank=position,
        newest=newest,
        by_category=_groups(item_type, facts.category, rows, position),
        by_area=_groups(item_type[area_owner], facts.area_ids, area_owner, position),
        by_organization=_groups(item_type, facts.organization, rows, position),
        urgent={t: r[urgency[r] >= Urgency.IMPORTANT] for t, r in newest.items()},
        works_soon=newest[works][~cancelled[newest[works]]],
        trending=trending,
        extended={
            t: np.flatnonzero((item_type == t) & has_geometry & ~is_point)
            for t in range(len(ITEM_TYPES))
        },
        origin_lat=origin_lat,
        public_from_s=public_from,
        public_until_s=public_until,
        public_edges_s=np.unique(np.concatenate([public_from, public_until])),
        read_at_us=read_at_us,
        full_at_s=full_at_s,
        full_token=full_token,
        refreshes=refreshes,
    )
    points = {}
    for t in range(len(ITEM_TYPES)):
        at = np.flatnonzero((item_type == t) & is_point)
        if len(at):
            points[t] = PointTree(cKDTree(index.project(index.lon[at], index.lat[at])), at)
    index.points.update(points)
    for t, at in index.extended.items():
        index.extended_trees[t] = _extended_tree(index, at)
    return index


def _extended_tree(index: ItemIndex, rows: np.ndarray) -> ExtendedTree:
    b = index.bounds[rows]
    low = index.project(b[:, 0], b[:, 1])
    high = index.project(b[:, 2], b[:, 3])
    centres = (low + high) / 2
    radius = np.hypot(*(high - low).T) / 2 if len(rows) else np.zeros(0)
    small = radius <= BIG_M
    tree = cKDTree(centres[small]) if small.any() else None
    return ExtendedTree(
        tree=tree,
        rows=rows[small],
        radius_m=float(radius[small].max()) if small.any() else 0.0,
        big=rows[~small],
    )


def _rows(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    if not len(keys):
        return np.full(len(wanted), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[pos] == wanted, pos, -1)


def _occurrences(events_model: Any, keys: np.ndarray, now: datetime) -> dict[str, np.ndarray]:
    """The dates of events that end after ``now`` (every event: the SQL source reads them
    before it filters public events), sorted by (start, id), with the event's row."""
    empty = np.zeros(0, dtype=np.int64)
    if events_model is None:
        return {
            "occ_start": np.zeros(0), "occ_end": np.zeros(0), "occ_row": empty,
            "occ_ptr": np.zeros(len(keys) + 1, dtype=np.int64), "occ_of_row": empty,
        }  # fmt: skip
    occurrences = events_model.occurrences.rel.related_model.objects
    rows = fetch_array(
        occurrences.filter(end_at__gt=now)
        .order_by("start_at", "id")
        .values_list(EpochSeconds("start_at"), EpochSeconds("end_at"), "event_id"),
        3,
        np.float64,
    )
    events = TYPE_CODES["events"]
    event_ids = rows[:, 2].astype(np.int64)
    occ_row = _rows(keys, item_keys(np.full(len(event_ids), events), event_ids))
    mine = np.flatnonzero(occ_row >= 0)
    owner = occ_row[mine]
    order = np.argsort(owner, kind="stable")  # per row, still by start
    counts = np.bincount(owner, minlength=len(keys))
    return {
        "occ_start": np.ascontiguousarray(rows[:, 0]),
        "occ_end": np.ascontiguousarray(rows[:, 1]),
        "occ_row": occ_row,
        "occ_ptr": np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        "occ_of_row": mine[order],
    }


# --- the process's index ---------------------------------------------------------------------

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_current: ItemIndex | None = None
_builder: threading.Thread | None = None


def current_index() -> ItemIndex | None:
    """This process's index at the current generation; ``None`` when the cache is unreachable
    (no generation to trust: the caller reads SQL).

    A stale index is refreshed (``index_refresh``: the changed rows only, or a full read) in
    this request, or, with ``FEED_INDEX_BACKGROUND`` (production), by a background thread
    while requests keep the previous one for the time it takes:
    pages still drop items that stopped being public (``feed_page``), and a new item joins the
    feed once the rebuild lands.
    """
    return current_index_read()[0]


def current_index_read(generation: Any = None) -> tuple[ItemIndex | None, str | None]:
    """``current_index()`` and the content generation it read (``None``: the cache is down).
    The index is at that generation unless a background rebuild is under way. ``generation``:
    the cached token if the caller read it already (``feed_service.feed_first_keys``); read
    here when it is not a token (a miss)."""
    global _current
    if not isinstance(generation, str):
        generation = generation_current()
    if generation is None:
        return None, None
    index = _current
    if index is not None and index.generation == generation:
        return index, generation
    if index is not None and getattr(settings, "FEED_INDEX_BACKGROUND", False):
        _rebuild_in_background(generation)
        return index, generation
    with _lock:
        index = _current
        if index is None or index.generation != generation:
            index = _refreshed(generation, index)
            _current = index
    return index, generation


#: How a stale index is renewed: ``index_refresh.index_refresh`` registers itself when it is
#: imported (``RecommendConfig.ready``); it imports this module, so this one cannot import it.
#: Until then, a full read.
_refresher: Callable[..., ItemIndex] | None = None


def refresher_register(refresher: Callable[..., ItemIndex]) -> None:
    """Renew stale indexes with ``refresher(generation=…, previous=…)`` (index_refresh)."""
    global _refresher
    _refresher = refresher


def _refreshed(generation: str, previous: ItemIndex | None) -> ItemIndex:
    if _refresher is None:
        index = index_build(generation=generation, previous=previous)
    else:
        index = _refresher(generation=generation, previous=previous)
    if not index.refreshes:  # a full read: give its temporaries back
        _release_memory()
    return index


def index_ready(generation: str) -> ItemIndex | None:
    """This process's index if it was built under ``generation`` (the token just read), else
    ``None``, never building in the caller's request: with ``FEED_INDEX_BACKGROUND`` a
    background rebuild starts. For readers that have an exact fallback (content lists: SQL),
    so a request never waits for a build, and the tests' query counts do not depend on
    whether an index was built before.
    """
    index = _current
    if index is not None and index.generation == generation:
        return index
    if getattr(settings, "FEED_INDEX_BACKGROUND", False):
        _rebuild_in_background(generation)
    return None


def _rebuild_in_background(generation: str) -> None:
    global _builder
    with _lock:
        if _builder is not None and _builder.is_alive():
            return  # one at a time; the next request after it sees any newer generation
        _builder = threading.Thread(
            target=_rebuild, args=(generation,), name="feed-item-index", daemon=True
        )
        _builder.start()


def _release_memory() -> None:
    """Give a full build's temporaries (row tuples, GEOS objects) back to the system: glibc keeps
    freed memory in its arenas otherwise, and a worker's RSS would keep the peak of a build."""
    gc.collect()
    # Not glibc (macOS, musl): nothing to trim, the memory is reused by the next build anyway.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _rebuild(generation: str) -> None:
    global _current
    try:
        fresh = _refreshed(generation, _current)
        with _lock:
            _current = fresh
    except Exception:  # the previous index keeps serving; the next request tries again
        logger.exception("feed item index refresh failed")
    finally:
        connections.close_all()  # this thread's own database connection


def index_forget() -> None:
    """Drop this process's index (tests; a worker that wants its memory back)."""
    global _current
    _current = None
