"""Feed snapshots and cursors: pages that stay stable while the resident scrolls.

The first page ranks every candidate once and keeps the best ``SNAPSHOT_ITEMS`` in the cache
(``settings.CACHES["default"]``, shared by all web processes in production) for
``CURSOR_TTL``: their order, scores, pinned flags and the facts the explanations check. Each
next page is a slice of that snapshot, so no item appears twice and none is skipped, whatever
is published, dismissed or changes meanwhile; an item that stopped being public (expired,
over, unpublished) is left out of its page rather than shown.

Non-personal feeds (anonymous callers, devices without consent) depend only on the request
point, which the view snaps to the 0.001° grid of saved places (about 100 m): the snapshot of a
grid cell is shared for ``SHARED_TTL`` seconds by every such caller in it (``shared_get``).

A cursor is ``{snapshot key, offset}`` signed with the secret key (``django.core.signing``):
a tampered cursor fails its signature, an old one its timestamp or its missing snapshot, and a
personal snapshot answers only the device it was made for. With the cache unreachable the
first page is still ranked and served (nothing is kept), and a cursor answers 503.

The cache outlives a release: during a rolling deploy (or with two servers on one Redis
database) a snapshot written by other code can sit under the keys this code reads. One this
code cannot unpickle is a miss (``apps.core.cache``); one it can, but of another shape (a
field added since, other features, arrays of another length), is refused by ``_usable``: the
first page is ranked again and such a cursor has expired, rather than a page failing midway.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
from django.core import signing
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext_lazy as _

from apps.core.api.unavailable import CacheRequired
from apps.core.cache import OUTAGE_ERRORS, CacheUnavailableError, cache_available
from apps.recommend.engine.candidates import ITEM_TYPES, Candidates
from apps.recommend.engine.features import FEATURE_NAMES, FeatureMatrix

#: Items kept per snapshot: ten pages of twenty.
SNAPSHOT_ITEMS = 200
#: How long a cursor stays valid (seconds).
CURSOR_TTL = 30 * 60
#: How long a non-personal snapshot serves every caller of its grid cell (seconds).
SHARED_TTL = 60
#: Personal snapshots kept per device; an older one's cursor expires early.
SNAPSHOTS_PER_DEVICE = 10
#: Longest cursor accepted (a signed key and offset are about 100 characters).
CURSOR_MAX_CHARS = 300
_SALT = "apps.recommend.feed.cursor"
_PREFIX = "feed:snapshot:"
#: A keyword's default: the caller did not read the value (``None`` is a miss).
_UNREAD: Any = object()


class CursorError(ValueError):
    """A cursor that cannot be used; the message says why (shown to the client)."""


@dataclass(frozen=True)
class PlaceFact:
    """A saved place as the explanations name it: label code, custom name, point, radius."""

    label: str
    name: str
    lon: float
    lat: float
    radius_m: float


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One ranked feed: row k of every array is the k-th item of the feed."""

    device_id: int | None
    personalized: bool
    point: tuple[float, float] | None
    ranker: str  # "stage1" or the model version that ranked it
    now_s: float
    candidates: Candidates  # the kept rows (texts dropped)
    scores: np.ndarray
    pinned: np.ndarray
    features: FeatureMatrix  # the kept rows (texts dropped)
    places: tuple[PlaceFact, ...] = ()
    area_names: dict[int, str] = field(default_factory=dict)
    key: str = ""
    #: Interleaved feeds (``online.interleaving``): who placed each row (``engine.interleaving``
    #: ``SERVED``/``REFERENCE``) and the reference's name; ``None`` and ``""`` otherwise.
    teams: np.ndarray | None = None
    reference: str = ""
    #: The content generation it was ranked at, if the item index was at it ("" otherwise):
    #: the request that ranked it reads its first page at that generation (``feed_page``).
    generation: str = ""

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def refs(self) -> list[tuple[str, int]]:
        return list(self.refs_of(np.arange(len(self))).values())

    def refs_of(self, rows: np.ndarray) -> dict[int, tuple[str, int]]:
        """Row → ``(type, id)`` of ``rows`` only (a page, not the whole snapshot)."""
        c = self.candidates
        return {
            row: (ITEM_TYPES[t], i)
            for row, t, i in zip(
                rows.tolist(), c.item_type[rows].tolist(), c.item_id[rows].tolist(), strict=True
            )
        }


def _has_fields(value: object) -> bool:
    return all(hasattr(value, f.name) for f in fields(value))  # type: ignore[arg-type]


