"""Quartier works → Waze CIFS v2 ``incidents`` (XML; ``polyline`` is "lat lon", latitude first).

Mapping (docs/interop.md): ``road_state`` closed → ``ROAD_CLOSED`` / ``ROAD_CLOSED_CONSTRUCTION``,
other states → ``CONSTRUCTION`` (Waze shows a work zone, routes through); one incident per line
of the geometry and per period (a period's weekdays and daily hours become ``schedule``; an
overnight slot is split at midnight, since CIFS slots stay within a day); closed lanes →
``lane_impact``; ``direction`` ``undefined`` → ``BOTH_DIRECTIONS``, a WZDx bound →
``ONE_DIRECTION``. Cancelled and completed works are left out: Waze drops what disappears.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from typing import Any
from xml.etree import ElementTree as ET

from apps.interop.geometry import lat_lon_text, lines_of
from apps.interop.schedule import ALL_WEEK, local_iso, period_window
from apps.works.models import Direction, RoadState, Works, WorkStatus

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _hhmm(moment: time) -> str:
    return moment.strftime("%H:%M")


def schedule(period: Any) -> dict[str, str]:
    """The CIFS ``schedule`` of a period: weekday → "HH:MM-HH:MM", overnight split at midnight."""
    start, end = period.daily_start_time, period.daily_end_time
    if start is None or end is None:
        slots = {int(d): ["00:00-23:59"] for d in period.weekdays}
    elif end > start:
        slots = {int(d): [f"{_hhmm(start)}-{_hhmm(end)}"] for d in period.weekdays}
    else:
        slots = {}
        for d in period.weekdays:
            slots.setdefault(int(d), []).append(f"{_hhmm(start)}-23:59")
            if end != time.min:
                slots.setdefault(int(d) % 7 + 1, []).insert(0, f"00:00-{_hhmm(end)}")
    return {DAYS[day - 1]: ",".join(slots[day]) for day in sorted(slots)}


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = value
    return element


def _incident(
    root: ET.Element,
    *,
    works: Works,
    ident: str,
    line: Any,
    start: datetime,
    end: datetime,
    period: Any = None,
) -> None:
    incident = ET.SubElement(root, "incident", id=ident)
    _text(incident, "creationtime", local_iso(works.created_at))
    _text(incident, "updatetime", local_iso(works.updated_at))
    closed = works.road_state == RoadState.CLOSED
    _text(incident, "type", "ROAD_CLOSED" if closed else "CONSTRUCTION")
    if closed:
        _text(incident, "subtype", "ROAD_CLOSED_CONSTRUCTION")
    _text(incident, "description", (works.summary or works.title)[:1000])
    street = works.road_names[0] if works.road_names else works.title
    _text(incident, "street", street if len(street) >= 2 else f"{street} ")
    _text(incident, "polyline", lat_lon_text(line))
    both = works.direction in (Direction.UNDEFINED, Direction.UNKNOWN)
    _text(incident, "direction", "BOTH_DIRECTIONS" if both else "ONE_DIRECTION")
    if works.lanes_closed and works.road_state == RoadState.SOME_LANES_CLOSED:
        impact = ET.SubElement(incident, "lane_impact")
        _text(impact, "total_closed_lanes", str(min(works.lanes_closed, 99)))
        _text(impact, "roadside", "RIGHT")
    _text(incident, "starttime", local_iso(start))
    _text(incident, "endtime", local_iso(end))
    if period is not None and (period.weekdays != ALL_WEEK or period.daily_start_time):
        element = ET.SubElement(incident, "schedule")
        for day, slots in schedule(period).items():
            _text(element, day, slots)


def incidents(works: Iterable[Works], *, updated_at: datetime) -> bytes:
    """The CIFS document for ``works`` (periods prefetched), UTF-8 XML bytes."""
    root = ET.Element("incidents", timestamp=local_iso(updated_at))
    for item in works:
        if item.work_status in (WorkStatus.CANCELLED, WorkStatus.COMPLETED):
            continue
        lines = lines_of(item.geometry)
        periods = list(item.periods.all())
        for l_index, line in enumerate(lines):
            base = f"{item.uuid}" + ("" if l_index == 0 else f"#{l_index}")
            if not periods:
                _incident(
                    root, works=item, ident=base, line=line, start=item.start_at, end=item.end_at
                )
            for p_index, period in enumerate(periods):
                window = period_window(period)
                _incident(
                    root,
                    works=item,
                    ident=base if p_index == 0 else f"{base}/{p_index}",
                    line=line,
                    start=window.start,
                    end=window.end,
                    period=period,
                )
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
