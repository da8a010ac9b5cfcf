"""Reads of public alerts: the feed's messages, an item's CAP messages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import OuterRef, Q, QuerySet, Subquery

from apps.alerts.models import CapMessage, CapStatus, MsgType

#: Entries of the Atom feed, at most; a lifted alert stays listed this long.
MAX_FEED_ENTRIES = 200
CANCEL_LISTED_FOR = timedelta(hours=24)


def feed_messages(*, now: datetime) -> QuerySet[CapMessage]:
    """The latest message of each item, drills left out (they never leave the test devices):
    alerts and updates still in force, and cancels of the last 24 hours."""
    latest = (
        CapMessage.objects.filter(item_type=OuterRef("item_type"), item_id=OuterRef("item_id"))
        .order_by("-sent_at", "-id")
        .values("pk")[:1]
    )
    live = ~Q(msg_type=MsgType.CANCEL) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    lifted = Q(msg_type=MsgType.CANCEL, sent_at__gte=now - CANCEL_LISTED_FOR)
    return (
        CapMessage.objects.exclude(status=CapStatus.EXERCISE)
        .filter(pk=Subquery(latest))
        .filter(live | lifted)
        .order_by("-sent_at", "-id")[:MAX_FEED_ENTRIES]
    )


def item_messages(*, item_type: str, item_id: int) -> QuerySet[CapMessage]:
    return CapMessage.objects.of_item(item_type, item_id).order_by("sent_at", "id")
