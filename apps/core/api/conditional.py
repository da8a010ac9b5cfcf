"""Validators for conditional GETs: ``ETag``/``Last-Modified`` and 304, computed cheaply.

A content list or detail is described by a *version*: one aggregate query over the filtered
items (how many, the latest ``updated_at``, plus what a type adds, e.g. when the next event
date passes). The ETag hashes that version with everything else the body depends on — path,
query string, language, format — so a 304 costs that single query and no serialization. Any
write bumps ``updated_at``, and an item leaving the set changes the count.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.http import HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language
from rest_framework.request import Request

#: Clients may keep responses but must revalidate them (with If-None-Match) before use.
CACHE_CONTROL = "no-cache"


def etag_for(request: Request, version: Mapping[str, Any], *, fmt: str) -> str:
    """A weak ETag for the response to ``request`` given the data ``version``."""
    material = json.dumps(
        {
            "path": request.path,
            "query": sorted(request.query_params.lists()),
            "language": get_language(),
            "format": fmt,
            "version": version,
        },
        sort_keys=True,
        default=str,
    )
    return 'W/"' + hashlib.sha256(material.encode()).hexdigest()[:32] + '"'


def not_modified(
    request: Request, *, etag: str, last_modified: datetime | None
) -> HttpResponseBase | None:
    """A 304 when the client's validators still match, else ``None``."""
    timestamp = int(last_modified.timestamp()) if last_modified else None
    return get_conditional_response(request, etag=etag, last_modified=timestamp)


def set_validators(
    response: HttpResponseBase, *, etag: str | None, last_modified: datetime | None
) -> HttpResponseBase:
    if etag:
        response["ETag"] = etag
    if last_modified:
        response["Last-Modified"] = http_date(last_modified.timestamp())
    response["Cache-Control"] = CACHE_CONTROL
    patch_vary_headers(response, ("Accept", "Accept-Language"))
    return response


def content_etag(request: Request, body: bytes) -> str:
    """A weak ETag from a rendered body, for small responses (taxonomy lists)."""
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
