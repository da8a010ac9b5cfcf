"""Reads of interop: the published roadworks the open feeds carry."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from apps.works.models import Works
from apps.works.selectors import works_list

#: A feed carries at most this many works (the soonest first), so that it stays bounded.
MAX_FEED_WORKS = 5000


def works_for_feeds(*, updated_since: datetime | None = None) -> QuerySet[Works]:
    """Published works (the API's public list, every column), with their periods prefetched."""
    queryset = works_list().defer(None).prefetch_related("periods")
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    return queryset.order_by("start_at", "id")
