"""schema.org JSON-LD of the public pages: NewsArticle, Event, and roadworks as announcements.

Roadworks are a ``SpecialAnnouncement`` ("an information update made by a locally-oriented
organization, for example … local government") whose ``about`` is an ``Event`` carrying the
dates, the place and the ``eventStatus`` (cancelled works are ``EventCancelled``). An ``Event``
alone would put roadworks among the things to do in event search features, which they are
not; an announcement alone would lose the dates and the cancellation in machine-readable
form. Its ``spatialCoverage`` is the ``Place`` the works occupy (a ``GeoShape`` line or
polygon).

Every builder returns plain JSON data; ``tests/site/test_jsonld.py`` expands it with pyld and
checks each type's properties against the schema.org vocabulary.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

CONTEXT = "https://schema.org"
#: ``headline`` is cut here (search engines show at most about 110 characters).
HEADLINE_MAX = 110
#: At most this many points in a ``GeoShape`` (bounded pages whatever the geometry).
SHAPE_MAX_POINTS = 200

EVENT_STATUS = {
    "scheduled": "https://schema.org/EventScheduled",
    "cancelled": "https://schema.org/EventCancelled",
    "postponed": "https://schema.org/EventPostponed",
    "rescheduled": "https://schema.org/EventRescheduled",
}
ATTENDANCE_MODE = {
    "offline": "https://schema.org/OfflineEventAttendanceMode",
    "online": "https://schema.org/OnlineEventAttendanceMode",
    "mixed": "https://schema.org/MixedEventAttendanceMode",
}
WORKS_STATUS = {
    "cancelled": "https://schema.org/EventCancelled",
}

_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def dumps(data: dict[str, Any]) -> str:
    """JSON for a ``<script type="application/ld+json">``: no ``</script>`` can close it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_ESCAPES)


