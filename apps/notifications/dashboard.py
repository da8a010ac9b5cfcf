"""Reads of an organisation's dashboard (issue 16, item 6): per ISO week, the items it
published, the pushes sent about them, the devices they reached, and the opens by category.

Aggregated in the database, one query per content type for the items, one for the pushes and
the reach, one for the opens: no query per week. Weeks are the city's (Monday 00:00,
``TIME_ZONE``). The device counts come with their disclosure keys (``apps.core.disclosure``);
the opens are the notifications' anonymous counters (``Notification.opens``), keyed as such.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connections, router
from django.db.models import Case as SqlCase
from django.db.models import CharField, Count, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.disclosure import KEY_MODULUS, Cell, counter_key, device_key
from apps.core.registry import content_models
from apps.notifications.models import Delivery, DeliveryStatus, Notification
from apps.notifications.selectors import notifications_of_organizations

#: Weeks shown by default, and at most.
DEFAULT_WEEKS = 12
MAX_WEEKS = 52


@dataclass
class WeekFigures:
    """One ISO week of one organisation."""

    monday: date
    #: Items published that week, by content type code (exact: items, not residents).
    published: dict[str, int] = field(default_factory=dict)
    #: Pushes handed to FCM about its items (one per device and notification).
    pushes: Cell = field(default_factory=lambda: Cell(0))
    #: Distinct devices those pushes reached.
    reach: Cell = field(default_factory=lambda: Cell(0))
    #: Opens from push of the week's notifications, by category name (counters, no device).
    opens: dict[str, Cell] = field(default_factory=dict)


def week_mondays(weeks: int, *, today: date | None = None) -> list[date]:
    """The Mondays of the last ``weeks`` ISO weeks, oldest first, this week last."""
    today = today or timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _as_monday(value: Any) -> date:
    """A ``TruncWeek`` value (an aware or naive datetime, or text on SQLite) as its date."""
    if isinstance(value, str):
        value = parse_datetime(value) or datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


def _category_name() -> SqlCase:
    """The French name of the category of the notification's item (one subquery per type)."""
    whens = []
    for code, model in content_models().items():
        names = model.objects.filter(pk=OuterRef("item_id")).values_list(
            "category__name_fr", flat=True
        )
        whens.append(When(item_type=code, then=Subquery(names[:1])))
    return SqlCase(*whens, default=Value(""), output_field=CharField())


def organization_weeks(organization_id: int, *, weeks: int = DEFAULT_WEEKS) -> list[WeekFigures]:
    """The last ``weeks`` weeks of one organisation, oldest first (5 queries with the three
    content types, whatever ``weeks``)."""
    mondays = week_mondays(weeks)
    start = timezone.make_aware(datetime.combine(mondays[0], datetime.min.time()))
    figures = {monday: WeekFigures(monday) for monday in mondays}

    for code, model in content_models().items():
        rows = (
            model.objects.filter(organization_id=organization_id, published_at__gte=start)
            .annotate(week=TruncWeek("published_at"))
            .values("week")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            week = figures.get(_as_monday(row["week"]))
            if week is not None:
                week.published[code] = row["n"]

    notifications = notifications_of_organizations([organization_id])
    # One row per (week, device): how many pushes it got, and its key; then per week.
    per_device = (
        Delivery.objects.filter(
            status=DeliveryStatus.SENT,
            sent_at__gte=start,
            notification__in=notifications.values("pk"),
        )
        .annotate(week=TruncWeek("sent_at"))
        .values("week", "device_id")
        .annotate(n=Count("pk"), k=device_key("device_id"))
        .order_by()
    )
    sql, params = per_device.query.sql_with_params()
    connection = connections[router.db_for_read(Delivery)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT week, sum(n), count(*), sum(k * n), sum(k) "
            f"FROM ({sql}) per_device GROUP BY week",
            params,
        )
        for week_value, pushes, reach, pushes_key, reach_key in cursor.fetchall():
            week = figures.get(_as_monday(week_value))
            if week is not None:
                week.pushes = Cell(int(pushes), int(pushes_key or 0) % KEY_MODULUS)
                week.reach = Cell(int(reach), int(reach_key or 0) % KEY_MODULUS)

    opens = (
        Notification.objects.filter(pk__in=notifications.values("pk"), created_at__gte=start)
        .annotate(week=TruncWeek("created_at"), category=_category_name())
        .values("week", "category")
        .annotate(n=Sum("opens"))
        .order_by()
    )
    found: dict[date, dict[str, int]] = defaultdict(dict)
    for row in opens:
        found[_as_monday(row["week"])][row["category"] or ""] = int(row["n"] or 0)
    categories = sorted({name for per in found.values() for name in per})
    for monday, week in figures.items():
        for name in categories:
            n = found.get(monday, {}).get(name, 0)
            scope = f"dashboard-opens:{organization_id}:{monday.isoformat()}:{name}"
            week.opens[name] = Cell(n, counter_key(scope, n))
    return [figures[monday] for monday in mondays]
