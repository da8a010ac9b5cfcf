"""Hypothesis strategies for roadworks: weekdays, night work, detours, polygons, several periods."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.gis.geos import LineString, MultiLineString, Point, Polygon
from hypothesis import strategies as st

from apps.core.geo import WGS84
from apps.works.models import Direction, RoadState, VehicleImpact, WorksPeriod, WorkStatus

RESTRICTIONS = [
    {"type": "no-trucks"},
    {"type": "no-parking"},
    {"type": "local-access-only"},
    {"type": "no-passing"},
    {"type": "reduced-height", "value": 350, "unit": "centimeters"},
    {"type": "reduced-width", "value": 10, "unit": "feet"},
    {"type": "reduced-weight", "value": 3500, "unit": "kilograms"},
]
LANES = [
    [],
    [
        {"order": 1, "type": "general", "status": "closed"},
        {"order": 2, "type": "general", "status": "open"},
    ],
    [
        {"order": 1, "type": "sidewalk", "status": "closed"},
        {
            "order": 2,
            "type": "general",
            "status": "shift-left",
            "restrictions": [{"type": "reduced-width", "value": 300, "unit": "centimeters"}],
        },
    ],
]
IMPACTS = {
    RoadState.CLOSED: ["", VehicleImpact.ALL_LANES_CLOSED],
    RoadState.SOME_LANES_CLOSED: ["", VehicleImpact.SOME_LANES_CLOSED_MERGE_LEFT],
    RoadState.SINGLE_LANE_ALTERNATING: ["", VehicleImpact.FLAGGING],
    RoadState.ALL_LANES_OPEN: ["", VehicleImpact.ALL_LANES_OPEN_SHIFT_RIGHT],
}

coordinate = st.tuples(
    st.floats(4.80, 4.90, allow_nan=False), st.floats(45.72, 45.80, allow_nan=False)
)


@st.composite
def lines(draw) -> LineString:
    x, y = draw(coordinate)
    steps = draw(
        st.lists(
            st.tuples(st.floats(-0.002, 0.002), st.floats(-0.002, 0.002)), min_size=1, max_size=5
        )
    )
    points = [(x, y)]
    for dx, dy in steps:
        last = points[-1]
        if abs(dx) + abs(dy) < 1e-4:
            dx += 2e-4
        points.append((last[0] + dx, last[1] + dy))
    return LineString(points, srid=WGS84)


@st.composite
def sites(draw) -> Polygon:
    """A rotated rectangle of 20 to 300 m by 5 to 40 m: a worksite polygon."""
    x, y = draw(coordinate)
    length, width = draw(st.floats(20, 300)), draw(st.floats(5, 40))
    angle = draw(st.floats(0, math.pi))
    kx, ky = 111_320 * math.cos(math.radians(y)), 110_540
    corners = []
    for u, v in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)):
        px, py = u * length / 2, v * width / 2
        rx, ry = (
            px * math.cos(angle) - py * math.sin(angle),
            px * math.sin(angle) + py * math.cos(angle),
        )
        corners.append((x + rx / kx, y + ry / ky))
    return Polygon(corners, srid=WGS84)


geometries = st.one_of(
    lines(),
    sites(),
    st.builds(lambda c: Point(*c, srid=WGS84), coordinate),
    st.lists(lines(), min_size=2, max_size=3).map(lambda ls: MultiLineString(*ls, srid=WGS84)),
)

weekdays = st.sets(st.sampled_from("1234567"), min_size=1).map(lambda s: "".join(sorted(s)))
hours = st.one_of(
    st.just((None, None)),
    st.sampled_from(
        [(time(8), time(17)), (time(21), time(5)), (time(22), time(6)), (time(7, 30), time(12))]
    ),
)


@st.composite
def periods(draw, start: date) -> list[WorksPeriod]:
    found = []
    day = start
    for _ in range(draw(st.integers(0, 3))):
        length = draw(st.integers(0, 20))
        daily_start, daily_end = draw(hours)
        found.append(
            WorksPeriod(
                start_date=day,
                end_date=day + timedelta(days=length),
                weekdays=draw(weekdays),
                daily_start_time=daily_start,
                daily_end_time=daily_end,
            )
        )
        day += timedelta(days=length + draw(st.integers(1, 10)))
    return found


@st.composite
def works_fields(draw) -> dict:
    """Fields of one roadwork (``periods`` and ``cancelled`` to apply through the services)."""
    now = datetime.now(UTC).replace(microsecond=0)
    start = now + timedelta(hours=draw(st.integers(-72, 240)))
    state = draw(st.sampled_from(list(IMPACTS)))
    chosen = draw(periods(start.date()))
    end = start + timedelta(days=draw(st.integers(1, 60)))
    end = max(end, now + timedelta(days=1))  # published works are not over yet
    if chosen:
        end = max(end, datetime.combine(chosen[-1].end_date + timedelta(days=2), time(), UTC))
    detour = draw(st.one_of(st.none(), st.lists(lines(), min_size=1, max_size=3)))
    return {
        "geometry": draw(geometries),
        "start_at": start,
        "end_at": end,
        "road_state": state,
        "vehicle_impact": draw(st.sampled_from(IMPACTS[state])),
        "direction": draw(st.sampled_from([Direction.UNDEFINED, Direction.NORTHBOUND])),
        "night_work": any(p.daily_start_time == time(21) for p in chosen),
        "lanes": draw(st.sampled_from(LANES)),
        "lanes_closed": draw(st.one_of(st.none(), st.integers(1, 3))),
        "restrictions": draw(st.lists(st.sampled_from(RESTRICTIONS), max_size=3, unique_by=str)),
        "reduced_speed_limit_kph": draw(st.one_of(st.none(), st.sampled_from([20, 30, 50]))),
        "road_names": draw(
            st.lists(
                st.sampled_from(["Rue Garibaldi", "Cours Vitton", "Quai Perrache"]),
                max_size=2,
                unique=True,
            )
        ),
        "detour_geometry": MultiLineString(*detour, srid=WGS84) if detour else None,
        "periods": chosen,
        "cancelled": draw(st.booleans()) and draw(st.booleans()),
        "work_status": WorkStatus.PLANNED,
    }
