"""The demo's news, roadworks and events, built from the data files through the real services.

Each item is created only if its ``uuid5`` natural key is not in the database yet. Its
lifecycle then follows the data: published some days ago (``content_publish`` with a past
``at``), scheduled (``content_schedule``), left as a draft, archived once over, cancelled or
postponed — always through the services, never by setting ``status`` by hand.
"""

from __future__ import annotations

import zlib
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from dateutil.rrule import rrulestr
from django.utils import timezone

from apps.core.models import PublishableContent, Urgency
from apps.core.services import (
    content_archive,
    content_publish,
    content_save,
    content_schedule,
)
from apps.demo.context import SeedContext, demo_uuid
from apps.demo.text import (
    date_en,
    date_fr,
    span_en,
    span_fr,
    street_with_article,
    time_en,
    time_fr,
)
from apps.events.models import AttendanceMode, Audience, Event, EventStatus
from apps.events.services import event_cancel, event_postpone, event_save
from apps.news.models import News
from apps.works.models import Works, WorksPeriod
from apps.works.services import works_cancel, works_save

#: Works are announced this many days before they start.
WORKS_NOTICE_DAYS = 7


def _sentence(text: str) -> str:
    """Capitalise the first letter (templates may start with a street name)."""
    return text[:1].upper() + text[1:]


def _translate(item: PublishableContent, name: str, french: str, english: str | None) -> None:
    """Set the French and English columns of a translated field (django-modeltranslation)."""
    setattr(item, f"{name}_fr", french)
    setattr(item, f"{name}_en", english or None)


def _exists(ctx: SeedContext, model: type[PublishableContent], uid: Any) -> bool:
    found = model.objects.filter(uuid=uid).exists()
    if found:
        ctx.tally(model.type_code, created=False)
    return found


def _lifecycle(
    ctx: SeedContext, item: PublishableContent, entry: dict[str, Any], published_at: datetime
) -> None:
    """Take a freshly saved draft to the state its data asks for."""
    user = ctx.editors[item.organization.slug]
    status = entry.get("status", "published")
    if status == "draft":
        return
    # The seeded past is taken as approved: publishing and scheduling run as the system
    # (``user=None``), which the two-person rule does not hold (apps.core.approval_rule).
    if status == "scheduled":
        day, hhmm = entry["schedule"]
        content_schedule(item=item, publish_at=ctx.at(day, hhmm))
        return
    content_publish(item=item, at=min(published_at, ctx.now))
    if status == "archived" or item.is_over(ctx.now):
        content_archive(item=item, user=user)


# --- news -------------------------------------------------------------------------------------


