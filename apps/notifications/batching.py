"""The SQL of one batch of deliveries, kept lean: it runs for every 500 pushes of a fan-out.

- ``ids_in(ids)``: ``id = ANY(%s)`` with one array parameter on PostgreSQL (Django's ``pk__in``
  compiles one placeholder per id: 500 of them, three times a batch); ``IN (…)`` elsewhere.
- ``claim_rows(ids, now)``: lock the due pending rows of ``ids`` (``FOR UPDATE SKIP LOCKED``)
  with their device, loading only the columns the batch decides and sends with
  (``DEVICE_FIELDS``); the notifications are loaded once each (a batch usually has one), not
  once per row with their texts. Reading a device field not listed here still works but costs a
  query per row: add it to ``DEVICE_FIELDS`` (the query count of a batch is pinned by a test).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import F, Lookup, Q

from apps.notifications.models import Delivery, DeliveryStatus, Notification

#: What the batch reads of a device: sending rules (token, switch, quiet hours, daily cap and
#: budget, digest day, time zone) and the push (token, language).
DEVICE_FIELDS = (
    "push_token",
    "push_token_active",
    "notifications_enabled",
    "language",
    "timezone",
    "quiet_hours_start",
    "quiet_hours_end",
    "max_pushes_per_day",
    "info_per_week",
    "important_per_day",
    "weekly_digest_day",
    "weekly_digest_time",
)
DELIVERY_FIELDS = ("id", "notification_id", "device_id", "status", "attempts", "not_before")


class IdAny(Lookup):
    """``lhs = ANY(%s)``: membership in a list passed as one array parameter."""

    lookup_name = "id_any"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, params = compiler.compile(self.lhs)
        values = [int(value) for value in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*params, values)
        if not values:
            return "1 = 0", tuple(params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*params, *values)


def ids_in(ids: Sequence[int], field: str = "pk") -> Any:
    """A filter: ``field`` is one of ``ids``."""
    return IdAny(F(field), list(ids))


def claim_rows(ids: Sequence[int], now: datetime) -> list[Delivery]:
    """Lock and return the due pending deliveries of ``ids``, by id, with device and
    notification (inside the caller's transaction)."""
    rows = list(
        Delivery.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(ids_in(ids), Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(status=DeliveryStatus.PENDING)
        .select_related("device")
        .only(*DELIVERY_FIELDS, *(f"device__{name}" for name in DEVICE_FIELDS))
        .order_by("pk")
    )
    notifications = Notification.objects.in_bulk({row.notification_id for row in rows})
    for row in rows:
        row.notification = notifications[row.notification_id]
    return rows
