"""The open roadworks feeds: WZDx 4.2 GeoJSON, Waze CIFS v2 XML, DATEX II v3 XML.

Public and cacheable: ``ETag``/``Last-Modified`` from one aggregate query (304 costs nothing
else), ``updated_since`` for incremental reads, at most ``MAX_FEED_WORKS`` works. The rows come
from the works API's own public selector (``works_list``), so a feed shows exactly what the API
shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import Count, Max
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.core.api.conditional import etag_for, not_modified, set_validators
from apps.core.api.params import KnownQueryParams
from apps.core.api.schema import RawResponseSchema
from apps.core.api.throttles import PublicReadThrottle
from apps.core.api.writes import SafeDateTimeField
from apps.interop.cifs.export import incidents
from apps.interop.datex2.export import publication
from apps.interop.selectors import MAX_FEED_WORKS, works_for_feeds
from apps.interop.wzdx.export import feed
from apps.works.models import Works


class FeedQuerySerializer(serializers.Serializer):
    updated_since = SafeDateTimeField(required=False)


UPDATED_SINCE = OpenApiParameter(
    "updated_since",
    OpenApiTypes.DATETIME,
    description="Only works changed at or after this ISO 8601 time (inclusive). Removed "
    "works are listed by `/api/v1/removed/?type=works`.",
)


class _FeedView(KnownQueryParams, APIView):
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = (PublicReadThrottle,)
    query_params_allowed = frozenset({"updated_since"})
    content_type: ClassVar[str] = ""
    fmt: ClassVar[str] = ""

    def render(self, works: list[Works], *, updated_at: Any) -> bytes:
        raise NotImplementedError

    def get(self, request: Request) -> HttpResponse:
        query = FeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        queryset = works_for_feeds(updated_since=query.validated_data.get("updated_since"))
        version = queryset.order_by().aggregate(count=Count("pk"), updated=Max("updated_at"))
        # The feeds list the occurrences still to come: they also change as the hours pass.
        version["hour"] = timezone.now().strftime("%Y-%m-%dT%H")
        etag = etag_for(request, version, fmt=self.fmt)
        last_modified = version["updated"]
        cached = not_modified(request, etag=etag, last_modified=last_modified)
        if cached is not None:
            return set_validators(cached, etag=etag, last_modified=last_modified)  # type: ignore[return-value]
        works = list(queryset.select_related("organization")[:MAX_FEED_WORKS])
        body = self.render(works, updated_at=last_modified or timezone.now())
        response = HttpResponse(body, content_type=self.content_type)
        set_validators(response, etag=etag, last_modified=last_modified)
        return response


def _feed_schema(*, operation_id: str, summary: str, description: str, media: str) -> Callable:
    """The OpenAPI description of a feed view's inherited ``get``."""
    return extend_schema_view(
        get=extend_schema(
            operation_id=operation_id,
            summary=summary,
            description=description,
            tags=["feeds"],
            parameters=[UPDATED_SINCE],
            responses={
                (200, media): RawResponseSchema(
                    {"type": "object"} if "json" in media else {"type": "string", "format": "xml"}
                ),
                304: OpenApiResponse(description="Not modified (`If-None-Match` matched)."),
            },
        )
    )


@_feed_schema(
    operation_id="feeds_works_wzdx",
    summary="Roadworks as a WZDx 4.2 work zone feed (GeoJSON)",
    description=(
        "Published roadworks as a WZDx 4.2 `WorkZoneFeed`: one `work-zone` road event per "
        "occurrence and line, `detour` road events for detours, lon/lat, dates in UTC. "
        "Navigation apps and road-data aggregators read it to route around work zones "
        "(closed lanes, restrictions, speed limits). docs/interop.md has the mapping."
    ),
    media="application/geo+json",
)
class WzdxFeedView(_FeedView):
    content_type = "application/geo+json"
    fmt = "wzdx"

    def render(self, works: list[Works], *, updated_at: Any) -> bytes:
        document = feed(works, updated_at=updated_at, since=timezone.now())
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


@_feed_schema(
    operation_id="feeds_works_cifs",
    summary="Roadworks as a Waze CIFS v2 feed (XML)",
    description=(
        "Planned and active roadworks as Waze CIFS v2 `incidents`: `ROAD_CLOSED` for "
        "closures, `CONSTRUCTION` otherwise, `polyline` latitude first, weekly `schedule`. "
        "Register its URL in Waze for Cities (Partner Hub) so that Waze shows the "
        "closures and routes around them."
    ),
    media="application/xml",
)
class CifsFeedView(_FeedView):
    content_type = "application/xml; charset=utf-8"
    fmt = "cifs"

    def render(self, works: list[Works], *, updated_at: Any) -> bytes:
        return incidents(works, updated_at=updated_at)


@_feed_schema(
    operation_id="feeds_works_datex2",
    summary="Roadworks' traffic regulations as DATEX II v3 (XML)",
    description=(
        "Planned and active roadworks as a DATEX II v3 `TrafficRegulationPublication` with "
        "DiaLog's measure types (no entry, speed limit, parking prohibited, alternating "
        "lane, vehicle characteristics) and validity periods; GML `posList` latitude "
        "first. GPS makers and traffic centres that read DiaLog's export read this too."
    ),
    media="application/xml",
)
class Datex2FeedView(_FeedView):
    content_type = "application/xml; charset=utf-8"
    fmt = "datex2"

    def render(self, works: list[Works], *, updated_at: Any) -> bytes:
        return publication(works, updated_at=updated_at, feed_id="quartier-works")
