"""Geocoding backends: Géoplateforme and addok (the BAN ``/search/`` shape), and built-in.

Every backend answers a list of ``Place`` (label, position, kind, score). The remote ones speak
the BAN-compatible API (``GET {url}/search/?q=&limit=[&lat=&lon=]`` → a GeoJSON
FeatureCollection whose properties carry ``label``, ``score``, ``type``, ``postcode``,
``city``): Géoplateforme (IGN's service that replaced api-adresse.data.gouv.fr) and a
self-hosted addok. They are bounded (timeout, size) and nothing of the query is logged. The
built-in backend searches the city's own streets (``Street``), areas and venues, offline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import httpx
import orjson
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db.models import Q

from apps.core.geo import WGS84
from apps.core.models import Area
from apps.events.models import Venue
from apps.interop.geocoding.models import Street
from apps.interop.geocoding.text import accent_regex, normalise, score, split_number

MAX_RESULTS = 10
MAX_QUERY = 200
#: A remote answer larger than this is refused (10 results weigh about 5 kB).
MAX_BYTES = 256 * 1024
KINDS = ("housenumber", "street", "locality", "municipality", "area", "venue")


class GeocoderError(Exception):
    """The geocoder could not answer; the message says why, in French, without the query."""


@dataclass(frozen=True)
class Place:
    label: str
    lon: float
    lat: float
    kind: str
    score: float
    postcode: str = ""
    city: str = ""

    def feature(self) -> dict[str, Any]:
        properties = {k: v for k, v in asdict(self).items() if k not in ("lon", "lat")}
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": properties,
        }


class RemoteBackend:
    """A BAN-compatible ``/search/`` endpoint: Géoplateforme or addok."""

    def __init__(self, name: str, url: str, timeout_s: float) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0))

    def search(
        self, query: str, *, limit: int = 5, near: tuple[float, float] | None = None
    ) -> list[Place]:
        params: dict[str, Any] = {"q": query, "limit": limit}
        if near is not None:
            params["lon"], params["lat"] = near
        try:
            with (
                httpx.Client(timeout=self.timeout, follow_redirects=False) as client,
                client.stream("GET", f"{self.url}/search/", params=params) as response,
            ):
                if response.status_code != 200:
                    raise GeocoderError(f"Le géocodeur a répondu {response.status_code}.")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_BYTES:
                        raise GeocoderError("Réponse du géocodeur trop grosse.")
        except httpx.TimeoutException as exc:
            raise GeocoderError("Le géocodeur ne répond pas à temps.") from exc
        except httpx.HTTPError as exc:
            raise GeocoderError(
                f"Le géocodeur est injoignable : {exc.__class__.__name__}."
            ) from exc
        try:
            return _places(orjson.loads(body))[:limit]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise GeocoderError("Réponse du géocodeur illisible.") from exc


def _places(document: Any) -> list[Place]:
    """The BAN ``FeatureCollection``'s points; features that are not points are skipped."""
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValueError("not a FeatureCollection")
    places = []
    for feature in document["features"]:
        geometry = feature.get("geometry") or {}
        if geometry.get("type") != "Point":
            continue
        lon, lat = (float(c) for c in geometry["coordinates"][:2])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            continue
        properties = feature.get("properties") or {}
        places.append(
            Place(
                label=str(properties.get("label") or properties.get("name") or "")[:300],
                lon=lon,
                lat=lat,
                kind=str(properties.get("type") or "")[:20],
                score=float(properties.get("score") or 0.0),
                postcode=str(properties.get("postcode") or "")[:10],
                city=str(properties.get("city") or "")[:100],
            )
        )
    return places


class BuiltinBackend:
    """The city's own streets, venues and areas: works offline (the demo, tests)."""

    name = "builtin"
    #: Candidates read per table before scoring (a prefix of the longest word narrows them).
    CANDIDATES = 200

    def search(
        self, query: str, *, limit: int = 5, near: tuple[float, float] | None = None
    ) -> list[Place]:
        number, rest = split_number(query)
        wanted = normalise(rest) or normalise(query)
        if not wanted:
            return []
        longest = max(wanted.split(), key=len)
        found: list[Place] = []
        streets = Street.objects.filter(search_name__contains=longest)[: self.CANDIDATES]
        for street in streets:
            s = score(wanted, street.search_name)
            if s:
                point = street.geometry.point_on_surface
                label = f"{number} {street.name}" if number else street.name
                if street.city:
                    label = f"{label}, {street.postal_code} {street.city}".replace("  ", " ")
                kind = "housenumber" if number else "street"
                found.append(
                    Place(label, point.x, point.y, kind, s, street.postal_code, street.city)
                )
        if longest:
            term = accent_regex(longest)
            venues = Venue.objects.filter(Q(name__iregex=term) | Q(address__iregex=term))
            for venue in venues[: self.CANDIDATES]:
                s = max(
                    score(normalise(query), normalise(venue.address)),
                    score(wanted, normalise(venue.name)),
                )
                if s:
                    label = f"{venue.name}, {venue.address}"
                    point = venue.location
                    found.append(
                        Place(label, point.x, point.y, "venue", s, venue.postal_code, venue.city)
                    )
            for area in Area.objects.filter(name__iregex=term)[: self.CANDIDATES]:
                s = score(wanted, normalise(area.name))
                if s:
                    point = area.geometry.point_on_surface
                    found.append(Place(area.name, point.x, point.y, "area", s))
        if near is not None:
            origin = Point(*near, srid=WGS84)
            found.sort(key=lambda p: (-p.score, Point(p.lon, p.lat, srid=WGS84).distance(origin)))
        else:
            found.sort(key=lambda p: (-p.score, p.label))
        return found[:limit]


def configured_backend() -> RemoteBackend | BuiltinBackend | None:
    """The backend of ``GEOCODER_BACKEND``; ``None`` when geocoding is ``off``."""
    name = settings.GEOCODER_BACKEND
    if name == "off":
        return None
    if name in ("geoplateforme", "addok"):
        return RemoteBackend(name, settings.GEOCODER_URL, settings.GEOCODER_TIMEOUT_S)
    return BuiltinBackend()
