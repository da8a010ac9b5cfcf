"""Moving to a new phone without an account: one-time transfer codes."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.residents.erasures import erasures_record
from apps.residents.models import (
    AreaFollow,
    CategoryFollow,
    Device,
    OrganizationFollow,
    Place,
    SavedItem,
    TransferCode,
)
from apps.residents.services.devices import device_register, devices_erased_on_commit
from apps.residents.signals import device_transferred
from apps.residents.tokens import (
    transfer_code_hash,
    transfer_code_new,
    transfer_code_normalize,
)

#: The residents' own rows that follow the resident to the new device.
PROFILE_MODELS = (Place, CategoryFollow, AreaFollow, OrganizationFollow, SavedItem)


@transaction.atomic
def transfer_code_create(*, device: Device) -> tuple[str, datetime]:
    """Issue a one-time code for ``device`` (replacing any earlier one); return it in clear.

    Only its keyed hash is stored; it expires after ``TransferCode.LIFETIME``.
    """
    TransferCode.objects.filter(device=device).delete()
    while True:
        code = transfer_code_new()
        code_hash = transfer_code_hash(transfer_code_normalize(code) or "")
        if not TransferCode.objects.filter(code_hash=code_hash).exists():
            break
    expires_at = timezone.now() + TransferCode.LIFETIME
    TransferCode.objects.create(device=device, code_hash=code_hash, expires_at=expires_at)
    return code, expires_at


def _invalid_code() -> ValidationError:
    return ValidationError(
        {"transfer_code": [_("Code de transfert invalide, déjà utilisé ou expiré.")]}
    )


@transaction.atomic
def device_register_by_transfer(
    *,
    transfer_code: str,
    platform: str,
    push_token: str | None = None,
    language: str | None = None,
    timezone_name: str | None = None,
) -> tuple[Device, str]:
    """Register a new device that takes over the profile of the code's device.

    Preferences are copied; places, follows and saved items move; ``device_transferred`` lets
    other apps move their rows (the interaction log moves only with consent); then the old
    device is erased, so its token and the code stop working. The code row is locked, so two
    concurrent uses cannot both succeed.
    """
    normalized = transfer_code_normalize(transfer_code)
    if normalized is None:
        raise _invalid_code()
    code = (
        TransferCode.objects.select_for_update()
        .select_related("device")
        .filter(code_hash=transfer_code_hash(normalized), expires_at__gt=timezone.now())
        .first()
    )
    if code is None:
        raise _invalid_code()
    old = code.device
    new, token = device_register(
        platform=platform,
        push_token=push_token,
        language=language,
        timezone_name=timezone_name,
        copy_from=old,
    )
    for model in PROFILE_MODELS:
        model.objects.filter(device=old).update(device=new)
    device_transferred.send(sender=Device, old_device=old, new_device=new)
    old_pk = old.pk
    erasures_record(devices=[(old_pk, old.created_at)], reason="transfer")
    old.delete()
    devices_erased_on_commit([old_pk])
    return new, token


def transfer_codes_purge(*, now: datetime | None = None) -> int:
    """Delete expired transfer codes; return how many."""
    deleted, _counts = TransferCode.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
