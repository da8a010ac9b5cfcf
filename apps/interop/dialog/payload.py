"""Works → the body of a DiaLog regulation (``POST``/``PUT /api/regulations``).

The measures are the DATEX II feed's (``datex2.measures``), so that what DiaLog receives and
what our DATEX II feed says agree. Every measure carries the works' periods and locations:
one ``rawGeoJSON`` location per line of the works' geometry (a polygon becomes its
centreline, as in the feeds). Times are the city's local time, ISO 8601 with the offset.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.interop.datex2.measures import measures_of
from apps.interop.geometry import lines_of
from apps.interop.schedule import ALL_WEEK
from apps.works.models import WorkType

#: DiaLog limits (its API's validation).
MAX_IDENTIFIER = 60
MAX_TITLE = 255
MAX_LABEL = 255
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: Works types that are road maintenance in DiaLog's words; the others are ``other``.
ROAD_MAINTENANCE = {WorkType.ROAD_CONSTRUCTION, WorkType.ROAD_MAINTENANCE, WorkType.UTILITY}


class NothingToSendError(Exception):
    """The works carry no traffic measure or no location: no regulation to send (French)."""


def _local(day: date, at: time) -> str:
    moment = timezone.make_aware(datetime.combine(day, at), timezone.get_default_timezone())
    return moment.isoformat()


def _iso(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat()


def periods_of(works: Any) -> list[dict[str, Any]]:
    """DiaLog periods: the works' ``WorksPeriod`` rows, or their whole span without any."""
    rows = list(works.periods.all())
    if not rows:
        return [
            {
                "startDate": _iso(works.start_at),
                "startTime": _iso(works.start_at),
                "endDate": _iso(works.end_at),
                "endTime": _iso(works.end_at),
                "recurrenceType": "everyDay",
            }
        ]
    periods = []
    for row in rows:
        start = row.daily_start_time or time(0, 0)
        end = row.daily_end_time or time(23, 59)
        period: dict[str, Any] = {
            "startDate": _local(row.start_date, time(0, 0)),
            "startTime": _local(row.start_date, start),
            "endDate": _local(row.end_date, time(0, 0)),
            "endTime": _local(row.end_date, end),
            "recurrenceType": "everyDay" if row.weekdays == ALL_WEEK else "certainDays",
        }
        if row.weekdays != ALL_WEEK:
            period["dailyRange"] = {
                "recurrenceType": "certainDays",
                "applicableDays": [DAYS[int(d) - 1] for d in row.weekdays],
            }
        if row.daily_start_time is not None:
            period["timeSlots"] = [
                {
                    "startTime": _local(row.start_date, row.daily_start_time),
                    "endTime": _local(row.start_date, row.daily_end_time or end),
                }
            ]
        periods.append(period)
    return periods


def locations_of(works: Any) -> list[dict[str, Any]]:
    label = (", ".join(works.road_names) if works.road_names else works.title)[:MAX_LABEL]
    return [
        {"roadType": "rawGeoJSON", "rawGeoJSON": {"label": label, "geometry": line.json}}
        for line in lines_of(works.geometry)
    ]


def regulation_body(works: Any, *, identifier: str, status: str) -> dict[str, Any]:
    """The regulation of ``works`` as DiaLog's write API takes it; ``status`` draft/published.

    Raises ``NothingToSendError`` when the works regulate no traffic or have no line to locate.
    """
    measures = measures_of(works)
    if not measures:
        raise NothingToSendError(
            _(
                "Aucune mesure de circulation (route ouverte, sans restriction) : "
                "rien à transmettre."
            )
        )
    locations = locations_of(works)
    if not locations:
        raise NothingToSendError(
            _("Le chantier n'a pas de tracé localisable : rien à transmettre.")
        )
    periods = periods_of(works)
    body: dict[str, Any] = {
        "identifier": identifier[:MAX_IDENTIFIER],
        "status": status,
        "category": "temporaryRegulation",
        "subject": "roadMaintenance" if works.work_type in ROAD_MAINTENANCE else "other",
        "title": works.title[:MAX_TITLE],
        "measures": [],
    }
    if body["subject"] == "other":
        body["otherCategoryText"] = str(WorkType(works.work_type).label)[:100]
    for measure in measures:
        vehicles = {"allVehicles": False, **measure.vehicles}
        entry: dict[str, Any] = {"type": measure.type, "vehicleSet": vehicles}
        if measure.max_speed is not None:
            entry["maxSpeed"] = measure.max_speed
        entry["periods"] = periods
        entry["locations"] = locations
        body["measures"].append(entry)
    return body


def fingerprint(body: dict[str, Any]) -> str:
    """sha256 of the body without its status (publishing is a step of its own)."""
    content = {k: v for k, v in body.items() if k != "status"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
