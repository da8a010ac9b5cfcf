"""Aggregate counts about residents for staff, through disclosure control (no individual data).

Every count goes through ``apps.core.disclosure``: below ``K`` masked, rounded otherwise, and
the totals masked together with what they would give away (devices that cannot be reached,
or did not consent, are the total minus a shown count). Nothing here returns a device, a
place or a coordinate.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q

from apps.core.disclosure import (
    Cell,
    DistinctDevicesCell,
    Relation,
    Shown,
    cell_key,
    cell_unpack,
    count_show,
    disclose,
    key_sum,
)
from apps.core.models import Area, Category, Organization
from apps.residents.models import PUSHABLE, Device, Place


@dataclass(frozen=True)
class Row:
    name: str
    counts: tuple[Shown, ...]


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
        total_key=key_sum("id"),
        pushable_key=key_sum("id", filter=PUSHABLE),
        consent_key=key_sum("id", filter=Q(personalization_consent=True)),
    )
    names = ("total", "pushable", "consent")
    cells = {n: Cell(devices[n], cell_key(devices[f"{n}_key"])) for n in names}
    # Each of the two is a part of the total: the rest (not reachable, no consent) is not shown
    # but is the total minus it.
    shown = disclose(cells, [Relation("total", ("pushable",)), Relation("total", ("consent",))])
    labels = {
        "total": "Appareils enregistrés",
        "pushable": "Appareils joignables par notification",
        "consent": "Personnalisation acceptée",
    }
    totals = [Row(labels[n], (shown[n],)) for n in names]
    places = Place.objects.filter(location__within=OuterRef("geometry"))
    areas = (
        Area.objects.annotate(
            devices_inside=DistinctDevicesCell(places),
            followers=Count("device_follows", distinct=True),
            followers_key=key_sum("device_follows__device_id"),
        )
        .order_by("kind", "name")
        .values_list("name", "devices_inside", "followers", "followers_key")
    )
    categories = Category.objects.annotate(
        n=Count("device_follows"), key=key_sum("device_follows__device_id")
    ).order_by("position", "slug")
    organizations = Organization.objects.annotate(
        n=Count("device_follows"), key=key_sum("device_follows__device_id")
    ).order_by("name")
    return ResidentStatisticsReport(
        totals=totals,
        areas=[
            Row(name, (count_show(cell_unpack(inside)), count_show(Cell(f, cell_key(fk)))))
            for name, inside, f, fk in areas
        ],
        categories=[Row(str(c), (count_show(Cell(c.n, cell_key(c.key))),)) for c in categories],
        organizations=[
            Row(str(o), (count_show(Cell(o.n, cell_key(o.key))),)) for o in organizations
        ],
    )