def _usable(value: object) -> Snapshot | None:
    """``value`` if it is a snapshot this code can page through, else ``None`` (module doc)."""
    if not isinstance(value, Snapshot):
        return None
    try:
        c, f = value.candidates, value.features
        if not (_has_fields(value) and _has_fields(c) and _has_fields(f)):
            return None
        n = len(value.scores)
        rows: list[np.ndarray | None] = [value.pinned, value.teams, f.values]
        rows += [f.place_distance_m, f.inside_place, f.point_distance_m]
        rows += [f.route_distance_m, f.followed_area, f.text_unit]
        rows += [getattr(c, k.name) for k in fields(c) if k.name not in {"area_item", "area_id"}]
        places = len(value.places)
        return (
            value
            if all(a is None or a.shape[0] == n for a in rows)
            and tuple(f.names) == tuple(FEATURE_NAMES)
            and f.values.shape[1] == len(FEATURE_NAMES)
            and f.place_distance_m.shape[1] == places == f.inside_place.shape[1]
            and all(_has_fields(p) for p in value.places)
            and (value.teams is None) == (value.reference == "")
            else None
        )
    except (AttributeError, TypeError, IndexError, ValueError):  # not arrays, not a dataclass
        return None


def snapshot_rows(
    candidates: Candidates, features: FeatureMatrix, rows: np.ndarray
) -> tuple[Candidates, FeatureMatrix]:
    """``candidates`` and ``features`` restricted to ``rows``, compact: what the explanations
    of the next pages read, and no more (docs/recommender.md, "Snapshots").

    No text vectors, no areas (``features.followed_area`` has the one explained), no
    distances on the candidates (the features hold them); feature values and distances to
    places in float32 (explanations compare them with thresholds in metres and weights); times
    and the distance to the request point in float64. About half the bytes of the full rows.
    """
    kept = candidates.take(rows, texts=False)
    empty = np.zeros(0, dtype=np.int64)
    kept = replace(
        kept,
        category=kept.category.astype(np.int32),
        organization=kept.organization.astype(np.int32),
        lon=kept.lon.astype(np.float32),
        lat=kept.lat.astype(np.float32),
        popularity=kept.popularity.astype(np.float32),
        severity=kept.severity.astype(np.float32),
        area_item=empty,
        area_id=empty,
        place_distance_m=None,
        point_distance_m=None,
    )
    f = features
    return kept, FeatureMatrix(
        values=f.values[rows].astype(np.float32),
        names=f.names,
        place_distance_m=f.place_distance_m[rows].astype(np.float32),
        inside_place=f.inside_place[rows],
        # float64: the distance to the request point is also the page's ``distance_m``.
        point_distance_m=f.point_distance_m[rows],
        route_distance_m=f.route_distance_m[rows].astype(np.float32),
        followed_area=f.followed_area[rows].astype(np.int32),
        text_unit=kept.text,  # empty too: texts are not kept
    )


def _device_keys(device_id: int) -> tuple[str, str]:
    """The cache keys of a device's snapshot counter and of its erasure mark."""
    return f"feed:device:{device_id}:n", f"feed:device:{device_id}:erased"


def _slot_key(device_id: int, n: int) -> str:
    """The key of the device's ``n``-th snapshot's slot (it holds the snapshot's key)."""
    return f"feed:device:{device_id}:{n}"


class _Redis:
    """The default cache's Redis client, key function and serializer, for pipelines: what
    ``cache.set``/``incr``/``touch``/``get`` would write and read, in fewer round trips."""

    def __init__(self, backend: Any) -> None:
        self.client = backend._cache.get_client(None, write=True)
        self.serializer = backend._cache._serializer
        self.key = backend.make_and_validate_key
        self.breaker = getattr(backend, "breaker", None)  # FailOpenRedisCache's

    def dump(self, value: Any) -> Any:
        return self.serializer.dumps(value)

    def load(self, raw: Any) -> Any:
        return None if raw is None else self.serializer.loads(raw)

    def run(self, commands: Callable[[Any], None]) -> list[Any] | None:
        """Send ``commands(pipeline)`` in one round trip: the replies, or ``None`` when Redis
        is down (the breaker trips, as any cache call would)."""
        if self.breaker is not None and self.breaker.is_open():
            return None
        try:
            with self.client.pipeline(transaction=False) as pipe:
                commands(pipe)
                replies = pipe.execute()
        except OUTAGE_ERRORS as error:
            if self.breaker is None:
                raise
            self.breaker.trip(error)
            return None
        if self.breaker is not None:
            self.breaker.close()
        return list(replies)


def _redis() -> _Redis | None:
    """Pipelines on the default cache when it is Redis; ``None`` otherwise (local memory)."""
    backend = caches["default"]
    return _Redis(backend) if isinstance(backend, RedisCache) else None


