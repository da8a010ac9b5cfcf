"""Content signals → the DiaLog outbox, inside the roadwork's transaction (``apps.core.signals``).

``content_saved`` is sent after every write of an item (publication, any edit, periods,
cancellation, unpublication, deletion), so one receiver sees every change DiaLog must hear of.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from apps.core.item_types import ItemType
from apps.core.signals import content_saved, contents_saved
from apps.interop.dialog.services import works_change_record, works_changes_record


@receiver(content_saved, dispatch_uid="interop.dialog.content_saved")
def dialog_on_save(sender: Any, item_type: str, item_id: int, **kwargs: Any) -> None:
    if item_type == ItemType.WORKS.code:
        works_change_record(works_id=item_id)


@receiver(contents_saved, dispatch_uid="interop.dialog.contents_saved")
def dialog_on_bulk_save(sender: Any, item_type: str, item_ids: list[int], **kwargs: Any) -> None:
    if item_type == ItemType.WORKS.code:
        works_changes_record(works_ids=item_ids)
