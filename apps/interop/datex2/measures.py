"""Works ↔ DiaLog measures: the regulation mapping shared by the DATEX II feed and a DiaLog client.

A measure is DiaLog's ``{type, maxSpeed?, vehicleSet}`` (``noEntry``, ``alternateRoad``,
``speedLimitation``, ``parkingProhibited``), the same words as its write API; DATEX II only
serialises them (``datex2.export``). Works restrictions with no DiaLog measure (``hov-2``,
``travel-peak-hours-only``, ``towing-prohibited``…) are not carried: the table in
docs/interop.md lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.works.models import RestrictionType, RoadState

#: Metres or tonnes from a WZDx value and unit (DATEX II and DiaLog use them).
TO_METRES = {"centimeters": 0.01, "feet": 0.3048, "inches": 0.0254}
TO_TONNES = {"kilograms": 0.001, "pounds": 0.000453592, "tons": 0.907185}
DIMENSIONS = {
    RestrictionType.REDUCED_HEIGHT: "maxHeight",
    RestrictionType.REDUCED_WIDTH: "maxWidth",
    RestrictionType.REDUCED_LENGTH: "maxLength",
}
WEIGHTS = (RestrictionType.REDUCED_WEIGHT, RestrictionType.GROSS_WEIGHT_LIMIT)


@dataclass
class Measure:
    """One DiaLog measure: what is regulated, for which vehicles."""

    type: str
    max_speed: int | None = None
    vehicles: dict[str, Any] = field(default_factory=lambda: {"allVehicles": True})


def measures_of(works: Any) -> list[Measure]:
    """The DiaLog measures of works: road state, speed limit, restrictions, in a fixed order."""
    found: list[Measure] = []
    if works.road_state == RoadState.CLOSED:
        found.append(Measure("noEntry"))
    elif works.road_state == RoadState.SINGLE_LANE_ALTERNATING:
        found.append(Measure("alternateRoad"))
    if works.reduced_speed_limit_kph:
        found.append(Measure("speedLimitation", max_speed=works.reduced_speed_limit_kph))
    for entry in works.restrictions:
        kind, value, unit = entry["type"], entry.get("value"), entry.get("unit")
        if kind == RestrictionType.NO_PARKING:
            found.append(Measure("parkingProhibited"))
        elif kind == RestrictionType.NO_TRUCKS:
            found.append(Measure("noEntry", vehicles={"restrictedTypes": ["heavyGoodsVehicle"]}))
        elif kind in DIMENSIONS and value is not None:
            metres = round(value * TO_METRES[unit], 2)
            found.append(
                Measure(
                    "noEntry",
                    vehicles={"restrictedTypes": ["dimensions"], DIMENSIONS[kind]: metres},
                )
            )
        elif kind in WEIGHTS and value is not None:
            tonnes = round(value * TO_TONNES[unit], 2)
            found.append(
                Measure(
                    "noEntry",
                    vehicles={
                        "restrictedTypes": ["heavyGoodsVehicle"],
                        "heavyweightMaxWeight": tonnes,
                    },
                )
            )
        elif kind == RestrictionType.LOCAL_ACCESS_ONLY:
            found.append(
                Measure(
                    "noEntry", vehicles={"allVehicles": True, "exemptedTypes": ["localResident"]}
                )
            )
        elif kind == RestrictionType.NO_PASSING:
            found.append(Measure("noOvertaking"))
    return found


def restrictions_of(measures: list[Measure]) -> tuple[str, int | None, list[dict[str, Any]]]:
    """Back: road state, speed limit and WZDx restrictions from DiaLog measures."""
    state, speed, restrictions = RoadState.ALL_LANES_OPEN, None, []
    for measure in measures:
        vehicles = measure.vehicles
        restricted = vehicles.get("restrictedTypes", [])
        if measure.type == "alternateRoad":
            state = RoadState.SINGLE_LANE_ALTERNATING
        elif measure.type == "speedLimitation":
            speed = measure.max_speed
        elif measure.type == "parkingProhibited":
            restrictions.append({"type": RestrictionType.NO_PARKING.value})
        elif measure.type == "noOvertaking":
            restrictions.append({"type": RestrictionType.NO_PASSING.value})
        elif "localResident" in vehicles.get("exemptedTypes", []):
            restrictions.append({"type": RestrictionType.LOCAL_ACCESS_ONLY.value})
        elif "heavyweightMaxWeight" in vehicles:
            kilograms = round(vehicles["heavyweightMaxWeight"] * 1000)
            restrictions.append(
                {
                    "type": RestrictionType.REDUCED_WEIGHT.value,
                    "value": kilograms,
                    "unit": "kilograms",
                }
            )
        elif "dimensions" in restricted:
            for kind, key in DIMENSIONS.items():
                if key in vehicles:
                    centimetres = round(vehicles[key] * 100)
                    restrictions.append(
                        {"type": kind.value, "value": centimetres, "unit": "centimeters"}
                    )
        elif "heavyGoodsVehicle" in restricted:
            restrictions.append({"type": RestrictionType.NO_TRUCKS.value})
        elif measure.type == "noEntry":
            state = RoadState.CLOSED
    return state, speed, restrictions
