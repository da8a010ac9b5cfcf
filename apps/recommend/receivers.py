"""Keep the interaction log and feed snapshots in step with residents' transfers and erasure."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from apps.recommend.online.snapshot import snapshots_forget
from apps.recommend.services import interactions_erase, interactions_move
from apps.residents.models import Device
from apps.residents.signals import device_transferred, devices_erased, personalization_withdrawn


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


@receiver(personalization_withdrawn, dispatch_uid="recommend.snapshots_forget_on_withdrawal")
def snapshots_forget_on_withdrawal(sender: Any, device: Device, **kwargs: Any) -> None:
    """The personal feed (places' names, follows) was built under the consent withdrawn."""
    snapshots_forget(device_id=device.pk, erased=False)


@receiver(devices_erased, dispatch_uid="recommend.snapshots_forget_on_erasure")
def snapshots_forget_on_erasure(sender: Any, device_ids: list[int], **kwargs: Any) -> None:
    for device_id in device_ids:
        snapshots_forget(device_id=device_id, erased=True)
