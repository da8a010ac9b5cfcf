"""Device writes: registration, preferences, push token, activity, erasure, inactivity purge."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.residents.caches import device_caches_forget
from apps.residents.erasures import erasures_record
from apps.residents.models import Device
from apps.residents.signals import devices_erased, personalization_withdrawn
from apps.residents.tokens import device_token_hash, device_token_new

logger = logging.getLogger(__name__)

#: The preferences a resident edits with ``PATCH /me/`` and that a transfer carries over.
PREFERENCE_FIELDS: tuple[str, ...] = (
    "language",
    "timezone",
    "notifications_enabled",
    "quiet_hours_start",
    "quiet_hours_end",
    "max_pushes_per_day",
    "info_per_week",
    "important_per_day",
    "weekly_digest_day",
    "weekly_digest_time",
    "min_urgency",
    "personalization_consent",
    "remind_saved_events",
    "remind_works_near_home",
)

_PUSH_CLAIM_ATTEMPTS = 3


def _push_token_claim(device: Device, push_token: str | None, now: datetime) -> None:
    """Give ``push_token`` to ``device`` (saved); any other device holding it loses it.

    Runs in a savepoint and retries when a concurrent registration claimed the same token
    between our UPDATE and our write (the unique index is the arbiter).
    """
    was_new = device._state.adding
    for attempt in range(_PUSH_CLAIM_ATTEMPTS):
        try:
            with transaction.atomic():
                if push_token is not None:
                    moved = (
                        Device.objects.filter(push_token=push_token)
                        .exclude(pk=device.pk)
                        .update(push_token=None, push_token_active=False, push_token_updated_at=now)
                    )
                    if moved:
                        logger.info("push token moved to device %s", device.pk)
                device.push_token = push_token
                device.push_token_active = push_token is not None
                device.push_token_updated_at = now
                device.save()
            return
        except IntegrityError:
            if attempt == _PUSH_CLAIM_ATTEMPTS - 1:
                raise
            if was_new:  # the savepoint rolled the insert back: insert again
                device.pk = None
                device._state.adding = True


@transaction.atomic
def device_register(
    *,
    platform: str,
    push_token: str | None = None,
    language: str | None = None,
    timezone_name: str | None = None,
    copy_from: Device | None = None,
) -> tuple[Device, str]:
    """Create a device; return it with its bearer token (shown once, stored hashed).

    ``copy_from`` copies another device's preferences (a transfer); explicit ``language`` and
    ``timezone_name`` win over copied ones.
    """
    now = timezone.now()
    token = device_token_new()
    device = Device(platform=platform, token_hash=device_token_hash(token), last_seen_at=now)
    if copy_from is not None:
        for name in (*PREFERENCE_FIELDS, "personalization_consent_at"):
            setattr(device, name, getattr(copy_from, name))
    if language:
        device.language = language
    if timezone_name:
        device.timezone = timezone_name
    if push_token:
        _push_token_claim(device, push_token, now)
    else:
        device.save()
    return device, token


@transaction.atomic
def device_preferences_update(*, device: Device, changes: dict[str, Any]) -> Device:
    """Apply validated preference ``changes`` (names from ``PREFERENCE_FIELDS``).

    Giving personalization consent records when; withdrawing it sends
    ``personalization_withdrawn`` so that what was collected under it is erased.
    """
    unknown = set(changes) - set(PREFERENCE_FIELDS)
    if unknown:
        raise ValueError(f"not preferences: {sorted(unknown)}")
    withdrawn = device.personalization_consent and changes.get("personalization_consent") is False
    given = not device.personalization_consent and changes.get("personalization_consent") is True
    for name, value in changes.items():
        setattr(device, name, value)
    if (device.quiet_hours_start is None) != (device.quiet_hours_end is None):
        raise ValidationError(
            {
                "quiet_hours_start": [
                    _("Give both the start and the end of quiet hours, or neither.")
                ]
            }
        )
    if given:
        device.personalization_consent_at = timezone.now()
    if withdrawn:
        device.personalization_consent_at = None
    device.save()
    if withdrawn:
        personalization_withdrawn.send(sender=Device, device=device)
    return device


@transaction.atomic
def device_push_token_set(*, device: Device, push_token: str | None) -> Device:
    """Replace the device's push token (``None`` removes it); other holders lose it."""
    _push_token_claim(device, push_token or None, timezone.now())
    return device


def device_touch(*, device: Device, now: datetime | None = None) -> bool:
    """Record activity: at most one UPDATE per ``Device.LAST_SEEN_RESOLUTION``; True if written."""
    now = now or timezone.now()
    if device.last_seen_at > now - Device.LAST_SEEN_RESOLUTION:
        return False
    written = Device.objects.filter(
        pk=device.pk, last_seen_at__lte=now - Device.LAST_SEEN_RESOLUTION
    ).update(last_seen_at=now)
    device.last_seen_at = now
    return bool(written)


def devices_erased_on_commit(device_ids: list[int]) -> None:
    """Once the erasure of ``device_ids`` commits, clear what the cache keeps about them."""

    def forget() -> None:
        device_caches_forget(device_ids=device_ids)
        devices_erased.send(sender=Device, device_ids=device_ids)

    # Robust: the erasure is committed; a cache that is down must not turn it into a 500
    # (the error is logged; snapshots then expire within 30 minutes).
    transaction.on_commit(forget, robust=True)


@transaction.atomic
def device_erase(*, device: Device) -> None:
    """Erase the device and every row that references it (all relations cascade), then what
    the cache holds about it (throttles, feed snapshots: ``devices_erased``). The erasure log
    records it first (``apps.residents.erasures``)."""
    pk = device.pk
    erasures_record(devices=[(pk, device.created_at)], reason="request")
    device.delete()
    devices_erased_on_commit([pk])


def devices_purge_inactive(*, now: datetime | None = None, batch: int = 500) -> int:
    """Erase devices unseen for ``DEVICE_INACTIVE_DAYS``; return how many. Batched."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.DEVICE_INACTIVE_DAYS)
    erased = 0
    while True:
        ids = list(Device.objects.inactive_since(cutoff).values_list("pk", flat=True)[:batch])
        if not ids:
            return erased
        with transaction.atomic():
            # Locked, so that the rows logged are exactly the rows deleted.
            rows = list(
                Device.objects.select_for_update()
                .filter(pk__in=ids, last_seen_at__lt=cutoff)
                .values_list("pk", "created_at")
            )
            erasures_record(devices=rows, reason="inactive")
            Device.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
            devices_erased_on_commit([pk for pk, _ in rows])
        erased += len(rows)
