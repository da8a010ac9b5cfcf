"""Content signals → CAP messages, in the publishing transaction (``apps.core.signals``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.dispatch import receiver

from apps.alerts import services
from apps.core.models import PublishableContent
from apps.core.signals import (
    content_changed,
    content_published,
    content_removed,
    contents_published,
)

#: A change to one of these values withdraws the alert: a cancelled event or roadwork.
_CANCELLED = {"event_status": "cancelled", "work_status": "cancelled"}


@receiver(content_published, dispatch_uid="alerts.content_published")
def cap_on_publish(sender: Any, item: PublishableContent, **kwargs: Any) -> None:
    services.cap_item_publish(item=item)


@receiver(contents_published, dispatch_uid="alerts.contents_published")
def cap_on_bulk_publish(sender: Any, items: Sequence[PublishableContent], **kwargs: Any) -> None:
    for item in items:
        services.cap_item_publish(item=item)


@receiver(content_changed, dispatch_uid="alerts.content_changed")
def cap_on_change(
    sender: Any, item: PublishableContent, changes: Sequence[str], **kwargs: Any
) -> None:
    """A material change: an ``Update``; a cancellation: a ``Cancel``."""
    if any(
        getattr(item, name, None) == value for name, value in _CANCELLED.items() if name in changes
    ):
        services.cap_item_cancel(item_type=item.type_code, item_id=item.pk)
    else:
        services.cap_item_publish(item=item)


@receiver(content_removed, dispatch_uid="alerts.content_removed")
def cap_on_remove(sender: Any, item_type: str, item_id: int, **kwargs: Any) -> None:
    services.cap_item_cancel(item_type=item_type, item_id=item_id)
