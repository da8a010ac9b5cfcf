"""Reads of the push pipeline: statistics for staff, late and stuck sends, a device's pushes.

Staff see aggregates only (``NotificationStats``): no selector here returns a device, a token
or a per-device row to the admin. ``device_received`` is the resident's own list, scoped to
the calling device.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from apps.core.disclosure import cell_key, counter_key, key_sum
from apps.core.registry import content_models
from apps.notifications import services
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification, Reason
from apps.residents.models import Device

#: A scheduled notifying item this late (seconds) is reported (the sweeper's alarm uses it too).
LATE_GRACE_S = 120

FAILED_REASONS = (
    Reason.DEAD_TOKEN,
    Reason.INVALID_PAYLOAD,
    Reason.AUTH_ERROR,
    Reason.RETRIES_EXHAUSTED,
)
SKIPPED_REASONS = (
    Reason.NO_TOKEN,
    Reason.DISABLED,
    Reason.CAPPED,
    Reason.BUDGET,
    Reason.EXPIRED,
)


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


@dataclass
class NotificationStats:
    """Counts of one notification's deliveries; ``opened`` is None for pushes without an item.

    ``held`` and ``pending`` are rows waiting *now* (quiet hours, a retry's backoff): they
    become sent, failed or skipped later.
    """

    targeted: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    opened: int | None = None
    #: Disclosure keys (``apps.core.disclosure``) of the devices behind each count: by
    #: ``status_<s>``, ``reason_<r>``, ``rows`` (every delivery) and ``opened``.
    keys: dict[str, int] = field(default_factory=dict)

    def status(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def sent(self) -> int:
        return self.status(DeliveryStatus.SENT)

    @property
    def failed(self) -> int:
        return self.status(DeliveryStatus.FAILED)

    @property
    def held(self) -> int:
        return self.status(DeliveryStatus.HELD)

    @property
    def skipped(self) -> int:
        return self.status(DeliveryStatus.SKIPPED)

    @property
    def in_flight(self) -> int:
        return self.status(DeliveryStatus.PENDING) + self.status(DeliveryStatus.SENDING)

    @property
    def capped(self) -> int:
        return self.by_reason.get(Reason.CAPPED, 0)

    def reasons(self, reasons: Iterable[Reason]) -> list[tuple[str, int]]:
        """``(label, count)`` of the given reasons that occurred."""
        return [(str(r.label), self.by_reason[r]) for r in reasons if self.by_reason.get(r)]

    @property
    def failed_reasons(self) -> list[tuple[str, int]]:
        return self.reasons(FAILED_REASONS)

    @property
    def skipped_reasons(self) -> list[tuple[str, int]]:
        return self.reasons(SKIPPED_REASONS)


def notification_stats(notifications: Iterable[Notification]) -> dict[int, NotificationStats]:
    """Statistics of ``notifications`` by id: one query whatever their number (deliveries
    counted with conditional ``COUNT`` grouped by notification); the opens are the
    notifications' own counters (``services.opens``: every device, none known)."""
    wanted = {n.pk: n for n in notifications}
    if not wanted:
        return {}
    counts = {f"status_{s}": Count("pk", filter=Q(status=s)) for s in DeliveryStatus.values}
    counts.update({f"reason_{r}": Count("pk", filter=Q(reason=r)) for r in Reason.values})
    keys = {f"key_status_{s}": key_sum("device_id", filter=Q(status=s)) for s in DeliveryStatus}
    keys.update({f"key_reason_{r}": key_sum("device_id", filter=Q(reason=r)) for r in Reason})
    keys["key_rows"] = key_sum("device_id")
    rows = (
        Delivery.objects.filter(notification_id__in=list(wanted))
        .values("notification_id")
        .annotate(**counts, **keys)
        .order_by()
    )
    stats = {pk: NotificationStats(targeted=n.targeted) for pk, n in wanted.items()}
    row: Any
    for row in rows:
        one = stats[row["notification_id"]]
        one.by_status = {s: row[f"status_{s}"] for s in DeliveryStatus.values}
        one.by_reason = {r: row[f"reason_{r}"] for r in Reason.values}
        one.keys = {name[4:]: cell_key(row[name]) for name in keys}
    for pk, n in wanted.items():
        if n.item_type and n.item_id is not None:
            stats[pk].opened = n.opens
            stats[pk].keys["opened"] = counter_key(f"opens:{pk}", n.opens)
    return stats


# --------------------------------------------------------------------------------------------
# Who sees which notifications
# --------------------------------------------------------------------------------------------


def notifications_of_organizations(
    organization_ids: Collection[int], *, user_id: int | None = None
) -> QuerySet[Notification]:
    """Notifications about items of ``organization_ids``, and the test pushes ``user_id``
    sent; digests (no item, several organizations) are not among them."""
    q = Q(pk__in=[])
    for code, model in content_models().items():
        items = model.objects.filter(organization_id__in=list(organization_ids)).values("pk")
        q |= Q(item_type=code, item_id__in=items)
    if user_id is not None:
        q |= Q(kind=Kind.TEST, created_by_id=user_id)
    return Notification.objects.filter(q)


def item_notifications(item_type: str, item_id: int) -> QuerySet[Notification]:
    """The notifications about one item, newest first."""
    return Notification.objects.filter(item_type=item_type, item_id=item_id).order_by(
        "-created_at", "-id"
    )


# --------------------------------------------------------------------------------------------
# Late and stuck sends
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LateItem:
    """A scheduled item with ``notify`` still unpublished after its publication time."""

    type_code: str
    pk: int
    title: str
    publish_at: datetime
    organization_id: int


def is_late(item: Any, *, now: datetime | None = None) -> bool:
    """Whether ``item`` is one of ``late_items`` (no query)."""
    now = now or timezone.now()
    return bool(
        item.pk
        and item.status == "scheduled"
        and item.notify
        and item.publish_at is not None
        and item.publish_at < now - timedelta(seconds=LATE_GRACE_S)
    )


def late_items(
    *, organization_ids: Collection[int] | None = None, now: datetime | None = None
) -> list[LateItem]:
    """``services.scheduled_items_late`` with titles, oldest first; only the items of
    ``organization_ids`` unless it is None (superusers)."""
    late = services.scheduled_items_late(now=now, grace_s=LATE_GRACE_S)
    by_type: dict[str, list[int]] = defaultdict(list)
    for type_code, pk, _at in late:
        by_type[type_code].append(pk)
    found: list[LateItem] = []
    models = content_models()
    for type_code, pks in by_type.items():
        rows = models[type_code].objects.filter(pk__in=pks)
        if organization_ids is not None:
            rows = rows.filter(organization_id__in=list(organization_ids))
        for pk, title, publish_at, organization_id in rows.values_list(
            "pk", "title", "publish_at", "organization_id"
        ):
            if publish_at is not None:  # always set on a late item; for the type checker
                found.append(LateItem(type_code, pk, title, publish_at, organization_id))
    return sorted(found, key=lambda item: (item.publish_at, item.type_code, item.pk))


@dataclass(frozen=True)
class StuckDeliveries:
    """Deliveries the sweeper should have taken back already (its thresholds)."""

    sending: int
    pending: int
    #: Rows waiting for a retry after FCM refused our credentials (not stuck: an alarm).
    auth_refused: int = 0
    #: Disclosure keys of the devices behind each count (``apps.core.disclosure``).
    sending_key: int = 0
    pending_key: int = 0

    @property
    def total(self) -> int:
        return self.sending + self.pending


def stuck_deliveries(
    *, notifications: QuerySet[Notification] | None = None, now: datetime | None = None
) -> StuckDeliveries:
    """Rows claimed more than ``NOTIFY_STUCK_SENDING_S`` ago and still ``sending``, due
    ``pending`` rows not enqueued for more than ``NOTIFY_STUCK_PENDING_S``, and ``pending``
    rows waiting for a retry after an auth error (credentials file missing, unreadable or
    garbage, service account rejected: every push fails), in one query on the open rows.

    The sweeper (beat, every minute) puts both back on the queue: rows that stay here mean
    that beat or the ``push`` workers are not running.
    """
    now = now or timezone.now()
    sending_s = getattr(settings, "NOTIFY_STUCK_SENDING_S", 120)
    pending_s = getattr(settings, "NOTIFY_STUCK_PENDING_S", 300)
    rows = Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
    if notifications is not None:
        rows = rows.filter(notification__in=notifications.values("pk"))
    sending = Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - timedelta(seconds=sending_s))
    pending = (
        Q(status=DeliveryStatus.PENDING)
        & (Q(not_before__isnull=True) | Q(not_before__lte=now))
        & (
            Q(enqueued_at__isnull=True, created_at__lt=now - timedelta(seconds=pending_s))
            | Q(enqueued_at__lt=now - timedelta(seconds=pending_s))
        )
    )
    auth_refused = Q(
        status=DeliveryStatus.PENDING, error_code__startswith=services.AUTH_CODE_PREFIX
    )
    counts = rows.aggregate(
        sending=Count("pk", filter=sending),
        pending=Count("pk", filter=pending),
        auth_refused=Count("pk", filter=auth_refused),
        sending_key=key_sum("device_id", filter=sending),
        pending_key=key_sum("device_id", filter=pending),
    )
    return StuckDeliveries(
        sending=counts["sending"],
        pending=counts["pending"],
        auth_refused=counts["auth_refused"],
        sending_key=cell_key(counts["sending_key"]),
        pending_key=cell_key(counts["pending_key"]),
    )


