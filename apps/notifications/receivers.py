"""Content signals → notifications. Sent inside the publishing transaction, so the outbox rows
commit with the publication (``apps.core.signals``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.dispatch import receiver

from apps.core.models import PublishableContent
from apps.core.signals import content_changed, content_published
from apps.notifications import services
from apps.notifications.models import Kind


@receiver(content_published, dispatch_uid="notifications.content_published")
def notify_on_publish(sender: Any, item: PublishableContent, **kwargs: Any) -> None:
    """An item with ``notify`` became public: tell its audience (once per item)."""
    if item.notify:
        services.notify_item(item=item, kind=Kind.NEW)


@receiver(content_changed, dispatch_uid="notifications.content_changed")
def notify_on_change(
    sender: Any, item: PublishableContent, changes: Sequence[str], **kwargs: Any
) -> None:
    """A public item that was announced changed materially: an update replaces the push."""
    if item.notify and services.was_announced(item):
        services.notify_item(item=item, kind=Kind.UPDATE, changes=changes)
