"""Reads of the core: taxonomy and territory for the API, tombstones for syncing clients."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.contrib.gis.geos import GEOSGeometry
from django.db.models import QuerySet

from apps.core.models import Area, Category, Organization, Tombstone

#: Columns of every content type that lists never show (the bodies: most of a row's bytes);
#: list selectors ``defer`` them, detail selectors load everything.
LIST_DEFERRED = ("body", "body_fr", "body_en")


def category_list() -> QuerySet[Category]:
    return Category.objects.order_by("position", "slug", "id")


def organization_list() -> QuerySet[Organization]:
    return Organization.objects.order_by("name", "id")


def area_list() -> QuerySet[Area]:
    return Area.objects.select_related("parent").order_by("kind", "name", "id")


def area_list_touching(*, geometry: GEOSGeometry) -> QuerySet[Area]:
    """The areas ``geometry`` (SRID 4326) touches: the ones content is tagged with on save.

    Communes first, then districts, by name. ``intersects`` is ``ST_Intersects`` on both
    PostGIS and SpatiaLite.
    """
    return Area.objects.filter(geometry__intersects=geometry).order_by("kind", "name", "id")


def tombstone_list(
    *, since: datetime | None = None, types: Sequence[str] | None = None
) -> QuerySet[Tombstone]:
    """Items removed from the public set at or after ``since``, oldest first."""
    queryset = Tombstone.objects.all()
    if since is not None:
        queryset = queryset.filter(removed_at__gte=since)
    if types:
        queryset = queryset.filter(item_type__in=list(types))
    return queryset.order_by("removed_at", "id")