def _shared_writes(redis: _Redis, saved: Snapshot, share: bool) -> Callable[[Any], None]:
    """The pipeline commands that save the non-personal ``saved`` (and share it: ``share``)."""

    def store(pipe: Any) -> None:
        pipe.set(redis.key(_PREFIX + saved.key), redis.dump(saved), ex=CURSOR_TTL)
        if share:
            pipe.set(redis.key(_shared_key(saved.point)), redis.dump(saved.key), ex=SHARED_TTL)

    return store


class PendingWrites:
    """Cache writes not sent yet: in the round trip of the request's next cache read
    (``attach``: a feed page's fragments, ``fragment_store.store_get``), else on their own
    (``flush``, which the caller always calls last). A ranked non-personal first page saves
    its snapshot this way: one round trip fewer, and the snapshot is in the cache before the
    response (and its cursor) leaves."""

    def __init__(
        self, redis: _Redis | None = None, commands: Callable[[Any], None] | None = None
    ) -> None:
        self._redis, self._commands = redis, commands

    @property
    def pending(self) -> bool:
        return self._commands is not None

    def attach(self, pipe: Any) -> None:
        """Add the writes to ``pipe``, whose owner sends it (and handles an outage)."""
        commands, self._commands = self._commands, None
        if commands is not None:
            commands(pipe)

    def flush(self) -> None:
        """Send the writes no read carried (one round trip; none if there are none)."""
        commands, self._commands = self._commands, None
        if commands is not None and self._redis is not None:
            self._redis.run(commands)


def snapshot_save(snapshot: Snapshot, *, share: bool = False) -> tuple[Snapshot, PendingWrites]:
    """Store ``snapshot`` under a new random key; return it with its key, and the writes still
    to send (``PendingWrites``: a non-personal snapshot on Redis, written in the round trip
    that reads its page's fragments; nothing pending otherwise).

    The key travels in cursors, so it says nothing about the device. A personal snapshot's key
    is also kept in a numbered slot of its device (``feed:device:<id>:<n>``) so that
    ``snapshots_forget`` finds every one of them: erasure must reach the cache
    (docs/privacy.md). A device keeps its last ``SNAPSHOTS_PER_DEVICE``. ``share``: also serve
    a non-personal snapshot to its cell (``shared_put``). On Redis this takes no round trip of
    its own (non-personal) or two (personal) instead of up to eight cache calls.
    """
    saved = replace(snapshot, key=secrets.token_urlsafe(12))
    redis = _redis()
    if not snapshot.personalized or snapshot.device_id is None:
        if redis is not None:
            return saved, PendingWrites(redis, _shared_writes(redis, saved, share))
        cache.set(_PREFIX + saved.key, saved, CURSOR_TTL)
        if share:
            shared_put(saved)
        return saved, PendingWrites()
    if redis is not None:
        return _personal_save(redis, saved, saved.device_id), PendingWrites()  # type: ignore[arg-type]
    return _local_personal_save(saved, snapshot.device_id), PendingWrites()


def _local_personal_save(saved: Snapshot, device_id: int) -> Snapshot:
    """``snapshot_save`` of a personal snapshot through the cache's calls (not Redis)."""
    counter, erased = _device_keys(device_id)
    cache.add(counter, 0, CURSOR_TTL)
    try:
        n = cache.incr(counter)
    except (CacheUnavailableError, ValueError):
        # Redis unreachable (or the counter expired since ``add``): without a slot erasure
        # could not find the snapshot, so none is kept; this page is served, a cursor is not.
        return saved
    cache.set_many({_slot_key(device_id, n): saved.key, _PREFIX + saved.key: saved}, CURSOR_TTL)
    # The counter outlives every slot it numbers, so ``snapshots_forget`` sees them all.
    cache.touch(counter, CURSOR_TTL)
    if n > SNAPSHOTS_PER_DEVICE:
        _slots_delete(device_id, [n - SNAPSHOTS_PER_DEVICE])
    # A feed request that raced with the device's erasure must not leave its snapshot behind.
    if cache.get(erased):
        _slots_delete(device_id, [n])
    return saved


