"""OpenAPI examples of the events endpoints: a list item and a write body."""

from __future__ import annotations

from typing import Any

LIST_EXAMPLE: dict[str, Any] = {
    "type": "events",
    "id": 12,
    "title": "Concert au parc de la Tête d'Or",
    "summary": "Orchestre municipal, entrée libre.",
    "geometry": {"type": "Point", "coordinates": [4.8526, 45.7772]},
    "category": {"slug": "culture", "name": "Culture", "colour": "#9c36b5", "icon": ""},
    "organization": {"slug": "ville", "name": "Ville de Lyonnay"},
    "urgency": "info",
    "publish_at": "2026-05-20T09:00:00+02:00",
    "updated_at": "2026-05-20T09:00:00+02:00",
    "image": None,
    "url": "http://127.0.0.1:8000/api/v1/events/12/",
    "share_url": "http://127.0.0.1:8000/events/12-concert-au-parc-de-la-tete-dor/",
    "start_at": "2026-06-21T20:00:00+02:00",
    "end_at": "2026-06-21T22:00:00+02:00",
    "has_start_time": True,
    "has_end_time": True,
    "next_start_at": "2026-06-21T20:00:00+02:00",
    "next_end_at": "2026-06-21T22:00:00+02:00",
    "is_recurring": False,
    "venue": {"name": "Kiosque", "address": "Parc de la Tête d'Or", "city": "Lyonnay"},
    "event_status": "scheduled",
    "is_free": True,
    "audience": "everyone",
    "attendance_mode": "offline",
}

WRITE_EXAMPLE: dict[str, Any] = {
    "title_fr": "Concert au parc",
    "category": "culture",
    "start_at": "2026-06-21T20:00:00+02:00",
    "end_at": "2026-06-21T22:00:00+02:00",
    "rrule": "FREQ=WEEKLY;COUNT=4",
    "venue": {
        "name": "Kiosque",
        "address": "Parc de la Tête d'Or",
        "location": {"type": "Point", "coordinates": [4.8526, 45.7772]},
    },
    "is_free": True,
    "status": "published",
}
