"""Content signals → the OpenAgenda export outbox (``apps.interop.openagenda.export``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from apps.core.item_types import ItemType
from apps.core.signals import content_removed, content_saved, contents_saved
from apps.interop.openagenda.export import exports_record, exports_record_many


@receiver(content_saved, dispatch_uid="interop.openagenda_saved")
def export_on_save(sender: Any, item_type: str, item_id: int, **kwargs: Any) -> None:
    if item_type == ItemType.EVENTS.code:
        exports_record(event_id=item_id)


@receiver(contents_saved, dispatch_uid="interop.openagenda_bulk_saved")
def export_on_bulk_save(sender: Any, item_type: str, item_ids: list[int], **kwargs: Any) -> None:
    if item_type == ItemType.EVENTS.code:
        exports_record_many(event_ids=item_ids)


@receiver(content_removed, dispatch_uid="interop.openagenda_removed")
def export_on_remove(sender: Any, item_type: str, item_id: int, **kwargs: Any) -> None:
    if item_type == ItemType.EVENTS.code:
        exports_record(event_id=item_id, removed=True)
