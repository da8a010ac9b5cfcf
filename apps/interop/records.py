"""The Quartier side of every mapping: roadworks as a plain record, read from or written to a model.

Parsers of the standards produce ``WorksRecord`` objects; the import service applies them to
``Works`` through the works services; exporters read ``Works`` rows directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, MultiLineString

from apps.interop.schedule import PeriodSpec
from apps.works.models import ROAD_STATE_IMPACTS, Direction, RoadState, WorkType

#: Road state of each WZDx vehicle impact (``unknown`` is taken as traffic maintained).
IMPACT_ROAD_STATE = {
    impact: state for state, impacts in ROAD_STATE_IMPACTS.items() for impact in impacts
}
#: The plain WZDx vehicle impact of each road state (the first of its details).
ROAD_STATE_IMPACT = {state: impacts[0] for state, impacts in ROAD_STATE_IMPACTS.items()}


def vehicle_impact_of(works: Any) -> str:
    """The WZDx vehicle impact of works: its own detail, else the plain one of its road state."""
    return str(works.vehicle_impact or ROAD_STATE_IMPACT[works.road_state])


@dataclass
class WorksRecord:
    """Roadworks as read from a standard, keyed by the source's identifier."""

    source_id: str
    title: str
    start_at: datetime
    end_at: datetime
    geometry: GEOSGeometry | None
    description: str = ""
    periods: list[PeriodSpec] = field(default_factory=list)
    road_state: str = RoadState.ALL_LANES_OPEN
    vehicle_impact: str = ""
    direction: str = Direction.UNDEFINED
    lanes: list[dict[str, Any]] = field(default_factory=list)
    restrictions: list[dict[str, Any]] = field(default_factory=list)
    reduced_speed_limit_kph: int | None = None
    road_names: list[str] = field(default_factory=list)
    detour_geometry: MultiLineString | None = None
    detour_text: str = ""
    work_type: str = WorkType.OTHER
    cancelled: bool = False
    updated_at: datetime | None = None

    def fields(self) -> dict[str, Any]:
        """The ``Works`` columns this record sets (texts in French, the default language)."""
        closed_lanes = sum(1 for lane in self.lanes if lane.get("status") == "closed")
        return {
            "title_fr": self.title[:200],
            "summary_fr": self.description[:500],
            "geometry": self.geometry,
            "start_at": self.start_at,
            "end_at": self.end_at,
            "road_state": self.road_state,
            "vehicle_impact": self.vehicle_impact,
            "direction": self.direction,
            "lanes": self.lanes,
            "lanes_closed": closed_lanes or None,
            "restrictions": self.restrictions,
            "reduced_speed_limit_kph": self.reduced_speed_limit_kph,
            "road_names": self.road_names,
            "detour_geometry": self.detour_geometry,
            "detour_text_fr": self.detour_text,
            "work_type": self.work_type,
            "impacts_road": self.road_state != RoadState.ALL_LANES_OPEN or bool(self.restrictions),
        }
