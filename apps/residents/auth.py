"""Device bearer tokens for the API: authentication classes, permission, throttle.

``Authorization: Bearer <token>`` identifies a device. On success ``request.auth`` is the
``Device`` and ``request.user`` stays Django's ``AnonymousUser``: a device is not a staff user
and nothing that checks ``request.user`` (admin, publishing permissions) ever treats it as
one. Use ``device_of(request)`` to read the device.

- ``DeviceTokenAuthentication``: no header → anonymous; a wrong or revoked token → 401.
  Pair it with ``IsDevice`` on ``/me/`` routes (401 with ``WWW-Authenticate: Bearer``).
- ``OptionalDeviceTokenAuthentication``: for anonymous-or-device endpoints (the feed); a wrong
  or revoked token is treated as anonymous so the home screen never breaks (the app learns
  that its token is dead from its next ``/me/`` call).
- ``DeviceScopedRateThrottle``: a ``throttle_scope`` rate counted per device, or per client
  address for anonymous requests (registration): an IPv4 address, or an IPv6 /64 (one
  subscriber's network: a phone changes the rest of its address at will).
- ``RegistrationCeilingThrottle``: scope ``registration_all``, every registration together.
"""

from __future__ import annotations

import functools
import ipaddress
import time
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from apps.core.api.throttles import LoggedRateThrottle, throttle_counted
from apps.core.prepared import run_prepared
from apps.residents.caches import device_throttle_key
from apps.residents.models import Device
from apps.residents.services import device_touch
from apps.residents.tokens import device_token_hash

_MAX_TOKEN_CHARS = 200


@functools.cache
def _device_statement() -> tuple[str, list[str]]:
    """The device-by-token statement and the attribute names of its columns."""
    columns = Device._meta.concrete_fields
    quote = connection.ops.quote_name
    select = ", ".join(quote(str(field.column)) for field in columns)
    sql = (
        f"SELECT {select} FROM {quote(Device._meta.db_table)} "
        f"WHERE {quote('token_hash')} = %s ORDER BY {quote(str(Device._meta.pk.column))} LIMIT 1"
    )
    return sql, [field.attname for field in columns]


def device_by_token_hash(token_hash: str) -> Device | None:
    """The device of ``token_hash``, or ``None``: ``Device.objects.filter(token_hash=…)
    .first()`` as a statement that stays prepared on PostgreSQL (every authenticated request
    runs it; the ORM's query building alone cost half a millisecond of CPU,
    bench/feed_profile.py), whose driver gives the columns' Python types."""
    if connection.vendor != "postgresql":
        # SQLite hands raw booleans, dates and times back as ints and text: the ORM converts.
        return Device.objects.filter(token_hash=token_hash).order_by("pk").first()
    sql, names = _device_statement()
    rows = run_prepared(connection, sql, [token_hash])
    return Device.from_db(connection.alias, names, rows[0]) if rows else None


class DeviceTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <device token>`` → ``request.auth`` is the ``Device``."""

    keyword = "Bearer"
    #: When False, a token that matches no device makes the request anonymous instead of 401.
    strict = True

    def authenticate(self, request: Request) -> tuple[AnonymousUser, Device] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2 or len(header[1]) > _MAX_TOKEN_CHARS:
            self._fail(_("En-tête Authorization invalide : « Bearer <jeton> » attendu."))
            return None
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            self._fail(_("Jeton invalide."))
            return None
        device = device_by_token_hash(device_token_hash(token))
        if device is None:
            self._fail(_("Jeton inconnu ou révoqué : enregistrez l'appareil à nouveau."))
            return None
        device_touch(device=device)
        return AnonymousUser(), device

    def _fail(self, message: Any) -> None:
        """Raise 401 in strict mode; otherwise the caller goes on as anonymous."""
        if self.strict:
            raise exceptions.AuthenticationFailed(message)

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class OptionalDeviceTokenAuthentication(DeviceTokenAuthentication):
    """Like ``DeviceTokenAuthentication``, but a bad token means "anonymous", never 401."""

    strict = False


def device_of(request: Request) -> Device | None:
    """The authenticated device of ``request``, or ``None`` for an anonymous caller."""
    return request.auth if isinstance(request.auth, Device) else None


class IsDevice(BasePermission):
    """Only requests authenticated with a device token."""

    message = _("Un jeton d'appareil est demandé (Authorization: Bearer <jeton>).")

    def has_permission(self, request: Request, view: Any) -> bool:
        return device_of(request) is not None


class DeviceScopedRateThrottle(ScopedRateThrottle, LoggedRateThrottle):
    """``throttle_scope`` rates per device (per client IP when anonymous).

    Rates are read from the settings on each request, so ``REST_FRAMEWORK`` overrides apply.
    """

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        return rates[str(self.scope)]

    def allow_request(self, request: Request, view: Any) -> bool:
        allowed = super().allow_request(request, view)
        throttle_counted(self.scope)  # registration needs its counter: 503 without Redis
        return allowed

    def get_cache_key(self, request: Request, view: Any) -> str:
        device = device_of(request)
        if device is not None:
            return device_throttle_key(str(self.scope), device.pk)
        return self.cache_format % {"scope": self.scope, "ident": client_network(request, self)}


def client_network(request: Request, throttle: SimpleRateThrottle) -> str:
    """The client's IPv4 address, or its IPv6 /64 (an IPv4-mapped IPv6 address is IPv4)."""
    ident = throttle.get_ident(request) or ""
    try:
        address = ipaddress.ip_address(ident.strip())
    except ValueError:
        return ident
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class RegistrationCeilingThrottle(SimpleRateThrottle):
    """Scope ``registration_all``: all registrations together, whatever their address.

    Bounds what a botnet or a carrier-NAT-sized crowd can create; the view checks it last,
    after App Check, so that rejected attempts do not use up the budget of genuine apps. A
    counter per fixed window (one ``INCR``), not DRF's list of request times, which would
    grow with the limit and be rewritten whole at every registration: only DRF's rate
    parsing (``num_requests``, ``duration``) is kept.
    """

    scope = "registration_all"
    # Set by ``SimpleRateThrottle.__init__`` from the rate (DRF's stubs do not declare them).
    num_requests: int
    duration: int

    def __init__(self) -> None:
        super().__init__()
        self._wait = 0.0

    def get_rate(self) -> str:
        return str(api_settings.DEFAULT_THROTTLE_RATES[self.scope])

    def allow_request(self, request: Request, view: Any) -> bool:
        now = time.time()
        window = int(now // self.duration)
        key = f"throttle_{self.scope}_{window}"
        cache.add(key, 0, self.duration + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # the window's key expired between the two calls
            count = 1
        if count <= self.num_requests:
            return True
        self._wait = (window + 1) * self.duration - now
        return False

    def wait(self) -> float:
        return max(self._wait, 1.0)
