"""iCalendar (RFC 5545) of events, built with the ``icalendar`` library.

Times are written in the site's time zone (``TZID`` plus a generated ``VTIMEZONE``), so a
weekly ``RRULE`` keeps its wall-clock time across daylight-saving changes. Hand-added dates
are ``RDATE``s; ``UID`` is the event's UUID at the site's host, stable for ever; ``SEQUENCE``
is the event's revision, bumped by every material change; a cancelled event stays in the feed
with ``STATUS:CANCELLED`` so that calendars remove it, a postponed one is ``TENTATIVE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.utils import timezone

from apps.core.pages import item_page_url
from apps.events.models import Event, EventOccurrence, EventStatus
from apps.events.recurrence import RecurrenceError, recurrence_check

PRODID = "-//Quartier//API v1//FR"
_STATUS: dict[str, str] = {
    EventStatus.CANCELLED: "CANCELLED",
    EventStatus.POSTPONED: "TENTATIVE",
    EventStatus.SCHEDULED: "CONFIRMED",
    EventStatus.RESCHEDULED: "CONFIRMED",
    EventStatus.MOVED_ONLINE: "CONFIRMED",
    EventStatus.FULL: "CONFIRMED",
}


def event_uid(event: Event) -> str:
    """A globally unique, stable UID: the event's UUID at the site's host."""
    host = urlsplit(settings.SITE_URL).hostname or "quartier"
    return f"{event.uuid}@{host}"


def _local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE))


def _start(event: Event, moment: datetime) -> date | datetime:
    return _local(moment) if event.has_start_time else _local(moment).date()


def _end(event: Event, start: datetime, end: datetime) -> date | datetime:
    if event.has_start_time:
        return _local(end)
    # All-day: DTEND is exclusive, the day after the last day.
    last_day = _local(end).date() if event.has_end_time else _local(start).date()
    return max(last_day, _local(start).date()) + timedelta(days=1)


def _location(event: Event) -> str:
    venue = event.venue
    if venue is None:
        return ""
    parts = [venue.name, venue.address, " ".join(p for p in (venue.postal_code, venue.city) if p)]
    return ", ".join(part for part in parts if part)


def _geo(event: Event) -> tuple[float, float] | None:
    geometry = event.venue.location if event.venue is not None else event.geometry
    if geometry is None:
        return None
    where = geometry if geometry.geom_type == "Point" else geometry.point_on_surface
    return (round(where.y, 6), round(where.x, 6))


def _rule(event: Event) -> str:
    """The stored rule if the recurrence validator accepts it, else ``""``.

    A rule stored before the validator existed may be one it refuses (``FREQ=SECONDLY``…): it
    is not handed to calendars, whose own expansion may be unbounded; its dates (materialised
    by ``event_save``) go out as RDATEs instead.
    """
    if not event.rrule:
        return ""
    try:
        recurrence_check(event.rrule)
    except RecurrenceError:
        return ""
    return event.rrule


def _extra_dates(event: Event, *, with_rule_dates: bool) -> list[datetime]:
    """Hand-added occurrences, and the rule's too when asked (from the prefetch if any)."""
    origins = {EventOccurrence.Origin.EXTRA}
    if with_rule_dates:
        origins.add(EventOccurrence.Origin.RULE)
    return [
        occurrence.start_at
        for occurrence in event.occurrences.all()
        if occurrence.origin in origins
    ]


def _skipped(event: Event) -> list[date | datetime]:
    """The EXDATEs: each skipped day at the start's local time (the rule's instances)."""
    at = _local(event.start_at)
    return [
        _start(event, datetime.combine(date.fromisoformat(day), at.time(), tzinfo=at.tzinfo))
        for day in event.excluded_dates or []
    ]


def event_component(event: Event) -> icalendar.Event:
    """One VEVENT for ``event`` and all its occurrences."""
    component = icalendar.Event()
    component.add("uid", event_uid(event))
    component.add("dtstamp", event.updated_at)
    component.add("created", event.created_at)
    component.add("last-modified", event.updated_at)
    component.add("sequence", event.sequence)
    component.add("summary", event.title)
    description = "\n\n".join(part for part in (event.summary, event.body) if part)
    if description:
        component.add("description", description)
    component.add("dtstart", _start(event, event.start_at))
    component.add("dtend", _end(event, event.start_at, event.end_at))
    rule = _rule(event)
    if rule:
        component.add("rrule", icalendar.vRecur.from_ical(rule))
        skipped = _skipped(event)
        if skipped:
            component.add("exdate", skipped)
    extras = _extra_dates(event, with_rule_dates=bool(event.rrule) and not rule)
    if extras:
        component.add("rdate", [_start(event, moment) for moment in extras])
    component.add("status", _STATUS.get(event.event_status, "CONFIRMED"))
    component.add("class", "PUBLIC")
    component.add("url", item_page_url(event))  # the public page (apps.site)
    component.add("categories", [str(event.category.name)])
    location = _location(event)
    if location:
        component.add("location", location)
    geo = _geo(event)
    if geo is not None:
        component.add("geo", geo)
    if event.online_url:
        component.add("conference", event.online_url, parameters={"value": "URI"})
    return component


def events_calendar(events: Iterable[Event], *, name: str) -> bytes:
    """A VCALENDAR of ``events`` (with the VTIMEZONE they need), as bytes."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    events = list(events)
    for event in events:
        calendar.add_component(event_component(event))
    today = timezone.now().date()
    first = min([event.start_at.date() for event in events] + [today]) - timedelta(days=1)
    last = max([event.last_end_at.date() for event in events] + [today]) + timedelta(days=366)
    calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar.to_ical()