# --------------------------------------------------------------------------------------------
# A device's received pushes (/api/v1/me/notifications/)
# --------------------------------------------------------------------------------------------


def _category_name(language: str) -> Case:
    """The category name of the delivery's item in ``language`` (French when untranslated),
    one correlated subquery per content type."""
    whens = []
    for code, model in content_models().items():
        name = Coalesce(
            NullIf(f"category__name_{language}", Value("")),
            "category__name_fr",
            Value(""),
            output_field=CharField(),
        )
        names = model.objects.filter(pk=OuterRef("notification__item_id")).values_list(
            name, flat=True
        )
        whens.append(When(notification__item_type=code, then=Subquery(names[:1])))
    return Case(*whens, default=Value(""), output_field=CharField())


def device_received(*, device: Device, since: datetime | None = None) -> QuerySet[Delivery]:
    """The pushes ``device`` received (sent deliveries), newest first, with their
    notification and ``category_name`` (the item's category in the device's language)."""
    rows = Delivery.objects.filter(device=device, status=DeliveryStatus.SENT)
    if since is not None:
        rows = rows.filter(sent_at__gte=since)
    language = device.language if device.language in dict(settings.LANGUAGES) else "fr"
    return (
        rows.select_related("notification")
        .annotate(category_name=_category_name(language))
        .order_by("-sent_at", "-id")
    )