def news_seed(ctx: SeedContext, entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        uid = demo_uuid(News.type_code, entry["key"])
        if _exists(ctx, News, uid):
            continue
        news = News(
            uuid=uid,
            organization=ctx.organizations[entry["org"]],
            category=ctx.categories[entry["category"]],
            geometry=ctx.where(entry.get("where")),
            urgency=Urgency.from_code(entry.get("urgency", "info")),
            notify=entry.get("notify", False),
        )
        for name in ("title", "summary", "body"):
            _translate(news, name, ctx.text(entry.get(name)), ctx.text(entry.get(f"{name}_en")))
        if "expires" in entry:
            news.expires_at = ctx.at(entry["expires"], "23:59")
        content_save(item=news, user=ctx.editors[entry["org"]])
        _lifecycle(ctx, news, entry, ctx.at(-entry.get("published", 1), "09:00"))
        ctx.tally(News.type_code, created=True)


# --- works ------------------------------------------------------------------------------------


def _shift(ctx: SeedContext, offset: int, weekdays: str, *, lag: int = 0) -> int:
    """Move a day offset away from today until ``offset - lag`` falls on one of ``weekdays``.

    Moving away from today keeps planned works planned, active ones active and completed
    ones completed, whatever the weekday of the run.
    """
    step = 1 if offset >= 0 else -1
    while str(ctx.day(offset - lag).isoweekday()) not in weekdays:
        offset += step
    return offset


def _works_dates(
    ctx: SeedContext, kind: dict[str, Any], days: list[int]
) -> tuple[datetime, datetime, list[WorksPeriod]]:
    """Start, end and periods of works from their relative days and their kind's schedule."""
    first, last = days
    schedule = kind["schedule"]
    weekdays = kind.get("weekdays", "12345")
    if schedule == "continuous":
        first, last = _shift(ctx, first, weekdays), _shift(ctx, last, weekdays)
        return ctx.at(first, "08:00"), ctx.at(max(first, last), "17:00"), []
    daily_start, daily_end = (time.fromisoformat(hhmm) for hhmm in kind["hours"])
    night = schedule == "night"
    first = _shift(ctx, first, weekdays)
    # A night shift starts the evening before the day it ends.
    last = max(_shift(ctx, last, weekdays, lag=1 if night else 0), first + (1 if night else 0))
    period = WorksPeriod(
        start_date=ctx.day(first),
        end_date=ctx.day(last - 1 if night else last),
        weekdays=weekdays,
        daily_start_time=daily_start,
        daily_end_time=daily_end,
    )
    return ctx.at(first, kind["hours"][0]), ctx.at(last, kind["hours"][1]), [period]


def nights_fr(period: WorksPeriod) -> str:
    """``la nuit du lundi 30 novembre`` or ``les nuits du lundi 30 novembre au …``."""
    if period.start_date == period.end_date:
        return f"la nuit du {date_fr(period.start_date)}"
    return f"les nuits {span_fr(period.start_date, period.end_date)}"


def nights_en(period: WorksPeriod) -> str:
    if period.start_date == period.end_date:
        return f"on the night of {date_en(period.start_date)}"
    return f"on the nights {span_en(period.start_date, period.end_date)}"


def _works_texts(works: Works, kind: dict[str, Any], words: dict[str, str]) -> None:
    """Fill the translated texts from the kind's templates (``{street}``, ``{dates}``…)."""

    def fill(template: str | None) -> str:
        return _sentence(template.format_map(words)) if template else ""

    for name in ("title", "summary", "body", "detour_text"):
        _translate(works, name, fill(kind.get(name)), fill(kind.get(f"{name}_en")))


def works_seed(ctx: SeedContext, data: dict[str, Any]) -> None:
    for entry in data["items"]:
        uid = demo_uuid(Works.type_code, entry["key"])
        if _exists(ctx, Works, uid):
            continue
        kind = {**data["kinds"][entry["kind"]], **entry}
        start_at, end_at, periods = _works_dates(ctx, kind, entry["days"])
        if periods and periods[0].is_overnight:
            dates, dates_en = nights_fr(periods[0]), nights_en(periods[0])
        else:
            start_day, end_day = timezone.localdate(start_at), timezone.localdate(end_at)
            dates, dates_en = span_fr(start_day, end_day), span_en(start_day, end_day)
        hours = [time.fromisoformat(hhmm) for hhmm in kind.get("hours", ["08:00", "17:00"])]
        street = entry["street"]
        detour = entry.get("detour")
        if detour:
            kind.setdefault("detour_text", "Déviation par {detour_the}.")
            kind.setdefault("detour_text_en", "Detour via {detour}.")
        else:
            kind.pop("detour_text", None)
            kind.pop("detour_text_en", None)
        works = Works(
            uuid=uid,
            organization=ctx.organizations[kind["org"]],
            category=ctx.categories[kind["category"]],
            geometry=ctx.city.street_section(street, *entry["span"]),
            urgency=Urgency.from_code(kind.get("urgency", "info")),
            notify=kind.get("notify", False),
            work_type=kind["work_type"],
            severity=kind["severity"],
            start_at=start_at,
            end_at=end_at,
            night_work=kind["schedule"] == "night",
            road_state=kind["road_state"],
            lanes_closed=kind.get("lanes"),
            road_names=[street],
            restrictions=kind.get("restrictions", []),
            reduced_speed_limit_kph=kind.get("speed"),
            detour_geometry=ctx.city.street_multiline(detour) if detour else None,
            contractor=kind.get("contractor", ""),
            **{f"impacts_{impact}": True for impact in kind["impacts"]},
        )
        _works_texts(
            works,
            kind,
            {
                "street": street,
                "detour": detour or "",
                "detour_the": street_with_article(detour) if detour else "",
                "contractor": kind.get("contractor", ""),
                "dates": dates,
                "dates_en": dates_en,
                "hours": f"de {time_fr(hours[0])} à {time_fr(hours[1])}",
                "hours_en": f"{time_en(hours[0])} to {time_en(hours[1])}",
            },
        )
        user = ctx.editors[kind["org"]]
        works_save(works=works, periods=periods, user=user)
        announced = min(start_at - timedelta(days=WORKS_NOTICE_DAYS), ctx.now)
        _lifecycle(ctx, works, entry, announced)
        if entry.get("cancel"):
            works_cancel(works=works, user=user)
        ctx.tally(Works.type_code, created=True)


# --- events -----------------------------------------------------------------------------------


def _event_dates(ctx: SeedContext, entry: dict[str, Any]) -> tuple[datetime, datetime, bool]:
    """First start and end of an event; a recurring one starts on its rule's first date."""
    if entry.get("all_day"):
        return ctx.at(entry["day"], "00:00"), ctx.at(entry["day"], "23:59"), False
    start = ctx.at(entry["day"], entry["time"])
    if entry.get("rrule"):
        start = timezone.make_aware(
            next(iter(rrulestr(entry["rrule"], dtstart=start.replace(tzinfo=None))))
        )
    if "until" in entry:
        return start, ctx.at(*entry["until"]), True
    return start, start + timedelta(minutes=round(60 * entry["hours"])), True


def _event_body(event: Event, entry: dict[str, Any], lang: str) -> str:
    """The summary followed by the practical information, in French or English."""
    summary = entry.get("summary" if lang == "fr" else "summary_en", "")
    lines = []
    if event.venue is not None:
        venue = event.venue
        where = f"{venue.name}, {venue.address}, {venue.postal_code} {venue.city}"
        lines.append(f"Lieu : {where}." if lang == "fr" else f"Venue: {where}.")
    if event.is_free:
        lines.append("Entrée libre et gratuite." if lang == "fr" else "Free admission.")
    elif lang == "fr":
        lines.append(f"Tarifs : {entry['price']['info']}.")
    else:
        lines.append(f"Tickets from €{event.price_min}.")
    if event.registration_required:
        lines.append("Inscription obligatoire." if lang == "fr" else "Registration required.")
    if event.online_url:
        lines.append(
            f"En direct : {event.online_url}" if lang == "fr" else f"Live: {event.online_url}"
        )
    return f"{summary}\n\n{' '.join(lines)}"


def _published_days_ago(key: str) -> int:
    """Events were announced 1 to 12 days ago (deterministic per event)."""
    return 1 + zlib.crc32(key.encode()) % 12


def events_seed(ctx: SeedContext, entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        uid = demo_uuid(Event.type_code, entry["key"])
        if _exists(ctx, Event, uid):
            continue
        start_at, end_at, timed = _event_dates(ctx, entry)
        venue = ctx.venues[entry["venue"]] if "venue" in entry else None
        price = entry.get("price")
        ages = entry.get("ages", [None, None])
        event = Event(
            uuid=uid,
            organization=ctx.organizations[entry.get("org", "ville-de-lyonnay")],
            category=ctx.categories[entry["category"]],
            geometry=ctx.city.street_section(*entry["route"]) if "route" in entry else None,
            notify=entry.get("notify", False),
            start_at=start_at,
            end_at=end_at,
            has_start_time=timed,
            has_end_time=timed,
            rrule=entry.get("rrule", ""),
            venue=venue,
            attendance_mode=entry.get("mode", AttendanceMode.OFFLINE),
            online_url=entry.get("online_url", ""),
            is_free=price is None,
            price_min=Decimal(str(price["min"])) if price else None,
            ticket_url=(price or {}).get("url", ""),
            audience=entry.get("audience", Audience.EVERYONE),
            age_min=ages[0],
            age_max=ages[1],
            accessibility=entry.get("access", venue.accessibility if venue else []),
            registration_required="registration" in entry,
            registration_url=entry.get("registration", ""),
        )
        _translate(event, "price_info", price["info"] if price else "", None)
        _translate(event, "title", entry["title"], entry.get("title_en"))
        _translate(event, "summary", entry["summary"], entry.get("summary_en"))
        english_body = _event_body(event, entry, "en") if "summary_en" in entry else None
        _translate(event, "body", _event_body(event, entry, "fr"), english_body)
        user = ctx.editors[event.organization.slug]
        event_save(event=event, user=user)
        _lifecycle(ctx, event, entry, ctx.at(-_published_days_ago(entry["key"]), "10:00"))
        status = entry.get("event_status", EventStatus.SCHEDULED)
        if status == EventStatus.CANCELLED:
            event_cancel(event=event, user=user)
        elif status == EventStatus.POSTPONED:
            event_postpone(event=event, user=user)
        ctx.tally(Event.type_code, created=True)
