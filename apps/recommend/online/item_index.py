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
round trip) and a process whose index was built under another token rebuilds before
answering (``current_index``). Time alone (a publication time reached, an expiry, an event's
next date) needs no rebuild: the arrays keep the times and each request applies its own
``now``. A rebuild reuses the previous index's text rows of unchanged item versions.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import secrets
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import scipy.sparse as sp
from django.conf import settings
from django.contrib.gis.db.models.functions import Centroid
from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from scipy.spatial import cKDTree

from apps.core.earth import METRES_PER_DEGREE
from apps.core.item_types import ItemType
from apps.core.models import Status, Urgency
from apps.core.registry import content_models
from apps.recommend.engine.candidates import ITEM_TYPES, TYPE_CODES, item_keys
from apps.recommend.engine.text_vectors import N_FEATURES, encode_texts
from apps.recommend.models import ItemPopularity
from apps.recommend.online.candidate_statement import TRENDING, _text
from apps.recommend.online.segments import Segments, SegmentsBuilder
from apps.recommend.online.sql import CoordX, CoordY, EpochSeconds

GENERATION_KEY = "feed:index:generation"
SEVERITY = {"minor": 0.3, "moderate": 0.6, "major": 1.0}


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
        with np.errstate(invalid="ignore"):
            return (
                ~(self.publish_s[rows] > now_s)
                & ~(self.expires_s[rows] <= now_s)
                & ~(self.over_s[rows] <= now_s)
            )

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


def _bump() -> None:
    cache.set(GENERATION_KEY, secrets.token_hex(8), None)


def generation_bump() -> None:
    """Content changed: every process rebuilds its index before its next feed.

    Now (this transaction's own reads see the change) and on commit (another process that
    rebuilt in between read the rows from before the commit).
    """
    _bump()
    transaction.on_commit(_bump)


# --- building --------------------------------------------------------------------------------


def _epoch(value: Any) -> float:
    return np.nan if value is None else float(value)


def _lists(rows_by: Mapping[Any, list[int]], rank: np.ndarray) -> dict[Any, np.ndarray]:
    """Each list of rows sorted by ``rank`` (the newest first)."""
    out = {}
    for key, rows in rows_by.items():
        array = np.array(rows, dtype=np.int64)
        out[key] = array[np.argsort(rank[array], kind="stable")]
    return out


def index_build(
    *, generation: str, now: datetime | None = None, previous: ItemIndex | None = None
) -> ItemIndex:
    """Read every live item (a few queries per type) into a new ``ItemIndex``."""
    now = now or timezone.now()
    language = settings.LANGUAGE_CODE
    columns: dict[str, list[Any]] = defaultdict(list)
    texts: list[str] = []
    geometries: list[Any] = []
    area_rows: dict[tuple[int, int], list[int]] = {}
    events_model = None
    for code, model in sorted(content_models().items(), key=lambda kv: TYPE_CODES[kv[0]]):
        t = TYPE_CODES[code]
        over = model.objects.none().over_q(now)
        live = model.objects.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now), status=Status.PUBLISHED
        )
        if over is not None:
            live = live.exclude(over)
        start: Any = None
        end: Any = None
        over_at: Any = None
        severity: Any = None
        cancelled: Any = None
        if code == "works":
            start, end, severity = EpochSeconds("start_at"), EpochSeconds("end_at"), F("severity")
            over_at, cancelled = EpochSeconds("end_at"), F("work_status")
        elif code == "events":
            events_model = model
            start, end = EpochSeconds("start_at"), EpochSeconds("last_end_at")
            over_at = end
        values = live.order_by("pk").values_list(
            "pk",
            "category_id",
            "organization_id",
            CoordX(Centroid("geometry")),
            CoordY(Centroid("geometry")),
            "geometry",
            EpochSeconds("publish_at"),
            EpochSeconds(Coalesce("publish_at", "published_at", "created_at")),
            EpochSeconds("expires_at"),
            EpochSeconds("updated_at"),
            "urgency",
            _text(language),
            *(x for x in (start, end, over_at, severity, cancelled) if x is not None),
        )
        for row in values:
            pk, category, organization, lon, lat, geometry, publish, published = row[:8]
            expires, updated, urgency, text = row[8:12]
            extra = list(row[12:])
            columns["type"].append(t)
            columns["id"].append(pk)
            columns["category"].append(category)
            columns["organization"].append(organization)
            columns["lon"].append(_epoch(lon))
            columns["lat"].append(_epoch(lat))
            columns["publish"].append(_epoch(publish))
            columns["published"].append(_epoch(published))
            columns["expires"].append(_epoch(expires))
            columns["updated"].append(_epoch(updated))
            columns["urgency"].append(urgency)
            columns["start"].append(_epoch(extra[0]) if extra else np.nan)
            columns["end"].append(_epoch(extra[1]) if extra else np.nan)
            columns["over"].append(_epoch(extra[2]) if extra else np.nan)
            columns["severity"].append(SEVERITY.get(extra[3], 0.0) if len(extra) > 3 else 0.0)
            columns["cancelled"].append(len(extra) > 4 and extra[4] == "cancelled")
            texts.append(text or "")
            geometries.append(geometry)
        through: Any = model.areas.through
        item_column = through._meta.get_field(str(model._meta.model_name)).attname
        links = through.objects.filter(**{f"{item_column}__in": live.values("pk")}).order_by("pk")
        for item_id, area_id in links.values_list(item_column, "area_id"):
            area_rows.setdefault((t, item_id), []).append(area_id)
    return _assemble(
        columns, texts, geometries, area_rows, events_model,
        generation=generation, now=now, language=language, previous=previous,
    )  # fmt: skip


