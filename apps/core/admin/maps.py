"""The admin maps' own data, so that they show the city with no tile server (staff only, JSON).

- ``GET /admin/map/areas.geojson``: the communes and districts, outlines simplified to about a
  metre, each with a label point; cached, keyed by the areas' version (count, last change).
- ``GET /admin/map/streets.geojson``: the geocoder's streets, drawn the same way (served by
  ``apps.interop.geocoding.views``: the core does not know streets).
- ``POST /admin/map/reach/``: a drawn GeoJSON geometry (at most ``REACH_MAX_BYTES`` and
  ``API_GEOMETRY_MAX_VERTICES`` vertices, checked as the API checks geometries) → the areas it
  touches, computed by the database exactly as when the item is saved
  (``area_list_touching``: ``ST_Intersects`` on PostGIS and on SpatiaLite).

The map script (``admin/quartier/map.js``) draws the overlays under the drawing, and lists the
touched areas under the map as the editor draws.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from django.contrib import admin
from django.contrib.gis.geos import GEOSGeometry
from django.core.cache import cache
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ParseError
from rest_framework.exceptions import ValidationError as DRFValidationError

from apps.core.api.fields import geojson_geometry, parse_geojson_geometry
from apps.core.api.parsers import json_parse
from apps.core.models import Area
from apps.core.selectors import area_list_touching

#: Largest drawn geometry accepted, in bytes of GeoJSON (a 5,000-vertex line is ~120 KB).
REACH_MAX_BYTES = 256 * 1024
#: Simplification of the overlays, in degrees (1e-5° ≈ 1 m): invisible at street zoom.
OVERLAY_TOLERANCE_DEG = 1e-5
#: Decimals kept in the overlays' coordinates (6 ≈ 0.1 m).
OVERLAY_PRECISION = 6
#: The areas' overlay is keyed by their version, so a long life only saves work.
AREAS_CACHE_S = 24 * 3600
GEOJSON = "application/geo+json"


def overlay_geometry(geometry: GEOSGeometry) -> dict[str, Any]:
    simplified = geometry.simplify(OVERLAY_TOLERANCE_DEG, preserve_topology=True)
    return geojson_geometry(simplified, precision=OVERLAY_PRECISION)


def overlay_label(geometry: GEOSGeometry) -> list[float]:
    point = geometry.point_on_surface
    return [round(point.x, OVERLAY_PRECISION), round(point.y, OVERLAY_PRECISION)]


def areas_overlay() -> bytes:
    """Every area as a GeoJSON feature: outline, name, kind and a point to write the name."""
    features = [
        {
            "type": "Feature",
            "id": area.pk,
            "geometry": overlay_geometry(area.geometry),
            "properties": {
                "slug": area.slug,
                "name": area.name,
                "kind": area.kind,
                "label": overlay_label(area.geometry),
            },
        }
        for area in Area.objects.order_by("kind", "name", "id")
    ]
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def cached_geojson(request: HttpRequest, key: str, build: Any, timeout_s: int) -> HttpResponse:
    """The overlay under ``key`` (built on a miss), with an ETag the browser revalidates."""
    etag = f'"{hashlib.sha256(key.encode()).hexdigest()[:20]}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        body = cache.get(key)
        if body is None:
            body = build()
            cache.set(key, body, timeout_s)
        response = HttpResponse(body, content_type=GEOJSON)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
def map_areas(request: HttpRequest) -> HttpResponse:
    version = Area.objects.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
    last = version["last"].isoformat() if version["last"] else "-"
    key = f"admin-map:areas:{version['n']}:{version['top']}:{last}"
    return cached_geojson(request, key, areas_overlay, AREAS_CACHE_S)


@require_POST
def map_reach(request: HttpRequest) -> JsonResponse:
    raw = request.read(REACH_MAX_BYTES + 1)
    if len(raw) > REACH_MAX_BYTES:
        message = _("Tracé trop volumineux (%(n)d Kio au plus).") % {"n": REACH_MAX_BYTES // 1024}
        return _json({"error": "too_large", "message": message}, status=413)
    if not raw.strip():
        message = _("Envoyez le tracé en GeoJSON.")
        return _json({"error": "invalid", "message": message}, status=400)
    try:
        value = json_parse(raw)
        if isinstance(value, dict) and value.get("type") == "Feature":
            value = value.get("geometry")
        geometry = parse_geojson_geometry(value)
    except ParseError as exc:
        return _json({"error": "invalid", "message": str(exc.detail)}, status=400)
    except DRFValidationError as exc:
        detail: Any = exc.detail
        message = str(detail[0] if isinstance(detail, list) and detail else detail)
        return _json({"error": "invalid", "message": message}, status=400)
    areas = [
        {"id": area.pk, "slug": area.slug, "name": area.name, "kind": area.kind}
        for area in area_list_touching(geometry=geometry).only("id", "slug", "name", "kind")
    ]
    return _json({"areas": areas})


def _json(body: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("areas.geojson", admin.site.admin_view(map_areas), name="staff-map-areas"),
    path("reach/", admin.site.admin_view(map_reach), name="staff-map-reach"),
]
