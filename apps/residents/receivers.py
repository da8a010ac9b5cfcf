"""Receivers of content signals: forget saved references to deleted items."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from apps.core.models import Tombstone
from apps.core.signals import content_removed
from apps.residents.services import saved_items_forget_item


@receiver(content_removed, dispatch_uid="residents.saved_items_forget_deleted")
def saved_items_forget_deleted(
    sender: Any, item_type: str, item_id: int, reason: str, **kwargs: Any
) -> None:
    """A deleted item cannot come back: drop it from saved lists (archived ones stay listed)."""
    if reason == Tombstone.Reason.DELETED:
        saved_items_forget_item(item_type=item_type, item_id=item_id)
