"""Throttles of the content API: public reads per IP, writes per API key or staff user.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and are read at request time, so
settings overrides (tests, deployments) apply without re-importing DRF.

Counters live in the cache, which fails open (``apps.core.cache``): with Redis unreachable a
request is let through uncounted, except in ``FAIL_CLOSED_SCOPES`` (``throttle_counted``).
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from apps.core.api.unavailable import CacheRequired
from apps.core.cache import cache_available
from apps.core.models import OrganizationApiKey

#: Scopes whose limit is the only abuse control of an anonymous write (device registration):
#: without the cache to count them, requests are refused with a 503, not let through uncounted.
FAIL_CLOSED_SCOPES = frozenset({"registration"})


def throttle_counted(scope: str | None) -> None:
    """Raise ``CacheRequired`` (503) if ``scope`` fails closed and the cache did not count."""
    if scope in FAIL_CLOSED_SCOPES and not cache_available():
        raise CacheRequired()


class _SettingsRateThrottle(SimpleRateThrottle):
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
