"""A cache of rendered site responses (pages, maps, feeds, widgets), invalidated like the API's.

It keys on what the body depends on: scheme, host, path, the known query parameters and the
language. An entry holds the generations of the content types it was built from (the API
response cache's counters, ``api:gen:<type>``, bumped by every write through the services,
by taxonomy and venue changes: ``apps.core.receivers``) and the moment its body changes with
time alone (an item expiring, works ending); it is served only while both still hold. A hit
costs one cache round trip and no SQL; ``If-None-Match`` with the stored ETag gets a 304.

Only 200s are stored. With Redis unreachable (``apps.core.cache`` fails open) every request
is built from the database.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

from apps.core.api.response_cache import CACHE_HEADER, GENERATION_KEY
from apps.core.cache import cache_available

ENTRY_KEY = "site:page:{digest}"


@dataclass
class Built:
    """A response body made by a view, with what the cache needs to know about it."""

    body: bytes | str
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    #: When the body changes with time alone (the earliest expiry among its items).
    changes_at: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _etag(body: bytes) -> str:
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _digest(request: HttpRequest, parts: Sequence[Any]) -> str:
    material = json.dumps([request.scheme, request.get_host(), request.path, *parts], default=str)
    return hashlib.sha256(material.encode()).hexdigest()[:40]


def _matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    wanted = {tag.removeprefix("W/") for tag in parse_etags(header)}
    return "*" in wanted or etag.removeprefix("W/") in wanted


def _respond(
    request: HttpRequest, entry: dict[str, Any], *, cache_control: str, hit: str | None
) -> HttpResponseBase:
    response: HttpResponseBase
    if entry["status"] == 200 and _matches(request, entry["etag"]):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(
            entry["body"], content_type=entry["content_type"], status=entry["status"]
        )
    for name, value in entry["headers"].items():
        response[name] = value
    response["ETag"] = entry["etag"]
    response["Cache-Control"] = cache_control
    patch_vary_headers(response, ("Accept-Language",))
    if hit is not None:
        response[CACHE_HEADER] = hit
    return response


def _generations(scopes: Sequence[str], found: dict[str, Any]) -> list[Any]:
    values = []
    for scope in scopes:
        key = GENERATION_KEY.format(scope=scope)
        value = found.get(key)
        if value is None:
            # A fresh counter starts from the clock (as the API's): it never repeats a value.
            cache.add(key, time.time_ns(), timeout=None)
            value = cache.get(key)
        values.append(value)
    return values


def cached(
    request: HttpRequest,
    *,
    scopes: Sequence[str],
    key: Sequence[Any],
    build: Callable[[], Built],
    cache_control: str,
) -> HttpResponseBase:
    """The response ``build`` makes, from the cache while none of ``scopes`` changed.

    ``key``: what else the body depends on (language, normalised query parameters).
    """
    seconds = settings.SITE_CACHE_SECONDS
    entry_key = ENTRY_KEY.format(digest=_digest(request, key))
    generations: list[Any] | None = None
    if seconds > 0:
        keys = [GENERATION_KEY.format(scope=scope) for scope in scopes]
        found = cache.get_many([*keys, entry_key])
        if cache_available():
            generations = _generations(scopes, found)
            entry = found.get(entry_key)
            if (
                isinstance(entry, dict)
                and entry.get("generations") == generations
                and entry.get("until", 0) > time.time()
            ):
                return _respond(request, entry, cache_control=cache_control, hit="hit")
    built = build()
    body = built.body.encode() if isinstance(built.body, str) else built.body
    entry = {
        "generations": generations,
        "body": body,
        "content_type": built.content_type,
        "status": built.status,
        "headers": built.headers,
        "etag": _etag(body),
    }
    if generations is not None and built.status == 200:
        now = time.time()
        until = now + seconds
        if built.changes_at is not None:
            until = min(until, built.changes_at.timestamp())
        if until > now + 1:
            entry["until"] = until
            cache.set(entry_key, entry, timeout=max(1, int(until - now)))
    return _respond(
        request,
        entry,
        cache_control=cache_control,
        hit="miss" if generations is not None else None,
    )
