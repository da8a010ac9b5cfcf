"""``GET /admin/geocode/?q=``: the staff map search box's geocoder (JSON, staff only); and
``GET /admin/map/streets.geojson``: the streets drawn on the admin maps when there are no tiles.

For the admin map widgets: type a street or an address, get places to move the map to. Same
``geocode`` service and answer shape as the public proxy, but always on (unless
``GEOCODER_BACKEND=off``) and falling back to the built-in search when a remote backend fails
(``fallback`` in the answer says why). Nothing is stored or logged.
"""

from __future__ import annotations

import orjson
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.core.admin.maps import cached_geojson, overlay_geometry, overlay_label
from apps.interop.geocoding.backends import MAX_QUERY, MAX_RESULTS
from apps.interop.geocoding.models import Street
from apps.interop.geocoding.services import GeocodingOffError, geocode

#: Streets drawn at most (the first by name); ``truncated`` in the answer says when more exist.
OVERLAY_STREETS_MAX = 5000
#: Streets have no modification time: a re-imported street's new line shows within this delay.
STREETS_CACHE_S = 600


@require_GET
def staff_geocode(request: HttpRequest) -> JsonResponse:
    query = request.GET.get("q", "").strip()
    if not 3 <= len(query) <= MAX_QUERY:
        message = _("Tapez de 3 à %(n)d caractères.") % {"n": MAX_QUERY}
        return _json({"error": "invalid", "message": message}, status=400)
    limit_text = request.GET.get("limit", "5")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_RESULTS:
        message = _("limit : de 1 à %(n)d.") % {"n": MAX_RESULTS}
        return _json({"error": "invalid", "message": message}, status=400)
    try:
        answer = geocode(query=query, limit=int(limit_text), fallback=True)
    except GeocodingOffError:
        message = _("Le géocodage est désactivé (GEOCODER_BACKEND=off).")
        return _json({"error": "not_found", "message": message}, status=404)
    return _json(
        {
            "type": "FeatureCollection",
            "features": [place.feature() for place in answer.places],
            "backend": answer.backend,
            "fallback": answer.fallback_reason,
        }
    )


def _json(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


def streets_overlay() -> bytes:
    """The streets (``OVERLAY_STREETS_MAX`` at most) as GeoJSON lines with their names."""
    streets = list(
        Street.objects.only("id", "name", "geometry").order_by("name", "id")[
            : OVERLAY_STREETS_MAX + 1
        ]
    )
    features = [
        {
            "type": "Feature",
            "id": street.pk,
            "geometry": overlay_geometry(street.geometry),
            "properties": {"name": street.name, "label": overlay_label(street.geometry)},
        }
        for street in streets[:OVERLAY_STREETS_MAX]
    ]
    return orjson.dumps(
        {
            "type": "FeatureCollection",
            "features": features,
            "truncated": len(streets) > OVERLAY_STREETS_MAX,
        }
    )


@require_GET
def staff_streets_overlay(request: HttpRequest) -> HttpResponse:
    """The streets overlay, cached by the streets' count and newest id (``STREETS_CACHE_S``)."""
    version = Street.objects.aggregate(n=Count("id"), top=Max("id"))
    key = f"admin-map:streets:{version['n']}:{version['top']}"
    return cached_geojson(request, key, streets_overlay, STREETS_CACHE_S)
