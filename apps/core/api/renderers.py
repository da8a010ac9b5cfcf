"""Response formats: JSON, GeoJSON (RFC 7946) and iCalendar (RFC 5545), and their negotiation.

GeoJSON is chosen with ``?format=geojson`` or ``Accept: application/geo+json``. A page of a
list becomes a ``FeatureCollection`` whose pagination travels in foreign members (``count``,
``next``, ``previous``, allowed by RFC 7946 §6.1); a single item becomes a ``Feature``. Each
feature's ``id`` is the item id, its ``geometry`` the item geometry (lon/lat, WGS 84, no
``crs`` member) and its ``properties`` every other field. Error bodies are always plain JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response


def feature(item: dict[str, Any]) -> dict[str, Any]:
    """One list or detail item as a GeoJSON Feature."""
    properties = {key: value for key, value in item.items() if key != "geometry"}
    return {
        "type": "Feature",
        "id": item.get("id"),
        "geometry": item.get("geometry"),
        "properties": properties,
    }


def feature_collection(page: dict[str, Any]) -> dict[str, Any]:
    """A paginated list body as a FeatureCollection with pagination in foreign members."""
    return {
        "type": "FeatureCollection",
        "count": page.get("count"),
        "next": page.get("next"),
        "previous": page.get("previous"),
        "features": [feature(item) for item in page.get("results", [])],
    }


class SplicedJSON(Mapping[str, Any]):
    """A response body already rendered as JSON bytes (spliced from item fragments).

    ``SplicingJSONRenderer`` sends ``body`` as it is; reading it as a mapping (tests, the
    response cache's debugging) parses it once.
    """

    def __init__(self, body: bytes) -> None:
        self.body = body
        self._parsed: dict[str, Any] | None = None

    def _data(self) -> dict[str, Any]:
        if self._parsed is None:
            self._parsed = orjson.loads(self.body)
        return self._parsed

    def __getitem__(self, key: str) -> Any:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())


class SplicingJSONRenderer(JSONRenderer):
    """DRF's JSON renderer that sends a ``SplicedJSON`` body as it is (no re-encoding)."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, SplicedJSON):
            return data.body
        return super().render(data, accepted_media_type, renderer_context)


class GeoJSONRenderer(JSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        response = (renderer_context or {}).get("response")
        is_error = response is not None and response.status_code >= 400
        if isinstance(data, dict) and not is_error:
            if "results" in data:
                data = feature_collection(data)
            elif "id" in data:
                data = feature(data)
        return super().render(data, accepted_media_type, renderer_context)


class ICalendarRenderer(BaseRenderer):
    """Renders the ``bytes`` of an ``icalendar.Calendar`` as ``text/calendar``."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return JSONRenderer().render(data, accepted_media_type, renderer_context)


class StrictFormatNegotiation(DefaultContentNegotiation):
    """An unknown ``?format=`` is a 400 with the error shape (DRF would answer 404)."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: Any = None
    ) -> Any:
        requested = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        renderers = list(renderers)
        formats = [str(renderer.format) for renderer in renderers]
        if requested and requested not in formats:
            known = ", ".join(formats)
            raise exceptions.ValidationError(
                {
                    "format": [
                        _("Format inconnu « %(f)s » ; formats possibles : %(k)s.")
                        % {"f": requested, "k": known}
                    ]
                }
            )
        return super().select_renderer(request, renderers, format_suffix)


class FirstRendererNegotiation(DefaultContentNegotiation):
    """Serve the view's only format whatever the ``Accept`` header (iCalendar feeds)."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: Any = None
    ) -> Any:
        first = next(iter(renderers))
        return first, first.media_type


class JsonErrorsMixin:
    """Error responses are JSON (the error shape) whatever format the request negotiated."""

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if (
            isinstance(response, Response)
            and response.status_code >= 400
            and type(response.accepted_renderer) is not JSONRenderer
        ):
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        return response
