"""A WZDx 4.x feed → ``WorksRecord`` objects, one per work zone (occurrences merged back).

Work-zone events linked by ``first-occurrence``/``next-occurrence`` are one works whose
windows become periods; every other work-zone event is a works of its own, keyed by its id.
Detour events attach to the work zone they name (``related-work-zone``) as its detour line.
The feed is validated against the WZDx schema first (``apps.interop.standards``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.gis.geos import MultiLineString

from apps.core.geo import WGS84
from apps.interop.geometry import line_or_point
from apps.interop.records import IMPACT_ROAD_STATE, WorksRecord
from apps.interop.schedule import Window, periods_from_windows
from apps.works.models import Direction, RoadState, VehicleImpact, WorkType

WORK_TYPE = {
    "roadway-creation": WorkType.ROAD_CONSTRUCTION,
    "surface-work": WorkType.ROAD_MAINTENANCE,
    "minor-road-defect-repair": WorkType.ROAD_MAINTENANCE,
    "painting": WorkType.ROAD_MAINTENANCE,
    "below-road-work": WorkType.UTILITY,
    "roadside-work": WorkType.OTHER,
}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _line(geometry: dict[str, Any]) -> Any:
    """The road event's line (a WZDx MultiPoint is its ordered points; one point stays a point)."""
    return line_or_point([(float(c[0]), float(c[1])) for c in geometry["coordinates"]])


def _root(feature_id: str, by_id: dict[str, dict[str, Any]]) -> str:
    """The first occurrence a work-zone event belongs to (itself when it names none)."""
    core = by_id[feature_id]["properties"]["core_details"]
    for related in core.get("related_road_events", []):
        if related["type"] == "first-occurrence" and related["id"] in by_id:
            return related["id"]
    return feature_id


def _record(root_id: str, members: list[dict[str, Any]]) -> WorksRecord:
    first = members[0]["properties"]
    core = first["core_details"]
    impact = first.get("vehicle_impact", VehicleImpact.UNKNOWN)
    windows = sorted(
        (
            Window(_when(m["properties"]["start_date"]), _when(m["properties"]["end_date"]))
            for m in members
        ),
        key=lambda w: w.start,
    )
    types = [t["type_name"] for t in first.get("types_of_work", [])]
    speed = first.get("reduced_speed_limit_kph")
    direction = core.get("direction")
    return WorksRecord(
        source_id=root_id,
        title=core.get("name") or ", ".join(core["road_names"]),
        description=core.get("description", ""),
        start_at=windows[0].start,
        end_at=max(w.end for w in windows),
        geometry=_line(members[0]["geometry"]),
        periods=periods_from_windows(windows) if len(windows) > 1 else [],
        road_state=IMPACT_ROAD_STATE.get(impact, RoadState.ALL_LANES_OPEN),
        vehicle_impact=impact,
        direction=direction if direction in Direction.values else Direction.UNKNOWN,
        lanes=[_lane(lane) for lane in first.get("lanes", [])],
        restrictions=[dict(r) for r in first.get("restrictions", [])],
        # Stored in whole km/h: WZDx allows decimals (88.514 is 55 mph).
        reduced_speed_limit_kph=round(speed) if speed else None,
        road_names=list(core["road_names"]),
        work_type=WORK_TYPE.get(types[0], WorkType.OTHER) if types else WorkType.OTHER,
        cancelled=first.get("event_status") == "cancelled",
        updated_at=_when(core["update_date"]) if core.get("update_date") else None,
    )


def records(feed: dict[str, Any]) -> list[WorksRecord]:
    """The works of a (validated) WZDx feed, in feed order."""
    features = feed["features"]
    by_id = {f["id"]: f for f in features}
    groups: dict[str, list[dict[str, Any]]] = {}
    detours: dict[str, list[dict[str, Any]]] = {}
    for feature in features:
        core = feature["properties"]["core_details"]
        if core["event_type"] == "detour":
            zones = [
                r["id"]
                for r in core.get("related_road_events", [])
                if r["type"] == "related-work-zone"
            ]
            for zone in zones[:1]:
                detours.setdefault(zone, []).append(feature)
            continue
        groups.setdefault(_root(feature["id"], by_id), []).append(feature)
    found = []
    for root_id, members in groups.items():
        record = _record(root_id, members)
        lines = [
            line
            for line in (_line(d["geometry"]) for d in detours.get(root_id, []))
            if line.geom_type == "LineString"
        ]
        if lines:
            record.detour_geometry = MultiLineString(*lines, srid=WGS84)
            record.detour_text = detours[root_id][0]["properties"]["core_details"].get(
                "description", ""
            )
        found.append(record)
    return found


def _lane(lane: dict[str, Any]) -> dict[str, Any]:
    """The lane fields Quartier keeps (the deprecated ``lane_number`` is dropped)."""
    return {key: lane[key] for key in ("order", "type", "status", "restrictions") if key in lane}
