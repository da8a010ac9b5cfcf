"""Writes on events: save (occurrences, venue point, series end), cancel, postpone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.services import content_save
from apps.events.models import Event, EventOccurrence, EventStatus, Venue
from apps.events.recurrence import RecurrenceError, recurrence_expand

Span = tuple[datetime, datetime]


def event_expand(*, start_at: datetime, end_at: datetime, rrule: str) -> list[Span]:
    """The occurrences of a first (start, end) repeated by ``rrule``, in local wall-clock time.

    Expansion happens in the site's time zone so that a weekly 18:00 event stays at 18:00
    across daylight-saving changes; ``recurrence_expand`` bounds the work and the count
    (``HORIZON``, ``MAX_OCCURRENCES``) and refuses a rule with no date.
    """
    if not rrule:
        return [(start_at, end_at)]
    duration = end_at - start_at
    try:
        starts = recurrence_expand(rule=rrule, dtstart=timezone.localtime(start_at))
    except RecurrenceError as exc:
        raise ValidationError({"rrule": ValidationError(str(exc), code=exc.code)}) from None
    return [(start, start + duration) for start in starts]


@transaction.atomic
def event_save(
    *,
    event: Event,
    extra_dates: Iterable[Span] | None = None,
    user: Any = None,
) -> list[str]:
    """Save an event and rebuild its occurrences; return the material changes.

    ``extra_dates`` replaces the hand-added dates when given, and keeps them otherwise. The
    venue's point becomes the geometry when none is drawn. A material change bumps the
    iCalendar SEQUENCE.
    """
    if event.geometry is None and event.venue is not None:
        event.geometry = event.venue.location
    if event.end_at is not None and event.start_at is not None and event.end_at < event.start_at:
        raise ValidationError({"end_at": _("La fin doit suivre le début.")})
    spans = event_expand(start_at=event.start_at, end_at=event.end_at, rrule=event.rrule)
    if extra_dates is None and event.pk is not None:
        extra_dates = list(
            event.occurrences.filter(origin=EventOccurrence.Origin.EXTRA).values_list(
                "start_at", "end_at"
            )
        )
    extras = sorted(extra_dates or [])
    for start, end in extras:
        if end < start:
            raise ValidationError(_("La fin d'une date doit suivre son début."))
    event.last_end_at = max(end for _start, end in [*spans, *extras])
    changes = content_save(item=event, user=user)
    event.occurrences.all().delete()
    seen: set[datetime] = set()
    rows = []
    for index, (start, end) in enumerate(spans):
        origin = EventOccurrence.Origin.MAIN if index == 0 else EventOccurrence.Origin.RULE
        rows.append(EventOccurrence(event=event, start_at=start, end_at=end, origin=origin))
        seen.add(start)
    for start, end in extras:
        if start not in seen:
            rows.append(EventOccurrence(event=event, start_at=start, end_at=end))
            seen.add(start)
    EventOccurrence.objects.bulk_create(rows)
    if changes:
        Event.objects.filter(pk=event.pk).update(sequence=F("sequence") + 1)
        event.refresh_from_db(fields=["sequence"])
    return changes


def _set_status(event: Event, status: str, user: Any) -> list[str]:
    fresh = Event.objects.get(pk=event.pk)
    if fresh.event_status == status:
        return []
    fresh.event_status = status
    changes = event_save(event=fresh, user=user)
    event.event_status = fresh.event_status
    event.sequence = fresh.sequence
    return changes


@transaction.atomic
def event_cancel(*, event: Event, user: Any = None) -> list[str]:
    """Cancel an event: it stays listed as cancelled, and an update push replaces the first."""
    return _set_status(event, EventStatus.CANCELLED, user)


@transaction.atomic
def event_postpone(*, event: Event, user: Any = None) -> list[str]:
    """Postpone an event to a date not yet known."""
    if event.event_status == EventStatus.CANCELLED:
        raise ValidationError(_("Un événement annulé ne peut pas être reporté."))
    return _set_status(event, EventStatus.POSTPONED, user)


@transaction.atomic
def venue_upsert(*, name: str, address: str, **fields: Any) -> Venue:
    """The venue called ``name`` at ``address``, created or updated with ``fields``."""
    venue = Venue.objects.select_for_update().filter(name=name, address=address).first()
    if venue is None:
        venue = Venue(name=name, address=address)
    for field, value in fields.items():
        setattr(venue, field, value)
    venue.full_clean()
    venue.save()
    return venue
