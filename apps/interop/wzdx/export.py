"""Quartier works → a WZDx 4.2 ``WorkZoneFeed`` (GeoJSON, lon/lat, dates in UTC).

Mapping (docs/interop.md has the table):

- one works → one ``work-zone`` road event per window (``schedule.works_windows``): works
  without periods give one event; recurring works give one per occurrence, the first with the
  works' UUID as id, the next ``<uuid>@<date>``, linked ``first-occurrence``/``next-occurrence``;
- a works geometry of several lines gives one event per line (``<uuid>#<n>``), linked
  ``first-in-sequence``/``next-in-sequence``; a polygon gives its centreline (``geometry``);
- each detour line → a ``detour`` road event ``<uuid>~<n>`` with ``related-work-zone``, and the
  work zone lists it as ``related-detour``;
- ``road_state`` (or the finer ``vehicle_impact``) → ``vehicle_impact``; ``restrictions``,
  ``lanes``, ``reduced_speed_limit_kph``, ``direction``, ``road_names`` as stored (WZDx names);
- ``work_status`` → ``event_status`` (cancelled works stay in the feed as ``cancelled``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings

from apps.interop.geometry import lines_of
from apps.interop.records import vehicle_impact_of
from apps.interop.schedule import utc, works_windows
from apps.works.models import Works, WorkStatus, WorkType

WZDX_VERSION = "4.2"
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
DATA_SOURCE_ID = "quartier"

EVENT_STATUS: dict[str, str] = {
    WorkStatus.PLANNED: "planned",
    WorkStatus.ACTIVE: "active",
    WorkStatus.COMPLETED: "completed",
    WorkStatus.CANCELLED: "cancelled",
}
WORK_TYPE_NAME: dict[str, str] = {
    WorkType.ROAD_CONSTRUCTION: "roadway-creation",
    WorkType.ROAD_MAINTENANCE: "surface-work",
    WorkType.UTILITY: "below-road-work",
    WorkType.BUILDING: "roadside-work",
    WorkType.GREEN_SPACE: "roadside-work",
    WorkType.OTHER: "maintenance",
}


def _coords(line: Any) -> list[list[float]]:
    return [[round(x, 7), round(y, 7)] for x, y in line.coords]


def _road_names(works: Works) -> list[str]:
    return list(works.road_names) or [works.title]


def works_features(works: Works, *, since: datetime | None = None) -> list[dict[str, Any]]:
    """The WZDx road events of one works (its periods must be prefetched)."""
    uid = str(works.uuid)
    lines = lines_of(works.geometry)
    if not lines:
        return []
    windows = works_windows(
        start_at=works.start_at, end_at=works.end_at, periods=list(works.periods.all()), since=since
    )
    detours = lines_of(works.detour_geometry, merge=False)
    detour_ids = [f"{uid}~{n}" for n in range(len(detours))]
    common = {
        "data_source_id": DATA_SOURCE_ID,
        "event_type": "work-zone",
        "road_names": _road_names(works),
        "direction": works.direction,
        "name": works.title,
        "description": works.summary or works.title,
        "creation_date": utc(works.created_at),
        "update_date": utc(works.updated_at),
    }
    features = []
    first_id = uid
    for w_index, window in enumerate(windows):
        occurrence = "" if w_index == 0 else "@" + window.start.strftime("%Y%m%dT%H%M")
        for l_index, line in enumerate(lines):
            event_id = uid + occurrence + ("" if l_index == 0 else f"#{l_index}")
            related: list[dict[str, str]] = []
            if w_index:
                related.append({"type": "first-occurrence", "id": first_id})
            if w_index + 1 < len(windows) and l_index == 0:
                next_occurrence = "@" + windows[w_index + 1].start.strftime("%Y%m%dT%H%M")
                related.append({"type": "next-occurrence", "id": uid + next_occurrence})
            if l_index:
                related.append({"type": "first-in-sequence", "id": uid + occurrence})
            if l_index + 1 < len(lines):
                related.append(
                    {"type": "next-in-sequence", "id": uid + occurrence + f"#{l_index + 1}"}
                )
            related.extend({"type": "related-detour", "id": d} for d in detour_ids)
            properties: dict[str, Any] = {
                "core_details": {**common, **({"related_road_events": related} if related else {})},
                "start_date": utc(window.start),
                "end_date": utc(window.end),
                "is_start_date_verified": False,
                "is_end_date_verified": False,
                "is_start_position_verified": False,
                "is_end_position_verified": False,
                "location_method": "other",
                "work_zone_type": "static",
                "vehicle_impact": vehicle_impact_of(works),
                "event_status": EVENT_STATUS[works.work_status],
                "restrictions": list(works.restrictions),
                "types_of_work": [{"type_name": WORK_TYPE_NAME[works.work_type]}],
            }
            if works.lanes:
                properties["lanes"] = list(works.lanes)
            if works.reduced_speed_limit_kph:
                properties["reduced_speed_limit_kph"] = works.reduced_speed_limit_kph
            features.append(
                {
                    "id": event_id,
                    "type": "Feature",
                    "properties": properties,
                    "geometry": {"type": "LineString", "coordinates": _coords(line)},
                }
            )
    for d_index, line in enumerate(detours):
        related = [{"type": "related-work-zone", "id": uid}]
        if d_index:
            related.append({"type": "first-in-sequence", "id": detour_ids[0]})
        if d_index + 1 < len(detours):
            related.append({"type": "next-in-sequence", "id": detour_ids[d_index + 1]})
        features.append(
            {
                "id": detour_ids[d_index],
                "type": "Feature",
                "properties": {
                    "core_details": {
                        **common,
                        "event_type": "detour",
                        "name": f"{works.title} (déviation)",
                        "description": works.detour_text or works.title,
                        "related_road_events": related,
                    },
                    "start_date": utc(works.start_at),
                    "end_date": utc(works.end_at),
                    "is_start_date_verified": False,
                    "is_end_date_verified": False,
                    "event_status": EVENT_STATUS[works.work_status],
                },
                "geometry": {"type": "LineString", "coordinates": _coords(line)},
            }
        )
    return features


def feed(
    works: Iterable[Works], *, updated_at: datetime, since: datetime | None = None
) -> dict[str, Any]:
    """The whole WZDx ``WorkZoneFeed`` for ``works``."""
    features = [feature for item in works for feature in works_features(item, since=since)]
    publisher = getattr(settings, "INTEROP_PUBLISHER", "") or "Quartier"
    return {
        "feed_info": {
            "publisher": publisher,
            "version": WZDX_VERSION,
            "license": CC0,
            "update_date": utc(updated_at),
            "data_sources": [
                {
                    "data_source_id": DATA_SOURCE_ID,
                    "organization_name": publisher,
                    "update_date": utc(updated_at),
                }
            ],
        },
        "type": "FeatureCollection",
        "features": features,
    }
