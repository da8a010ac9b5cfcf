"""An OpenAgenda ``Event`` read as the data of ``apps.events.services.event_apply`` (pure).

Title, description (our summary) and long description (our body) per language, French first;
the timings become the first date and extra dates (``timings`` ≤ ``MAX_TIMINGS``); the location
a venue (reused by name and address); accessibility codes, attendance mode, status, age range,
registration link and conditions. What our events have no column for (keywords, the image's
address, the page on OpenAgenda) comes back in ``extras`` for the import record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.gis.geos import Point

from apps.core.geo import WGS84

#: At most this many timings per event (OpenAgenda's own limit is 800).
MAX_TIMINGS = 800
LANGUAGES = ("fr", "en")
#: ``EventStatus`` codes → our ``event_status``.
STATUS = {
    1: "scheduled",
    2: "rescheduled",
    3: "moved_online",
    4: "postponed",
    5: "full",
    6: "cancelled",
}
#: ``AttendanceMode`` → our ``attendance_mode``.
ATTENDANCE = {1: "offline", 2: "online", 3: "mixed"}
#: ``AccessibilityCode`` → our ``Accessibility``.
ACCESSIBILITY = {
    "mi": "motor",
    "vi": "visual",
    "hi": "hearing",
    "ii": "intellectual",
    "pi": "psychic",
}
#: ModerationState ``-2``: removed from the agenda.
REMOVED = -2


class MappingError(ValueError):
    """An event valid against the contract that we cannot read (no title, no timing…)."""


@dataclass
class Mapped:
    uid: int
    data: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)
    removed: bool = False
    #: The OpenAgenda uid of the event's location (to send our events back at that place).
    location_uid: int | None = None


def _text(value: dict[str, str] | None, lang: str) -> str:
    """The ``lang`` text of a ``LocalizedString``; French falls back to any language given."""
    value = value or {}
    text = value.get(lang) or ""
    if not text and lang == "fr" and value:
        text = next((v for v in value.values() if v), "")
    return text.strip()


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


def _when(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise MappingError(f"date sans fuseau : {value}")
    return moment


def _venue(location: dict[str, Any] | None) -> dict[str, Any] | None:
    if not location or location.get("latitude") is None or location.get("longitude") is None:
        return None
    lat, lon = float(location["latitude"]), float(location["longitude"])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise MappingError(f"position hors limites : {lat}, {lon}")
    name = _cut(
        (location.get("name") or "").strip() or (location.get("address") or "").strip(), 200
    )
    if not name:
        return None
    return {
        "name": name,
        "address": _cut((location.get("address") or "").strip(), 300),
        "postal_code": (location.get("postalCode") or "")[:10],
        "city": (location.get("city") or "")[:100],
        "location": Point(lon, lat, srid=WGS84),
    }


def event_map(event: dict[str, Any]) -> Mapped:
    """Read a detailed ``Event`` (already valid against the contract)."""
    uid = int(event["uid"])
    removed = event.get("state") == REMOVED
    timings = event.get("timings") or []
    if len(timings) > MAX_TIMINGS:
        raise MappingError(f"événement {uid} : {len(timings)} dates (maximum {MAX_TIMINGS})")
    spans = sorted((_when(t["begin"]), _when(t["end"])) for t in timings)
    for begin, end in spans:
        if end < begin:
            raise MappingError(f"événement {uid} : une date finit avant de commencer")
    if not spans and not removed:
        raise MappingError(f"événement {uid} : aucune date")
    title_fr = _cut(_text(event.get("title"), "fr"), 200)
    if not title_fr and not removed:
        raise MappingError(f"événement {uid} : sans titre")
    data: dict[str, Any] = {}
    for lang in LANGUAGES:
        data[f"title_{lang}"] = _cut(_text(event.get("title"), lang), 200)
        data[f"summary_{lang}"] = _cut(_text(event.get("description"), lang), 500)
        data[f"body_{lang}"] = _text(event.get("longDescription"), lang)
        data[f"price_info_{lang}"] = _cut(_text(event.get("conditions"), lang), 300)
    if spans:
        data["start_at"], data["end_at"] = spans[0]
        data["extra_dates"] = spans[1:]
    data["rrule"] = ""
    data["event_status"] = STATUS[event["status"]]
    data["attendance_mode"] = ATTENDANCE[event["attendanceMode"]]
    data["online_url"] = event.get("onlineAccessLink") or ""
    flags = event.get("accessibility") or {}
    data["accessibility"] = [ours for code, ours in ACCESSIBILITY.items() if flags.get(code)]
    age = event.get("age") or {}
    data["age_min"], data["age_max"] = age.get("min"), age.get("max")
    links = [r["value"] for r in event.get("registration") or [] if r.get("type") == "link"]
    data["registration_url"] = links[0] if links else ""
    data["venue"] = _venue(event.get("location"))
    image = event.get("image") or {}
    data["image_credit"] = _cut(image.get("credits") or event.get("imageCredits") or "", 200)
    origin = event.get("originAgenda") or {}
    source_url = ""
    if origin.get("url") and event.get("slug"):
        source_url = f"{origin['url'].rstrip('/')}/events/{event['slug']}"
    extras = {
        "keywords": event.get("keywords") or {},
        "image_url": image.get("src") or "",
        "source_url": source_url[:500],
    }
    location_uid = (event.get("location") or {}).get("uid")
    return Mapped(uid=uid, data=data, extras=extras, removed=removed, location_uid=location_uid)
