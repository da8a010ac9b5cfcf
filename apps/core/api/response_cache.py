"""A shared cache of rendered anonymous content responses (lists and details), in Redis.

Key: the request's scheme, host, path and sorted query string, the negotiated format and the
active language (what the body depends on; authentication never, since only anonymous
requests use the cache). Value: the rendered body with its ETag and Last-Modified, the
*generation* of its content type when it was computed, and the moment it stops being true.

Invalidation, without a scan:

- every content type has a generation counter (``api:gen:<type>``); ``content_saved`` (any
  write through the services: publish, edit, archive, unpublish, delete, areas) bumps it at
  once and again when the transaction commits, so a response computed from data read before
  the commit is never served after it. Categories, organizations and areas bump every type;
  venues bump events;
- an entry also ends at the first moment its body changes with time alone: the earliest
  ``expires_at`` (and works' ``end_at``, events' next occurrence end) in the response's item
  set, and at most ``API_CACHE_SECONDS`` after it was made.

A hit costs one cache round trip (generation and entry in one ``get_many``) and no SQL; a
matching ``If-None-Match``/``If-Modified-Since`` gets a 304 from the cache too. Responses to
authenticated requests (API keys, staff sessions) are never read from or written to it, nor
are errors. Positions with more than three decimals (``near``, ``bbox``) are practically
unique, so those responses are not stored: it would fill Redis for no hit.

With Redis unreachable (``apps.core.cache`` fails open) every request is a miss answered
from the database, without ``X-Cache``. A generation that could not be bumped is remembered
by the process and bumped as soon as the cache answers again (before that process reads from
it); other processes may serve an entry made before the outage until it ends, at most
``API_CACHE_SECONDS`` after it was made.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TypeGuard

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseBase
from django.utils.translation import get_language
from rest_framework.request import Request

from apps.core.api.conditional import not_modified, set_validators
from apps.core.api.throttles import cache_read_first
from apps.core.cache import CacheUnavailableError, cache_available, cache_values

GENERATION_KEY = "api:gen:{scope}"
ENTRY_KEY = "api:resp:{digest}"
#: Query parameters holding coordinates; over ``COORDINATE_DECIMALS`` decimals → not stored.
COORDINATE_PARAMETERS = ("near", "bbox")
COORDINATE_DECIMALS = 3
#: Response header telling whether the cache answered (``hit``) or not (``miss``).
CACHE_HEADER = "X-Cache"


def enabled() -> bool:
    return settings.API_CACHE_SECONDS > 0


def _generation_key(scope: str) -> str:
    return GENERATION_KEY.format(scope=scope)


#: Scopes whose bump failed while the cache was unreachable, bumped again once it answers.
_missed_bumps: set[str] = set()
_missed_lock = threading.Lock()


def generation_bump(scope: str) -> None:
    """Invalidate every cached response of ``scope`` (a content type code)."""
    key = _generation_key(scope)
    # A fresh counter starts from the clock, so it never repeats a value an old entry holds.
    cache.add(key, time.time_ns(), timeout=None)
    try:
        cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, time.time_ns(), timeout=None)
    except CacheUnavailableError:
        with _missed_lock:
            _missed_bumps.add(scope)


def _bump_missed() -> bool:
    """Bump the scopes an outage left unbumped; ``True`` if there were some."""
    if not _missed_bumps:
        return False
    with _missed_lock:
        scopes = set(_missed_bumps)
        _missed_bumps.clear()
    for scope in scopes:
        generation_bump(scope)
    return bool(scopes)


def generations_bump(scopes: Iterable[str]) -> None:
    """Bump now and again on commit (see the module docstring)."""
    scopes = list(scopes)
    for scope in scopes:
        generation_bump(scope)

    def again() -> None:
        for scope in scopes:
            generation_bump(scope)

    transaction.on_commit(again)


def _digest(request: Request, scope: str) -> str:
    material = json.dumps(
        [
            scope,
            request.scheme,
            request.get_host(),
            request.path,
            sorted(request.query_params.lists()),
            request.accepted_renderer.format,
            get_language(),
        ]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:40]


def _anonymous(request: Request) -> bool:
    return request.auth is None and not request.user.is_authenticated


def _storable_query(request: Request) -> bool:
    for name in COORDINATE_PARAMETERS:
        for value in request.query_params.getlist(name):
            for number in value.split(","):
                _int, dot, decimals = number.strip().partition(".")
                if dot and len(decimals.rstrip("0")) > COORDINATE_DECIMALS:
                    return False
    return True


def lookup_keys(request: Request, *, scope: str) -> list[str]:
    """The keys ``lookup`` reads (the scope's generation, the entry), or none when the
    request is not answered from the cache: for the throttle to read them in its round trip
    (``apps.core.api.throttles``)."""
    if not enabled() or request.method not in ("GET", "HEAD") or not _anonymous(request):
        return []
    return [_generation_key(scope), ENTRY_KEY.format(digest=_digest(request, scope))]


def lookup(request: Request, *, scope: str) -> HttpResponseBase | None:
    """The cached response (200, or 304 for matching validators), or ``None`` on a miss.

    On a miss the request remembers the key and the generation read now, for ``store``.
    """
    keys = lookup_keys(request, scope=scope)
    if not keys:
        return None
    generation_key, key = keys
    # Read in the throttle's round trip (``cache_keys_read_first``), unless a bump just ran.
    found = cache_values(keys, None if _bump_missed() else cache_read_first(request))
    if not cache_available():  # unreachable: answer from the database, store nothing
        return None
    generation = found.get(generation_key)
    if generation is None:
        cache.add(generation_key, time.time_ns(), timeout=None)
        generation = cache.get(generation_key)
    entry = found.get(key)
    if _readable(entry) and entry["generation"] == generation and entry["until"] > time.time():
        return _replay(request, entry)
    request._response_cache = (key, generation)  # type: ignore[attr-defined]
    return None


#: What ``store`` writes. An entry of another shape (another release sharing the Redis during a
#: rolling deploy, or a hand-made key) is a miss, never a 500; ``store`` then overwrites it.
ENTRY_FIELDS = frozenset(("generation", "until", "body", "content_type", "etag", "last_modified"))


def _readable(entry: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(entry, dict) and entry.keys() >= ENTRY_FIELDS


def _replay(request: Request, entry: dict[str, Any]) -> HttpResponseBase:
    last_modified = (
        datetime.fromtimestamp(entry["last_modified"], UTC)
        if entry["last_modified"] is not None
        else None
    )
    response: HttpResponseBase | None = not_modified(
        request, etag=entry["etag"], last_modified=last_modified
    )
    if response is None:
        response = HttpResponse(entry["body"], content_type=entry["content_type"])
    set_validators(response, etag=entry["etag"], last_modified=last_modified)
    response[CACHE_HEADER] = "hit"
    return response


def store(
    request: Request,
    response: HttpResponseBase,
    *,
    etag: str | None,
    last_modified: datetime | None,
    changes_at: datetime | None,
) -> HttpResponseBase:
    """Store ``response`` once rendered, if ``lookup`` missed it and it is a storable 200."""
    remembered = getattr(request, "_response_cache", None)
    if remembered is None:
        return response
    response[CACHE_HEADER] = "miss"
    if response.status_code != 200 or not _storable_query(request):
        return response
    key, generation = remembered
    now = time.time()
    until = now + settings.API_CACHE_SECONDS
    if changes_at is not None:
        until = min(until, changes_at.timestamp())
    if until <= now + 1:
        return response

    def put(rendered: Any) -> None:
        entry = {
            "generation": generation,
            "until": until,
            "body": rendered.content,
            "content_type": rendered["Content-Type"],
            "etag": etag,
            "last_modified": last_modified.timestamp() if last_modified else None,
        }
        cache.set(key, entry, timeout=max(1, int(until - now)))

    add_callback = getattr(response, "add_post_render_callback", None)
    if add_callback is not None:
        add_callback(put)
    return response


def changes_at(version: dict[str, Any], keys: Iterable[str]) -> datetime | None:
    """The earliest of the version's time boundaries (``keys``), ignoring empty ones."""
    moments = [version[key] for key in keys if version.get(key) is not None]
    return min(moments, default=None)
