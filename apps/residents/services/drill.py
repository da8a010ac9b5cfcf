"""Test devices for drill alerts: a code shown in the app, confirmed by the resident or typed
by a staff member in the admin (docs/alerts.md, "Exercices")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from apps.residents.models import Device, DrillEnrolment
from apps.residents.tokens import transfer_code_new, transfer_code_normalize


def drill_code_hash(normalized: str) -> str:
    """The stored form of a normalised drill code (keyed HMAC-SHA256, hex)."""
    return salted_hmac("quartier.residents.drill-code", normalized, algorithm="sha256").hexdigest()


@transaction.atomic
def drill_code_create(*, device: Device) -> tuple[str, datetime]:
    """Issue the code the app shows to enrol ``device`` (replacing an earlier one)."""
    while True:
        code = transfer_code_new()
        code_hash = drill_code_hash(transfer_code_normalize(code) or "")
        if not DrillEnrolment.objects.filter(code_hash=code_hash).exists():
            break
    expires_at = timezone.now() + DrillEnrolment.LIFETIME
    DrillEnrolment.objects.update_or_create(
        device=device, defaults={"code_hash": code_hash, "code_expires_at": expires_at}
    )
    return code, expires_at


def _invalid_code() -> ValidationError:
    return ValidationError({"code": [_("Code d'exercice invalide, utilisé ou expiré.")]})


@transaction.atomic
def drill_enrol(
    *, code: str, device: Device | None = None, user: Any = None, label: str = ""
) -> DrillEnrolment:
    """Enrol the device that shows ``code`` as a test device; single use.

    ``device`` given (the app confirming its own code): the code must be that device's.
    ``user`` given (a staff member typing the code shown on the phone): recorded.
    """
    normalized = transfer_code_normalize(code or "")
    if normalized is None:
        raise _invalid_code()
    enrolment = (
        DrillEnrolment.objects.select_for_update()
        .filter(code_hash=drill_code_hash(normalized), code_expires_at__gt=timezone.now())
        .first()
    )
    if enrolment is None or (device is not None and enrolment.device_id != device.pk):
        raise _invalid_code()
    enrolment.code_hash = None
    enrolment.code_expires_at = None
    if enrolment.enrolled_at is None:
        enrolment.enrolled_at = timezone.now()
    if user is not None and getattr(user, "is_authenticated", False):
        enrolment.enrolled_by = user
    if label:
        enrolment.label = label[:80]
    enrolment.save()
    return enrolment


@transaction.atomic
def drill_unenrol(*, device: Device) -> bool:
    """Take ``device`` out of the test devices; whether it was enrolled."""
    deleted, _rows = DrillEnrolment.objects.filter(device=device).delete()
    return bool(deleted)
