"""``GET /api/v1/feed/``: the ranked, explained, mixed feed (anonymous or personal)."""

from __future__ import annotations

import math
import re
import time
from typing import Any

import orjson
from django.conf import settings
from django.http import QueryDict
from django.utils import translation
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from apps.core.api.fragments import FRAGMENTS_HEADER, encode_json, fragments_header
from apps.core.api.params import KnownQueryParams
from apps.core.api.renderers import SplicedJSON, SplicingJSONRenderer
from apps.core.api.throttles import cache_read_first
from apps.core.geo import point
from apps.recommend.online.api.feed_serializers import (
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    FeedPageSerializer,
    FeedQuerySerializer,
)
from apps.recommend.online.feed_service import (
    FeedEntry,
    feed_first_keys,
    feed_page,
    feed_snapshot,
)
from apps.recommend.online.snapshot import (
    CURSOR_MAX_CHARS,
    CursorError,
    PendingWrites,
    cursor_make,
    cursor_open,
)
from apps.residents.api.schema import error_responses
from apps.residents.auth import (
    DeviceScopedRateThrottle,
    OptionalDeviceTokenAuthentication,
    device_of,
)
from apps.residents.models import Device
from apps.residents.rounding import snap_coordinates

LANGUAGES = {code for code, _ in settings.LANGUAGES}
#: Response header: ``ranked`` (a new snapshot), ``shared`` (the cell's), ``cursor`` (a page).
SNAPSHOT_HEADER = "X-Feed-Snapshot"


class OptionalDeviceTokenScheme(OpenApiAuthenticationExtension):
    """The feed's optional bearer token: its own scheme name (a component per class)."""

    target_class = "apps.residents.auth.OptionalDeviceTokenAuthentication"
    name = "optionalDeviceToken"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The device token of POST /api/v1/devices/, optional: without it, "
            "or with an unknown one, the answer is the anonymous feed.",
        }


def request_language(request: Request, device: Device | None) -> str:
    """``Accept-Language`` when the client sends one, else the device's language, else fr."""
    if request.headers.get("Accept-Language"):
        language = translation.get_language_from_request(request._request)
        if language in LANGUAGES:
            return language
    if device is not None and device.language in LANGUAGES:
        return device.language
    return settings.LANGUAGE_CODE


_PLAIN_DEGREES = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,15})?")
_PLAIN_SIZE = re.compile(r"[0-9]{1,3}")


def _plain_float(raw: str | None, limit: float) -> float | None:
    """``raw`` as DRF's ``FloatField`` reads it, when it is a plain decimal within ``limit``
    degrees; ``None`` for anything else (absent, blank, malformed, out of range, spaced)."""
    if raw is None or _PLAIN_DEGREES.fullmatch(raw) is None:
        return None
    value = float(raw)
    return value if -limit <= value <= limit else None


def feed_query(query: QueryDict) -> dict[str, Any]:
    """The feed's query parameters, as ``FeedQuerySerializer`` validates them.

    The usual query (plain decimals, a page size, an ASCII cursor) is read here directly:
    the serializer costs a few tenths of a millisecond per request, a fair share of a feed
    page. Anything else (a missing half of ``lat``/``lon``, out of range, blank, padded,
    malformed) goes through the serializer, which answers the same values and the same 400s.
    """
    params: dict[str, Any] = {"page_size": PAGE_SIZE_DEFAULT}
    plain = True
    if "lat" in query or "lon" in query:
        lat, lon = _plain_float(query.get("lat"), 90), _plain_float(query.get("lon"), 180)
        plain = lat is not None and lon is not None
        params.update(lat=lat, lon=lon)
    if plain and "page_size" in query:
        raw = str(query["page_size"])
        size = int(raw) if _PLAIN_SIZE.fullmatch(raw) else 0
        plain = 1 <= size <= PAGE_SIZE_MAX
        params["page_size"] = size
    if plain and "cursor" in query:
        cursor = str(query["cursor"])
        plain = 0 < len(cursor) <= CURSOR_MAX_CHARS and cursor.isascii() and "\x00" not in cursor
        params["cursor"] = cursor
    if plain:
        return params
    serializer = FeedQuerySerializer(data=query)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _entry_members(entry: FeedEntry) -> bytes:
    """``"score":…,"reasons":[…]`` (and ``"ranker"``) of a page entry, as ``encode_json``
    spells them, without its walk over every value: a score rounded to 4 decimals and plain
    strings are what orjson and DRF's encoder spell alike; other scores take ``encode_json``."""
    score = round(entry.score, 4)
    members: dict[str, Any] = {
        "score": score,
        "reasons": [{"code": r.code, "text": r.text} for r in entry.reasons],
    }
    if entry.ranker:  # interleaved pages only (per request, never in the fragments)
        members["ranker"] = entry.ranker
    if not (math.isfinite(score) and (score == 0 or 1e-4 <= abs(score) < 1e16)):
        return encode_json(members)[1:-1]
    try:
        out = orjson.dumps(members)
    except TypeError:  # a lone surrogate: DRF's encoder decides
        return encode_json(members)[1:-1]
    if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:  # escaped by DRF, as encode_json does
        return encode_json(members)[1:-1]
    return out[1:-1]


