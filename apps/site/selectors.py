"""Reads of the public site: an item for its page, district outlines, feed and widget items.

Everything public goes through the content apps' own selectors (published, not expired, not
over); this module only adds what the site needs on top: whether a missing page is gone
(410) or never existed (404), the outlines around a map, the filtered lists.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.gis.geos import Polygon
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.api.items import items_fetch
from apps.core.geo import WGS84
from apps.core.models import Area, AreaKind, Category, PublishableContent, Tombstone, Urgency
from apps.core.registry import model_for
from apps.events.selectors import event_detail, event_list
from apps.news.selectors import news_detail, news_list
from apps.recommend.related import reason_text, related_items
from apps.works.models import WorkStatus
from apps.works.selectors import works_detail, works_list

#: The public detail selector of each type (every column, areas and children prefetched).
DETAIL: dict[str, Callable[[], QuerySet]] = {
    "news": news_detail,
    "works": works_detail,
    "events": event_detail,
}
#: The public list selector of each type (what a list item shows, no body).
LIST: dict[str, Callable[[], QuerySet]] = {
    "news": news_list,
    "works": works_list,
    "events": event_list,
}
TYPE_CODES: tuple[str, ...] = ("news", "works", "events")
#: Outlines drawn on one map at most (the closest to the frame come first).
MAX_OUTLINES = 40


class PageState(enum.Enum):
    PUBLIC = "public"
    GONE = "gone"  # was public: archived, expired, over, withdrawn or deleted → 410
    MISSING = "missing"  # never public (a draft, a scheduled item) or no such id → 404


def page_item(type_code: str, pk: int) -> tuple[PublishableContent | None, PageState]:
    """The public item ``type_code``/``pk`` or why there is none (never its content)."""
    item = DETAIL[type_code]().filter(pk=pk).first()
    if item is not None:
        return item, PageState.PUBLIC
    row = model_for(type_code).objects.filter(pk=pk).values_list("published_at").first()
    if row is not None:
        return None, PageState.GONE if row[0] is not None else PageState.MISSING
    if Tombstone.objects.filter(item_type=type_code, item_id=pk).exists():
        return None, PageState.GONE
    return None, PageState.MISSING


def outlines_in(bbox: Sequence[float], *, kind: str = AreaKind.DISTRICT) -> list[Area]:
    """Areas of ``kind`` whose outline meets the frame ``bbox`` (lon/lat), by name."""
    frame = Polygon.from_bbox((bbox[0], bbox[1], bbox[2], bbox[3]))
    frame.srid = WGS84
    return list(
        Area.objects.filter(kind=kind, geometry__intersects=frame)
        .only("id", "name", "slug", "geometry")
        .order_by("name", "id")[:MAX_OUTLINES]
    )


def city_extent() -> tuple[float, float, float, float] | None:
    """The extent of every commune (else every area): the frame of a city-wide map."""
    for kind in (AreaKind.COMMUNE, AreaKind.DISTRICT):
        geometries = [area.geometry for area in Area.objects.filter(kind=kind).only("geometry")]
        if geometries:
            extents = [geometry.extent for geometry in geometries]
            return (
                min(e[0] for e in extents),
                min(e[1] for e in extents),
                max(e[2] for e in extents),
                max(e[3] for e in extents),
            )
    return None


def categories_by_slug(slugs: Sequence[str]) -> dict[str, Category]:
    return {category.slug: category for category in Category.objects.filter(slug__in=slugs)}


def areas_by_slug(slugs: Sequence[str]) -> dict[str, Area]:
    return {area.slug: area for area in Area.objects.filter(slug__in=slugs).only("slug", "name")}


def filtered(
    type_code: str, *, categories: Sequence[str] = (), areas: Sequence[str] = ()
) -> QuerySet:
    """Public items of ``type_code`` in any of ``categories`` and touching any of ``areas``."""
    queryset = LIST[type_code]()
    if categories:
        queryset = queryset.filter(category__slug__in=categories)
    if areas:
        model = model_for(type_code)
        touching = model.objects.filter(areas__slug__in=list(areas)).values("pk")
        queryset = queryset.filter(pk__in=touching)
    return queryset


def feed_items(
    type_codes: Sequence[str], *, categories: Sequence[str], areas: Sequence[str], limit: int
) -> list[PublishableContent]:
    """The latest published items of these types, newest first: one query per type."""
    items: list[PublishableContent] = []
    for type_code in type_codes:
        queryset = filtered(type_code, categories=categories, areas=areas)
        items.extend(queryset.order_by("-publish_at", "-id")[:limit])
    items.sort(key=lambda item: (item.publish_at or item.created_at, item.pk), reverse=True)
    return items[:limit]


def agenda_items(
    *, categories: Sequence[str], areas: Sequence[str], limit: int
) -> list[PublishableContent]:
    """Public events by their next date (the agenda widget): one query."""
    return list(
        filtered("events", categories=categories, areas=areas).order_by("next_start_at", "id")[
            :limit
        ]
    )


def works_items(*, areas: Sequence[str], limit: int) -> list[PublishableContent]:
    """Public works not finished nor cancelled, soonest first (the works map widget)."""
    return list(
        filtered("works", areas=areas)
        .exclude(work_status__in=[WorkStatus.COMPLETED, WorkStatus.CANCELLED])
        .order_by("start_at", "id")[:limit]
    )


def alert_items(*, minimum: int, areas: Sequence[str], limit: int) -> list[PublishableContent]:
    """Public items at least as urgent as ``minimum``, most urgent then newest first."""
    items: list[PublishableContent] = []
    for type_code in TYPE_CODES:
        queryset = filtered(type_code, areas=areas).filter(urgency__gte=minimum)
        items.extend(queryset.order_by("-urgency", "-publish_at", "-id")[:limit])
    items.sort(key=lambda item: (item.urgency, item.publish_at or item.created_at), reverse=True)
    return items[:limit]


@dataclass(frozen=True)
class Related:
    """An item related to a page's item, with why (texts in the active language)."""

    item: PublishableContent
    reasons: list[str]


def related(item: PublishableContent, language: str) -> list[Related]:
    """The page's "see also": ``apps.recommend.related``'s items, loaded (one query per type)."""
    found = related_items(item)
    loaded = {(i.type_code, i.pk): i for i in items_fetch([(r.type_code, r.id) for r in found])}
    out = []
    for entry in found:
        instance = loaded.get((entry.type_code, entry.id))
        if instance is None:  # left the public set between the two reads
            continue
        name = instance.organization.name if instance.organization_id else ""
        out.append(
            Related(instance, [reason_text(c, entry, name, language) for c in entry.reasons])
        )
    return out


def changes_at(items: Sequence[PublishableContent]) -> datetime | None:
    """The first moment one of ``items`` leaves the public set by time alone."""
    moments: list[datetime] = []
    now = timezone.now()
    for item in items:
        for name in ("expires_at", "end_at", "next_end_at", "last_end_at"):
            moment = getattr(item, name, None)
            if isinstance(moment, datetime) and moment > now:
                moments.append(moment)
    return min(moments, default=None)


URGENCY_MINIMUM = {"alert": Urgency.ALERT, "important": Urgency.IMPORTANT}
