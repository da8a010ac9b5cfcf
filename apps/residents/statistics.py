"""Aggregate counts about residents for staff, with small counts masked (no individual data).

Counts below ``SMALL_COUNT`` are shown as "< 5": a count of 1 or 2 devices in a small district
could point at a person. Nothing here returns a device, a place or a coordinate.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery

from apps.core.models import Area, Category, Organization
from apps.residents.models import PUSHABLE, Device, Place

SMALL_COUNT = 5


def masked(count: int) -> str:
    """``"< 5"`` for small counts, else the number."""
    return f"< {SMALL_COUNT}" if count < SMALL_COUNT else str(count)


class _DistinctDeviceCount(Subquery):
    """``count(DISTINCT device_id)`` over a subquery of places."""

    template = "(SELECT count(DISTINCT _p.device_id) FROM (%(subquery)s) _p)"
    output_field = IntegerField()


@dataclass(frozen=True)
class Row:
    name: str
    counts: tuple[str, ...]


@dataclass(frozen=True)
class ResidentStatisticsReport:
    totals: list[Row]
    areas: list[Row]
    categories: list[Row]
    organizations: list[Row]


def resident_statistics() -> ResidentStatisticsReport:
    """Totals; per area devices with a place inside it and followers; follows per category and
    per organization. A constant number of queries whatever the number of devices."""
    devices = Device.objects.aggregate(
        total=Count("id"),
        pushable=Count("id", filter=PUSHABLE),
        consent=Count("id", filter=Q(personalization_consent=True)),
    )
    totals = [
        Row(str(label), (masked(n),))
        for label, n in (
            ("Appareils enregistrés", devices["total"]),
            ("Appareils joignables par notification", devices["pushable"]),
            ("Personnalisation acceptée", devices["consent"]),
        )
    ]
    inside = Place.objects.filter(location__within=OuterRef("geometry")).values("device_id")
    areas = (
        Area.objects.annotate(
            devices_inside=_DistinctDeviceCount(inside),
            followers=Count("device_follows", distinct=True),
        )
        .order_by("kind", "name")
        .values_list("name", "devices_inside", "followers")
    )
    categories = Category.objects.annotate(n=Count("device_follows")).order_by("position", "slug")
    organizations = Organization.objects.annotate(n=Count("device_follows")).order_by("name")
    return ResidentStatisticsReport(
        totals=totals,
        areas=[Row(name, (masked(a), masked(b))) for name, a, b in areas],
        categories=[Row(str(c), (masked(c.n),)) for c in categories],
        organizations=[Row(str(o), (masked(o.n),)) for o in organizations],
    )
