"""Content signals → notifications. Sent inside the publishing transaction, so the outbox rows
commit with the publication (``apps.core.signals``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from apps.core.models import PublishableContent
from apps.core.signals import content_changed, content_published, contents_published
from apps.notifications import services
from apps.notifications.models import Kind
from apps.notifications.retention import device_notifications_forget
from apps.residents.models import Device


@receiver(content_published, dispatch_uid="notifications.content_published")
def notify_on_publish(sender: Any, item: PublishableContent, **kwargs: Any) -> None:
    """An item with ``notify`` became public: tell its audience (once per item)."""
    if item.notify:
        services.item_notify(item=item, kind=Kind.NEW)


@receiver(contents_published, dispatch_uid="notifications.contents_published")
def notify_on_bulk_publish(sender: Any, items: Sequence[PublishableContent], **kwargs: Any) -> None:
    """Many new items became public (an import): the same notifications, written together."""
    services.items_notify_new(items=[item for item in items if item.notify])


@receiver(content_changed, dispatch_uid="notifications.content_changed")
def notify_on_change(
    sender: Any, item: PublishableContent, changes: Sequence[str], **kwargs: Any
) -> None:
    """A public item that was announced changed materially: an update replaces the push."""
    if item.notify and services.item_announced(item=item):
        services.item_notify(item=item, kind=Kind.UPDATE, changes=changes)


@receiver(post_delete, sender=Device, dispatch_uid="notifications.device_deleted")
def forget_device(sender: Any, instance: Device, **kwargs: Any) -> None:
    """An erased device takes its digests and test pushes with it (GDPR erasure)."""
    device_notifications_forget(device_id=instance.pk)