def _date(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values: a property is left out rather than given as ``""`` or ``null``."""
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


def organization(org: Any) -> dict[str, Any]:
    return _clean({"@type": "Organization", "name": org.name, "url": org.website})


def image(url: str | None, *, alt: str = "", credit: str = "") -> dict[str, Any] | None:
    if not url:
        return None
    return _clean(
        {
            "@type": "ImageObject",
            "url": url,
            "contentUrl": url,
            "caption": alt,
            "creditText": credit,
        }
    )


def _thin(coords: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    if len(coords) <= SHAPE_MAX_POINTS:
        return coords
    step = math.ceil(len(coords) / SHAPE_MAX_POINTS)
    thinned = coords[::step]
    if thinned[-1] != coords[-1]:
        thinned.append(coords[-1])
    return thinned


def _points(coords: list[tuple[float, ...]]) -> str:
    """schema.org's point list: "lat,lon" pairs separated by spaces."""
    return " ".join(f"{lat:.6f},{lon:.6f}" for lon, lat, *_z in _thin(coords))


def geo(geometry: Any) -> dict[str, Any] | None:
    """``GeoCoordinates`` for a point, ``GeoShape`` (line, polygon or box) for the rest."""
    if geometry is None or geometry.empty:
        return None
    kind = geometry.geom_type
    if kind == "Point":
        return {"@type": "GeoCoordinates", "latitude": geometry.y, "longitude": geometry.x}
    if kind == "LineString":
        return {"@type": "GeoShape", "line": _points(list(geometry.coords))}
    if kind == "Polygon":
        return {"@type": "GeoShape", "polygon": _points(list(geometry.exterior_ring.coords))}
    min_lon, min_lat, max_lon, max_lat = geometry.extent
    return {"@type": "GeoShape", "box": f"{min_lat:.6f},{min_lon:.6f} {max_lat:.6f},{max_lon:.6f}"}


def _place(name: str, geometry: Any, address: str = "") -> dict[str, Any]:
    return _clean(
        {
            "@type": "Place",
            "name": name,
            "address": address,
            "geo": geo(geometry),
        }
    )


def news_article(news: Any, *, url: str, image_url: str | None, language: str) -> dict[str, Any]:
    published = news.published_at or news.publish_at or news.created_at
    publisher = organization(news.organization)
    return _clean(
        {
            "@context": CONTEXT,
            "@type": "NewsArticle",
            "@id": url,
            "url": url,
            "mainEntityOfPage": url,
            "headline": _headline(news.title),
            "name": news.title,
            "description": news.summary,
            "articleBody": news.body,
            "inLanguage": language,
            "datePublished": _date(published),
            "dateModified": _date(news.updated_at),
            "expires": _date(news.expires_at),
            "image": image(image_url, alt=news.image_alt or "", credit=news.image_credit or ""),
            "author": publisher,
            "publisher": publisher,
            "articleSection": str(news.category.name),
            "contentLocation": _place(_area_names(news) or news.title, news.geometry)
            if news.geometry
            else None,
        }
    )


def _headline(title: str) -> str:
    return title if len(title) <= HEADLINE_MAX else title[: HEADLINE_MAX - 1] + "…"


def _area_names(item: Any) -> str:
    return ", ".join(area.name for area in item.areas.all())


def event_location(event: Any) -> list[dict[str, Any]] | dict[str, Any]:
    """The venue as a ``Place`` with a ``PostalAddress``, a ``VirtualLocation`` online."""
    places: list[dict[str, Any]] = []
    if event.attendance_mode != "online" and event.venue is not None:
        venue = event.venue
        places.append(
            _clean(
                {
                    "@type": "Place",
                    "name": venue.name,
                    "url": venue.website,
                    "address": _clean(
                        {
                            "@type": "PostalAddress",
                            "streetAddress": venue.address,
                            "postalCode": venue.postal_code,
                            "addressLocality": venue.city,
                            "addressCountry": "FR",
                        }
                    ),
                    "geo": geo(venue.location),
                }
            )
        )
    elif event.attendance_mode != "online" and event.geometry is not None:
        places.append(_place(event.title, event.geometry))
    if event.attendance_mode in ("online", "mixed") and event.online_url:
        places.append({"@type": "VirtualLocation", "url": event.online_url})
    return places[0] if len(places) == 1 else places


def event_offers(event: Any, *, url: str) -> dict[str, Any]:
    price: Decimal | int = 0 if event.is_free else (event.price_min or 0)
    return _clean(
        {
            "@type": "Offer",
            "url": event.ticket_url or event.registration_url or url,
            "price": str(price),
            "priceCurrency": "EUR",
            "description": event.price_info,
            "availability": "https://schema.org/InStock",
            "validFrom": _date(event.published_at or event.created_at),
        }
    )


def event(
    event: Any,
    *,
    url: str,
    image_url: str | None,
    language: str,
    start_at: datetime,
    end_at: datetime,
) -> dict[str, Any]:
    """``start_at``/``end_at``: the occurrence the page leads with (the next one)."""
    age = ""
    if event.age_min is not None or event.age_max is not None:
        age = f"{event.age_min or 0}-{event.age_max if event.age_max is not None else ''}"
    return _clean(
        {
            "@context": CONTEXT,
            "@type": "Event",
            "@id": url,
            "url": url,
            "name": event.title,
            "description": event.summary or _headline(event.body),
            "inLanguage": language,
            "startDate": _event_date(start_at, with_time=event.has_start_time),
            "endDate": _event_date(end_at, with_time=event.has_end_time),
            "eventStatus": EVENT_STATUS.get(event.event_status, EVENT_STATUS["scheduled"]),
            "eventAttendanceMode": ATTENDANCE_MODE.get(event.attendance_mode),
            "location": event_location(event),
            "offers": event_offers(event, url=url),
            "isAccessibleForFree": event.is_free,
            "typicalAgeRange": age,
            "image": image(image_url, alt=event.image_alt or "", credit=event.image_credit or ""),
            "organizer": organization(event.organization),
        }
    )


def _event_date(moment: datetime, *, with_time: bool) -> str:
    local = timezone.localtime(moment)
    return local.isoformat() if with_time else local.date().isoformat()


def works_announcement(
    works: Any, *, url: str, image_url: str | None, language: str
) -> dict[str, Any]:
    place = _place(_area_names(works) or works.title, works.geometry, ", ".join(works.road_names))
    return _clean(
        {
            "@context": CONTEXT,
            "@type": "SpecialAnnouncement",
            "@id": url,
            "url": url,
            "name": works.title,
            "text": works.summary or works.body or works.title,
            "inLanguage": language,
            "datePosted": _date(works.published_at or works.publish_at or works.created_at),
            "expires": _date(works.expires_at or works.end_at),
            "spatialCoverage": place,
            "image": image(image_url, alt=works.image_alt or "", credit=works.image_credit or ""),
            "publisher": organization(works.organization),
            "about": _clean(
                {
                    "@type": "Event",
                    "name": works.title,
                    "startDate": _date(works.start_at),
                    "endDate": _date(works.end_at),
                    "eventStatus": WORKS_STATUS.get(works.work_status, EVENT_STATUS["scheduled"]),
                    "eventAttendanceMode": ATTENDANCE_MODE["offline"],
                    "location": place,
                    "organizer": organization(works.organization),
                }
            ),
        }
    )