def _assemble(
    columns: dict[str, list[Any]],
    texts: list[str],
    geometries: list[Any],
    area_rows: dict[tuple[int, int], list[int]],
    events_model: Any,
    *,
    generation: str,
    now: datetime,
    language: str,
    previous: ItemIndex | None,
) -> ItemIndex:
    n = len(columns["id"])
    item_type = np.array(columns["type"], dtype=np.int8)
    item_id = np.array(columns["id"], dtype=np.int64)
    keys = item_keys(item_type, item_id)  # sorted: types in order, then ids
    floats = {name: np.array(columns[name], dtype=np.float64) for name in (
        "lon", "lat", "publish", "published", "expires", "updated", "start", "end", "over"
    )}  # fmt: skip
    updated = floats["updated"]
    text = _texts(keys, updated, texts, previous, language)
    area_lists = [
        area_rows.get((int(t), int(i)), []) for t, i in zip(item_type, item_id, strict=True)
    ]
    area_ptr = np.concatenate(([0], np.cumsum([len(a) for a in area_lists]))).astype(np.int64)
    area_ids = np.array([a for areas in area_lists for a in areas], dtype=np.int64)
    builder = SegmentsBuilder()
    bounds = np.full((n, 4), np.nan)
    for row, geometry in enumerate(geometries):
        builder.add(geometry)
        if geometry is not None and not geometry.empty:
            bounds[row] = geometry.extent
    segments = builder.build()
    has_geometry = np.array([g is not None for g in geometries], dtype=bool)
    is_point = np.array([g is not None and g.geom_type == "Point" for g in geometries], dtype=bool)
    popularity = np.zeros(n)
    trending: dict[int, np.ndarray] = {}
    for t in range(len(ITEM_TYPES)):
        top = ItemPopularity.objects.filter(item_type=ItemType.from_index(t)).order_by(
            "-positives", "item_id"
        )
        top_ids = np.array(top.values_list("item_id", flat=True)[:TRENDING], dtype=np.int64)
        at = _rows(keys, item_keys(np.full(len(top_ids), t), top_ids))
        trending[t] = at[at >= 0]
    stats = ItemPopularity.objects.values_list("item_type", "item_id", "positives")
    stat_rows = np.array(list(stats), dtype=np.int64).reshape(-1, 3)
    if len(stat_rows):
        type_index = np.array([ItemType(c).index for c in stat_rows[:, 0]], dtype=np.int64)
        at = _rows(keys, item_keys(type_index, stat_rows[:, 1]))
        popularity[at[at >= 0]] = stat_rows[at >= 0, 2]
    urgency = np.array(columns["urgency"], dtype=np.int8)
    rank = np.lexsort((-item_id, _nan_key(floats["publish"])))  # newest first
    position = np.empty(n, dtype=np.int64)
    position[rank] = np.arange(n)
    by_category: dict[tuple[int, int], list[int]] = defaultdict(list)
    by_organization: dict[tuple[int, int], list[int]] = defaultdict(list)
    by_area: dict[tuple[int, int], list[int]] = defaultdict(list)
    for row in range(n):
        t = int(item_type[row])
        by_category[(t, columns["category"][row])].append(row)
        by_organization[(t, columns["organization"][row])].append(row)
        for area in area_lists[row]:
            by_area[(t, area)].append(row)
    newest = {t: rank[item_type[rank] == t] for t in range(len(ITEM_TYPES))}
    cancelled = np.array(columns["cancelled"], dtype=bool)
    works = TYPE_CODES["works"]
    origin_lat = float(np.nanmean(floats["lat"])) if has_geometry.any() else 0.0
    index = ItemIndex(
        generation=generation,
        built_at_s=now.timestamp(),
        text_language=language,
        item_type=item_type,
        item_id=item_id,
        keys=keys,
        category=np.array(columns["category"], dtype=np.int64),
        organization=np.array(columns["organization"], dtype=np.int64),
        lon=floats["lon"],
        lat=floats["lat"],
        has_geometry=has_geometry,
        is_point=is_point,
        bounds=bounds,
        publish_s=floats["publish"],
        published_s=floats["published"],
        expires_s=floats["expires"],
        over_s=floats["over"],
        start_s=floats["start"],
        end_s=floats["end"],
        urgency=urgency,
        popularity=popularity,
        severity=np.array(columns["severity"], dtype=np.float64),
        updated_s=updated,
        text=text,
        area_ptr=area_ptr,
        area_ids=area_ids,
        segments=segments,
        **_occurrences(events_model, keys, now),  # type: ignore[arg-type]
        newest_rank=position,
        newest=newest,
        by_category=_lists(by_category, position),
        by_area=_lists(by_area, position),
        by_organization=_lists(by_organization, position),
        urgent={t: rows[urgency[rows] >= Urgency.IMPORTANT] for t, rows in newest.items()},
        works_soon=newest[works][~cancelled[newest[works]]],
        trending=trending,
        extended={
            t: np.flatnonzero((item_type == t) & has_geometry & ~is_point)
            for t in range(len(ITEM_TYPES))
        },
        origin_lat=origin_lat,
    )
    points = {}
    for t in range(len(ITEM_TYPES)):
        rows = np.flatnonzero((item_type == t) & is_point)
        if len(rows):
            points[t] = PointTree(cKDTree(index.project(index.lon[rows], index.lat[rows])), rows)
    index.points.update(points)
    for t, rows in index.extended.items():
        index.extended_trees[t] = _extended_tree(index, rows)
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
    encoded = encode_texts([texts[k] for k in missing]) if len(missing) else None
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
    rows = np.array(
        list(
            occurrences.filter(end_at__gt=now)
            .order_by("start_at", "id")
            .values_list(EpochSeconds("start_at"), EpochSeconds("end_at"), "event_id")
        ),
        dtype=np.float64,
    ).reshape(-1, 3)
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

    A stale index is rebuilt in this request, or, with ``FEED_INDEX_BACKGROUND`` (production),
    by a background thread while requests keep the previous one for the seconds it takes:
    pages still drop items that stopped being public (``feed_page``), and a new item joins the
    feed once the rebuild lands.
    """
    global _current
    generation = generation_current()
    if generation is None:
        return None
    index = _current
    if index is not None and index.generation == generation:
        return index
    if index is not None and getattr(settings, "FEED_INDEX_BACKGROUND", False):
        _rebuild_in_background(generation)
        return index
    with _lock:
        index = _current
        if index is None or index.generation != generation:
            index = index_build(generation=generation, previous=index)
            _current = index
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
    """Give the build's temporaries (row tuples, GEOS objects) back to the system: glibc keeps
    freed memory in its arenas otherwise, and a worker's RSS would keep the peak of a build."""
    gc.collect()
    # Not glibc (macOS, musl): nothing to trim, the memory is reused by the next build anyway.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _rebuild(generation: str) -> None:
    global _current
    try:
        fresh = index_build(generation=generation, previous=_current)
        with _lock:
            _current = fresh
        _release_memory()
    except Exception:  # the previous index keeps serving; the next request tries again
        logger.exception("feed item index rebuild failed")
    finally:
        connections.close_all()  # this thread's own database connection


def index_forget() -> None:
    """Drop this process's index (tests; a worker that wants its memory back)."""
    global _current
    _current = None
