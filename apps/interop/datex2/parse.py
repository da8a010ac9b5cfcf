"""A DATEX II v3 ``TrafficRegulationPublication`` (DiaLog's profile) → ``WorksRecord`` objects.

One ``trafficRegulationOrder`` → one works keyed by its ``id``: the measures (``datex2.measures``)
give back road state, speed limit and restrictions; the order's validity its dates; a
regulation's ``validPeriod`` its periods; the first regulation's ``LinearLocation`` its
geometry, from the GML ``posList`` (**lat lon**) or else DiaLog's ``geoJsonGeometry``.
The document is validated against the XSDs before it is read.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from xml.etree import ElementTree as ET

from django.contrib.gis.geos import GEOSGeometry
from django.utils import timezone

from apps.core.geo import WGS84
from apps.interop.datex2.export import DAYS, NS, XSI_TYPE, q
from apps.interop.datex2.measures import Measure, restrictions_of
from apps.interop.geometry import as_works_geometry, line_from_lat_lon_text
from apps.interop.records import WorksRecord
from apps.interop.schedule import ALL_WEEK, PeriodSpec

REGULATION_MEASURE = {
    "SpeedLimit": "speedLimitation",
    "AlternateRoadOrCarriagewayOrLaneLayout": "alternateRoad",
    "StandingOrParkingRestriction": "parkingProhibited",
    "OvertakingBan": "noOvertaking",
    "AccessRestriction": "noEntry",
}
DIMENSION_KEYS = {
    "heightCharacteristic": ("vehicleHeight", "maxHeight"),
    "lengthCharacteristic": ("vehicleLength", "maxLength"),
    "widthCharacteristic": ("vehicleWidth", "maxWidth"),
}


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _local_type(element: ET.Element) -> str:
    return (element.get(XSI_TYPE) or "").split(":")[-1]


def _text(element: ET.Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path, NS)
    return found.text.strip() if found is not None and found.text else None


def _measure(regulation: ET.Element) -> Measure | None:
    kind = regulation.find("tro:typeOfRegulation", NS)
    if kind is None or _local_type(kind) not in REGULATION_MEASURE:
        return None
    measure = Measure(REGULATION_MEASURE[_local_type(kind)])
    if measure.type == "speedLimitation":
        measure.max_speed = round(float(_text(kind, "tro:maxValue/tro:numericValue") or 0))
    vehicles: dict[str, Any] = {}
    for condition in regulation.iter(q("tro:conditions")):
        ctype = _local_type(condition)
        negate = _text(condition, "tro:negate") == "true"
        if ctype == "AccessCondition" and negate:
            if _text(condition, "tro:accessConditionType") == "accessOnly":
                vehicles.setdefault("exemptedTypes", []).append("localResident")
        elif ctype == "VehicleCondition" and not negate:
            characteristics = condition.find("tro:vehicleCharacteristics", NS)
            if characteristics is None:
                continue
            for element, (value_name, key) in DIMENSION_KEYS.items():
                value = _text(characteristics, f"com:{element}/com:{value_name}")
                if value is not None:
                    vehicles[key] = float(value)
                    vehicles.setdefault("restrictedTypes", []).append("dimensions")
            weight = _text(characteristics, "com:grossWeightCharacteristic/com:grossVehicleWeight")
            if weight is not None:
                vehicles["heavyweightMaxWeight"] = float(weight)
            if _text(characteristics, "com:vehicleType") == "heavyGoodsVehicle":
                vehicles.setdefault("restrictedTypes", []).append("heavyGoodsVehicle")
    if vehicles:
        vehicles["restrictedTypes"] = sorted(set(vehicles.get("restrictedTypes", [])))
        measure.vehicles = vehicles
    return measure


def _periods(regulation: ET.Element) -> list[PeriodSpec]:
    found = []
    for valid in regulation.iter(q("com:validPeriod")):
        start, end = (
            _when(_text(valid, "com:startOfPeriod")),
            _when(_text(valid, "com:endOfPeriod")),
        )
        if start is None or end is None:
            continue
        days = [d.text for d in valid.iter(q("com:applicableDay")) if d.text in DAYS]
        weekdays = "".join(str(DAYS.index(d) + 1) for d in DAYS if d in days) or ALL_WEEK
        slot = valid.find("com:recurringTimePeriodOfDay", NS)
        daily_start = _text(slot, "com:startTimeOfPeriod")
        daily_end = _text(slot, "com:endTimeOfPeriod")
        found.append(
            PeriodSpec(
                start_date=timezone.localtime(start).date() if start.tzinfo else start.date(),
                end_date=timezone.localtime(end).date() if end.tzinfo else end.date(),
                weekdays=weekdays,
                daily_start_time=time.fromisoformat(daily_start[:8]) if daily_start else None,
                daily_end_time=time.fromisoformat(daily_end[:8]) if daily_end else None,
            )
        )
    return found


def _lines(regulation: ET.Element) -> list[Any]:
    lines = []
    for location in regulation.iter(q("tro:locationByOrder")):
        pos_list = _text(location, "loc:gmlLineString/loc:posList")
        if pos_list:
            # GML in EPSG:4326 is latitude first.
            lines.append(line_from_lat_lon_text(pos_list))
            continue
        geojson = _text(location, ".//dx:geoJsonGeometry")
        if geojson:
            geometry: Any = GEOSGeometry(geojson, srid=WGS84)
            if geometry.geom_type == "LineString":
                lines.append(geometry)
    return lines


def _geometry(parts: list[Any]) -> Any:
    """One place: a point stays a point, lines become a (Multi)LineString."""
    lines = [part for part in parts if part.geom_type == "LineString"]
    if lines:
        return as_works_geometry(lines)
    return parts[0] if parts else None


def records(document: bytes | str) -> list[WorksRecord]:
    """The works of a (validated) DATEX II traffic regulation publication."""
    root = ET.fromstring(document)
    found = []
    for order in root.iter(q("tro:trafficRegulationOrder")):
        regulations = order.findall("tro:trafficRegulation", NS)
        measures = [m for m in (_measure(r) for r in regulations) if m is not None]
        validity = order.find("tro:validityByOrder/com:validityTimeSpecification", NS)
        start = _when(_text(validity, "com:overallStartTime"))
        end = _when(_text(validity, "com:overallEndTime"))
        if start is None or end is None or not regulations:
            continue
        state, speed, restrictions = restrictions_of(measures)
        title = _text(order, "tro:description/com:values/com:value") or order.get("id") or ""
        road = regulations[0].find(".//loc:roadName", NS)
        found.append(
            WorksRecord(
                source_id=order.get("id", ""),
                title=title,
                start_at=start,
                end_at=end,
                geometry=_geometry(_lines(regulations[0])),
                periods=_periods(regulations[0]),
                road_state=state,
                reduced_speed_limit_kph=speed,
                restrictions=restrictions,
                road_names=[road.text.strip()] if road is not None and road.text else [],
            )
        )
    return found
