"""OpenAPI examples of the news endpoints: a list item and a write body."""

from __future__ import annotations

from typing import Any

LIST_EXAMPLE: dict[str, Any] = {
    "type": "news",
    "id": 42,
    "title": "Fermeture de la piscine Garibaldi",
    "summary": "Vidange annuelle du 3 au 9 mars.",
    "geometry": {"type": "Point", "coordinates": [4.8512, 45.7533]},
    "category": {"slug": "sport", "name": "Sport", "colour": "#1f6feb", "icon": "pool"},
    "organization": {"slug": "ville", "name": "Ville de Lyonnay"},
    "urgency": "info",
    "publish_at": "2026-03-01T08:00:00+01:00",
    "updated_at": "2026-03-01T08:00:00+01:00",
    "image": None,
    "url": "http://127.0.0.1:8000/api/v1/news/42/",
    "share_url": "http://127.0.0.1:8000/news/42-fermeture-de-la-piscine-garibaldi/",
    "distance_m": 350,
}

WRITE_EXAMPLE: dict[str, Any] = {
    "title_fr": "Fermeture de la piscine Garibaldi",
    "title_en": "Garibaldi pool closed",
    "summary_fr": "Vidange annuelle du 3 au 9 mars.",
    "category": "sport",
    "geometry": {"type": "Point", "coordinates": [4.8512, 45.7533]},
    "status": "published",
    "urgency": "info",
    "links": [{"title_fr": "Horaires", "url": "https://ville.example/piscines"}],
}