def _personal_save(redis: _Redis, saved: Snapshot, device_id: int) -> Snapshot:
    """``snapshot_save`` of a personal snapshot on Redis: the same keys, values and expiries
    as the cache calls below it, in two round trips (a third to drop the oldest slot)."""
    counter, erased = (redis.key(k) for k in _device_keys(device_id))
    counted = redis.run(
        lambda pipe: pipe.set(counter, redis.dump(0), ex=CURSOR_TTL, nx=True).incr(counter)
    )
    if counted is None:
        return saved  # Redis unreachable: no slot, so nothing kept (see below)
    n = int(counted[1])
    oldest = n - SNAPSHOTS_PER_DEVICE

    def store(pipe: Any) -> None:
        pipe.set(redis.key(_slot_key(device_id, n)), redis.dump(saved.key), ex=CURSOR_TTL)
        pipe.set(redis.key(_PREFIX + saved.key), redis.dump(saved), ex=CURSOR_TTL)
        pipe.expire(counter, CURSOR_TTL)
        pipe.get(erased)
        if oldest > 0:
            pipe.get(redis.key(_slot_key(device_id, oldest)))

    stored = redis.run(store)
    if stored is None:
        return saved
    drop: list[str] = []
    if oldest > 0:
        old_key = redis.load(stored[4])
        drop.append(redis.key(_slot_key(device_id, oldest)))
        if isinstance(old_key, str):
            drop.append(redis.key(_PREFIX + old_key))
    # A feed request that raced with the device's erasure must not leave its snapshot behind.
    if redis.load(stored[3]):
        drop += [redis.key(_slot_key(device_id, n)), redis.key(_PREFIX + saved.key)]
    if drop:
        redis.run(lambda pipe: pipe.delete(*drop))
    return saved


def _slots_delete(device_id: int, numbers: list[int], *also: str) -> None:
    """Delete the device's slots ``numbers``, the snapshots they name, and keys ``also``."""
    slots = [_slot_key(device_id, n) for n in numbers]
    keys = [key for key in cache.get_many(slots).values() if isinstance(key, str)]
    cache.delete_many([*slots, *(_PREFIX + key for key in keys), *also])


def snapshots_forget(*, device_id: int, erased: bool) -> None:
    """Delete every personal snapshot of ``device_id`` (erasure, withdrawn consent).

    ``erased``: the device is gone; a mark kept for ``CURSOR_TTL`` makes a concurrent
    ``snapshot_save`` delete what it just wrote (it checks the mark after writing).
    """
    counter, mark = _device_keys(device_id)
    if erased:
        cache.set(mark, 1, CURSOR_TTL)
    n = cache.get(counter)
    last = n if isinstance(n, int) else 0
    first = max(1, last - SNAPSHOTS_PER_DEVICE + 1)
    _slots_delete(device_id, list(range(first, last + 1)), counter)


def _shared_key(point: tuple[float, float] | None) -> str:
    where = "city" if point is None else f"{point[0]:.3f},{point[1]:.3f}"
    return f"feed:shared:{where}"


def shared_key(point: tuple[float, float] | None) -> str:
    """The cache key of the snapshot key shared by ``point``'s grid cell (or the city)."""
    return _shared_key(point)


def shared_get(point: tuple[float, float] | None, *, key: Any = _UNREAD) -> Snapshot | None:
    """The non-personal snapshot of ``point``'s grid cell (or of the city), if still fresh.
    ``key``: the value of ``shared_key(point)`` if the caller read it already."""
    if key is _UNREAD:
        key = cache.get(_shared_key(point))
    snapshot = _usable(cache.get(_PREFIX + key)) if isinstance(key, str) else None
    return snapshot if snapshot is not None and not snapshot.personalized else None


def shared_put(snapshot: Snapshot) -> None:
    """Serve ``snapshot`` (saved, non-personal) to its cell's callers for ``SHARED_TTL``."""
    cache.set(_shared_key(snapshot.point), snapshot.key, SHARED_TTL)


def cursor_make(snapshot: Snapshot, offset: int) -> str:
    return signing.dumps({"s": snapshot.key, "o": int(offset)}, salt=_SALT)


def cursor_open(cursor: str, *, device_id: int | None) -> tuple[Snapshot, int]:
    """The snapshot and offset of ``cursor``; ``CursorError`` when it cannot be used."""
    if len(cursor) > CURSOR_MAX_CHARS:
        raise CursorError(_("Curseur invalide."))
    try:
        payload: Any = signing.loads(cursor, salt=_SALT, max_age=CURSOR_TTL)
    except signing.SignatureExpired:
        raise CursorError(_("Ce curseur a expiré : rechargez le fil sans lui.")) from None
    except signing.BadSignature:
        raise CursorError(_("Curseur invalide.")) from None
    if not (
        isinstance(payload, dict)
        and isinstance(payload.get("s"), str)
        and isinstance(payload.get("o"), int)
        and payload["o"] >= 0
    ):
        raise CursorError(_("Curseur invalide."))
    stored = cache.get(_PREFIX + payload["s"])
    if stored is None and not cache_available():
        raise CacheRequired()  # the snapshot may well exist: 503, retry, rather than "expired"
    snapshot = _usable(stored)
    if snapshot is None:
        raise CursorError(_("Ce curseur a expiré : rechargez le fil sans lui."))
    if snapshot.personalized and snapshot.device_id != device_id:
        raise CursorError(_("Ce curseur appartient à un autre appareil."))
    return snapshot, payload["o"]
