"""The store and the bytes of pre-rendered items: JSON encoding, serializer versions, Redis.

``apps.core.api.fragments`` says what a fragment is and when it is current; this module
encodes JSON exactly as DRF's renderer does (through orjson), versions serializers, and reads
and writes raw bytes in the cache (one ``MGET``, one pipelined ``SET … EX``; failing open
through ``apps.core.cache``'s breaker).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.core.cache import cache, caches
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from apps.core.api.site_url import site_url
from apps.core.cache import OUTAGE_ERRORS, FailOpenRedisCache

#: Bump when the stored layout (header or body) changes.
FRAGMENT_FORMAT = 1


# --- encoding -----------------------------------------------------------------------------


def _orjson_safe(value: Any) -> bool:
    """``True`` if orjson spells ``value`` exactly as ``json.dumps`` does (DRF's encoder)."""
    if isinstance(value, str | bool) or value is None:
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**64
    if isinstance(value, float):
        # Python's repr and orjson agree on finite floats written without an exponent.
        return math.isfinite(value) and (value == 0 or 1e-4 <= abs(value) < 1e16)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _orjson_safe(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_orjson_safe(v) for v in value)
    return False


_DRF_JSON = JSONRenderer()


def encode_json(data: Any) -> bytes:
    """``data`` as DRF's ``JSONRenderer`` renders it (compact, UTF-8), through orjson."""
    if _orjson_safe(data):
        try:
            out = orjson.dumps(data)
        except TypeError:  # e.g. a lone surrogate
            pass
        else:
            # DRF escapes the two JavaScript line terminators; json.dumps leaves them raw.
            if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:
                out = out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
            return out
    return _DRF_JSON.render(data)


# --- serializer versions --------------------------------------------------------------------


def _field_tree(serializer: serializers.BaseSerializer) -> list[Any]:
    tree: list[Any] = []
    fields = getattr(serializer, "fields", {})
    for name, field in fields.items():
        child = getattr(field, "child", field)
        entry: list[Any] = [name, type(field).__qualname__, getattr(field, "source", None)]
        if isinstance(child, serializers.BaseSerializer):
            entry.append(_field_tree(child))
        tree.append(entry)
    return tree


_VERSIONS: dict[tuple[type, str], str] = {}


def serializer_version(serializer_class: type[serializers.Serializer]) -> str:
    """What a fragment of ``serializer_class`` depends on besides the item, as a short hash.

    The origin of absolute URLs is the one in effect now (``site_url``): ``SITE_URL``, or the
    request's host on a dev server with ``SITE_URL_FROM_REQUEST``, so that a fragment made for
    one host is never served to another."""
    origin = site_url()
    version = _VERSIONS.get((serializer_class, origin))
    if version is None:
        tree = _field_tree(serializer_class())
        basis = [
            FRAGMENT_FORMAT,
            f"{serializer_class.__module__}.{serializer_class.__qualname__}",
            tree,
            origin,
            settings.MEDIA_URL,
        ]
        digest = hashlib.sha256(orjson.dumps(basis, default=str)).hexdigest()[:12]
        version = _VERSIONS[(serializer_class, origin)] = digest
    return version


# --- the store ------------------------------------------------------------------------------


def redis_client() -> tuple[Any, Any] | None:
    """The raw Redis client and breaker of the default cache, or ``None`` (not Redis)."""
    backend = caches["default"]
    if isinstance(backend, FailOpenRedisCache):
        return backend._cache.get_client(None, write=True), backend.breaker
    return None


def store_get(
    keys: list[str], *, before: Callable[[Any], None] | None = None
) -> list[bytes | None]:
    """The values of ``keys`` (bytes or ``None``), one round trip; all ``None`` on an outage.

    ``before(pipeline)``: commands to send ahead of the read in the same round trip (a feed
    page's snapshot writes, ``snapshot.PendingWrites``), called only when the read goes to
    Redis; their replies are dropped, and the caller sends them otherwise.
    """
    if not keys:
        return []
    if settings.API_FRAGMENT_SECONDS <= 0:
        return [None] * len(keys)
    redis = redis_client()
    if redis is None:
        found = cache.get_many(keys)
        return [found.get(key) for key in keys]
    client, breaker = redis
    if breaker.is_open():
        return [None] * len(keys)
    try:
        if before is None:
            values = client.mget(keys)
        else:
            with client.pipeline(transaction=False) as pipe:
                before(pipe)
                pipe.mget(keys)
                values = pipe.execute()[-1]
    except OUTAGE_ERRORS as error:
        breaker.trip(error)
        return [None] * len(keys)
    breaker.close()
    return list(values)


def store_put(values: dict[str, bytes]) -> None:
    timeout = settings.API_FRAGMENT_SECONDS
    if not values or timeout <= 0:
        return
    redis = redis_client()
    if redis is None:
        cache.set_many(values, timeout=timeout)
        return
    client, breaker = redis
    if breaker.is_open():
        return
    try:
        with client.pipeline(transaction=False) as pipe:
            for key, value in values.items():
                pipe.set(key, value, ex=timeout)
            pipe.execute()
    except OUTAGE_ERRORS as error:
        breaker.trip(error)


def generation_incr(key: str) -> None:
    redis = redis_client()
    if redis is None:
        cache.add(key, time.time_ns(), timeout=None)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, time.time_ns(), timeout=None)
        return
    client, breaker = redis
    try:
        # A fresh counter starts from the clock, so it never repeats a value a fragment holds.
        client.set(key, time.time_ns(), nx=True)
        client.incr(key)
    except OUTAGE_ERRORS as error:
        breaker.trip(error)


def as_int(value: Any) -> int:
    if value is None:
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
