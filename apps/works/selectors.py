"""Reads of roadworks: the public lists and details the API serves."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from apps.core.selectors import LIST_DEFERRED
from apps.works.models import Works

#: Detail-only columns of works, not loaded for lists (with the bodies, ``LIST_DEFERRED``).
WORKS_LIST_DEFERRED = (
    *LIST_DEFERRED,
    "detour_text",
    "detour_text_fr",
    "detour_text_en",
    "detour_geometry",
    "restrictions",
    "road_names",
)


def works_list() -> QuerySet[Works]:
    """Public works with what a list item shows (category, organization): no query per row.

    Detail-only columns are not loaded (``WORKS_LIST_DEFERRED``); read them from
    ``works_detail()``.
    """
    return (
        Works.objects.public()
        .select_related("category", "organization")
        .defer(*WORKS_LIST_DEFERRED)
    )


def works_detail() -> QuerySet[Works]:
    """Public works, every column, with their areas and periods prefetched."""
    return works_list().defer(None).prefetch_related("areas", "periods")


def works_starting(*, start: datetime, end: datetime, at: datetime) -> QuerySet[Works]:
    """Public (at ``at``), not cancelled works with a geometry, starting in [``start``,
    ``end``): the roadworks reminders of the evening before (``apps.notifications``)."""
    return (
        Works.objects.public(at)
        .filter(geometry__isnull=False, start_at__gte=start, start_at__lt=end)
        .exclude(work_status="cancelled")
    )
