"""``GET /api/v1/geocode/?q=``: a geocoding proxy for app developers; it stores and logs nothing.

Optional (``GEOCODER_API_ENABLED``, else 404), rate-limited per client IP (scope ``geocode``,
``GEOCODER_API_RATE``), answered with ``Cache-Control: no-store``. The query is an address,
maybe a resident's own: it is kept out of the access log (``backend/access_log.py`` redacts
``q`` on this path) and out of every other log and table. A remote backend that fails answers
502 (or 504 on a timeout), never the built-in fallback, so that an app sees the outage.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.errors import error_body
from apps.core.api.params import KnownQueryParams
from apps.core.api.schema import ErrorSerializer
from apps.core.api.throttles import PublicReadThrottle
from apps.interop.geocoding.backends import MAX_QUERY, MAX_RESULTS, GeocoderError
from apps.interop.geocoding.services import GeocodingOffError, geocode


class GeocodeThrottle(PublicReadThrottle):
    """Scope ``geocode``: per client IP, at ``GEOCODER_API_RATE``."""

    scope = "geocode"


class GeocodeQuerySerializer(serializers.Serializer):
    q = serializers.CharField(min_length=3, max_length=MAX_QUERY, trim_whitespace=True)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_RESULTS, default=5)
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False)
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("lat" in attrs) != ("lon" in attrs):
            raise serializers.ValidationError({"lat": [_("Donnez lat et lon ensemble.")]})
        return attrs


EXAMPLE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [4.8357, 45.764]},
            "properties": {
                "label": "rue de la République, 69990 Lyonnay",
                "kind": "street",
                "score": 1.0,
                "postcode": "69990",
                "city": "Lyonnay",
            },
        }
    ],
    "backend": "builtin",
}


class GeocodeView(KnownQueryParams, APIView):
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = (GeocodeThrottle,)
    query_params_allowed = frozenset({"q", "limit", "lat", "lon"})

    @extend_schema(
        operation_id="geocode",
        tags=["geocoding"],
        summary="Geocode an address or a street name",
        description="A proxy to the city's geocoder (Géoplateforme, addok or the built-in "
        "search over the city's own streets, venues and areas). Stores and logs nothing. "
        "Rate-limited per client IP; 404 when the city has not enabled it.",
        parameters=[
            OpenApiParameter(
                "q", OpenApiTypes.STR, required=True, description="3 to 200 characters."
            ),
            OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 10, default 5."),
            OpenApiParameter("lat", OpenApiTypes.DOUBLE, description="Prefer places near here."),
            OpenApiParameter("lon", OpenApiTypes.DOUBLE, description="With `lat`."),
        ],
        responses={
            200: OpenApiResponse(
                response=inline_serializer(
                    "GeocodeFeatureCollection",
                    {
                        "type": serializers.CharField(),
                        "features": serializers.ListField(child=serializers.DictField()),
                        "backend": serializers.CharField(),
                    },
                ),
                examples=[OpenApiExample("rue de la République", value=EXAMPLE)],
            ),
            400: OpenApiResponse(
                ErrorSerializer, description="Missing or invalid `q`, `limit`, `lat`/`lon`."
            ),
            404: OpenApiResponse(
                ErrorSerializer, description="Geocoding is not enabled by this city."
            ),
            429: OpenApiResponse(
                ErrorSerializer, description="Too many requests: wait `Retry-After` seconds."
            ),
            502: OpenApiResponse(ErrorSerializer, description="The remote geocoder failed."),
            504: OpenApiResponse(
                ErrorSerializer, description="The remote geocoder did not answer in time."
            ),
        },
    )
    def get(self, request: Request) -> Response:
        params = GeocodeQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        near = (data["lon"], data["lat"]) if "lat" in data else None
        try:
            answer = geocode(query=data["q"], limit=data["limit"], near=near, fallback=False)
        except GeocodingOffError:
            raise Http404 from None
        except GeocoderError as exc:
            timeout = "temps" in str(exc)
            return _no_store(
                Response(
                    error_body("geocoder_timeout" if timeout else "geocoder_error", str(exc)),
                    status=504 if timeout else 502,
                )
            )
        body = {
            "type": "FeatureCollection",
            "features": [place.feature() for place in answer.places],
            "backend": answer.backend,
        }
        return _no_store(Response(body))

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if not settings.GEOCODER_API_ENABLED:
            raise Http404
        super().initial(request, *args, **kwargs)


def _no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"
    return response
