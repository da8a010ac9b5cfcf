"""Reads of events: the public lists and details the API serves, with their next dates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from apps.core.selectors import LIST_DEFERRED
from apps.events.models import Event, EventOccurrence


def event_list(at: datetime | None = None) -> QuerySet[Event]:
    """Public events with venue, category, organization and ``next_start_at``/``next_end_at``.

    The next dates are those of the first occurrence not yet ended at ``at`` (now). The bodies
    are not loaded (``LIST_DEFERRED``); read them from ``event_detail()``.
    """
    now = at or timezone.now()
    upcoming = EventOccurrence.objects.filter(event=OuterRef("pk"), end_at__gt=now).order_by(
        "start_at"
    )
    return (
        Event.objects.public(now)
        .select_related("category", "organization", "venue")
        .defer(*LIST_DEFERRED)
        .annotate(
            next_start_at=Subquery(upcoming.values("start_at")[:1]),
            next_end_at=Subquery(upcoming.values("end_at")[:1]),
        )
    )


def event_detail(at: datetime | None = None) -> QuerySet[Event]:
    """Public events, every column, with their areas and every occurrence prefetched."""
    return event_list(at).defer(None).prefetch_related("areas", "occurrences")


def occurrences_starting(
    *, event_ids: Any, after: datetime, until: datetime, at: datetime
) -> QuerySet[EventOccurrence]:
    """Occurrences of the public (at ``at``) events among ``event_ids`` (ids or a subquery)
    starting in (``after``, ``until``], soonest first, with their event and its venue: the
    saved-event reminders (``apps.notifications``)."""
    return (
        EventOccurrence.objects.filter(
            event__in=Event.objects.public(at).filter(pk__in=event_ids),
            start_at__gt=after,
            start_at__lte=until,
        )
        .select_related("event", "event__venue")
        .order_by("start_at")
    )