class FeedView(KnownQueryParams, APIView):
    """Anonymous callers get the feed around ``lat``/``lon``; a device token personalises it."""

    authentication_classes = [OptionalDeviceTokenAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [DeviceScopedRateThrottle]
    throttle_scope = "feed"
    renderer_classes = [SplicingJSONRenderer]
    query_params_allowed = frozenset({"lat", "lon", "page_size", "cursor"})

    #: The query read by ``cache_keys_read_first`` (the throttle's), kept for ``get``.
    _params: dict[str, Any] | None = None

    def cache_keys_read_first(self, request: Request) -> list[str]:
        """A first page's first cache reads (``feed_first_keys``), for the throttle to read in
        its round trip (``apps.core.api.throttles``); none for a cursor or a bad query (the
        400 comes from ``get``)."""
        try:
            params = self._params = feed_query(request.query_params)
        except ValidationError:
            return []
        if "cursor" in params:
            return []
        here = None if "lat" not in params else snap_coordinates(params["lon"], params["lat"])
        return feed_first_keys(device_of(request), here)

    @extend_schema(
        operation_id="feed",
        summary="The ranked feed: news, works and events for this resident",
        description=(
            "Mixed news, roadworks and events ranked for the caller, each with a `score` and "
            "`reasons` (true facts: '350 m from Home', 'You follow Culture', 'Starts "
            "tomorrow') in the request's language (`Accept-Language`, else the device's).\n\n"
            "- **Anonymous** (no token, or an unknown one): the non-personalised feed around "
            "`lat`/`lon`, or city-wide without them. The point is rounded to the 0.001° grid "
            "of saved places (about 100 m), and a cell's feed is shared by its callers for a "
            "minute.\n"
            "- **Device token with personalisation accepted**: ranked for its places (no "
            "`lat`/`lon` needed), follows and history; dismissed items and their "
            "near-duplicates never come back.\n"
            "- **Device without consent**: the non-personalised feed; nothing is recorded.\n\n"
            "Active alerts about the caller come first. Expired or finished items never "
            "appear. Pages come from a snapshot taken by the first request: follow `next` "
            "(valid 30 minutes) to scroll without duplicates or gaps; request without "
            "`cursor` to refresh. An expired or altered cursor is a 400.\n\n"
            "On a small share of personal feeds (online evaluation) each item also carries "
            "`ranker`, an opaque token: send it back as `ranker` with that item's "
            "interactions."
        ),
        parameters=[
            FeedQuerySerializer,
            OpenApiParameter(
                "Accept-Language",
                str,
                OpenApiParameter.HEADER,
                enum=["fr", "en"],
                description="Language of titles and reasons (default: the device's, else fr).",
            ),
        ],
        responses={200: FeedPageSerializer, **error_responses(400, 429)},
        tags=["feed"],
    )
    def get(self, request: Request) -> Response:
        started = time.time()
        params = self._params if self._params is not None else feed_query(request.query_params)
        device = device_of(request)
        language = request_language(request, device)
        size = params["page_size"]
        with translation.override(language):
            if "cursor" in params:
                try:
                    snapshot, offset = cursor_open(
                        params["cursor"], device_id=device.pk if device else None
                    )
                except CursorError as error:
                    raise ValidationError({"cursor": [str(error)]}) from None
                writes = PendingWrites()
            else:
                here = None
                if "lat" in params:  # on the grid of saved places (~100 m): shared, coarse
                    here = point(*snap_coordinates(params["lon"], params["lat"]))
                snapshot, writes = feed_snapshot(
                    device=device, point=here, known=cache_read_first(request)
                )
                offset = 0
            first = "cursor" not in params
            page = feed_page(
                snapshot,
                offset=offset,
                size=size,
                language=language,
                fresh=first,
                ranked_now=first and snapshot.now_s >= started,
                # A ranked snapshot is saved in the round trip that reads the page's items.
                before=writes.attach if writes.pending else None,
            )
            writes.flush()
            # Each item's pre-rendered JSON, then the per-request members (as serialize_items'
            # dict with "score" and "reasons" added last would render).
            results = [entry.item.json(extra=_entry_members(entry)) for entry in page.entries]
        url = request.build_absolute_uri()

        def link(offset: int | None) -> str | None:
            if offset is None:
                return None
            return replace_query_param(url, "cursor", cursor_make(snapshot, offset))

        envelope = encode_json(
            {
                "next": link(page.next_offset),
                "previous": link(page.previous_offset),
                "personalized": snapshot.personalized,
                "ranker": snapshot.ranker,
                "results": [],
            }
        )
        response = Response(SplicedJSON(envelope[:-3] + b"[" + b",".join(results) + b"]}"))
        response["Cache-Control"] = "private, no-store"
        response[FRAGMENTS_HEADER] = fragments_header(entry.item for entry in page.entries)
        # Whether this first page was ranked for it or came from the cell's shared snapshot
        # (built before this request began): the bench's cache-hit rate (bench/feed_bench.py).
        if "cursor" in params:
            response[SNAPSHOT_HEADER] = "cursor"
        else:
            response[SNAPSHOT_HEADER] = "shared" if snapshot.now_s < started else "ranked"
        response["Content-Language"] = language
        response["Vary"] = "Accept-Language, Authorization"
        return response
