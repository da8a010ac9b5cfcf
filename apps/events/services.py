"""Writes on events: apply a write (API, admin), save (occurrences, venue point, series end),
cancel, postpone."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.audit.actors import bulk_create_with_audit, bulk_update_with_audit, with_user
from apps.core.bulk import RowRefusedError, contents_announce, contents_create, rows_create
from apps.core.models import Organization
from apps.core.services import CONTENT_FIELDS, content_apply, content_save
from apps.events.models import Event, EventOccurrence, EventStatus, Venue
from apps.events.recurrence import RecurrenceError, recurrence_expand

Span = tuple[datetime, datetime]

#: Columns an event write copies as given; ``venue``, ``extra_dates`` and ``event_status``
#: have their own rules (``event_apply``).
EVENT_FIELDS: tuple[str, ...] = (
    *CONTENT_FIELDS,
    "start_at",
    "end_at",
    "has_start_time",
    "has_end_time",
    "rrule",
    "excluded_dates",
    "attendance_mode",
    "online_url",
    "is_free",
    "price_min",
    "price_info_fr",
    "price_info_en",
    "ticket_url",
    "audience",
    "age_min",
    "age_max",
    "accessibility",
    "registration_required",
    "registration_url",
)
#: Statuses a write sets directly; cancelling and postponing an existing event are transitions.
DIRECT_STATUSES = (
    EventStatus.SCHEDULED,
    EventStatus.RESCHEDULED,
    EventStatus.MOVED_ONLINE,
    EventStatus.FULL,
)


def event_expand(
    *, start_at: datetime, end_at: datetime, rrule: str, excluded: Iterable[str] = ()
) -> list[Span]:
    """The occurrences of a first (start, end) repeated by ``rrule``, in local wall-clock time.

    Expansion happens in the site's time zone so that a weekly 18:00 event stays at 18:00
    across daylight-saving changes; ``recurrence_expand`` bounds the work and the count
    (``HORIZON``, ``MAX_OCCURRENCES``) and refuses a rule with no date. ``excluded`` (local
    ``YYYY-MM-DD`` dates, iCalendar EXDATE) removes the rule's dates on those days; the first
    date, the event's own start, cannot be skipped (move the start instead).
    """
    if not rrule:
        return [(start_at, end_at)]
    duration = end_at - start_at
    try:
        starts = recurrence_expand(rule=rrule, dtstart=timezone.localtime(start_at))
    except RecurrenceError as exc:
        raise ValidationError({"rrule": ValidationError(str(exc), code=exc.code)}) from None
    skipped = set(excluded)
    if skipped and starts[0].date().isoformat() in skipped:
        raise ValidationError(
            {
                "excluded_dates": _(
                    "La première date ne peut pas être sautée : avancez plutôt le début."
                )
            }
        )
    return [
        (start, start + duration) for start in starts if start.date().isoformat() not in skipped
    ]


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
    if extra_dates is None and event.pk is not None:
        extra_dates = list(
            event.occurrences.filter(origin=EventOccurrence.Origin.EXTRA).values_list(
                "start_at", "end_at"
            )
        )
    spans, extras = _prepared(event, extra_dates or [])
    changes = content_save(item=event, user=user)
    wanted: dict[datetime, tuple[datetime, str]] = {}
    for index, (start, end) in enumerate(spans):
        origin = EventOccurrence.Origin.MAIN if index == 0 else EventOccurrence.Origin.RULE
        wanted.setdefault(start, (end, origin))
    for start, end in extras:
        wanted.setdefault(start, (end, EventOccurrence.Origin.EXTRA))
    _occurrences_replace(event, wanted, user)
    if changes:
        Event.objects.filter(pk=event.pk).update(sequence=F("sequence") + 1)
        event.refresh_from_db(fields=["sequence"])
    return changes


def _occurrences_replace(
    event: Event, wanted: dict[datetime, tuple[datetime, str]], user: Any
) -> None:
    """Make the event's dates ``wanted`` (start → end, origin), touching only what differs:
    the audit trail then shows the dates added, moved and removed, not a rewrite of all."""
    existing = {o.start_at: o for o in event.occurrences.all()}
    for start, occurrence in existing.items():
        if start not in wanted:
            with_user(occurrence, user).delete()
    changed: list[EventOccurrence] = []
    added: list[EventOccurrence] = []
    for start, (end, origin) in wanted.items():
        found = existing.get(start)
        if found is None:
            added.append(EventOccurrence(event=event, start_at=start, end_at=end, origin=origin))
        elif (found.end_at, found.origin) != (end, origin):
            found.end_at, found.origin = end, origin
            changed.append(found)
    if changed:
        bulk_update_with_audit(EventOccurrence, changed, ["end_at", "origin"], user=user)
    if added:
        bulk_create_with_audit(EventOccurrence, added, user=user)


def _occurrence_rows(event: Event, spans: list[Span], extras: list[Span]) -> list[EventOccurrence]:
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
    return rows


def _prepared(event: Event, extra_dates: Iterable[Span]) -> tuple[list[Span], list[Span]]:
    """What ``event_save`` does to an event before saving it: its point (the venue's when none
    is drawn), its dates checked, the rule expanded, the series end; returns the rule's spans
    and the sorted extra dates."""
    if event.geometry is None and event.venue is not None:
        event.geometry = event.venue.location
    if event.end_at is not None and event.start_at is not None and event.end_at < event.start_at:
        raise ValidationError({"end_at": _("La fin doit suivre le début.")})
    days = event.excluded_dates or []
    # Anything but a list of texts is left as it is for the model's validator to refuse.
    readable = isinstance(days, list) and all(isinstance(day, str) for day in days)
    if readable:
        event.excluded_dates = sorted(set(days))
    spans = event_expand(
        start_at=event.start_at,
        end_at=event.end_at,
        rrule=event.rrule,
        excluded=event.excluded_dates if readable else (),
    )
    extras = sorted(extra_dates)
    for start, end in extras:
        if end < start:
            raise ValidationError(_("La fin d'une date doit suivre son début."))
    event.last_end_at = max(end for _start, end in [*spans, *extras])
    return spans, extras


def events_create_many(
    *,
    rows: Sequence[tuple[Event, Iterable[Span]]],
    organization: Organization,
    publish_at: datetime | None = None,
    after_insert: Callable[[list[Event]], Any] | None = None,
) -> list[Event]:
    """Create many new events with their occurrences at once (a first import), in a few queries.

    ``rows`` pairs each new draft ``Event`` (columns, venue and ``event_status`` set, no pk)
    with its extra dates. The rules of ``event_apply`` → ``event_save`` and, with
    ``publish_at``, ``content_publish`` for every event not over by then, applied to the
    batch (``apps.core.bulk.contents_create``): the venue's point, the rule's dates, the
    series end, validation, areas, occurrences, the ``new`` push of those that notify.
    ``after_insert`` writes the caller's rows of the new events before the batch signals go.
    Raises ``ValidationError`` (``RowRefusedError`` naming the event) if one is refused.
    """
    items: list[Event] = []
    occurrences: list[tuple[Event, list[Span], list[Span]]] = []
    for event, extra_dates in rows:
        event.organization = organization
        try:
            spans, extras = _prepared(event, extra_dates)
        except ValidationError as exc:
            raise RowRefusedError(exc, row=event) from exc
        items.append(event)
        occurrences.append((event, spans, extras))
    contents_create(model=Event, items=items, publish_at=publish_at)
    rows_create(
        EventOccurrence,
        [
            row
            for event, spans, extras in occurrences
            for row in _occurrence_rows(event, spans, extras)
        ],
    )
    if after_insert is not None:
        after_insert(items)
    contents_announce(model=Event, items=items)
    return items


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


def _span(date: Any) -> Span:
    if isinstance(date, Mapping):
        return (date["start_at"], date["end_at"])
    start, end = date
    return (start, end)


@transaction.atomic
def event_apply(
    *,
    event: Event | None = None,
    data: Mapping[str, Any],
    organization: Organization | None = None,
    user: Any = None,
) -> Event:
    """Create (``event=None``) or update an event from validated ``data`` (``content_apply``).

    Rules of the type, whoever writes:

    - ``venue``: a mapping (``venue_upsert``: found by name and address, else created), a
      ``Venue``, or ``None`` (no venue). A venue given without a ``geometry`` places an
      existing event at the venue's point; a new event takes it anyway when none is drawn
      (``event_save``).
    - ``extra_dates`` (``{start_at, end_at}`` mappings or pairs) replaces the hand-added dates;
      without it they are kept.
    - ``event_status``: a new event takes any status; an existing one is set to ``scheduled``
      or ``rescheduled`` directly, and ``cancelled``/``postponed`` go through
      ``event_cancel``/``event_postpone`` (update push, SEQUENCE) before any lifecycle step.
    """
    values = dict(data)
    item = event if event is not None else Event()
    created = item.pk is None
    status = values.pop("event_status", None)
    dates = values.pop("extra_dates", None)
    spans = None if dates is None else [_span(date) for date in dates]
    if "venue" in values:
        venue = values.pop("venue")
        if isinstance(venue, Mapping):
            venue = venue_upsert(**venue)
        item.venue = venue
        if venue is not None and "geometry" not in values and not created:
            item.geometry = venue.location

    def save(saved: Any) -> None:
        if status and (created or status in DIRECT_STATUSES):
            saved.event_status = status
        event_save(event=saved, extra_dates=spans, user=user)
        if status == EventStatus.CANCELLED and not created:
            event_cancel(event=saved, user=user)
        elif status == EventStatus.POSTPONED and not created:
            event_postpone(event=saved, user=user)

    content_apply(
        item=item,
        data=values,
        organization=organization,
        user=user,
        fields=EVENT_FIELDS,
        save=save,
    )
    return item


@transaction.atomic
def venue_upsert(*, name: str, address: str, **fields: Any) -> Venue:
    """The venue called ``name`` at ``address``, created or updated with ``fields`` (left
    alone when they are its values already)."""
    venue = Venue.objects.select_for_update().filter(name=name, address=address).first()
    if venue is not None and all(getattr(venue, f) == v for f, v in fields.items()):
        # Unchanged: no write, so the events embedding it are not re-rendered (an import
        # upserts each of its venues on every run).
        return venue
    if venue is None:
        venue = Venue(name=name, address=address)
    for field, value in fields.items():
        setattr(venue, field, value)
    venue.full_clean()
    venue.save()
    return venue
