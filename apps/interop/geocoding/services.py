"""Geocode a query with the configured backend; the built-in one answers when a remote fails.

``geocode`` is the one entry point: the public proxy (``/api/v1/geocode/``) and the staff
search box (``/admin/geocode/``) both call it. It stores nothing and logs nothing of the query.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.geos import MultiLineString

from apps.interop.geocoding.backends import (
    MAX_QUERY,
    MAX_RESULTS,
    BuiltinBackend,
    GeocoderError,
    Place,
    configured_backend,
)
from apps.interop.geocoding.models import Street
from apps.interop.geocoding.text import normalise


class GeocodingOffError(Exception):
    """``GEOCODER_BACKEND=off``."""


@dataclass
class Answer:
    places: list[Place]
    backend: str
    #: The remote backend failed and the built-in one answered instead (its error, French).
    fallback_reason: str = ""


def geocode(
    *,
    query: str,
    limit: int = 5,
    near: tuple[float, float] | None = None,
    fallback: bool = True,
) -> Answer:
    """Places matching ``query`` (3 to ``MAX_QUERY`` characters), best first.

    A remote backend that fails (error, timeout, unreadable answer) raises ``GeocoderError``
    unless ``fallback``: then the built-in backend answers and ``fallback_reason`` says why.
    """
    query = query.strip()
    if not 3 <= len(query) <= MAX_QUERY:
        raise ValueError(f"query of {len(query)} characters")
    limit = max(1, min(limit, MAX_RESULTS))
    backend = configured_backend()
    if backend is None:
        raise GeocodingOffError()
    try:
        return Answer(backend.search(query, limit=limit, near=near), backend.name)
    except GeocoderError as exc:
        if not fallback or isinstance(backend, BuiltinBackend):
            raise
        builtin = BuiltinBackend()
        return Answer(builtin.search(query, limit=limit, near=near), builtin.name, str(exc))


def street_save(
    *, name: str, geometry: MultiLineString, postal_code: str = "", city: str = ""
) -> Street:
    """Create or update the street ``name`` of ``city`` (its search name computed)."""
    street, _created = Street.objects.update_or_create(
        name=name[:200],
        city=city[:100],
        defaults={
            "search_name": normalise(name)[:200],
            "postal_code": postal_code[:10],
            "geometry": geometry,
        },
    )
    return street
