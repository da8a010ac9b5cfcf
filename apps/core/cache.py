"""The Redis cache of the web tier, failing open: Redis down or hung means misses, not errors.

Redis holds throttle counters, rendered responses and feed snapshots: all can be recomputed
from PostgreSQL, so an unreachable Redis must cost a request a cache miss, not a 500. This
backend is Django's ``RedisCache`` with:

- short socket timeouts and no retries (``CACHE_CONNECT_TIMEOUT_S``, ``CACHE_SOCKET_TIMEOUT_S``):
  a hung server costs one request at most the timeout, not redis-py's 5 s, with retries;
- a per-process circuit breaker: after a failure the cache is not tried again for
  ``CACHE_RETRY_S`` seconds (every operation answers its fail-open value at once), and the
  outage is logged once per such interval, not once per request;
- fail-open values: ``get`` → default, ``get_many`` → ``{}``, ``add``/``touch``/``delete``/
  ``has_key`` → ``False``, ``set``/``set_many``/``clear`` → dropped. ``incr``/``decr`` raise
  ``CacheUnavailableError`` instead: a counter that was not counted must not look counted.

A value this code cannot read (pickled by another release: a class that moved or was
renamed, during a rolling deploy or from another server sharing the database) is a miss too,
logged once per ``CACHE_RETRY_S``; the breaker stays closed, Redis itself is fine.

Callers that cannot be correct without Redis ask ``cache_available()`` after their call and
answer 503 (``apps.core.api.unavailable``): the registration throttle, feed cursors.
"""

from __future__ import annotations

import functools
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient, RedisSerializer
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, OutOfMemoryError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

logger = logging.getLogger(__name__)

#: Errors meaning "Redis cannot serve now" (refused, hung, loading, read-only replica, full).
OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OutOfMemoryError)
DEFAULT_CONNECT_TIMEOUT_S = 0.25
DEFAULT_SOCKET_TIMEOUT_S = 0.5
DEFAULT_RETRY_S = 5.0

T = TypeVar("T")


class CacheUnavailableError(Exception):
    """The cache could not count or store something that had to be (see ``incr``)."""


class UnreadableValueError(Exception):
    """A cached value that cannot be unpickled by this code (see ``ReleaseSafeSerializer``)."""


class ReleaseSafeSerializer(RedisSerializer):
    """Django's serializer, with an unreadable pickle raised as ``UnreadableValueError``.

    Unpickling another release's value fails with whatever its missing module or attribute
    raises (``ModuleNotFoundError``, ``AttributeError``, ``UnpicklingError``…): one error type
    lets ``_guarded`` answer a miss for it and nothing else.
    """

    def loads(self, data: Any) -> Any:
        try:
            return super().loads(data)
        except Exception as error:
            raise UnreadableValueError(f"{type(error).__name__}: {error}") from error


class _Breaker:
    """Per process and per server: when the cache may be tried again, when it was last logged."""

    def __init__(self, location: str, retry_s: float) -> None:
        self.location = location
        self.retry_s = retry_s
        self.down_until = 0.0
        self.logged_at = -float("inf")
        self.unreadable_logged_at = -float("inf")
        self.lock = threading.Lock()

    def is_open(self) -> bool:
        return time.monotonic() < self.down_until

    def trip(self, error: Exception) -> None:
        now = time.monotonic()
        with self.lock:
            self.down_until = now + self.retry_s
            if now - self.logged_at >= self.retry_s:
                self.logged_at = now
                logger.warning(
                    "cache %s unreachable (%s: %s): failing open for %.0f s",
                    self.location,
                    type(error).__name__,
                    error,
                    self.retry_s,
                )

    def log_unreadable(self, error: Exception) -> None:
        now = time.monotonic()
        with self.lock:
            if now - self.unreadable_logged_at < self.retry_s:
                return
            self.unreadable_logged_at = now
        logger.warning("cache %s: unreadable value taken as a miss (%s)", self.location, error)

    def close(self) -> None:
        if self.down_until:
            with self.lock:
                if self.down_until:
                    self.down_until = 0.0
                    logger.warning("cache %s reachable again", self.location)


