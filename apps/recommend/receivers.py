"""Keep the interaction log in step with residents: transfers and withdrawn consent."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from apps.recommend.services import interactions_erase, interactions_move
from apps.residents.models import Device
from apps.residents.signals import device_transferred, personalization_withdrawn


@receiver(device_transferred, dispatch_uid="recommend.interactions_follow_transfer")
def interactions_follow_transfer(
    sender: Any, old_device: Device, new_device: Device, **kwargs: Any
) -> None:
    """The log moves to the new phone only if the resident had accepted personalization."""
    if old_device.personalization_consent:
        interactions_move(old_device=old_device, new_device=new_device)


@receiver(personalization_withdrawn, dispatch_uid="recommend.interactions_erase_on_withdrawal")
def interactions_erase_on_withdrawal(sender: Any, device: Device, **kwargs: Any) -> None:
    interactions_erase(device=device)
