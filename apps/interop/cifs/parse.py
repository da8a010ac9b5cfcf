"""Waze CIFS v2 ``incidents`` → ``WorksRecord`` objects: the way back of ``cifs.export``.

Quartier imports no CIFS source (WZDx and DATEX II carry more), but the mapping is tested both
ways: ``polyline`` is read latitude first, ``ROAD_CLOSED`` gives a closed road, ``lane_impact``
some lanes closed, and the weekly ``schedule`` gives periods back, an overnight slot split at
midnight (``21:00-23:59`` then ``00:00-05:00`` the next day) joined again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from xml.etree import ElementTree as ET

from django.utils import timezone

from apps.interop.cifs.export import DAYS
from apps.interop.geometry import line_from_lat_lon_text
from apps.interop.records import WorksRecord
from apps.interop.schedule import ALL_WEEK, PeriodSpec
from apps.works.models import Direction, RoadState

MIDNIGHT_END = time(23, 59)


def _slots(schedule: ET.Element) -> dict[int, list[tuple[time, time]]]:
    slots: dict[int, list[tuple[time, time]]] = {}
    for index, day in enumerate(DAYS, start=1):
        text = schedule.findtext(day)
        if text:
            slots[index] = [
                (time.fromisoformat(a.strip().zfill(5)), time.fromisoformat(b.strip().zfill(5)))
                for a, b in (slot.split("-") for slot in text.split(",") if slot.strip())
            ]
    return slots


def periods_of(schedule: ET.Element, start: datetime, end: datetime) -> list[PeriodSpec]:
    """Periods from a CIFS ``schedule`` between ``start`` and ``end`` (aware datetimes)."""
    slots = _slots(schedule)
    hours: dict[tuple[time | None, time | None], set[int]] = defaultdict(set)
    for day in sorted(slots):
        for begin, finish in list(slots[day]):
            if (begin, finish) == (time.min, MIDNIGHT_END):
                hours[(None, None)].add(day)
            elif finish == MIDNIGHT_END:
                following = day % 7 + 1
                early = next((s for s in slots.get(following, []) if s[0] == time.min), None)
                if early is not None:
                    slots[following].remove(early)
                hours[(begin, early[1] if early else time.min)].add(day)
            elif begin != time.min or not any(
                f == MIDNIGHT_END and b != time.min for b, f in slots.get((day - 2) % 7 + 1, [])
            ):
                # Not the morning half of the previous evening's overnight slot.
                hours[(begin, finish)].add(day)
    first = timezone.localtime(start).date()
    last_moment = timezone.localtime(end)
    found = []
    for (daily_start, daily_end), days in hours.items():
        overnight = daily_start is not None and daily_end is not None and daily_end <= daily_start
        # A period's span ends the next morning when it runs overnight or all day (midnight).
        ends_next_day = overnight or (daily_start is None and last_moment.time() == time.min)
        last = last_moment.date() - (timedelta(days=1) if ends_next_day else timedelta())
        found.append(
            PeriodSpec(
                start_date=first,
                end_date=last,
                weekdays="".join(str(d) for d in sorted(days)) or ALL_WEEK,
                daily_start_time=daily_start,
                daily_end_time=daily_end,
            )
        )
    return sorted(found, key=lambda p: (p.daily_start_time or time.min, p.weekdays))


def records(document: bytes | str) -> list[WorksRecord]:
    """One record per CIFS incident, keyed by its ``id``."""
    found = []
    for incident in ET.fromstring(document).iter("incident"):
        start = datetime.fromisoformat(incident.findtext("starttime") or "")
        end = datetime.fromisoformat(incident.findtext("endtime") or "")
        schedule = incident.find("schedule")
        closed = incident.findtext("type") == "ROAD_CLOSED"
        lanes = incident.findtext("lane_impact/total_closed_lanes")
        state = (
            RoadState.CLOSED
            if closed
            else RoadState.SOME_LANES_CLOSED
            if lanes
            else RoadState.ALL_LANES_OPEN
        )
        one_way = incident.findtext("direction") == "ONE_DIRECTION"
        found.append(
            WorksRecord(
                source_id=incident.get("id", ""),
                title=incident.findtext("description") or "",
                start_at=start,
                end_at=end,
                geometry=line_from_lat_lon_text(incident.findtext("polyline") or ""),
                periods=periods_of(schedule, start, end) if schedule is not None else [],
                road_state=state,
                direction=Direction.UNKNOWN if one_way else Direction.UNDEFINED,
                road_names=[incident.findtext("street") or ""],
            )
        )
    return found