_breakers: dict[str, _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker(location: str, retry_s: float) -> _Breaker:
    # Django makes one backend instance per thread: the state is shared through this registry.
    with _breakers_lock:
        return _breakers.setdefault(location, _Breaker(location, retry_s))


def _guarded(fallback: Callable[..., Any]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run the operation unless the breaker is open; on an outage, trip it and fall back."""

    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def wrapper(self: FailOpenRedisCache, *args: Any, **kwargs: Any) -> T:
            if self.breaker.is_open():
                return fallback(*args, **kwargs)
            try:
                result = method(self, *args, **kwargs)
            except OUTAGE_ERRORS as error:
                self.breaker.trip(error)
                return fallback(*args, **kwargs)
            except UnreadableValueError as error:  # Redis answered: the breaker stays closed
                self.breaker.log_unreadable(error)
                return fallback(*args, **kwargs)
            self.breaker.close()
            return result

        return wrapper

    return decorate


def _default(key: Any, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


def _false(*args: Any, **kwargs: Any) -> bool:
    return False


def _none(*args: Any, **kwargs: Any) -> None:
    return None


def _empty(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {}


def _unset(data: dict[str, Any], *args: Any, **kwargs: Any) -> list[str]:
    return list(data)  # the keys that were not stored


def _uncounted_unread(*args: Any, **kwargs: Any) -> tuple[None, dict[str, Any]]:
    return None, {}


def _uncounted(*args: Any, **kwargs: Any) -> int:
    raise CacheUnavailableError("the cache is unreachable: nothing was counted")


class ReusedClients(RedisCacheClient):
    """One redis-py client per connection pool, not one per operation.

    Django's ``RedisCacheClient`` builds a new ``redis.Redis`` for every cache operation, and
    redis-py copies its ~170 response callbacks into a case-insensitive dict each time: about
    0.15 ms of CPU per operation, most of a fast request's cache cost (bench/README.md, issue
    13). A client is thread-safe (each command takes a connection from the pool), and the pool
    reconnects after a fork, so one per pool is enough.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django_client: Any = self  # the stubs do not know RedisCacheClient's private methods
        index = django_client._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = django_client._get_connection_pool(write)
            client = self._clients[index] = django_client._client(connection_pool=pool)
        return client


#: DRF's sliding log of request times (``SimpleRateThrottle``) kept in a sorted set, checked
#: and appended in one round trip: drop the times older than the window, refuse when
#: ``limit`` remain, else add this one. Returns {allowed, times in the window, oldest time}.
THROTTLE_LOG_SCRIPT = """
local now, duration, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - duration)
local count = redis.call('ZCARD', KEYS[1])
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or ARGV[1]
if count >= limit then
  return {0, count, oldest}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(duration * 1000))
return {1, count + 1, oldest}
"""


def _log_args(now: float, duration: float, limit: int) -> list[str | int]:
    """``THROTTLE_LOG_SCRIPT``'s arguments; the member is unique to this request."""
    return [repr(now), repr(float(duration)), int(limit), f"{now!r}:{secrets.token_hex(6)}"]


class FailOpenRedisCache(RedisCache):
    """``RedisCache`` with short timeouts, no retries and fail-open operations (module doc).

    Extra ``OPTIONS``: ``RETRY_S`` (seconds between attempts once the cache failed).
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        retry_s = float(options.pop("RETRY_S", DEFAULT_RETRY_S))
        options.setdefault("socket_connect_timeout", DEFAULT_CONNECT_TIMEOUT_S)
        options.setdefault("socket_timeout", DEFAULT_SOCKET_TIMEOUT_S)
        # redis-py retries a failed command 3 times with backoff by default: an outage would
        # cost each request several timeouts. The breaker above is the retry policy.
        options["retry"] = Retry(NoBackoff(), 0)
        options.setdefault("retry_on_timeout", False)
        options.setdefault("serializer", ReleaseSafeSerializer)
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusedClients
        self.breaker = _breaker(str(server), retry_s)
        self._scripts: dict[int, Any] = {}

    get = _guarded(_default)(RedisCache.get)
    get_many = _guarded(_empty)(RedisCache.get_many)
    has_key = _guarded(_false)(RedisCache.has_key)
    add = _guarded(_false)(RedisCache.add)
    set = _guarded(_none)(RedisCache.set)
    set_many = _guarded(_unset)(RedisCache.set_many)
    touch = _guarded(_false)(RedisCache.touch)
    delete = _guarded(_false)(RedisCache.delete)
    delete_many = _guarded(_none)(RedisCache.delete_many)
    clear = _guarded(_false)(RedisCache.clear)
    incr = _guarded(_uncounted)(RedisCache.incr)

    @_guarded(_none)
    def throttle_log(
        self, key: str, now: float, duration: float, limit: int
    ) -> tuple[bool, int, float] | None:
        """Count a request at ``now`` in the log ``key`` unless ``limit`` requests were
        counted in the last ``duration`` seconds (``THROTTLE_LOG_SCRIPT``): (allowed, requests
        in the window, the oldest one's time). One round trip, whatever the limit: DRF's
        throttle reads and rewrites its whole pickled list, 234 KB per request at 26,000
        requests a minute. ``None`` when the cache is unreachable (nothing was counted)."""
        redis_key = self.make_and_validate_key(key)
        client = self._cache.get_client(redis_key, write=True)
        script = self._script(client)
        allowed, count, oldest = script(keys=[redis_key], args=_log_args(now, duration, limit))
        return bool(allowed), int(count), float(oldest)

    def throttle_log_reading(
        self, key: str, now: float, duration: float, limit: int, reads: Sequence[str]
    ) -> tuple[tuple[bool, int, float] | None, dict[str, Any]]:
        """``throttle_log``, and the values of the cache keys ``reads`` (as ``get_many``:
        missing keys left out), in the same round trip: a view's first reads ride on its
        throttle's (``apps.core.api.throttles``). ``(None, {})`` when the cache is
        unreachable. A value this code cannot read is a miss; the request is still counted.
        """
        if not reads:
            return self.throttle_log(key, now, duration, limit), {}
        return self._throttle_log_reading(key, now, duration, limit, reads)

    @_guarded(_uncounted_unread)
    def _throttle_log_reading(
        self, key: str, now: float, duration: float, limit: int, reads: Sequence[str]
    ) -> tuple[tuple[bool, int, float] | None, dict[str, Any]]:
        redis_key = self.make_and_validate_key(key)
        client = self._cache.get_client(redis_key, write=True)
        script = self._script(client)
        args = _log_args(now, duration, limit)
        with client.pipeline(transaction=False) as pipe:
            # EVALSHA itself: a script registered on the pipeline would cost a SCRIPT EXISTS
            # round trip first, on every request.
            pipe.evalsha(script.sha, 1, redis_key, *args)
            pipe.mget([self.make_and_validate_key(k) for k in reads])
            logged, raw = pipe.execute(raise_on_error=False)
        if isinstance(logged, NoScriptError):  # a restarted or flushed server: load it again
            logged = script(keys=[redis_key], args=args)
        for reply in (logged, raw):
            if isinstance(reply, Exception):
                raise reply
        serializer = self._cache._serializer  # type: ignore[attr-defined]
        values = {}
        for read, value in zip(reads, raw, strict=True):
            if value is None:
                continue
            try:
                values[read] = serializer.loads(value)
            except UnreadableValueError as error:
                self.breaker.log_unreadable(error)
        allowed, count, oldest = logged
        return (bool(allowed), int(count), float(oldest)), values

    def _script(self, client: Any) -> Any:
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts[id(client)] = client.register_script(THROTTLE_LOG_SCRIPT)
        return script

    @_guarded(_false)
    def ping(self) -> bool:
        """``True`` when the server answers now (health checks; bounded by the timeouts)."""
        return bool(self._cache.get_client().ping())


def cache_values(keys: Sequence[str], known: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every one of ``keys`` with its value in the default cache, ``None`` for a miss: taken
    from ``known`` (values read already: ``request.cache_read_first``, the throttle's round
    trip, ``apps.core.api.throttles``) when it holds them all, else one ``get_many``."""
    if known is not None and all(key in known for key in keys):
        return {key: known[key] for key in keys}
    found = caches["default"].get_many(keys)
    return {key: found.get(key) for key in keys}


def cache_available(alias: str = "default") -> bool:
    """``False`` while the cache is known to be unreachable (its breaker is open).

    Ask *after* the operation whose result matters: the breaker trips on that call.
    """
    backend = caches[alias]
    return not (isinstance(backend, FailOpenRedisCache) and backend.breaker.is_open())


def cache_status(alias: str = "default") -> str:
    """``ok``, ``local`` (per-process memory: the embedded mode) or ``unavailable``."""
    backend = caches[alias]
    if not isinstance(backend, FailOpenRedisCache):
        return "local"
    return "ok" if backend.ping() else "unavailable"
