"""Quartier works → DATEX II v3 ``TrafficRegulationPublication`` with DiaLog's extensions.

The shared XSDs hold no situation publication, so roadworks are published as what they
impose on traffic: one ``trafficRegulationOrder`` per works (id = works UUID, version = the
update time), one ``trafficRegulation`` per DiaLog measure (``datex2.measures``), each with
its conditions: the periods (``validityByOrder`` with ``validPeriod``: weekdays and daily
time slots), the location (``LinearLocation`` with a GML ``posList`` in **lat lon** order,
plus DiaLog's ``geoJsonGeometry`` in lon/lat), and the vehicles concerned.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from django.conf import settings

from apps.interop.datex2.measures import Measure, measures_of
from apps.interop.geometry import lat_lon_text, lines_of
from apps.interop.schedule import ALL_WEEK, local_iso
from apps.works.models import Works, WorkStatus

NS = {
    "d2": "http://datex2.eu/schema/3/d2Payload",
    "com": "http://datex2.eu/schema/3/common",
    "loc": "http://datex2.eu/schema/3/locationReferencing",
    "tro": "http://datex2.eu/schema/3/trafficRegulation",
    "dx": "https://raw.githubusercontent.com/MTES-MCT/dialog/main/docs/spec/datex2",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
XSI_TYPE = f"{{{NS['xsi']}}}type"
#: DATEX II ``vehicleType`` of DiaLog's restricted types.
VEHICLE_TYPES = {"heavyGoodsVehicle": "heavyGoodsVehicle"}


def q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(
        parent, q(name), {(XSI_TYPE if k == "type" else k): v for k, v in attrs.items()}
    )
    if text is not None:
        element.text = text
    return element


def multilingual(parent: ET.Element, name: str, text: str) -> None:
    values = sub(sub(parent, name), "com:values")
    sub(values, "com:value", text, lang="fr")


def _validity(
    parent: ET.Element, name: str, start: datetime, end: datetime, periods: list[Any]
) -> None:
    validity = sub(parent, name)
    sub(validity, "com:validityStatus", "definedByValidityTimeSpec")
    spec = sub(validity, "com:validityTimeSpecification")
    sub(spec, "com:overallStartTime", local_iso(start))
    sub(spec, "com:overallEndTime", local_iso(end))
    for period in periods:
        valid = sub(spec, "com:validPeriod")
        sub(valid, "com:startOfPeriod", f"{period.start_date.isoformat()}T00:00:00")
        sub(valid, "com:endOfPeriod", f"{period.end_date.isoformat()}T23:59:59")
        if period.daily_start_time is not None:
            slot = sub(valid, "com:recurringTimePeriodOfDay")
            sub(slot, "com:startTimeOfPeriod", period.daily_start_time.strftime("%H:%M:%S"))
            sub(slot, "com:endTimeOfPeriod", period.daily_end_time.strftime("%H:%M:%S"))
        if period.weekdays != ALL_WEEK:
            days = sub(valid, "com:recurringDayWeekMonthPeriod")
            for day in period.weekdays:
                sub(days, "com:applicableDay", DAYS[int(day) - 1])


def _vehicles(parent: ET.Element, measure: Measure) -> None:
    vehicles = measure.vehicles
    restricted = vehicles.get("restrictedTypes", [])
    exempted = vehicles.get("exemptedTypes", [])
    if not restricted and not exempted:
        return
    group = sub(parent, "tro:conditions", type="tro:ConditionSet")
    sub(group, "tro:operator", "or")
    if "localResident" in exempted:
        access = sub(group, "tro:conditions", type="tro:AccessCondition")
        sub(access, "tro:negate", "true")
        sub(access, "tro:accessConditionType", "accessOnly")
    for kind in restricted:
        condition = sub(group, "tro:conditions", type="tro:VehicleCondition")
        sub(condition, "tro:negate", "false")
        characteristics = sub(condition, "tro:vehicleCharacteristics")
        if kind == "dimensions":
            for key, element, value_name in (
                ("maxHeight", "com:heightCharacteristic", "com:vehicleHeight"),
                ("maxLength", "com:lengthCharacteristic", "com:vehicleLength"),
                ("maxWidth", "com:widthCharacteristic", "com:vehicleWidth"),
            ):
                if key in vehicles:
                    characteristic = sub(characteristics, element)
                    sub(characteristic, "com:comparisonOperator", "greaterThan")
                    sub(characteristic, value_name, f"{vehicles[key]:.2f}")
        else:
            sub(characteristics, "com:vehicleType", VEHICLE_TYPES[kind])
            if "heavyweightMaxWeight" in vehicles:
                weight = sub(characteristics, "com:grossWeightCharacteristic")
                sub(weight, "com:comparisonOperator", "greaterThan")
                sub(weight, "com:grossVehicleWeight", f"{vehicles['heavyweightMaxWeight']:.2f}")
                sub(weight, "com:typeOfWeight", "maximumPermitted")


def _regulation_type(parent: ET.Element, measure: Measure) -> None:
    if measure.type == "speedLimitation":
        element = sub(parent, "tro:typeOfRegulation", type="tro:SpeedLimit")
        value = sub(element, "tro:maxValue")
        sub(value, "tro:numericValue", str(measure.max_speed))
        sub(value, "tro:unitOfMeasure", "kilometresPerHour")
    elif measure.type == "alternateRoad":
        # The shared v3.3 XSD has no lane-management type: an alternating single lane is the
        # traffic merged onto one lane of the road.
        element = sub(
            parent, "tro:typeOfRegulation", type="tro:AlternateRoadOrCarriagewayOrLaneLayout"
        )
        sub(element, "tro:mergedToOtherLane", "true")
        sub(element, "tro:roadOrCarriagewayOrLaneLayoutType", "lane")
    elif measure.type == "parkingProhibited":
        element = sub(parent, "tro:typeOfRegulation", type="tro:StandingOrParkingRestriction")
        sub(element, "tro:standingOrParkingRestrictionType", "parkingProhibited")
    elif measure.type == "noOvertaking":
        sub(parent, "tro:typeOfRegulation", type="tro:OvertakingBan")
    else:
        element = sub(parent, "tro:typeOfRegulation", type="tro:AccessRestriction")
        sub(element, "tro:accessRestrictionType", "noEntry")


def _order(parent: ET.Element, works: Works) -> None:
    measures = measures_of(works)
    lines = lines_of(works.geometry)
    if not measures or not lines:
        return
    order = sub(
        parent,
        "tro:trafficRegulationOrder",
        id=str(works.uuid),
        version=str(int(works.updated_at.timestamp())),
    )
    multilingual(order, "tro:description", works.title)
    multilingual(order, "tro:issuingAuthority", works.organization.name)
    sub(order, "tro:regulationId", str(works.uuid))
    sub(order, "tro:status", "madeAndImplemented")
    periods = list(works.periods.all())
    _validity(order, "tro:validityByOrder", works.start_at, works.end_at, [])
    for measure in measures:
        regulation = sub(order, "tro:trafficRegulation")
        sub(regulation, "tro:status", "active")
        _regulation_type(regulation, measure)
        condition = sub(regulation, "tro:condition", type="tro:ConditionSet")
        sub(condition, "tro:operator", "and")
        if periods:
            group = sub(condition, "tro:conditions", type="tro:ConditionSet")
            sub(group, "tro:operator", "or")
            validity = sub(group, "tro:conditions", type="tro:ValidityCondition")
            _validity(validity, "tro:validityByOrder", works.start_at, works.end_at, periods)
        places = sub(condition, "tro:conditions", type="tro:ConditionSet")
        sub(places, "tro:operator", "or")
        for line in lines:
            place = sub(places, "tro:conditions", type="tro:LocationCondition")
            location = sub(place, "tro:locationByOrder", type="loc:LinearLocation")
            description = sub(location, "loc:supplementaryPositionalDescription")
            road = sub(description, "loc:roadInformation")
            sub(road, "loc:roadName", (works.road_names or [works.title])[0])
            gml = sub(location, "loc:gmlLineString", srsName="EPSG:4326", srsDimension="2")
            sub(gml, "loc:posList", lat_lon_text(line))
            extension = sub(
                sub(location, "loc:_linearLocationExtension"), "loc:linearLocationExtended"
            )
            sub(extension, "dx:geoJsonGeometry", line.json)
        _vehicles(condition, measure)
    extended = sub(
        sub(order, "tro:_trafficRegulationOrderExtension"), "tro:trafficRegulationOrderExtended"
    )
    sub(extended, "dx:source", "quartier")
    sub(extended, "dx:publicUrl", f"{settings.SITE_URL}/api/v1/works/{works.pk}/")


def publication(works: Iterable[Works], *, updated_at: datetime, feed_id: str) -> bytes:
    """The DATEX II payload for ``works`` (organisation and periods loaded), UTF-8 bytes."""
    root = ET.Element(
        q("d2:payload"),
        {
            "modelBaseVersion": "3",
            "lang": "fr",
            XSI_TYPE: "tro:TrafficRegulationPublication",
            "id": feed_id,
        },
    )
    sub(root, "com:publicationTime", local_iso(updated_at))
    creator = sub(root, "com:publicationCreator")
    sub(creator, "com:country", "fr")
    sub(creator, "com:nationalIdentifier", settings.INTEROP_PUBLISHER or "Quartier")
    container = sub(root, "tro:trafficRegulationsFromCompetentAuthorities")
    for item in works:
        if item.work_status in (WorkStatus.CANCELLED, WorkStatus.COMPLETED):
            continue
        _order(container, item)
    if len(container):
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)
    # The container needs at least one order: an empty feed leaves it out (it is optional),
    # and then declares the namespace its ``xsi:type`` names, which ElementTree would not.
    root.remove(container)
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body.replace(b"<d2:payload ", f'<d2:payload xmlns:tro="{NS["tro"]}" '.encode(), 1)
