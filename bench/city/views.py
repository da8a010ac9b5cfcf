"""Diagnostics endpoints: the reference points a load test compares the API with.

Both answer 404 unless ``API_DIAGNOSTICS`` is on, and stay out of the OpenAPI schema. They
take the same path through Django and DRF as the public reads (middleware, content
negotiation, the per-IP ``anon`` throttle), so a ratio to them isolates what an endpoint does.

- ``GET /api/v1/diagnostics/ceiling/``: a constant small JSON body, no SQL — the framework's
  own cost per request, the most a process can serve.
- ``GET /api/v1/diagnostics/plain-items/?lat=&lon=``: 20 live items (the newest of each type,
  mixed as a feed mixes them) loaded with the list selectors and serialized with the list
  serializers (``items_fetch``/``serialize_items``), with ``distance_m`` when a point is given;
  no filters, ranking, ETag or cache. This is "a plain list endpoint serializing the same 20
  items" of architecture.md §8, against which the feed's throughput is judged.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.items import list_item_types, list_queryset, serialize_items
from apps.core.api.params import LatLonField
from apps.core.api.throttles import PublicReadThrottle

#: Items per response, split over the types as evenly as possible.
PLAIN_ITEMS = 20


class _DiagnosticsView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [PublicReadThrottle]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if not settings.API_DIAGNOSTICS:
            raise Http404
        super().initial(request, *args, **kwargs)


@extend_schema(exclude=True)
class CeilingView(_DiagnosticsView):
    """A constant body: what one request costs the framework alone."""

    body = {"status": "ok", "items": [{"type": "news", "id": n} for n in range(3)]}

    def get(self, request: Request) -> Response:
        return Response(self.body)


@extend_schema(exclude=True)
class PlainItemsView(_DiagnosticsView):
    """The newest live items of each type, serialized as list items (3 queries)."""

    def get(self, request: Request) -> Response:
        near = None
        if "lat" in request.query_params or "lon" in request.query_params:
            value = f"{request.query_params.get('lat', '')},{request.query_params.get('lon', '')}"
            try:
                near = LatLonField().clean(value)
            except forms.ValidationError as exc:
                raise ValidationError({"lat": exc.messages}) from exc
        types = list(list_item_types())
        items: list[Any] = []
        for index, type_code in enumerate(types):
            share = PLAIN_ITEMS // len(types) + (index < PLAIN_ITEMS % len(types))
            queryset = list_queryset(type_code, near=near).order_by("-publish_at", "-id")
            items.extend(queryset[:share])
        return Response({"results": serialize_items(items, request=request)})
