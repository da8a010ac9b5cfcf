"""OpenAPI examples of the roadworks endpoints: a list item and a write body."""

from __future__ import annotations

from typing import Any

LIST_EXAMPLE: dict[str, Any] = {
    "type": "works",
    "id": 7,
    "title": "Travaux de voirie rue Garibaldi",
    "summary": "Réfection de la chaussée, circulation alternée.",
    "geometry": {"type": "LineString", "coordinates": [[4.8512, 45.7533], [4.8521, 45.7561]]},
    "category": {"slug": "travaux", "name": "Travaux", "colour": "#e8590c", "icon": ""},
    "organization": {"slug": "metropole", "name": "Métropole"},
    "urgency": "important",
    "publish_at": "2026-03-01T08:00:00+01:00",
    "updated_at": "2026-03-02T10:12:00+01:00",
    "image": None,
    "url": "http://127.0.0.1:8000/api/v1/works/7/",
    "share_url": "http://127.0.0.1:8000/works/7-travaux-de-voirie-rue-garibaldi/",
    "start_at": "2026-03-09T07:00:00+01:00",
    "end_at": "2026-04-30T18:00:00+02:00",
    "work_status": "planned",
    "work_type": "road_maintenance",
    "severity": "moderate",
    "road_state": "single_lane_alternating",
    "impacts": ["road", "bike_lane"],
    "night_work": False,
}

WRITE_EXAMPLE: dict[str, Any] = {
    "title_fr": "Travaux de voirie rue Garibaldi",
    "category": "travaux",
    "geometry": {"type": "LineString", "coordinates": [[4.8512, 45.7533], [4.8521, 45.7561]]},
    "start_at": "2026-03-09T07:00:00+01:00",
    "end_at": "2026-04-30T18:00:00+02:00",
    "road_state": "single_lane_alternating",
    "impacts": ["road", "bike_lane"],
    "periods": [{"start_date": "2026-03-09", "end_date": "2026-04-30", "weekdays": "12345"}],
    "status": "published",
}
