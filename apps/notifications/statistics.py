"""Reads behind the charts of a notification's statistics page: sends and opens over time,
and the devices reached by district (issue 16, item 6).

Each series is a list of disclosure ``Cell`` (a count of devices and the key of the set
counted): the admin shows them through ``apps.core.disclosure`` with the page's other counts.
Aggregated in the database: a bounded number of rows whatever the audience (one per second,
minute, hour or day of the span, as the chosen step needs), and a constant number of queries.

- **Sends**: the deliveries handed to FCM (``sent``) by their ``sent_at``, from the
  notification's start (``committed_at``, else its creation). The times to 50 / 90 / 100 %
  of them are read from the same rows, at the rows' resolution.
- **Opens**: the interaction log only knows *when* for residents who accepted the
  personalization (``Notification.opens`` counts everyone, with no time): the first open from a
  push of the item per consenting device, between this notification and the next one about
  the same item (within the open window).
- **Reach by district**: sent deliveries by the area of the device's first place (a district
  before the commune around it, as the reach preview); devices elsewhere count under None.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import TruncDay, TruncHour, TruncMinute, TruncSecond
from django.utils import timezone

from apps.core.disclosure import Cell, cell_key, key_sum, keys_combined
from apps.core.geo import SimplifiedGeometry
from apps.core.item_types import ItemType
from apps.core.models import Area, AreaKind
from apps.notifications.models import Delivery, DeliveryStatus, Notification
from apps.recommend.codes import Action, Context
from apps.recommend.models import Interaction
from apps.residents.models import Place

#: Steps of a time series, in seconds: the smallest giving at most ``MAX_BUCKETS`` is used.
STEPS_S = (1, 5, 10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 604800)
MAX_BUCKETS = 24
#: Shares of the sent deliveries whose time is reported.
PERCENTS = (50, 90, 100)


@dataclass
class Series:
    """Counts of devices by time step: ``cells[i]`` counts ``[start + i·step, start + (i+1)·step)``
    (``step`` = ``step_s`` seconds)."""

    start: datetime
    step_s: int
    cells: list[Cell] = field(default_factory=list)

    def bucket_start(self, index: int) -> datetime:
        return self.start + timedelta(seconds=index * self.step_s)

    @property
    def total(self) -> Cell:
        return Cell(sum(c.count for c in self.cells), keys_combined(c.key for c in self.cells))


@dataclass
class SendSeries(Series):
    #: Seconds from the notification's start to p % of the sent deliveries (None: none sent).
    reached_s: dict[int, float | None] = field(default_factory=dict)


def step_for(span_s: float) -> int:
    """The smallest step of ``STEPS_S`` cutting ``span_s`` into ``MAX_BUCKETS`` at most."""
    for step in STEPS_S:
        if span_s < step * MAX_BUCKETS:
            return step
    return STEPS_S[-1]


def _truncation(step_s: int) -> tuple[type, int]:
    """The SQL truncation whose units a step is made of, and the unit in seconds."""
    if step_s < 60:
        return TruncSecond, 1
    if step_s < 3600:
        return TruncMinute, 60
    if step_s < 86400:
        return TruncHour, 3600
    return TruncDay, 86400


def _aligned(moment: datetime, unit_s: int) -> datetime:
    """``moment`` truncated as the database truncates it (days in the city's time zone)."""
    local = timezone.localtime(moment)
    if unit_s == 1:
        return local.replace(microsecond=0)
    if unit_s == 60:
        return local.replace(second=0, microsecond=0)
    if unit_s == 3600:
        return local.replace(minute=0, second=0, microsecond=0)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _bucketed(
    rows: Iterable[dict[str, Any]], start: datetime, step_s: int, count: int
) -> list[list[tuple[int, int]]]:
    """``(count, key)`` of each truncated row put in its bucket (the first and the last
    bucket take what falls before or after the span)."""
    buckets: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for row in rows:
        index = math.floor((row["step_at"] - start).total_seconds() / step_s)
        buckets[min(max(index, 0), count - 1)].append((row["n"], cell_key(row["key"])))
    return buckets


def _series(
    rows: QuerySet[Any], moment: str, device: str, start: datetime, last: datetime | None
) -> tuple[Series, list[dict[str, Any]]]:
    """``rows`` counted by step of ``moment`` from ``start`` to ``last`` (one query), and the
    truncated rows themselves in time order."""
    span_s = max(((last or start) - start).total_seconds(), 0.0)
    step_s = step_for(span_s)
    trunc, unit_s = _truncation(step_s)
    aligned = _aligned(start, unit_s)
    count = min(MAX_BUCKETS, math.floor(((last or start) - aligned).total_seconds() / step_s) + 1)
    series = Series(aligned, step_s)
    if last is None:
        return series, []
    found = list(
        rows.annotate(step_at=trunc(moment))
        .values("step_at")
        .annotate(n=Count("pk"), key=key_sum(device))
        .order_by("step_at")
    )
    series.cells = [
        Cell(sum(n for n, _k in bucket), keys_combined(k for _n, k in bucket))
        for bucket in _bucketed(found, aligned, step_s, count)
    ]
    return series, found


def notification_start(notification: Notification) -> datetime:
    """When the notification's clock starts: its transaction's commit, else its creation."""
    return notification.committed_at or notification.created_at


def sends_over_time(notification: Notification) -> SendSeries:
    """The sent deliveries by step of ``sent_at``, and the times to ``PERCENTS`` of them
    (two queries)."""
    start = notification_start(notification)
    sent = Delivery.objects.filter(
        notification=notification, status=DeliveryStatus.SENT, sent_at__isnull=False
    )
    last = sent.aggregate(last=Max("sent_at"))["last"]
    series, rows = _series(sent, "sent_at", "device_id", start, last)
    result = SendSeries(series.start, series.step_s, series.cells)
    total = sum(row["n"] for row in rows)
    for p in PERCENTS:
        result.reached_s[p] = None
        wanted, done = math.ceil(p * total / 100), 0
        for row in rows:
            done += row["n"]
            if total and done >= wanted:
                _trunc, unit_s = _truncation(series.step_s)
                end = row["step_at"] + timedelta(seconds=unit_s)  # the end of the row's unit
                result.reached_s[p] = max((end - start).total_seconds(), 0.0)
                break
    return result


def _open_window(notification: Notification) -> tuple[datetime, datetime]:
    """From the notification to the next one about the same item, within the open window."""
    start = notification_start(notification)
    end = notification.created_at + timedelta(days=settings.NOTIFY_OPEN_WINDOW_DAYS)
    following = (
        Notification.objects.filter(
            item_type=notification.item_type,
            item_id=notification.item_id,
            created_at__gt=notification.created_at,
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return start, min(end, following) if following else end


def opens_over_time(notification: Notification) -> Series | None:
    """Consenting devices by step of their first open from a push of the notification's item
    (three queries); None for a notification about no item (a digest, a test push)."""
    if not notification.item_type or notification.item_id is None:
        return None
    start, end = _open_window(notification)
    opens = Interaction.objects.filter(
        item_type=ItemType.from_code(notification.item_type).value,
        item_id=notification.item_id,
        action=Action.OPEN,
        context=Context.PUSH,
        at__gte=start,
        at__lt=end,
    )
    earlier = opens.filter(device_id=OuterRef("device_id")).filter(
        Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk"))
    )
    first_opens = opens.filter(~Exists(earlier))
    last = first_opens.aggregate(last=Max("at"))["last"]
    series, _rows = _series(first_opens, "at", "device_id", start, last)
    return series


def map_areas(tolerance_deg: float) -> list[Area]:
    """The districts (the communes when there are none), with ``outline``: the geometry
    simplified on the database (``ST_SimplifyPreserveTopology``: PostGIS and SpatiaLite)."""
    kinds = Area.objects.filter(kind=AreaKind.DISTRICT)
    shown = kinds if kinds.exists() else Area.objects.filter(kind=AreaKind.COMMUNE)
    return list(
        shown.annotate(outline=SimplifiedGeometry("geometry", tolerance_deg))
        .defer("geometry")
        .order_by("name")
    )


def reach_by_area(notification: Notification) -> dict[int | None, Cell]:
    """Sent deliveries by the area of the device's first place (one query)."""
    finest_first = Case(
        When(kind=AreaKind.DISTRICT, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    home_area = Subquery(
        Area.objects.filter(geometry__contains=OuterRef("location"))
        .order_by(finest_first, "name")
        .values("pk")[:1]
    )
    first_place = Place.objects.filter(device_id=OuterRef("device_id")).order_by("id")
    rows = (
        Delivery.objects.filter(notification=notification, status=DeliveryStatus.SENT)
        .annotate(
            area_id=Subquery(first_place.annotate(area=home_area).values("area")[:1]),
        )
        .values("area_id")
        .annotate(n=Count("pk"), key=key_sum("device_id"))
        .order_by()
    )
    return {row["area_id"]: Cell(row["n"], cell_key(row["key"])) for row in rows}
