"""What the cache holds about a device outside the feed: its throttle histories."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from apps.core.api.throttles import LoggedRateThrottle


def device_throttle_key(scope: str, device_id: int) -> str:
    """The cache key of a device's request history in a throttle ``scope``."""
    return SimpleRateThrottle.cache_format % {"scope": scope, "ident": f"device-{device_id}"}


def device_caches_forget(*, device_ids: Iterable[int]) -> None:
    """Delete the throttle histories (request times) of ``device_ids`` in every scope: DRF's
    pickled lists and the Redis logs (``LoggedRateThrottle``)."""
    scopes = list(api_settings.DEFAULT_THROTTLE_RATES)
    keys = [
        device_throttle_key(scope, pk) + suffix
        for pk in device_ids
        for scope in scopes
        for suffix in ("", LoggedRateThrottle.LOG_SUFFIX)
    ]
    if keys:
        cache.delete_many(keys)
