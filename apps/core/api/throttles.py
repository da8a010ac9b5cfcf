"""Throttles of the content API: public reads per IP, writes per API key or staff user.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and are read at request time, so
settings overrides (tests, deployments) apply without re-importing DRF.

Counters live in the cache, which fails open (``apps.core.cache``): with Redis unreachable a
request is let through uncounted, except in ``FAIL_CLOSED_SCOPES`` (``throttle_counted``).

On Redis (``FailOpenRedisCache``) every throttle keeps DRF's sliding log of request times, with
its exact rule and ``Retry-After``, in a sorted set checked and appended by one script
(``LoggedRateThrottle``): one round trip and no history in Python, whatever the rate. A view
may name cache keys it reads first (``cache_keys_read_first``): they are read in that round
trip too (the feed's content generation and shared snapshot). DRF's own
``SimpleRateThrottle`` reads the whole pickled list of times and writes it back at each
request: its cost grows with the rate (1,200 times a minute for a busy address). Other caches
(the embedded mode's memory, tests) keep DRF's code.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from apps.core.api.unavailable import CacheRequired
from apps.core.cache import FailOpenRedisCache, cache_available
from apps.core.models import OrganizationApiKey

#: Scopes whose limit is the only abuse control of an anonymous write (device registration):
#: without the cache to count them, requests are refused with a 503, not let through uncounted.
FAIL_CLOSED_SCOPES = frozenset({"registration"})


def throttle_counted(scope: str | None) -> None:
    """Raise ``CacheRequired`` (503) if ``scope`` fails closed and the cache did not count."""
    if scope in FAIL_CLOSED_SCOPES and not cache_available():
        raise CacheRequired()


def cache_reads_of(view: Any, request: Request) -> list[str]:
    """The cache keys ``view`` reads first (its ``cache_keys_read_first(request)``, if it has
    one): ``LoggedRateThrottle`` reads them in its own round trip and leaves their values in
    ``request.cache_read_first`` (every key, ``None`` for a miss), so the view saves one."""
    keys = getattr(view, "cache_keys_read_first", None)
    return [] if keys is None else list(keys(request))


def cache_read_first(request: Request) -> dict[str, Any] | None:
    """The values the throttle read for the view (``cache_reads_of``), or ``None``: give them
    to ``apps.core.cache.cache_values`` with the keys wanted."""
    return getattr(request, "cache_read_first", None)


class LoggedRateThrottle(SimpleRateThrottle):
    """``SimpleRateThrottle`` with its log in a Redis sorted set (module doc).

    The log's key is DRF's key plus ``LOG_SUFFIX``: during a rolling deploy, processes of the
    previous release keep their pickled lists under DRF's key, and neither reads the other's.
    """

    LOG_SUFFIX = ":log"
    # Set by ``SimpleRateThrottle`` from the rate (DRF's stubs do not declare them).
    num_requests: int
    duration: int
    _count = 0
    _oldest: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        backend = caches["default"]
        if self.rate is None or not isinstance(backend, FailOpenRedisCache):
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        reads = cache_reads_of(view, request)
        logged, values = backend.throttle_log_reading(
            self.key + self.LOG_SUFFIX, self.now, self.duration, self.num_requests, reads
        )
        if reads:
            request.cache_read_first = {key: values.get(key) for key in reads}  # type: ignore[attr-defined]
        if logged is None:
            return True  # the cache is down: uncounted (``throttle_counted`` may refuse)
        allowed, self._count, self._oldest = logged
        return allowed

    def wait(self) -> float | None:
        """DRF's ``wait`` on the counted log: the window's rest over the requests left."""
        if self._oldest is None:
            return super().wait()
        remaining = self.duration - (self.now - self._oldest)
        available = self.num_requests - self._count + 1
        return None if available <= 0 else remaining / float(available)


class _SettingsRateThrottle(LoggedRateThrottle):
    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return None if rate is None else str(rate)


class PublicReadThrottle(_SettingsRateThrottle):
    """Scope ``anon``: reads, counted per client IP."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PublishingThrottle(_SettingsRateThrottle):
    """Scope ``publishing``: content writes, counted per API key or per staff user."""

    scope = "publishing"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, OrganizationApiKey):
            ident = f"key-{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
