"""Periodic tasks of residents: the inactivity purge (GDPR storage limitation)."""

from celery import shared_task

from apps.residents.services import devices_purge_inactive, transfer_codes_purge


@shared_task(acks_late=True, ignore_result=True)
def residents_purge_tick() -> dict[str, int]:
    """Erase devices unseen for ``DEVICE_INACTIVE_DAYS`` and expired transfer codes (daily)."""
    return {
        "devices": devices_purge_inactive(),
        "transfer_codes": transfer_codes_purge(),
    }
