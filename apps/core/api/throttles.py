"""Throttles of the content API: public reads per IP, writes per API key or staff user.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and are read at request time, so
settings overrides (tests, deployments) apply without re-importing DRF.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from apps.core.models import OrganizationApiKey


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
